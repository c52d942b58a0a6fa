// Command webhooks benchmarks the outbound webhooks' fan-out (issue 17, "Benchmarks"): it
// commits -events STOCK_CHANGED events (in transactions of -batch movements each, through the
// emitter the services use) to -subscribers webhooks whose receivers listen on loopback, and
// works the deliveries with the real River worker on the webhooks queue. It prints the events
// committed per second, the deliveries per second end to end, and the time from each event's
// commit to its arrival at a receiver (p50, p99), and checks that every delivery arrived once
// with a valid signature. See bench/README.md, section "Webhooks".
//
//	DATABASE_URL=$(scripts/services.sh database-url shopgraph_bench_webhooks) go run ./bench/webhooks
//	go run ./bench/webhooks -events 1000 -subscribers 10 -workers 50 -json out.json
//
// The database is migrated; the benchmark's webhooks are deleted at the end (their deliveries
// with them), its products stay.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

type result struct {
	Events          int              `json:"events"`
	Subscribers     int              `json:"subscribers"`
	Deliveries      int              `json:"deliveries"`
	Received        int64            `json:"received"`
	Duplicates      int64            `json:"duplicates"`
	BadSignatures   int64            `json:"bad_signatures"`
	Workers         int              `json:"workers"`
	Batch           int              `json:"batch"`
	EmitSeconds     float64          `json:"emit_seconds"`
	EventsPerSecond float64          `json:"events_per_second"`
	DrainSeconds    float64          `json:"drain_seconds"`
	DeliveriesPerS  float64          `json:"deliveries_per_second"`
	CommitToArrival benchkit.Latency `json:"commit_to_arrival"`
	GOMAXPROCS      int              `json:"gomaxprocs"`
}

func main() {
	var (
		dbURL       = flag.String("db", os.Getenv("DATABASE_URL"), "PostgreSQL URL (DATABASE_URL)")
		events      = flag.Int("events", 10000, "events to commit")
		subscribers = flag.Int("subscribers", 10, "webhooks (each with its own loopback receiver)")
		batch       = flag.Int("batch", 100, "stock movements (events) per transaction")
		workers     = flag.Int("workers", 50, "River workers on the webhooks queue")
		timeout     = flag.Duration("timeout", 10*time.Minute, "give up waiting for the deliveries after this")
		jsonOut     = flag.String("json", "", "also write the figures to this file")
	)
	flag.Parse()
	if *dbURL == "" {
		fail(fmt.Errorf("set DATABASE_URL or -db"))
	}
	res, err := run(*dbURL, *events, *subscribers, *batch, *workers, *timeout)
	if err != nil {
		fail(err)
	}
	fmt.Printf("webhook fan-out: %d events x %d subscribers = %d deliveries (batch %d, %d workers, GOMAXPROCS %d)\n",
		res.Events, res.Subscribers, res.Deliveries, res.Batch, res.Workers, res.GOMAXPROCS)
	fmt.Printf("  commit:   %.0f events/s (%.2f s)\n", res.EventsPerSecond, res.EmitSeconds)
	fmt.Printf("  delivery: %.0f deliveries/s end to end (%.2f s from the first commit to the last arrival)\n", res.DeliveriesPerS, res.DrainSeconds)
	fmt.Printf("  commit → arrival: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		res.CommitToArrival.P50, res.CommitToArrival.P90, res.CommitToArrival.P99, res.CommitToArrival.Max)
	fmt.Printf("  received %d, duplicates %d, bad signatures %d\n", res.Received, res.Duplicates, res.BadSignatures)
	if *jsonOut != "" {
		if err := benchkit.WriteJSON(*jsonOut, res); err != nil {
			fail(err)
		}
	}
	if res.Received != int64(res.Deliveries) || res.Duplicates > 0 || res.BadSignatures > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "webhooks bench:", err)
	os.Exit(2)
}

// receivers are loopback HTTP servers, one per webhook, that note when each event arrived.
type receivers struct {
	mu       sync.Mutex
	arrived  map[string]time.Time // "<subscription>/<event id>" → first arrival
	received atomic.Int64
	dups     atomic.Int64
	badSigs  atomic.Int64
}

func (r *receivers) start(secret func(i int) string, i int) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		now := time.Now()
		body, _ := io.ReadAll(req.Body)
		if webhook.Verify(secret(i), req.Header.Get(webhook.SignatureHeader), body, 5*time.Minute, now) != nil {
			r.badSigs.Add(1)
		}
		key := strconv.Itoa(i) + "/" + req.Header.Get(webhook.EventIDHeader)
		r.mu.Lock()
		if _, dup := r.arrived[key]; dup {
			r.dups.Add(1)
		} else {
			r.arrived[key] = now
		}
		r.mu.Unlock()
		r.received.Add(1)
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/hook", func() { _ = srv.Close() }, nil
}

func run(dbURL string, events, subscribers, batch, workers int, timeout time.Duration) (result, error) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: int32(min(workers+5, 60))})
	if err != nil {
		return result{}, err
	}
	defer d.Close()
	if err := postgres.Migrate(ctx, d.Pool); err != nil {
		return result{}, err
	}
	if err := jobs.Migrate(ctx, d.Pool); err != nil {
		return result{}, err
	}
	queue := &jobs.Queue{}
	svc := webhook.NewService(d, queue, log, webhook.Options{Guard: webhook.Guard{AllowPrivate: true}})

	// The variants whose stock moves: products of 100 variants, enough for one batch.
	cat := catalog.NewService(d, cache.New(cache.Disabled{}), log)
	var adminID int64
	if err := d.Pool.QueryRow(ctx, `INSERT INTO users (email, password_hash, role) VALUES ($1, 'x', 'ADMIN') RETURNING id`,
		"webhook-bench-"+benchkit.Nonce()+"@example.com").Scan(&adminID); err != nil {
		return result{}, fmt.Errorf("bench admin: %w", err)
	}
	admin := auth.Viewer{UserID: adminID, Role: auth.RoleAdmin}
	var variants []int64
	for len(variants) < batch {
		in := catalog.CreateInput{Name: "Webhook bench " + benchkit.Nonce(), Slug: "webhook-bench-" + benchkit.Nonce(), Currency: "USD"}
		for j := 0; j < 100; j++ {
			in.Variants = append(in.Variants, catalog.VariantInput{SKU: "WHB-" + benchkit.Nonce(), Name: "v" + strconv.Itoa(j), Price: 100, Stock: 1_000_000})
		}
		p, err := cat.Create(ctx, admin, in)
		if err != nil {
			return result{}, fmt.Errorf("create bench product: %w", err)
		}
		vs, err := d.VariantListByProductIDs(ctx, []int64{p.ID})
		if err != nil {
			return result{}, err
		}
		for _, v := range vs {
			variants = append(variants, v.ID)
		}
	}

	// The webhooks and their receivers.
	recv := &receivers{arrived: map[string]time.Time{}}
	secrets := make([]string, subscribers)
	subIndex := map[int64]int{}
	var subIDs []int64
	defer func() {
		for _, id := range subIDs {
			_ = d.WebhookSubscriptionDelete(context.Background(), id)
		}
	}()
	for i := range subscribers {
		url, stop, err := recv.start(func(i int) string { return secrets[i] }, i)
		if err != nil {
			return result{}, err
		}
		defer stop()
		s, secret, err := svc.Create(ctx, admin, webhook.CreateInput{URL: url, EventTypes: []webhook.EventType{webhook.StockChanged}, Description: "bench"})
		if err != nil {
			return result{}, fmt.Errorf("create webhook: %w", err)
		}
		secrets[i], subIndex[s.ID] = secret, i
		subIDs = append(subIDs, s.ID)
	}
	// The receivers key arrivals by subscription index; the commit times are keyed the same way.
	ws := river.NewWorkers()
	river.AddWorker(ws, &webhook.DeliverWorker{Webhooks: svc})
	if err := queue.Start(ctx, d.Pool, ws, jobs.Options{Work: true, MaxWorkers: 1, WebhookWorkers: workers, Log: log}); err != nil {
		return result{}, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = queue.Stop(stopCtx)
	}()

	var lastID int64
	if err := d.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM webhook_deliveries`).Scan(&lastID); err != nil {
		return result{}, err
	}
	committed := map[string]time.Time{} // "<subscription index>/<event id>" → commit
	start := time.Now()
	for sent := 0; sent < events; sent += batch {
		n := min(batch, events-sent)
		moves := make([]catalog.StockMovement, n)
		for j := range n {
			moves[j] = catalog.StockMovement{VariantID: variants[j], Delta: -1, Reason: "bench"}
		}
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
			return svc.StockChanged(ctx, tx, moves)
		})
		if err != nil {
			return result{}, fmt.Errorf("commit events: %w", err)
		}
		at := time.Now()
		rows, err := d.Pool.Query(ctx, `SELECT id, subscription_id, event_id FROM webhook_deliveries WHERE id > $1`, lastID)
		if err != nil {
			return result{}, err
		}
		for rows.Next() {
			var id, sub int64
			var ev string
			if err := rows.Scan(&id, &sub, &ev); err != nil {
				return result{}, err
			}
			lastID = max(lastID, id)
			committed[strconv.Itoa(subIndex[sub])+"/"+ev] = at
		}
		if err := rows.Err(); err != nil {
			return result{}, err
		}
	}
	emitted := time.Since(start)
	want := int64(events * subscribers)
	deadline := time.Now().Add(timeout)
	for recv.received.Load() < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	recv.mu.Lock()
	var last time.Time
	lat := make([]time.Duration, 0, len(recv.arrived))
	for k, arrived := range recv.arrived {
		if c, ok := committed[k]; ok {
			lat = append(lat, max(0, arrived.Sub(c)))
		}
		if arrived.After(last) {
			last = arrived
		}
	}
	recv.mu.Unlock()
	drain := last.Sub(start)
	return result{
		Events: events, Subscribers: subscribers, Deliveries: int(want), Received: recv.received.Load(),
		Duplicates: recv.dups.Load(), BadSignatures: recv.badSigs.Load(), Workers: workers, Batch: batch,
		EmitSeconds: emitted.Seconds(), EventsPerSecond: float64(events) / emitted.Seconds(),
		DrainSeconds: drain.Seconds(), DeliveriesPerS: float64(want) / drain.Seconds(),
		CommitToArrival: benchkit.Summarise(lat), GOMAXPROCS: runtime.GOMAXPROCS(0),
	}, nil
}
