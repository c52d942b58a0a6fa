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

-- name: EmailDeliveryList :many
-- EmailDeliveryList is one keyset page of deliveries, newest first, of one status and one
-- recipient when given.
SELECT * FROM email_deliveries d
WHERE (sqlc.narg('status')::text IS NULL OR d.status = sqlc.narg('status')::text)
  AND (sqlc.narg('recipient')::text IS NULL OR d.recipient = sqlc.narg('recipient')::text)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (d.created_at, d.id) < (sqlc.narg('after_created_at')::timestamptz, sqlc.narg('after_id')::bigint))
ORDER BY d.created_at DESC, d.id DESC
LIMIT @lim;

-- name: EmailDeliveryCount :one
SELECT count(*) FROM email_deliveries d
WHERE (sqlc.narg('status')::text IS NULL OR d.status = sqlc.narg('status')::text)
  AND (sqlc.narg('recipient')::text IS NULL OR d.recipient = sqlc.narg('recipient')::text);

-- name: EmailDeliveryGetByID :one
SELECT * FROM email_deliveries WHERE id = @id;
