-- name: ExternalAuthStateInsert :exec
INSERT INTO external_auth_states (state_hash, provider, redirect_uri, nonce, code_verifier, expires_at)
VALUES (@state_hash, @provider, @redirect_uri, @nonce, @code_verifier, @expires_at);

-- name: ExternalAuthStateConsume :one
-- ExternalAuthStateConsume deletes a sign-in's state and returns it: of two requests with the
-- same state, only one gets the row.
DELETE FROM external_auth_states WHERE state_hash = @state_hash RETURNING *;

-- name: ExternalAuthStateDeleteExpired :execrows
DELETE FROM external_auth_states WHERE expires_at < @now;

-- name: ExternalIdentityGetByProviderSubject :one
SELECT * FROM external_identities WHERE provider = @provider AND subject = @subject;

-- name: ExternalIdentityInsert :one
-- ExternalIdentityInsert links an identity to an account; a second account for the same
-- identity violates external_identities_provider_subject_key, a second identity of the same
-- provider for one account external_identities_user_provider_key.
INSERT INTO external_identities (user_id, provider, subject, email, email_verified)
VALUES (@user_id, @provider, @subject, @email, @email_verified)
RETURNING *;

-- name: ExternalIdentityListByUser :many
SELECT * FROM external_identities WHERE user_id = @user_id ORDER BY created_at, id;

-- name: ExternalIdentityDelete :execrows
DELETE FROM external_identities WHERE user_id = @user_id AND provider = @provider;

-- name: ExternalIdentityUserLock :one
-- ExternalIdentityUserLock locks an account while its ways of signing in change, and says
-- whether it has a password, so that two unlinks at once cannot leave it with none.
SELECT (password_hash <> '')::boolean AS has_password FROM users WHERE id = @id FOR UPDATE;

-- name: ExternalIdentityDeleteUnverified :execrows
-- ExternalIdentityDeleteUnverified unlinks the identities whose provider did not vouch for the
-- account's email, when a password reset proves who owns the mailbox.
DELETE FROM external_identities WHERE user_id = @user_id AND NOT email_verified;
