package order

import (
	"context"
	"sync"
	"time"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// AtEvent is Get for the order of one of its events, as each follower's subscription resolves
// `OrderStatusEvent.order`: the row is read once for all the followers of the event on this
// instance, then checked against v as Get checks it. A status change followed by 1,000
// subscribers was 1,000 reads of one row within a few milliseconds (bench/subs.sh, S2).
// Sharing it is as fresh as reading it apart: every read comes after the event's commit.
func (s *Service) AtEvent(ctx context.Context, v auth.Viewer, e Event) (Order, error) {
	o, err := s.eventReads.read(ctx, eventKey{orderID: e.OrderID, sequence: e.Sequence}, func(ctx context.Context) (Order, error) {
		row, err := s.db.OrderGetByID(ctx, e.OrderID)
		if err != nil {
			return Order{}, postgres.MapError(err, "order")
		}
		return orderFromRow(row), nil
	})
	if err != nil {
		return Order{}, err
	}
	if err := s.checkView(ctx, v, o); err != nil {
		return Order{}, err
	}
	return o, nil
}

// eventReadTTL is how long an event's read serves its followers: a fan-out delivers within
// it; a follower resuming later reads afresh.
const eventReadTTL = 2 * time.Second

// maxEventReads bounds the reads kept (one per recent event with followers on this instance).
const maxEventReads = 4096

type eventKey struct {
	orderID  int64
	sequence int
}

// eventReads is AtEvent's shared reads. The zero value is ready.
type eventReads struct {
	mu sync.Mutex
	m  map[eventKey]*eventRead
}

type eventRead struct {
	done  chan struct{} // closed once o and err are set
	o     Order
	err   error
	until time.Time // zero while the read runs
}

func (r *eventReads) read(ctx context.Context, key eventKey, load func(context.Context) (Order, error)) (Order, error) {
	now := time.Now()
	r.mu.Lock()
	e, ok := r.m[key]
	if !ok || (!e.until.IsZero() && !now.Before(e.until)) {
		e = r.start(key, now)
		r.mu.Unlock()
		// The first follower reads for all: its leaving must not fail the others' read.
		e.o, e.err = load(context.WithoutCancel(ctx))
		r.mu.Lock()
		e.until = time.Now().Add(eventReadTTL)
		if e.err != nil {
			delete(r.m, key) // the next follower tries again
		}
		r.mu.Unlock()
		close(e.done)
		return e.o, e.err
	}
	r.mu.Unlock()
	select {
	case <-e.done:
		return e.o, e.err
	case <-ctx.Done():
		return Order{}, ctx.Err()
	}
}

// start records a read of key about to run; r.mu is held.
func (r *eventReads) start(key eventKey, now time.Time) *eventRead {
	if r.m == nil {
		r.m = map[eventKey]*eventRead{}
	}
	if len(r.m) >= maxEventReads {
		for k, old := range r.m {
			if !old.until.IsZero() && !now.Before(old.until) {
				delete(r.m, k)
			}
		}
		if len(r.m) >= maxEventReads {
			clear(r.m) // running reads keep their followers; only sharing is lost
		}
	}
	e := &eventRead{done: make(chan struct{})}
	r.m[key] = e
	return e
}
