package ratelimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/ratelimit"
)

// fakeClock is the injected clock for Memory.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func hit(t *testing.T, l ratelimit.Limiter, key string, limit int, window time.Duration) (bool, time.Duration) {
	t.Helper()
	allowed, retryAfter, err := l.Hit(context.Background(), key, limit, window)
	require.NoError(t, err)
	return allowed, retryAfter
}

// exhaust makes limit allowed hits on key and checks each is allowed.
func exhaust(t *testing.T, l ratelimit.Limiter, key string, limit int, window time.Duration) {
	t.Helper()
	for i := 1; i <= limit; i++ {
		allowed, retryAfter := hit(t, l, key, limit, window)
		require.True(t, allowed, "hit %d of %d is allowed", i, limit)
		require.Zero(t, retryAfter, "an allowed hit has no retryAfter")
	}
}

// concurrentHits makes n concurrent hits on one key and returns how many were allowed.
func concurrentHits(t *testing.T, l ratelimit.Limiter, key string, n, limit int, window time.Duration) int {
	t.Helper()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			ok, _, err := l.Hit(context.Background(), key, limit, window)
			if err != nil {
				errs <- err
				return
			}
			if ok {
				allowed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	return int(allowed.Load())
}

func TestMemory(t *testing.T) {
	t.Parallel()
	const window = time.Minute

	t.Run("allows the limit'th hit and refuses the next until the window ends", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		m := ratelimit.NewMemory(clock.Now)
		exhaust(t, m, "k", 3, window)

		allowed, retryAfter := hit(t, m, "k", 3, window)
		require.False(t, allowed)
		require.Equal(t, window, retryAfter)

		clock.Advance(window / 4)
		allowed, retryAfter = hit(t, m, "k", 3, window)
		require.False(t, allowed, "refused hits stay refused within the window")
		require.Equal(t, 3*window/4, retryAfter, "retryAfter counts down to the window's end")

		clock.Advance(3*window/4 - time.Nanosecond)
		allowed, retryAfter = hit(t, m, "k", 3, window)
		require.False(t, allowed)
		require.Equal(t, time.Nanosecond, retryAfter)
	})

	t.Run("a new window allows again", func(t *testing.T) {
		t.Parallel()
		clock := newFakeClock()
		m := ratelimit.NewMemory(clock.Now)
		exhaust(t, m, "k", 2, window)
		allowed, _ := hit(t, m, "k", 2, window)
		require.False(t, allowed)

		clock.Advance(window)
		exhaust(t, m, "k", 2, window)
		allowed, retryAfter := hit(t, m, "k", 2, window)
		require.False(t, allowed)
		require.Equal(t, window, retryAfter, "the new window started at the first hit after the old one ended")
	})

	t.Run("keys are independent", func(t *testing.T) {
		t.Parallel()
		m := ratelimit.NewMemory(newFakeClock().Now)
		exhaust(t, m, "email:a@example.com", 2, window)
		allowed, _ := hit(t, m, "email:a@example.com", 2, window)
		require.False(t, allowed)

		exhaust(t, m, "email:b@example.com", 2, window)
	})

	t.Run("a limit of zero refuses every hit", func(t *testing.T) {
		t.Parallel()
		m := ratelimit.NewMemory(newFakeClock().Now)
		allowed, retryAfter := hit(t, m, "k", 0, window)
		require.False(t, allowed)
		require.Equal(t, window, retryAfter)
	})

	t.Run("nil clock uses the real time", func(t *testing.T) {
		t.Parallel()
		m := ratelimit.NewMemory(nil)
		exhaust(t, m, "k", 1, window)
		allowed, retryAfter := hit(t, m, "k", 1, window)
		require.False(t, allowed)
		require.Positive(t, retryAfter)
		require.LessOrEqual(t, retryAfter, window)
	})

	t.Run("50 concurrent hits over a limit of 10 allow exactly 10", func(t *testing.T) {
		t.Parallel()
		m := ratelimit.NewMemory(newFakeClock().Now)
		require.Equal(t, 10, concurrentHits(t, m, "k", 50, 10, window))
	})
}

// redisClient connects to TEST_REDIS_URL (default redis://127.0.0.1:6379/0), skipping the test
// when nothing answers there.
func redisClient(t *testing.T) *redis.Client {
	t.Helper()
	raw := os.Getenv("TEST_REDIS_URL")
	if raw == "" {
		raw = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(raw)
	require.NoError(t, err, "TEST_REDIS_URL")
	opts.DialTimeout = 2 * time.Second
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis answers at %s (set TEST_REDIS_URL, or run `make test`, which provides one): %v", raw, err)
	}
	return client
}

// newRedis returns a Redis limiter whose keys carry a random prefix, deleted when t ends, so
// that parallel tests and test runs never share counters.
func newRedis(t *testing.T) *ratelimit.Redis {
	t.Helper()
	client := redisClient(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "shopgraph-test:ratelimit:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys, err := client.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			_ = client.Del(ctx, keys...).Err()
		}
	})
	return ratelimit.NewRedis(client, prefix)
}

func TestRedis(t *testing.T) {
	t.Parallel()
	const window = time.Minute

	t.Run("allows the limit'th hit and refuses the next with retryAfter within the window", func(t *testing.T) {
		t.Parallel()
		r := newRedis(t)
		exhaust(t, r, "k", 3, window)

		allowed, retryAfter := hit(t, r, "k", 3, window)
		require.False(t, allowed)
		require.Positive(t, retryAfter)
		require.LessOrEqual(t, retryAfter, window)
		require.Greater(t, retryAfter, window-10*time.Second, "retryAfter is what is left of a window that just started")
	})

	t.Run("a new window allows again", func(t *testing.T) {
		t.Parallel()
		r := newRedis(t)
		const short = 300 * time.Millisecond
		exhaust(t, r, "k", 2, short)
		allowed, retryAfter := hit(t, r, "k", 2, short)
		require.False(t, allowed)
		require.Positive(t, retryAfter)
		require.LessOrEqual(t, retryAfter, short)

		time.Sleep(retryAfter + 100*time.Millisecond)
		exhaust(t, r, "k", 2, short)
		allowed, _ = hit(t, r, "k", 2, short)
		require.False(t, allowed)
	})

	t.Run("the window is fixed at the first hit, not extended by later ones", func(t *testing.T) {
		t.Parallel()
		r := newRedis(t)
		const window = 2 * time.Second
		exhaust(t, r, "k", 1, window)
		firstDone := time.Now() // the window's expiry was set before this
		time.Sleep(500 * time.Millisecond)

		secondStart := time.Now()
		allowed, retryAfter := hit(t, r, "k", 1, window)
		require.False(t, allowed)
		require.Positive(t, retryAfter)
		require.LessOrEqual(t, retryAfter, window-secondStart.Sub(firstDone)+time.Millisecond)
	})

	t.Run("keys are independent", func(t *testing.T) {
		t.Parallel()
		r := newRedis(t)
		exhaust(t, r, "ip:192.0.2.1", 2, window)
		allowed, _ := hit(t, r, "ip:192.0.2.1", 2, window)
		require.False(t, allowed)

		exhaust(t, r, "ip:192.0.2.2", 2, window)
	})

	t.Run("limiters with different prefixes do not share counters", func(t *testing.T) {
		t.Parallel()
		a, b := newRedis(t), newRedis(t)
		exhaust(t, a, "k", 1, window)
		allowed, _ := hit(t, a, "k", 1, window)
		require.False(t, allowed)
		exhaust(t, b, "k", 1, window)
	})

	t.Run("50 concurrent hits over a limit of 10 allow exactly 10", func(t *testing.T) {
		t.Parallel()
		r := newRedis(t)
		require.Equal(t, 10, concurrentHits(t, r, "k", 50, 10, window))
	})
}

func TestRedisUnreachableReturnsError(t *testing.T) {
	t.Parallel()
	opts, err := redis.ParseURL("redis://127.0.0.1:1/0") // nothing listens on port 1
	require.NoError(t, err)
	opts.DialTimeout, opts.MaxRetries = time.Second, -1
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	r := ratelimit.NewRedis(client, "shopgraph-test:ratelimit:")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err = r.Hit(ctx, "k", 10, time.Minute)
	require.Error(t, err, "callers need the error to fail open")
	require.Contains(t, err.Error(), "rate limit")
}
