-- Sales analytics (internal/analytics); the definitions are in db/migrations/00022_analytics.sql.

-- name: AnalyticsRecordPaid :exec
-- AnalyticsRecordPaid adds an order paid at @paid_at to the rollups, in the PAID move's transaction.
SELECT analytics_record_paid(@order_id::bigint, @paid_at::timestamptz);

-- name: AnalyticsRecordRefund :exec
-- AnalyticsRecordRefund records a refund completed at @refunded_at (the refund move's event
-- @sequence) in the ledger and the rollups, in the move's transaction.
SELECT analytics_record_refund(@order_id::bigint, @sequence::integer, @amount::bigint, @refunded_at::timestamptz);

-- name: AnalyticsRebuild :exec
-- AnalyticsRebuild builds the rollups afresh from the lines, the PAID events and the ledger.
SELECT analytics_rebuild();

-- name: AnalyticsRollupSeries :many
-- AnalyticsRollupSeries sums the 15-minute rollups of a vendor (@vendor_id 0: the platform)
-- in [@from_at, @to_at) per currency and calendar @unit (day, week, month) in zone @tz.
SELECT currency,
       date_trunc(@unit::text, bucket AT TIME ZONE @tz::text)::date AS period,
       sum(gross)::bigint AS gross, sum(refunds)::bigint AS refunds,
       sum(orders)::bigint AS orders, sum(units)::bigint AS units
FROM analytics_sales
WHERE vendor_id = @vendor_id::bigint AND bucket >= @from_at::timestamptz AND bucket < @to_at::timestamptz
GROUP BY currency, period
ORDER BY currency, period;

-- name: AnalyticsRollupTop :many
-- AnalyticsRollupTop is the top @lim products per currency by revenue and by units, from the
-- product rollups of a vendor (@vendor_id 0: all) in [@from_at, @to_at).
WITH rows AS (
    SELECT currency, product_id, product_name, revenue, units FROM analytics_product_sales
    WHERE @vendor_id::bigint = 0 AND bucket >= @from_at::timestamptz AND bucket < @to_at::timestamptz
    UNION ALL
    SELECT currency, product_id, product_name, revenue, units FROM analytics_product_sales
    WHERE @vendor_id::bigint <> 0 AND vendor_id = @vendor_id::bigint
      AND bucket >= @from_at::timestamptz AND bucket < @to_at::timestamptz
), p AS (
    SELECT currency, product_id, max(product_name)::text AS name, sum(revenue)::bigint AS revenue, sum(units)::bigint AS units
    FROM rows GROUP BY currency, product_id
), ranked AS (
    SELECT 'REVENUE'::text AS ranking, currency, product_id, name, revenue, units,
           row_number() OVER (PARTITION BY currency ORDER BY revenue DESC, product_id) AS rank
    FROM p
    UNION ALL
    SELECT 'UNITS'::text, currency, product_id, name, revenue, units,
           row_number() OVER (PARTITION BY currency ORDER BY units DESC, product_id)
    FROM p
)
SELECT ranking, currency, product_id, name, revenue, units, rank FROM ranked
WHERE rank <= @lim::bigint
ORDER BY ranking, currency, rank;

-- name: AnalyticsPlainSeries :many
-- AnalyticsPlainSeries is AnalyticsRollupSeries computed from the lines, the PAID events and
-- the refund ledger alone: the reference the rollups are tested and measured against, and the
-- answer for zones whose interval boundaries do not fall on quarter hours.
WITH lines AS (
    SELECT l.order_id, l.line_total, l.quantity FROM order_lines l WHERE @vendor_id::bigint = 0
    UNION ALL
    SELECT l.order_id, l.line_total, l.quantity FROM order_lines l
    WHERE @vendor_id::bigint <> 0 AND l.vendor_id = @vendor_id::bigint
), part AS (
    SELECT order_id, sum(line_total) AS vt, sum(quantity) AS units FROM lines GROUP BY order_id
), sales AS (
    SELECT o.currency, e.created_at AS at, p.vt AS gross, p.units
    FROM part p JOIN order_events e ON e.order_id = p.order_id AND e.status = 'PAID'
         JOIN orders o ON o.id = p.order_id
    WHERE e.created_at >= @from_at::timestamptz AND e.created_at < @to_at::timestamptz
), ledger AS (
    SELECT r.order_id, r.refunded_at, r.amount,
           sum(r.amount) OVER (PARTITION BY r.order_id ORDER BY r.sequence) AS cum
    FROM analytics_refunds r WHERE r.order_id IN (SELECT order_id FROM part)
), refunds AS (
    SELECT o.currency, r.refunded_at AS at,
           CASE WHEN @vendor_id::bigint = 0 THEN r.amount
                ELSE analytics_share(r.cum, p.vt, t.t) - analytics_share(r.cum - r.amount, p.vt, t.t) END AS amount
    FROM ledger r JOIN part p USING (order_id) JOIN orders o ON o.id = r.order_id
         CROSS JOIN LATERAL (SELECT sum(line_total) AS t FROM order_lines WHERE order_id = r.order_id) t
    WHERE r.refunded_at >= @from_at::timestamptz AND r.refunded_at < @to_at::timestamptz
), rows AS (
    SELECT currency, at, gross, 0::bigint AS refunds, 1::bigint AS orders, units FROM sales
    UNION ALL
    SELECT currency, at, 0::bigint, amount, 0::bigint, 0::bigint FROM refunds WHERE amount <> 0
)
SELECT currency,
       date_trunc(@unit::text, at AT TIME ZONE @tz::text)::date AS period,
       sum(gross)::bigint AS gross, sum(refunds)::bigint AS refunds,
       sum(orders)::bigint AS orders, sum(units)::bigint AS units
FROM rows
GROUP BY currency, period
ORDER BY currency, period;

-- name: AnalyticsPlainTop :many
-- AnalyticsPlainTop is AnalyticsRollupTop computed from the lines and the PAID events.
WITH lines AS (
    SELECT l.order_id, l.product_id, l.product_name, l.line_total, l.quantity FROM order_lines l
    WHERE @vendor_id::bigint = 0
    UNION ALL
    SELECT l.order_id, l.product_id, l.product_name, l.line_total, l.quantity FROM order_lines l
    WHERE @vendor_id::bigint <> 0 AND l.vendor_id = @vendor_id::bigint
), p AS (
    SELECT o.currency, l.product_id, max(l.product_name)::text AS name,
           sum(l.line_total)::bigint AS revenue, sum(l.quantity)::bigint AS units
    FROM lines l JOIN order_events e ON e.order_id = l.order_id AND e.status = 'PAID'
         JOIN orders o ON o.id = l.order_id
    WHERE e.created_at >= @from_at::timestamptz AND e.created_at < @to_at::timestamptz
    GROUP BY o.currency, l.product_id
), ranked AS (
    SELECT 'REVENUE'::text AS ranking, currency, product_id, name, revenue, units,
           row_number() OVER (PARTITION BY currency ORDER BY revenue DESC, product_id) AS rank
    FROM p
    UNION ALL
    SELECT 'UNITS'::text, currency, product_id, name, revenue, units,
           row_number() OVER (PARTITION BY currency ORDER BY units DESC, product_id)
    FROM p
)
SELECT ranking, currency, product_id, name, revenue, units, rank FROM ranked
WHERE rank <= @lim::bigint
ORDER BY ranking, currency, rank;
