-- name: CartGetByUser :one
SELECT * FROM carts WHERE user_id = @user_id;

-- name: CartGetByTokenHash :one
SELECT * FROM carts WHERE token_hash = @token_hash;

-- name: CartUpsertForUser :one
-- CartUpsertForUser returns the customer's cart, creating it on first use (race-free).
INSERT INTO carts (user_id) VALUES (@user_id)
ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
RETURNING *;

-- name: CartInsertAnonymous :one
INSERT INTO carts (token_hash) VALUES (@token_hash) RETURNING *;

-- name: CartTouch :exec
UPDATE carts SET updated_at = now() WHERE id = @id;

-- name: CartDelete :exec
DELETE FROM carts WHERE id = @id;

-- name: CartLineList :many
SELECT * FROM cart_lines WHERE cart_id = @cart_id ORDER BY added_at, variant_id;

-- name: CartLineAdd :one
-- CartLineAdd adds quantity to a line, creating it if needed.
INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (@cart_id, @variant_id, @quantity)
ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = cart_lines.quantity + EXCLUDED.quantity
RETURNING *;

-- name: CartLineSet :exec
INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (@cart_id, @variant_id, @quantity)
ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = EXCLUDED.quantity;

-- name: CartLineDelete :execrows
DELETE FROM cart_lines WHERE cart_id = @cart_id AND variant_id = @variant_id;

-- name: CartLineClear :exec
DELETE FROM cart_lines WHERE cart_id = @cart_id;

-- name: CartVariantCheck :one
-- CartVariantCheck reads what adding a variant to a cart depends on, in one statement: the
-- variant, its product's status, and the currencies of the cart's other lines.
SELECT v.id, v.deleted_at, v.currency, p.status AS product_status,
       ARRAY(SELECT (SELECT ov.currency FROM product_variants ov WHERE ov.id = l.variant_id)
             FROM cart_lines l WHERE l.cart_id = @cart_id AND l.variant_id <> v.id)::text[] AS line_currencies
FROM product_variants v
JOIN products p ON p.id = v.product_id
WHERE v.id = @variant_id;

-- name: CartLineListWithVariants :many
-- CartLineListWithVariants is a cart's lines with their variants (deleted ones included), in
-- the order they were added.
SELECT sqlc.embed(l), sqlc.embed(v)
FROM cart_lines l
JOIN product_variants v ON v.id = l.variant_id
WHERE l.cart_id = @cart_id
ORDER BY l.added_at, l.variant_id;
