-- +goose Up
-- payment_refunded is the one statement of the rule for refunds the provider reported
-- (provider_refunded: made by us or outside shopgraph, e.g. in the Stripe dashboard): they
-- are a floor under a payment's refunded total, capped at what was received, since nothing
-- more can have gone back. refunded is the total before the floor applies (amount_refunded,
-- or the sum of our confirmed refunds). Every statement that sets or reads a refunded total
-- goes through it, so that they cannot disagree.
-- +goose StatementBegin
CREATE FUNCTION payment_refunded(refunded bigint, provider_refunded bigint, amount_received bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT GREATEST(refunded, LEAST(provider_refunded, amount_received)) $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION payment_refunded(bigint, bigint, bigint);
