package ratelimit

import (
	"context"
	"fmt"
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
	buckets map[string]*memBucket
	now     func() time.Time
}

type memBucket struct {
	limiter *rate.Limiter
	used    time.Time
}

// NewMemoryBuckets returns in-process buckets. now may be nil (time.Now).
func NewMemoryBuckets(now func() time.Time) *MemoryBuckets {
	if now == nil {
		now = time.Now
	}
	return &MemoryBuckets{buckets: map[string]*memBucket{}, now: now}
}

// Take implements Buckets.
func (b *MemoryBuckets) Take(_ context.Context, key string, n int, period time.Duration) (bool, time.Duration, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	bk, ok := b.buckets[key]
	if !ok {
		if len(b.buckets) > 100_000 {
			// Idle buckets are full again: forgetting them changes nothing.
			for k, v := range b.buckets {
				if now.Sub(v.used) > period {
					delete(b.buckets, k)
				}
			}
		}
		bk = &memBucket{limiter: rate.NewLimiter(rate.Every(period/time.Duration(max(n, 1))), n)}
		b.buckets[key] = bk
	}
	bk.used = now
	r := bk.limiter.ReserveN(now, 1)
	if !r.OK() {
		return false, period, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, nil
	}
	return true, 0, nil
}
