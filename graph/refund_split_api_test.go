package graph_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// The vendor ledger and the sales analytics split a refund between vendors by one rule, so a
// vendor's reversed gross and its refunds in vendorAnalytics agree to the minor unit. With three
// vendors of equal shares and an odd refund of 1001 of 3000 they used to differ: the ledger gave
// the two cents left by rounding to the largest remainders (334, 334, 333), the analytics
// rounded every share down (333 each).
func TestRefundSplitLedgerAndAnalyticsAgree(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)
	cID := w.e.NewVendor(t, "Vendor C "+uuid.NewString()[:8], 0).ID
	vendors := []int64{w.aID, w.bID, cID}
	c, _ := w.e.Customer(t)
	var lines []apitest.CartLine
	for _, id := range vendors {
		lines = append(lines, apitest.CartLine{VariantGID: w.variant(t, &id, "USD", 1000).GID, Quantity: 1})
	}
	apitest.FillCart(t, c, lines...)
	p := payCheckout(t, c, uuid.NewString())
	require.Empty(t, p.UserErrors)
	o := apitest.Order{ID: apitest.OrderNumber(t, p.Order.ID), GID: p.Order.ID, Owner: c, Total: 3000, Intent: p.Payment.IntentID}
	w.pay(t, o, "USD")

	ledgerReversed := func(vendorID int64) int {
		return w.e.Count(t, `SELECT COALESCE(sum(gross_amount), 0)::int FROM vendor_ledger_entries
			WHERE order_id = $1 AND vendor_id = $2 AND kind = 'REVERSAL'`, o.ID, vendorID)
	}
	analyticsRefunds := func(vendorID int64) int64 {
		var out struct {
			VendorAnalytics analyticsView `json:"vendorAnalytics"`
		}
		w.e.Admin.Do(analyticsQuery, analyticsInput(ptrTo(apitest.GlobalID("Vendor", vendorID)), "UTC")).Decode(t, &out)
		require.Len(t, out.VendorAnalytics.Currencies, 1)
		return out.VendorAnalytics.Currencies[0].Totals.Refunds.Amount
	}

	r := payRefund(t, w.e.Admin, o.GID, int64p(1001))
	require.Empty(t, r.UserErrors)
	for _, id := range vendors {
		require.Equal(t, 333, ledgerReversed(id), "vendor %d: 1001 × 1000/3000 = 333.67, rounded down", id)
		require.Equal(t, int64(333), analyticsRefunds(id), "vendor %d", id)
	}

	r = payRefund(t, w.e.Admin, o.GID, int64p(1999))
	require.Empty(t, r.UserErrors)
	for _, id := range vendors {
		require.Equal(t, 1000, ledgerReversed(id), "vendor %d: all of it, once all is refunded", id)
		require.Equal(t, int64(1000), analyticsRefunds(id), "vendor %d", id)
	}
}
