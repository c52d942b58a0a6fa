-- Folding the rollups' delta rows (issue 16). Writers only ever append to the quarter hour of
-- now (a payment's or a refund's), so a bucket older than @before receives no more rows: its
-- deltas are folded into one row per key in one statement, which locks only those old rows
-- (no payment waits on it) and which readers see whole or not at all.

-- name: AnalyticsCompactSales :execrows
-- AnalyticsCompactSales folds the rows of each key of a bucket in [@since, @before) that has
-- more than one.
WITH old AS (
    DELETE FROM analytics_sales s
    WHERE s.bucket >= @since::timestamptz AND s.bucket < @before::timestamptz
      AND (s.vendor_id, s.bucket, s.currency) IN (
          SELECT vendor_id, bucket, currency FROM analytics_sales
          WHERE bucket >= @since::timestamptz AND bucket < @before::timestamptz
          GROUP BY vendor_id, bucket, currency HAVING count(*) > 1)
    RETURNING s.*
)
INSERT INTO analytics_sales (vendor_id, bucket, currency, gross, refunds, orders, units)
SELECT vendor_id, bucket, currency, sum(gross), sum(refunds), sum(orders), sum(units)
FROM old GROUP BY vendor_id, bucket, currency
ORDER BY vendor_id, bucket, currency;

-- name: AnalyticsCompactProductSales :execrows
-- AnalyticsCompactProductSales is AnalyticsCompactSales for the per-product rollups.
WITH old AS (
    DELETE FROM analytics_product_sales s
    WHERE s.bucket >= @since::timestamptz AND s.bucket < @before::timestamptz
      AND (s.vendor_id, s.bucket, s.currency, s.product_id) IN (
          SELECT vendor_id, bucket, currency, product_id FROM analytics_product_sales
          WHERE bucket >= @since::timestamptz AND bucket < @before::timestamptz
          GROUP BY vendor_id, bucket, currency, product_id HAVING count(*) > 1)
    RETURNING s.*
)
INSERT INTO analytics_product_sales (vendor_id, bucket, currency, product_id, product_name, revenue, units)
SELECT vendor_id, bucket, currency, product_id, max(product_name), sum(revenue), sum(units)
FROM old GROUP BY vendor_id, bucket, currency, product_id
ORDER BY vendor_id, bucket, currency, product_id;
