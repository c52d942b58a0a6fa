package analytics_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/analytics"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type env struct {
	d      *postgres.DB
	svc    *analytics.Service
	orders *order.Service
}

func setup(t *testing.T) env {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := analytics.NewService(d, log)
	orders := order.NewService(d, nil, nil, log)
	orders.Sales = svc
	return env{d: d, svc: svc, orders: orders}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func (e env) move(t *testing.T, id int64, to order.Status, refunded int64) {
	t.Helper()
	_, err := e.orders.Transition(context.Background(), order.SystemActor, id, to, order.TransitionOptions{RefundedAmount: refunded})
	require.NoError(t, err)
}

// payAt pays an order through the state machine, then dates its payment at.
func (e env) payAt(t *testing.T, id int64, at string) {
	t.Helper()
	e.move(t, id, order.Paid, 0)
	_, err := e.d.Pool.Exec(context.Background(), `UPDATE order_events SET created_at = $2 WHERE order_id = $1 AND status = 'PAID'`, id, ts(at))
	require.NoError(t, err)
}

// refundAt refunds amount of an order through the state machine (as internal/payment does when
// a refund settles), then dates the refund at.
func (e env) refundAt(t *testing.T, id int64, to order.Status, amount int64, at string) {
	t.Helper()
	e.move(t, id, to, amount)
	_, err := e.d.Pool.Exec(context.Background(), `
		UPDATE analytics_refunds SET refunded_at = $2
		WHERE order_id = $1 AND sequence = (SELECT max(sequence) FROM analytics_refunds WHERE order_id = $1)`, id, ts(at))
	require.NoError(t, err)
}

type fixture struct {
	admin, vendorA, vendorB, customer auth.Viewer
	a, b                              int64
	p1, p2a, p5, p6                   int64
}

// sales writes the dataset of the exact-figures tests (see the comments for each order), dates
// its payments and refunds, and rebuilds the rollups for the new dates.
func sales(t *testing.T, e env) fixture {
	t.Helper()
	ua := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleVendor})
	ub := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleVendor})
	cust := tf.NewUser(t, e.d, tf.UserOpts{})
	f := fixture{
		admin: tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer(), vendorA: ua.Viewer(), vendorB: ub.Viewer(),
		customer: cust.Viewer(), a: ua.VendorID, b: ub.VendorID,
	}
	newOrder := func(cur string, lines ...tf.LineOpts) tf.Order {
		return tf.NewOrder(t, e.d, tf.OrderOpts{UserID: cust.ID, Currency: cur, Lines: lines})
	}
	// o1: A, USD 2 x 1000, paid 03-01 23:30Z (New York 18:30 the 1st, Kolkata 05:00 the 2nd).
	o1 := newOrder("USD", tf.LineOpts{VendorID: &f.a, Quantity: 2, UnitPrice: 1000})
	e.payAt(t, o1.ID, "2026-03-01T23:30:00Z")
	// o2: A 1 x 3000 and B 1 x 1000, USD, paid 03-02 04:30Z (New York 23:30 the 1st); refunded
	// 333 at 12:00Z (A's share 249, B's 83), then the rest, 3667, at 13:00Z (A 2751, B 917).
	o2 := newOrder("USD", tf.LineOpts{VendorID: &f.a, Quantity: 1, UnitPrice: 3000}, tf.LineOpts{VendorID: &f.b, Quantity: 1, UnitPrice: 1000})
	e.payAt(t, o2.ID, "2026-03-02T04:30:00Z")
	e.refundAt(t, o2.ID, order.PartiallyRefunded, 333, "2026-03-02T12:00:00Z")
	e.refundAt(t, o2.ID, order.Refunded, 3667, "2026-03-02T13:00:00Z")
	// o3: A, EUR 3 x 500, paid 03-01 18:40Z (Kolkata 00:10 the 2nd), fully refunded 03-02
	// 20:00Z (Kolkata 01:30 the 3rd: outside the range).
	o3 := newOrder("EUR", tf.LineOpts{VendorID: &f.a, Quantity: 3, UnitPrice: 500})
	e.payAt(t, o3.ID, "2026-03-01T18:40:00Z")
	e.refundAt(t, o3.ID, order.Refunded, 1500, "2026-03-02T20:00:00Z")
	// o4: A, USD, never paid, cancelled: counts nothing.
	o4 := newOrder("USD", tf.LineOpts{VendorID: &f.a, Quantity: 1, UnitPrice: 700})
	e.move(t, o4.ID, order.Cancelled, 0)
	// o5: A, USD 1 x 900, paid 03-01 10:00Z, cancelled, refunded 03-02 10:00Z.
	o5 := newOrder("USD", tf.LineOpts{VendorID: &f.a, Quantity: 1, UnitPrice: 900})
	e.payAt(t, o5.ID, "2026-03-01T10:00:00Z")
	e.move(t, o5.ID, order.Cancelled, 0)
	e.refundAt(t, o5.ID, order.Refunded, 900, "2026-03-02T10:00:00Z")
	// o6: A, USD 1 x 1100, paid 02-28 23:59Z: before the range but in UTC and New York, on
	// the 1st in Kolkata.
	o6 := newOrder("USD", tf.LineOpts{VendorID: &f.a, Quantity: 1, UnitPrice: 1100})
	e.payAt(t, o6.ID, "2026-02-28T23:59:00Z")
	// o7: A, USD 1 x 100, paid in 1971, when Africa/Monrovia was 44.5 minutes behind UTC.
	o7 := newOrder("USD", tf.LineOpts{VendorID: &f.a, Quantity: 1, UnitPrice: 100})
	e.payAt(t, o7.ID, "1971-06-01T12:00:00Z")
	require.NoError(t, e.svc.Rebuild(context.Background()))
	pid := func(o tf.Order, i int) int64 {
		var id int64
		require.NoError(t, e.d.Pool.QueryRow(context.Background(), `SELECT product_id FROM order_lines WHERE id = $1`, o.LineIDs[i]).Scan(&id))
		return id
	}
	f.p1, f.p2a, f.p5, f.p6 = pid(o1, 0), pid(o2, 0), pid(o5, 0), pid(o6, 0)
	return f
}

type fig = analytics.Figures

func in(vendor *int64, zone string) analytics.Input {
	return analytics.Input{VendorID: vendor, From: "2026-03-01", To: "2026-03-02", Interval: analytics.Day, TimeZone: zone}
}

// both runs the report from the rollups and from the lines, requires them equal and returns it.
func both(t *testing.T, e env, v auth.Viewer, input analytics.Input) analytics.Report {
	t.Helper()
	r, err := e.svc.Report(context.Background(), &v, input)
	require.NoError(t, err)
	plain, err := e.svc.ReportFromLines(context.Background(), &v, input)
	require.NoError(t, err)
	require.Equal(t, analytics.FromLines, plain.Source)
	plain.Source = r.Source
	require.Equal(t, plain, r, "rollups and lines disagree")
	return r
}

func currency(t *testing.T, r analytics.Report, code string) analytics.Currency {
	t.Helper()
	for _, c := range r.Currencies {
		if c.Currency == code {
			return c
		}
	}
	t.Fatalf("no %s in the report: %+v", code, r.Currencies)
	return analytics.Currency{}
}

func series(c analytics.Currency) []fig {
	out := make([]fig, len(c.Series))
	for i, p := range c.Series {
		out[i] = p.Figures
	}
	return out
}

func TestReportExactFiguresAcrossZones(t *testing.T) {
	e := setup(t)
	f := sales(t, e)

	// UTC: o1, o5 on the 1st; o2 and every refund on the 2nd.
	r := both(t, e, f.vendorA, in(&f.a, "UTC"))
	require.Equal(t, analytics.FromRollups, r.Source)
	require.Equal(t, ts("2026-03-01T00:00:00Z"), r.Start)
	require.Equal(t, ts("2026-03-03T00:00:00Z"), r.End)
	usd := currency(t, r, "USD")
	require.Equal(t, []fig{{Gross: 2900, Orders: 2, Units: 3}, {Gross: 3000, Refunds: 3900, Orders: 1, Units: 1}}, series(usd))
	require.Equal(t, fig{Gross: 5900, Refunds: 3900, Orders: 3, Units: 4}, usd.Totals)
	require.EqualValues(t, 2000, usd.Totals.Net())
	require.EqualValues(t, 1967, usd.Totals.AverageOrderValue()) // 5900 / 3 = 1966.67
	require.Equal(t, []analytics.Product{{ProductID: f.p2a, Revenue: 3000, Units: 1}, {ProductID: f.p1, Revenue: 2000, Units: 2}, {ProductID: f.p5, Revenue: 900, Units: 1}},
		noNames(usd.TopByRevenue))
	require.Equal(t, []analytics.Product{{ProductID: f.p1, Revenue: 2000, Units: 2}, {ProductID: f.p2a, Revenue: 3000, Units: 1}, {ProductID: f.p5, Revenue: 900, Units: 1}},
		noNames(usd.TopByUnits)) // a tie on units goes by product ID
	eur := currency(t, r, "EUR")
	require.Equal(t, []fig{{Gross: 1500, Orders: 1, Units: 3}, {Refunds: 1500}}, series(eur))
	require.EqualValues(t, 0, eur.Totals.Net())
	require.Equal(t, []string{"EUR", "USD"}, []string{r.Currencies[0].Currency, r.Currencies[1].Currency})

	// New York (UTC-5): o2, paid at 23:30 on the 1st, moves to the 1st.
	r = both(t, e, f.vendorA, in(&f.a, "America/New_York"))
	require.Equal(t, ts("2026-03-01T05:00:00Z"), r.Start)
	usd = currency(t, r, "USD")
	require.Equal(t, []fig{{Gross: 5900, Orders: 3, Units: 4}, {Refunds: 3900}}, series(usd))
	require.Equal(t, []fig{{Gross: 1500, Orders: 1, Units: 3}, {Refunds: 1500}}, series(currency(t, r, "EUR")))

	// Kolkata (UTC+5:30, a half-hour zone, still from the rollups): o6 comes in on the 1st, o1
	// moves to the 2nd, o3's refund leaves the range.
	r = both(t, e, f.vendorA, in(&f.a, "Asia/Kolkata"))
	require.Equal(t, analytics.FromRollups, r.Source)
	require.Equal(t, ts("2026-02-28T18:30:00Z"), r.Start)
	usd = currency(t, r, "USD")
	require.Equal(t, []fig{{Gross: 2000, Orders: 2, Units: 2}, {Gross: 5000, Refunds: 3900, Orders: 2, Units: 3}}, series(usd))
	require.Equal(t, fig{Gross: 7000, Refunds: 3900, Orders: 4, Units: 5}, usd.Totals)
	require.EqualValues(t, 1750, usd.Totals.AverageOrderValue())
	require.Equal(t, []fig{{}, {Gross: 1500, Orders: 1, Units: 3}}, series(currency(t, r, "EUR")))
	require.Equal(t, f.p6, currency(t, r, "USD").TopByRevenue[2].ProductID) // 1100, after 3000 and 2000

	// B: its line of o2 only, and its rounded-down shares of the two refunds (83 + 917).
	r = both(t, e, f.vendorB, in(&f.b, "UTC"))
	require.Len(t, r.Currencies, 1)
	usd = currency(t, r, "USD")
	require.Equal(t, []fig{{}, {Gross: 1000, Refunds: 1000, Orders: 1, Units: 1}}, series(usd))

	// The platform: every line, each order once, refunds whole.
	r = both(t, e, f.admin, in(nil, "UTC"))
	usd = currency(t, r, "USD")
	require.Equal(t, []fig{{Gross: 2900, Orders: 2, Units: 3}, {Gross: 4000, Refunds: 4900, Orders: 1, Units: 2}}, series(usd))

	// An admin reads A's, here in Berlin (UTC+1) on the 2nd alone.
	r = both(t, e, f.admin, analytics.Input{VendorID: &f.a, From: "2026-03-02", To: "2026-03-02", Interval: analytics.Day, TimeZone: "Europe/Berlin"})
	// Berlin (UTC+1) on the 2nd: [03-01 23:00Z, 03-02 23:00Z): o1 (23:30Z), o2, every refund.
	require.Equal(t, fig{Gross: 5000, Refunds: 3900, Orders: 2, Units: 3}, currency(t, r, "USD").Totals)
}

func noNames(ps []analytics.Product) []analytics.Product {
	out := make([]analytics.Product, len(ps))
	for i, p := range ps {
		p.Name = ""
		out[i] = p
	}
	return out
}

func TestReportPartialRefundShares(t *testing.T) {
	e := setup(t)
	f := sales(t, e)
	// Only the partial refund (12:00Z) in a range: move the full one a day later.
	_, err := e.d.Pool.Exec(context.Background(), `UPDATE analytics_refunds SET refunded_at = '2026-03-10T13:00:00Z' WHERE amount = 3667`)
	require.NoError(t, err)
	require.NoError(t, e.svc.Rebuild(context.Background()))
	at := func(v auth.Viewer, vendor *int64) int64 {
		r := both(t, e, v, analytics.Input{VendorID: vendor, From: "2026-03-02", To: "2026-03-02", Interval: analytics.Day, TimeZone: "UTC"})
		return currency(t, r, "USD").Totals.Refunds - map[bool]int64{true: 900, false: 0}[vendor == nil || *vendor == f.a]
	}
	require.EqualValues(t, 249, at(f.vendorA, &f.a)) // 333 x 3000 / 4000, rounded down
	require.EqualValues(t, 83, at(f.vendorB, &f.b))  // 333 x 1000 / 4000, rounded down
	require.EqualValues(t, 333, at(f.admin, nil))
}

func TestReportWeekAndMonth(t *testing.T) {
	e := setup(t)
	f := sales(t, e)
	// 2026-02-23 is a Monday: the weeks of 02-23 (clipped to start on the 25th) and of 03-02.
	r := both(t, e, f.vendorA, analytics.Input{VendorID: &f.a, From: "2026-02-25", To: "2026-03-04", Interval: analytics.Week, TimeZone: "UTC"})
	usd := currency(t, r, "USD")
	require.Len(t, usd.Series, 2)
	require.Equal(t, ts("2026-02-25T00:00:00Z"), usd.Series[0].Start)
	require.Equal(t, ts("2026-03-02T00:00:00Z"), usd.Series[0].End)
	require.Equal(t, ts("2026-03-05T00:00:00Z"), usd.Series[1].End)
	require.Equal(t, []fig{{Gross: 1100 + 900 + 2000, Orders: 3, Units: 4}, {Gross: 3000, Refunds: 3900, Orders: 1, Units: 1}}, series(usd))
	r = both(t, e, f.vendorA, analytics.Input{VendorID: &f.a, From: "2026-02-01", To: "2026-03-31", Interval: analytics.Month, TimeZone: "UTC"})
	require.Equal(t, []fig{{Gross: 1100, Orders: 1, Units: 1}, {Gross: 5900, Refunds: 3900, Orders: 3, Units: 4}}, series(currency(t, r, "USD")))
}

func TestReportFallsBackToLinesOffQuarterHours(t *testing.T) {
	e := setup(t)
	f := sales(t, e)
	// In 1971 Monrovia was at UTC-0:44:30: its midnights are not on a quarter hour.
	input := analytics.Input{VendorID: &f.a, From: "1971-06-01", To: "1971-06-01", Interval: analytics.Day, TimeZone: "Africa/Monrovia"}
	r, err := e.svc.Report(context.Background(), &f.vendorA, input)
	require.NoError(t, err)
	require.Equal(t, analytics.FromLines, r.Source)
	require.Equal(t, ts("1971-06-01T00:44:30Z"), r.Start)
	require.Equal(t, fig{Gross: 100, Orders: 1, Units: 1}, currency(t, r, "USD").Totals)
}

func TestReportAccess(t *testing.T) {
	e := setup(t)
	f := sales(t, e)
	ctx := context.Background()
	// Another vendor's analytics are like a missing vendor's.
	_, err := e.svc.Report(ctx, &f.vendorB, in(&f.a, "UTC"))
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
	missing := int64(999_999_999)
	_, err = e.svc.Report(ctx, &f.admin, in(&missing, "UTC"))
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
	_, err = e.svc.Report(ctx, &f.vendorA, in(&missing, "UTC"))
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
	// A customer never; a vendor not for the whole platform.
	_, err = e.svc.Report(ctx, &f.customer, in(&f.a, "UTC"))
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err))
	_, err = e.svc.Report(ctx, &f.vendorA, in(nil, "UTC"))
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err))
	_, err = e.svc.Report(ctx, nil, in(&f.a, "UTC"))
	require.Equal(t, []apperr.Code{apperr.Unauthenticated}, tf.Codes(err))
	// Admins read any vendor's.
	r, err := e.svc.Report(ctx, &f.admin, in(&f.b, "UTC"))
	require.NoError(t, err)
	require.EqualValues(t, 1000, currency(t, r, "USD").Totals.Gross)
}

func TestReportInvalidInput(t *testing.T) {
	e := setup(t)
	f := sales(t, e)
	for name, mod := range map[string]func(*analytics.Input){
		"zone":         func(i *analytics.Input) { i.TimeZone = "Mars/Olympus" },
		"empty zone":   func(i *analytics.Input) { i.TimeZone = "" },
		"local zone":   func(i *analytics.Input) { i.TimeZone = "Local" },
		"from":         func(i *analytics.Input) { i.From = "2026-3-1" },
		"to":           func(i *analytics.Input) { i.To = "yesterday" },
		"reversed":     func(i *analytics.Input) { i.From, i.To = "2026-03-02", "2026-03-01" },
		"interval":     func(i *analytics.Input) { i.Interval = "HOUR" },
		"too many":     func(i *analytics.Input) { i.From, i.To = "2020-01-01", "2026-01-01" },
		"before epoch": func(i *analytics.Input) { i.From = "1960-01-01" },
	} {
		input := in(&f.a, "UTC")
		mod(&input)
		_, err := e.svc.Report(context.Background(), &f.vendorA, input)
		require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err), name)
	}
}

// rollups reads the rollup tables summed per key (the hooks append delta rows, the rebuild one
// row per key) in a fixed order, to compare them.
func rollups(t *testing.T, d *postgres.DB) []string {
	t.Helper()
	var out []string
	rows, err := d.Pool.Query(context.Background(), `
		SELECT format('%s %s %s %s %s %s %s', vendor_id, bucket, currency, sum(gross), sum(refunds), sum(orders), sum(units))
		FROM analytics_sales GROUP BY vendor_id, bucket, currency
		UNION ALL
		SELECT format('p %s %s %s %s %s %s %s', vendor_id, bucket, currency, product_id, max(product_name), sum(revenue), sum(units))
		FROM analytics_product_sales GROUP BY vendor_id, bucket, currency, product_id
		ORDER BY 1`)
	require.NoError(t, err)
	out, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

func TestRollupsKeptInTheMovesTransaction(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	u := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleVendor})
	cust := tf.NewUser(t, e.d, tf.UserOpts{})
	o := tf.NewOrder(t, e.d, tf.OrderOpts{UserID: cust.ID, Lines: []tf.LineOpts{{VendorID: &u.VendorID, Quantity: 3, UnitPrice: 1234}}})
	require.Empty(t, rollups(t, e.d))
	// A move that rolls back counts nothing.
	err := e.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if _, err := e.orders.TransitionTx(ctx, q, order.SystemActor, o.ID, order.Paid, order.TransitionOptions{}); err != nil {
			return err
		}
		return fmt.Errorf("give up")
	})
	require.Error(t, err)
	require.Empty(t, rollups(t, e.d))
	e.move(t, o.ID, order.Paid, 0)
	e.move(t, o.ID, order.PartiallyRefunded, 1000)
	today := time.Now().UTC().Format("2006-01-02")
	v := u.Viewer()
	r, err := e.svc.Report(ctx, &v, analytics.Input{VendorID: &u.VendorID, From: today, To: today, Interval: analytics.Day, TimeZone: "UTC"})
	require.NoError(t, err)
	require.Equal(t, fig{Gross: 3702, Refunds: 1000, Orders: 1, Units: 3}, currency(t, r, "USD").Totals)
	// The rollups the moves kept are what the backfill builds from the lines.
	kept := rollups(t, e.d)
	require.NotEmpty(t, kept)
	require.NoError(t, e.svc.Rebuild(ctx))
	require.Equal(t, kept, rollups(t, e.d))
}

// TestRollupsEqualLinesRandomised pays and refunds random orders of random vendors, two
// currencies, at random times over a year, through the hooks the moves call, and compares
// every kind of report, in zones of whole-hour, half-hour and quarter-hour offsets with DST,
// from the rollups and from the lines; then the kept rollups with the backfill's.
func TestRollupsEqualLinesRandomised(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(16, 22))
	admin := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer()
	cust := tf.NewUser(t, e.d, tf.UserOpts{})
	var vendors []int64
	products := map[int64][]tf.Product{}
	for range 3 {
		v := tf.NewVendor(t, e.d, tf.VendorOpts{}).ID
		vendors = append(vendors, v)
		for range 4 {
			products[v] = append(products[v], tf.NewProduct(t, e.d, tf.ProductOpts{VendorID: &v}))
		}
	}
	start := ts("2025-01-01T00:00:00Z")
	for range 150 {
		var lines []tf.LineOpts
		for range 1 + rng.IntN(3) {
			v := vendors[rng.IntN(len(vendors))]
			p := products[v][rng.IntN(4)]
			lines = append(lines, tf.LineOpts{ProductID: p.ID, VariantID: p.Variant(), VendorID: &v, Quantity: 1 + rng.IntN(5), UnitPrice: int64(1 + rng.IntN(5000))})
		}
		cur := []string{"USD", "EUR"}[rng.IntN(2)]
		o := tf.NewOrder(t, e.d, tf.OrderOpts{UserID: cust.ID, Currency: cur, Lines: lines})
		if rng.IntN(5) == 0 {
			continue // never paid
		}
		at := start.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		require.NoError(t, e.d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
			if _, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, sequence, status, note, created_at) VALUES ($1, 2, 'PAID', '', $2)`, o.ID, at); err != nil {
				return err
			}
			if err := e.svc.Paid(ctx, tx, o.ID, at); err != nil {
				return err
			}
			left, seq := o.Total, 3
			for rng.IntN(2) == 0 && left > 0 {
				n := 1 + rng.Int64N(left)
				at = at.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
				if err := e.svc.Refunded(ctx, tx, o.ID, seq, n, at); err != nil {
					return err
				}
				left -= n
				seq++
			}
			return nil
		}))
	}
	for _, zone := range []string{"UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide"} {
		for _, iv := range []analytics.Interval{analytics.Day, analytics.Week, analytics.Month} {
			for _, vendor := range append([]*int64{nil}, &vendors[0], &vendors[1], &vendors[2]) {
				from := start.AddDate(0, 0, rng.IntN(300))
				input := analytics.Input{VendorID: vendor, From: from.Format("2006-01-02"), To: from.AddDate(0, 0, 10+rng.IntN(90)).Format("2006-01-02"), Interval: iv, TimeZone: zone}
				r := both(t, e, admin, input)
				require.Equal(t, analytics.FromRollups, r.Source, zone)
			}
		}
	}
	kept := rollups(t, e.d)
	require.NoError(t, e.svc.Rebuild(ctx))
	require.Equal(t, kept, rollups(t, e.d))
}

// Payments of orders holding the same vendors' lines, at once, all count (their rollup rows
// are locked in key order: no deadlock, no lost update).
func TestConcurrentPaymentsAllCount(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	ua := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleVendor})
	ub := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleVendor})
	cust := tf.NewUser(t, e.d, tf.UserOpts{})
	const n = 24
	ids := make([]int64, n)
	for i := range ids {
		// Half list B's line first, half A's.
		lines := []tf.LineOpts{{VendorID: &ua.VendorID, Quantity: 1, UnitPrice: 100}, {VendorID: &ub.VendorID, Quantity: 1, UnitPrice: 10}}
		if i%2 == 1 {
			lines[0], lines[1] = lines[1], lines[0]
		}
		ids[i] = tf.NewOrder(t, e.d, tf.OrderOpts{UserID: cust.ID, Lines: lines}).ID
	}
	errs := make(chan error, n)
	for _, id := range ids {
		go func() {
			_, err := e.orders.Transition(ctx, order.SystemActor, id, order.Paid, order.TransitionOptions{})
			errs <- err
		}()
	}
	for range ids {
		require.NoError(t, <-errs)
	}
	today := time.Now().UTC().Format("2006-01-02")
	admin := tf.NewUser(t, e.d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer()
	totals := func(vendor *int64) fig {
		r, err := e.svc.Report(ctx, &admin, analytics.Input{VendorID: vendor, From: today, To: today, Interval: analytics.Day, TimeZone: "UTC"})
		require.NoError(t, err)
		return currency(t, r, "USD").Totals
	}
	require.Equal(t, fig{Gross: n * 100, Orders: n, Units: n}, totals(&ua.VendorID))
	require.Equal(t, fig{Gross: n * 10, Orders: n, Units: n}, totals(&ub.VendorID))
	require.Equal(t, fig{Gross: n * 110, Orders: n, Units: 2 * n}, totals(nil))
}
