// Package cache is the cache-aside layer that domain services put in front of Postgres: the
// catalog caches products by id and the hottest product list pages through it.
//
// Postgres stays the source of truth, and the cache is only ever an optimisation: every cache
// failure, whether Redis is dead, slow, or holding bytes that no longer decode, falls through to
// the loader, and no cache error ever reaches the caller. Only the loader's own errors do.
//
// Entries live in a Store: Redis when it is configured, so that all instances share the cache and
// its invalidations, or process memory otherwise (NewMemory). Values are stored as JSON, so the
// cached types must round-trip through encoding/json; when a type changes incompatibly, change
// the key prefix too (undecodable entries are treated as misses and overwritten, but a decode
// that silently succeeds into a changed type would not be).
//
// With Redis, a bounded near cache in process memory (NewWithNear) sits in front of it for the
// keys of GetOrLoadVersioned only. Those keys embed their namespace's generation, which is
// read from Redis on every call (concurrent reads of one process share one round trip, each
// started after its callers arrived): a Bump on any instance retires every near entry of the
// namespace before the Bump's caller has even returned, with no message to wait for. Keys
// invalidated by Delete are never kept near: another instance's Delete would not reach them.
//
// Invalidate after commit (see GUIDE §4): Delete for entries with known keys, Bump for families
// of keys that cannot be enumerated, such as every page of a product list. Cache-aside keeps one
// race that no single process can close: a reader on another instance that loaded before a
// commit can write its stale value after that commit's Delete. TTLs bound how long that lasts,
// so keep them short (seconds to minutes) for data that changes.
package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// invalBuckets is the number of in-process invalidation counters; see Cache.inval.
const invalBuckets = 1024

// Cache wraps a Store with typed, JSON-encoded cache-aside helpers (GetOrLoad, GetOrLoadMany,
// GetOrLoadVersioned), single-flight loading and hit/miss counters. One Cache is shared by
// every service of a process; it is safe for concurrent use.
type Cache struct {
	store Store
	group singleflight.Group

	// inval counts Deletes per hash bucket of keys. A load remembers its key's bucket before
	// reading Postgres and skips writing the result back if the bucket moved meanwhile: the
	// value may predate the commit that caused the Delete, and writing it would resurrect
	// what the Delete removed. Buckets rather than one counter per key keep memory fixed; a
	// collision only skips one write-back.
	inval [invalBuckets]atomic.Uint64
	seed  maphash.Seed

	// near, when not nil, keeps versioned entries in process in front of a shared store; see
	// NewWithNear. nearTTL bounds how long one is kept.
	near    *Memory
	nearTTL time.Duration
	// trusted: the store holds only what this Cache encoded (process memory), so a hit is
	// copied rather than decoded again; see decode.
	trusted bool

	hits, misses, bypasses, loads, errors, nearHits atomic.Uint64

	// reinvalidate is RepeatInvalidations' function.
	reinvalidate atomic.Pointer[func(again func())]
}

// RepeatInvalidations hands schedule a repeat of every later Delete and Bump, to run once a
// read replica has replayed the commit behind it (postgres.Replica.AfterReplay): a load that
// read the replica before that may have cached what the first invalidation removed.
func (c *Cache) RepeatInvalidations(schedule func(again func())) {
	c.reinvalidate.Store(&schedule)
}

// repeat schedules again when invalidations are repeated.
func (c *Cache) repeat(again func()) {
	if schedule := c.reinvalidate.Load(); schedule != nil {
		(*schedule)(again)
	}
}

// New returns a Cache over store.
func New(store Store) *Cache {
	_, mem := store.(*Memory)
	return &Cache{store: store, seed: maphash.MakeSeed(), trusted: mem}
}

// NearOptions bound the near cache of NewWithNear.
type NearOptions struct {
	// MaxEntries bounds the entries held; 0 (or less) turns the near cache off.
	MaxEntries int
	// MaxBytes bounds the summed size of the values held (0: only MaxEntries bounds it).
	MaxBytes int64
	// TTL bounds how long an entry is kept near, on top of the time it spent in the shared
	// store before (whose remaining TTL a read does not return): what no Bump retires (stock
	// counts between status changes) may be that much staler than without the near cache.
	// 0: DefaultNearTTL.
	TTL time.Duration
}

// DefaultNearTTL is NearOptions.TTL's default.
const DefaultNearTTL = 5 * time.Second

// NewWithNear returns a Cache over a shared store (Redis) with a near cache in front of it for
// the versioned keys (GetOrLoadVersioned): a hit there costs one generation read and no value
// read. See the package comment for why it stays coherent across instances.
func NewWithNear(store Store, near NearOptions) *Cache {
	c := New(store)
	if near.MaxEntries > 0 {
		c.near = NewMemoryBytes(near.MaxEntries, near.MaxBytes)
		c.nearTTL = near.TTL
		if c.nearTTL <= 0 {
			c.nearTTL = DefaultNearTTL
		}
	}
	return c
}

// NearLen reports how many entries the near cache holds (0 without one), for tests and
// diagnostics.
func (c *Cache) NearLen() int {
	if c.near == nil {
		return 0
	}
	return c.near.Len()
}

// Stats is a snapshot of a Cache's counters since it was created, for metrics. Hit ratio is
// Hits / (Hits + Misses); Bypasses show how much traffic the cache could not serve at all.
type Stats struct {
	// Hits counts keys served from the store or the near cache.
	Hits uint64
	// NearHits counts the Hits served by the near cache, without reading a value from the
	// shared store.
	NearHits uint64
	// Misses counts keys the store answered for but did not hold (or held undecodable).
	Misses uint64
	// Bypasses counts keys loaded without the cache's help because the store failed or was
	// skipped (Redis down or slow, breaker open).
	Bypasses uint64
	// Loads counts calls of a load function, after single-flight coalescing: the queries the
	// cache let through to Postgres.
	Loads uint64
	// Errors counts cache operations that failed and were absorbed: store calls (reads,
	// writes, invalidations), and values that could not be encoded or decoded.
	Errors uint64
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits:     c.hits.Load(),
		NearHits: c.nearHits.Load(),
		Misses:   c.misses.Load(),
		Bypasses: c.bypasses.Load(),
		Loads:    c.loads.Load(),
		Errors:   c.errors.Load(),
	}
}

// Delete invalidates keys. Call it after the transaction that changed their data has committed.
//
// It returns nothing because a failure is not the caller's to handle: the commit has happened,
// failing the request would not undo it, and the Redis store already keeps the keys for replay
// (and reads nothing from Redis until they are delivered). Failures show in Stats().Errors.
// Invalidation runs even if ctx has been cancelled, because a client hanging up after the commit
// must not leave stale data behind; the store's own timeout still bounds it.
func (c *Cache) Delete(ctx context.Context, keys ...string) {
	c.delete(ctx, keys)
	if len(keys) > 0 && c.reinvalidate.Load() != nil {
		keys = append([]string(nil), keys...)
		c.repeat(func() { c.delete(context.Background(), keys) })
	}
}

func (c *Cache) delete(ctx context.Context, keys []string) {
	for _, k := range keys {
		c.bucket(k).Add(1)
		// A load already in flight may have read the old row; make later callers start
		// their own instead of joining it.
		c.group.Forget(k)
		c.group.Forget("fresh:" + k)
	}
	if err := c.store.Delete(context.WithoutCancel(ctx), keys...); err != nil {
		c.errors.Add(1)
	}
}

// Bump invalidates every key of namespace used with GetOrLoadVersioned, such as every cached
// page of a list, by moving it to a new generation. Call it after commit; like Delete it absorbs
// failures and ignores cancellation of ctx.
func (c *Cache) Bump(ctx context.Context, namespace string) {
	c.bump(ctx, namespace)
	c.repeat(func() { c.bump(context.Background(), namespace) })
}

func (c *Cache) bump(ctx context.Context, namespace string) {
	if err := c.store.Bump(context.WithoutCancel(ctx), namespace); err != nil {
		c.errors.Add(1)
	}
}

// freshKey marks a context whose reads skip the stored values.
type freshKey struct{}

// Fresh returns a context in which GetOrLoad, GetOrLoadVersioned and GetOrLoadMany skip what
// the store holds and load afresh (still writing back what they load), sharing a load only
// with other fresh callers whose load started after the last invalidation of the key: for a viewer who must read its own writes from the primary while a read
// replica's older value may be cached.
func Fresh(ctx context.Context) context.Context { return context.WithValue(ctx, freshKey{}, true) }

func isFresh(ctx context.Context) bool { return ctx.Value(freshKey{}) != nil }

// Generation returns namespace's current generation, for callers that build versioned keys
// themselves. An error means the generation is unknown right now (Redis down, breaker open),
// and the caller must then bypass the cache rather than guess: a guessed or remembered value
// could be one that another instance has already bumped past.
func (c *Cache) Generation(ctx context.Context, namespace string) (int64, error) {
	return c.store.Generation(ctx, namespace)
}

// GetOrLoad returns the value cached under key, or calls load, caches its result for ttl and
// returns it. Concurrent misses on the same key in this process share one load, so a hot key
// expiring does not send a stampede to Postgres.
//
// Only load's errors are returned (and they are not cached: a NOT_FOUND is looked up again
// next time). Because its result is shared, load must not depend on who is asking — caching
// per-viewer data needs the viewer in the key — and it runs detached from ctx's cancellation
// (keeping its values and deadline), so that the caller that happened to start it hanging up
// does not fail the others waiting for it. Each caller receives its own copy of the value.
// A panic in load is returned as an error to every waiting caller rather than crashing the
// process from a goroutine no recover can reach.
func GetOrLoad[T any](ctx context.Context, c *Cache, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err // nobody is waiting: don't start a load that would outlive the caller
	}
	if isFresh(ctx) {
		return loadShared(ctx, c, "fresh:"+key, key, ttl, load)
	}
	if v, _, ok := lookup[T](ctx, c, key); ok {
		return v, nil
	}
	return loadShared(ctx, c, key, key, ttl, load)
}

// GetOrLoadVersioned is GetOrLoad for keys that belong to namespace and are invalidated
// together by Bump, such as the pages of a product list ("products", "first=20,after=abc"). The
// namespace's generation is read before loading, so a load racing with a commit caches its
// result under the generation that commit's Bump retires.
//
// When the generation cannot be read (Redis down or slow, breaker open), the value is loaded
// and returned without touching the cache: serving a page under a remembered generation could
// serve one that another instance has invalidated. Such loads are still coalesced per key.
func GetOrLoadVersioned[T any](ctx context.Context, c *Cache, namespace, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	gen, err := c.store.Generation(ctx, namespace)
	if err != nil {
		c.bypasses.Add(1)
		c.errors.Add(1)
		return loadShared(ctx, c, namespace+"@?:"+key, "", ttl, load)
	}
	full := namespace + "@" + strconv.FormatInt(gen, 10) + ":" + key
	if isFresh(ctx) {
		return loadShared(ctx, c, "fresh:"+full, full, ttl, load)
	}
	if c.near != nil {
		if b, ok := c.near.getShared(full); ok {
			if v, ok := decode[T](b, true); ok {
				c.hits.Add(1)
				c.nearHits.Add(1)
				return v, nil
			}
		}
	}
	if v, b, ok := lookup[T](ctx, c, full); ok {
		c.keepNear(full, b, c.nearTTL)
		return v, nil
	}
	return loadSharedNear(ctx, c, full, full, ttl, c.near != nil, load)
}

// keepNear puts b in the near cache, if any, for at most ttl.
func (c *Cache) keepNear(key string, b []byte, ttl time.Duration) {
	if c.near == nil || b == nil {
		return
	}
	_ = c.near.Set(context.Background(), map[string][]byte{key: b}, min(ttl, c.nearTTL))
}

// GetOrLoadMany is GetOrLoad for the batch functions of dataloaders: one store read for all
// keys, one call of load with only the keys that missed (deduplicated, in first-seen order),
// and one store write of what it returned. keyFn maps a key to its cache key.
//
// The result holds every key that was cached or that load returned; a key load leaves out
// (not found) is absent, and is not cached. A load error is returned alone, without the hits,
// matching the dataloader rule that a query error fills every result. There is no
// single-flight here: dataloaders already batch, and coalescing partly overlapping batches
// would cost more than it saves.
func GetOrLoadMany[K comparable, T any](ctx context.Context, c *Cache, keys []K, keyFn func(K) string, ttl time.Duration, load func(ctx context.Context, missing []K) (map[K]T, error)) (map[K]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[K]T, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	uniq := make([]K, 0, len(keys))
	strs := make([]string, 0, len(keys))
	seen := make(map[K]struct{}, len(keys))
	for _, k := range keys {
		if _, ok := seen[k]; ok {
			continue
		}
		seen[k] = struct{}{}
		uniq = append(uniq, k)
		strs = append(strs, keyFn(k))
	}

	var found map[string][]byte
	var err error
	if !isFresh(ctx) {
		found, err = c.store.Get(ctx, strs...)
	}
	storeOK := err == nil
	if !storeOK {
		c.bypasses.Add(uint64(len(uniq)))
		c.errors.Add(1)
	}
	var missing []K
	var missingStrs []string
	for i, k := range uniq {
		if b, ok := found[strs[i]]; ok {
			if v, ok := decode[T](b, c.trusted); ok {
				out[k] = v
				c.hits.Add(1)
				continue
			}
			c.errors.Add(1)
		}
		if storeOK {
			c.misses.Add(1)
		}
		missing = append(missing, k)
		missingStrs = append(missingStrs, strs[i])
	}
	if len(missing) == 0 {
		return out, nil
	}

	before := make([]uint64, len(missing))
	for i, s := range missingStrs {
		before[i] = c.bucket(s).Load()
	}
	c.loads.Add(1)
	loaded, err := load(ctx, missing)
	if err != nil {
		return nil, err
	}
	entries := make(map[string][]byte, len(missing))
	for i, k := range missing {
		v, ok := loaded[k]
		if !ok {
			continue
		}
		out[k] = v
		if c.bucket(missingStrs[i]).Load() != before[i] {
			continue // invalidated while loading; see Cache.inval
		}
		b, err := json.Marshal(v)
		if err != nil {
			c.errors.Add(1)
			continue
		}
		entries[missingStrs[i]] = b
	}
	if len(entries) > 0 {
		if err := c.store.Set(ctx, entries, ttl); err != nil {
			c.errors.Add(1)
		}
	}
	return out, nil
}

// lookup reads key from the store and decodes it, counting the outcome; it also returns the
// bytes it decoded.
func lookup[T any](ctx context.Context, c *Cache, key string) (T, []byte, bool) {
	var zero T
	found, err := c.store.Get(ctx, key)
	if err != nil {
		c.bypasses.Add(1)
		c.errors.Add(1)
		return zero, nil, false
	}
	b, ok := found[key]
	if !ok {
		c.misses.Add(1)
		return zero, nil, false
	}
	v, ok := decode[T](b, c.trusted)
	if !ok {
		// Written for an older shape of T, or corrupt: a miss, which the reload overwrites.
		c.errors.Add(1)
		c.misses.Add(1)
		return zero, nil, false
	}
	c.hits.Add(1)
	return v, b, true
}

// decode returns a private copy of the value encoded in b. A value that is itself JSON
// (json.RawMessage: the public response cache's whole answers) is copied rather than decoded
// when b is trusted, i.e. was encoded by this process (or already decoded once when read from
// Redis): decoding would only re-validate, which for a page of products costs more than the
// rest of a cache hit.
func decode[T any](b []byte, trusted bool) (T, bool) {
	var v T
	if raw, ok := any(&v).(*json.RawMessage); ok && trusted {
		*raw = append(json.RawMessage(nil), b...)
		return v, true
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false
	}
	return v, true
}

// flight is what one shared load hands to every caller waiting on it: the value for the caller
// that ran it, and its encoding, from which every other caller decodes a private copy.
type flight struct {
	v any
	b []byte
}

// loadShared runs load once for all concurrent callers with the same flightKey and, unless
// cacheKey is empty, writes the result to the store under cacheKey.
func loadShared[T any](ctx context.Context, c *Cache, flightKey, cacheKey string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	return loadSharedNear(ctx, c, flightKey, cacheKey, ttl, false, load)
}

// loadSharedNear is loadShared that also keeps the result in the near cache when near is set.
func loadSharedNear[T any](ctx context.Context, c *Cache, flightKey, cacheKey string, ttl time.Duration, near bool, load func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	led := false // set only by the goroutine running our function; read after the channel receive
	ch := c.group.DoChan(flightKey, func() (res any, err error) {
		led = true
		lctx, cancel := detach(ctx)
		defer cancel()
		defer func() {
			if p := recover(); p != nil {
				res, err = nil, fmt.Errorf("cache: load %q panicked: %v\n%s", flightKey, p, debug.Stack())
			}
		}()
		var before uint64
		if cacheKey != "" {
			before = c.bucket(cacheKey).Load()
		}
		c.loads.Add(1)
		v, err := load(lctx)
		if err != nil {
			return nil, err
		}
		f := flight{v: v}
		b, err := json.Marshal(v)
		if err != nil {
			c.errors.Add(1)
			return f, nil
		}
		f.b = b
		if cacheKey != "" && c.bucket(cacheKey).Load() == before {
			if err := c.store.Set(lctx, map[string][]byte{cacheKey: b}, ttl); err != nil {
				c.errors.Add(1)
			}
			if near {
				c.keepNear(cacheKey, b, ttl)
			}
		}
		return f, nil
	})

	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return zero, res.Err
		}
		f := res.Val.(flight)
		if !led && f.b != nil {
			// Decode a private copy so that callers can never mutate each other's values.
			if v, ok := decode[T](f.b, true); ok {
				return v, nil
			}
		}
		if v, ok := f.v.(T); ok {
			return v, nil
		}
		// Another caller used the same key with a different type: a bug, but not this
		// caller's failure to absorb; load for ourselves.
		return load(ctx)
	}
}

// detach returns a context with ctx's values and deadline but not its cancellation, for a load
// that other callers share.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(d, dl)
	}
	return d, func() {}
}

func (c *Cache) bucket(key string) *atomic.Uint64 {
	return &c.inval[maphash.String(c.seed, key)%invalBuckets]
}
