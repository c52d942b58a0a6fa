// Package tracking is live order tracking: the streams behind the orderStatusChanged and
// orderEvents subscriptions. A stream first replays the stored events from PostgreSQL (the
// truth), then forwards newer ones as the in-process hub rings (pubsub: at-most-once), skipping
// what it already sent and re-reading PostgreSQL when it sees a gap. It ends with an Update
// carrying an error when the subscriber fell behind, its token expired or its session was
// revoked; the client resumes with `after`.
//
// It is its own package rather than part of order because it joins three concerns that order
// has no business with: the hub subscription, session checks (account), and one WebSocket's
// share of subscriptions. order keeps the events, their visibility and the feed's positions.
package tracking

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// Update is one message of a stream: an order event or, last, the error that ended the
// stream (Err set, the event empty). GraphQL's OrderStatusEvent is bound to it, so that every
// field of the final message reports Err whatever the client selected.
type Update struct {
	order.Event
	// Err ends the stream: RESUME_REQUIRED or UNAUTHENTICATED (an *apperr.Error).
	Err error
}

// Orders is what a stream reads from the order domain (*order.Service).
type Orders interface {
	Get(ctx context.Context, v auth.Viewer, id int64) (order.Order, error)
	EventsAfter(ctx context.Context, orderID int64, after, limit int) ([]order.Event, error)
	FeedAfter(ctx context.Context, v auth.Viewer, after int64, limit int) (events []order.Event, heldBack bool, err error)
	FeedStart(ctx context.Context) (order.FeedFrom, error)
	FeedFilter(v auth.Viewer) (func(pubsub.OrderEvent) bool, error)
	// EventFor is an event as v may see it (another vendor's fulfilment redacted).
	EventFor(ctx context.Context, v auth.Viewer, e order.Event) (order.Event, error)
}

// Sessions tells whether a viewer's session is still valid (*account.Service).
type Sessions interface {
	SessionActive(ctx context.Context, id uuid.UUID) (bool, error)
}

// Service starts streams.
type Service struct {
	hub      *pubsub.Hub
	orders   Orders
	sessions Sessions
	// sessionCheck is how often a stream checks its session (sessionCheckInterval; tests
	// shorten it).
	sessionCheck time.Duration
}

// NewService returns a Service whose streams are rung by hub.
func NewService(hub *pubsub.Hub, orders Orders, sessions Sessions) *Service {
	return &Service{hub: hub, orders: orders, sessions: sessions, sessionCheck: sessionCheckInterval}
}

// OrderStatus streams one order's events to v until ctx ends: without after, its current
// status (the last stored event) first; with after, every event after that sequence.
// Errors: NOT_FOUND (no such order, or not v's to see), BAD_USER_INPUT (too many
// subscriptions on this connection).
func (s *Service) OrderStatus(ctx context.Context, v auth.Viewer, orderID int64, after *int) (<-chan *Update, error) {
	if _, err := s.orders.Get(ctx, v, orderID); err != nil {
		return nil, err
	}
	st, err := s.start(ctx, v, func(e pubsub.OrderEvent) bool { return e.OrderID == orderID })
	if err != nil {
		return nil, err
	}
	// Without `after`, the stream starts with the current status: the last stored event.
	start := int64(-1)
	if after != nil {
		start = int64(*after)
	}
	st.run(ctx, func(last int64) ([]order.Event, bool, bool, error) {
		events, err := s.orders.EventsAfter(ctx, orderID, int(max(last, 0)), replayPage)
		full := len(events) == replayPage
		if err == nil && last < 0 && len(events) > 0 {
			events = events[len(events)-1:]
		}
		return events, full, false, err
	}, bySequence, true, start)
	return st.out, nil
}

// Feed streams the events of every order v may follow (order.Service.FeedFilter) until ctx
// ends: without after, only those committed from now on; with after, every event after that
// feed position. Errors: FORBIDDEN (customers), BAD_USER_INPUT (too many subscriptions on
// this connection).
func (s *Service) Feed(ctx context.Context, v auth.Viewer, after *int64) (<-chan *Update, error) {
	follows, err := s.orders.FeedFilter(v)
	if err != nil {
		return nil, err
	}
	// Without `after`, only events from now on: those of the transactions not committed yet
	// (an event committed between this and the stream's attachment is read by its replay).
	var (
		start   int64
		history func(order.Event) bool
	)
	if after != nil {
		start = *after
	} else {
		from, err := s.orders.FeedStart(ctx)
		if err != nil {
			return nil, err
		}
		start, history = from.After(), from.IsHistory
	}
	st, err := s.start(ctx, v, follows)
	if err != nil {
		return nil, err
	}
	st.history = history
	st.run(ctx, func(last int64) ([]order.Event, bool, bool, error) {
		events, heldBack, err := s.orders.FeedAfter(ctx, v, last, replayPage)
		return events, len(events) == replayPage, heldBack, err
	}, byPosition, false, start)
	return st.out, nil
}

// start admits one more subscription on ctx's connection and attaches it to the hub, before
// the first replay, so that nothing committed in between is lost.
func (s *Service) start(ctx context.Context, v auth.Viewer, filter func(pubsub.OrderEvent) bool) (*stream, error) {
	if err := admit(ctx); err != nil {
		return nil, err
	}
	return &stream{
		viewer: v, orders: s.orders, sessions: s.sessions, sessionCheck: s.sessionCheck,
		out: make(chan *Update, 1), sub: s.hub.Subscribe(filter, subscriberBuffer),
	}, nil
}

// Codes that end a stream; the client resumes with `after`.
const (
	codeResume  apperr.Code = "RESUME_REQUIRED"
	codeExpired apperr.Code = "UNAUTHENTICATED"
)

func bySequence(e order.Event) int64 { return int64(e.Sequence) }
func byPosition(e order.Event) int64 { return e.FeedPosition }

type announceKey struct{}

// WithAnnounce returns ctx under which a stream, once started, calls take for a function to
// call after each update it puts on its channel and after closing it. A reader that is told
// so (the GraphQL WebSocket transport) needs no goroutine waiting on the channel between
// updates. take is called only when the stream starts, never for a refused subscription.
func WithAnnounce(ctx context.Context, take func() (announce func())) context.Context {
	return context.WithValue(ctx, announceKey{}, take)
}
