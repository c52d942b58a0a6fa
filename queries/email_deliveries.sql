-- name: EmailDeliveryClaim :one
-- EmailDeliveryClaim records an attempt to send event_key's email to recipient (the row is
-- created by the first) and returns the row: one already sent or failed is not sent again.
INSERT INTO email_deliveries (event_key, recipient, attempts) VALUES (@event_key, @recipient, 1)
ON CONFLICT (event_key, recipient) DO UPDATE
SET attempts = email_deliveries.attempts + CASE WHEN email_deliveries.status = 'pending' THEN 1 ELSE 0 END,
    updated_at = now()
RETURNING *;

-- name: EmailDeliveryMarkSent :exec
UPDATE email_deliveries SET status = 'sent', sent_at = now(), last_error = NULL, updated_at = now()
WHERE id = @id;

-- name: EmailDeliveryRecordError :exec
-- EmailDeliveryRecordError keeps the last error of a delivery: failed (permanent: it will not
-- be tried again) or still pending (transient: the job retries).
UPDATE email_deliveries SET status = @status, last_error = @last_error, updated_at = now()
WHERE id = @id AND status <> 'sent';
