package graph

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// Live tracking limits.
const (
	// subscriberBuffer is how many events a subscriber may lag before it is cut off (and
	// resumes with `after`) rather than hold publishers back.
	subscriberBuffer = 64
	// MaxSubscriptionsPerConnection bounds one WebSocket's concurrent subscriptions.
	MaxSubscriptionsPerConnection = 20
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

// Codes that end a subscription; the client resumes with `after`.
const (
	codeResume  apperr.Code = "RESUME_REQUIRED"
	codeExpired apperr.Code = "UNAUTHENTICATED"
)

// endErrors carries the error that ends a subscription to the Order field of the final
// event, the only place where gqlgen lets a stream report one.
var endErrors sync.Map // *order.Event → error

type connCounterKey struct{}

// WithSubscriptionCounter returns ctx counting the subscriptions of one connection.
func WithSubscriptionCounter(ctx context.Context) context.Context {
	return context.WithValue(ctx, connCounterKey{}, new(atomic.Int64))
}

// stream runs one subscription: it replays from Postgres, then forwards live events, and
// ends with an error event when the subscriber fell behind, its token expired or its session
// was revoked. sub is attached before the first replay, so nothing committed in between is lost.
type stream struct {
	r      *Resolver
	viewer auth.Viewer
	out    chan *order.Event
	sub    *pubsub.Subscription
	// history, when set, tells the stored events that are not to be sent: those committed
	// before a subscription that wants only new ones.
	history func(order.Event) bool
}

func (r *Resolver) startStream(ctx context.Context, v auth.Viewer, filter func(pubsub.OrderEvent) bool) (*stream, error) {
	if n, ok := ctx.Value(connCounterKey{}).(*atomic.Int64); ok {
		if n.Add(1) > MaxSubscriptionsPerConnection {
			n.Add(-1)
			return nil, apperr.Newf(apperr.BadUserInput, "At most %d subscriptions per connection.", MaxSubscriptionsPerConnection)
		}
		context.AfterFunc(ctx, func() { n.Add(-1) }) // no goroutine parked per subscription
	}
	return &stream{r: r, viewer: v, out: make(chan *order.Event, 1), sub: r.Bus.Hub.Subscribe(filter, subscriberBuffer)}, nil
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
		select {
		case s.out <- &e:
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
	check := time.NewTicker(sessionCheckInterval)
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
			e := order.FromMessage(m)
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
			if ok, err := s.r.Accounts.SessionActive(ctx, s.viewer.SessionID); err == nil && !ok {
				s.end(ctx, apperr.New(codeExpired, "The session was signed out; sign in and subscribe again."))
				return
			}
		}
	}
}

// end sends the final, failing event: every field of it fails with err, so the client sees
// the error whatever it selected. The entry is dropped a minute later, or at once when the
// event could not be sent.
func (s *stream) end(ctx context.Context, err error) {
	final := &order.Event{}
	endErrors.Store(final, err)
	// If the client selected only __typename, nothing takes the error: drop it later.
	time.AfterFunc(time.Minute, func() { endErrors.Delete(final) })
	select {
	case s.out <- final:
	case <-ctx.Done():
		endErrors.Delete(final)
	}
}

// endError is the error a final event carries, or nil for a real event. Every selected field
// returns it; dedupeErrors then leaves the client one.
func endError(e *order.Event) error {
	if err, ok := endErrors.Load(e); ok {
		return err.(error)
	}
	return nil
}

// dedupeErrors keeps one of several identical errors of a response (same message and code),
// as the fields of a failing subscription's final event produce.
func dedupeErrors(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Errors) < 2 {
		return resp
	}
	// Only a subscription's final event repeats one error on several fields; elsewhere equal
	// errors on different paths (one per forbidden field) are all meaningful.
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
		return resp
	}
	seen := map[string]bool{}
	kept := resp.Errors[:0]
	for _, e := range resp.Errors {
		key := e.Message + "\x00" + fmt.Sprint(e.Extensions["code"])
		if !seen[key] {
			seen[key] = true
			kept = append(kept, e)
		}
	}
	resp.Errors = kept
	return resp
}

func bySequence(e order.Event) int64 { return int64(e.Sequence) }
func byPosition(e order.Event) int64 { return e.FeedPosition }
