package vendor_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// ledgerWorld is two vendors with different commission rates, A at 10% and B at 12.5%, their
// members, and the order service telling the ledger of every move, as internal/app wires it.
type ledgerWorld struct {
	d        *postgres.DB
	orders   *order.Service
	ledger   *vendor.Ledger
	admin    auth.Viewer
	a, b     tf.User // members of A and B
	aID, bID int64
}

func newLedgerWorld(t *testing.T) ledgerWorld {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := ledgerWorld{d: d, orders: order.NewService(d, nil, nil, log), ledger: vendor.NewLedger(d)}
	w.orders.Ledger = w.ledger
	w.admin = tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer()
	w.a = tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleVendor})
	w.b = tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleVendor})
	w.aID, w.bID = w.a.VendorID, w.b.VendorID
	w.setRate(t, w.aID, 1000)
	w.setRate(t, w.bID, 1250)
	return w
}

func (w ledgerWorld) setRate(t *testing.T, vendorID int64, bps int) {
	t.Helper()
	_, err := w.d.Pool.Exec(context.Background(), `UPDATE vendors SET commission_bps = $2 WHERE id = $1`, vendorID, bps)
	require.NoError(t, err)
}

// mixedOrder is an order of 7998 in currency: A's line 3 × 1999 = 5997, B's line 1 × 1001 =
// 1001, and a platform line 2 × 500 = 1000.
func (w ledgerWorld) mixedOrder(t *testing.T, currency string) tf.Order {
	t.Helper()
	customer := tf.NewUser(t, w.d, tf.UserOpts{})
	return tf.NewOrder(t, w.d, tf.OrderOpts{UserID: customer.ID, Currency: currency, Lines: []tf.LineOpts{
		{VendorID: &w.aID, UnitPrice: 1999, Quantity: 3},
		{VendorID: &w.bID, UnitPrice: 1001, Quantity: 1},
		{UnitPrice: 500, Quantity: 2},
	}})
}

func (w ledgerWorld) move(t *testing.T, orderID int64, to order.Status, opts order.TransitionOptions) {
	t.Helper()
	_, err := w.orders.Transition(context.Background(), order.SystemActor, orderID, to, opts)
	require.NoError(t, err)
}

// refund moves the order for a refund step from before to through.
func (w ledgerWorld) refund(t *testing.T, orderID int64, to order.Status, before, through int64) {
	t.Helper()
	w.move(t, orderID, to, order.TransitionOptions{RefundedAmount: through - before, RefundedTotal: through})
}

// entry is a ledger row as the tests compare it.
type entry struct {
	Vendor                 int64
	Kind                   string
	Gross, Commission, Net int64
	Currency               string
	Line                   bool
}

func (w ledgerWorld) entries(t *testing.T, orderID int64) []entry {
	t.Helper()
	rows, err := w.d.Pool.Query(context.Background(), `
		SELECT vendor_id, kind::text, gross_amount, commission_amount, net_amount, currency, order_line_id IS NOT NULL
		FROM vendor_ledger_entries WHERE order_id = $1 ORDER BY id`, orderID)
	require.NoError(t, err)
	defer rows.Close()
	var out []entry
	for rows.Next() {
		var e entry
		require.NoError(t, rows.Scan(&e.Vendor, &e.Kind, &e.Gross, &e.Commission, &e.Net, &e.Currency, &e.Line))
		out = append(out, e)
	}
	require.NoError(t, rows.Err())
	return out
}

func usd(n int64) money.Money { return money.New(n, "USD") }

func TestLedgerEarningsWhenPaid(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")

	var bps *int32
	require.NoError(t, w.d.Pool.QueryRow(context.Background(), `SELECT commission_bps FROM order_lines WHERE id = $1`, o.LineIDs[0]).Scan(&bps))
	require.Equal(t, int32(1000), *bps, "the line keeps its vendor's rate")
	// A later change of the vendor's rate does not touch the order's lines.
	w.setRate(t, w.aID, 3000)

	require.Empty(t, w.entries(t, o.ID), "nothing before payment")
	w.move(t, o.ID, order.Paid, order.TransitionOptions{})
	// A: 5997 × 10% = 599.7 → 600 (half up); B: 1001 × 12.5% = 125.125 → 125. The platform
	// line earns no vendor anything.
	require.Equal(t, []entry{
		{Vendor: w.aID, Kind: "EARNING", Gross: 5997, Commission: 600, Net: 5397, Currency: "USD", Line: true},
		{Vendor: w.bID, Kind: "EARNING", Gross: 1001, Commission: 125, Net: 876, Currency: "USD", Line: true},
	}, w.entries(t, o.ID))

	bal, err := w.ledger.Balance(context.Background(), &w.admin, w.aID)
	require.NoError(t, err)
	require.Equal(t, []vendor.Balance{{Earned: usd(5397), Reversed: usd(0), Net: usd(5397)}}, bal)

	// Shipping and delivering earn nothing more.
	tracking := "TRK-1"
	w.move(t, o.ID, order.Shipped, order.TransitionOptions{TrackingNumber: &tracking})
	w.move(t, o.ID, order.Delivered, order.TransitionOptions{})
	require.Len(t, w.entries(t, o.ID), 2)
}

func TestLedgerFullRefund(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")
	w.move(t, o.ID, order.Paid, order.TransitionOptions{})
	w.refund(t, o.ID, order.Refunded, 0, 7998)
	require.Equal(t, []entry{
		{Vendor: w.aID, Kind: "EARNING", Gross: 5997, Commission: 600, Net: 5397, Currency: "USD", Line: true},
		{Vendor: w.bID, Kind: "EARNING", Gross: 1001, Commission: 125, Net: 876, Currency: "USD", Line: true},
		{Vendor: w.aID, Kind: "REVERSAL", Gross: 5997, Commission: 600, Net: 5397, Currency: "USD"},
		{Vendor: w.bID, Kind: "REVERSAL", Gross: 1001, Commission: 125, Net: 876, Currency: "USD"},
	}, w.entries(t, o.ID))
	bal, err := w.ledger.Balance(context.Background(), &w.admin, w.bID)
	require.NoError(t, err)
	require.Equal(t, []vendor.Balance{{Earned: usd(876), Reversed: usd(876), Net: usd(0)}}, bal)
}

func TestLedgerTwoPartialRefunds(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")
	w.move(t, o.ID, order.Paid, order.TransitionOptions{})

	// 3000 of 7998, by the one rule the analytics count too (queries/refund_split.sql): each
	// vendor's part of the refunded total in proportion, rounded down: A 3000 × 5997/7998 =
	// 2249.43 → 2249, B 375.47 → 375 (the platform's own lines bear the rounding). Commission
	// back: A 600 × 2249/5997 = 225.01 → 225, B 125 × 375/1001 = 46.83 → 47.
	w.refund(t, o.ID, order.PartiallyRefunded, 0, 3000)
	got := w.entries(t, o.ID)[2:]
	require.Equal(t, []entry{
		{Vendor: w.aID, Kind: "REVERSAL", Gross: 2249, Commission: 225, Net: 2024, Currency: "USD"},
		{Vendor: w.bID, Kind: "REVERSAL", Gross: 375, Commission: 47, Net: 328, Currency: "USD"},
	}, got)

	// The other 4998: the refunded total is the whole order, so each vendor's part is all it
	// earned, less what it gave back: A 5997 − 2249 = 3748, B 1001 − 375 = 626, with the rest
	// of their commission (A 600 − 225, B 125 − 47). The reversals sum exactly to the earnings.
	w.refund(t, o.ID, order.Refunded, 3000, 7998)
	got = w.entries(t, o.ID)[4:]
	require.Equal(t, []entry{
		{Vendor: w.aID, Kind: "REVERSAL", Gross: 3748, Commission: 375, Net: 3373, Currency: "USD"},
		{Vendor: w.bID, Kind: "REVERSAL", Gross: 626, Commission: 78, Net: 548, Currency: "USD"},
	}, got)

	for _, id := range []int64{w.aID, w.bID} {
		bal, err := w.ledger.Balance(context.Background(), &w.admin, id)
		require.NoError(t, err)
		require.Len(t, bal, 1)
		require.Zero(t, bal[0].Net.Amount, "vendor %d: all earnings reversed, exactly", id)
	}
}

func TestLedgerRefundsNeverExceedEarnings(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")
	w.move(t, o.ID, order.Paid, order.TransitionOptions{})
	// Many small steps, each one cent: every cent goes to exactly one party, and the sums
	// end exact.
	before := int64(0)
	for _, through := range []int64{1, 2, 3, 7, 11, 500, 1001, 4000, 7997} {
		w.refund(t, o.ID, order.PartiallyRefunded, before, through)
		before = through
	}
	w.refund(t, o.ID, order.Refunded, before, 7998)
	var earned, reversed [2]int64
	for _, e := range w.entries(t, o.ID) {
		i := 0
		if e.Vendor == w.bID {
			i = 1
		}
		require.Equal(t, e.Gross-e.Commission, e.Net)
		if e.Kind == "EARNING" {
			earned[i] += e.Net
		} else {
			reversed[i] += e.Net
			require.LessOrEqual(t, reversed[i], earned[i])
		}
	}
	require.Equal(t, earned, reversed)
}

func TestLedgerExactlyOnce(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")
	w.move(t, o.ID, order.Paid, order.TransitionOptions{})
	w.refund(t, o.ID, order.PartiallyRefunded, 0, 3000)
	want := w.entries(t, o.ID)
	require.Len(t, want, 4)
	// The same moves told again (a move run twice) write nothing.
	ctx := context.Background()
	require.NoError(t, w.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if err := w.ledger.OrderMoved(ctx, q, order.StatusChange{OrderID: o.ID, Status: order.Paid}); err != nil {
			return err
		}
		return w.ledger.OrderMoved(ctx, q, order.StatusChange{OrderID: o.ID, Status: order.PartiallyRefunded, RefundedAmount: 3000, RefundedTotal: 3000})
	}))
	require.Equal(t, want, w.entries(t, o.ID))

	// The ledger is append-only.
	_, err := w.d.Pool.Exec(ctx, `UPDATE vendor_ledger_entries SET net_amount = 0 WHERE order_id = $1`, o.ID)
	require.ErrorContains(t, err, "append-only")
	_, err = w.d.Pool.Exec(ctx, `DELETE FROM vendor_ledger_entries WHERE order_id = $1`, o.ID)
	require.ErrorContains(t, err, "append-only")
}

func TestLedgerCancelledBeforePayment(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")
	w.move(t, o.ID, order.Cancelled, order.TransitionOptions{})
	require.Empty(t, w.entries(t, o.ID))
	// Paid after the cancellation, the money goes back: the refund reverses nothing, as
	// nothing was earned.
	w.refund(t, o.ID, order.Refunded, 0, 7998)
	require.Empty(t, w.entries(t, o.ID))
	bal, err := w.ledger.Balance(context.Background(), &w.admin, w.aID)
	require.NoError(t, err)
	require.Empty(t, bal)
}

func TestLedgerTwoCurrencies(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	usdOrder := w.mixedOrder(t, "USD")
	eurOrder := w.mixedOrder(t, "EUR")
	w.move(t, usdOrder.ID, order.Paid, order.TransitionOptions{})
	w.move(t, eurOrder.ID, order.Paid, order.TransitionOptions{})
	w.refund(t, eurOrder.ID, order.PartiallyRefunded, 0, 3000)

	bal, err := w.ledger.Balance(context.Background(), ptr(w.a.Viewer()), w.aID)
	require.NoError(t, err)
	require.Equal(t, []vendor.Balance{
		{Earned: money.New(5397, "EUR"), Reversed: money.New(2024, "EUR"), Net: money.New(3373, "EUR")},
		{Earned: usd(5397), Reversed: usd(0), Net: usd(5397)},
	}, bal)
}

func TestLedgerAccess(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	o := w.mixedOrder(t, "USD")
	w.move(t, o.ID, order.Paid, order.TransitionOptions{})
	ctx := context.Background()
	customer := tf.NewUser(t, w.d, tf.UserOpts{}).Viewer()

	for name, v := range map[string]*auth.Viewer{"A's member": ptr(w.a.Viewer()), "an admin": &w.admin} {
		bal, err := w.ledger.Balance(ctx, v, w.aID)
		require.NoError(t, err, name)
		require.Len(t, bal, 1, name)
		page, err := w.ledger.Entries(ctx, v, w.aID, nil, "")
		require.NoError(t, err, name)
		require.Len(t, page.Entries, 1, name)
	}
	for name, v := range map[string]*auth.Viewer{"B's member": ptr(w.b.Viewer()), "a customer": &customer, "anonymous": nil} {
		_, err := w.ledger.Balance(ctx, v, w.aID)
		require.Equal(t, apperr.NotFound, codeOf(err), name)
		_, err = w.ledger.Entries(ctx, v, w.aID, nil, "")
		require.Equal(t, apperr.NotFound, codeOf(err), name)
		_, err = w.ledger.Count(ctx, v, w.aID)
		require.Equal(t, apperr.NotFound, codeOf(err), name)
	}
	// A vendor that does not exist answers the same.
	_, err := w.ledger.Balance(ctx, &w.admin, 1<<40)
	require.Equal(t, apperr.NotFound, codeOf(err))
}

func TestLedgerEntriesPages(t *testing.T) {
	t.Parallel()
	w := newLedgerWorld(t)
	ctx := context.Background()
	for range 3 {
		o := w.mixedOrder(t, "USD")
		w.move(t, o.ID, order.Paid, order.TransitionOptions{})
	}
	two := 2
	p1, err := w.ledger.Entries(ctx, &w.admin, w.aID, &two, "")
	require.NoError(t, err)
	require.Len(t, p1.Entries, 2)
	require.True(t, p1.HasNextPage)
	require.Greater(t, p1.Entries[0].ID, p1.Entries[1].ID, "newest first")
	p2, err := w.ledger.Entries(ctx, &w.admin, w.aID, &two, p1.Cursors[1])
	require.NoError(t, err)
	require.Len(t, p2.Entries, 1)
	require.False(t, p2.HasNextPage)
	require.Less(t, p2.Entries[0].ID, p1.Entries[1].ID)
	n, err := w.ledger.Count(ctx, &w.admin, w.aID)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	bad := 101
	_, err = w.ledger.Entries(ctx, &w.admin, w.aID, &bad, "")
	require.Equal(t, apperr.BadUserInput, codeOf(err))
	_, err = w.ledger.Entries(ctx, &w.admin, w.aID, nil, "not-a-cursor")
	require.Equal(t, apperr.BadUserInput, codeOf(err))
}
