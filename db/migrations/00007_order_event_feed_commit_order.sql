-- +goose Up
-- Feed positions are assigned at commit time, in commit order (a deferred trigger under a
-- transaction-scoped advisory lock), so a subscriber that has seen position p has seen every
-- event before it: the identity of 00005, assigned at insert, let a slow transaction commit a
-- smaller position later. Positions already given are kept; new ones continue after them.
-- (Databases made while 00005 itself held this change already have it: the statements
-- below leave them as they are.)
ALTER TABLE order_events ALTER COLUMN feed_position DROP IDENTITY IF EXISTS;
ALTER TABLE order_events ALTER COLUMN feed_position DROP NOT NULL;
CREATE SEQUENCE IF NOT EXISTS order_event_feed_seq;
SELECT setval('order_event_feed_seq', COALESCE((SELECT max(feed_position) FROM order_events), 0) + 1, false);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION order_events_assign_feed_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(727001);
    UPDATE order_events SET feed_position = nextval('order_event_feed_seq')
    WHERE order_id = NEW.order_id AND sequence = NEW.sequence;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS order_events_feed_position ON order_events;
CREATE CONSTRAINT TRIGGER order_events_feed_position
    AFTER INSERT ON order_events
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION order_events_assign_feed_position();

-- +goose Down
DROP TRIGGER order_events_feed_position ON order_events;
DROP FUNCTION order_events_assign_feed_position();
UPDATE order_events SET feed_position = nextval('order_event_feed_seq') WHERE feed_position IS NULL;
ALTER TABLE order_events ALTER COLUMN feed_position SET NOT NULL;
ALTER TABLE order_events ALTER COLUMN feed_position ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('order_events', 'feed_position'),
              COALESCE((SELECT max(feed_position) FROM order_events), 0) + 1, false);
DROP SEQUENCE order_event_feed_seq;
