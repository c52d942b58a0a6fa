-- +goose Up
-- A feed position across all orders, for orderEvents(after:) and for resuming it. Positions
-- are assigned at commit time, in commit order (a deferred trigger under a transaction-scoped
-- advisory lock), so a subscriber that has seen position p has seen every event before it:
-- an identity assigned at insert would let a slow transaction commit a smaller position later.
CREATE SEQUENCE order_event_feed_seq;
ALTER TABLE order_events ADD COLUMN feed_position bigint;
CREATE UNIQUE INDEX order_events_feed_position_key ON order_events (feed_position);

-- +goose StatementBegin
CREATE FUNCTION order_events_assign_feed_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(727001);
    UPDATE order_events SET feed_position = nextval('order_event_feed_seq')
    WHERE order_id = NEW.order_id AND sequence = NEW.sequence;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER order_events_feed_position
    AFTER INSERT ON order_events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION order_events_assign_feed_position();

-- +goose Down
DROP TRIGGER order_events_feed_position ON order_events;
DROP FUNCTION order_events_assign_feed_position();
ALTER TABLE order_events DROP COLUMN feed_position;
DROP SEQUENCE order_event_feed_seq;
