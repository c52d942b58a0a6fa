package metrics

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shopgraph/shopgraph/internal/cache"
)

// PoolStater is a pgx pool (*pgxpool.Pool).
type PoolStater interface {
	Stat() *pgxpool.Stat
}

// WatchPool reports the pool's connection counts and acquire statistics at each scrape.
func (r *Registry) WatchPool(p PoolStater) {
	r.reg.MustRegister(&poolCollector{pool: p})
}

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, nil, nil)
}

var (
	poolAcquired     = poolDesc("acquired_conns", "Connections currently in use.")
	poolIdle         = poolDesc("idle_conns", "Idle connections.")
	poolConstructing = poolDesc("constructing_conns", "Connections being opened.")
	poolTotal        = poolDesc("total_conns", "Open connections (acquired, idle and constructing).")
	poolMax          = poolDesc("max_conns", "The pool's maximum size.")
	poolAcquires     = poolDesc("acquires_total", "Successful connection acquires.")
	poolAcquireSecs  = poolDesc("acquire_duration_seconds_total", "Total time spent acquiring connections.")
	poolEmpty        = poolDesc("empty_acquires_total", "Acquires that had to wait for a connection because none was idle.")
	poolEmptyWait    = poolDesc("empty_acquire_wait_seconds_total", "Total time acquires waited for a connection when none was idle.")
	poolCanceled     = poolDesc("canceled_acquires_total", "Acquires abandoned because their context ended.")
	poolNewConns     = poolDesc("new_conns_total", "Connections opened.")
	poolLifetimeGone = poolDesc("max_lifetime_destroys_total", "Connections closed for reaching their maximum lifetime.")
	poolIdleGone     = poolDesc("max_idle_destroys_total", "Connections closed for staying idle too long.")
)

type poolCollector struct{ pool PoolStater }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolAcquired, poolIdle, poolConstructing, poolTotal, poolMax, poolAcquires,
		poolAcquireSecs, poolEmpty, poolEmptyWait, poolCanceled, poolNewConns, poolLifetimeGone, poolIdleGone} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(poolAcquired, float64(s.AcquiredConns()))
	gauge(poolIdle, float64(s.IdleConns()))
	gauge(poolConstructing, float64(s.ConstructingConns()))
	gauge(poolTotal, float64(s.TotalConns()))
	gauge(poolMax, float64(s.MaxConns()))
	counter(poolAcquires, float64(s.AcquireCount()))
	counter(poolAcquireSecs, s.AcquireDuration().Seconds())
	counter(poolEmpty, float64(s.EmptyAcquireCount()))
	counter(poolEmptyWait, s.EmptyAcquireWaitTime().Seconds())
	counter(poolCanceled, float64(s.CanceledAcquireCount()))
	counter(poolNewConns, float64(s.NewConnsCount()))
	counter(poolLifetimeGone, float64(s.MaxLifetimeDestroyCount()))
	counter(poolIdleGone, float64(s.MaxIdleDestroyCount()))
}

// CacheStatser is the cache-aside layer (*cache.Cache).
type CacheStatser interface {
	Stats() cache.Stats
}

var (
	cacheRequests = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cache", "requests_total"),
		"Keys looked up in the cache by result: hit, miss (the store did not hold it), bypass (the store failed or was skipped).",
		[]string{"result"}, nil)
	cacheLoads = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cache", "loads_total"),
		"Load functions run after single-flight coalescing: the queries the cache let through to Postgres.", nil, nil)
	cacheErrors = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cache", "errors_total"),
		"Cache operations that failed and were absorbed (store calls, encoding, decoding).", nil, nil)
	cacheNearHits = prometheus.NewDesc(prometheus.BuildFQName(namespace, "cache", "near_hits_total"),
		"Hits served by this instance's near cache without reading the value from Redis (a part of the hits).", nil, nil)
)

// WatchCache reports the cache's hit, miss, bypass, load and error counters at each scrape.
func (r *Registry) WatchCache(c CacheStatser) {
	r.reg.MustRegister(&cacheCollector{c: c})
}

type cacheCollector struct{ c CacheStatser }

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheRequests
	ch <- cacheLoads
	ch <- cacheErrors
	ch <- cacheNearHits
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.c.Stats()
	ch <- prometheus.MustNewConstMetric(cacheRequests, prometheus.CounterValue, float64(s.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(cacheRequests, prometheus.CounterValue, float64(s.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(cacheRequests, prometheus.CounterValue, float64(s.Bypasses), "bypass")
	ch <- prometheus.MustNewConstMetric(cacheLoads, prometheus.CounterValue, float64(s.Loads))
	ch <- prometheus.MustNewConstMetric(cacheErrors, prometheus.CounterValue, float64(s.Errors))
	ch <- prometheus.MustNewConstMetric(cacheNearHits, prometheus.CounterValue, float64(s.NearHits))
}

// SubscriberCounter is the live-tracking hub (*pubsub.Hub).
type SubscriberCounter interface {
	Subscribers() int64
}

// WatchSubscriptions reports the hub's live subscriptions at each scrape.
func (r *Registry) WatchSubscriptions(h SubscriberCounter) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "graphql", Name: "active_subscriptions",
		Help: "Live order-tracking subscriptions held by this instance's hub.",
	}, func() float64 { return float64(h.Subscribers()) }))
}

// JobCounter returns the number of waiting jobs per state.
type JobCounter func(ctx context.Context) (map[string]int64, error)

// Querier runs a query (*pgxpool.Pool, *postgres.DB's Pool).
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// jobDepthSQL counts river's waiting jobs. It lives here rather than in queries/ because river
// owns the river_job table: its migrations are not in sqlc's schema.
const jobDepthSQL = `SELECT state::text, count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY state`

// waitingStates are the job states that make up the queue's depth.
var waitingStates = []string{"available", "retryable", "scheduled"}

// PostgresJobCounter counts river's waiting jobs with one query on q.
func PostgresJobCounter(q Querier) JobCounter {
	return func(ctx context.Context) (map[string]int64, error) {
		rows, err := q.Query(ctx, jobDepthSQL)
		if err != nil {
			return nil, fmt.Errorf("count queued jobs: %w", err)
		}
		out := make(map[string]int64, len(waitingStates))
		for _, s := range waitingStates {
			out[s] = 0
		}
		var (
			state string
			n     int64
		)
		_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error {
			out[state] = n
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("count queued jobs: %w", err)
		}
		return out, nil
	}
}

var (
	jobDepth = prometheus.NewDesc(prometheus.BuildFQName(namespace, "jobs", "queue_depth"),
		"Jobs waiting in the durable queue, by state (available, scheduled, retryable); refreshed at most every few seconds.",
		[]string{"state"}, nil)
	jobDepthUp = prometheus.NewDesc(prometheus.BuildFQName(namespace, "jobs", "queue_depth_up"),
		"1 when the last count of queued jobs succeeded, 0 when it failed (queue_depth is then absent).", nil, nil)
)

// WatchJobQueue reports the job queue's depth at each scrape. The count runs with a 2 s
// timeout and is reused for ttl (5 s when zero), so frequent or concurrent scrapes cost one
// query per ttl.
func (r *Registry) WatchJobQueue(count JobCounter, ttl time.Duration) {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	r.reg.MustRegister(&jobCollector{count: count, ttl: ttl, timeout: 2 * time.Second, now: time.Now})
}

type jobCollector struct {
	count   JobCounter
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	// mu serialises scrapes, so concurrent ones wait for one query instead of each running it.
	mu     sync.Mutex
	at     time.Time
	depth  map[string]int64
	failed bool
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobDepth
	ch <- jobDepthUp
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.at.IsZero() || c.now().Sub(c.at) >= c.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		depth, err := c.count(ctx)
		cancel()
		c.at, c.depth, c.failed = c.now(), depth, err != nil
	}
	depth, failed := c.depth, c.failed
	c.mu.Unlock()

	if failed {
		ch <- prometheus.MustNewConstMetric(jobDepthUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(jobDepthUp, prometheus.GaugeValue, 1)
	states := make([]string, 0, len(depth))
	for s := range depth {
		states = append(states, s)
	}
	sort.Strings(states)
	for _, s := range states {
		ch <- prometheus.MustNewConstMetric(jobDepth, prometheus.GaugeValue, float64(depth[s]), s)
	}
}
