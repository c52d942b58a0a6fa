package ratelimit

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Buckets are token buckets per key: rate requests per period, bursting up to rate. Unlike
// the fixed windows of Limiter, a bucket refills continuously, so a client cannot double its
// budget across a window boundary. Used for the API's request budgets.
type Buckets interface {
	// Take takes one token from key's bucket; when empty, retryAfter says when one returns.
	Take(ctx context.Context, key string, ratePerPeriod int, period time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// RedisBuckets keeps the buckets in Redis (GCRA through go-redis/redis_rate), shared by every
// instance.
type RedisBuckets struct {
	limiter *redis_rate.Limiter
	prefix  string
}

// NewRedisBuckets returns buckets in Redis under prefix.
func NewRedisBuckets(client redis.UniversalClient, prefix string) *RedisBuckets {
	return &RedisBuckets{limiter: redis_rate.NewLimiter(client), prefix: prefix}
}

// Take implements Buckets.
func (b *RedisBuckets) Take(ctx context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	res, err := b.limiter.Allow(ctx, b.prefix+key, redis_rate.Limit{Rate: n, Burst: n, Period: period})
	if err != nil {
		return true, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	return res.Allowed > 0, res.RetryAfter, nil
}

// MemoryBuckets keeps the buckets in process (one instance).
type MemoryBuckets struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// NewMemoryBuckets returns in-process buckets.
func NewMemoryBuckets() *MemoryBuckets {
	return &MemoryBuckets{buckets: map[string]*rate.Limiter{}}
}

// Take implements Buckets.
func (b *MemoryBuckets) Take(_ context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	bk, ok := b.buckets[key]
	if !ok {
		if len(b.buckets) > 100_000 {
			// A full bucket is what a new one would be: forgetting it changes nothing,
			// whatever its period.
			for k, l := range b.buckets {
				if l.TokensAt(now) >= float64(l.Burst()) {
					delete(b.buckets, k)
				}
			}
		}
		bk = rate.NewLimiter(rate.Every(period/time.Duration(max(n, 1))), n)
		b.buckets[key] = bk
	}
	r := bk.ReserveN(now, 1)
	if !r.OK() {
		return false, period, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}

// RetrySeconds is a wait as the whole seconds a client is told to wait (Retry-After,
// retryAfterSeconds): rounded up, at least 1.
func RetrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
