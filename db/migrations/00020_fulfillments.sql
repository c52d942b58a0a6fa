-- +goose Up
-- Fulfilments: a vendor (or the platform, by an admin) ships some of an order's lines with a
-- carrier and a tracking number. The order moves to SHIPPED when every line is fulfilled and
-- to DELIVERED when every fulfilment is delivered, through internal/order's state machine.
CREATE TYPE fulfillment_status AS ENUM ('SHIPPED', 'DELIVERED');

CREATE TABLE fulfillments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id        bigint             NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- The vendor whose lines it ships; NULL for the platform's own lines (admins).
    vendor_id       bigint             REFERENCES vendors (id) ON DELETE RESTRICT,
    carrier         text               NOT NULL DEFAULT '' CHECK (length(carrier) <= 100),
    tracking_number text               NOT NULL CHECK (length(tracking_number) BETWEEN 1 AND 100),
    tracking_url    text               CHECK (length(tracking_url) <= 2048),
    status          fulfillment_status NOT NULL DEFAULT 'SHIPPED',
    created_by      bigint             REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz        NOT NULL DEFAULT now(),
    updated_at      timestamptz        NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL))
);
CREATE INDEX fulfillments_order_idx ON fulfillments (order_id, id);
CREATE INDEX fulfillments_vendor_idx ON fulfillments (vendor_id, order_id);

-- What a fulfilment ships: units of order lines. The sum over an order line never exceeds its
-- quantity (internal/order checks it with the order row locked).
CREATE TABLE fulfillment_lines (
    fulfillment_id bigint  NOT NULL REFERENCES fulfillments (id) ON DELETE CASCADE,
    order_line_id  bigint  NOT NULL REFERENCES order_lines (id) ON DELETE CASCADE,
    quantity       integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (fulfillment_id, order_line_id)
);
CREATE INDEX fulfillment_lines_order_line_idx ON fulfillment_lines (order_line_id);

-- Every fulfilment change is an order event, so live tracking carries it: kind says which,
-- fulfillment_id which fulfilment. Status changes keep kind STATUS_CHANGED (every existing
-- row, and checkout's insert, which names its columns).
ALTER TABLE order_events
    ADD COLUMN kind text NOT NULL DEFAULT 'STATUS_CHANGED'
        CHECK (kind IN ('STATUS_CHANGED', 'FULFILLMENT_CREATED', 'FULFILLMENT_TRACKING_UPDATED', 'FULFILLMENT_DELIVERED')),
    ADD COLUMN fulfillment_id bigint REFERENCES fulfillments (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE order_events DROP COLUMN fulfillment_id, DROP COLUMN kind;
DROP TABLE fulfillment_lines;
DROP TABLE fulfillments;
DROP TYPE fulfillment_status;
