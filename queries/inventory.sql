-- name: StockReserve :batchmany
-- StockReserve takes @quantities[i] units of @ids[i] for every i, in one guarded statement: a
-- variant missing from the result had not enough stock (or is gone) and was not changed.
UPDATE product_variants v SET stock = v.stock - r.n, updated_at = now()
FROM (SELECT unnest(@ids::bigint[]) AS id, unnest(@quantities::integer[]) AS n) AS r
WHERE v.id = r.id AND v.deleted_at IS NULL AND v.stock >= r.n
RETURNING v.id, v.product_id, v.stock;

-- name: StockRelease :batchexec
-- StockRelease gives units back (a cancelled order), even to a since-deleted variant.
UPDATE product_variants SET stock = stock + @n::integer, updated_at = now() WHERE id = @id;

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
