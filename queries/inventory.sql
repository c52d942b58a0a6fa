-- name: StockReserve :many
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
