-- +goose Up
-- Sales analytics (internal/analytics). A sale counts at payment time: the created_at of the
-- order's PAID event. A refund counts when it completes: when the order's refunded total grows
-- (order.Service.TransitionTx's move to REFUNDED or PARTIALLY_REFUNDED, made by internal/payment
-- when a refund settles or the provider reports one), recorded here in the move's transaction.
-- A vendor's share of a refund is in proportion to its lines of the order, rounded down on the
-- order's cumulative refunded total, so that a full refund reverses exactly its sales.
CREATE TABLE analytics_refunds (
    order_id    bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sequence    integer     NOT NULL, -- the order event of the move
    amount      bigint      NOT NULL CHECK (amount > 0),
    refunded_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, sequence)
);
CREATE INDEX analytics_refunds_at_idx ON analytics_refunds (refunded_at);

-- Rollups in 15-minute UTC buckets: every IANA zone in use today has offsets in whole quarter
-- hours, so grouping buckets by calendar interval in the zone is exact (the service checks each
-- boundary and falls back to the plain aggregate over the lines when one is not aligned).
-- vendor_id 0 is the whole platform (every line, with or without a vendor).
-- The rows are deltas, appended by each payment and refund and never updated: a key may hold
-- several rows, and readers sum them. An upsert into one row per key would make every payment
-- of the platform in the same quarter hour wait on the first one's row lock until it commits
-- (vendor 0's row is shared by all), serialising payments and blocking any that commit out of
-- order; plain inserts never wait on each other. analytics_rebuild writes one row per key.
CREATE TABLE analytics_sales (
    vendor_id bigint      NOT NULL,
    bucket    timestamptz NOT NULL,
    currency  text        NOT NULL,
    gross     bigint      NOT NULL DEFAULT 0,
    refunds   bigint      NOT NULL DEFAULT 0,
    orders    bigint      NOT NULL DEFAULT 0,
    units     bigint      NOT NULL DEFAULT 0
);
-- The figures ride in the index: a 90-day report of a vendor reads its rows as an index-only
-- scan of a few leaf pages, not as many scattered heap pages.
CREATE INDEX analytics_sales_key ON analytics_sales (vendor_id, bucket, currency) INCLUDE (gross, refunds, orders, units);

-- Per product, for the top products; vendor_id 0 holds lines without a vendor.
CREATE TABLE analytics_product_sales (
    vendor_id    bigint      NOT NULL,
    bucket       timestamptz NOT NULL,
    currency     text        NOT NULL,
    product_id   bigint      NOT NULL,
    product_name text        NOT NULL,
    revenue      bigint      NOT NULL,
    units        bigint      NOT NULL
);
CREATE INDEX analytics_product_sales_key ON analytics_product_sales (vendor_id, bucket, currency, product_id)
    INCLUDE (revenue, units, product_name);
CREATE INDEX analytics_product_sales_bucket_idx ON analytics_product_sales (bucket);

-- For the plain aggregate: an order's payment time.
CREATE INDEX order_events_paid_idx ON order_events (order_id, created_at) WHERE status = 'PAID';

-- +goose StatementBegin
CREATE FUNCTION analytics_bucket(t timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT to_timestamp(floor(extract(epoch FROM t) / 900) * 900) $$;
-- +goose StatementEnd

-- A vendor's share of an order's cumulative refunded total: refunded * its lines' total / the
-- order's lines' total, rounded down, refunded capped at the lines' total.
-- +goose StatementBegin
CREATE FUNCTION analytics_share(refunded numeric, vendor_total numeric, order_total numeric) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN order_total <= 0 THEN 0
             ELSE div(LEAST(refunded, order_total) * vendor_total, order_total)::bigint END $$;
-- +goose StatementEnd

-- analytics_record_paid adds a paid order to the rollups (called in the PAID move's transaction),
-- as new delta rows.
-- +goose StatementBegin
CREATE FUNCTION analytics_record_paid(p_order bigint, p_at timestamptz) RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO analytics_sales AS s (vendor_id, bucket, currency, gross, orders, units)
    SELECT v, analytics_bucket(p_at), o.currency, sum(l.line_total), 1, sum(l.quantity)
    FROM orders o JOIN order_lines l ON l.order_id = o.id
         CROSS JOIN LATERAL (VALUES (0::bigint), (l.vendor_id)) AS x (v)
    WHERE o.id = p_order AND x.v IS NOT NULL
    GROUP BY v, o.currency
    ORDER BY v;
    INSERT INTO analytics_product_sales AS s (vendor_id, bucket, currency, product_id, product_name, revenue, units)
    SELECT COALESCE(l.vendor_id, 0), analytics_bucket(p_at), o.currency, l.product_id, max(l.product_name),
           sum(l.line_total), sum(l.quantity)
    FROM orders o JOIN order_lines l ON l.order_id = o.id
    WHERE o.id = p_order
    GROUP BY COALESCE(l.vendor_id, 0), o.currency, l.product_id
    ORDER BY 1, 4;
$$;
-- +goose StatementEnd

-- analytics_record_refund records a refund of amount completed at p_at (called in the refund
-- move's transaction; p_seq is that move's order event).
-- +goose StatementBegin
CREATE FUNCTION analytics_record_refund(p_order bigint, p_seq integer, p_amount bigint, p_at timestamptz) RETURNS void
LANGUAGE sql
AS $$
    INSERT INTO analytics_refunds (order_id, sequence, amount, refunded_at) VALUES (p_order, p_seq, p_amount, p_at);
    WITH before AS (
        SELECT COALESCE(sum(amount), 0) AS r FROM analytics_refunds WHERE order_id = p_order AND sequence < p_seq
    ), tot AS (
        SELECT COALESCE(sum(line_total), 0) AS t FROM order_lines WHERE order_id = p_order
    ), shares AS (
        SELECT 0::bigint AS v, p_amount AS amount
        UNION ALL
        SELECT l.vendor_id, analytics_share((SELECT r FROM before) + p_amount, sum(l.line_total), (SELECT t FROM tot))
                          - analytics_share((SELECT r FROM before), sum(l.line_total), (SELECT t FROM tot))
        FROM order_lines l WHERE l.order_id = p_order AND l.vendor_id IS NOT NULL GROUP BY l.vendor_id
    )
    INSERT INTO analytics_sales AS s (vendor_id, bucket, currency, refunds)
    SELECT sh.v, analytics_bucket(p_at), o.currency, sh.amount
    FROM shares sh CROSS JOIN orders o WHERE o.id = p_order AND sh.amount > 0
    ORDER BY sh.v;
$$;
-- +goose StatementEnd

-- analytics_rebuild builds the rollups afresh from the lines, the PAID events and the refund
-- ledger, set-wise: the backfill of this migration and of the benchmark's generated data. It
-- states the same definitions as the two functions above (tests hold them equal).
-- +goose StatementBegin
CREATE FUNCTION analytics_rebuild() RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM analytics_sales;
    DELETE FROM analytics_product_sales;
    WITH paid AS (
        SELECT order_id, min(created_at) AS at FROM order_events WHERE status = 'PAID' GROUP BY order_id
    ), per AS (
        SELECT x.v, analytics_bucket(p.at) AS bucket, o.currency, l.order_id,
               sum(l.line_total) AS gross, sum(l.quantity) AS units
        FROM paid p JOIN orders o ON o.id = p.order_id JOIN order_lines l ON l.order_id = p.order_id
             CROSS JOIN LATERAL (VALUES (0::bigint), (l.vendor_id)) AS x (v)
        WHERE x.v IS NOT NULL
        GROUP BY x.v, 2, o.currency, l.order_id
    ), refunds AS (
        SELECT r.order_id, r.refunded_at, r.amount,
               sum(r.amount) OVER (PARTITION BY r.order_id ORDER BY r.sequence) AS cum
        FROM analytics_refunds r
    ), tot AS (
        SELECT order_id, sum(line_total) AS t FROM order_lines
        WHERE order_id IN (SELECT order_id FROM analytics_refunds) GROUP BY order_id
    ), vend AS (
        SELECT order_id, vendor_id, sum(line_total) AS vt FROM order_lines
        WHERE vendor_id IS NOT NULL AND order_id IN (SELECT order_id FROM analytics_refunds) GROUP BY order_id, vendor_id
    ), shares AS (
        SELECT 0::bigint AS v, analytics_bucket(r.refunded_at) AS bucket, r.order_id, r.amount FROM refunds r
        UNION ALL
        SELECT vd.vendor_id, analytics_bucket(r.refunded_at), r.order_id,
               analytics_share(r.cum, vd.vt, t.t) - analytics_share(r.cum - r.amount, vd.vt, t.t)
        FROM refunds r JOIN tot t USING (order_id) JOIN vend vd USING (order_id)
    ), rows AS (
        SELECT v, bucket, currency, gross, 0::bigint AS refunds, 1 AS orders, units FROM per
        UNION ALL
        SELECT sh.v, sh.bucket, o.currency, 0, sh.amount, 0, 0
        FROM shares sh JOIN orders o ON o.id = sh.order_id WHERE sh.amount > 0
    )
    INSERT INTO analytics_sales (vendor_id, bucket, currency, gross, refunds, orders, units)
    SELECT v, bucket, currency, sum(gross), sum(refunds), sum(orders), sum(units)
    FROM rows GROUP BY v, bucket, currency
    ORDER BY v, bucket, currency;
    WITH paid AS (
        SELECT order_id, min(created_at) AS at FROM order_events WHERE status = 'PAID' GROUP BY order_id
    )
    INSERT INTO analytics_product_sales (vendor_id, bucket, currency, product_id, product_name, revenue, units)
    SELECT COALESCE(l.vendor_id, 0), analytics_bucket(p.at), o.currency, l.product_id, max(l.product_name),
           sum(l.line_total), sum(l.quantity)
    FROM paid p JOIN orders o ON o.id = p.order_id JOIN order_lines l ON l.order_id = p.order_id
    GROUP BY 1, 2, 3, 4
    ORDER BY 1, 2, 3, 4;
$$;
-- +goose StatementEnd

-- Existing data: refunds confirmed before this migration enter the ledger at their settlement
-- time (refunds the provider reported without one of ours cannot be dated and are left out),
-- then the rollups are built.
INSERT INTO analytics_refunds (order_id, sequence, amount, refunded_at)
SELECT p.order_id, -row_number() OVER (PARTITION BY p.order_id ORDER BY r.updated_at DESC, r.id DESC), r.amount, r.updated_at
FROM refunds r JOIN payments p ON p.id = r.payment_id
WHERE r.status = 'SUCCEEDED';
SELECT analytics_rebuild();

-- +goose Down
DROP FUNCTION analytics_rebuild();
DROP FUNCTION analytics_record_refund(bigint, integer, bigint, timestamptz);
DROP FUNCTION analytics_record_paid(bigint, timestamptz);
DROP FUNCTION analytics_share(numeric, numeric, numeric);
DROP FUNCTION analytics_bucket(timestamptz);
DROP INDEX order_events_paid_idx;
DROP TABLE analytics_product_sales;
DROP TABLE analytics_sales;
DROP TABLE analytics_refunds;
