-- +goose Up
CREATE TYPE payment_status AS ENUM
    ('REQUIRES_PAYMENT', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELED', 'AMOUNT_MISMATCH');

-- One payment per order: the provider's intent and what happened to it.
CREATE TABLE payments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint         NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    provider        text           NOT NULL,
    intent_id       text           NOT NULL,
    client_secret   text           NOT NULL DEFAULT '',
    status          payment_status NOT NULL DEFAULT 'REQUIRES_PAYMENT',
    amount          bigint         NOT NULL CHECK (amount >= 0),
    currency        text           NOT NULL,
    amount_received bigint         NOT NULL DEFAULT 0,
    -- Refunds requested (pending or done): never more than was received.
    amount_refunded bigint         NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
    last_error      text,
    created_at      timestamptz    NOT NULL DEFAULT now(),
    updated_at      timestamptz    NOT NULL DEFAULT now(),
    CHECK (amount_refunded <= GREATEST(amount_received, amount))
);
CREATE UNIQUE INDEX payments_order_id_key ON payments (order_id);
CREATE UNIQUE INDEX payments_intent_key ON payments (provider, intent_id);

CREATE TABLE refunds (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id         bigint      NOT NULL REFERENCES payments (id) ON DELETE RESTRICT,
    amount             bigint      NOT NULL CHECK (amount > 0),
    -- Derived from our ids, so a retried refund never refunds twice at the provider.
    idempotency_key    text        NOT NULL,
    provider_refund_id text,
    status             text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    reason             text        NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX refunds_idempotency_key ON refunds (idempotency_key);
CREATE INDEX refunds_payment_id_idx ON refunds (payment_id);

-- Provider events processed, recorded in the transaction of their effect: exactly once.
CREATE TABLE payment_events (
    provider    text        NOT NULL,
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    outcome     text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- +goose Down
DROP TABLE payment_events;
DROP TABLE refunds;
DROP TABLE payments;
DROP TYPE payment_status;
