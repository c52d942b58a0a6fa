package cache

import (
	"context"
	"errors"
	"time"
)

// Store is where cached bytes live: Redis when it is configured, so that every instance shares
// one cache and one set of invalidations, or process memory otherwise. The typed helpers
// (GetOrLoad, GetOrLoadMany, GetOrLoadVersioned) sit on top of it and treat every Store error
// as "go to the source of truth", so an implementation may fail freely but must never return
// data it is unsure of.
type Store interface {
	// Get returns the entries that exist among keys; a key that is absent or expired is simply
	// missing from the map, which is not an error.
	Get(ctx context.Context, keys ...string) (map[string][]byte, error)
	// Set stores every entry with the same time to live. ttl must be positive: an entry that
	// never expires would turn a single lost invalidation into permanently stale data.
	Set(ctx context.Context, entries map[string][]byte, ttl time.Duration) error
	// Delete removes keys. Deleting an absent key is not an error.
	Delete(ctx context.Context, keys ...string) error
	// Generation returns the current generation of namespace. Keys built from it (see
	// GetOrLoadVersioned) become unreachable when Bump changes it, which is how a family of keys
	// that cannot be enumerated, such as every cached page of a product list, is invalidated at
	// once. A value is never reused for the same namespace, even after Redis loses the counter.
	Generation(ctx context.Context, namespace string) (int64, error)
	// Bump moves namespace to a new generation, invalidating every key built from the old one.
	Bump(ctx context.Context, namespace string) error
}

// ErrUnavailable is returned by a Store that is deliberately not being asked right now: the
// Redis circuit breaker is open, or invalidations that failed earlier have not been replayed
// yet. Callers treat it like any other store error and go to the source of truth.
var ErrUnavailable = errors.New("cache: store unavailable")

// errInvalidTTL rejects entries that would never expire; see Store.Set.
var errInvalidTTL = errors.New("cache: ttl must be positive")
