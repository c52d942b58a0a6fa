-- name: StockReserve :batchmany
-- StockReserve takes @quantities[i] units of @ids[i] for every i, in one guarded statement: a
-- variant missing from the result had not enough stock (or is gone) and was not changed.
UPDATE product_variants v SET stock = v.stock - r.n, updated_at = now()
FROM (SELECT unnest(@ids::bigint[]) AS id, unnest(@quantities::integer[]) AS n) AS r
WHERE v.id = r.id AND v.deleted_at IS NULL AND v.stock >= r.n
RETURNING v.id, v.product_id, v.stock;

-- name: StockRelease :batchexec
-- StockRelease gives units back (a cancelled order), even to a since-deleted variant, and
-- writes the CANCELLATION movement of order @order_id by @actor_id (NULL: the system) in the
-- same statement.
WITH u AS (
    UPDATE product_variants pv SET stock = pv.stock + @n::integer, updated_at = now() WHERE pv.id = @id::bigint
    RETURNING pv.id, pv.stock
)
INSERT INTO stock_movements (variant_id, kind, delta, quantity, actor_id, order_id)
SELECT u.id, 'CANCELLATION', @n::integer, u.stock, sqlc.narg('actor_id')::bigint, NULLIF(@order_id::bigint, 0)
FROM u WHERE @n::integer <> 0;

-- name: StockGet :one
SELECT stock, deleted_at FROM product_variants WHERE id = @id;

-- name: PlanCacheModeSet :batchexec
-- PlanCacheModeSet sets plan_cache_mode to the end of the transaction. With
-- 'force_generic_plan', the statements after it run on their cached generic plans:
-- StockReserve's generic plan (one primary key probe per item) is its only sensible plan, but
-- the planner prices it for arrays of 10 and, seeing custom plans for 2 cost less, would plan
-- it afresh on every call: a sixth of its cost. Only inside a transaction; sent in the same
-- pipeline as StockReserve (fastpath), it costs no round trip.
SELECT set_config('plan_cache_mode', @plan_cache_mode::text, true);

-- name: VariantsBySKU :many
-- VariantsBySKU resolves an import's SKUs: the live variants among @skus, with their product's
-- owner, status and its vendor's state (for the import policy).
SELECT v.id, v.sku, v.product_id, p.vendor_id, p.status, p.vendor_active
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE v.sku = ANY(@skus::text[]) AND v.deleted_at IS NULL;

-- name: InventoryImportCreate :one
INSERT INTO inventory_imports (created_by, total) VALUES (@created_by, @total)
RETURNING *;

-- name: InventoryImportRowsInsert :exec
-- InventoryImportRowsInsert stores an import's validated rows in one statement (arrays of equal
-- length, up to 100,000 elements).
INSERT INTO inventory_import_rows (import_id, variant_id, line, sku, quantity, reason)
SELECT @import_id::bigint, unnest(@variant_ids::bigint[]), unnest(@lines::integer[]),
    unnest(@skus::text[]), unnest(@quantities::integer[]), unnest(@reasons::text[]);

-- name: InventoryImportGet :one
SELECT * FROM inventory_imports WHERE id = @id;

-- name: InventoryImportLock :exec
-- InventoryImportLock serialises the attempts to apply import @id (a job run twice at once)
-- until the end of the transaction, without locking its row, which progress updates write on
-- another connection meanwhile.
SELECT pg_advisory_xact_lock(hashtextextended('inventory_import:' || @id::bigint, 0));

-- name: InventoryImportStart :exec
-- InventoryImportStart marks a pending import running (autocommit, visible at once).
UPDATE inventory_imports SET status = 'RUNNING', started_at = COALESCE(started_at, now())
WHERE id = @id AND status IN ('PENDING', 'RUNNING');

-- name: InventoryImportProgress :exec
-- InventoryImportProgress records how many rows the running apply has done (its own
-- connection: the apply's transaction has not committed yet).
UPDATE inventory_imports SET processed = @processed WHERE id = @id AND status = 'RUNNING';

-- name: InventoryImportFinish :exec
-- InventoryImportFinish ends an import that has not ended: SUCCEEDED in the apply's own
-- transaction, FAILED after it rolled back.
UPDATE inventory_imports SET status = @status, processed = @processed, errors = @errors,
    finished_at = now()
WHERE id = @id AND status IN ('PENDING', 'RUNNING');

-- name: InventoryImportChunk :many
-- InventoryImportChunk is the next @n rows of import @import_id after variant @after, in
-- variant id order.
SELECT variant_id, line, sku FROM inventory_import_rows
WHERE import_id = @import_id AND variant_id > @after
ORDER BY variant_id LIMIT @n;

-- name: InventoryImportApply :many
-- InventoryImportApply sets the stock of the rows of import @import_id whose variants are in
-- (@after, @upto], in one statement, locking them in variant id order. A row whose variant was
-- deleted (or its SKU changed) since validation is not in the result: the caller fails the
-- import and rolls back. The same statement writes an IMPORT movement (by the import's
-- uploader, with the row's reason) for every stock it changed, and returns each variant's
-- vendor and effective low-stock threshold (crossing detection).
WITH cur AS (
    SELECT v.id, v.stock AS old_stock, r.quantity, r.reason
    FROM inventory_import_rows r
    JOIN product_variants v ON v.id = r.variant_id AND v.sku = r.sku AND v.deleted_at IS NULL
    WHERE r.import_id = @import_id AND r.variant_id > @after AND r.variant_id <= @upto
    ORDER BY v.id
    FOR UPDATE OF v
), u AS (
    UPDATE product_variants v SET stock = cur.quantity, updated_at = now()
    FROM cur WHERE v.id = cur.id
    RETURNING v.id, v.product_id, cur.old_stock, v.stock, cur.reason, v.low_stock_threshold
), m AS (
    INSERT INTO stock_movements (variant_id, kind, delta, quantity, actor_id, note)
    SELECT u.id, 'IMPORT', u.stock - u.old_stock, u.stock,
           (SELECT i.created_by FROM inventory_imports i WHERE i.id = @import_id), u.reason
    FROM u WHERE u.stock <> u.old_stock
)
SELECT u.id, u.product_id, u.old_stock::integer AS old_stock, u.stock, u.reason::text AS reason,
       p.vendor_id, low_stock_threshold_of(u.low_stock_threshold, p.vendor_id)::integer AS low_stock_threshold
FROM u JOIN products p ON p.id = u.product_id;
