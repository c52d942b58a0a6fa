package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisOptions bounds what a slow or dead Redis may cost a request. Zero values take the
// defaults named on each field.
type RedisOptions struct {
	// Timeout bounds every call to Redis (default 50ms). A cache is only worth asking if it is
	// much faster than Postgres; past this, the caller is better off loading from the source.
	// The bound is enforced by the store itself, not by the client's ReadTimeout, because
	// go-redis ignores context deadlines on the socket unless the client was built with
	// ContextTimeoutEnabled (which is still worth setting, so abandoned calls free their
	// connection early).
	Timeout time.Duration
	// FailureThreshold is how many consecutive failures open the circuit breaker (default 5).
	// More than one, so that a single lost packet does not switch the cache off.
	FailureThreshold int
	// Cooldown is how long an open breaker skips Redis before one call probes it again
	// (default 2s). While open, a dead Redis costs a request nothing.
	Cooldown time.Duration
	// MaxPending bounds how many failed invalidations (keys and namespaces) are remembered for
	// replay (default 10,000). Past it, further ones are dropped and logged once; their
	// entries then stay stale until their TTL.
	MaxPending int
	// Logger receives one warning when the breaker opens and one message when it closes, never
	// one per request (default slog.Default()).
	Logger *slog.Logger
}

func (o RedisOptions) withDefaults() RedisOptions {
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 5
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 2 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 10_000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Redis is a Store shared by every instance through Redis. It never makes a request wait longer
// than RedisOptions.Timeout, stops asking Redis at all while a circuit breaker is open, and
// remembers invalidations that could not be delivered so that it never reads from Redis again
// before they have been replayed.
//
// Redis should run without persistence (or be flushed when it restarts from a snapshot): a
// restored snapshot brings back entries and generation counters that were invalidated after it
// was taken, and nothing but their TTL would retire them.
type Redis struct {
	client redis.UniversalClient
	prefix string
	opts   RedisOptions
	now    func() time.Time

	// mu guards the breaker and the pending invalidations. It is never held during a network
	// call: the probe marks itself with probing instead, so that other requests can see it and
	// skip Redis rather than queue behind it.
	mu       sync.Mutex
	failures int // consecutive failures
	open     bool
	openedAt time.Time
	retryAt  time.Time // while open, when the next call may probe
	probing  bool
	// pendingDel and pendingBump hold invalidations whose delivery failed, each with the
	// sequence number of its latest failure: a replay removes an entry only if no newer failure
	// for the same key arrived while the replay was in flight.
	pendingDel  map[string]uint64
	pendingBump map[string]uint64
	seq         uint64
	overflowed  bool // whether the MaxPending overflow has been logged since pending last emptied

	// gens holds one genReads per namespace (few: the catalog's list namespace), created on
	// first use and kept.
	gensMu sync.Mutex
	gens   map[string]*genReads
}

// genReads shares the reads of one namespace's generation among concurrent callers without
// ever answering one with a value read before it called: at most one read is in flight, and
// whoever calls meanwhile waits for the next read, which starts when the one in flight ends.
// A Bump that returned before a caller called is therefore always seen (a shared read that
// had started earlier might have missed it), and a process sends at most one generation read
// per namespace at a time however many requests it serves.
type genReads struct {
	mu      sync.Mutex
	running bool
	next    *genRead // the read that starts after the one in flight; nil: none asked for yet
}

// genRead is one shared read; done closes when gen and err are set.
type genRead struct {
	done    chan struct{}
	gen     int64
	err     error
	waiters int // callers waiting for it (under genReads.mu; tests look at it)
}

// NewRedis returns a Store that keeps entries in client under keys starting with prefix
// (typically the configured REDIS_KEY_PREFIX plus "cache:", so that several environments can
// share one Redis). Values live under prefix+"v:" and generation counters under prefix+"g:", so
// no cache key can collide with a counter.
func NewRedis(client redis.UniversalClient, prefix string, opts RedisOptions) *Redis {
	return &Redis{
		client:      client,
		prefix:      prefix,
		opts:        opts.withDefaults(),
		now:         time.Now,
		pendingDel:  make(map[string]uint64),
		pendingBump: make(map[string]uint64),
		gens:        make(map[string]*genReads),
	}
}

func (r *Redis) entryKey(k string) string { return r.prefix + "v:" + k }
func (r *Redis) genKey(ns string) string  { return r.prefix + "g:" + ns }

// Get implements Store with one MGET.
func (r *Redis) Get(ctx context.Context, keys ...string) (map[string][]byte, error) {
	if len(keys) == 0 {
		return map[string][]byte{}, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.entryKey(k)
	}
	vals, err := call(ctx, r, func(ctx context.Context) ([]any, error) {
		return r.client.MGet(ctx, full...).Result()
	})
	if err != nil {
		return nil, fmt.Errorf("cache: redis get: %w", err)
	}
	out := make(map[string][]byte, len(keys))
	for i, v := range vals {
		if s, ok := v.(string); ok && i < len(keys) {
			out[keys[i]] = []byte(s)
		}
	}
	return out, nil
}

// Set implements Store with one pipeline of SET ... PX, one round trip whatever the batch size.
func (r *Redis) Set(ctx context.Context, entries map[string][]byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errInvalidTTL
	}
	if len(entries) == 0 {
		return nil
	}
	// Redis rejects PX 0, which a sub-millisecond TTL would round to.
	ttl = max(ttl, time.Millisecond)
	_, err := call(ctx, r, func(ctx context.Context) (struct{}, error) {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for k, v := range entries {
				p.Set(ctx, r.entryKey(k), v, ttl)
			}
			return nil
		})
		return struct{}{}, err
	})
	if err != nil {
		return fmt.Errorf("cache: redis set: %w", err)
	}
	return nil
}

// raiseScript keeps the greater of the key's integer and ARGV[1] and gives the key ARGV[2]
// milliseconds to live, in one step: two instances raising one key at once cannot leave the
// lower value (a GET then SET could).
var raiseScript = redis.NewScript(`
local v = tonumber(redis.call('GET', KEYS[1]))
if v == nil or v < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

// Raise stores value under key unless the key holds a greater integer, and either way keeps
// the key ttl longer (the replica's read-your-writes marks: a session's mark only rises).
// Get reads the value as its decimal text.
func (r *Redis) Raise(ctx context.Context, key string, value int64, ttl time.Duration) error {
	if ttl <= 0 {
		return errInvalidTTL
	}
	ms := max(ttl, time.Millisecond).Milliseconds()
	_, err := call(ctx, r, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, raiseScript.Run(ctx, r.client, []string{r.entryKey(key)}, value, ms).Err()
	})
	if err != nil {
		return fmt.Errorf("cache: redis raise: %w", err)
	}
	return nil
}

// Delete implements Store with one DEL. If it fails, even by timing out after Redis may have
// applied it, the keys are kept for replay, and until the replay succeeds this store reads
// nothing from Redis: the entries may still be there, and they are stale.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.entryKey(k)
	}
	_, err := call(ctx, r, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.client.Del(ctx, full...).Err()
	})
	if err != nil {
		r.addPending(r.pendingDel, full)
		return fmt.Errorf("cache: redis delete: %w", err)
	}
	return nil
}

// Generation implements Store. It is read from Redis for every call and never remembered in
// process: another instance may bump it at any moment, and a remembered value would keep
// serving pages that instance has invalidated. Concurrent calls share reads (see genReads), but
// every call gets a value read after it was made. When Redis cannot be asked, Generation fails
// (ErrUnavailable while the breaker is open) rather than guess, so the caller bypasses the
// cache for that read.
func (r *Redis) Generation(ctx context.Context, namespace string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	g := r.genReadsOf(namespace)
	g.mu.Lock()
	if !g.running {
		// Nothing in flight: read now, on the caller's goroutine and context.
		g.running = true
		g.mu.Unlock()
		gen, err := r.readGeneration(ctx, namespace)
		r.nextGenRead(g, namespace)
		return gen, err
	}
	rd := g.next
	if rd == nil {
		rd = &genRead{done: make(chan struct{})}
		g.next = rd
	}
	rd.waiters++
	g.mu.Unlock()
	select {
	case <-rd.done:
		return rd.gen, rd.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// genReadsOf returns namespace's genReads.
func (r *Redis) genReadsOf(namespace string) *genReads {
	r.gensMu.Lock()
	defer r.gensMu.Unlock()
	g := r.gens[namespace]
	if g == nil {
		g = &genReads{}
		r.gens[namespace] = g
	}
	return g
}

// nextGenRead runs, after a read of namespace's generation ended, the read that callers asked
// for meanwhile, if any; it runs detached from every one of them (each still stops waiting at
// its own deadline), bounded by the store's timeout like any call.
func (r *Redis) nextGenRead(g *genReads, namespace string) {
	g.mu.Lock()
	rd := g.next
	g.next = nil
	if rd == nil {
		g.running = false
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	go func() {
		rd.gen, rd.err = r.readGeneration(context.Background(), namespace)
		close(rd.done)
		r.nextGenRead(g, namespace)
	}()
}

// readGeneration reads namespace's generation from Redis.
func (r *Redis) readGeneration(ctx context.Context, namespace string) (int64, error) {
	k := r.genKey(namespace)
	g, err := call(ctx, r, func(ctx context.Context) (int64, error) {
		n, err := r.client.Get(ctx, k).Int64()
		if !errors.Is(err, redis.Nil) {
			return n, err
		}
		// The counter is missing: first use, or Redis lost it (eviction, a restart). Starting
		// again from zero could revisit a generation whose pages are still stored, so start
		// from the clock instead, far above any value reached by counting bumps.
		var get *redis.StringCmd
		if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SetNX(ctx, k, r.now().UnixNano(), 0)
			get = p.Get(ctx, k)
			return nil
		}); err != nil {
			return 0, err
		}
		return get.Int64()
	})
	if err != nil {
		return 0, fmt.Errorf("cache: redis generation %s: %w", namespace, err)
	}
	return g, nil
}

// Bump implements Store with INCR, seeded from the clock like Generation. A failed Bump is kept
// for replay like a failed Delete; replaying one that had in fact been applied only costs one
// more invalidation.
func (r *Redis) Bump(ctx context.Context, namespace string) error {
	k := r.genKey(namespace)
	_, err := call(ctx, r, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.bump(ctx, []string{k})
	})
	if err != nil {
		r.addPending(r.pendingBump, []string{k})
		return fmt.Errorf("cache: redis bump %s: %w", namespace, err)
	}
	return nil
}

// bump increments the generation counters at full keys in one round trip.
func (r *Redis) bump(ctx context.Context, keys []string) error {
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		seed := r.now().UnixNano()
		for _, k := range keys {
			p.SetNX(ctx, k, seed, 0)
			p.Incr(ctx, k)
		}
		return nil
	})
	return err
}

// call runs fn against Redis if the breaker and the pending invalidations allow it, bounded by
// the configured timeout, and feeds the outcome to the breaker.
func call[R any](ctx context.Context, r *Redis, fn func(context.Context) (R, error)) (R, error) {
	var zero R
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if err := r.admit(ctx); err != nil {
		return zero, err
	}
	v, err := bounded(ctx, r.opts.Timeout, fn)
	r.record(ctx, err)
	return v, err
}

// bounded runs fn with a deadline and returns when the deadline passes even if fn has not,
// because go-redis only honours context deadlines on the socket when the client has
// ContextTimeoutEnabled, and this package does not build the client. An abandoned call finishes
// in the background within the client's own ReadTimeout; the breaker keeps their number small.
func bounded[R any](ctx context.Context, timeout time.Duration, fn func(context.Context) (R, error)) (R, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		v   R
		err error
	}
	done := make(chan result, 1) // buffered, so an abandoned call can still finish and exit
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case res := <-done:
		return res.v, res.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// admit decides whether a call may go to Redis. With the breaker closed and nothing pending it
// always may. Otherwise exactly one caller at a time (and, while the breaker is open, only
// once the cool-down has passed) replays the pending invalidations, or PINGs if there are
// none; every other caller gets ErrUnavailable at once. Only when that replay succeeds does
// the breaker close, so reads never resume while an invalidation is still undelivered.
func (r *Redis) admit(ctx context.Context) error {
	r.mu.Lock()
	if !r.open && len(r.pendingDel) == 0 && len(r.pendingBump) == 0 {
		r.mu.Unlock()
		return nil
	}
	if r.probing || (r.open && r.now().Before(r.retryAt)) {
		r.mu.Unlock()
		return ErrUnavailable
	}
	r.probing = true
	dels := maps.Clone(r.pendingDel)
	bumps := maps.Clone(r.pendingBump)
	r.mu.Unlock()

	_, err := bounded(ctx, r.opts.Timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.replay(ctx, dels, bumps)
	})

	r.mu.Lock()
	defer r.mu.Unlock()
	r.probing = false
	if err != nil {
		r.failLocked(ctx, err)
		return fmt.Errorf("cache: redis replay: %w", err)
	}
	forget(r.pendingDel, dels)
	forget(r.pendingBump, bumps)
	if len(r.pendingDel) == 0 && len(r.pendingBump) == 0 {
		r.overflowed = false
	}
	r.failures = 0
	if r.open {
		r.open = false
		r.opts.Logger.Info("cache: redis is available again, using it",
			slog.Duration("unavailable_for", r.now().Sub(r.openedAt)),
			slog.Int("replayed_invalidations", len(dels)+len(bumps)))
	}
	return nil
}

// replay delivers pending invalidations in one round trip, or PINGs when there are none so that
// a probe after a cool-down still tests Redis before real traffic returns to it.
func (r *Redis) replay(ctx context.Context, dels, bumps map[string]uint64) error {
	if len(dels) == 0 && len(bumps) == 0 {
		return r.client.Ping(ctx).Err()
	}
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		if len(dels) > 0 {
			keys := make([]string, 0, len(dels))
			for k := range dels {
				keys = append(keys, k)
			}
			p.Del(ctx, keys...)
		}
		seed := r.now().UnixNano()
		for k := range bumps {
			p.SetNX(ctx, k, seed, 0)
			p.Incr(ctx, k)
		}
		return nil
	})
	return err
}

// record feeds the outcome of an admitted call to the breaker.
func (r *Redis) record(ctx context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		if !r.open {
			r.failures = 0
		}
		return
	}
	r.failLocked(ctx, err)
}

// failLocked counts one failure, opening the breaker at the threshold. r.mu must be held.
func (r *Redis) failLocked(ctx context.Context, err error) {
	if ctx.Err() != nil {
		// The caller gave up (or its own deadline was shorter than ours): that says nothing
		// about Redis, and counting it would let impatient clients switch the cache off.
		return
	}
	r.failures++
	now := r.now()
	if r.open {
		// A failed probe, or a call admitted just before the breaker opened: wait again.
		r.retryAt = now.Add(r.opts.Cooldown)
		return
	}
	if r.failures >= r.opts.FailureThreshold {
		r.open = true
		r.openedAt = now
		r.retryAt = now.Add(r.opts.Cooldown)
		r.opts.Logger.Warn("cache: redis is failing, bypassing it and loading from the source",
			slog.Int("consecutive_failures", r.failures),
			slog.Duration("retry_in", r.opts.Cooldown),
			slog.Any("err", err))
	}
}

// addPending remembers full keys (entries or generation counters) whose invalidation failed.
func (r *Redis) addPending(m map[string]uint64, keys []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if _, ok := m[k]; !ok && len(r.pendingDel)+len(r.pendingBump) >= r.opts.MaxPending {
			if !r.overflowed {
				r.overflowed = true
				r.opts.Logger.Error("cache: too many undelivered invalidations, dropping some; their entries stay stale until their TTL",
					slog.Int("max_pending", r.opts.MaxPending))
			}
			continue
		}
		r.seq++
		m[k] = r.seq
	}
}

// forget removes replayed entries unless they failed again while the replay was in flight.
func forget(m, replayed map[string]uint64) {
	for k, seq := range replayed {
		if m[k] == seq {
			delete(m, k)
		}
	}
}
