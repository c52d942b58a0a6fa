// Command emailgen is shopgraph's email benchmark (issue 17, "Benchmarks"), driven by
// bench/emails.sh; see bench/README.md, section "Emails".
//
//	emailgen -db URL -orders 10000 -placers 8 -place-rate 0 -email-workers 10 -rate 0 -json out.json
//
// It runs one shopgraph instance in process (internal/app, working its job queue as the
// server does) against database -db, and its own SMTP server (github.com/emersion/go-smtp)
// as the mail provider. -placers goroutines place -orders orders, each in a transaction of
// its own that also inserts the order's confirmation job (notify.Service.OrderPlaced, as
// checkout does), as fast as they can or at most -place-rate a second; the time each commit
// returns is kept. The SMTP server notes when each
// confirmation is accepted (by the order number in its subject). It waits until every order's
// email has arrived, then checks: exactly -orders distinct emails, none twice, every
// delivery marked sent, every job completed. It prints, and writes as JSON:
//
//   - commit → delivery latency per email (the SMTP server's acceptance minus the commit's
//     return): p50, p90, p99, max;
//   - throughput: emails accepted per second, from the first commit to the last acceptance;
//   - how long placing the orders took.
//
// Exit status 1 when an email is missing or was sent twice.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "emailgen:", err)
		os.Exit(1)
	}
}

// provider is the benchmark's mail provider: it accepts every message and notes when each
// order's confirmation arrived, and how many times.
type provider struct {
	mu       sync.Mutex
	received map[int64][]time.Time
	bad      int // messages without an order number
	total    atomic.Int64
}

func (p *provider) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{p: p}, nil }

type session struct{ p *provider }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	id := int64(-1)
	if m, err := mail.ReadMessage(bytes.NewReader(b)); err == nil {
		subject := m.Header.Get("Subject")
		if i := strings.LastIndexByte(subject, '#'); i >= 0 {
			if n, err := strconv.ParseInt(strings.Fields(subject[i+1:] + " ")[0], 10, 64); err == nil {
				id = n
			}
		}
	}
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if id < 0 {
		s.p.bad++
	} else {
		s.p.received[id] = append(s.p.received[id], at)
	}
	s.p.total.Add(1)
	return nil
}

type result struct {
	Orders         int     `json:"orders"`
	Placers        int     `json:"placers"`
	PlaceRate      int     `json:"place_rate_limit"`
	EmailWorkers   int     `json:"email_workers"`
	RatePerSecond  int     `json:"mail_rate_per_second"`
	PlaceSeconds   float64 `json:"place_seconds"`
	PlacedPerSec   float64 `json:"placed_per_second"`
	TotalSeconds   float64 `json:"total_seconds"`
	EmailsPerSec   float64 `json:"emails_per_second"`
	Delivered      int     `json:"delivered"`
	Duplicates     int     `json:"duplicates"`
	Missing        int     `json:"missing"`
	DeliveriesSent int     `json:"deliveries_marked_sent"`
	JobsCompleted  int     `json:"jobs_completed"`
	P50ms          float64 `json:"latency_p50_ms"`
	P90ms          float64 `json:"latency_p90_ms"`
	P99ms          float64 `json:"latency_p99_ms"`
	MaxMs          float64 `json:"latency_max_ms"`
	Pass           bool    `json:"pass"`
}

func run() error {
	dbURL := flag.String("db", "", "PostgreSQL URL of a database of the benchmark's own (migrated here)")
	orders := flag.Int("orders", 10000, "orders placed, hence confirmation emails")
	placers := flag.Int("placers", 8, "goroutines placing orders at once")
	placeRate := flag.Int("place-rate", 0, "orders placed per second at most, all placers together (0: as fast as they go)")
	workers := flag.Int("email-workers", 0, "email jobs worked at once (0: the server's default)")
	rate := flag.Int("rate", 0, "MAIL_RATE_PER_SECOND (0: unlimited)")
	redisURL := flag.String("redis", "", "REDIS_URL of the instance (empty: in process)")
	maxConns := flag.Int("db-max-conns", 16, "DB_MAX_CONNS of the instance")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up waiting for the emails after this long")
	jsonOut := flag.String("json", "", "also write the result here")
	flag.Parse()
	if *dbURL == "" {
		return errors.New("-db is required")
	}
	ctx := context.Background()

	prov := &provider{received: map[int64][]time.Time{}}
	srv := smtp.NewServer(prov)
	srv.Domain = "localhost"
	srv.MaxRecipients = 1
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	vars := map[string]string{
		"APP_ENV": "test", "LOG_LEVEL": "warn", "DATABASE_URL": *dbURL, "REDIS_URL": *redisURL,
		"REDIS_KEY_PREFIX": fmt.Sprintf("bench-emails:%d:", time.Now().UnixNano()),
		"SMTP_URL":         "smtp://" + ln.Addr().String(), "MAIL_RATE_PER_SECOND": strconv.Itoa(*rate),
		"DB_MAX_CONNS": strconv.Itoa(*maxConns),
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(ctx, cfg, log, app.Options{Migrate: true, Work: true, EmailWorkers: *workers})
	if err != nil {
		return err
	}
	defer a.Close()

	// One product and 100 customers; the orders take turns.
	var variantID int64
	if err := a.DB.Pool.QueryRow(ctx, `
		WITH p AS (INSERT INTO products (name, slug, currency, status) VALUES ('Bench mug', 'bench-mug-' || gen_random_uuid(), 'USD', 'ACTIVE') RETURNING id)
		INSERT INTO product_variants (product_id, sku, name, price_amount, currency, stock, position)
		SELECT id, 'BENCH-' || gen_random_uuid(), 'Blue', 1250, 'USD', 0, 0 FROM p RETURNING id`).Scan(&variantID); err != nil {
		return fmt.Errorf("insert the product: %w", err)
	}
	rows, err := a.DB.Pool.Query(ctx, `
		INSERT INTO users (email, password_hash, name, role)
		SELECT 'bench-' || gen_random_uuid() || '@example.com', 'x', 'Bench customer', 'CUSTOMER' FROM generate_series(1, 100)
		RETURNING id`)
	if err != nil {
		return fmt.Errorf("insert the customers: %w", err)
	}
	var users []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		users = append(users, id)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert the customers: %w", err)
	}

	var pace <-chan time.Time
	if *placeRate > 0 {
		t := time.NewTicker(time.Second / time.Duration(*placeRate))
		defer t.Stop()
		pace = t.C
	}
	committed := make(map[int64]time.Time, *orders)
	var commitMu sync.Mutex
	var next atomic.Int64
	start := time.Now()
	errc := make(chan error, *placers)
	var wg sync.WaitGroup
	for range *placers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(*orders) {
					return
				}
				if pace != nil {
					<-pace
				}
				id, at, err := place(ctx, a, users[int(i)%len(users)], variantID)
				if err != nil {
					errc <- err
					return
				}
				commitMu.Lock()
				committed[id] = at
				commitMu.Unlock()
			}
		}()
	}
	wg.Wait()
	placed := time.Since(start)
	close(errc)
	if err := <-errc; err != nil {
		return fmt.Errorf("place an order: %w", err)
	}
	fmt.Fprintf(os.Stderr, "emailgen: placed %d orders in %.1fs; waiting for their emails\n", *orders, placed.Seconds())

	deadline := time.Now().Add(*timeout)
	for prov.total.Load() < int64(*orders) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// Anything sent twice would come now: let the queue settle a moment longer.
	time.Sleep(2 * time.Second)

	prov.mu.Lock()
	defer prov.mu.Unlock()
	r := result{Orders: *orders, Placers: *placers, PlaceRate: *placeRate, EmailWorkers: *workers, RatePerSecond: *rate,
		PlaceSeconds: placed.Seconds(), PlacedPerSec: float64(*orders) / placed.Seconds()}
	if r.EmailWorkers == 0 {
		r.EmailWorkers = 10
	}
	var lat []time.Duration
	var last time.Time
	for id, at := range committed {
		got := prov.received[id]
		switch {
		case len(got) == 0:
			r.Missing++
			continue
		case len(got) > 1:
			r.Duplicates += len(got) - 1
		}
		r.Delivered++
		lat = append(lat, max(0, got[0].Sub(at)))
		if got[0].After(last) {
			last = got[0]
		}
	}
	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM email_deliveries WHERE status = 'sent'`).Scan(&r.DeliveriesSent); err != nil {
		return err
	}
	if err := a.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'email_order_placed' AND state = 'completed'`).Scan(&r.JobsCompleted); err != nil {
		return err
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		i := int(p*float64(len(lat))+0.999999) - 1 // nearest rank
		return float64(lat[min(max(i, 0), len(lat)-1)].Microseconds()) / 1000
	}
	r.P50ms, r.P90ms, r.P99ms, r.MaxMs = pct(0.50), pct(0.90), pct(0.99), pct(1)
	r.TotalSeconds = last.Sub(start).Seconds()
	if r.TotalSeconds > 0 {
		r.EmailsPerSec = float64(r.Delivered) / r.TotalSeconds
	}
	r.Pass = r.Missing == 0 && r.Duplicates == 0 && prov.bad == 0 && r.Delivered == *orders &&
		r.DeliveriesSent == *orders && r.JobsCompleted == *orders

	out, _ := json.MarshalIndent(r, "", "  ")
	fmt.Println(string(out))
	if *jsonOut != "" {
		if err := os.WriteFile(*jsonOut, append(out, '\n'), 0o644); err != nil {
			return err
		}
	}
	if !r.Pass {
		return fmt.Errorf("FAIL: %d missing, %d sent twice, %d without an order number, %d deliveries marked sent, %d jobs completed",
			r.Missing, r.Duplicates, prov.bad, r.DeliveriesSent, r.JobsCompleted)
	}
	fmt.Fprintln(os.Stderr, "emailgen: PASS: every order's email arrived, none twice")
	return nil
}

// place commits one order (with a line and its first event) and its confirmation job in one
// transaction, as checkout does, and returns the order's id and when the commit returned.
func place(ctx context.Context, a *app.App, userID, variantID int64) (int64, time.Time, error) {
	tx, err := a.DB.Pool.Begin(ctx)
	if err != nil {
		return 0, time.Time{}, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var id int64
	if err := tx.QueryRow(ctx, `
		INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
		VALUES ($1, 'PENDING', 'USD', 2500, '{"name": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"}')
		RETURNING id`, userID).Scan(&id); err != nil {
		return 0, time.Time{}, err
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO order_lines (order_id, product_id, variant_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total)
		SELECT $1, v.product_id, v.id, p.name, v.name, v.sku, 1250, 'USD', 2, 2500
		FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $2`, id, variantID); err != nil {
		return 0, time.Time{}, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, sequence, status, actor_id, note) VALUES ($1, 1, 'PENDING', $2, 'order placed')`, id, userID); err != nil {
		return 0, time.Time{}, err
	}
	if err := a.Notify.OrderPlaced(ctx, tx, id); err != nil {
		return 0, time.Time{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, time.Time{}, err
	}
	return id, time.Now(), nil
}
