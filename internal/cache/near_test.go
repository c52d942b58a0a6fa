package cache

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// twoInstances returns the caches of two instances sharing one Redis and key prefix, each with
// its own client and near cache; counted counts the commands of the second's client.
func twoInstances(t *testing.T, near NearOptions) (a, b *Cache, counted *attemptCounter) {
	t.Helper()
	ca := testRedisClient(t)
	cb := testRedisClient(t)
	counted = &attemptCounter{}
	cb.AddHook(counted)
	prefix := uniquePrefix(t, ca)
	a = NewWithNear(NewRedis(ca, prefix, RedisOptions{Timeout: time.Second}), near)
	b = NewWithNear(NewRedis(cb, prefix, RedisOptions{Timeout: time.Second}), near)
	return a, b, counted
}

func TestNearCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	lamp := product{ID: 1, Name: "Lamp", Price: 1200}

	t.Run("a versioned hit is served near: one generation read, no value read", func(t *testing.T) {
		t.Parallel()
		_, b, counted := twoInstances(t, NearOptions{MaxEntries: 10})
		var loads counter
		_, err := GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(lamp))
		require.NoError(t, err)
		require.Equal(t, 1, b.NearLen())
		before := counted.n.Load()
		v, err := GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(lamp))
		require.NoError(t, err)
		require.Equal(t, lamp, v)
		require.EqualValues(t, 1, loads.n.Load())
		require.EqualValues(t, 1, counted.n.Load()-before, "only the generation is read from Redis")
		require.EqualValues(t, 1, b.Stats().NearHits)
	})

	t.Run("a bump on another instance retires the near entries at once", func(t *testing.T) {
		t.Parallel()
		a, b, _ := twoInstances(t, NearOptions{MaxEntries: 10})
		var loads counter
		for i := range 3 {
			want := product{ID: 1, Name: "Lamp " + strconv.Itoa(i)}
			v, err := GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(want))
			require.NoError(t, err)
			require.Equal(t, want, v, "B reads what it loaded after A's bump, not its near copy")
			v, err = GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(product{Name: "not loaded"}))
			require.NoError(t, err)
			require.Equal(t, want, v, "then serves it near")
			a.Bump(ctx, "lists")
		}
		require.EqualValues(t, 3, loads.n.Load())
		require.EqualValues(t, 3, b.Stats().NearHits)
	})

	t.Run("entries read from Redis are kept near too", func(t *testing.T) {
		t.Parallel()
		a, b, _ := twoInstances(t, NearOptions{MaxEntries: 10})
		var loads counter
		_, err := GetOrLoadVersioned(ctx, a, "lists", "page1", time.Minute, loads.load(lamp))
		require.NoError(t, err)
		for range 2 {
			v, err := GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(product{Name: "not loaded"}))
			require.NoError(t, err)
			require.Equal(t, lamp, v)
		}
		require.EqualValues(t, 1, loads.n.Load())
		require.EqualValues(t, 1, b.Stats().NearHits, "the second read of B is near")
	})

	t.Run("keys invalidated by Delete are never kept near", func(t *testing.T) {
		t.Parallel()
		a, b, _ := twoInstances(t, NearOptions{MaxEntries: 10})
		var loads counter
		_, err := GetOrLoad(ctx, b, "product:1", time.Minute, loads.load(lamp))
		require.NoError(t, err)
		require.Zero(t, b.NearLen())
		a.Delete(ctx, "product:1")
		renamed := product{ID: 1, Name: "Renamed"}
		v, err := GetOrLoad(ctx, b, "product:1", time.Minute, loads.load(renamed))
		require.NoError(t, err)
		require.Equal(t, renamed, v)
	})

	t.Run("the near cache holds at most MaxEntries entries and MaxBytes bytes", func(t *testing.T) {
		t.Parallel()
		_, b, _ := twoInstances(t, NearOptions{MaxEntries: 4})
		var loads counter
		for i := range 20 {
			_, err := GetOrLoadVersioned(ctx, b, "lists", "page"+strconv.Itoa(i), time.Minute, loads.load(lamp))
			require.NoError(t, err)
		}
		require.Equal(t, 4, b.NearLen())

		_, b, _ = twoInstances(t, NearOptions{MaxEntries: 100, MaxBytes: 200})
		for i := range 20 {
			_, err := GetOrLoadVersioned(ctx, b, "lists", "page"+strconv.Itoa(i), time.Minute, loads.load(lamp))
			require.NoError(t, err)
		}
		require.LessOrEqual(t, b.near.Bytes(), int64(200))
		require.Positive(t, b.NearLen())
		require.Less(t, b.NearLen(), 20)
	})

	t.Run("a near entry expires after its TTL", func(t *testing.T) {
		t.Parallel()
		_, b, _ := twoInstances(t, NearOptions{MaxEntries: 10, TTL: time.Minute})
		now := time.Now()
		b.near.now = func() time.Time { return now }
		var loads counter
		_, err := GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(lamp))
		require.NoError(t, err)
		now = now.Add(2 * time.Minute)
		_, err = GetOrLoadVersioned(ctx, b, "lists", "page1", time.Minute, loads.load(lamp))
		require.NoError(t, err)
		require.Zero(t, b.Stats().NearHits, "expired near, read again from Redis")
		require.EqualValues(t, 1, loads.n.Load())
	})
}

func TestMemoryBytesBound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryBytes(100, 50)
	val := make([]byte, 20)
	for i := range 5 {
		require.NoError(t, m.Set(ctx, map[string][]byte{"k" + strconv.Itoa(i): val}, time.Minute))
	}
	require.Equal(t, 2, m.Len())
	require.EqualValues(t, 40, m.Bytes())
	got, err := m.Get(ctx, "k3", "k4")
	require.NoError(t, err)
	require.Len(t, got, 2, "the most recent entries stay")

	require.NoError(t, m.Set(ctx, map[string][]byte{"huge": make([]byte, 51)}, time.Minute))
	require.Equal(t, 2, m.Len(), "a value larger than the bound is not kept and evicts nothing")
	require.NoError(t, m.Set(ctx, map[string][]byte{"k4": make([]byte, 5)}, time.Minute))
	require.EqualValues(t, 25, m.Bytes(), "replacing a value counts its new size")
	require.NoError(t, m.Delete(ctx, "k3", "k4"))
	require.Zero(t, m.Bytes())
}

// holdGenReads is a go-redis hook that, while armed, holds the answer of a GET of key after
// Redis has given it, until released.
type holdGenReads struct {
	key     string
	armed   atomic.Bool
	read    chan struct{}
	release chan struct{}
}

func (h *holdGenReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *holdGenReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cmd.Name() == "get" && len(cmd.Args()) > 1 && cmd.Args()[1] == h.key && h.armed.CompareAndSwap(true, false) {
			close(h.read)
			<-h.release
		}
		return err
	}
}

func (h *holdGenReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func TestRedisGenerationReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// newHeld returns a store whose first generation read of "lists" is held after Redis
	// answered it, and a second store (another instance) on the same keys.
	newHeld := func(t *testing.T) (held, other *Redis, h *holdGenReads, gets *attemptCounter) {
		ch, co := testRedisClient(t), testRedisClient(t)
		prefix := uniquePrefix(t, co)
		held = NewRedis(ch, prefix, RedisOptions{Timeout: 10 * time.Second})
		other = NewRedis(co, prefix, RedisOptions{Timeout: 10 * time.Second})
		_, err := held.Generation(ctx, "lists") // creates the counter outside the hold
		require.NoError(t, err)
		h = &holdGenReads{key: held.genKey("lists"), read: make(chan struct{}), release: make(chan struct{})}
		gets = &attemptCounter{}
		ch.AddHook(gets)
		ch.AddHook(h)
		h.armed.Store(true)
		return held, other, h, gets
	}
	waiters := func(r *Redis) int {
		g := r.genReadsOf("lists")
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.next == nil {
			return 0
		}
		return g.next.waiters
	}

	t.Run("a read in flight when a bump returned is never the answer of a later call", func(t *testing.T) {
		t.Parallel()
		held, other, h, _ := newHeld(t)
		first := make(chan int64, 1)
		go func() {
			g, _ := held.Generation(ctx, "lists")
			first <- g
		}()
		<-h.read // Redis has answered the first read; its caller has not got it yet
		require.NoError(t, other.Bump(ctx, "lists"))
		bumped, err := other.Generation(ctx, "lists")
		require.NoError(t, err)

		second := make(chan int64, 1)
		go func() {
			g, _ := held.Generation(ctx, "lists")
			second <- g
		}()
		require.Eventually(t, func() bool { return waiters(held) == 1 }, 5*time.Second, time.Millisecond)
		close(h.release)
		require.Equal(t, bumped-1, <-first)
		require.Equal(t, bumped, <-second, "the call made after the bump sees it")
	})

	t.Run("concurrent calls share one read", func(t *testing.T) {
		t.Parallel()
		held, _, h, gets := newHeld(t)
		go func() { _, _ = held.Generation(ctx, "lists") }()
		<-h.read
		const n = 20
		var wg sync.WaitGroup
		results := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := held.Generation(ctx, "lists")
				results <- err
			}()
		}
		require.Eventually(t, func() bool { return waiters(held) == n }, 5*time.Second, time.Millisecond)
		close(h.release)
		wg.Wait()
		close(results)
		for err := range results {
			require.NoError(t, err)
		}
		require.EqualValues(t, 2, gets.n.Load(), "the held read and one shared by the %d callers", n)
	})

	t.Run("a caller that gives up stops waiting", func(t *testing.T) {
		t.Parallel()
		held, _, h, _ := newHeld(t)
		go func() { _, _ = held.Generation(ctx, "lists") }()
		<-h.read
		cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := held.Generation(cctx, "lists")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		close(h.release)
		_, err = held.Generation(ctx, "lists")
		require.NoError(t, err, "later calls still read")
	})
}
