-- +goose Up
-- The provider an order is to be paid with, when it is not the default (Stripe): written in
-- the checkout's transaction, so that a replayed checkout or orderPaymentRetry after an outage
-- asks the same provider, under the same idempotency key, for the order's payment.
CREATE TABLE order_payment_providers (
    order_id   bigint      PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    provider   text        NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- PayPal refunds a capture, not an order: the capture that took the payment, known from the
-- capture's answer or its PAYMENT.CAPTURE.COMPLETED event; PayPal's refund events name it.
ALTER TABLE payments ADD COLUMN capture_id text CHECK (length(capture_id) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX payments_capture_key ON payments (provider, capture_id) WHERE capture_id IS NOT NULL;

-- +goose Down
DROP INDEX payments_capture_key;
ALTER TABLE payments DROP COLUMN capture_id;
DROP TABLE order_payment_providers;
