-- +goose Up
-- A feed position across all orders, for orderEvents(after:) and for resuming it.
ALTER TABLE order_events ADD COLUMN feed_position bigint NOT NULL GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX order_events_feed_position_key ON order_events (feed_position);

-- +goose Down
ALTER TABLE order_events DROP COLUMN feed_position;
