-- +goose Up
-- Feed positions without a lock that every order-changing commit waits for (00007 took one at
-- commit; under load, checkouts queued on it). An event's position is now given at insert:
-- its transaction's id times 2^16, plus the number of the event in its transaction (1, 2, ...).
-- Positions so follow transaction ids, not commits, and a reader takes only the positions
-- below its snapshot's horizon (pg_snapshot_xmin: every transaction below it has ended), so
-- nothing can later appear below a position it has read (OrderEventFeedAfter). Positions
-- already given are far below any new one; they are kept.
-- An order's events must stay in sequence order in the feed. A transaction that wrote
-- something before it locked the order could have an id below that of one that moved the
-- order meanwhile; its event is refused as a serialisation failure (40001), and the
-- transaction runs again (postgres.DB.InTx) with a new id.
-- Every instance must run the code of this migration: earlier code reads the feed without
-- the horizon.
DROP TRIGGER order_events_feed_position ON order_events;
DROP FUNCTION order_events_assign_feed_position();
DROP SEQUENCE order_event_feed_seq;

-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT max(feed_position) FROM order_events) >= pg_current_xact_id()::text::bigint << 16 THEN
        RAISE EXCEPTION 'order_events holds feed positions above the first transaction-ordered one';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION order_events_transaction_feed_position() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n integer := COALESCE(NULLIF(current_setting('shopgraph.order_events_in_transaction', true), ''), '0')::integer + 1;
BEGIN
    IF n > 65535 THEN
        RAISE EXCEPTION 'a transaction may write at most 65535 order events';
    END IF;
    PERFORM set_config('shopgraph.order_events_in_transaction', n::text, true);
    NEW.feed_position := (pg_current_xact_id()::text::bigint << 16) | n;
    IF NEW.sequence > 1 THEN -- an order's first event (a checkout's) has no predecessor
        IF NEW.feed_position < (SELECT e.feed_position FROM order_events e
                                WHERE e.order_id = NEW.order_id AND e.sequence = NEW.sequence - 1) THEN
            RAISE EXCEPTION 'order % event % would come before event % in the feed', NEW.order_id, NEW.sequence, NEW.sequence - 1
                USING ERRCODE = 'serialization_failure',
                      HINT = 'Lock the order before the transaction''s first write, or run the transaction again.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- The horizon of the calling statement's snapshot: every position below it belongs to a
-- transaction that has ended (order.FeedFrom decodes positions the same way).
CREATE FUNCTION order_events_feed_horizon() RETURNS bigint LANGUAGE sql STABLE
    RETURN pg_snapshot_xmin(pg_current_snapshot())::text::bigint << 16;

CREATE TRIGGER order_events_feed_position
    BEFORE INSERT ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_transaction_feed_position();
ALTER TABLE order_events ALTER COLUMN feed_position SET NOT NULL;

-- +goose Down
DROP FUNCTION order_events_feed_horizon();
ALTER TABLE order_events ALTER COLUMN feed_position DROP NOT NULL;
DROP TRIGGER order_events_feed_position ON order_events;
DROP FUNCTION order_events_transaction_feed_position();
CREATE SEQUENCE order_event_feed_seq;
SELECT setval('order_event_feed_seq', COALESCE((SELECT max(feed_position) FROM order_events), 0) + 1, false);

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
