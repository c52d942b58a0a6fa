package graph_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// The vendors' money through the API (schema/vendor_money.graphqls): orders placed and paid
// as customers do (checkout, the payment webhook), refunds as admins make them.

const (
	vendorBalanceQuery = `query B($id: ID!) { vendorBalance(vendorId: $id) {
	  currency earned { amount currency } reversed { amount currency } net { amount currency } } }`
	vendorMoneyQuery = `query V($id: ID!, $first: Int, $after: String) { vendor(id: $id) { id
	  balance { currency earned { amount currency } reversed { amount currency } net { amount currency } }
	  ledgerEntries(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
	    edges { cursor node { kind orderId orderLineId commissionRateBps createdAt
	      gross { amount currency } commission { amount currency } net { amount currency } } } } } }`
)

type balanceView struct {
	Currency string    `json:"currency"`
	Earned   moneyJSON `json:"earned"`
	Reversed moneyJSON `json:"reversed"`
	Net      moneyJSON `json:"net"`
}

type ledgerEntryView struct {
	Kind              string    `json:"kind"`
	OrderID           string    `json:"orderId"`
	OrderLineID       *string   `json:"orderLineId"`
	CommissionRateBps *int      `json:"commissionRateBps"`
	CreatedAt         string    `json:"createdAt"`
	Gross             moneyJSON `json:"gross"`
	Commission        moneyJSON `json:"commission"`
	Net               moneyJSON `json:"net"`
}

type vendorMoneyView struct {
	ID            string        `json:"id"`
	Balance       []balanceView `json:"balance"`
	LedgerEntries *struct {
		TotalCount int `json:"totalCount"`
		PageInfo   struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
		Edges []struct {
			Cursor string          `json:"cursor"`
			Node   ledgerEntryView `json:"node"`
		} `json:"edges"`
	} `json:"ledgerEntries"`
}

// moneyWorld is two vendors, A at 10% and B at 12.5%, each with a member, on a server whose
// payment gateway is the stateful fake.
type moneyWorld struct {
	e        *apitest.Env
	fake     *paymenttest.Gateway
	a, b     *apitest.Client
	aID, bID int64
}

func newMoneyWorld(t *testing.T) moneyWorld {
	t.Helper()
	fake := paymenttest.New()
	w := moneyWorld{e: newPaymentEnv(t, nil, fake), fake: fake}
	w.a, w.aID = w.e.Vendor(t)
	w.b, w.bID = w.e.Vendor(t)
	for id, bps := range map[int64]int{w.aID: 1000, w.bID: 1250} {
		_, err := w.e.Server.App.DB.Pool.Exec(context.Background(), `UPDATE vendors SET commission_bps = $2 WHERE id = $1`, id, bps)
		require.NoError(t, err)
	}
	return w
}

func (w moneyWorld) variant(t *testing.T, vendorID *int64, currency string, price int64) apitest.Variant {
	t.Helper()
	return w.e.Product(t, apitest.ProductOptions{VendorID: vendorID, Currency: currency,
		Variants: []catalog.VariantInput{{Name: "Default", Price: price, Stock: 50}}})[0]
}

// placeMixed checks out, as a new customer, 3 × 1999 of A's, 1 × 1001 of B's and 2 × 500 of
// the platform's own: 7998 in currency. The order awaits payment.
func (w moneyWorld) placeMixed(t *testing.T, currency string) apitest.Order {
	t.Helper()
	va, vb, vp := w.variant(t, &w.aID, currency, 1999), w.variant(t, &w.bID, currency, 1001), w.variant(t, nil, currency, 500)
	c, _ := w.e.Customer(t)
	apitest.FillCart(t, c, apitest.CartLine{VariantGID: va.GID, Quantity: 3}, apitest.CartLine{VariantGID: vb.GID, Quantity: 1},
		apitest.CartLine{VariantGID: vp.GID, Quantity: 2})
	p := payCheckout(t, c, uuid.NewString())
	require.Empty(t, p.UserErrors)
	require.NotNil(t, p.Order)
	require.NotNil(t, p.Payment)
	require.Equal(t, moneyJSON{7998, currency}, p.Order.Total)
	return apitest.Order{ID: apitest.OrderNumber(t, p.Order.ID), GID: p.Order.ID, Owner: c, Total: 7998, Intent: p.Payment.IntentID}
}

// pay pays o at the fake and delivers Stripe's payment_intent.succeeded in currency.
func (w moneyWorld) pay(t *testing.T, o apitest.Order, currency string) {
	t.Helper()
	w.fake.Succeed(o.Intent)
	apitest.SendStripe(t, w.e, o, "payment_intent.succeeded", func(s *payment.EventSpec) { s.Currency = currency })
	require.Equal(t, "PAID", w.e.OrderStatus(t, o.ID))
}

func balanceOf(t *testing.T, c *apitest.Client, vendorID int64) []balanceView {
	t.Helper()
	var out struct {
		VendorBalance []balanceView `json:"vendorBalance"`
	}
	resp := c.As(t).Do(vendorBalanceQuery, map[string]any{"id": apitest.GlobalID("Vendor", vendorID)})
	resp.Decode(t, &out)
	return out.VendorBalance
}

func vendorMoneyOf(t *testing.T, c *apitest.Client, vendorID int64, vars map[string]any) *vendorMoneyView {
	t.Helper()
	if vars == nil {
		vars = map[string]any{}
	}
	vars["id"] = apitest.GlobalID("Vendor", vendorID)
	var out struct {
		Vendor *vendorMoneyView `json:"vendor"`
	}
	c.As(t).Do(vendorMoneyQuery, vars).Decode(t, &out)
	return out.Vendor
}

func (w moneyWorld) ledgerRows(t *testing.T, orderID int64) int {
	t.Helper()
	return w.e.Count(t, `SELECT count(*) FROM vendor_ledger_entries WHERE order_id = $1`, orderID)
}

func usdBalance(earned, reversed int64) balanceView {
	return balanceView{Currency: "USD", Earned: moneyJSON{earned, "USD"}, Reversed: moneyJSON{reversed, "USD"}, Net: moneyJSON{earned - reversed, "USD"}}
}

func TestVendorMoneyPaidAndRefunded(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)
	o := w.placeMixed(t, "USD")

	// Checkout kept each vendor line's rate.
	require.Equal(t, 1, w.e.Count(t, `SELECT count(*) FROM order_lines WHERE order_id = $1 AND vendor_id = $2 AND commission_bps = 1000`, o.ID, w.aID))
	require.Equal(t, 1, w.e.Count(t, `SELECT count(*) FROM order_lines WHERE order_id = $1 AND vendor_id = $2 AND commission_bps = 1250`, o.ID, w.bID))
	require.Equal(t, 1, w.e.Count(t, `SELECT count(*) FROM order_lines WHERE order_id = $1 AND vendor_id IS NULL AND commission_bps IS NULL`, o.ID))
	require.Empty(t, balanceOf(t, w.a, w.aID), "nothing earned before payment")

	w.pay(t, o, "USD")
	// A: 5997 less 599.7 → 600 = 5397; B: 1001 less 125.125 → 125 = 876.
	require.Equal(t, []balanceView{usdBalance(5397, 0)}, balanceOf(t, w.a, w.aID))
	require.Equal(t, []balanceView{usdBalance(876, 0)}, balanceOf(t, w.b, w.bID))

	vm := vendorMoneyOf(t, w.a, w.aID, nil)
	require.NotNil(t, vm)
	require.Equal(t, []balanceView{usdBalance(5397, 0)}, vm.Balance)
	require.NotNil(t, vm.LedgerEntries)
	require.Equal(t, 1, vm.LedgerEntries.TotalCount)
	earning := vm.LedgerEntries.Edges[0].Node
	require.Equal(t, "EARNING", earning.Kind)
	require.Equal(t, o.GID, earning.OrderID)
	require.NotNil(t, earning.OrderLineID)
	require.Equal(t, 1000, *earning.CommissionRateBps)
	require.Equal(t, moneyJSON{5997, "USD"}, earning.Gross)
	require.Equal(t, moneyJSON{600, "USD"}, earning.Commission)
	require.Equal(t, moneyJSON{5397, "USD"}, earning.Net)

	// Two partial refunds, 3000 then the other 4998: each vendor's part of the refunded total
	// in proportion, rounded down (the rule the analytics count by: B 375.47 → 375 gross, 47
	// commission, 328 net), summing exactly to the earnings once all is refunded.
	r := payRefund(t, w.e.Admin, o.GID, int64p(3000))
	require.Empty(t, r.UserErrors)
	require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
	require.Equal(t, []balanceView{usdBalance(5397, 2024)}, balanceOf(t, w.a, w.aID))
	require.Equal(t, []balanceView{usdBalance(876, 328)}, balanceOf(t, w.b, w.bID))

	r = payRefund(t, w.e.Admin, o.GID, int64p(4998))
	require.Empty(t, r.UserErrors)
	require.Equal(t, "REFUNDED", r.Order.Status)
	require.Equal(t, []balanceView{usdBalance(5397, 5397)}, balanceOf(t, w.a, w.aID))
	require.Equal(t, []balanceView{usdBalance(876, 876)}, balanceOf(t, w.b, w.bID))
	require.Equal(t, 6, w.ledgerRows(t, o.ID))

	vm = vendorMoneyOf(t, w.b, w.bID, map[string]any{"first": 1})
	require.Equal(t, 3, vm.LedgerEntries.TotalCount)
	require.True(t, vm.LedgerEntries.PageInfo.HasNextPage)
	last := vm.LedgerEntries.Edges[0].Node
	require.Equal(t, "REVERSAL", last.Kind)
	require.Nil(t, last.OrderLineID)
	require.Nil(t, last.CommissionRateBps)
	require.Equal(t, moneyJSON{626, "USD"}, last.Gross, "1001 − 375")
	require.Equal(t, moneyJSON{78, "USD"}, last.Commission)
	require.Equal(t, moneyJSON{548, "USD"}, last.Net)

	// Stripe's charge.refunded echo of our refunds, then the same event delivered again: the
	// ledger holds each entry once.
	ev := apitest.SendStripe(t, w.e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 7998 })
	require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, w.e, ev))
	require.Equal(t, 6, w.ledgerRows(t, o.ID))
	require.Equal(t, []balanceView{usdBalance(5397, 5397)}, balanceOf(t, w.a, w.aID))
}

func TestVendorMoneyFullRefundAndProviderReport(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)

	// A full refund by an admin reverses everything at once.
	o := w.placeMixed(t, "USD")
	w.pay(t, o, "USD")
	r := payRefund(t, w.e.Admin, o.GID, nil)
	require.Empty(t, r.UserErrors)
	require.Equal(t, "REFUNDED", r.Order.Status)
	require.Equal(t, []balanceView{usdBalance(5397, 5397)}, balanceOf(t, w.a, w.aID))
	require.Equal(t, []balanceView{usdBalance(876, 876)}, balanceOf(t, w.b, w.bID))

	// A refund made in Stripe's dashboard, reported by charge.refunded (then delivered
	// again), reverses as ours do, once.
	o2 := w.placeMixed(t, "USD")
	w.pay(t, o2, "USD")
	ev := apitest.SendStripe(t, w.e, o2, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 3000 })
	require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, w.e, ev))
	require.Equal(t, "PARTIALLY_REFUNDED", w.e.OrderStatus(t, o2.ID))
	require.Equal(t, []balanceView{usdBalance(2*5397, 5397+2024)}, balanceOf(t, w.a, w.aID))
	require.Equal(t, []balanceView{usdBalance(2*876, 876+328)}, balanceOf(t, w.b, w.bID))
	require.Equal(t, 4, w.ledgerRows(t, o2.ID))
}

func TestVendorMoneyCancelledBeforePayment(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)
	o := w.placeMixed(t, "USD")
	r := payMutation(t, o.Owner, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
	require.Empty(t, r.UserErrors)
	require.Equal(t, "CANCELLED", r.Order.Status)
	require.Zero(t, w.ledgerRows(t, o.ID))
	require.Empty(t, balanceOf(t, w.a, w.aID))
	vm := vendorMoneyOf(t, w.a, w.aID, nil)
	require.Empty(t, vm.Balance)
	require.Zero(t, vm.LedgerEntries.TotalCount)
}

func TestVendorMoneyTwoCurrencies(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)
	usd := w.placeMixed(t, "USD")
	w.pay(t, usd, "USD")
	eur := w.placeMixed(t, "EUR")
	w.pay(t, eur, "EUR")
	require.Equal(t, []balanceView{
		{Currency: "EUR", Earned: moneyJSON{5397, "EUR"}, Reversed: moneyJSON{0, "EUR"}, Net: moneyJSON{5397, "EUR"}},
		usdBalance(5397, 0),
	}, balanceOf(t, w.a, w.aID))
}

func TestVendorMoneyAccess(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)
	o := w.placeMixed(t, "USD")
	w.pay(t, o, "USD")
	customer, _ := w.e.Customer(t)

	// Its member and admins see A's money.
	for name, c := range map[string]*apitest.Client{"A's member": w.a, "an admin": w.e.Admin} {
		require.Equal(t, []balanceView{usdBalance(5397, 0)}, balanceOf(t, c, w.aID), name)
		vm := vendorMoneyOf(t, c, w.aID, nil)
		require.NotNil(t, vm, name)
		require.NotNil(t, vm.Balance, name)
		require.NotNil(t, vm.LedgerEntries, name)
	}
	// Anyone else (another vendor's member included) gets null, with no error: exactly what
	// a vendor that does not exist answers.
	missing := int64(1 << 40)
	for name, c := range map[string]*apitest.Client{"B's member": w.b, "a customer": customer, "anonymous": w.e.Anon(t)} {
		for _, id := range []int64{w.aID, missing} {
			resp := c.As(t).Do(vendorBalanceQuery, map[string]any{"id": apitest.GlobalID("Vendor", id)})
			require.JSONEq(t, `{"vendorBalance":null}`, string(resp.Data), name)
			require.Empty(t, resp.Errors, name)
		}
		vm := vendorMoneyOf(t, c, w.aID, nil)
		require.NotNil(t, vm, "%s sees the ACTIVE vendor itself", name)
		require.Nil(t, vm.Balance, name)
		require.Nil(t, vm.LedgerEntries, name)
	}
	// Another type's ID is not a vendor.
	resp := w.e.Admin.As(t).Do(vendorBalanceQuery, map[string]any{"id": apitest.GlobalID("User", w.aID)})
	require.JSONEq(t, `{"vendorBalance":null}`, string(resp.Data))
}
