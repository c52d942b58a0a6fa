-- +goose Up
-- Saved payment methods (internal/payment: customer.go, methods.go). The cards themselves live
-- at the provider (Stripe keeps them, we never see a card number); we keep only which provider
-- customer is an account's, and which saved method a checkout chose.

-- One provider customer per account, created when first needed (the first SetupIntent or
-- checkout with a saved method). The provider call comes first, with an idempotency key
-- derived from the user id, then this insert (ON CONFLICT DO NOTHING): concurrent first uses
-- get the same customer from the provider and the first row stands.
CREATE TABLE payment_customers (
    user_id     bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    provider    text        NOT NULL,
    customer_id text        NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 255),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, customer_id)
);

-- The saved method an order is paid with, written before the provider is asked to charge it,
-- so a retry of the order's intent (a checkout replayed, orderPaymentRetry after an outage)
-- sends the provider the same parameters under the order's idempotency key.
CREATE TABLE order_payment_methods (
    order_id          bigint      PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    customer_id       text        NOT NULL,
    payment_method_id text        NOT NULL CHECK (length(payment_method_id) BETWEEN 1 AND 255),
    created_at        timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE order_payment_methods;
DROP TABLE payment_customers;
