-- +goose Up
-- What the provider reports refunded (charge.refunded's cumulative amount_refunded), kept as
-- reported. Stripe does not promise the order of its events: a charge.refunded may arrive
-- before payment_intent.succeeded, while amount_received is still 0 and nothing can be
-- refunded yet. The report is kept here and applied to amount_refunded (and the order) when
-- the payment succeeds, so that both orders of arrival end in the same state.
ALTER TABLE payments ADD COLUMN provider_refunded bigint NOT NULL DEFAULT 0 CHECK (provider_refunded >= 0);

-- +goose Down
ALTER TABLE payments DROP COLUMN provider_refunded;
