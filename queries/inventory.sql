-- name: StockReserve :one
-- StockReserve takes n units in one guarded statement; no row means not enough stock (or the
-- variant is gone), and nothing changed.
UPDATE product_variants SET stock = stock - @n::integer, updated_at = now()
WHERE id = @id AND deleted_at IS NULL AND stock >= @n::integer
RETURNING id, product_id, stock;

-- name: StockRelease :exec
-- StockRelease gives units back (a cancelled order), even to a since-deleted variant.
UPDATE product_variants SET stock = stock + @n::integer, updated_at = now() WHERE id = @id;

-- name: StockGet :one
SELECT stock, deleted_at FROM product_variants WHERE id = @id;
