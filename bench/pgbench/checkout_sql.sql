-- The SQL of one C1 iteration (bench/checkout.sh), without the server: the statements the
-- server sends for two cartItemAdd and a checkout, grouped in the same round trips and
-- transactions (queries/carts.sql, queries/checkout.sql, queries/inventory.sql,
-- queries/payments.sql; internal/cart put, internal/checkout completeTx, payment NewIntent).
-- checkout.sh runs it with pgbench -M prepared (the server's statements are prepared too) at
-- the benchmark's concurrency, in a copy of the seeded shop, beside TPC-B: the orders/s of
-- the SQL alone is the most any server that sends these statements could reach on the
-- machine, with no HTTP, GraphQL, Stripe call or load generator of its own.
--
-- Differences from the server, none of which adds work: snapshot values that the server
-- computes from the lines it read (names, prices, totals) are constants here; the cart id
-- CheckoutBegin returns is looked up again inside CheckoutPlaceOrder by its unique index, and
-- the payment's and the expiry job's order id is the orders sequence's currval. Keep it in step with the queries: each statement is marked with its sqlc query's
-- name and the start of the SHA-256 of that query's text ("-- sqlc: Name hash"), and
-- bench/checkoutgen's TestSQLAloneFollowsQueries fails when a query has changed since; the
-- server's round trips are held by TestCheckoutRoundTrips.
--
-- Variables (pgbench -D): ufirst..ulast, the customers; vfirst..vlast, a contiguous range of
-- variants that may be sold (checkout.sh checks the pool is contiguous). v2 differs from v1.
\set u random(:ufirst, :ulast)
\set v1 random(:vfirst, :vlast)
\set v2 :vfirst + (:v1 - :vfirst + random(1, :vlast - :vfirst)) % (:vlast - :vfirst + 1)
\set k random(1, 9223372036854775806)
\startpipeline
-- sqlc: CartLockForUser 455ac2ad71d8
SELECT FROM carts WHERE user_id = :u FOR UPDATE;
-- sqlc: CartItemPut eb32fafac750
WITH target AS (
    SELECT c.id FROM carts c WHERE c.id = NULL::bigint
    UNION ALL
    SELECT c.id FROM carts c WHERE c.user_id = :u AND NULL::bigint IS NULL
), variant AS (
    SELECT v.currency FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = :v1 AND v.deleted_at IS NULL AND p.status = 'ACTIVE' AND p.vendor_active
), verdict AS (
    SELECT CASE WHEN NOT EXISTS (SELECT FROM variant) THEN 'NOT_FOUND'
                WHEN other.currency IS NOT NULL THEN 'CURRENCY_MISMATCH' END::text AS problem,
           other.currency::text AS cart_currency, (SELECT currency FROM variant)::text AS variant_currency
    FROM (SELECT (SELECT ov.currency FROM cart_lines l JOIN product_variants ov ON ov.id = l.variant_id
                  WHERE l.cart_id IN (SELECT t.id FROM target t) AND l.variant_id <> :v1
                    AND ov.currency <> (SELECT currency FROM variant)
                  LIMIT 1) AS currency) AS other
), created AS (
    INSERT INTO carts (user_id)
    SELECT :u::bigint FROM verdict
    WHERE verdict.problem IS NULL AND NULL::bigint IS NULL AND NOT EXISTS (SELECT FROM target)
    ON CONFLICT (user_id) DO UPDATE SET updated_at = carts.updated_at
    RETURNING carts.id
), line AS (
    INSERT INTO cart_lines (cart_id, variant_id, quantity)
    SELECT c.id, :v1, 1::integer
    FROM (SELECT t.id FROM target t UNION ALL SELECT n.id FROM created n) AS c, verdict
    WHERE verdict.problem IS NULL
    ON CONFLICT (cart_id, variant_id) DO UPDATE
    SET quantity = CASE WHEN false THEN EXCLUDED.quantity ELSE cart_lines.quantity + EXCLUDED.quantity END
    RETURNING cart_lines.quantity
)
SELECT COALESCE(verdict.problem, '')::text AS problem, COALESCE(verdict.cart_currency, '')::text AS cart_currency,
       COALESCE(verdict.variant_currency, '')::text AS variant_currency,
       COALESCE((SELECT line.quantity FROM line), 0)::integer AS quantity
FROM verdict;
-- sqlc: CartViewQueued e50db31d31b7
WITH cart AS (
    SELECT COALESCE(NULL::bigint, (SELECT c.id FROM carts c WHERE c.user_id = :u))::bigint AS id,
           false AS guest
    UNION ALL
    SELECT c.id, true FROM carts c WHERE c.token_hash = NULL::bytea
)
SELECT v.*, l.quantity, l.added_at, p.status AS product_status, p.vendor_active, cart.guest::boolean AS guest
FROM cart
JOIN cart_lines l ON l.cart_id = cart.id
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
ORDER BY l.added_at, l.variant_id;
\endpipeline
\startpipeline
-- sqlc: CartLockForUser 455ac2ad71d8
SELECT FROM carts WHERE user_id = :u FOR UPDATE;
-- sqlc: CartItemPut eb32fafac750
WITH target AS (
    SELECT c.id FROM carts c WHERE c.id = NULL::bigint
    UNION ALL
    SELECT c.id FROM carts c WHERE c.user_id = :u AND NULL::bigint IS NULL
), variant AS (
    SELECT v.currency FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = :v2 AND v.deleted_at IS NULL AND p.status = 'ACTIVE' AND p.vendor_active
), verdict AS (
    SELECT CASE WHEN NOT EXISTS (SELECT FROM variant) THEN 'NOT_FOUND'
                WHEN other.currency IS NOT NULL THEN 'CURRENCY_MISMATCH' END::text AS problem,
           other.currency::text AS cart_currency, (SELECT currency FROM variant)::text AS variant_currency
    FROM (SELECT (SELECT ov.currency FROM cart_lines l JOIN product_variants ov ON ov.id = l.variant_id
                  WHERE l.cart_id IN (SELECT t.id FROM target t) AND l.variant_id <> :v2
                    AND ov.currency <> (SELECT currency FROM variant)
                  LIMIT 1) AS currency) AS other
), created AS (
    INSERT INTO carts (user_id)
    SELECT :u::bigint FROM verdict
    WHERE verdict.problem IS NULL AND NULL::bigint IS NULL AND NOT EXISTS (SELECT FROM target)
    ON CONFLICT (user_id) DO UPDATE SET updated_at = carts.updated_at
    RETURNING carts.id
), line AS (
    INSERT INTO cart_lines (cart_id, variant_id, quantity)
    SELECT c.id, :v2, 1::integer
    FROM (SELECT t.id FROM target t UNION ALL SELECT n.id FROM created n) AS c, verdict
    WHERE verdict.problem IS NULL
    ON CONFLICT (cart_id, variant_id) DO UPDATE
    SET quantity = CASE WHEN false THEN EXCLUDED.quantity ELSE cart_lines.quantity + EXCLUDED.quantity END
    RETURNING cart_lines.quantity
)
SELECT COALESCE(verdict.problem, '')::text AS problem, COALESCE(verdict.cart_currency, '')::text AS cart_currency,
       COALESCE(verdict.variant_currency, '')::text AS variant_currency,
       COALESCE((SELECT line.quantity FROM line), 0)::integer AS quantity
FROM verdict;
-- sqlc: CartViewQueued e50db31d31b7
WITH cart AS (
    SELECT COALESCE(NULL::bigint, (SELECT c.id FROM carts c WHERE c.user_id = :u))::bigint AS id,
           false AS guest
    UNION ALL
    SELECT c.id, true FROM carts c WHERE c.token_hash = NULL::bytea
)
SELECT v.*, l.quantity, l.added_at, p.status AS product_status, p.vendor_active, cart.guest::boolean AS guest
FROM cart
JOIN cart_lines l ON l.cart_id = cart.id
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
ORDER BY l.added_at, l.variant_id;
\endpipeline
\startpipeline
BEGIN;
-- sqlc: CheckoutBegin 97113f507461
WITH claim AS (
    INSERT INTO checkout_requests (user_id, idempotency_key, fingerprint)
    VALUES (:u, 'k' || :k, '\x0102030405060708091011121314151617181920212223242526272829303132'::bytea)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING 1
), cart AS (
    SELECT id FROM carts WHERE user_id = :u AND EXISTS (SELECT FROM claim) FOR UPDATE
)
SELECT (SELECT count(*) FROM claim)::integer AS claimed, COALESCE((SELECT id FROM cart), 0)::bigint AS cart_id;
-- sqlc: CheckoutLines 014dcc21decc
SELECT l.quantity, l.added_at, v.*, p.name AS product_name, p.vendor_id, p.status AS product_status, p.vendor_active,
       vd.commission_bps AS vendor_commission_bps
FROM cart_lines l
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
LEFT JOIN vendors vd ON vd.id = p.vendor_id
WHERE l.cart_id = (SELECT c.id FROM carts c WHERE c.user_id = :u)
  AND EXISTS (SELECT FROM checkout_requests r
              WHERE r.user_id = :u AND r.idempotency_key = 'k' || :k AND r.order_id IS NULL)
ORDER BY v.id
FOR NO KEY UPDATE OF v;
\endpipeline
\startpipeline
SELECT set_config('plan_cache_mode', 'force_generic_plan', true);
-- sqlc: StockReserve 0393d25506b5
UPDATE product_variants v SET stock = v.stock - r.n, updated_at = now()
FROM (SELECT unnest(ARRAY[:v1, :v2]::bigint[]) AS id, unnest(ARRAY[1, 1]::integer[]) AS n) AS r
WHERE v.id = r.id AND v.deleted_at IS NULL AND v.stock >= r.n
RETURNING v.id, v.product_id, v.stock;
-- sqlc: CheckoutPlaceOrder 15d10f1812d8
WITH o AS (
    INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
    VALUES (:u, 'PENDING', 'USD', 4200, '{"name":"Ada Lovelace","line1":"1 Main St","city":"Springfield","postalCode":"12345","country":"US"}')
    RETURNING *
), l AS (
    INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku,
                             unit_price, currency, quantity, line_total, commission_bps)
    SELECT o.id, x.product_id, x.variant_id, NULLIF(x.vendor_id, 0), x.product_name, x.variant_name, x.sku,
           x.unit_price, o.currency, x.quantity, x.line_total, CASE WHEN x.vendor_id <> 0 THEN x.commission_bps END
    FROM o, (SELECT unnest(ARRAY[1, 2]::bigint[]) AS product_id, unnest(ARRAY[:v1, :v2]::bigint[]) AS variant_id,
                    unnest(ARRAY[0, 0]::bigint[]) AS vendor_id, unnest(ARRAY['Product one', 'Product two']::text[]) AS product_name,
                    unnest(ARRAY['Default', 'Default']::text[]) AS variant_name, unnest(ARRAY['SKU-1', 'SKU-2']::text[]) AS sku,
                    unnest(ARRAY[2100, 2100]::bigint[]) AS unit_price, unnest(ARRAY[1, 1]::integer[]) AS quantity,
                    unnest(ARRAY[2100, 2100]::bigint[]) AS line_total,
                    unnest(ARRAY[0, 0]::integer[]) AS commission_bps) AS x
    RETURNING *
), e AS (
    INSERT INTO order_events (order_id, sequence, status, actor_id, note)
    SELECT o.id, 1, o.status, :u, 'order placed' FROM o
    RETURNING *
), expiry AS (
    INSERT INTO river_job (args, kind, queue, max_attempts, state, scheduled_at)
    SELECT jsonb_build_object('order_id', o.id), 'expire_order', 'default', 5,
           CASE WHEN x.at > now() THEN 'scheduled' ELSE 'available' END::river_job_state, x.at
    FROM o, (SELECT o.created_at + make_interval(secs => 1800::float8) AS at FROM o) AS x
), cleared AS (
    DELETE FROM cart_lines WHERE cart_id = (SELECT c.id FROM carts c WHERE c.user_id = :u)
), keyed AS (
    UPDATE checkout_requests SET order_id = (SELECT id FROM o)
    WHERE user_id = :u AND idempotency_key = 'k' || :k
), sold AS (
    INSERT INTO stock_movements (variant_id, kind, delta, quantity, actor_id, order_id)
    SELECT l.variant_id, 'SALE', -l.quantity, v.stock, :u, l.order_id
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
\endpipeline
-- The expiry job, about as River's InsertTx writes it (riverpgxv5's JobInsertFastMany).
INSERT INTO river_job (args, created_at, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states)
SELECT jsonb_build_object('order_id', currval('orders_id_seq')), now(), 'expire_order', 10, '{}', 1, 'default',
       now() + interval '1800 seconds', 'scheduled', '{}'::varchar(255)[], NULL, NULL
RETURNING *;
COMMIT;
-- sqlc: PaymentInsert b29c6ac25109
INSERT INTO payments (order_id, provider, intent_id, client_secret, status, amount, currency)
VALUES (currval('orders_id_seq'), 'stripe', 'pi_' || :k, 'pi_' || :k || '_secret_x', 'REQUIRES_PAYMENT', 4200, 'USD')
ON CONFLICT (order_id) DO UPDATE SET updated_at = payments.updated_at
RETURNING *;
