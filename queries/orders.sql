-- name: OrderInsert :one
INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
VALUES (@user_id, 'PENDING', @currency, @total_amount, @shipping_address)
RETURNING *;

-- name: OrderLineInsert :exec
INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku,
                         unit_price, currency, quantity, line_total)
VALUES (@order_id, @product_id, @variant_id, @vendor_id, @product_name, @variant_name, @sku,
        @unit_price, @currency, @quantity, @line_total);

-- name: OrderGetByID :one
SELECT * FROM orders WHERE id = @id;

-- name: OrderGetByIDForUpdate :one
-- OrderGetByIDForUpdate serialises status changes of one order: two racing transitions see
-- each other's result instead of both winning.
SELECT * FROM orders WHERE id = @id FOR UPDATE;

-- name: OrderListByIDs :many
SELECT * FROM orders WHERE id = ANY(@ids::bigint[]);

-- name: OrderSetStatus :one
UPDATE orders SET status = @status, tracking_number = COALESCE(sqlc.narg('tracking_number'), tracking_number), updated_at = now()
WHERE id = @id AND status = @from_status
RETURNING *;

-- name: OrderLineListByOrderIDs :many
SELECT * FROM order_lines WHERE order_id = ANY(@order_ids::bigint[]) ORDER BY order_id, id;

-- name: OrderHasVendorLine :one
SELECT EXISTS (SELECT 1 FROM order_lines WHERE order_id = @order_id AND vendor_id = @vendor_id);

-- name: OrderEventInsert :one
-- OrderEventInsert appends the next event of an order (call it with the order row locked).
INSERT INTO order_events (order_id, sequence, status, previous_status, actor_id, note)
SELECT @order_id, COALESCE(max(sequence), 0) + 1, @status, sqlc.narg('previous_status'), sqlc.narg('actor_id'), @note
FROM order_events WHERE order_id = @order_id
RETURNING *;

-- name: OrderEventListByOrderIDs :many
SELECT * FROM order_events WHERE order_id = ANY(@order_ids::bigint[]) ORDER BY order_id, sequence;

-- name: OrderList :many
-- OrderList is one keyset page, newest first, of the orders a viewer may see: its own
-- (@user_id), those holding its products (@vendor_id), or all (both NULL, for admins).
SELECT o.* FROM orders o
WHERE (sqlc.narg('user_id')::bigint IS NULL OR o.user_id = sqlc.narg('user_id')::bigint)
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR EXISTS (
        SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.vendor_id = sqlc.narg('vendor_id')::bigint))
  AND (sqlc.narg('status')::order_status IS NULL OR o.status = sqlc.narg('status')::order_status)
  AND (sqlc.narg('created_after')::timestamptz IS NULL OR o.created_at >= sqlc.narg('created_after')::timestamptz)
  AND (sqlc.narg('created_before')::timestamptz IS NULL OR o.created_at < sqlc.narg('created_before')::timestamptz)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (o.created_at, o.id) < (sqlc.narg('after_created_at')::timestamptz, sqlc.narg('after_id')::bigint))
ORDER BY o.created_at DESC, o.id DESC
LIMIT @lim;

-- name: OrderCount :one
SELECT count(*) FROM orders o
WHERE (sqlc.narg('user_id')::bigint IS NULL OR o.user_id = sqlc.narg('user_id')::bigint)
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR EXISTS (
        SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.vendor_id = sqlc.narg('vendor_id')::bigint))
  AND (sqlc.narg('status')::order_status IS NULL OR o.status = sqlc.narg('status')::order_status)
  AND (sqlc.narg('created_after')::timestamptz IS NULL OR o.created_at >= sqlc.narg('created_after')::timestamptz)
  AND (sqlc.narg('created_before')::timestamptz IS NULL OR o.created_at < sqlc.narg('created_before')::timestamptz);

-- name: CheckoutRequestClaim :execrows
-- CheckoutRequestClaim claims an idempotency key. A concurrent claim of the same key waits on
-- the unique index until the first transaction ends, then inserts nothing (0 rows).
INSERT INTO checkout_requests (user_id, idempotency_key, fingerprint)
VALUES (@user_id, @idempotency_key, @fingerprint)
ON CONFLICT (user_id, idempotency_key) DO NOTHING;

-- name: CheckoutRequestGet :one
SELECT * FROM checkout_requests WHERE user_id = @user_id AND idempotency_key = @idempotency_key;

-- name: CheckoutRequestSetOrder :exec
UPDATE checkout_requests SET order_id = @order_id WHERE user_id = @user_id AND idempotency_key = @idempotency_key;

-- name: OrderEventListAfter :many
-- OrderEventListAfter replays one order's events after a sequence number.
SELECT * FROM order_events WHERE order_id = @order_id AND sequence > @after ORDER BY sequence LIMIT 1000;

-- name: OrderEventFeedAfter :many
-- OrderEventFeedAfter replays the events of every order (or of the orders holding a vendor's
-- lines) after a feed position.
SELECT e.* FROM order_events e
WHERE e.feed_position > @after::bigint
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR EXISTS (
        SELECT 1 FROM order_lines l WHERE l.order_id = e.order_id AND l.vendor_id = sqlc.narg('vendor_id')::bigint))
ORDER BY e.feed_position
LIMIT @lim;

-- name: OrderVendorIDs :many
SELECT DISTINCT vendor_id::bigint FROM order_lines WHERE order_id = @order_id AND vendor_id IS NOT NULL;

-- name: OrderEventFeedLatest :one
SELECT COALESCE(max(feed_position), 0)::bigint FROM order_events;

-- name: OrderEventPosition :one
-- OrderEventPosition reads the feed position an event got when its transaction committed.
SELECT COALESCE(feed_position, 0)::bigint FROM order_events WHERE order_id = @order_id AND sequence = @sequence;
