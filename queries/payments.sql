-- name: PaymentInsert :one
-- PaymentInsert records an order's intent; a concurrent or repeated insert keeps the first.
INSERT INTO payments (order_id, provider, intent_id, client_secret, status, amount, currency)
VALUES (@order_id, @provider, @intent_id, @client_secret, @status, @amount, @currency)
ON CONFLICT (order_id) DO UPDATE SET updated_at = payments.updated_at
RETURNING *;

-- name: PaymentGetByOrderID :one
SELECT * FROM payments WHERE order_id = @order_id;

-- name: PaymentListByOrderIDs :many
SELECT * FROM payments WHERE order_id = ANY(@order_ids::bigint[]);

-- name: PaymentGetByIntentForUpdate :one
SELECT * FROM payments WHERE provider = @provider AND intent_id = @intent_id FOR UPDATE;

-- name: PaymentGetByOrderIDForUpdate :one
SELECT * FROM payments WHERE order_id = @order_id FOR UPDATE;

-- name: PaymentUpdate :one
-- PaymentUpdate records the intent's state and what was received; refunds the provider
-- reported before anything was received (kept in provider_refunded) apply in the same
-- statement, whatever the new status, so a report and a payment commute.
UPDATE payments SET status = @status, amount_received = @amount_received::bigint, last_error = sqlc.narg('last_error'),
    amount_refunded = payment_refunded(amount_refunded, provider_refunded, @amount_received::bigint),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: PaymentSetError :exec
UPDATE payments SET last_error = @last_error, updated_at = now() WHERE id = @id;

-- name: PaymentAddRefunded :one
-- PaymentAddRefunded reserves a refund amount; the CHECK constraint and the guard make
-- refunding more than was received impossible, even concurrently.
UPDATE payments SET amount_refunded = amount_refunded + @amount::bigint, updated_at = now()
WHERE id = @id AND amount_refunded + @amount::bigint <= amount_received
RETURNING *;

-- name: PaymentSyncRefunded :one
-- PaymentSyncRefunded keeps the largest refunded total the provider reported (@amount) and
-- raises the refunded total to it, as far as what was received allows (refunds made outside
-- shopgraph, e.g. in the Stripe dashboard); it never lowers either. A report that arrives
-- before the payment is received is kept in provider_refunded and applied by PaymentUpdate
-- when the payment is recorded (Stripe does not promise event order).
UPDATE payments SET provider_refunded = GREATEST(provider_refunded, @amount::bigint),
    amount_refunded = payment_refunded(amount_refunded, GREATEST(provider_refunded, @amount::bigint), amount_received),
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: RefundInsert :one
INSERT INTO refunds (payment_id, amount, idempotency_key, reason)
VALUES (@payment_id, @amount, @idempotency_key, @reason)
RETURNING *;

-- name: RefundCounts :one
-- RefundCounts counts a payment's refunds (which numbers the next one's idempotency key) and
-- those of them whose outcome is not known yet.
SELECT count(*) AS total, count(*) FILTER (WHERE status = 'PENDING') AS pending
FROM refunds WHERE payment_id = @payment_id;

-- name: RefundFinish :one
-- RefundFinish records the provider's answer for a PENDING refund; no row means another
-- attempt recorded it first.
UPDATE refunds SET status = @status, provider_refund_id = sqlc.narg('provider_refund_id'), updated_at = now()
WHERE id = @id AND status = 'PENDING'
RETURNING *;

-- name: RefundGetForSettlement :one
-- RefundGetForSettlement reads a refund with what asking the provider again needs.
SELECT sqlc.embed(r), p.order_id, p.intent_id, p.amount_received, p.provider, p.capture_id, p.currency
FROM refunds r JOIN payments p ON p.id = r.payment_id
WHERE r.id = @id;

-- name: PaymentUnreserveRefund :exec
-- PaymentUnreserveRefund releases a refused refund's reservation, never below what the
-- provider reported refunded (a dashboard refund made while ours was reserved).
UPDATE payments SET amount_refunded = payment_refunded(amount_refunded - @amount::bigint, provider_refunded, amount_received),
    updated_at = now()
WHERE id = @id;

-- name: PaymentEventInsert :execrows
-- PaymentEventInsert records a provider event; 0 rows means it was already processed.
INSERT INTO payment_events (provider, event_id, type, outcome) VALUES (@provider, @event_id, @type, @outcome)
ON CONFLICT DO NOTHING;

-- name: PaymentEventCount :one
SELECT count(*) FROM payment_events WHERE provider = @provider AND event_id = @event_id;

-- name: PaymentEventSetOutcome :exec
UPDATE payment_events SET outcome = @outcome WHERE provider = @provider AND event_id = @event_id;

-- name: PaymentRefundedTotal :one
-- PaymentRefundedTotal is what is known to have gone back of a payment: its SUCCEEDED refunds
-- (reserved ones may still fail), with what the provider reported refunded as their floor.
SELECT payment_refunded(
    (SELECT COALESCE(sum(r.amount), 0)::bigint FROM refunds r WHERE r.payment_id = p.id AND r.status = 'SUCCEEDED'),
    p.provider_refunded, p.amount_received)::bigint
FROM payments p WHERE p.id = @id;

-- name: OrderPaymentProviderInsert :exec
-- OrderPaymentProviderInsert records the provider an order is to be paid with (checkout's
-- transaction); the first choice stays.
INSERT INTO order_payment_providers (order_id, provider) VALUES (@order_id, @provider)
ON CONFLICT (order_id) DO NOTHING;

-- name: OrderPaymentProviderGet :one
SELECT provider FROM order_payment_providers WHERE order_id = @order_id;

-- name: PaymentGetByCaptureForUpdate :one
SELECT * FROM payments WHERE provider = @provider AND capture_id = @capture_id FOR UPDATE;

-- name: PaymentSetCapture :exec
-- PaymentSetCapture records the capture that took the payment; the first one stays.
UPDATE payments SET capture_id = COALESCE(capture_id, @capture_id), updated_at = now() WHERE id = @id;

-- name: PaymentGetByIntent :one
SELECT * FROM payments WHERE provider = @provider AND intent_id = @intent_id;
