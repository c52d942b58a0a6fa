package pubsub_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/testutil/redistest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// wait bounds every wait for something that should happen.
const wait = 10 * time.Second

// receive returns the next event on s, failing after wait.
func receive(t *testing.T, s *pubsub.Subscription) pubsub.OrderEvent {
	t.Helper()
	select {
	case e, ok := <-s.C:
		require.True(t, ok, "subscription closed: %v", s.Err())
		return *e
	case <-time.After(wait):
		t.Fatal("no event")
		return pubsub.OrderEvent{}
	}
}

// drain returns what is buffered on s and whether C is closed.
func drain(s *pubsub.Subscription) (events []pubsub.OrderEvent, closed bool) {
	for {
		select {
		case e, ok := <-s.C:
			if !ok {
				return events, true
			}
			events = append(events, *e)
		default:
			return events, false
		}
	}
}

// requireNothing fails if s receives anything within d.
func requireNothing(t *testing.T, s *pubsub.Subscription, d time.Duration) {
	t.Helper()
	select {
	case e, ok := <-s.C:
		t.Fatalf("unexpected %+v (open: %v)", e, ok)
	case <-time.After(d):
	}
}

// within fails the test if fn does not return within d (it must never block).
func within(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s blocked for more than %s", what, d)
	}
}

func byOrder(id int64) func(pubsub.OrderEvent) bool {
	return func(e pubsub.OrderEvent) bool { return e.OrderID == id }
}

// TestIdleSubscriptionCost holds what an idle subscription costs: a server holds one per live
// subscription, 10,000 and more, and an event may be delivered to all of them at once. The
// buffer holds pointers to one shared copy of each event, so a subscriber that may lag 64
// events behind costs well under the ~11 KiB of 64 events held by value. Not parallel: it
// reads the whole process's heap, which no other test may change meanwhile.
func TestIdleSubscriptionCost(t *testing.T) {
	h := pubsub.NewHub()
	const n = 2000
	subs := make([]*pubsub.Subscription, 0, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		subs = append(subs, h.Subscribe(byOrder(1), 64))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	t.Logf("%d bytes of heap per idle subscription", per)
	require.Less(t, per, int64(1536), "bytes of heap per idle subscription with a bound of 64 events")

	// The bound still holds: 64 events wait for a reader that takes none; the 65th cuts it off.
	for i := 1; i <= 65; i++ {
		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: i, Status: "PAID"})
	}
	for _, s := range subs {
		got, closed := drain(s)
		require.True(t, closed)
		require.Len(t, got, 64)
		require.Equal(t, 64, got[63].Sequence)
		require.ErrorIs(t, s.Err(), pubsub.ErrSlowConsumer)
	}
	require.Zero(t, h.Subscribers())
}

func TestHub(t *testing.T) {
	t.Parallel()

	t.Run("delivers each event to the subscribers whose filter matches", func(t *testing.T) {
		t.Parallel()
		h := pubsub.NewHub()
		one, two, all := h.Subscribe(byOrder(1), 8), h.Subscribe(byOrder(2), 8), h.Subscribe(nil, 8)
		require.EqualValues(t, 3, h.Subscribers())

		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: 1, Status: "PENDING"})
		h.Deliver(pubsub.OrderEvent{OrderID: 2, Sequence: 1, Status: "PENDING"})
		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: 2, Status: "PAID", VendorIDs: []int64{7}})

		got, closed := drain(one)
		require.False(t, closed)
		require.Len(t, got, 2)
		require.Equal(t, 1, got[0].Sequence)
		require.Equal(t, "PAID", got[1].Status)
		require.True(t, got[1].HasVendor(7))
		require.False(t, got[1].HasVendor(8))

		got, _ = drain(two)
		require.Len(t, got, 1)
		require.EqualValues(t, 2, got[0].OrderID)

		got, _ = drain(all)
		require.Len(t, got, 3, "a nil filter receives everything")
	})

	t.Run("a resync reaches every subscriber whatever its filter", func(t *testing.T) {
		t.Parallel()
		h := pubsub.NewHub()
		none := h.Subscribe(func(pubsub.OrderEvent) bool { return false }, 4)
		one := h.Subscribe(byOrder(1), 4)
		h.Deliver(pubsub.OrderEvent{OrderID: 9})
		h.Deliver(pubsub.OrderEvent{Resync: true})
		require.True(t, receive(t, none).Resync)
		require.True(t, receive(t, one).Resync)
	})

	t.Run("a slow subscriber is cut off with ErrSlowConsumer while the others keep receiving", func(t *testing.T) {
		t.Parallel()
		h := pubsub.NewHub()
		slow := h.Subscribe(nil, 4)
		fast := h.Subscribe(nil, 4)
		var fastGot []int
		for i := 1; i <= 100; i++ {
			within(t, time.Second, "Deliver", func() { h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: i}) })
			e := receive(t, fast)
			fastGot = append(fastGot, e.Sequence)
		}
		require.Len(t, fastGot, 100)
		require.Equal(t, 100, fastGot[99])

		got, closed := drain(slow)
		require.True(t, closed, "the slow subscription is closed")
		require.Equal(t, []int{1, 2, 3, 4}, seqs(got), "it keeps what its buffer held, in order")
		require.ErrorIs(t, slow.Err(), pubsub.ErrSlowConsumer)
		require.NoError(t, fast.Err())
		require.EqualValues(t, 1, h.Subscribers(), "the slow subscriber was removed")

		slow.Close() // closing a cut-off subscription is harmless
		require.ErrorIs(t, slow.Err(), pubsub.ErrSlowConsumer, "Close keeps the reason")
		require.EqualValues(t, 1, h.Subscribers())
	})

	t.Run("OnDeliver is called after each event is on C and after a cut-off closes C", func(t *testing.T) {
		t.Parallel()
		h := pubsub.NewHub()
		s := h.Subscribe(byOrder(1), 2)
		var calls atomic.Int64
		s.OnDeliver(func() {
			calls.Add(1)
			// Called outside the subscription's lock: reading the reason cannot deadlock.
			_ = s.Err()
		})
		h.Deliver(pubsub.OrderEvent{OrderID: 2, Sequence: 1}) // filtered out
		require.Zero(t, calls.Load())
		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: 1})
		require.EqualValues(t, 1, calls.Load())
		require.Len(t, s.C, 1, "the event is on C when the subscriber hears of it")
		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: 2})
		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: 3}) // the buffer is full: cut off
		require.EqualValues(t, 3, calls.Load(), "the cut-off is heard too")
		got, closed := drain(s)
		require.True(t, closed)
		require.Equal(t, []int{1, 2}, seqs(got))
		require.ErrorIs(t, s.Err(), pubsub.ErrSlowConsumer)
		h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: 4})
		require.EqualValues(t, 3, calls.Load(), "nothing after the end")
	})

	t.Run("Close ends C without an error and stops delivery", func(t *testing.T) {
		t.Parallel()
		h := pubsub.NewHub()
		s := h.Subscribe(nil, 4)
		other := h.Subscribe(nil, 4)
		s.Close()
		s.Close()
		_, closed := drain(s)
		require.True(t, closed)
		require.NoError(t, s.Err())
		require.EqualValues(t, 1, h.Subscribers())
		within(t, time.Second, "Deliver", func() { h.Deliver(pubsub.OrderEvent{OrderID: 1}) })
		require.EqualValues(t, 1, receive(t, other).OrderID)
	})

	t.Run("Deliver never blocks, even when 1,000 subscribers read nothing", func(t *testing.T) {
		t.Parallel()
		h := pubsub.NewHub()
		subs := make([]*pubsub.Subscription, 1000)
		for i := range subs {
			subs[i] = h.Subscribe(nil, 8)
		}
		within(t, 5*time.Second, "100 Delivers", func() {
			for i := range 100 {
				h.Deliver(pubsub.OrderEvent{OrderID: 1, Sequence: i + 1})
			}
		})
		for _, s := range subs {
			got, closed := drain(s)
			require.True(t, closed)
			require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8}, seqs(got))
			require.ErrorIs(t, s.Err(), pubsub.ErrSlowConsumer)
		}
		require.Zero(t, h.Subscribers())
	})

	t.Run("concurrent Subscribe, Close and Deliver with 1,000 subscribers", func(t *testing.T) {
		t.Parallel()
		// Run under -race: sending never happens under the hub lock, and a subscription
		// closed by Close and cut off by Deliver at the same time must not panic (send on or
		// close of a closed channel) or deadlock.
		h := pubsub.NewHub()
		const (
			readers    = 1000
			events     = 300
			churners   = 4
			publishing = 2
		)
		var received atomic.Int64
		var wg sync.WaitGroup
		subs := make([]*pubsub.Subscription, readers)
		for i := range subs {
			filter := byOrder(int64(i % 10))
			if i%3 == 0 {
				filter = nil
			}
			subs[i] = h.Subscribe(filter, 16)
		}
		stop := make(chan struct{})
		for _, s := range subs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range s.C {
					received.Add(1)
				}
			}()
		}
		var churn sync.WaitGroup
		for range churners {
			churn.Add(1)
			go func() {
				defer churn.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					s := h.Subscribe(nil, 1) // never read: cut off, or closed first
					_ = h.Subscribers()
					s.Close()
				}
			}()
		}
		var publishers sync.WaitGroup
		for p := range publishing {
			publishers.Add(1)
			go func() {
				defer publishers.Done()
				for i := range events {
					h.Deliver(pubsub.OrderEvent{OrderID: int64(i % 10), Sequence: i, Status: "PAID", VendorIDs: []int64{int64(p)}})
				}
			}()
		}
		within(t, 30*time.Second, "publishing", publishers.Wait)
		close(stop)
		within(t, 10*time.Second, "churn", churn.Wait)
		for i, s := range subs {
			if i%2 == 0 {
				s.Close()
			}
		}
		h.Deliver(pubsub.OrderEvent{Resync: true})
		for _, s := range subs {
			s.Close()
		}
		within(t, 10*time.Second, "readers", wg.Wait)
		require.Zero(t, h.Subscribers())
		require.Positive(t, received.Load())
	})
}

func seqs(events []pubsub.OrderEvent) []int {
	out := make([]int, len(events))
	for i, e := range events {
		out[i] = e.Sequence
	}
	return out
}

func TestBusWithoutRedis(t *testing.T) {
	t.Parallel()

	t.Run("Publish delivers to this instance's hub", func(t *testing.T) {
		t.Parallel()
		b := pubsub.NewBus(nil, "unused", quiet)
		within(t, time.Second, "Run without Redis", func() { b.Run(context.Background()) })
		s := b.Hub.Subscribe(byOrder(5), 4)
		b.Publish(context.Background(), pubsub.OrderEvent{OrderID: 5, Sequence: 3, Status: "SHIPPED"})
		b.Publish(context.Background(), pubsub.OrderEvent{OrderID: 6, Sequence: 1})
		e := receive(t, s)
		require.EqualValues(t, 5, e.OrderID)
		require.Equal(t, "SHIPPED", e.Status)
		requireNothing(t, s, 50*time.Millisecond)
	})
}

// redisClient connects to url with the server's settings (server.go's openApp).
func redisClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, time.Second, time.Second
	opts.ContextTimeoutEnabled = true
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startBus returns a bus on url's Redis and channel, running until the test ends; then, as
// the server does on shutdown, its context is cancelled and its Redis client closed.
func startBus(t *testing.T, url, channel string) *pubsub.Bus {
	t.Helper()
	client := redisClient(t, url)
	b := pubsub.NewBus(client, channel, quiet)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		_ = client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Bus.Run did not return after its context ended and its client closed")
		}
	})
	return b
}

// waitSubscribed waits until channel has n Redis subscribers.
func waitSubscribed(t *testing.T, c *redis.Client, channel string, n int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		counts, err := c.PubSubNumSub(ctx, channel).Result()
		return err == nil && counts[channel] >= n
	}, wait, 10*time.Millisecond, "%d buses never subscribed to %s", n, channel)
}

func TestBusWithRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		t.Skip("TEST_REDIS_URL is not set")
	}

	t.Run("events published on one instance reach both, each once and in order", func(t *testing.T) {
		t.Parallel()
		channel := "sgtest:" + uuid.NewString() + ":order-events"
		a, b := startBus(t, url, channel), startBus(t, url, channel)
		waitSubscribed(t, redisClient(t, url), channel, 2)

		onA, onB := a.Hub.Subscribe(byOrder(42), 512), b.Hub.Subscribe(byOrder(42), 512)
		at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
		const n = 300
		for i := 1; i <= n; i++ {
			pub := a
			if i%2 == 0 {
				pub = b
			}
			pub.Publish(context.Background(), pubsub.OrderEvent{
				OrderID: 42, Sequence: i, FeedPosition: int64(1000 + i), Status: "PARTIALLY_REFUNDED",
				PreviousStatus: "PAID", At: at, Note: "refund", UserID: 3, VendorIDs: []int64{7, 9},
			})
			pub.Publish(context.Background(), pubsub.OrderEvent{OrderID: 43, Sequence: i}) // filtered out
		}
		for name, s := range map[string]*pubsub.Subscription{"A": onA, "B": onB} {
			var got []int
			for len(got) < n {
				select {
				case e, ok := <-s.C:
					require.True(t, ok, "instance %s: closed: %v", name, s.Err())
					require.False(t, e.Resync)
					got = append(got, e.Sequence)
					if e.Sequence == 1 {
						require.Equal(t, pubsub.OrderEvent{
							OrderID: 42, Sequence: 1, FeedPosition: 1001, Status: "PARTIALLY_REFUNDED",
							PreviousStatus: "PAID", At: at, Note: "refund", UserID: 3, VendorIDs: []int64{7, 9},
						}, *e, "the event survives the trip through Redis")
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("instance %s received %d of %d events", name, len(got), n)
				}
			}
			want := make([]int, n)
			for i := range want {
				want[i] = i + 1
			}
			require.Equal(t, want, got, "instance %s", name)
			requireNothing(t, s, 100*time.Millisecond)
		}
	})

	t.Run("instances on another channel (another key prefix) receive nothing", func(t *testing.T) {
		t.Parallel()
		channel := "sgtest:" + uuid.NewString() + ":order-events"
		a, other := startBus(t, url, channel), startBus(t, url, channel+"-other")
		c := redisClient(t, url)
		waitSubscribed(t, c, channel, 1)
		waitSubscribed(t, c, channel+"-other", 1)
		s := other.Hub.Subscribe(nil, 8)
		mine := a.Hub.Subscribe(nil, 8)
		a.Publish(context.Background(), pubsub.OrderEvent{OrderID: 1, Sequence: 1})
		require.EqualValues(t, 1, receive(t, mine).OrderID)
		requireNothing(t, s, 200*time.Millisecond)
	})

	t.Run("Run returns once its context ends", func(t *testing.T) {
		t.Parallel()
		channel := "sgtest:" + uuid.NewString() + ":order-events"
		client := redisClient(t, url)
		b := pubsub.NewBus(client, channel, quiet)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.Run(ctx)
		}()
		waitSubscribed(t, redisClient(t, url), channel, 1)
		// Run has delivered a message and is waiting for the next one when ctx ends.
		s := b.Hub.Subscribe(nil, 1)
		b.Publish(context.Background(), pubsub.OrderEvent{OrderID: 1})
		receive(t, s)
		time.Sleep(100 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = client.Close() // what ends it today; then report
			<-done
			t.Fatal("Bus.Run kept running after its context ended (it only returned once its Redis client was closed)")
		}
	})
}

// TestBusRedisRestart runs its own redis-server so that it can kill it.
func TestBusRedisRestart(t *testing.T) {
	t.Parallel()
	server := redistest.Start(t)
	channel := "sgtest:" + uuid.NewString() + ":order-events"
	a, b := startBus(t, server.URL(), channel), startBus(t, server.URL(), channel)
	probe := redisClient(t, server.URL())
	waitSubscribed(t, probe, channel, 2)

	onA := a.Hub.Subscribe(byOrder(1), 64)
	onB := b.Hub.Subscribe(byOrder(1), 64)
	other := b.Hub.Subscribe(func(pubsub.OrderEvent) bool { return false }, 64)
	a.Publish(context.Background(), pubsub.OrderEvent{OrderID: 1, Sequence: 1})
	require.Equal(t, 1, receive(t, onA).Sequence)
	require.Equal(t, 1, receive(t, onB).Sequence)

	server.Stop()

	t.Run("while Redis is down a publish still reaches this instance's subscribers", func(t *testing.T) {
		within(t, 5*time.Second, "Publish with Redis down", func() {
			a.Publish(context.Background(), pubsub.OrderEvent{OrderID: 1, Sequence: 2})
		})
		e := receive(t, onA)
		require.Equal(t, 2, e.Sequence)
		require.False(t, e.Resync)
	})

	server.Restart()

	t.Run("once the Redis subscription is back every subscriber is told to resync", func(t *testing.T) {
		// B never saw sequence 2: it must learn that it may have missed something.
		for name, s := range map[string]*pubsub.Subscription{"B": onB, "B (filter matching nothing)": other, "A": onA} {
			e := receive(t, s)
			require.True(t, e.Resync, "%s: got %+v instead of a resync", name, e)
		}
	})

	t.Run("after the restart events flow between instances again", func(t *testing.T) {
		waitSubscribed(t, probe, channel, 2)
		b.Publish(context.Background(), pubsub.OrderEvent{OrderID: 1, Sequence: 3})
		for name, s := range map[string]*pubsub.Subscription{"A": onA, "B": onB} {
			e := receive(t, s)
			for e.Resync { // a second resync (both connections may have been re-established twice)
				e = receive(t, s)
			}
			require.Equal(t, 3, e.Sequence, name)
		}
	})
}
