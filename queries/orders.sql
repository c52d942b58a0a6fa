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
  AND (sqlc.narg('fulfillment_status')::text IS NULL OR (
        -- The fulfilment status of the lines the viewer sees (a vendor's own; all otherwise),
        -- as order.Summarize tells it.
        SELECT CASE WHEN count(*) > 0 AND bool_and(x.shipped >= x.quantity) THEN 'FULFILLED'
                    WHEN COALESCE(sum(x.shipped), 0) > 0 THEN 'PARTIALLY_FULFILLED'
                    ELSE 'UNFULFILLED' END
        FROM (SELECT l.quantity, (SELECT COALESCE(sum(fl.quantity), 0) FROM fulfillment_lines fl WHERE fl.order_line_id = l.id) AS shipped
              FROM order_lines l
              WHERE l.order_id = o.id AND (sqlc.narg('vendor_id')::bigint IS NULL OR l.vendor_id = sqlc.narg('vendor_id')::bigint)) x
      ) = sqlc.narg('fulfillment_status')::text)
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
  AND (sqlc.narg('created_before')::timestamptz IS NULL OR o.created_at < sqlc.narg('created_before')::timestamptz)
  AND (sqlc.narg('fulfillment_status')::text IS NULL OR (
        -- The fulfilment status of the lines the viewer sees (a vendor's own; all otherwise),
        -- as order.Summarize tells it.
        SELECT CASE WHEN count(*) > 0 AND bool_and(x.shipped >= x.quantity) THEN 'FULFILLED'
                    WHEN COALESCE(sum(x.shipped), 0) > 0 THEN 'PARTIALLY_FULFILLED'
                    ELSE 'UNFULFILLED' END
        FROM (SELECT l.quantity, (SELECT COALESCE(sum(fl.quantity), 0) FROM fulfillment_lines fl WHERE fl.order_line_id = l.id) AS shipped
              FROM order_lines l
              WHERE l.order_id = o.id AND (sqlc.narg('vendor_id')::bigint IS NULL OR l.vendor_id = sqlc.narg('vendor_id')::bigint)) x
      ) = sqlc.narg('fulfillment_status')::text);

-- name: OrderEventListAfter :many
-- OrderEventListAfter replays one order's events after a sequence number, at most @lim.
SELECT * FROM order_events WHERE order_id = @order_id AND sequence > @after ORDER BY sequence LIMIT @lim;

-- name: OrderEventFeedAfter :many
-- OrderEventFeedAfter replays the events of every order (or of the orders holding a vendor's
-- lines) after a feed position, at most @lim, up to the reader's horizon
-- (order_events_feed_horizon: see migration 00008). The first event at or above
-- the horizon, if any, comes last, held_back: it has committed, but a transaction still
-- running may yet commit an event before it.
WITH h AS (SELECT order_events_feed_horizon() AS horizon)
(SELECT sqlc.embed(e), false AS held_back
 FROM order_events e, h
 WHERE e.feed_position > @after::bigint AND e.feed_position < h.horizon
   AND (sqlc.narg('vendor_id')::bigint IS NULL OR EXISTS (
         SELECT 1 FROM order_lines l WHERE l.order_id = e.order_id AND l.vendor_id = sqlc.narg('vendor_id')::bigint))
 ORDER BY e.feed_position
 LIMIT @lim)
UNION ALL
(SELECT e.*, true AS held_back
 FROM order_events e, h
 WHERE e.feed_position > @after::bigint AND e.feed_position >= h.horizon
   AND (sqlc.narg('vendor_id')::bigint IS NULL OR EXISTS (
         SELECT 1 FROM order_lines l WHERE l.order_id = e.order_id AND l.vendor_id = sqlc.narg('vendor_id')::bigint))
 ORDER BY e.feed_position
 LIMIT 1);

-- name: OrderEventFeedSnapshot :one
-- OrderEventFeedSnapshot is the reader's snapshot (xmin:xmax:running ids): which
-- transactions had committed when a feed subscription without `after` started.
SELECT pg_current_snapshot()::text;

-- name: OrderVendorIDs :one
-- OrderVendorIDs reads the vendors whose lines an order holds (who may see its
-- events live).
SELECT ARRAY(SELECT DISTINCT l.vendor_id FROM order_lines l
             WHERE l.order_id = @order_id AND l.vendor_id IS NOT NULL ORDER BY l.vendor_id)::bigint[] AS vendor_ids;
