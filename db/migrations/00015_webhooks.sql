-- +goose Up
-- Outbound webhooks (internal/webhook). A subscription sends the events of its types to one URL,
-- signed with its secret; a vendor's subscription (vendor_id set) gets only the events about its
-- own products and order lines.
CREATE TABLE webhook_subscriptions (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url         text        NOT NULL,
    secret      text        NOT NULL,
    event_types text[]      NOT NULL,
    active      boolean     NOT NULL DEFAULT true,
    description text        NOT NULL DEFAULT '',
    -- vendor_id scopes the subscription to one vendor's products and lines; NULL: everything
    -- (an admin's).
    vendor_id   bigint      REFERENCES users (id) ON DELETE CASCADE,
    created_by  bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_vendor ON webhook_subscriptions (vendor_id, id);

-- The per-resource sequence of events: the row lock, held to the commit, numbers a resource's
-- events in commit order.
CREATE TABLE webhook_sequences (
    resource_type text   NOT NULL,
    resource_id   bigint NOT NULL,
    last_sequence bigint NOT NULL,
    PRIMARY KEY (resource_type, resource_id)
);

-- One row per (event, subscription): the exact body sent (the same on every attempt and on a
-- manual redelivery), and where its delivery stands. Written in the transaction of the change.
CREATE TABLE webhook_deliveries (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id    bigint      NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    event_id           text        NOT NULL,
    event_type         text        NOT NULL,
    resource_type      text        NOT NULL,
    resource_id        bigint      NOT NULL,
    sequence           bigint      NOT NULL,
    body               bytea       NOT NULL,
    status             text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
    attempts           integer     NOT NULL DEFAULT 0,
    last_response_code integer,
    last_error         text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_attempt_at    timestamptz,
    completed_at       timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, id DESC);

-- Every attempt of a delivery, as the delivery log shows it.
CREATE TABLE webhook_delivery_attempts (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id   bigint      NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    response_code integer,
    error         text,
    duration_ms   integer     NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_delivery_attempts_delivery ON webhook_delivery_attempts (delivery_id, id);

-- +goose Down
DROP TABLE webhook_delivery_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_sequences;
DROP TABLE webhook_subscriptions;
