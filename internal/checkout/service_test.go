package checkout_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d        *postgres.DB
	svc      *checkout.Service
	gateway  *paymenttest.Gateway
	events   *recorder
	observed *atomic.Int64
}

// recorder records what the order service publishes and invalidates after commit.
type recorder struct {
	mu          sync.Mutex
	published   []pubsub.OrderEvent
	invalidated []int64
}

func (r *recorder) Publish(_ context.Context, e pubsub.OrderEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, e)
}

func (r *recorder) InvalidateStock(_ context.Context, ids []int64, _ bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invalidated = append(r.invalidated, ids...)
}

func (r *recorder) publishedFor(orderID int64) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.published {
		if e.OrderID == orderID {
			n++
		}
	}
	return n
}

type counter struct{ n *atomic.Int64 }

func (c counter) OrderCreated() { c.n.Add(1) }

func setup(t *testing.T) testBundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	rec := &recorder{}
	orders := order.NewService(d, rec, rec, log)
	gw := paymenttest.New()
	payments := payment.NewService(d, gw, orders, 30*time.Minute, log)
	// Insert-only: checkout writes the order's expiry job in its transaction; nothing works it.
	payments.Jobs = &jobs.Queue{}
	require.NoError(t, payments.Jobs.Start(context.Background(), d.Pool, nil, jobs.Options{}))
	svc := checkout.NewService(d, orders, payments, log)
	n := &atomic.Int64{}
	svc.Observer = counter{n}
	return testBundle{d: d, svc: svc, gateway: gw, events: rec, observed: n}
}

func address() order.Address {
	return order.Address{Name: "Ada Lovelace", Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}
}

func input(key string) checkout.Input {
	return checkout.Input{IdempotencyKey: key, ShippingAddress: address()}
}

func customer(t *testing.T, d *postgres.DB) auth.Viewer {
	return tf.NewUser(t, d, tf.UserOpts{}).Viewer()
}

// state is what a failed checkout must leave as it was.
type state struct {
	orders, requests, cartLines int
	stock                       []int
}

func stateOf(t *testing.T, d *postgres.DB, v auth.Viewer, variants ...int64) state {
	t.Helper()
	s := state{
		orders:    tf.Count(t, d, "orders", "user_id = $1", v.UserID),
		requests:  tf.Count(t, d, "checkout_requests", "user_id = $1", v.UserID),
		cartLines: tf.Count(t, d, "cart_lines", "cart_id IN (SELECT id FROM carts WHERE user_id = $1)", v.UserID),
	}
	for _, id := range variants {
		s.stock = append(s.stock, tf.Stock(t, d, id))
	}
	return s
}

func TestComplete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("places an order of the cart, takes its stock, empties the cart and asks for payment", func(t *testing.T) {
		v := customer(t, b.d)
		vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
		mug := tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Mug", VendorID: &vendor.VendorID, Variants: []tf.VariantOpts{{Price: 1250, Stock: 10}}})
		tee := tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Tee", Variants: []tf.VariantOpts{{Price: 2000, Stock: 6}}})
		tf.CartLine(t, b.d, v.UserID, tee.Variant(), 1) // added first: the order keeps the cart's order
		tf.CartLine(t, b.d, v.UserID, mug.Variant(), 3)
		created := b.observed.Load()

		res, err := b.svc.Complete(ctx, v, input("  key-1  "))
		require.NoError(t, err)
		require.False(t, res.Replayed)
		o := res.Order
		require.Equal(t, order.Pending, o.Status)
		require.Equal(t, v.UserID, o.UserID)
		require.Equal(t, money.New(3*1250+2000, "USD"), o.Total)
		require.Len(t, res.Lines, 2)
		require.Equal(t, tee.Variant(), res.Lines[0].VariantID)
		require.Equal(t, "Mug", res.Lines[1].ProductName)
		require.Equal(t, 3, res.Lines[1].Quantity)
		require.Equal(t, money.New(3750, "USD"), res.Lines[1].LineTotal)
		require.Equal(t, &vendor.VendorID, res.Lines[1].VendorID)
		require.Nil(t, res.Lines[0].VendorID)

		require.Equal(t, 7, tf.Stock(t, b.d, mug.Variant()))
		require.Equal(t, 5, tf.Stock(t, b.d, tee.Variant()))
		require.Zero(t, stateOf(t, b.d, v).cartLines, "the cart is emptied")
		require.Equal(t, 2, tf.Count(t, b.d, "order_lines", "order_id = $1", o.ID))
		require.Equal(t, 1, tf.Count(t, b.d, "order_events", "order_id = $1 AND sequence = 1 AND status = 'PENDING'", o.ID))
		require.Equal(t, 1, tf.Count(t, b.d, "checkout_requests", "user_id = $1 AND idempotency_key = 'key-1' AND order_id = $2", v.UserID, o.ID),
			"the key is stored trimmed, with its order")
		require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'expire_order' AND (args->>'order_id')::bigint = $1", o.ID),
			"the expiry job is written with the order")

		require.NoError(t, res.PaymentErr)
		require.Equal(t, o.ID, res.Payment.OrderID)
		require.Equal(t, payment.RequiresPayment, res.Payment.Status)
		require.Equal(t, o.Total, res.Payment.Amount)
		require.Equal(t, 1, b.events.publishedFor(o.ID), "the new order is published after commit")
		require.Equal(t, created+1, b.observed.Load())
	})

	t.Run("the same key and request again returns the same order and changes nothing", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 2)
		first, err := b.svc.Complete(ctx, v, input("again"))
		require.NoError(t, err)
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1) // a new cart does not change the replay
		before := stateOf(t, b.d, v, p.Variant())
		intents := b.gateway.CallCount("CreateIntent")

		again, err := b.svc.Complete(ctx, v, input("again"))
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, first.Order.ID, again.Order.ID)
		require.Empty(t, again.Lines)
		require.NoError(t, again.PaymentErr)
		require.Equal(t, first.Payment.IntentID, again.Payment.IntentID, "a replay returns the intent created the first time")
		require.Equal(t, before, stateOf(t, b.d, v, p.Variant()))
		require.Equal(t, intents, b.gateway.CallCount("CreateIntent"))
		require.Equal(t, 1, b.events.publishedFor(first.Order.ID), "a replay publishes nothing")

		// Another customer's key of the same name is theirs.
		other := customer(t, b.d)
		tf.CartLine(t, b.d, other.UserID, p.Variant(), 1)
		theirs, err := b.svc.Complete(ctx, other, input("again"))
		require.NoError(t, err)
		require.False(t, theirs.Replayed)
		require.NotEqual(t, first.Order.ID, theirs.Order.ID)
	})

	t.Run("a replay of a paid order returns its payment", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		first, err := b.svc.Complete(ctx, v, input("paid"))
		require.NoError(t, err)
		_, err = b.d.Pool.Exec(ctx, `UPDATE orders SET status = 'PAID' WHERE id = $1`, first.Order.ID)
		require.NoError(t, err)
		again, err := b.svc.Complete(ctx, v, input("paid"))
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, order.Paid, again.Order.Status)
		require.Equal(t, first.Payment.ID, again.Payment.ID)
	})

	t.Run("the provider down: the order stands without a payment", func(t *testing.T) {
		gw := b.gateway
		gw.Down.Store(true)
		t.Cleanup(func() { gw.Down.Store(false) })
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		res, err := b.svc.Complete(ctx, v, input("down"))
		require.NoError(t, err)
		require.True(t, apperr.Is(res.PaymentErr, apperr.PaymentProviderUnavailable), "%v", res.PaymentErr)
		require.Equal(t, "PENDING", tf.OrderStatus(t, b.d, res.Order.ID))
		require.Zero(t, tf.Count(t, b.d, "payments", "order_id = $1", res.Order.ID))
	})
}

// Every refusal names its code and changes nothing: no order, no claimed key, the cart and
// the stock as they were.
func TestCompleteRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	line := func(t *testing.T, v auth.Viewer, p tf.ProductOpts, qty int) int64 {
		id := tf.NewProduct(t, b.d, p).Variant()
		tf.CartLine(t, b.d, v.UserID, id, qty)
		return id
	}
	for _, tc := range []struct {
		name   string
		cart   func(t *testing.T, v auth.Viewer) []int64
		in     func(in checkout.Input) checkout.Input
		codes  []apperr.Code
		fields []string
		check  func(t *testing.T, err error)
	}{
		{
			name:   "no idempotency key",
			cart:   func(t *testing.T, v auth.Viewer) []int64 { return []int64{line(t, v, tf.ProductOpts{}, 1)} },
			in:     func(in checkout.Input) checkout.Input { in.IdempotencyKey = "   "; return in },
			codes:  []apperr.Code{apperr.Invalid},
			fields: []string{"input.idempotencyKey"},
		},
		{
			name:   "a key longer than 255 characters",
			cart:   func(t *testing.T, v auth.Viewer) []int64 { return []int64{line(t, v, tf.ProductOpts{}, 1)} },
			in:     func(in checkout.Input) checkout.Input { in.IdempotencyKey = strings.Repeat("k", 256); return in },
			codes:  []apperr.Code{apperr.Invalid},
			fields: []string{"input.idempotencyKey"},
		},
		{
			name: "every bad address field at once",
			cart: func(t *testing.T, v auth.Viewer) []int64 { return []int64{line(t, v, tf.ProductOpts{}, 1)} },
			in: func(in checkout.Input) checkout.Input {
				in.ShippingAddress = order.Address{Name: " ", Line1: strings.Repeat("x", 201), City: "C", PostalCode: strings.Repeat("9", 21),
					Country: "us", Phone: strings.Repeat("1", 31)}
				return in
			},
			codes: []apperr.Code{apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid},
			fields: []string{"input.shippingAddress.name", "input.shippingAddress.line1", "input.shippingAddress.postalCode",
				"input.shippingAddress.phone", "input.shippingAddress.country"},
		},
		{
			name:   "a country that is not two capital letters",
			cart:   func(t *testing.T, v auth.Viewer) []int64 { return []int64{line(t, v, tf.ProductOpts{}, 1)} },
			in:     func(in checkout.Input) checkout.Input { in.ShippingAddress.Country = "U1"; return in },
			codes:  []apperr.Code{apperr.Invalid},
			fields: []string{"input.shippingAddress.country"},
		},
		{
			name:  "no cart",
			cart:  func(t *testing.T, v auth.Viewer) []int64 { return nil },
			codes: []apperr.Code{apperr.CartEmpty},
		},
		{
			name: "an empty cart",
			cart: func(t *testing.T, v auth.Viewer) []int64 {
				id := line(t, v, tf.ProductOpts{}, 1)
				_, err := b.d.Pool.Exec(ctx, `DELETE FROM cart_lines WHERE variant_id = $1`, id)
				require.NoError(t, err)
				return []int64{id}
			},
			codes: []apperr.Code{apperr.CartEmpty},
		},
		{
			name: "an archived product",
			cart: func(t *testing.T, v auth.Viewer) []int64 {
				return []int64{line(t, v, tf.ProductOpts{}, 1), line(t, v, tf.ProductOpts{Archived: true}, 1)}
			},
			codes: []apperr.Code{apperr.LineUnavailable},
		},
		{
			name: "a deleted variant",
			cart: func(t *testing.T, v auth.Viewer) []int64 {
				return []int64{line(t, v, tf.ProductOpts{Variants: []tf.VariantOpts{{Deleted: true}}}, 1), line(t, v, tf.ProductOpts{}, 1)}
			},
			codes: []apperr.Code{apperr.LineUnavailable},
		},
		{
			name: "two currencies",
			cart: func(t *testing.T, v auth.Viewer) []int64 {
				return []int64{line(t, v, tf.ProductOpts{}, 1), line(t, v, tf.ProductOpts{Currency: "EUR"}, 1)}
			},
			codes: []apperr.Code{apperr.CurrencyMismatch},
		},
		{
			name: "more than the stock",
			cart: func(t *testing.T, v auth.Viewer) []int64 {
				return []int64{line(t, v, tf.ProductOpts{}, 2), line(t, v, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 3}}}, 4)}
			},
			codes: []apperr.Code{apperr.OutOfStock},
			check: func(t *testing.T, err error) {
				var oos *inventory.OutOfStockError
				require.True(t, errors.As(err, &oos))
				require.Equal(t, 4, oos.Requested)
				require.Equal(t, 3, oos.Available)
			},
		},
		{
			name: "a total above the largest amount",
			cart: func(t *testing.T, v auth.Viewer) []int64 {
				variants := make([]tf.VariantOpts, 101)
				for i := range variants {
					variants[i] = tf.VariantOpts{Price: money.MaxPrice, Stock: money.MaxQuantity}
				}
				p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: variants})
				for _, id := range p.Variants {
					tf.CartLine(t, b.d, v.UserID, id, money.MaxQuantity)
				}
				return p.Variants[:2]
			},
			codes: []apperr.Code{apperr.AmountTooLarge},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := customer(t, b.d)
			variants := tc.cart(t, v)
			in := input("refused")
			if tc.in != nil {
				in = tc.in(in)
			}
			before := stateOf(t, b.d, v, variants...)
			intents := b.gateway.CallCount("CreateIntent")
			_, err := b.svc.Complete(ctx, v, in)
			require.Error(t, err)
			require.Equal(t, tc.codes, tf.Codes(err), "%v", err)
			if tc.fields != nil {
				require.Equal(t, tc.fields, tf.Fields(err))
			}
			if tc.check != nil {
				tc.check(t, err)
			}
			require.Equal(t, before, stateOf(t, b.d, v, variants...), "nothing changes")
			require.Equal(t, intents, b.gateway.CallCount("CreateIntent"), "the provider is not called")
		})
	}

	t.Run("a key used for another address is IDEMPOTENCY_KEY_REUSED", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		first, err := b.svc.Complete(ctx, v, input("reused"))
		require.NoError(t, err)
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		before := stateOf(t, b.d, v, p.Variant())
		other := input("reused")
		other.ShippingAddress.City = "Shelbyville"
		_, err = b.svc.Complete(ctx, v, other)
		require.Equal(t, []apperr.Code{apperr.IdempotencyReused}, tf.Codes(err), "%v", err)
		require.Equal(t, []string{"input.idempotencyKey"}, tf.Fields(err))
		require.Equal(t, before, stateOf(t, b.d, v, p.Variant()))
		require.Equal(t, "PENDING", tf.OrderStatus(t, b.d, first.Order.ID))
	})
}

// Concurrent checkouts with one idempotency key place one order, which every request
// returns; concurrent checkouts of different customers never take more than the stock.
func TestCompleteConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	type result struct {
		res checkout.Result
		err error
	}
	race := func(n int, f func(i int) (checkout.Result, error)) []result {
		out := make(chan result, n)
		start := make(chan struct{})
		for i := range n {
			go func() {
				<-start
				res, err := f(i)
				out <- result{res, err}
			}()
		}
		close(start)
		all := make([]result, n)
		for i := range all {
			all[i] = <-out
		}
		return all
	}

	t.Run("one key, one order", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 10}}})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 2)
		results := race(6, func(int) (checkout.Result, error) { return b.svc.Complete(ctx, v, input("once")) })
		placed := 0
		for _, r := range results {
			require.NoError(t, r.err)
			require.Equal(t, results[0].res.Order.ID, r.res.Order.ID, "every request returns the one order")
			require.NoError(t, r.res.PaymentErr)
			require.Equal(t, results[0].res.Payment.IntentID, r.res.Payment.IntentID, "and its one intent")
			if !r.res.Replayed {
				placed++
			}
		}
		require.Equal(t, 1, placed)
		require.Equal(t, 1, tf.Count(t, b.d, "orders", "user_id = $1", v.UserID))
		require.Equal(t, 8, tf.Stock(t, b.d, p.Variant()), "the stock is taken once")
		require.Equal(t, 1, tf.Count(t, b.d, "payments", "order_id = $1", results[0].res.Order.ID))
	})

	t.Run("many customers, the last units", func(t *testing.T) {
		const stock, buyers = 3, 8
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: stock}}})
		viewers := make([]auth.Viewer, buyers)
		for i := range viewers {
			viewers[i] = customer(t, b.d)
			tf.CartLine(t, b.d, viewers[i].UserID, p.Variant(), 1)
		}
		results := race(buyers, func(i int) (checkout.Result, error) { return b.svc.Complete(ctx, viewers[i], input("last")) })
		placed := 0
		for _, r := range results {
			if r.err == nil {
				placed++
				continue
			}
			require.True(t, apperr.Is(r.err, apperr.OutOfStock), "%v", r.err)
		}
		require.Equal(t, stock, placed)
		require.Zero(t, tf.Stock(t, b.d, p.Variant()))
	})
}
