package tracking

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// fakeOrders stores the events of order 1 (and the feed, by position) in memory.
type fakeOrders struct {
	mu     sync.Mutex
	events []order.Event // by sequence and by feed position: tests keep both in step
	// heldBack, while > 0, makes FeedAfter answer "held back" that many times, without events.
	heldBack int
	// replayErr fails every replay.
	replayErr error
	replays   int
}

func (f *fakeOrders) store(seqs ...int) []order.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var added []order.Event
	for _, s := range seqs {
		e := order.Event{OrderID: 1, Sequence: s, FeedPosition: int64(s) * 10, Status: order.Paid, At: time.Now()}
		f.events = append(f.events, e)
		added = append(added, e)
	}
	return added
}

func (f *fakeOrders) Get(_ context.Context, _ auth.Viewer, id int64) (order.Order, error) {
	if id != 1 {
		return order.Order{}, apperr.New(apperr.NotFound, "order not found")
	}
	return order.Order{ID: 1}, nil
}

func (f *fakeOrders) EventsAfter(_ context.Context, orderID int64, after, limit int) ([]order.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replays++
	if f.replayErr != nil {
		return nil, f.replayErr
	}
	var out []order.Event
	for _, e := range f.events {
		if e.OrderID == orderID && e.Sequence > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeOrders) FeedAfter(_ context.Context, v auth.Viewer, after int64, limit int) ([]order.Event, bool, error) {
	if _, err := order.FeedScope(v); err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replays++
	if f.heldBack > 0 {
		f.heldBack--
		return nil, true, nil
	}
	var out []order.Event
	for _, e := range f.events {
		if e.FeedPosition > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, false, nil
}

func (f *fakeOrders) EventFor(_ context.Context, _ auth.Viewer, e order.Event) (order.Event, error) {
	return e, nil
}

func (f *fakeOrders) FeedStart(context.Context) (order.FeedFrom, error) { return order.FeedFrom{}, nil }

func (f *fakeOrders) FeedFilter(v auth.Viewer) (func(pubsub.OrderEvent) bool, error) {
	if _, err := order.FeedScope(v); err != nil {
		return nil, err
	}
	return func(e pubsub.OrderEvent) bool { return order.CanFollow(v, e) }, nil
}

type fakeSessions struct{ active bool }

func (s fakeSessions) SessionActive(context.Context, uuid.UUID) (bool, error) { return s.active, nil }

var (
	customer = auth.Viewer{UserID: 7, Role: auth.RoleCustomer, SessionID: uuid.New(), ExpiresAt: time.Now().Add(time.Hour)}
	admin    = auth.Viewer{UserID: 1, Role: auth.RoleAdmin, SessionID: uuid.New(), ExpiresAt: time.Now().Add(time.Hour)}
)

func newService(orders *fakeOrders) (*Service, *pubsub.Hub) {
	hub := pubsub.NewHub()
	return NewService(hub, orders, fakeSessions{active: true}), hub
}

// message is the hub's doorbell for a stored event.
func message(e order.Event) pubsub.OrderEvent {
	return pubsub.OrderEvent{OrderID: e.OrderID, Sequence: e.Sequence, FeedPosition: e.FeedPosition, Status: string(e.Status), At: e.At}
}

// next is the stream's next update, failing after a second.
func next(t *testing.T, c <-chan *Update) *Update {
	t.Helper()
	select {
	case u, ok := <-c:
		require.True(t, ok, "the stream ended")
		return u
	case <-time.After(time.Second):
		t.Fatal("no update within a second")
		return nil
	}
}

func sequences(t *testing.T, c <-chan *Update, n int) []int {
	t.Helper()
	var out []int
	for range n {
		u := next(t, c)
		require.NoError(t, u.Err)
		out = append(out, u.Sequence)
	}
	return out
}

// quiet tells that nothing more arrives for a moment.
func quiet(t *testing.T, c <-chan *Update) {
	t.Helper()
	select {
	case u := <-c:
		t.Fatalf("unexpected update %+v", u)
	case <-time.After(50 * time.Millisecond):
	}
}

// ended tells that the stream ended with an error of code, then closed.
func ended(t *testing.T, c <-chan *Update, code apperr.Code) *Update {
	t.Helper()
	u := next(t, c)
	require.Error(t, u.Err)
	require.Equal(t, code, apperr.CodeOf(u.Err), "%v", u.Err)
	require.Zero(t, u.Event, "the final update carries no event")
	select {
	case _, ok := <-c:
		require.False(t, ok, "nothing follows the final update")
	case <-time.After(time.Second):
		t.Fatal("the stream did not close after its final update")
	}
	return u
}

func TestOrderStatusStartsWithCurrentStatusThenStreams(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{}
	orders.store(1, 2, 3)
	s, hub := newService(orders)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c, err := s.OrderStatus(ctx, customer, 1, nil)
	require.NoError(t, err)
	require.Equal(t, []int{3}, sequences(t, c, 1), "without after, the last stored event first")

	hub.Deliver(message(orders.store(4)[0]))
	require.Equal(t, []int{4}, sequences(t, c, 1))
	hub.Deliver(message(orders.events[3]))
	quiet(t, c) // already sent

	// Event 5 was lost between instances: 6 rings, 5 and 6 are read from the store.
	added := orders.store(5, 6)
	hub.Deliver(message(added[1]))
	require.Equal(t, []int{5, 6}, sequences(t, c, 2))

	// A Redis reconnect asks every stream to re-read.
	orders.store(7)
	hub.Deliver(pubsub.OrderEvent{Resync: true})
	require.Equal(t, []int{7}, sequences(t, c, 1))

	// Another order's events do not reach this stream.
	hub.Deliver(pubsub.OrderEvent{OrderID: 2, Sequence: 8})
	quiet(t, c)

	cancel()
	require.Eventually(t, func() bool { _, ok := <-c; return !ok }, time.Second, time.Millisecond)
	require.Eventually(t, func() bool { return hub.Subscribers() == 0 }, time.Second, time.Millisecond,
		"an ended stream leaves the hub")
}

// TestIdleStreamsHoldNoGoroutine: a server holds tens of thousands of idle streams, and each
// parked goroutine would cost its stack. Not parallel: it counts the process's goroutines.
func TestIdleStreamsHoldNoGoroutine(t *testing.T) {
	orders := &fakeOrders{}
	orders.store(1)
	s, hub := newService(orders)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	before := runtime.NumGoroutine()
	const n = 200
	streams := make([]<-chan *Update, n)
	for i := range streams {
		c, err := s.OrderStatus(ctx, customer, 1, nil)
		require.NoError(t, err)
		require.Equal(t, []int{1}, sequences(t, c, 1))
		streams[i] = c
	}
	require.Eventually(t, func() bool { return runtime.NumGoroutine() < before+n/10 }, time.Second, 5*time.Millisecond,
		"%d idle streams hold %d goroutines", n, runtime.NumGoroutine()-before)

	// Idle, not gone: the next event reaches every stream, and each stream still ends with ctx.
	hub.Deliver(message(orders.store(2)[0]))
	for _, c := range streams {
		require.Equal(t, []int{2}, sequences(t, c, 1))
	}
	cancel()
	for _, c := range streams {
		require.Eventually(t, func() bool { _, ok := <-c; return !ok }, time.Second, time.Millisecond)
	}
	require.Eventually(t, func() bool { return hub.Subscribers() == 0 }, time.Second, time.Millisecond)
}

func TestOrderStatusAfterReplaysEveryLaterEvent(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{}
	orders.store(1, 2, 3)
	s, _ := newService(orders)
	after := 1
	c, err := s.OrderStatus(t.Context(), customer, 1, &after)
	require.NoError(t, err)
	require.Equal(t, []int{2, 3}, sequences(t, c, 2))
	quiet(t, c)
}

func TestOrderStatusReplaysPageByPage(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{}
	seqs := make([]int, replayPage+5)
	for i := range seqs {
		seqs[i] = i + 1
	}
	orders.store(seqs...)
	s, _ := newService(orders)
	after := 0
	c, err := s.OrderStatus(t.Context(), customer, 1, &after)
	require.NoError(t, err)
	got := sequences(t, c, len(seqs))
	require.Equal(t, seqs, got)
	require.Equal(t, 2, orders.replays, "a full page is followed by the next")
}

func TestOrderStatusOfAnOrderNotVisible(t *testing.T) {
	t.Parallel()
	s, hub := newService(&fakeOrders{})
	_, err := s.OrderStatus(t.Context(), customer, 2, nil)
	require.Equal(t, apperr.NotFound, apperr.CodeOf(err))
	require.Zero(t, hub.Subscribers(), "no stream was started")
}

func TestFeedOnlyForAdminsAndVendors(t *testing.T) {
	t.Parallel()
	s, hub := newService(&fakeOrders{})
	_, err := s.Feed(t.Context(), customer, nil)
	require.Equal(t, apperr.Forbidden, apperr.CodeOf(err))
	require.Zero(t, hub.Subscribers())
}

func TestFeedReadsAgainWhenEventsWereHeldBack(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{heldBack: 2}
	orders.store(1, 2)
	s, _ := newService(orders)
	after := int64(0)
	c, err := s.Feed(t.Context(), admin, &after)
	require.NoError(t, err)
	// Nothing rings: the stream reads again by itself, every heldBackRetry, until the events
	// are no longer held back.
	require.Equal(t, []int{1, 2}, sequences(t, c, 2))
	require.Equal(t, 3, orders.replays)
}

func TestFeedLiveMessagesOnlyRingTheBell(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{}
	s, hub := newService(orders)
	c, err := s.Feed(t.Context(), admin, nil)
	require.NoError(t, err)
	quiet(t, c)
	// The feed's positions have holes: every message re-reads the store, in position order.
	added := orders.store(1, 2)
	hub.Deliver(message(added[1]))
	require.Equal(t, []int{1, 2}, sequences(t, c, 2))
}

func TestStreamSkipsHistory(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{}
	orders.store(1, 2, 3)
	hub := pubsub.NewHub()
	st := &stream{viewer: admin, orders: orders, sessions: fakeSessions{active: true}, sessionCheck: time.Hour,
		out: make(chan *Update, 1), sub: hub.Subscribe(nil, subscriberBuffer)}
	st.history = func(e order.Event) bool { return e.Sequence < 3 }
	go st.run(t.Context(), func(last int64) ([]order.Event, bool, bool, error) {
		events, heldBack, err := orders.FeedAfter(t.Context(), admin, last, replayPage)
		return events, false, heldBack, err
	}, byPosition, false, -1)
	require.Equal(t, []int{3}, sequences(t, st.out, 1), "events committed before the start are not sent")
}

func TestStreamEndsWhenTheSubscriberFallsBehind(t *testing.T) {
	t.Parallel()
	orders := &fakeOrders{}
	orders.store(1)
	s, hub := newService(orders)
	after := 1
	c, err := s.OrderStatus(t.Context(), customer, 1, &after)
	require.NoError(t, err)
	// Once the stream listens (its first replay done), the client reads nothing while more
	// events arrive than its buffers hold.
	require.Eventually(t, func() bool { orders.mu.Lock(); defer orders.mu.Unlock(); return orders.replays == 1 },
		time.Second, time.Millisecond)
	var seqs []int
	for i := 2; i < 2+subscriberBuffer+10; i++ {
		hub.Deliver(message(orders.store(i)[0]))
		seqs = append(seqs, i)
	}
	require.Zero(t, hub.Subscribers(), "the hub cut the slow subscriber off")
	var got []int
	for {
		u := next(t, c)
		if u.Err != nil {
			require.Equal(t, codeResume, apperr.CodeOf(u.Err))
			require.ErrorIs(t, u.Err, pubsub.ErrSlowConsumer)
			break
		}
		got = append(got, u.Sequence)
	}
	require.Equal(t, seqs[:len(got)], got, "what was delivered came in order, without gaps")
	require.Less(t, len(got), len(seqs))
}

func TestStreamEndsWhenTheReplayFails(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection refused")
	s, _ := newService(&fakeOrders{replayErr: boom})
	c, err := s.OrderStatus(t.Context(), customer, 1, nil)
	require.NoError(t, err)
	u := ended(t, c, codeResume)
	require.ErrorIs(t, u.Err, boom)
}

func TestStreamEndsWhenTheTokenExpires(t *testing.T) {
	t.Parallel()
	s, _ := newService(&fakeOrders{})
	v := customer
	v.ExpiresAt = time.Now().Add(30 * time.Millisecond)
	c, err := s.OrderStatus(t.Context(), v, 1, nil)
	require.NoError(t, err)
	u := ended(t, c, codeExpired)
	require.Contains(t, u.Err.Error(), "access token expired")
}

func TestStreamEndsWhenTheSessionIsRevoked(t *testing.T) {
	t.Parallel()
	hub := pubsub.NewHub()
	s := NewService(hub, &fakeOrders{}, fakeSessions{active: false})
	s.sessionCheck = 10 * time.Millisecond
	c, err := s.OrderStatus(t.Context(), customer, 1, nil)
	require.NoError(t, err)
	u := ended(t, c, codeExpired)
	require.Contains(t, u.Err.Error(), "signed out")
}

func TestSubscriptionsPerConnection(t *testing.T) {
	t.Parallel()
	s, hub := newService(&fakeOrders{})
	conn := WithSubscriptionCounter(t.Context())
	cancels := make([]context.CancelFunc, MaxSubscriptionsPerConnection)
	for i := range cancels {
		var ctx context.Context
		ctx, cancels[i] = context.WithCancel(conn)
		_, err := s.OrderStatus(ctx, customer, 1, nil)
		require.NoError(t, err)
	}
	_, err := s.OrderStatus(conn, customer, 1, nil)
	require.Equal(t, apperr.BadUserInput, apperr.CodeOf(err))
	require.Equal(t, int64(MaxSubscriptionsPerConnection), hub.Subscribers(), "the refused one never subscribed")

	// Another connection has its own count; a request without a counter (SSE) is not limited.
	_, err = s.OrderStatus(WithSubscriptionCounter(t.Context()), customer, 1, nil)
	require.NoError(t, err)
	_, err = s.OrderStatus(t.Context(), customer, 1, nil)
	require.NoError(t, err)

	// An ended subscription frees its place.
	cancels[0]()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithCancel(conn)
		if _, err := s.OrderStatus(ctx, customer, 1, nil); err != nil {
			cancel()
			return false
		}
		cancels = append(cancels, cancel)
		return true
	}, time.Second, time.Millisecond)
	for _, c := range slices.Backward(cancels) {
		c()
	}
}
