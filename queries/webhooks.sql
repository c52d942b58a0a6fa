-- name: WebhookSubscriptionInsert :one
INSERT INTO webhook_subscriptions (url, secret, event_types, description, vendor_id, created_by)
VALUES (@url, @secret, @event_types, @description, sqlc.narg(vendor_id), sqlc.narg(created_by))
RETURNING *;

-- name: WebhookSubscriptionGet :one
SELECT * FROM webhook_subscriptions WHERE id = @id;

-- name: WebhookSubscriptionGetForUpdate :one
SELECT * FROM webhook_subscriptions WHERE id = @id FOR UPDATE;

-- name: WebhookSubscriptionUpdate :one
UPDATE webhook_subscriptions
SET url = @url, event_types = @event_types, description = @description, active = @active, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: WebhookSubscriptionDelete :exec
DELETE FROM webhook_subscriptions WHERE id = @id;

-- name: WebhookSubscriptionList :many
-- WebhookSubscriptionList is a page of subscriptions, newest first, after the keyset cursor
-- @after_id (0: from the start); @every lists every one, otherwise those of @vendor_id.
SELECT * FROM webhook_subscriptions
WHERE (@every::boolean OR vendor_id = sqlc.narg(vendor_id))
  AND (@after_id::bigint = 0 OR id < @after_id)
ORDER BY id DESC
LIMIT @lim;

-- name: WebhookSubscriptionCount :one
SELECT count(*) FROM webhook_subscriptions WHERE (@every::boolean OR vendor_id = sqlc.narg(vendor_id));

-- name: WebhookSubscriptionsMatching :many
-- WebhookSubscriptionsMatching are the active subscriptions to any of @types: the one
-- statement an event source pays when nobody listens.
SELECT id, vendor_id, event_types FROM webhook_subscriptions
WHERE active AND event_types && @types::text[]
ORDER BY id;

-- name: WebhookSequenceNext :one
-- WebhookSequenceNext numbers the next event of a resource; its row lock, held to the commit,
-- keeps a resource's numbers in commit order.
INSERT INTO webhook_sequences (resource_type, resource_id, last_sequence) VALUES (@resource_type, @resource_id, 1)
ON CONFLICT (resource_type, resource_id) DO UPDATE SET last_sequence = webhook_sequences.last_sequence + 1
RETURNING last_sequence;

-- name: WebhookSequenceTake :many
-- WebhookSequenceTake numbers the next @counts[i] events of each resource i at once (each
-- resource once, in the caller's order: sorted, so that concurrent callers lock rows in the
-- same order), returning each one's last number; the row locks, held to the commit, keep a
-- resource's numbers in commit order.
INSERT INTO webhook_sequences AS s (resource_type, resource_id, last_sequence)
SELECT unnest(@resource_types::text[]), unnest(@resource_ids::bigint[]), unnest(@counts::bigint[])
ON CONFLICT (resource_type, resource_id) DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence
RETURNING resource_type, resource_id, last_sequence;

-- name: WebhookDeliveryInsert :many
-- WebhookDeliveryInsert writes the deliveries of events, one row per (event, subscription).
INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, resource_type, resource_id, sequence, body)
SELECT unnest(@subscription_ids::bigint[]), unnest(@event_ids::text[]), unnest(@event_types::text[]),
       unnest(@resource_types::text[]), unnest(@resource_ids::bigint[]), unnest(@sequences::bigint[]), unnest(@bodies::bytea[])
RETURNING id;

-- name: WebhookDeliveryGet :one
SELECT d.*, s.url, s.secret FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
WHERE d.id = @id;

-- name: WebhookDeliveryRecordAttempt :one
-- WebhookDeliveryRecordAttempt records one attempt and where the delivery stands after it.
WITH attempt AS (
    INSERT INTO webhook_delivery_attempts (delivery_id, response_code, error, duration_ms)
    VALUES (@id, sqlc.narg(response_code), sqlc.narg(error), @duration_ms)
)
UPDATE webhook_deliveries
SET status = @status, attempts = attempts + 1, last_response_code = sqlc.narg(response_code),
    last_error = sqlc.narg(error), last_attempt_at = now(), updated_at = now(),
    completed_at = CASE WHEN @status::text = 'PENDING' THEN NULL ELSE now() END
WHERE webhook_deliveries.id = @id
RETURNING *;

-- name: WebhookDeliveryReset :one
-- WebhookDeliveryReset makes a delivery pending again, for a manual redelivery.
UPDATE webhook_deliveries SET status = 'PENDING', completed_at = NULL, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: WebhookDeliveryList :many
SELECT * FROM webhook_deliveries
WHERE subscription_id = @subscription_id AND (@after_id::bigint = 0 OR id < @after_id)
ORDER BY id DESC
LIMIT @lim;

-- name: WebhookDeliveryCount :one
SELECT count(*) FROM webhook_deliveries WHERE subscription_id = @subscription_id;

-- name: WebhookDeliveryAttempts :many
SELECT * FROM webhook_delivery_attempts WHERE delivery_id = @delivery_id ORDER BY id;

-- name: WebhookVariantFacts :many
-- WebhookVariantFacts are what a STOCK_CHANGED event says of variants, read in the change's
-- transaction (so the quantity is the one it committed).
SELECT v.id, v.product_id, v.sku, v.stock, p.vendor_id
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE v.id = ANY(@ids::bigint[])
ORDER BY v.id;
