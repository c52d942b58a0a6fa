-- +goose Up
-- Every instance polls the sessions revoked since it last looked (internal/account's
-- revocation watcher), so that a revoked session's access tokens stop working within seconds;
-- the index keeps that poll a short range scan however many sessions there are.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- +goose Down
DROP INDEX sessions_revoked_at_idx;
