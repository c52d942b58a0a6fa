-- +goose Up
-- Issue 18, "Profile and email" (internal/account: profile.go, emailflow.go, delete.go).

-- A profile beyond the name, and when the email was proved to be the owner's (NULL: not yet;
-- unverified accounts can still shop).
ALTER TABLE users
    ADD COLUMN phone             text NOT NULL DEFAULT '' CHECK (length(phone) <= 32),
    ADD COLUMN locale            text NOT NULL DEFAULT '' CHECK (length(locale) <= 35),
    ADD COLUMN email_verified_at timestamptz;

-- One table for every single-use account token (email verification, email change, password
-- reset). Only the SHA-256 of the token is kept; new_email is the address an email change goes
-- to, proved when the link sent there is used, and old_email the one it leaves (told of the
-- change). A deleted account takes its tokens with it.
CREATE TABLE account_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'change_email', 'reset_password')),
    token_hash bytea       NOT NULL UNIQUE,
    new_email  text        CHECK (new_email = lower(new_email) AND length(new_email) <= 254),
    old_email  text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CHECK ((purpose = 'change_email') = (new_email IS NOT NULL))
);
CREATE INDEX account_tokens_user_purpose_idx ON account_tokens (user_id, purpose) WHERE used_at IS NULL;

-- A deleted account's orders stay for the books, detached from the person: the customer link
-- is cleared (accountDelete also anonymises the shipping address).
ALTER TABLE orders ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE orders DROP CONSTRAINT orders_user_id_fkey;
DELETE FROM orders WHERE user_id IS NULL;
ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT;
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified_at, DROP COLUMN locale, DROP COLUMN phone;
