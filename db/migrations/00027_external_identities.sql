-- +goose Up
-- Social login (internal/account/external*.go): accounts signed in through Google, Facebook or
-- another OpenID Connect provider. An account made that way has no password: its
-- users.password_hash is '' (no argon2id hash is empty, so password sign-in never matches it).

-- One sign-in started by accountExternalAuthUrl and finished (once) by accountExternalLogin. It
-- lives here rather than in one instance's memory so that any instance can finish it. Only a
-- SHA-256 hash of the state is kept: the row alone cannot be replayed.
CREATE TABLE external_auth_states (
    state_hash    bytea       PRIMARY KEY,
    provider      text        NOT NULL,
    redirect_uri  text        NOT NULL,
    nonce         text        NOT NULL,
    code_verifier text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX external_auth_states_expires_at_idx ON external_auth_states (expires_at);

-- An account's identity at a provider: (provider, subject) is the provider's stable user id.
-- email_verified is what the provider said when the identity was linked: an identity whose
-- email was not verified never joined an existing account, and a later proof of the mailbox
-- (password reset, email change) may want to drop it.
CREATE TABLE external_identities (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       text        NOT NULL,
    subject        text        NOT NULL,
    email          text        NOT NULL DEFAULT '',
    email_verified boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT external_identities_provider_subject_key UNIQUE (provider, subject),
    -- One identity per provider and account, so that unlinking names it by provider alone.
    CONSTRAINT external_identities_user_provider_key UNIQUE (user_id, provider)
);

-- +goose Down
DROP TABLE external_identities;
DROP TABLE external_auth_states;
