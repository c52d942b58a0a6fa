-- name: CartGetByTokenHash :one
SELECT * FROM carts WHERE token_hash = @token_hash;

-- name: CartUpsertForUser :one
-- CartUpsertForUser returns the customer's cart, creating it on first use (race-free).
INSERT INTO carts (user_id) VALUES (@user_id)
ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
RETURNING *;

-- name: CartUpsertAnonymous :one
-- CartUpsertAnonymous returns the id of the guest cart of a token, creating it on first use
-- (race-free), and marks it changed: guest carts left unchanged are purged (CartPurgeGuests).
INSERT INTO carts (token_hash) VALUES (@token_hash)
ON CONFLICT (token_hash) DO UPDATE SET updated_at = now()
RETURNING id;

-- name: CartPurgeGuests :execrows
-- CartPurgeGuests deletes up to @max guest carts (with their lines) not changed since
-- @untouched_since, oldest first: a guest who does not come back leaves a cart nobody else can
-- reach. Customers' carts stay. Bounded so that one statement holds few locks for long.
DELETE FROM carts WHERE id IN (
    SELECT c.id FROM carts c WHERE c.user_id IS NULL AND c.updated_at < @untouched_since
    ORDER BY c.updated_at LIMIT @max
);

-- name: CartDelete :exec
DELETE FROM carts WHERE id = @id;

-- name: CartLineList :many
SELECT * FROM cart_lines WHERE cart_id = @cart_id ORDER BY added_at, variant_id;

-- name: CartLineSet :exec
INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES (@cart_id, @variant_id, @quantity)
ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = EXCLUDED.quantity;

-- name: CartLineDelete :execrows
DELETE FROM cart_lines WHERE cart_id = @cart_id AND variant_id = @variant_id;

-- name: CartLineClear :exec
DELETE FROM cart_lines WHERE cart_id = @cart_id;

-- name: CartLockForUser :batchexec
-- CartLockForUser locks a customer's cart, if there is one, before it is changed: everything
-- that changes or checks out one customer's cart holds its row lock, so a checkout never
-- misses or clears a line added meanwhile. The statements after it in the same transaction
-- see the latest committed lines (each statement takes a fresh snapshot).
SELECT FROM carts WHERE user_id = @user_id FOR UPDATE;

-- name: CartItemPut :batchone
-- CartItemPut adds @quantity units of a variant to a cart (or, with @set_quantity, sets the
-- line's quantity), in one statement, when the variant may be put in the cart: it exists, is
-- not deleted, its product is ACTIVE, and it is priced in the currency of the cart's other
-- lines. Otherwise problem names the rule broken and nothing changes: NOT_FOUND, or
-- CURRENCY_MISMATCH with cart_currency (problem is '' when none was broken). The cart is
-- @cart_id or, when that is null, the customer @user_id's, created by the first put.
-- quantity is the line's new quantity (0 when nothing was put: a problem, or a cart deleted
-- meanwhile). A line over 1000 units fails the table's check constraint.
WITH target AS (
    SELECT c.id FROM carts c WHERE c.id = sqlc.narg(cart_id)
    UNION ALL
    SELECT c.id FROM carts c WHERE c.user_id = sqlc.narg(user_id) AND sqlc.narg(cart_id)::bigint IS NULL
), variant AS (
    SELECT v.currency FROM product_variants v JOIN products p ON p.id = v.product_id
    WHERE v.id = @variant_id AND v.deleted_at IS NULL AND p.status = 'ACTIVE' AND p.vendor_active
), verdict AS (
    SELECT CASE WHEN NOT EXISTS (SELECT FROM variant) THEN 'NOT_FOUND'
                WHEN other.currency IS NOT NULL THEN 'CURRENCY_MISMATCH' END::text AS problem,
           other.currency::text AS cart_currency, (SELECT currency FROM variant)::text AS variant_currency
    FROM (SELECT (SELECT ov.currency FROM cart_lines l JOIN product_variants ov ON ov.id = l.variant_id
                  WHERE l.cart_id IN (SELECT t.id FROM target t) AND l.variant_id <> @variant_id
                    AND ov.currency <> (SELECT currency FROM variant)
                  LIMIT 1) AS currency) AS other
), created AS (
    INSERT INTO carts (user_id)
    SELECT sqlc.narg(user_id)::bigint FROM verdict
    WHERE verdict.problem IS NULL AND sqlc.narg(cart_id)::bigint IS NULL AND NOT EXISTS (SELECT FROM target)
    ON CONFLICT (user_id) DO UPDATE SET updated_at = carts.updated_at
    RETURNING carts.id
), line AS (
    INSERT INTO cart_lines (cart_id, variant_id, quantity)
    SELECT c.id, @variant_id, @quantity::integer
    FROM (SELECT t.id FROM target t UNION ALL SELECT n.id FROM created n) AS c, verdict
    WHERE verdict.problem IS NULL
    ON CONFLICT (cart_id, variant_id) DO UPDATE
    SET quantity = CASE WHEN @set_quantity::boolean THEN EXCLUDED.quantity
                        ELSE cart_lines.quantity + EXCLUDED.quantity END
    RETURNING cart_lines.quantity
)
SELECT COALESCE(verdict.problem, '')::text AS problem, COALESCE(verdict.cart_currency, '')::text AS cart_currency,
       COALESCE(verdict.variant_currency, '')::text AS variant_currency,
       COALESCE((SELECT line.quantity FROM line), 0)::integer AS quantity
FROM verdict;

-- name: CartView :many
-- CartView is a cart's lines as its owner sees them, in the order they were added: each with
-- its variant (deleted ones included) and its product's status. The cart is @cart_id or, when
-- that is null, the customer @user_id's; and the guest cart of @token_hash, whose lines are
-- marked guest. A customer who presents a guest token is thus read in this one statement
-- when the token has no guest cart to merge, the usual case once the guest cart was merged.
WITH cart AS (
    SELECT COALESCE(sqlc.narg(cart_id)::bigint, (SELECT c.id FROM carts c WHERE c.user_id = sqlc.narg(user_id)))::bigint AS id,
           false AS guest
    UNION ALL
    SELECT c.id, true FROM carts c WHERE c.token_hash = sqlc.narg(token_hash)
)
SELECT sqlc.embed(v), l.quantity, l.added_at, p.status AS product_status, p.vendor_active, cart.guest::boolean AS guest
FROM cart
JOIN cart_lines l ON l.cart_id = cart.id
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
ORDER BY l.added_at, l.variant_id;

-- name: CartViewQueued :batchmany
-- CartViewQueued is CartView queued in a pipeline (internal/postgres/fastpath): cartItemAdd
-- reads the cart back in the round trip that changed it. sqlc gives a query one kind, so the
-- statement is CartView's, repeated; TestCartViewQueuedIsCartView holds the two the same.
WITH cart AS (
    SELECT COALESCE(sqlc.narg(cart_id)::bigint, (SELECT c.id FROM carts c WHERE c.user_id = sqlc.narg(user_id)))::bigint AS id,
           false AS guest
    UNION ALL
    SELECT c.id, true FROM carts c WHERE c.token_hash = sqlc.narg(token_hash)
)
SELECT sqlc.embed(v), l.quantity, l.added_at, p.status AS product_status, p.vendor_active, cart.guest::boolean AS guest
FROM cart
JOIN cart_lines l ON l.cart_id = cart.id
JOIN product_variants v ON v.id = l.variant_id
JOIN products p ON p.id = v.product_id
ORDER BY l.added_at, l.variant_id;
