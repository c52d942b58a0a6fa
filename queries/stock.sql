-- The stock ledger and low stock (issue 16). Movements are written by the statements that
-- change stock (queries/inventory.sql, catalog.sql, checkout.sql and StockBulkSet below).

-- name: StockMovementList :many
-- StockMovementList is a page of variant @variant_id's movements, newest first, after the
-- movement @after (0: from the newest).
SELECT * FROM stock_movements
WHERE variant_id = @variant_id AND (@after::bigint = 0 OR id < @after::bigint)
ORDER BY id DESC
LIMIT @lim;

-- name: StockMovementCount :one
SELECT count(*) FROM stock_movements WHERE variant_id = @variant_id;

-- name: LowStockVariantList :many
-- LowStockVariantList is a page of the live variants at or under their effective low-stock
-- threshold, of vendor @vendor_id (NULL: every vendor's and the platform's), in variant id
-- order after @after.
SELECT sqlc.embed(v), low_stock_threshold_of(v.low_stock_threshold, p.vendor_id)::integer AS threshold
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE v.deleted_at IS NULL AND v.id > @after::bigint
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND v.stock <= low_stock_threshold_of(v.low_stock_threshold, p.vendor_id)
ORDER BY v.id
LIMIT @lim;

-- name: LowStockVariantCount :one
SELECT count(*)
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE v.deleted_at IS NULL
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND v.stock <= low_stock_threshold_of(v.low_stock_threshold, p.vendor_id);

-- name: VariantLowStockThresholdSet :one
-- VariantLowStockThresholdSet sets a live variant's own threshold (NULL: fall back to its
-- vendor's default), returning its effective threshold.
WITH u AS (
    UPDATE product_variants pv SET low_stock_threshold = sqlc.narg('threshold')::integer, updated_at = now()
    WHERE pv.id = @id::bigint AND pv.deleted_at IS NULL
    RETURNING pv.id, pv.product_id, pv.low_stock_threshold
)
SELECT u.id, low_stock_threshold_of(u.low_stock_threshold, p.vendor_id)::integer AS effective
FROM u JOIN products p ON p.id = u.product_id;

-- name: VendorLowStockThresholdSet :execrows
-- VendorLowStockThresholdSet sets vendor @id's default threshold (NULL: the platform's).
UPDATE vendors SET low_stock_threshold = sqlc.narg('threshold')::integer, updated_at = now() WHERE id = @id;

-- name: VendorLowStockThresholdGet :one
SELECT low_stock_threshold FROM vendors WHERE id = @id;

-- name: StockBulkSet :many
-- StockBulkSet sets the stock of variant @ids[i] to @quantities[i] for every i in one
-- statement, locking the live variants in variant id order, and writes a BULK_SET movement by
-- @actor_id with @reasons[i] for every stock it changed. A variant missing from the result is
-- gone: the caller rolls back. It returns each variant's old and new stock, vendor and
-- effective low-stock threshold.
WITH r AS (
    SELECT unnest(@ids::bigint[]) AS id, unnest(@quantities::integer[]) AS quantity,
           unnest(@reasons::text[]) AS reason
), cur AS (
    SELECT v.id, v.stock AS old_stock, r.quantity, r.reason
    FROM r JOIN product_variants v ON v.id = r.id AND v.deleted_at IS NULL
    ORDER BY v.id
    FOR NO KEY UPDATE OF v
), u AS (
    UPDATE product_variants v SET stock = cur.quantity, updated_at = now()
    FROM cur WHERE v.id = cur.id
    RETURNING v.id, v.product_id, cur.old_stock, v.stock, cur.reason, v.low_stock_threshold
), m AS (
    INSERT INTO stock_movements (variant_id, kind, delta, quantity, actor_id, note)
    SELECT u.id, 'BULK_SET', u.stock - u.old_stock, u.stock, @actor_id::bigint, u.reason
    FROM u WHERE u.stock <> u.old_stock
)
SELECT u.id, u.product_id, u.old_stock::integer AS old_stock, u.stock, u.reason::text AS reason,
       p.vendor_id, low_stock_threshold_of(u.low_stock_threshold, p.vendor_id)::integer AS low_stock_threshold
FROM u JOIN products p ON p.id = u.product_id
ORDER BY u.id;
