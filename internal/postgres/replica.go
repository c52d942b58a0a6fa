package postgres

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/cache"
)

// Reads are the generated queries for reads outside a transaction, bound to the primary or to
// a read replica. Never begin a transaction or write through them.
type Reads struct {
	*db.Queries
	// CustomPlans is DB.CustomPlans of the same server.
	CustomPlans *db.Queries
}

// Reads returns d's own queries as Reads: every read on the primary.
func (d *DB) Reads() Reads { return Reads{Queries: d.Queries, CustomPlans: d.CustomPlans} }

// WriteMarks is where a session's read-your-writes mark lives until the replica has replayed
// its write. cache.Store fits: in Redis every instance sees the mark, so the next request of
// a session that just wrote reads the primary whichever instance a load balancer sends it to.
type WriteMarks interface {
	Get(ctx context.Context, keys ...string) (map[string][]byte, error)
	// Raise stores value (read back by Get as decimal text) unless the key holds a greater
	// one, and keeps the key ttl longer: two writes of one session on two instances must
	// leave the later WAL position, whichever is stored last.
	Raise(ctx context.Context, key string, value int64, ttl time.Duration) error
}

// ReplicaOptions tunes a Replica.
type ReplicaOptions struct {
	// MaxLag is how stale the replica may be (DATABASE_REPLICA_MAX_LAG): beyond it, every
	// read goes to the primary. Default 5s.
	MaxLag time.Duration
	// ProbeInterval is how often the background probe measures the lag. Default 250ms.
	ProbeInterval time.Duration
	// Session names the session of ctx whose writes it must read back ("" for none, such as
	// an anonymous viewer: nothing to read back).
	Session func(ctx context.Context) string
	// Marks keep the sessions' marks; nil: in this process only (one instance).
	Marks WriteMarks
	// MaxConns and Tracer are the replica pool's, as in Options.
	MaxConns int32
	Tracer   pgx.QueryTracer
	Log      *slog.Logger
}

// Replica routes the catalog's reads to a streaming replica of the primary, or to the primary
// when they must see what the replica may not have yet:
//
//   - while the replica is down or more than MaxLag behind (the background probe's verdict,
//     and any read that finds it unreachable, which then runs on the primary instead);
//   - inside a mutation (it reads back what it wrote);
//   - for a session that wrote, until the replica has replayed the primary's WAL position
//     taken after that write (NoteWrite), or at most MaxLag and two probes later, when the
//     replica, if still used, has it anyway.
//
// Writes and transactions never come here: they use the primary's DB.
type Replica struct {
	primary *DB
	pool    *pgxpool.Pool
	reads   Reads
	probeQ  *db.Queries
	opts    ReplicaOptions
	marks   WriteMarks

	usable   atomic.Bool
	replayed atomic.Int64 // the replica's replay position at the last probe
	lag      atomic.Int64 // nanoseconds, at the last probe

	mu      sync.Mutex
	samples []walSample     // the primary's positions that the replica had not replayed, and the newest it had
	waiters []*replayWaiter // AfterReplay's
	closed  bool            // Close ran: AfterReplay runs its function at once

	stop context.CancelFunc
	done chan struct{}

	replicaReads, primaryReads, fallbacks atomic.Uint64
}

// walSample is the primary's WAL insert position read at a moment: whatever committed before
// at lies at or before lsn.
type walSample struct {
	at  time.Time
	lsn int64
}

// replayWaiter is a function to run once the replica has replayed what committed before since.
type replayWaiter struct {
	since  time.Time
	target int64 // the primary's position after since; 0 until a probe has read it
	run    func()
}

// OpenReplica opens a pool on the replica at url and starts the probe. A replica that does
// not answer yet is no error: reads go to the primary until the probe finds it caught up.
func OpenReplica(ctx context.Context, url string, primary *DB, opts ReplicaOptions) (*Replica, error) {
	if opts.MaxLag <= 0 {
		opts.MaxLag = 5 * time.Second
	}
	if opts.ProbeInterval <= 0 {
		opts.ProbeInterval = 250 * time.Millisecond
	}
	if opts.Session == nil {
		opts.Session = func(context.Context) string { return "" }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	pool, err := newPool(ctx, url, Options{MaxConns: opts.MaxConns, Tracer: opts.Tracer})
	if err != nil {
		return nil, err
	}
	r := &Replica{primary: primary, pool: pool, opts: opts, marks: opts.Marks, done: make(chan struct{})}
	if r.marks == nil {
		r.marks = cache.NewMemory(maxMemoryMarks)
	}
	r.probeQ = db.New(pool)
	dbtx := fallbackDBTX{replica: poolDBTX{pool}, primary: poolDBTX{primary.Pool}, r: r}
	r.reads = Reads{Queries: db.New(dbtx), CustomPlans: db.New(customPlans{dbtx})}
	r.replayed.Store(-1)
	r.probe(ctx)
	probeCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r.stop = stop
	go r.run(probeCtx)
	return r, nil
}

// Close stops the probe, runs what waited for the replica, and closes its pool.
func (r *Replica) Close() {
	r.stop()
	<-r.done
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.runAllWaiters()
	r.pool.Close()
}

// Reads returns the queries ctx's reads run on: the replica's when it may serve them, the
// primary's otherwise (see Replica).
func (r *Replica) Reads(ctx context.Context) Reads {
	if r.ReadsPrimary(ctx) {
		r.primaryReads.Add(1)
		return r.primary.Reads()
	}
	r.replicaReads.Add(1)
	return r.reads
}

// ReadsPrimary reports whether ctx's reads must go to the primary.
func (r *Replica) ReadsPrimary(ctx context.Context) bool {
	return !r.usable.Load() || ctx.Value(writesKey{}) != nil || r.OwnWritesPending(ctx)
}

// MustSkipCaches reports whether ctx's reads must skip caches that a read of the replica may
// have filled: a mutation's own reads (its payload), and a session's with writes pending.
func (r *Replica) MustSkipCaches(ctx context.Context) bool {
	return ctx.Value(writesKey{}) != nil || r.OwnWritesPending(ctx)
}

// OwnWritesPending reports whether ctx's session wrote something the replica had not replayed
// at the last probe. Its reads go to the primary, and must skip caches that a read of the
// replica may have filled.
func (r *Replica) OwnWritesPending(ctx context.Context) bool {
	mark, ok := r.markOf(ctx)
	// A mark that cannot be read (Redis down) may hide a write: the primary is always right.
	// No mark (0) is nothing pending, even while the replay position is unknown (-1).
	return !ok || (mark > 0 && mark > r.replayed.Load())
}

// maxMemoryMarks bounds the marks kept in this process when there is no Redis: the sessions
// that wrote within the last MaxLag or so.
const maxMemoryMarks = 10_000

// markPrefix starts the keys of the sessions' marks.
const markPrefix = "replica-mark:"

// markTTL is how long a mark is kept. The replica is used only while the probe finds it at
// most MaxLag behind, so a write older than MaxLag plus the age of the last verdict (an
// interval, plus a probe that may run up to its time-out) is on the replica whenever the
// replica is used: the mark is needed no longer.
func (r *Replica) markTTL() time.Duration {
	return r.opts.MaxLag + r.opts.ProbeInterval + r.probeTimeout()
}

// probeTimeout bounds one probe; while it runs, the previous verdict stands.
func (r *Replica) probeTimeout() time.Duration { return max(time.Second, 4*r.opts.ProbeInterval) }

// NoteWrite marks ctx's session as having written: its reads go to the primary until the
// replica has replayed the primary's WAL as it is now. Call it after the commit and before
// the response leaves, so that the session's next request, on any instance, sees the mark.
func (r *Replica) NoteWrite(ctx context.Context) {
	key := r.opts.Session(ctx)
	if key == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	lsn, err := r.primary.Queries.WalInsertLSN(ctx)
	if err != nil {
		// Unknown: read the primary for the whole bound.
		lsn = math.MaxInt64
		r.opts.Log.Warn("read the primary's WAL position for read-your-writes", "err", err)
	}
	if err := r.marks.Raise(ctx, markPrefix+key, lsn, r.markTTL()); err != nil {
		r.opts.Log.Warn("store a read-your-writes mark; the replica may serve the writer a stale read", "err", err)
	}
	if memo, ok := ctx.Value(markMemoKey{}).(*markMemo); ok {
		memo.raise(lsn)
	}
}

// markMemoKey holds the one reading of a session's mark for an operation (WithSession).
type markMemoKey struct{}

type markMemo struct {
	once sync.Once
	mu   sync.Mutex
	lsn  int64
	ok   bool
}

func (m *markMemo) raise(lsn int64) {
	m.once.Do(func() { m.ok = true })
	m.mu.Lock()
	m.lsn = max(m.lsn, lsn)
	m.mu.Unlock()
}

// WithSession returns a context in which the session's mark is read once, for every read of
// one operation (a GraphQL response), rather than once per statement.
func (r *Replica) WithSession(ctx context.Context) context.Context {
	return context.WithValue(ctx, markMemoKey{}, &markMemo{})
}

// markOf returns the WAL position ctx's session must read back (0: none), and false when the
// mark could not be read.
func (r *Replica) markOf(ctx context.Context) (int64, bool) {
	key := r.opts.Session(ctx)
	if key == "" {
		return 0, true
	}
	memo, ok := ctx.Value(markMemoKey{}).(*markMemo)
	if !ok {
		return r.readMark(ctx, key)
	}
	memo.once.Do(func() { memo.lsn, memo.ok = r.readMark(ctx, key) })
	memo.mu.Lock()
	defer memo.mu.Unlock()
	return memo.lsn, memo.ok
}

func (r *Replica) readMark(ctx context.Context, key string) (int64, bool) {
	found, err := r.marks.Get(ctx, markPrefix+key)
	if err != nil {
		return 0, false
	}
	b, ok := found[markPrefix+key]
	if !ok {
		return 0, true
	}
	lsn, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, false
	}
	return lsn, true
}

// AfterReplay runs fn once the replica has replayed everything committed before this call,
// or at once when the replica stops being used (its reads go to the primary then). The cache
// repeats its invalidations through it (cache.Cache.RepeatInvalidations).
func (r *Replica) AfterReplay(fn func()) {
	r.mu.Lock()
	closed := r.closed
	if !closed {
		r.waiters = append(r.waiters, &replayWaiter{since: time.Now(), run: fn})
	}
	r.mu.Unlock()
	if closed {
		fn()
	}
}

// runAllWaiters runs every function waiting for the replay, at once: the replica's reads go
// to the primary from now on, so nothing cached from the replica can be older than them.
func (r *Replica) runAllWaiters() {
	r.mu.Lock()
	due := r.waiters
	r.waiters = nil
	r.mu.Unlock()
	for _, w := range due {
		w.run()
	}
}

// ReplicaStats are a Replica's counters and its probe's last verdict.
type ReplicaStats struct {
	// ReplicaReads and PrimaryReads count the choices of Reads.
	ReplicaReads, PrimaryReads uint64
	// Fallbacks counts reads that found the replica unreachable and ran on the primary.
	Fallbacks uint64
	// Usable is the probe's verdict: the replica answers and is at most MaxLag behind.
	Usable bool
	// Lag bounds how stale the replica was at the last probe.
	Lag time.Duration
	// Replayed is the replica's replay position at the last probe (-1: unknown).
	Replayed int64
}

// Stats returns the current counters and verdict.
func (r *Replica) Stats() ReplicaStats {
	return ReplicaStats{
		ReplicaReads: r.replicaReads.Load(), PrimaryReads: r.primaryReads.Load(), Fallbacks: r.fallbacks.Load(),
		Usable: r.usable.Load(), Lag: time.Duration(r.lag.Load()), Replayed: r.replayed.Load(),
	}
}

func (r *Replica) run(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.probe(ctx)
		}
	}
}

// maxSamples bounds the primary positions kept while the replica does not catch up.
const maxSamples = 1024

// probe measures how stale the replica is: it reads the primary's position, then how far the
// replica has replayed. The newest primary position the replica has reached was read at some
// moment: everything committed before it is on the replica, so the replica is at most
// (now - that moment) behind, however idle or busy the primary is. No position reached yet:
// unknown, so not usable.
func (r *Replica) probe(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.probeTimeout())
	defer cancel()
	at := time.Now()
	primaryLSN, perr := r.primary.Queries.WalInsertLSN(ctx)
	replayed, err := r.probeQ.WalReplayLSN(ctx)
	if err == nil && replayed < 0 {
		err = errors.New("the replica is not in recovery: not a replica (promoted?)")
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // shutting down
	}

	r.mu.Lock()
	if perr == nil {
		r.samples = append(r.samples, walSample{at: at, lsn: primaryLSN})
		if len(r.samples) > maxSamples {
			r.samples = r.samples[len(r.samples)-maxSamples:]
		}
		for _, w := range r.waiters {
			if w.target == 0 && !w.since.After(at) {
				w.target = primaryLSN
			}
		}
	}
	lag := time.Duration(math.MaxInt64)
	if err == nil {
		for i := len(r.samples) - 1; i >= 0; i-- {
			if r.samples[i].lsn <= replayed {
				lag = time.Since(r.samples[i].at)
				r.samples = r.samples[i:]
				break
			}
		}
	}
	usable := err == nil && lag <= r.opts.MaxLag
	var due []*replayWaiter
	kept := r.waiters[:0]
	for _, w := range r.waiters {
		if !usable || (w.target != 0 && w.target <= replayed) {
			due = append(due, w)
		} else {
			kept = append(kept, w)
		}
	}
	clear(r.waiters[len(kept):])
	r.waiters = kept
	if err != nil {
		replayed = -1
	}
	r.replayed.Store(replayed)
	r.lag.Store(int64(lag))
	was := r.usable.Swap(usable)
	r.mu.Unlock()

	for _, w := range due {
		w.run()
	}
	switch {
	case was && !usable && err != nil:
		r.opts.Log.Warn("read replica unreachable; the catalog reads from the primary", "err", err)
	case was && !usable:
		r.opts.Log.Warn("read replica lags; the catalog reads from the primary", "max_lag", r.opts.MaxLag)
	case !was && usable:
		r.opts.Log.Info("read replica in use", "lag", lag)
	}
}

// down is called by a read the replica failed: it goes to the primary and, unless the replica
// only cancelled it to replay, so does every read until the probe finds the replica back.
func (r *Replica) down(ctx context.Context, err error) bool {
	if ctx.Err() != nil || !replicaFailed(err) {
		return false
	}
	r.fallbacks.Add(1)
	if conflictedWithReplay(err) {
		return true // this read only: the replica is up, it cancelled the read to replay
	}
	if r.usable.Swap(false) {
		r.opts.Log.Warn("read replica failed a read; the catalog reads from the primary", "err", err)
	}
	r.runAllWaiters()
	return true
}

// conflictedWithReplay: the replica cancelled the read to replay WAL that conflicts with it
// (40001), which says nothing of the next read.
func conflictedWithReplay(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// replicaFailed is an error the primary would not give: the replica cannot be reached, or it
// cancelled the read to replay WAL that conflicts with it (40001).
func replicaFailed(err error) bool {
	return conflictedWithReplay(err) || IsUnavailable(err) || apperr.CodeOf(err) == apperr.Unavailable
}

// fallbackDBTX runs reads on the replica and, when it cannot, on the primary; anything else
// goes to the primary.
type fallbackDBTX struct {
	replica, primary poolDBTX
	r                *Replica
}

func (f fallbackDBTX) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return f.primary.Exec(ctx, sql, args...)
}

func (f fallbackDBTX) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return f.primary.SendBatch(ctx, b)
}

func (f fallbackDBTX) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if !replicaCanRun(sql) {
		return f.primary.Query(ctx, sql, args...)
	}
	rows, err := f.replica.Query(ctx, sql, args...)
	if err != nil {
		if f.r.down(ctx, err) {
			return f.primary.Query(ctx, sql, args...)
		}
		return nil, err
	}
	return &fallbackRows{Rows: rows, ctx: ctx, f: f, sql: sql, args: args}, nil
}

func (f fallbackDBTX) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := f.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// fallbackRows are a replica's rows; a replica that fails before the first row shows it in
// Next, which then runs the statement on the primary.
type fallbackRows struct {
	pgx.Rows
	ctx     context.Context
	f       fallbackDBTX
	sql     string
	args    []any
	started bool
	err     error
}

func (r *fallbackRows) Next() bool {
	if r.Rows.Next() {
		r.started = true
		return true
	}
	if r.started {
		return false
	}
	r.started = true
	err := r.Rows.Err()
	if err == nil || !r.f.r.down(r.ctx, err) {
		return false
	}
	r.Rows.Close()
	rows, err := r.f.primary.Query(r.ctx, r.sql, r.args...)
	if err != nil {
		r.err = err
		return false
	}
	r.Rows = rows
	return r.Rows.Next()
}

func (r *fallbackRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.Rows.Err()
}

// dataModifying finds a statement keyword that writes, inside a WITH query's text.
var dataModifying = regexp.MustCompile(`(?i)\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|MERGE\s+INTO)\b`)

// replicaCanRun reports whether sql only reads: a plain SELECT, or a WITH query (the catalog's
// ranked search and its facets) none of whose parts writes. Anything else goes to the primary.
func replicaCanRun(sql string) bool {
	if isRead(sql) {
		return true
	}
	body := sqlBody(sql)
	return len(body) >= 4 && strings.EqualFold(body[:4], "WITH") && !dataModifying.MatchString(body)
}
