-- name: SessionListActiveByUser :many
-- SessionListActiveByUser is an account's live sessions (not revoked, not expired), the most
-- recently used first, at most @max_count of them.
SELECT * FROM sessions
WHERE user_id = @user_id AND revoked_at IS NULL AND expires_at > now()
ORDER BY last_used_at DESC, id
LIMIT @max_count;

-- name: SessionRevokeOwn :one
-- SessionRevokeOwn ends one live session of a user; no row when the session is not the user's,
-- is already revoked or has expired.
UPDATE sessions SET revoked_at = now(), revoke_reason = @reason
WHERE id = @id AND user_id = @user_id AND revoked_at IS NULL AND expires_at > now()
RETURNING *;

-- name: SessionRevokeAllForUser :many
-- SessionRevokeAllForUser ends every live session of a user, the caller's own included, and
-- returns them, for this instance to refuse their tokens at once.
UPDATE sessions SET revoked_at = now(), revoke_reason = @reason
WHERE user_id = @user_id AND revoked_at IS NULL
RETURNING id;

-- name: SessionListRevokedSince :many
-- SessionListRevokedSince is every session revoked after @since, for the instances' sets of
-- revoked sessions (sessions_revoked_at_idx), with the sessions of accounts deleted since
-- (sessions_ended).
SELECT id, revoked_at::timestamptz AS revoked_at FROM sessions
WHERE revoked_at > @since::timestamptz
UNION ALL
SELECT id, ended_at AS revoked_at FROM sessions_ended
WHERE ended_at > @since::timestamptz
ORDER BY revoked_at;

-- name: SessionsEndForDeletedUser :many
-- SessionsEndForDeletedUser records the live sessions of an account about to be deleted in
-- sessions_ended, for every instance's poll, and prunes the records no token can need.
WITH pruned AS (
    DELETE FROM sessions_ended WHERE ended_at < now() - interval '1 day'
)
INSERT INTO sessions_ended (id)
SELECT id FROM sessions
WHERE user_id = @user_id AND revoked_at IS NULL AND expires_at > now()
ON CONFLICT (id) DO NOTHING
RETURNING id;
