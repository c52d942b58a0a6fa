-- Effective low-stock thresholds for what customers see (issue 16).

-- name: VariantLowStockThresholds :many
-- VariantLowStockThresholds is the effective low-stock threshold of each of variants @ids
-- (deleted ones included): its own, else its vendor's default, else the platform's.
SELECT v.id, low_stock_threshold_of(v.low_stock_threshold, p.vendor_id)::integer AS threshold
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE v.id = ANY(@ids::bigint[]);
