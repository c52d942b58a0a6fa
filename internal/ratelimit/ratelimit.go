// Package ratelimit counts attempts per key in fixed windows, in Redis when it is configured (so
// every instance shares the budget) and in process otherwise.
package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter allows at most limit hits per key in each window.
type Limiter interface {
	// Hit counts one attempt for key and reports whether it is within limit; when it is not,
	// retryAfter says when the window ends.
	Hit(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// Memory is an in-process Limiter for a single instance.
type Memory struct {
	mu      sync.Mutex
	now     func() time.Time
	windows map[string]memWindow
}

type memWindow struct {
	count int
	ends  time.Time
}

// NewMemory returns an in-process limiter. now may be nil (time.Now).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, windows: make(map[string]memWindow)}
}

// Hit implements Limiter.
func (m *Memory) Hit(_ context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	w := m.windows[key]
	if !now.Before(w.ends) {
		w = memWindow{ends: now.Add(window)}
		if len(m.windows) > 100_000 {
			m.sweep(now)
		}
	}
	w.count++
	m.windows[key] = w
	if w.count > limit {
		return false, w.ends.Sub(now), nil
	}
	return true, 0, nil
}

// sweep drops ended windows so that keys from many IPs cannot grow the map without bound.
func (m *Memory) sweep(now time.Time) {
	for k, w := range m.windows {
		if !now.Before(w.ends) {
			delete(m.windows, k)
		}
	}
}

// Redis is a Limiter shared by every instance through Redis.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

// NewRedis returns a Redis-backed limiter whose keys start with prefix.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// hitScript increments the window's counter and starts its expiry on the first hit, atomically,
// so a crash between INCR and PEXPIRE cannot leave a counter that never expires.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
`)

// Hit implements Limiter.
func (r *Redis) Hit(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	res, err := hitScript.Run(ctx, r.client, []string{r.prefix + key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return true, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if res[0] > int64(limit) {
		return false, time.Duration(res[1]) * time.Millisecond, nil
	}
	return true, 0, nil
}
