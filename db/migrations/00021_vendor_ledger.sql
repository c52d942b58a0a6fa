-- +goose Up
-- Money per vendor (issue 16). Each order line keeps the commission rate its vendor had at
-- checkout; the vendor ledger records what each vendor earned when an order was paid and what
-- refunds took back. It is the ledger payouts (Stripe Connect) will read; nothing is
-- transferred yet.

-- The vendor's commission in basis points at checkout; NULL on platform lines (no vendor).
ALTER TABLE order_lines ADD COLUMN commission_bps integer CHECK (commission_bps BETWEEN 0 AND 10000);
-- Lines written before this migration take their vendor's current rate.
UPDATE order_lines l SET commission_bps = v.commission_bps FROM vendors v WHERE v.id = l.vendor_id;

CREATE TYPE vendor_ledger_kind AS ENUM ('EARNING', 'REVERSAL');

-- Append-only (nothing updates or deletes a row; the trigger below refuses it). An EARNING
-- is one paid order line (written in the transaction that moves the order to PAID); a
-- REVERSAL is one vendor's part of one refund step of an order: the step is identified by the
-- order's refunded total after it (refunded_through), whether the refund was ours (refund_id
-- set) or reported by the provider (charge.refunded). The unique indexes make each written
-- exactly once. Amounts are minor units of currency, all >= 0; net = gross - commission.
CREATE TABLE vendor_ledger_entries (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vendor_id         bigint             NOT NULL REFERENCES vendors (id) ON DELETE RESTRICT,
    order_id          bigint             NOT NULL REFERENCES orders (id) ON DELETE RESTRICT,
    order_line_id     bigint             REFERENCES order_lines (id) ON DELETE RESTRICT,
    refund_id         bigint             REFERENCES refunds (id) ON DELETE RESTRICT,
    refunded_through  bigint             CHECK (refunded_through > 0),
    kind              vendor_ledger_kind NOT NULL,
    currency          text               NOT NULL,
    gross_amount      bigint             NOT NULL CHECK (gross_amount >= 0),
    commission_amount bigint             NOT NULL CHECK (commission_amount >= 0),
    net_amount        bigint             NOT NULL CHECK (net_amount >= 0),
    commission_bps    integer            CHECK (commission_bps BETWEEN 0 AND 10000),
    created_at        timestamptz        NOT NULL DEFAULT now(),
    CHECK (net_amount = gross_amount - commission_amount),
    CHECK ((kind = 'EARNING' AND order_line_id IS NOT NULL AND refunded_through IS NULL)
        OR (kind = 'REVERSAL' AND order_line_id IS NULL AND refunded_through IS NOT NULL))
);
CREATE UNIQUE INDEX vendor_ledger_earning_key ON vendor_ledger_entries (order_line_id) WHERE kind = 'EARNING';
CREATE UNIQUE INDEX vendor_ledger_reversal_key ON vendor_ledger_entries (order_id, refunded_through, vendor_id) WHERE kind = 'REVERSAL';
-- A vendor's entries, newest first (Vendor.ledgerEntries), and its balance.
CREATE INDEX vendor_ledger_vendor_idx ON vendor_ledger_entries (vendor_id, id DESC);
CREATE INDEX vendor_ledger_order_idx ON vendor_ledger_entries (order_id);

-- +goose StatementBegin
CREATE FUNCTION vendor_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'vendor_ledger_entries is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER vendor_ledger_append_only BEFORE UPDATE OR DELETE ON vendor_ledger_entries
    FOR EACH ROW EXECUTE FUNCTION vendor_ledger_append_only();

-- +goose Down
DROP TABLE vendor_ledger_entries;
DROP FUNCTION vendor_ledger_append_only();
DROP TYPE vendor_ledger_kind;
ALTER TABLE order_lines DROP COLUMN commission_bps;
