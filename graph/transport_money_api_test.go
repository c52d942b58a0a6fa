package graph_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// API tests of the bounds on money (issue 14): a price of MaxInt64 was accepted and two units
// of it made a cart subtotal of 0. Prices (money.MaxPrice, 10^10 minor units; tested in
// catalog_api_test.go) and quantities (1,000 a line) are bounded, and every total stops at
// money.MaxAmount (10^15): a cart at the bound is checked out, paid and refunded to the last
// minor unit; one minor unit more is AMOUNT_TOO_LARGE, and nothing is placed.
func TestMoneyBounds(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)
	ctx := context.Background()

	// 100 lines of 1,000 units at the highest price: 100 × 1,000 × 10^10 = 10^15.
	vendorClient, vendorID := e.Vendor(t)
	spec := apitest.ProductOptions{VendorID: &vendorID}
	for range 100 {
		spec.Variants = append(spec.Variants, catalog.VariantInput{Price: money.MaxPrice, Stock: money.MaxQuantity})
	}
	dear := e.Product(t, spec)
	cheap := e.Variant(t, 1, 10)
	c, customerID := e.Customer(t)
	var cart cartView
	for _, v := range dear {
		cart = mustAdd(t, c, v.GID, money.MaxQuantity)
	}
	lineMax := money.MaxPrice * money.MaxQuantity
	for _, l := range cart.Lines {
		require.Equal(t, moneyJSON{lineMax, "USD"}, l.LineTotal)
	}
	require.Equal(t, &moneyJSON{money.MaxAmount, "USD"}, cart.Subtotal, "a cart at the bound")

	t.Run("a line holds at most 1,000 units", func(t *testing.T) {
		require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(cartAdd(t, c, dear[0].GID, 1).UserErrors))
		require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(cartUpdate(t, c, dear[0].GID, money.MaxQuantity+1).UserErrors))
		require.Equal(t, []string{"INVALID:input.quantity"}, errorCodesOf(cartAdd(t, c, cheap.GID, money.MaxQuantity+1).UserErrors))
		require.Equal(t, cart, cartOf(t, c), "nothing changed")
	})

	orders := func() int { return e.OrdersOf(t, customerID) }
	t.Run("one minor unit over the bound: no subtotal, and no checkout", func(t *testing.T) {
		resp := c.As(t).Do(cartAddMutation, map[string]any{"input": map[string]any{"variantId": cheap.GID, "quantity": 1}})
		requireSubtotalTooLarge(t, resp, "cartItemAdd")
		requireSubtotalTooLarge(t, c.As(t).Do(cartQuery, nil), "")

		placed := orders()
		p := checkoutWith(t, c, checkoutInput(uuid.NewString(), apitest.Address()))
		require.Equal(t, []string{"AMOUNT_TOO_LARGE"}, errorCodesOf(p.UserErrors))
		require.Contains(t, p.UserErrors[0].Message, "1000000000000000")
		require.Nil(t, p.Order)
		require.Equal(t, placed, orders(), "no order placed")
		require.Equal(t, money.MaxQuantity, e.Stock(t, dear[0]), "no stock taken")
		require.Equal(t, 10, e.Stock(t, cheap))

		require.Equal(t, &moneyJSON{money.MaxAmount, "USD"}, cartRemove(t, c, cheap.GID).Cart.Subtotal)
	})

	// At the bound the order is placed, and paid and refunded to the last minor unit.
	p := payCheckout(t, c, uuid.NewString())
	require.Empty(t, p.UserErrors)
	require.Equal(t, moneyJSON{money.MaxAmount, "USD"}, p.Order.Total)
	require.Equal(t, moneyJSON{money.MaxAmount, "USD"}, p.Payment.Amount)
	o := apitest.Order{ID: apitest.OrderNumber(t, p.Order.ID), GID: p.Order.ID, Owner: c, Variant: dear[0], Total: money.MaxAmount, Intent: p.Payment.IntentID}
	placed := orderAs(t, c, o.GID)
	require.Len(t, placed.Lines, 100)
	for _, l := range placed.Lines {
		require.Equal(t, moneyJSON{lineMax, "USD"}, l.LineTotal)
	}
	// A vendor's total is the sum of its own lines: here all of them, at the bound.
	var seen struct {
		Order struct {
			Total moneyJSON `json:"total"`
		} `json:"order"`
	}
	vendorClient.As(t).Do(`query($id: ID!) { order(id: $id) { total { amount currency } } }`, map[string]any{"id": o.GID}).Decode(t, &seen)
	require.Equal(t, moneyJSON{money.MaxAmount, "USD"}, seen.Order.Total)
	var stored int64
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, `SELECT total_amount FROM orders WHERE id = $1`, o.ID).Scan(&stored))
	require.Equal(t, money.MaxAmount, stored)

	apitest.PayWithFake(t, e, fake, o)
	t.Run("refunds: more than paid, or not positive, are refused", func(t *testing.T) {
		for _, tc := range []struct {
			amount int64
			want   string
		}{
			{math.MaxInt64, "REFUND_EXCEEDS_PAYMENT:input.amount"},
			{money.MaxAmount + 1, "REFUND_EXCEEDS_PAYMENT:input.amount"},
			{0, "INVALID:input.amount"},
			{-1, "INVALID:input.amount"},
			{math.MinInt64, "INVALID:input.amount"},
		} {
			r := payRefund(t, e.Admin, o.GID, int64p(tc.amount))
			require.Equal(t, []string{tc.want}, errorCodesOf(r.UserErrors), "refund of %d", tc.amount)
		}
		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Zero(t, s.Refunded)
		require.Zero(t, s.RefundRows)
		require.Zero(t, fake.Refunded(o.Intent))
	})

	t.Run("refunds: everything that was paid, and not one minor unit more", func(t *testing.T) {
		r := payRefund(t, e.Admin, o.GID, int64p(money.MaxAmount-1))
		require.Empty(t, r.UserErrors)
		require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
		require.Equal(t, moneyJSON{money.MaxAmount - 1, "USD"}, r.Order.Payment.AmountRefunded)

		r = payRefund(t, e.Admin, o.GID, int64p(2))
		require.Equal(t, []string{"REFUND_EXCEEDS_PAYMENT:input.amount"}, errorCodesOf(r.UserErrors))
		r = payRefund(t, e.Admin, o.GID, int64p(1))
		require.Empty(t, r.UserErrors)
		require.Equal(t, "REFUNDED", r.Order.Status)
		require.Equal(t, moneyJSON{money.MaxAmount, "USD"}, r.Order.Payment.AmountRefunded)
		for _, amount := range []*int64{nil, int64p(1), int64p(math.MaxInt64)} {
			r = payRefund(t, e.Admin, o.GID, amount)
			require.Equal(t, []string{"REFUND_EXCEEDS_PAYMENT:input.amount"}, errorCodesOf(r.UserErrors))
		}
		s := readPayState(t, e, o)
		require.Equal(t, money.MaxAmount, s.Refunded)
		require.Equal(t, money.MaxAmount, s.RefundedOK)
		require.Equal(t, money.MaxAmount, fake.Refunded(o.Intent))
	})
}

// requireSubtotalTooLarge checks a cart whose subtotal is beyond the bound: the cart is there
// with its lines, its subtotal null, and one error, AMOUNT_TOO_LARGE, on the subtotal. field is
// the mutation's field, or "" for the cart query.
func requireSubtotalTooLarge(t *testing.T, resp *apitest.Response, field string) {
	t.Helper()
	require.Len(t, resp.Errors, 1, "%+v", resp.Errors)
	require.Equal(t, "AMOUNT_TOO_LARGE", resp.Code())
	path := []any{"cart", "subtotal"}
	var data map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(resp.Data, &data))
	raw := data["cart"]
	if field != "" {
		path = append([]any{field}, path...)
		var payload cartPayloadView
		require.NoError(t, json.Unmarshal(data[field], &payload))
		require.Empty(t, payload.UserErrors)
		raw, _ = json.Marshal(payload.Cart)
	}
	require.Equal(t, path, resp.Errors[0].Path)
	var cart cartView
	require.NoError(t, json.Unmarshal(raw, &cart))
	require.Len(t, cart.Lines, 101)
	require.Nil(t, cart.Subtotal)
}
