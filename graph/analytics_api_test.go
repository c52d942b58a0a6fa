package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// vendorAnalytics through the API: figures kept by the real payment and refund paths, a
// vendor's own report, another vendor's answering like a missing one, the platform for admins,
// customers refused, bad input.

const analyticsQuery = `query A($input: VendorAnalyticsInput!) { vendorAnalytics(input: $input) {
  vendor { id } from to interval timeZone startsAt endsAt
  currencies { currency
    totals { grossSales { amount currency } refunds { amount } netSales { amount } orderCount units averageOrderValue { amount } }
    series { startsAt endsAt figures { grossSales { amount } refunds { amount } orderCount units } }
    topProductsByRevenue { productId name revenue { amount currency } units }
    topProductsByUnits { productId name units } } } }`

type analyticsView struct {
	Vendor *struct {
		ID string `json:"id"`
	} `json:"vendor"`
	From       string `json:"from"`
	To         string `json:"to"`
	Interval   string `json:"interval"`
	TimeZone   string `json:"timeZone"`
	StartsAt   string `json:"startsAt"`
	EndsAt     string `json:"endsAt"`
	Currencies []struct {
		Currency string `json:"currency"`
		Totals   struct {
			GrossSales        moneyJSON              `json:"grossSales"`
			Refunds           struct{ Amount int64 } `json:"refunds"`
			NetSales          struct{ Amount int64 } `json:"netSales"`
			OrderCount        int                    `json:"orderCount"`
			Units             int                    `json:"units"`
			AverageOrderValue struct{ Amount int64 } `json:"averageOrderValue"`
		} `json:"totals"`
		Series []struct {
			StartsAt string `json:"startsAt"`
			EndsAt   string `json:"endsAt"`
		} `json:"series"`
		TopProductsByRevenue []struct {
			ProductID string    `json:"productId"`
			Name      string    `json:"name"`
			Revenue   moneyJSON `json:"revenue"`
			Units     int       `json:"units"`
		} `json:"topProductsByRevenue"`
		TopProductsByUnits []struct {
			ProductID string `json:"productId"`
			Units     int    `json:"units"`
		} `json:"topProductsByUnits"`
	} `json:"currencies"`
}

func analyticsInput(vendorGID *string, zone string) map[string]any {
	now := time.Now().UTC()
	in := map[string]any{"from": now.AddDate(0, 0, -1).Format("2006-01-02"), "to": now.AddDate(0, 0, 1).Format("2006-01-02"),
		"interval": "DAY", "timeZone": zone}
	if vendorGID != nil {
		in["vendorId"] = *vendorGID
	}
	return map[string]any{"input": in}
}

func readAnalytics(t *testing.T, c *apitest.Client, vendorGID *string, zone string) *analyticsView {
	t.Helper()
	var out struct {
		A *analyticsView `json:"vendorAnalytics"`
	}
	c.As(t).Do(analyticsQuery, analyticsInput(vendorGID, zone)).Decode(t, &out)
	return out.A
}

func TestVendorAnalyticsAPI(t *testing.T) {
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)
	ctx := context.Background()
	d := e.Server.App.DB
	vendorA, a := e.Vendor(t)
	vendorB, b := e.Vendor(t)
	customer, customerID := e.Customer(t)
	aGID, bGID := apitest.GlobalID("Vendor", a), apitest.GlobalID("Vendor", b)
	move := func(id int64, to order.Status, refunded int64) {
		_, err := e.Server.App.Orders.Transition(ctx, order.SystemActor, id, to, order.TransitionOptions{RefundedAmount: refunded})
		require.NoError(t, err)
	}
	// An order of A's 2 x 1500 and B's 1 x 1000, paid; an EUR order of A's, paid, 200 of its
	// 700 refunded; an order of A's never paid, cancelled.
	o1 := tf.NewOrder(t, d, tf.OrderOpts{UserID: customerID, Lines: []tf.LineOpts{
		{VendorID: &a, Quantity: 2, UnitPrice: 1500}, {VendorID: &b, Quantity: 1, UnitPrice: 1000}}})
	move(o1.ID, order.Paid, 0)
	o2 := tf.NewOrder(t, d, tf.OrderOpts{UserID: customerID, Currency: "EUR", Lines: []tf.LineOpts{{VendorID: &a, Quantity: 1, UnitPrice: 700}}})
	move(o2.ID, order.Paid, 0)
	move(o2.ID, order.PartiallyRefunded, 200)
	o3 := tf.NewOrder(t, d, tf.OrderOpts{UserID: customerID, Lines: []tf.LineOpts{{VendorID: &a, Quantity: 1, UnitPrice: 9999}}})
	move(o3.ID, order.Cancelled, 0)
	// Through checkout, Stripe's webhook and the admin's refund (settled with the provider):
	// 2 x 2500, 1000 refunded.
	o4 := newPayOrder(t, e, 2500, 10, 2)
	apitest.PayWithFake(t, e, fake, o4)
	r := payRefund(t, e.Admin, o4.GID, int64p(1000))
	require.Empty(t, r.UserErrors)

	t.Run("a vendor reads its own", func(t *testing.T) {
		got := readAnalytics(t, vendorA, &aGID, "America/New_York")
		require.NotNil(t, got)
		require.Equal(t, aGID, got.Vendor.ID)
		require.Equal(t, "DAY", got.Interval)
		require.Equal(t, "America/New_York", got.TimeZone)
		require.Len(t, got.Currencies, 2)
		eur, usd := got.Currencies[0], got.Currencies[1]
		require.Equal(t, "EUR", eur.Currency)
		require.Equal(t, moneyJSON{700, "EUR"}, eur.Totals.GrossSales)
		require.EqualValues(t, 200, eur.Totals.Refunds.Amount)
		require.EqualValues(t, 500, eur.Totals.NetSales.Amount)
		require.Equal(t, "USD", usd.Currency)
		require.Equal(t, moneyJSON{3000, "USD"}, usd.Totals.GrossSales)
		require.Equal(t, 1, usd.Totals.OrderCount)
		require.Equal(t, 2, usd.Totals.Units)
		require.EqualValues(t, 3000, usd.Totals.AverageOrderValue.Amount)
		require.Len(t, usd.Series, 3)
		require.Len(t, usd.TopProductsByRevenue, 1)
		require.Equal(t, moneyJSON{3000, "USD"}, usd.TopProductsByRevenue[0].Revenue)
		require.Equal(t, 2, usd.TopProductsByUnits[0].Units)
		var pid int64
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT product_id FROM order_lines WHERE id = $1`, o1.LineIDs[0]).Scan(&pid))
		require.Equal(t, apitest.GlobalID("Product", pid), usd.TopProductsByRevenue[0].ProductID)
	})

	t.Run("another vendor's answers like a missing one", func(t *testing.T) {
		missing := apitest.GlobalID("Vendor", 999_999_999)
		notAVendor := apitest.GlobalID("Product", a)
		for _, id := range []*string{&aGID, &missing, &notAVendor} {
			resp := vendorB.As(t).Do(analyticsQuery, analyticsInput(id, "UTC"))
			require.Empty(t, resp.Errors)
			require.JSONEq(t, `{"vendorAnalytics":null}`, string(resp.Data))
		}
		// Its own shows its line of the shared order only.
		got := readAnalytics(t, vendorB, &bGID, "UTC")
		require.Len(t, got.Currencies, 1)
		require.Equal(t, moneyJSON{1000, "USD"}, got.Currencies[0].Totals.GrossSales)
	})

	t.Run("admins read any vendor and the platform", func(t *testing.T) {
		got := readAnalytics(t, e.Admin, &bGID, "UTC")
		require.Equal(t, moneyJSON{1000, "USD"}, got.Currencies[0].Totals.GrossSales)
		got = readAnalytics(t, e.Admin, nil, "Asia/Kolkata")
		require.Nil(t, got.Vendor)
		require.Len(t, got.Currencies, 2)
		usd := got.Currencies[1]
		require.Equal(t, moneyJSON{4000 + 5000, "USD"}, usd.Totals.GrossSales)
		require.EqualValues(t, 1000, usd.Totals.Refunds.Amount)
		require.Equal(t, 2, usd.Totals.OrderCount)
		require.EqualValues(t, 4500, usd.Totals.AverageOrderValue.Amount)
	})

	t.Run("refused", func(t *testing.T) {
		require.Equal(t, "FORBIDDEN", customer.As(t).Do(analyticsQuery, analyticsInput(&aGID, "UTC")).Code())
		require.Equal(t, "FORBIDDEN", vendorA.As(t).Do(analyticsQuery, analyticsInput(nil, "UTC")).Code())
		require.Equal(t, "UNAUTHENTICATED", e.Anon(t).Do(analyticsQuery, analyticsInput(&aGID, "UTC")).Code())
	})

	t.Run("bad input", func(t *testing.T) {
		in := analyticsInput(&aGID, "Not/AZone")
		resp := vendorA.As(t).Do(analyticsQuery, in)
		require.Equal(t, "INVALID", resp.Code())
		in = analyticsInput(&aGID, "UTC")
		in["input"].(map[string]any)["from"] = "03/01/2026"
		require.Equal(t, "INVALID", vendorA.As(t).Do(analyticsQuery, in).Code())
	})
}
