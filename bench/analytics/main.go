// Command analytics is shopgraph's analytics benchmark (issue 16, "Analytics"); see
// bench/README.md, section "Analytics".
//
//	go run ./bench/analytics -admin-db postgres://postgres@127.0.0.1:5432/postgres -lines 1000000 -vendors 100 -reports 300
//
// It makes a database of its own (-name, dropped first), migrates it, and generates -lines
// order lines over -vendors vendors and -days days, in bulk (generate_series): two lines an
// order, each of a random vendor and one of its 20 products, 1 to 3 units at 1.00 to 99.99;
// one order in 7 in EUR, the rest USD; nine in ten paid (a PAID event up to 30 minutes after
// the order), one in ten cancelled unpaid; one paid order in 20 refunded (a ledger row of 1 to
// 100% of it, up to 20 days after payment). The rollups are then built by analytics_rebuild(),
// the backfill the migration runs, which the service tests hold equal to what the order moves
// keep. It then asks -reports 90-day daily reports of random vendors at random dates in a
// random zone (UTC, America/New_York, Asia/Kolkata, Australia/Adelaide) through
// analytics.Service.Report (the rollups) and, for the same inputs, ReportFromLines (the plain
// aggregate over the lines), checks that both give the same figures, and prints p50/p90/p99/
// max of each. Exit status 1 when a report differs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
	"github.com/shopgraph/shopgraph/internal/analytics"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "analytics:", err)
		os.Exit(1)
	}
}

func run() error {
	adminURL := flag.String("admin-db", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a database URL to create the benchmark's database from")
	name := flag.String("name", "shopgraph_bench_analytics", "the benchmark's database (dropped and made afresh unless -reuse)")
	reuse := flag.Bool("reuse", false, "keep the database of an earlier run and only measure")
	lines := flag.Int("lines", 1_000_000, "order lines to generate (two an order)")
	vendors := flag.Int("vendors", 100, "vendors")
	days := flag.Int("days", 730, "days the orders spread over, ending today")
	reports := flag.Int("reports", 300, "90-day daily reports to measure on each path")
	jsonOut := flag.String("json", "", "write the results as JSON to this file")
	writes := flag.Int("writes", 200, "payments to time with and without the analytics hook, each (0: none)")
	platformRuns := flag.Int("platform-reports", 9, "platform-wide 90-day reports to time (median)")
	flag.Parse()
	ctx := context.Background()

	u, err := url.Parse(*adminURL)
	if err != nil {
		return err
	}
	if !*reuse {
		admin, err := pgx.Connect(ctx, *adminURL)
		if err != nil {
			return err
		}
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{*name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return err
		}
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{*name}.Sanitize()); err != nil {
			return err
		}
		admin.Close(ctx)
	}
	u.Path = "/" + *name
	d, err := postgres.Open(ctx, u.String(), postgres.Options{MaxConns: 4})
	if err != nil {
		return err
	}
	defer d.Close()
	svc := analytics.NewService(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	end := time.Now().UTC().Truncate(24 * time.Hour)
	start := end.AddDate(0, 0, -*days)
	if !*reuse {
		if err := postgres.Migrate(ctx, d.Pool); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if err := generate(ctx, d, *lines, *vendors, start, *days, svc); err != nil {
			return err
		}
	}

	var vendorIDs []int64
	rows, err := d.Pool.Query(ctx, `SELECT id FROM vendors ORDER BY id`)
	if err != nil {
		return err
	}
	if vendorIDs, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return err
	}
	var nLines int64
	if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM order_lines`).Scan(&nLines); err != nil {
		return err
	}
	fmt.Printf("dataset: %d order lines, %d vendors, %s to %s\n", nLines, len(vendorIDs), start.Format("2006-01-02"), end.Format("2006-01-02"))

	rng := rand.New(rand.NewPCG(16, 90))
	zones := []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"}
	admin := auth.Viewer{UserID: 1, Role: auth.RoleAdmin}
	inputs := make([]analytics.Input, *reports)
	for i := range inputs {
		v := vendorIDs[rng.IntN(len(vendorIDs))]
		from := start.AddDate(0, 0, rng.IntN(*days-90))
		inputs[i] = analytics.Input{VendorID: &v, From: from.Format("2006-01-02"), To: from.AddDate(0, 0, 89).Format("2006-01-02"),
			Interval: analytics.Day, TimeZone: zones[rng.IntN(len(zones))]}
	}
	measure := func(label string, f func(context.Context, *auth.Viewer, analytics.Input) (analytics.Report, error)) ([]analytics.Report, benchkit.Latency, error) {
		// A few reports first warm the connections and the statement cache.
		for _, in := range inputs[:min(5, len(inputs))] {
			if _, err := f(ctx, &admin, in); err != nil {
				return nil, benchkit.Latency{}, err
			}
		}
		out := make([]analytics.Report, len(inputs))
		took := make([]time.Duration, len(inputs))
		for i, in := range inputs {
			t0 := time.Now()
			r, err := f(ctx, &admin, in)
			took[i] = time.Since(t0)
			if err != nil {
				return nil, benchkit.Latency{}, err
			}
			out[i] = r
		}
		l := benchkit.Summarise(took)
		fmt.Printf("%-28s n=%d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", label, len(took), l.P50, l.P90, l.P99, l.Max)
		return out, l, nil
	}
	fast, fastL, err := measure("rollups (Report)", svc.Report)
	if err != nil {
		return err
	}
	plain, plainL, err := measure("lines (ReportFromLines)", svc.ReportFromLines)
	if err != nil {
		return err
	}
	differ := 0
	for i := range fast {
		if fast[i].Source != analytics.FromRollups {
			return fmt.Errorf("report %d did not come from the rollups", i)
		}
		p := plain[i]
		p.Source = fast[i].Source
		if !reflect.DeepEqual(fast[i], p) {
			differ++
		}
	}
	sample := fast[0]
	if len(sample.Currencies) > 0 {
		c := sample.Currencies[0]
		fmt.Printf("sample: vendor %d %s..%s %s: %s gross %d refunds %d orders %d units %d, %d points\n", *sample.VendorID, sample.From, sample.To,
			sample.TimeZone, c.Currency, c.Totals.Gross, c.Totals.Refunds, c.Totals.Orders, c.Totals.Units, len(c.Series))
	}
	fmt.Printf("reports equal on both paths: %d of %d\n", len(fast)-differ, len(fast))
	platformMedian, err := measurePlatform(ctx, svc, end, *platformRuns)
	if err != nil {
		return err
	}
	var payWith, payWithout float64
	if *writes > 0 {
		if payWith, payWithout, err = measureWrites(ctx, d, svc, *writes); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		if err := benchkit.WriteJSON(*jsonOut, map[string]any{"lines": nLines, "vendors": len(vendorIDs), "days": *days,
			"reports": len(inputs), "rollups": fastL, "lines_aggregate": plainL, "differ": differ,
			"platform_report_median_ms": platformMedian, "payment_median_ms_with_hook": payWith, "payment_median_ms_without_hook": payWithout}); err != nil {
			return err
		}
	}
	if differ > 0 {
		return fmt.Errorf("%d reports differ between the rollups and the lines", differ)
	}
	return nil
}

// events writes each order's events (placed, then paid or cancelled) in statements of at most
// 30,000 orders: a transaction may write at most 65,535 order events (the feed's numbering).
func events(ctx context.Context, conn *pgx.Conn) error {
	t0 := time.Now()
	var lo, hi int64
	if err := conn.QueryRow(ctx, `SELECT min(id), max(id) FROM orders`).Scan(&lo, &hi); err != nil {
		return err
	}
	for from := lo; from <= hi; from += 30_000 {
		if _, err := conn.Exec(ctx, `
			INSERT INTO order_events (order_id, sequence, status, previous_status, note, created_at)
			SELECT id, k, CASE k WHEN 1 THEN 'PENDING' ELSE status END, CASE k WHEN 2 THEN 'PENDING'::order_status END, '',
			       CASE k WHEN 1 THEN created_at ELSE created_at + random() * interval '30 minutes' END
			FROM orders CROSS JOIN generate_series(1, 2) k WHERE id >= $1 AND id < $2 ORDER BY id, k`, from, from+30_000); err != nil {
			return fmt.Errorf("order events: %w", err)
		}
	}
	fmt.Printf("generate %-26s %6.1f s\n", "order events", time.Since(t0).Seconds())
	return nil
}

// generate writes the dataset in bulk and builds the rollups with the migration's backfill.
// orders.total_amount stays 0: analytics never reads it (the lines are the figures).
func generate(ctx context.Context, d *postgres.DB, lines, vendors int, start time.Time, days int, svc *analytics.Service) error {
	orders := lines / 2
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"seed", `SELECT setseed(0.16)`, nil},
		{"customer", `INSERT INTO users (email, password_hash, name, role) VALUES ('bench@example.com', 'x', 'Bench', 'CUSTOMER')`, nil},
		{"vendors", `INSERT INTO vendors (name, slug, status) SELECT 'Vendor ' || g, 'bench-vendor-' || g, 'ACTIVE' FROM generate_series(1, $1::int) g`, []any{vendors}},
		{"orders", `
			INSERT INTO orders (user_id, status, currency, total_amount, shipping_address, created_at, updated_at)
			SELECT (SELECT min(id) FROM users), CASE WHEN g % 10 = 0 THEN 'CANCELLED' ELSE 'PAID' END::order_status,
			       CASE WHEN g % 7 = 0 THEN 'EUR' ELSE 'USD' END, 0, '{}',
			       $2::timestamptz + random() * ($3::int * interval '1 day'), now()
			FROM generate_series(1, $1::int) g`, []any{orders, start, days}},
		{"order lines", `
			WITH v AS (SELECT array_agg(id ORDER BY id) AS ids FROM vendors)
			INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total)
			SELECT s.id, s.vi * 100 + s.pk, s.vi * 100 + s.pk, v.ids[s.vi], 'Product ' || (s.vi * 100 + s.pk), 'Default',
			       'SKU-' || (s.vi * 100 + s.pk), s.price, s.currency, s.q, s.price * s.q
			FROM (SELECT o.id, o.currency, 1 + floor(random() * $1::int)::int AS vi, floor(random() * 20)::int AS pk,
			             1 + floor(random() * 3)::int AS q, 100 + floor(random() * 9900)::bigint AS price
			      FROM orders o CROSS JOIN generate_series(1, 2) k) s CROSS JOIN v
			ORDER BY s.id`, []any{vendors}},
		{"refund ledger", `
			INSERT INTO analytics_refunds (order_id, sequence, amount, refunded_at)
			SELECT o.id, 3, GREATEST(1, (t.total * (0.01 + random() * 0.99))::bigint), e.created_at + random() * interval '20 days'
			FROM orders o JOIN order_events e ON e.order_id = o.id AND e.status = 'PAID'
			     CROSS JOIN LATERAL (SELECT sum(line_total) AS total FROM order_lines WHERE order_id = o.id) t
			WHERE o.id % 20 = 0`, nil},
	}
	// One connection: setseed holds for its session only.
	conn, err := d.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, s := range steps {
		t0 := time.Now()
		if _, err := conn.Exec(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		fmt.Printf("generate %-26s %6.1f s\n", s.what, time.Since(t0).Seconds())
		if s.what == "order lines" {
			if err := events(ctx, conn.Conn()); err != nil {
				return err
			}
		}
	}
	if _, err := conn.Exec(ctx, `ANALYZE`); err != nil {
		return err
	}
	t0 := time.Now()
	if err := svc.Rebuild(ctx); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	fmt.Printf("generate %-26s %6.1f s\n", "rollups (analytics_rebuild)", time.Since(t0).Seconds())
	// As autovacuum would after a bulk load: the visibility map lets reports scan index-only.
	t0 = time.Now()
	if _, err := d.Pool.Exec(ctx, `VACUUM ANALYZE analytics_sales, analytics_product_sales`); err != nil {
		return err
	}
	fmt.Printf("generate %-26s %6.1f s\n", "vacuum analyze rollups", time.Since(t0).Seconds())
	var sales, products int64
	if err := d.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM analytics_sales), (SELECT count(*) FROM analytics_product_sales)`).Scan(&sales, &products); err != nil {
		return err
	}
	fmt.Printf("rollup rows: %d sales, %d product\n", sales, products)
	return nil
}
