-- name: UserInsert :one
-- UserInsert creates a user; a duplicate email violates users_email_key (CONFLICT).
INSERT INTO users (email, password_hash, name, role)
VALUES (@email, @password_hash, @name, @role)
RETURNING *;

-- name: UserGetByID :one
SELECT * FROM users WHERE id = @id;

-- name: UserGetByEmail :one
SELECT * FROM users WHERE email = @email;

-- name: UserListByIDs :many
-- UserListByIDs is the batch read behind the user dataloader.
SELECT * FROM users WHERE id = ANY(@ids::bigint[]);

-- name: UserUpdatePassword :execrows
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id;

-- name: UserUpsertAdmin :one
-- UserUpsertAdmin creates an admin, or promotes an existing user and resets its password.
INSERT INTO users (email, password_hash, name, role)
VALUES (@email, @password_hash, @name, 'ADMIN')
ON CONFLICT (email) DO UPDATE SET role = 'ADMIN', password_hash = EXCLUDED.password_hash, updated_at = now()
RETURNING *;

-- name: UserCountByRole :one
SELECT count(*) FROM users WHERE role = @role;

-- name: SessionInsert :one
INSERT INTO sessions (id, user_id, user_agent, ip, expires_at)
VALUES (@id, @user_id, @user_agent, @ip, @expires_at)
RETURNING *;

-- name: SessionGetByID :one
SELECT * FROM sessions WHERE id = @id;

-- name: SessionRevoke :execrows
-- SessionRevoke ends one session; a session already revoked keeps its first reason.
UPDATE sessions SET revoked_at = now(), revoke_reason = @reason
WHERE id = @id AND revoked_at IS NULL;

-- name: SessionRevokeAllForUserExcept :execrows
-- SessionRevokeAllForUserExcept ends every live session of a user but one (the caller's own).
UPDATE sessions SET revoked_at = now(), revoke_reason = @reason
WHERE user_id = @user_id AND id <> @keep_id AND revoked_at IS NULL;

-- name: SessionTouch :exec
UPDATE sessions SET last_used_at = now() WHERE id = @id;

-- name: RefreshTokenInsert :exec
INSERT INTO refresh_tokens (token_hash, session_id) VALUES (@token_hash, @session_id);

-- name: RefreshTokenGetForUpdate :one
-- RefreshTokenGetForUpdate locks a token and its session so two concurrent refreshes with the
-- same token serialise: the second one sees used_at set and is treated as reuse.
SELECT sqlc.embed(refresh_tokens), sqlc.embed(sessions)
FROM refresh_tokens
JOIN sessions ON sessions.id = refresh_tokens.session_id
WHERE refresh_tokens.token_hash = @token_hash
FOR UPDATE;

-- name: RefreshTokenMarkUsed :execrows
UPDATE refresh_tokens SET used_at = now() WHERE token_hash = @token_hash AND used_at IS NULL;

-- name: UserSetRole :one
UPDATE users SET role = @role, updated_at = now() WHERE id = @id RETURNING *;

-- name: UserUpsertVendor :one
-- UserUpsertVendor creates a vendor account, or returns the existing one unchanged.
INSERT INTO users (email, password_hash, name, role)
VALUES (@email, @password_hash, @name, 'VENDOR')
ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
RETURNING *;
