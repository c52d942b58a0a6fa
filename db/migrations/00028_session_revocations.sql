-- +goose Up
-- Every instance polls the sessions revoked since it last looked (internal/account's
-- revocation watcher), so that a revoked session's access tokens stop working within seconds;
-- the index keeps that poll a short range scan however many sessions there are.
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- A deleted account's sessions go with it (ON DELETE CASCADE), so the poll above cannot see
-- them end: their ids are kept here, for the poll, as sessions ended at the deletion. A row is
-- of use for an access token's lifetime only; accountDelete prunes those older than a day.
CREATE TABLE sessions_ended (
    id       uuid        PRIMARY KEY,
    ended_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_ended_ended_at_idx ON sessions_ended (ended_at);

-- +goose Down
DROP TABLE sessions_ended;
DROP INDEX sessions_revoked_at_idx;
