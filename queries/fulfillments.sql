-- name: FulfillmentInsert :one
INSERT INTO fulfillments (order_id, vendor_id, carrier, tracking_number, tracking_url, created_by)
VALUES (@order_id, sqlc.narg('vendor_id'), @carrier, @tracking_number, sqlc.narg('tracking_url'), sqlc.narg('created_by'))
RETURNING *;

-- name: FulfillmentLinesInsert :exec
INSERT INTO fulfillment_lines (fulfillment_id, order_line_id, quantity)
SELECT @fulfillment_id, unnest(@order_line_ids::bigint[]), unnest(@quantities::integer[]);

-- name: FulfillmentGetByIDForUpdate :one
SELECT * FROM fulfillments WHERE id = @id FOR UPDATE;

-- name: FulfillmentGetByID :one
SELECT * FROM fulfillments WHERE id = @id;

-- name: FulfillmentListByOrderIDs :many
SELECT * FROM fulfillments WHERE order_id = ANY(@order_ids::bigint[]) ORDER BY order_id, id;

-- name: FulfillmentLineListByOrderIDs :many
SELECT fl.fulfillment_id, fl.order_line_id, fl.quantity, f.order_id
FROM fulfillment_lines fl JOIN fulfillments f ON f.id = fl.fulfillment_id
WHERE f.order_id = ANY(@order_ids::bigint[])
ORDER BY f.order_id, fl.fulfillment_id, fl.order_line_id;

-- name: FulfillmentSetTracking :one
UPDATE fulfillments SET carrier = @carrier, tracking_number = @tracking_number, tracking_url = sqlc.narg('tracking_url'), updated_at = now()
WHERE id = @id
RETURNING *;

-- name: FulfillmentSetDelivered :one
UPDATE fulfillments SET status = 'DELIVERED', delivered_at = now(), updated_at = now()
WHERE id = @id AND status = 'SHIPPED'
RETURNING *;

-- name: FulfillmentAllDelivered :one
-- FulfillmentAllDelivered: the order has fulfilments and every one is delivered.
SELECT count(*) > 0 AND bool_and(status = 'DELIVERED') AS all_delivered FROM fulfillments WHERE order_id = @order_id;

-- name: FulfillmentSetAllDelivered :many
-- FulfillmentSetAllDelivered marks an order's undelivered fulfilments delivered (an admin's
-- orderStatusUpdate(DELIVERED)).
UPDATE fulfillments SET status = 'DELIVERED', delivered_at = now(), updated_at = now()
WHERE order_id = @order_id AND status = 'SHIPPED'
RETURNING *;

-- name: OrderFulfillmentEventInsert :one
-- OrderFulfillmentEventInsert appends a fulfilment's event to its order (call it with the order
-- row locked): the status does not change.
INSERT INTO order_events (order_id, sequence, status, previous_status, actor_id, note, kind, fulfillment_id)
SELECT @order_id, COALESCE(max(sequence), 0) + 1, @status, @status, sqlc.narg('actor_id'), @note, @kind, @fulfillment_id
FROM order_events WHERE order_id = @order_id
RETURNING *;
