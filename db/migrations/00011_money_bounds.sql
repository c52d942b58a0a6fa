-- +goose Up
-- The bounds on money (internal/money: MaxPrice 10^10, MaxQuantity 1,000, MaxAmount 10^15
-- minor units), held by the database too, so that no row beyond them can exist whatever
-- writes it: every total computed from these rows then stays far from bigint's limit. The
-- service checks the same figures first and answers with a clear error; these are the
-- backstop. A database that already holds a row beyond a bound refuses this migration with
-- the constraint's name: find the rows, e.g.
-- SELECT id, price_amount FROM product_variants WHERE price_amount > 10000000000;
-- and correct them before migrating again.
ALTER TABLE product_variants
    ADD CONSTRAINT product_variants_price_amount_max CHECK (price_amount <= 10000000000);
ALTER TABLE orders
    ADD CONSTRAINT orders_total_amount_max CHECK (total_amount <= 1000000000000000);
ALTER TABLE order_lines
    ADD CONSTRAINT order_lines_unit_price_max CHECK (unit_price <= 10000000000),
    ADD CONSTRAINT order_lines_quantity_max CHECK (quantity <= 1000),
    ADD CONSTRAINT order_lines_line_total_max CHECK (line_total <= 10000000000000);
-- What we ask the provider for: an order's total. amount_received is the provider's word and
-- stays unchecked, so that a webhook reporting an odd amount is still recorded (as
-- AMOUNT_MISMATCH) rather than refused; refunds never exceed it.
ALTER TABLE payments
    ADD CONSTRAINT payments_amount_max CHECK (amount <= 1000000000000000);

-- +goose Down
ALTER TABLE payments DROP CONSTRAINT payments_amount_max;
ALTER TABLE order_lines
    DROP CONSTRAINT order_lines_line_total_max,
    DROP CONSTRAINT order_lines_quantity_max,
    DROP CONSTRAINT order_lines_unit_price_max;
ALTER TABLE orders DROP CONSTRAINT orders_total_amount_max;
ALTER TABLE product_variants DROP CONSTRAINT product_variants_price_amount_max;
