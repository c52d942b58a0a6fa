-- Checkout's statements. A checkout is a handful of round trips, not one per row: each
-- statement below does a whole step for every line of the cart.

-- name: CheckoutBegin :batchone
-- CheckoutBegin claims the idempotency key and then locks the customer's cart. A concurrent
-- claim of the same key waits on the unique index until the first transaction ends, then
-- inserts nothing (claimed = 0) and locks nothing: a replay does not queue for the cart.
-- cart_id is 0 when the key was not claimed or the customer has no cart. Everything that
-- changes or checks out one customer's cart holds the cart's row lock.
WITH claim AS (
    INSERT INTO checkout_requests (user_id, idempotency_key, fingerprint)
    VALUES (@user_id, @idempotency_key, @fingerprint)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING 1
), cart AS (
    SELECT id FROM carts WHERE user_id = @user_id AND EXISTS (SELECT FROM claim) FOR UPDATE
)
SELECT (SELECT count(*) FROM claim)::integer AS claimed, COALESCE((SELECT id FROM cart), 0)::bigint AS cart_id;

-- name: CheckoutLines :batchmany
-- CheckoutLines reads the lines of the cart of @user_id, which CheckoutBegin locked just
-- before in the same transaction (it is sent in the same pipeline), with their variants and
-- products and the commission rate of each product's vendor (NULL for platform products), which
-- the order line keeps; it reads them only when that CheckoutBegin claimed the key (its claim holds no
-- order yet), so a replay reads and locks nothing. It locks the variants in variant id order
-- (rows are sorted before they are locked): two checkouts sharing variants take their locks
-- in the same order and cannot deadlock, and the stock and prices read are the latest
-- committed. NO KEY UPDATE is what the stock update takes anyway; it lets cart lines
-- referencing the variants be written meanwhile (their foreign key check takes KEY SHARE).
SELECT l.quantity, l.added_at, sqlc.embed(v), p.name AS product_name, p.vendor_id, p.status AS product_status, p.vendor_active,
       vd.commission_bps AS vendor_commission_bps
FROM cart_lines l
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
LEFT JOIN vendors vd ON vd.id = p.vendor_id
WHERE l.cart_id = (SELECT c.id FROM carts c WHERE c.user_id = @user_id)
  AND EXISTS (SELECT FROM checkout_requests r
              WHERE r.user_id = @user_id AND r.idempotency_key = @idempotency_key AND r.order_id IS NULL)
ORDER BY v.id
FOR NO KEY UPDATE OF v;

-- name: CheckoutPlaceOrder :batchmany
-- CheckoutPlaceOrder writes the order in one statement: the order row, one snapshot line per
-- item (the arrays are parallel, one element per line; vendor 0 is none, and its line keeps no
-- commission rate: commission_bps is the vendor's rate at checkout), the first event
-- (sequence 1); it empties the cart and records the order on the idempotency key. It returns
-- one row per line, carrying the order's and the event's columns. The order's expiry job is
-- inserted by River (jobs.Queue.ScheduleExpiry) in the same transaction. webhooks_wanted says
-- whether any active webhook subscribes to the order's or the stock's events: when none does,
-- checkout owes no webhook and pays no statement for learning it (internal/webhook). The
-- stock was taken by StockReserve just before (same pipeline): the statement writes each
-- line's SALE movement with the stock left (the variants are locked by this transaction), and
-- returns that stock and the variant's effective low-stock threshold (crossing detection).
WITH o AS (
    INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
    VALUES (@user_id, @status, @currency, @total_amount, @shipping_address)
    RETURNING *
), l AS (
    INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku,
                             unit_price, currency, quantity, line_total, commission_bps)
    SELECT o.id, x.product_id, x.variant_id, NULLIF(x.vendor_id, 0), x.product_name, x.variant_name, x.sku,
           x.unit_price, o.currency, x.quantity, x.line_total, CASE WHEN x.vendor_id <> 0 THEN x.commission_bps END
    FROM o, (SELECT unnest(@product_ids::bigint[]) AS product_id, unnest(@variant_ids::bigint[]) AS variant_id,
                    unnest(@vendor_ids::bigint[]) AS vendor_id, unnest(@product_names::text[]) AS product_name,
                    unnest(@variant_names::text[]) AS variant_name, unnest(@skus::text[]) AS sku,
                    unnest(@unit_prices::bigint[]) AS unit_price, unnest(@quantities::integer[]) AS quantity,
                    unnest(@line_totals::bigint[]) AS line_total,
                    unnest(@commission_bps::integer[]) AS commission_bps) AS x
    RETURNING *
), e AS (
    INSERT INTO order_events (order_id, sequence, status, actor_id, note)
    SELECT o.id, 1, o.status, @user_id, @note FROM o
    RETURNING *
), cleared AS (
    DELETE FROM cart_lines WHERE cart_id = @cart_id
), keyed AS (
    UPDATE checkout_requests SET order_id = (SELECT id FROM o)
    WHERE user_id = @user_id AND idempotency_key = @idempotency_key
), sold AS (
    INSERT INTO stock_movements (variant_id, kind, delta, quantity, actor_id, order_id)
    SELECT l.variant_id, 'SALE', -l.quantity, v.stock, @user_id, l.order_id
    FROM l JOIN product_variants v ON v.id = l.variant_id
)
SELECT o.id AS order_id, o.created_at AS order_created_at, o.updated_at AS order_updated_at,
       e.sequence AS event_sequence, e.created_at AS event_created_at, e.feed_position AS event_feed_position,
       l.id AS line_id, l.variant_id, v.stock AS stock_after,
       low_stock_threshold_of(v.low_stock_threshold, l.vendor_id)::integer AS low_stock_threshold,
       EXISTS (SELECT 1 FROM webhook_subscriptions
               WHERE active AND event_types && ARRAY['ORDER_CREATED', 'STOCK_CHANGED']::text[]) AS webhooks_wanted
FROM o, e, l JOIN product_variants v ON v.id = l.variant_id
ORDER BY l.id;

-- name: CheckoutRequestGet :one
SELECT * FROM checkout_requests WHERE user_id = @user_id AND idempotency_key = @idempotency_key;
