-- +goose Up
-- One active cart per customer; anonymous carts are found by the hash of their token.
CREATE TABLE carts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      REFERENCES users (id) ON DELETE CASCADE,
    token_hash bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((user_id IS NULL) <> (token_hash IS NULL))
);
CREATE UNIQUE INDEX carts_user_id_key ON carts (user_id);
CREATE UNIQUE INDEX carts_token_hash_key ON carts (token_hash);
CREATE INDEX carts_anonymous_updated_idx ON carts (updated_at) WHERE user_id IS NULL;

CREATE TABLE cart_lines (
    cart_id    bigint      NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    variant_id bigint      NOT NULL REFERENCES product_variants (id) ON DELETE CASCADE,
    quantity   integer     NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, variant_id)
);

CREATE TYPE order_status AS ENUM
    ('PENDING', 'PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED', 'PARTIALLY_REFUNDED');

-- Orders are immutable once placed: lines and prices never change; status moves only through
-- the state machine in internal/order, and every move appends an order_events row.
CREATE TABLE orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint       NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status           order_status NOT NULL DEFAULT 'PENDING',
    currency         text         NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    total_amount     bigint       NOT NULL CHECK (total_amount >= 0),
    shipping_address jsonb        NOT NULL,
    tracking_number  text,
    created_at       timestamptz  NOT NULL DEFAULT now(),
    updated_at       timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at DESC, id DESC);
CREATE INDEX orders_created_idx ON orders (created_at DESC, id DESC);
CREATE INDEX orders_pending_idx ON orders (created_at) WHERE status = 'PENDING';

-- A snapshot of what was bought: later catalog changes never alter a placed order.
CREATE TABLE order_lines (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id   bigint  NOT NULL,
    variant_id   bigint  NOT NULL,
    vendor_id    bigint,
    product_name text    NOT NULL,
    variant_name text    NOT NULL,
    sku          text    NOT NULL,
    unit_price   bigint  NOT NULL CHECK (unit_price >= 0),
    currency     text    NOT NULL,
    quantity     integer NOT NULL CHECK (quantity > 0),
    line_total   bigint  NOT NULL CHECK (line_total >= 0)
);
CREATE INDEX order_lines_order_id_idx ON order_lines (order_id, id);
CREATE INDEX order_lines_vendor_id_idx ON order_lines (vendor_id, order_id);

-- The status history, append-only; sequence counts up per order from 1.
CREATE TABLE order_events (
    order_id        bigint       NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sequence        integer      NOT NULL,
    status          order_status NOT NULL,
    previous_status order_status,
    actor_id        bigint       REFERENCES users (id) ON DELETE SET NULL,
    note            text         NOT NULL DEFAULT '',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, sequence)
);

-- Checkout idempotency: one row per (customer, key), holding a fingerprint of the request and
-- the order it created.
CREATE TABLE checkout_requests (
    user_id         bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    fingerprint     bytea       NOT NULL,
    order_id        bigint      REFERENCES orders (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key)
);

-- +goose Down
DROP TABLE checkout_requests;
DROP TABLE order_events;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TYPE order_status;
DROP TABLE cart_lines;
DROP TABLE carts;
