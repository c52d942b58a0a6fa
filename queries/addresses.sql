-- Addresses: customers' address books. internal/address decides who may see and change them;
-- every query names the owner, so an address id of another account finds nothing.

-- name: AddressLockOwner :exec
-- AddressLockOwner locks the owner's user row before its book changes: concurrent changes of
-- one book (the count under the limit, the default flags) serialise, in READ COMMITTED, and the
-- next statement sees what the one before it committed. NO KEY UPDATE does not block the
-- foreign-key checks of rows that reference the user (orders, carts, sessions).
SELECT FROM users WHERE id = @user_id FOR NO KEY UPDATE;

-- name: AddressInsertUnderLimit :one
-- AddressInsertUnderLimit adds an address unless the owner already has @max_count of them: no
-- row means the book is full (run after AddressLockOwner, so the count cannot go stale).
INSERT INTO addresses (user_id, name, line1, line2, city, region, postal_code, country, phone)
SELECT @user_id, @name, @line1, @line2, @city, @region, @postal_code, @country, @phone
WHERE (SELECT count(*) FROM addresses WHERE user_id = @user_id) < @max_count::int
RETURNING *;

-- name: AddressUpdate :one
UPDATE addresses SET name = @name, line1 = @line1, line2 = @line2, city = @city, region = @region,
    postal_code = @postal_code, country = @country, phone = @phone, updated_at = now()
WHERE id = @id AND user_id = @user_id
RETURNING *;

-- name: AddressDelete :one
-- AddressDelete removes an address, and with it its default flags.
DELETE FROM addresses WHERE id = @id AND user_id = @user_id RETURNING *;

-- name: AddressGetOwned :one
-- AddressGetOwned is one of the owner's addresses (checkout's shippingAddressId).
SELECT * FROM addresses WHERE id = @id AND user_id = @user_id;

-- name: AddressGetByID :one
SELECT * FROM addresses WHERE id = @id;

-- name: AddressListByUserIDs :many
-- AddressListByUserIDs is the batch read behind the address-book dataloader, oldest first.
SELECT * FROM addresses WHERE user_id = ANY(@user_ids::bigint[]) ORDER BY user_id, id;

-- name: AddressClearDefaultShipping :exec
UPDATE addresses SET is_default_shipping = false, updated_at = now()
WHERE user_id = @user_id AND is_default_shipping AND id <> @keep_id;

-- name: AddressClearDefaultBilling :exec
UPDATE addresses SET is_default_billing = false, updated_at = now()
WHERE user_id = @user_id AND is_default_billing AND id <> @keep_id;

-- name: AddressSetDefaultShipping :one
UPDATE addresses SET is_default_shipping = true, updated_at = now()
WHERE id = @id AND user_id = @user_id
RETURNING *;

-- name: AddressSetDefaultBilling :one
UPDATE addresses SET is_default_billing = true, updated_at = now()
WHERE id = @id AND user_id = @user_id
RETURNING *;
