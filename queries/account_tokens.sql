-- name: AccountTokenInsert :one
-- AccountTokenInsert stores a new single-use token (its hash) for one purpose.
INSERT INTO account_tokens (user_id, purpose, token_hash, new_email, old_email, expires_at)
VALUES (@user_id, @purpose, @token_hash, sqlc.narg('new_email'), sqlc.narg('old_email'), @expires_at)
RETURNING *;

-- name: AccountTokenGetByHashForUpdate :one
-- AccountTokenGetByHashForUpdate locks a token so that two uses of it serialise: the second
-- sees used_at set.
SELECT * FROM account_tokens WHERE token_hash = @token_hash FOR UPDATE;

-- name: AccountTokenGetByID :one
SELECT * FROM account_tokens WHERE id = @id;

-- name: AccountTokenMarkUsed :execrows
UPDATE account_tokens SET used_at = now() WHERE id = @id AND used_at IS NULL;

-- name: AccountTokenRetireForUser :execrows
-- AccountTokenRetireForUser spends every unused token of one purpose of a user: a newer link
-- (or the change it was for) makes the older ones worthless.
UPDATE account_tokens SET used_at = now()
WHERE user_id = @user_id AND purpose = @purpose AND used_at IS NULL;

-- name: UserUpdateProfile :one
UPDATE users SET name = @name, phone = @phone, locale = @locale, updated_at = now()
WHERE id = @id RETURNING *;

-- name: UserMarkEmailVerified :one
UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()), updated_at = now()
WHERE id = @id RETURNING *;

-- name: UserUpdateEmail :one
-- UserUpdateEmail moves an account to a proved new address; a taken one violates
-- users_email_key.
UPDATE users SET email = @email, email_verified_at = now(), updated_at = now()
WHERE id = @id RETURNING *;

-- name: UserEmailExists :one
SELECT EXISTS (SELECT 1 FROM users WHERE email = @email);

-- name: UserGetByIDForUpdate :one
SELECT * FROM users WHERE id = @id FOR UPDATE;

-- name: OrderAnonymiseForUser :execrows
-- OrderAnonymiseForUser keeps a deleted customer's orders for the books but nothing of the
-- person: of the shipping address only the country stays.
UPDATE orders SET shipping_address = jsonb_build_object('country', COALESCE(shipping_address->>'country', '')),
    updated_at = now()
WHERE user_id = @user_id;

-- name: EmailDeliveryAnonymiseRecipient :execrows
-- EmailDeliveryAnonymiseRecipient replaces a deleted account's address in the email log,
-- also in the mail server's last refusal, which usually names the recipient.
UPDATE email_deliveries SET recipient = @replacement, last_error = replace(last_error, @recipient, @replacement),
    updated_at = now()
WHERE recipient = @recipient;

-- name: UserDelete :execrows
DELETE FROM users WHERE id = @id;

-- name: AccountTokenEmailsForUser :many
-- AccountTokenEmailsForUser is every address a user's email changes named, to be erased with
-- the account.
SELECT DISTINCT e::text FROM account_tokens t, unnest(ARRAY[t.new_email, t.old_email]) AS e
WHERE t.user_id = @user_id AND e IS NOT NULL;
