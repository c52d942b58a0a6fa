package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopgraph/shopgraph/internal/testutil/redistest"
	"github.com/stretchr/testify/require"
)

func TestRedisDeadDegradesToTheLoader(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts, err := redis.ParseURL("redis://127.0.0.1:1") // nothing listens on port 1
	require.NoError(t, err)
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	attempts := &attemptCounter{}
	client.AddHook(attempts)
	logger, logs := newLogger()
	const threshold = 3
	ropts := RedisOptions{Timeout: 250 * time.Millisecond, FailureThreshold: threshold, Cooldown: time.Hour, Logger: logger}
	c := New(NewRedis(client, "shopgraph-test:cache:dead:", ropts))
	p1 := product{ID: 1, Name: "Mug", Tags: []string{}}

	var loads counter
	for range 10 {
		got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
		require.NoError(t, err, "a dead Redis must never surface as an error")
		require.Equal(t, p1, got)
	}
	require.EqualValues(t, threshold, attempts.n.Load(), "Redis is asked until the breaker opens, then never")
	require.Equal(t, 1, logs.count(logOpened), "one warning when the breaker opens, not one per request")

	// No read waits for Redis once the breaker is open: none takes as long as one Redis
	// timeout (the bound is per round, not on their sum, which the -race build on a shared
	// machine can stretch past it).
	var slowest time.Duration
	for range 100 {
		start := time.Now()
		got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
		require.NoError(t, err)
		require.Equal(t, p1, got)
		page, err := GetOrLoadVersioned(ctx, c, "products", "first=20", time.Minute, loads.load(p1))
		require.NoError(t, err)
		require.Equal(t, p1, page)
		many, err := GetOrLoadMany(ctx, c, []int64{1}, func(int64) string { return "product:1" }, time.Minute,
			func(context.Context, []int64) (map[int64]product, error) { return map[int64]product{1: p1}, nil })
		require.NoError(t, err)
		require.Equal(t, map[int64]product{1: p1}, many)
		c.Delete(ctx, "product:1")
		c.Bump(ctx, "products")
		slowest = max(slowest, time.Since(start))
	}
	require.EqualValues(t, threshold, attempts.n.Load(), "an open breaker costs no Redis calls")
	require.Less(t, slowest, ropts.Timeout, "a round of reads through an open breaker waited for a Redis timeout")
	require.Equal(t, 1, logs.count(logOpened))

	_, err = c.Generation(ctx, "products")
	require.ErrorIs(t, err, ErrUnavailable, "an unknown generation is an error, never a guess")

	st := c.Stats()
	require.Zero(t, st.Hits)
	require.Zero(t, st.Misses)
	require.EqualValues(t, 310, st.Bypasses, "10 + 3×100 reads, none served by the cache")
	require.EqualValues(t, 310, st.Loads, "and every one of them loaded")
	require.EqualValues(t, 210, loads.n.Load())
}

func TestRedisSlowIsBoundedByTheTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := startProxy(t, "127.0.0.1:1")
	p.setMode(proxyStall) // accepts connections and never answers, like a wedged Redis
	// Default client options: go-redis would wait its 3s ReadTimeout, ignoring our deadline.
	client := redis.NewClient(&redis.Options{Addr: p.addr()})
	t.Cleanup(func() { _ = client.Close() })
	attempts := &attemptCounter{}
	client.AddHook(attempts)
	logger, logs := newLogger()
	const threshold = 3
	c := New(NewRedis(client, "shopgraph-test:cache:slow:", RedisOptions{
		Timeout: 50 * time.Millisecond, FailureThreshold: threshold, Cooldown: time.Hour, Logger: logger,
	}))
	p1 := product{ID: 1, Name: "Mug", Tags: []string{}}

	var loads counter
	for i := range 5 {
		start := time.Now()
		got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
		elapsed := time.Since(start)
		require.NoError(t, err)
		require.Equal(t, p1, got)
		// A read and a write-back, each cut off at 50ms: far below the client's 3s.
		require.Less(t, elapsed, time.Second, "call %d", i)
	}
	require.EqualValues(t, threshold, attempts.n.Load())
	require.EqualValues(t, 5, loads.n.Load())
	require.Equal(t, 1, logs.count(logOpened))
}

func TestRedisStoppingMidRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", srv.Port)})
	t.Cleanup(func() { _ = client.Close() })
	attempts := &attemptCounter{}
	client.AddHook(attempts)
	logger, logs := newLogger()
	c := New(NewRedis(client, uniquePrefix(t, nil), RedisOptions{
		Timeout: 500 * time.Millisecond, FailureThreshold: 3, Cooldown: 300 * time.Millisecond, Logger: logger,
	}))
	p1 := product{ID: 1, Name: "Mug", Tags: []string{"kitchen"}}
	var loads counter
	get := func() {
		t.Helper()
		got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(p1))
		require.NoError(t, err)
		require.Equal(t, p1, got)
	}

	get()
	get()
	require.EqualValues(t, 1, loads.n.Load())
	require.EqualValues(t, 1, c.Stats().Hits, "Redis serves the second read")

	srv.Stop()
	for range 10 {
		get()
	}
	require.EqualValues(t, 11, loads.n.Load(), "with Redis gone every read goes to the loader")
	require.Equal(t, 1, logs.count(logOpened))
	before := attempts.n.Load()
	for range 50 {
		get()
	}
	require.Equal(t, before, attempts.n.Load(), "an open breaker skips Redis entirely")

	srv.Restart() // same port, empty: it was running without persistence
	hits := c.Stats().Hits
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().Hits == hits {
		require.True(t, time.Now().Before(deadline), "the cache was not used again after Redis came back")
		get()
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, 1, logs.count(logClosed), "one message when the breaker closes")
	require.Equal(t, 1, logs.count(logOpened))
}

func TestRedisInvalidationsLostInAPartitionAreReplayed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ropts := testRedisOptions(t)
	p := startProxy(t, ropts.Addr)
	direct := redis.NewClient(ropts)
	t.Cleanup(func() { _ = direct.Close() })
	prefix := uniquePrefix(t, direct)
	viaProxy := *ropts
	viaProxy.Addr = p.addr()
	client := redis.NewClient(&viaProxy)
	t.Cleanup(func() { _ = client.Close() })
	logger, logs := newLogger()
	c := New(NewRedis(client, prefix, RedisOptions{
		Timeout: 500 * time.Millisecond, FailureThreshold: 3, Cooldown: 300 * time.Millisecond, Logger: logger,
	}))

	v1 := product{ID: 1, Name: "Mug", Price: 1299, Tags: []string{}}
	v2 := product{ID: 1, Name: "Mug", Price: 999, Tags: []string{}}
	var loads counter
	read := func(want product) (loaded bool) {
		t.Helper()
		n := loads.n.Load()
		got, err := GetOrLoad(ctx, c, "product:1", time.Minute, loads.load(want))
		require.NoError(t, err)
		require.Equal(t, want, got, "product read")
		page, err := GetOrLoadVersioned(ctx, c, "products", "first=20", time.Minute, loads.load(want))
		require.NoError(t, err)
		require.Equal(t, want, page, "list page read")
		return loads.n.Load() != n
	}
	read(v1)
	require.False(t, read(v1), "both are cached")

	// The network to Redis fails just as a price change commits: both invalidations are lost.
	p.setMode(proxyRefuse)
	c.Delete(ctx, "product:1")
	c.Bump(ctx, "products")
	require.GreaterOrEqual(t, c.Stats().Errors, uint64(2))
	require.True(t, read(v2), "while Redis is unreachable reads come from the loader")

	// Redis comes back, still holding v1 under both keys. No read may ever return it.
	p.setMode(proxyForward)
	deadline := time.Now().Add(10 * time.Second)
	for read(v2) {
		require.True(t, time.Now().Before(deadline), "the cache was not used again after the partition healed")
		time.Sleep(20 * time.Millisecond)
	}
	raw, err := direct.Get(ctx, prefix+"v:product:1").Bytes()
	require.NoError(t, err)
	var stored product
	require.NoError(t, json.Unmarshal(raw, &stored))
	require.Equal(t, v2, stored)
	require.Contains(t, logs.String(), "replayed_invalidations=2")
}

func TestRedisCallerCancellationDoesNotOpenTheBreaker(t *testing.T) {
	t.Parallel()
	client := testRedisClient(t)
	attempts := &attemptCounter{}
	client.AddHook(attempts)
	logger, logs := newLogger()
	c := New(NewRedis(client, uniquePrefix(t, client), RedisOptions{Timeout: 2 * time.Second, FailureThreshold: 2, Cooldown: time.Hour, Logger: logger}))

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for range 5 {
		_, err := GetOrLoad(cancelled, c, "product:1", time.Minute, func(ctx context.Context) (product, error) {
			return product{}, ctx.Err()
		})
		require.ErrorIs(t, err, context.Canceled)
	}
	var loads counter
	_, err := GetOrLoad(context.Background(), c, "product:1", time.Minute, loads.load(product{ID: 1}))
	require.NoError(t, err)
	_, err = GetOrLoad(context.Background(), c, "product:1", time.Minute, loads.load(product{ID: 1}))
	require.NoError(t, err)
	require.EqualValues(t, 1, loads.n.Load(), "Redis is still in use")
	require.Zero(t, logs.count(logOpened))
}
