-- +goose Up
-- The address book (internal/address): a customer's saved postal addresses, at most 50 each
-- (counted under a lock of the user row), with at most one default shipping and one default
-- billing address. Checkout copies an address onto the order as a snapshot
-- (orders.shipping_address), so nothing here is referenced by orders: editing or deleting an
-- address never changes one, and deleting the account deletes its book.
CREATE TABLE addresses (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    line1               text        NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
    line2               text        NOT NULL DEFAULT '' CHECK (length(line2) <= 200),
    city                text        NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region              text        NOT NULL DEFAULT '' CHECK (length(region) <= 100),
    postal_code         text        NOT NULL CHECK (length(postal_code) BETWEEN 1 AND 20),
    country             text        NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone               text        NOT NULL DEFAULT '' CHECK (length(phone) <= 30),
    -- Deleting the default deletes its flag with it: no dangling reference to clear.
    is_default_shipping boolean     NOT NULL DEFAULT false,
    is_default_billing  boolean     NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX addresses_user_id_idx ON addresses (user_id, id);
CREATE UNIQUE INDEX addresses_default_shipping_key ON addresses (user_id) WHERE is_default_shipping;
CREATE UNIQUE INDEX addresses_default_billing_key ON addresses (user_id) WHERE is_default_billing;

-- +goose Down
DROP TABLE addresses;
