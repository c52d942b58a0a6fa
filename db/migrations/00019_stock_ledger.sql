-- +goose Up
-- The stock ledger (issue 16, inventory for vendors): every change of a variant's stock is one
-- row, written by the statement that changes the stock (checkout's order statement for sales,
-- the release for cancellations, the adjustment, the import's apply, the bulk set), so the
-- ledger commits or rolls back with the stock. quantity is the stock the change left.
CREATE TYPE stock_movement_kind AS ENUM ('SALE', 'CANCELLATION', 'MANUAL_ADJUSTMENT', 'IMPORT', 'BULK_SET');

CREATE TABLE stock_movements (
    id         bigint              GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- No foreign key: a movement outlives nothing it describes (variants are soft-deleted),
    -- and the hottest insert (checkout's) pays no key check.
    variant_id bigint              NOT NULL,
    kind       stock_movement_kind NOT NULL,
    delta      integer             NOT NULL CHECK (delta <> 0),
    quantity   integer             NOT NULL CHECK (quantity >= 0),
    -- Who moved it: the customer for a sale, the user for an adjustment, import or bulk set,
    -- the one who cancelled; NULL for the system (an expired order).
    actor_id   bigint,
    order_id   bigint,
    note       text                NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    created_at timestamptz         NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_variant_idx ON stock_movements (variant_id, id DESC);

-- The low-stock threshold: the variant's own, else its vendor's default, else the platform's
-- (catalog.LowStockThreshold, 5). NULL means "fall back".
ALTER TABLE product_variants ADD COLUMN low_stock_threshold integer
    CHECK (low_stock_threshold BETWEEN 0 AND 1000000000);
ALTER TABLE vendors ADD COLUMN low_stock_threshold integer
    CHECK (low_stock_threshold BETWEEN 0 AND 1000000000);

-- low_stock_threshold_of is a variant's effective threshold from its own column and its
-- product's vendor; every statement that lists low stock or detects a crossing uses it.
-- +goose StatementBegin
CREATE FUNCTION low_stock_threshold_of(variant_threshold integer, vendor bigint) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(variant_threshold, (SELECT v.low_stock_threshold FROM vendors v WHERE v.id = vendor), 5)
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION low_stock_threshold_of(integer, bigint);
ALTER TABLE vendors DROP COLUMN low_stock_threshold;
ALTER TABLE product_variants DROP COLUMN low_stock_threshold;
DROP TABLE stock_movements;
DROP TYPE stock_movement_kind;
