package tracking

import (
	"context"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// Stream limits.
const (
	// subscriberBuffer is how many events a subscriber may lag before it is cut off (and
	// resumes with `after`) rather than hold publishers back.
	subscriberBuffer = 64
	// sessionCheckInterval is how often a live subscription checks that its session was not
	// revoked (sign-out, password change). Access tokens live 15 minutes and end the stream
	// anyway; checking every 2 minutes keeps 10,000 idle streams under 100 queries a second.
	sessionCheckInterval = 2 * time.Minute
	// replayPage is how many stored events one replay query reads.
	replayPage = 1000
	// heldBackRetry is how soon the feed is read again when committed events were held back
	// behind a transaction still running: nothing may publish when that one ends.
	heldBackRetry = 25 * time.Millisecond
)

// stream runs one subscription: it replays from Postgres, then forwards live events, and
// ends with an error update when the subscriber fell behind, its token expired or its session
// was revoked. sub is attached before the first replay, so nothing committed in between is lost.
type stream struct {
	viewer       auth.Viewer
	orders       Orders
	sessions     Sessions
	sessionCheck time.Duration
	out          chan *Update
	sub          *pubsub.Subscription
	// history, when set, tells the stored events that are not to be sent: those committed
	// before a subscription that wants only new ones.
	history func(order.Event) bool
}

// run drives the stream until ctx ends. replay returns the stored events after a position,
// one page of them, whether the page was full (more may follow) and whether later events
// were held back (order.Service.FeedAfter: read again soon); position gives an event's
// place in the stream; gapless says positions count up by one (an order's sequence does; the
// feed's positions have holes), so a jump means events were lost between instances and are
// re-read from Postgres.
func (s *stream) run(ctx context.Context, replay func(after int64) (events []order.Event, full, heldBack bool, err error), position func(order.Event) int64, gapless bool, last int64) {
	defer close(s.out)
	defer s.sub.Close()
	send := func(e order.Event) bool {
		if position(e) <= last {
			return true // already sent: a replay overlapping a live event
		}
		if s.history != nil && s.history(e) {
			last = position(e)
			return true
		}
		// Every event passes the viewer's redaction (order.EventFor) before it leaves.
		e, err := s.orders.EventFor(ctx, s.viewer, e)
		if err != nil {
			s.end(ctx, apperr.Wrap(err, codeResume, "Could not read the order history; subscribe again with after."))
			return false
		}
		select {
		case s.out <- &Update{Event: e}:
			last = position(e)
			return true
		case <-ctx.Done():
			return false
		}
	}
	// catchUp sends everything stored after the last event sent, page by page until a page
	// is not full, and reads again soon when some were held back.
	var again <-chan time.Time
	catchUp := func() bool {
		again = nil
		for {
			events, full, heldBack, err := replay(last)
			if err != nil {
				s.end(ctx, apperr.Wrap(err, codeResume, "Could not read the order history; subscribe again with after."))
				return false
			}
			before := last
			for _, e := range events {
				if !send(e) {
					return false
				}
			}
			if heldBack {
				again = time.After(heldBackRetry)
				return true
			}
			if !full || last == before {
				return true
			}
		}
	}
	if !catchUp() {
		return
	}
	expiry := time.NewTimer(time.Until(s.viewer.ExpiresAt))
	defer expiry.Stop()
	check := time.NewTicker(s.sessionCheck)
	defer check.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-s.sub.C:
			if !ok {
				s.end(ctx, apperr.Wrap(s.sub.Err(), codeResume, "You fell behind the live updates; subscribe again with after set to the last one received."))
				return
			}
			e := order.FromMessage(*m)
			// The feed's live messages only ring the bell: the events come from Postgres, in
			// order, once no running transaction can commit one before them.
			if m.Resync || !gapless || position(e) > last+1 {
				if !catchUp() {
					return
				}
				continue
			}
			if !send(e) {
				return
			}
		case <-again:
			if !catchUp() {
				return
			}
		case <-expiry.C:
			s.end(ctx, apperr.New(codeExpired, "The access token expired; refresh it and subscribe again with after."))
			return
		case <-check.C:
			if ok, err := s.sessions.SessionActive(ctx, s.viewer.SessionID); err == nil && !ok {
				s.end(ctx, apperr.New(codeExpired, "The session was signed out; sign in and subscribe again."))
				return
			}
		}
	}
}

// end sends the final, failing update, unless ctx ended first.
func (s *stream) end(ctx context.Context, err error) {
	select {
	case s.out <- &Update{Err: err}:
	case <-ctx.Done():
	}
}
