package payment_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d        *postgres.DB
	svc      *payment.Service
	orders   *order.Service
	gw       *paymenttest.Gateway
	owner    auth.Viewer
	admin    auth.Viewer
	outcomes *outcomes
}

// outcomes records each webhook event's outcome, as metrics see it.
type outcomes struct {
	mu   sync.Mutex
	seen []string
}

func (o *outcomes) ObserveWebhook(eventType, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen = append(o.seen, eventType+" "+outcome)
}

func (o *outcomes) last() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[len(o.seen)-1]
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	orders := order.NewService(d, nil, nil, log)
	gw := paymenttest.New()
	svc := payment.NewService(d, gw, orders, 30*time.Minute, log)
	svc.Jobs = &jobs.Queue{} // insert-only: the tests look at the jobs, nothing works them
	require.NoError(t, svc.Jobs.Start(ctx, d.Pool, nil, jobs.Options{}))
	rec := &outcomes{}
	svc.Observer = rec
	return &testBundle{
		d: d, svc: svc, orders: orders, gw: gw, outcomes: rec,
		owner: tf.NewUser(t, d, tf.UserOpts{}).Viewer(),
		admin: tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer(),
	}
}

// pending places a PENDING order of the owner's (2 at 1000) with its intent.
func (b *testBundle) pending(t *testing.T) (order.Order, payment.Payment) {
	t.Helper()
	o := b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID}).ID)
	p, err := b.svc.NewIntent(context.Background(), o)
	require.NoError(t, err)
	return o, p
}

// paid is pending, paid: the customer pays and Stripe says so.
func (b *testBundle) paid(t *testing.T) (order.Order, payment.Payment) {
	t.Helper()
	o, p := b.pending(t)
	b.gw.Succeed(p.IntentID)
	require.NoError(t, b.svc.HandleStripeEvent(context.Background(), event(t, payment.EventSpec{
		Type: "payment_intent.succeeded", IntentID: p.IntentID, Amount: o.Total.Amount, Currency: o.Total.Currency})))
	require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID))
	return b.order(t, o.ID), p
}

func (b *testBundle) order(t *testing.T, id int64) order.Order {
	t.Helper()
	o, err := b.orders.Get(context.Background(), b.admin, id)
	require.NoError(t, err)
	return o
}

func (b *testBundle) payment(t *testing.T, orderID int64) payment.Payment {
	t.Helper()
	p, err := b.svc.ForOrder(context.Background(), orderID)
	require.NoError(t, err)
	return p
}

// event builds a Stripe event as the webhook handler would have verified and decoded it.
func event(t *testing.T, spec payment.EventSpec) stripe.Event {
	t.Helper()
	body, err := payment.BuildEvent(spec)
	require.NoError(t, err)
	var e stripe.Event
	require.NoError(t, json.Unmarshal(body, &e))
	return e
}

// state is what a refused or repeated request must leave as it was.
type state struct {
	orderStatus, paymentStatus string
	events, refunds, jobs      int
	received, refunded         int64
}

func stateOf(t *testing.T, d *postgres.DB, orderID int64) state {
	t.Helper()
	s := state{
		orderStatus: tf.OrderStatus(t, d, orderID),
		events:      tf.Count(t, d, "order_events", "order_id = $1", orderID),
		refunds:     tf.Count(t, d, "refunds", "payment_id IN (SELECT id FROM payments WHERE order_id = $1)", orderID),
		jobs:        tf.Count(t, d, "river_job", "(args->>'order_id')::bigint = $1 OR (args->>'refund_id')::bigint IN (SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.order_id = $1)", orderID),
	}
	err := d.Pool.QueryRow(context.Background(), `SELECT status::text, amount_received, amount_refunded FROM payments WHERE order_id = $1`, orderID).
		Scan(&s.paymentStatus, &s.received, &s.refunded)
	if err != nil && !postgres.IsNotFound(err) {
		require.NoError(t, err)
	}
	return s
}

// barrierGateway answers CreateIntent only once every expected caller has asked.
type barrierGateway struct {
	*paymenttest.Gateway
	arrived chan struct{}
	release chan struct{}
}

func (g *barrierGateway) CreateIntent(ctx context.Context, p payment.IntentParams) (payment.Intent, error) {
	g.arrived <- struct{}{}
	<-g.release
	return g.Gateway.CreateIntent(ctx, p)
}

func TestIntents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("one intent per order, however often it is asked for", func(t *testing.T) {
		o, first := b.pending(t)
		require.Equal(t, payment.RequiresPayment, first.Status)
		require.Equal(t, o.Total, first.Amount)
		require.Equal(t, "stripe", first.Provider)
		require.NotEmpty(t, first.ClientSecret)
		again, err := b.svc.EnsureIntent(ctx, o)
		require.NoError(t, err)
		require.Equal(t, first.ID, again.ID)
		got, err := b.svc.ForOrders(ctx, []int64{o.ID, o.ID + 1000})
		require.NoError(t, err)
		require.Equal(t, map[int64]payment.Payment{o.ID: first}, got)
	})

	t.Run("concurrent requests converge on one intent", func(t *testing.T) {
		// Every request gets its answer from the provider at the same moment, so that
		// their inserts race (a checkout replayed while the first request records its
		// intent, or orderPaymentRetry meanwhile).
		const n = 6
		gw := &barrierGateway{Gateway: b.gw, arrived: make(chan struct{}, n), release: make(chan struct{})}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		svc := payment.NewService(b.d, gw, b.orders, 30*time.Minute, log)
		go func() {
			for range n {
				<-gw.arrived
			}
			close(gw.release)
		}()
		o := b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID}).ID)
		type result struct {
			p   payment.Payment
			err error
		}
		out := make(chan result, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				p, err := svc.EnsureIntent(ctx, o)
				out <- result{p, err}
			}()
		}
		close(start)
		var intents []string
		for range n {
			r := <-out
			require.NoError(t, r.err)
			intents = append(intents, r.p.IntentID)
		}
		for _, id := range intents {
			require.Equal(t, intents[0], id)
		}
		require.Equal(t, 1, tf.Count(t, b.d, "payments", "order_id = $1", o.ID))
	})

	t.Run("INVALID_TRANSITION for an order that is not PENDING", func(t *testing.T) {
		o := b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID, Status: "CANCELLED"}).ID)
		calls := b.gw.CallCount("CreateIntent")
		_, err := b.svc.EnsureIntent(ctx, o)
		require.True(t, apperr.Is(err, apperr.InvalidTransition), "%v", err)
		require.Equal(t, calls, b.gw.CallCount("CreateIntent"))
		require.Zero(t, tf.Count(t, b.d, "payments", "order_id = $1", o.ID))
	})

	t.Run("PAYMENT_PROVIDER_UNAVAILABLE records nothing; a retry then creates the intent", func(t *testing.T) {
		o := b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID}).ID)
		b.gw.Down.Store(true)
		_, _, err := b.svc.Retry(ctx, b.owner, o.ID)
		b.gw.Down.Store(false)
		require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), "%v", err)
		require.Zero(t, tf.Count(t, b.d, "payments", "order_id = $1", o.ID))
		got, p, err := b.svc.Retry(ctx, b.owner, o.ID)
		require.NoError(t, err)
		require.Equal(t, o.ID, got.ID)
		require.Equal(t, o.ID, p.OrderID)
	})

	t.Run("Retry of someone else's order is NOT_FOUND", func(t *testing.T) {
		vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
		o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID, Lines: []tf.LineOpts{{VendorID: &vendor.VendorID}}})
		for name, v := range map[string]auth.Viewer{
			"another customer":         tf.NewUser(t, b.d, tf.UserOpts{}).Viewer(),
			"a vendor with a line":     vendor.Viewer(),
			"no such order (an admin)": b.admin,
		} {
			id := o.ID
			if v == b.admin {
				id = o.ID + 1000
			}
			_, _, err := b.svc.Retry(ctx, v, id)
			require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "%s: %v", name, err)
		}
		require.Zero(t, tf.Count(t, b.d, "payments", "order_id = $1", o.ID))
	})

	t.Run("ForOrder of an order without a payment is NOT_FOUND", func(t *testing.T) {
		_, err := b.svc.ForOrder(ctx, 1<<40)
		require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	})
}

func TestHandleStripeEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	outcome := func(t *testing.T, e stripe.Event) string {
		var s string
		require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT outcome FROM payment_events WHERE event_id = $1`, e.ID).Scan(&s))
		return s
	}
	succeeded := func(o order.Order, p payment.Payment) payment.EventSpec {
		return payment.EventSpec{Type: "payment_intent.succeeded", IntentID: p.IntentID, Amount: o.Total.Amount, Currency: o.Total.Currency}
	}

	t.Run("succeeded pays the order; the same event again changes nothing", func(t *testing.T) {
		o, p := b.pending(t)
		e := event(t, succeeded(o, p))
		require.NoError(t, b.svc.HandleStripeEvent(ctx, e))
		after := stateOf(t, b.d, o.ID)
		require.Equal(t, "PAID", after.orderStatus)
		require.Equal(t, "SUCCEEDED", after.paymentStatus)
		require.Equal(t, o.Total.Amount, after.received)
		require.Equal(t, "applied", outcome(t, e))
		require.NoError(t, b.svc.HandleStripeEvent(ctx, e))
		require.Equal(t, after, stateOf(t, b.d, o.ID))
		require.Equal(t, "payment_intent.succeeded duplicate", b.outcomes.last())

		// Another delivery of the news under a new event id is stale: the order moves once.
		e2 := event(t, succeeded(o, p))
		require.NoError(t, b.svc.HandleStripeEvent(ctx, e2))
		require.Equal(t, "stale", outcome(t, e2))
		require.Equal(t, after, stateOf(t, b.d, o.ID))
	})

	t.Run("one event delivered many times at once applies once", func(t *testing.T) {
		o, p := b.pending(t)
		e := event(t, succeeded(o, p))
		const n = 8
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				errs <- b.svc.HandleStripeEvent(ctx, e)
			}()
		}
		close(start)
		for range n {
			require.NoError(t, <-errs)
		}
		after := stateOf(t, b.d, o.ID)
		require.Equal(t, "PAID", after.orderStatus)
		require.Equal(t, 2, after.events, "placed, then paid once")
		require.Equal(t, 1, tf.Count(t, b.d, "payment_events", "event_id = $1", e.ID))
	})

	for _, tc := range []struct {
		name          string
		spec          func(o order.Order, p payment.Payment) payment.EventSpec
		outcome       string
		orderStatus   string
		paymentStatus string
	}{
		{
			name: "an amount that differs from the order's is not a payment",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				s := succeeded(o, p)
				s.Amount--
				return s
			},
			outcome: "amount_mismatch", orderStatus: "PENDING", paymentStatus: "AMOUNT_MISMATCH",
		},
		{
			name: "another currency is not a payment",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				s := succeeded(o, p)
				s.Currency = "EUR"
				return s
			},
			outcome: "amount_mismatch", orderStatus: "PENDING", paymentStatus: "AMOUNT_MISMATCH",
		},
		{
			name: "a failed payment leaves the order PENDING",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				return payment.EventSpec{Type: "payment_intent.payment_failed", IntentID: p.IntentID, Amount: o.Total.Amount, Currency: "usd"}
			},
			outcome: "applied", orderStatus: "PENDING", paymentStatus: "FAILED",
		},
		{
			name: "processing",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				return payment.EventSpec{Type: "payment_intent.processing", IntentID: p.IntentID, Amount: o.Total.Amount, Currency: "usd"}
			},
			outcome: "applied", orderStatus: "PENDING", paymentStatus: "PROCESSING",
		},
		{
			name: "a canceled intent cancels the unpaid order",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				return payment.EventSpec{Type: "payment_intent.canceled", IntentID: p.IntentID, Amount: o.Total.Amount, Currency: "usd"}
			},
			outcome: "applied", orderStatus: "CANCELLED", paymentStatus: "CANCELED",
		},
		{
			name: "an intent that is not ours is recorded and ignored",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				return payment.EventSpec{Type: "payment_intent.succeeded", IntentID: "pi_someone_else", Amount: o.Total.Amount, Currency: "usd"}
			},
			outcome: "unknown_intent", orderStatus: "PENDING", paymentStatus: "REQUIRES_PAYMENT",
		},
		{
			name: "a type we do not handle is recorded and ignored",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				return payment.EventSpec{Type: "customer.created", IntentID: p.IntentID}
			},
			outcome: "ignored", orderStatus: "PENDING", paymentStatus: "REQUIRES_PAYMENT",
		},
		{
			name: "a refund reported before the payment is kept",
			spec: func(o order.Order, p payment.Payment) payment.EventSpec {
				return payment.EventSpec{Type: "charge.refunded", IntentID: p.IntentID, Amount: o.Total.Amount, AmountRefunded: 500, Currency: "usd"}
			},
			outcome: "refund_before_payment", orderStatus: "PENDING", paymentStatus: "REQUIRES_PAYMENT",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, p := b.pending(t)
			e := event(t, tc.spec(o, p))
			require.NoError(t, b.svc.HandleStripeEvent(ctx, e))
			require.Equal(t, tc.outcome, outcome(t, e))
			after := stateOf(t, b.d, o.ID)
			require.Equal(t, tc.orderStatus, after.orderStatus)
			require.Equal(t, tc.paymentStatus, after.paymentStatus)
			require.NoError(t, b.svc.HandleStripeEvent(ctx, e))
			require.Equal(t, after, stateOf(t, b.d, o.ID), "a duplicate changes nothing")
		})
	}

	t.Run("a late failure never undoes a payment", func(t *testing.T) {
		o, p := b.paid(t)
		before := stateOf(t, b.d, o.ID)
		for _, typ := range []string{"payment_intent.payment_failed", "payment_intent.canceled"} {
			e := event(t, payment.EventSpec{Type: typ, IntentID: p.IntentID, Amount: o.Total.Amount, Currency: "usd"})
			require.NoError(t, b.svc.HandleStripeEvent(ctx, e))
			require.Equal(t, "stale", outcome(t, e), typ)
		}
		require.Equal(t, before, stateOf(t, b.d, o.ID))
	})

	t.Run("paid after the order was cancelled: a refund job in the same transaction", func(t *testing.T) {
		o, p := b.pending(t)
		_, err := b.orders.Cancel(ctx, b.owner, o.ID)
		require.NoError(t, err)
		b.gw.Succeed(p.IntentID)
		e := event(t, succeeded(o, p))
		require.NoError(t, b.svc.HandleStripeEvent(ctx, e))
		require.Equal(t, "paid_after_cancel", outcome(t, e))
		require.Equal(t, "CANCELLED", tf.OrderStatus(t, b.d, o.ID))
		require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'refund_order' AND (args->>'order_id')::bigint = $1", o.ID))
	})

	t.Run("charge.refunded moves a paid order by the refunded total", func(t *testing.T) {
		o, p := b.paid(t)
		refunded := func(n int64) stripe.Event {
			return event(t, payment.EventSpec{Type: "charge.refunded", IntentID: p.IntentID, Amount: o.Total.Amount, AmountRefunded: n, Currency: "usd"})
		}
		require.NoError(t, b.svc.HandleStripeEvent(ctx, refunded(500)))
		require.Equal(t, "PARTIALLY_REFUNDED", tf.OrderStatus(t, b.d, o.ID))
		events := tf.Count(t, b.d, "order_events", "order_id = $1", o.ID)
		require.NoError(t, b.svc.HandleStripeEvent(ctx, refunded(500)), "the same total reported again")
		require.Equal(t, events, tf.Count(t, b.d, "order_events", "order_id = $1", o.ID), "is not news")
		require.NoError(t, b.svc.HandleStripeEvent(ctx, refunded(o.Total.Amount)))
		require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o.ID))
	})
}

func TestRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	amount := func(n int64) *int64 { return &n }

	t.Run("partial refunds add up to REFUNDED", func(t *testing.T) {
		o, p := b.paid(t)
		got, err := b.svc.Refund(ctx, b.admin, o.ID, amount(500))
		require.NoError(t, err)
		require.Equal(t, order.PartiallyRefunded, got.Status)
		require.Equal(t, int64(500), b.payment(t, o.ID).AmountRefunded.Amount)
		require.Equal(t, int64(500), b.gw.Refunded(p.IntentID))
		got, err = b.svc.Refund(ctx, b.admin, o.ID, nil) // the rest
		require.NoError(t, err)
		require.Equal(t, order.Refunded, got.Status)
		require.Equal(t, o.Total.Amount, b.gw.Refunded(p.IntentID))
		require.Equal(t, 2, tf.Count(t, b.d, "refunds", "status = 'SUCCEEDED' AND payment_id = $1", p.ID))
	})

	for _, tc := range []struct {
		name   string
		v      func(b *testBundle) auth.Viewer
		order  func(t *testing.T, b *testBundle) order.Order
		amount *int64
		want   apperr.Code
	}{
		{"not an admin: FORBIDDEN", func(b *testBundle) auth.Viewer { return b.owner },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.paid(t); return o }, nil, apperr.Forbidden},
		{"zero: INVALID", func(b *testBundle) auth.Viewer { return b.admin },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.paid(t); return o }, amount(0), apperr.Invalid},
		{"negative: INVALID", func(b *testBundle) auth.Viewer { return b.admin },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.paid(t); return o }, amount(-1), apperr.Invalid},
		{"more than was paid: REFUND_EXCEEDS_PAYMENT", func(b *testBundle) auth.Viewer { return b.admin },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.paid(t); return o }, amount(2001), apperr.RefundExceedsPayment},
		{"nothing paid yet: REFUND_EXCEEDS_PAYMENT", func(b *testBundle) auth.Viewer { return b.admin },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.pending(t); return o }, nil, apperr.RefundExceedsPayment},
		{"no payment: REFUND_EXCEEDS_PAYMENT", func(b *testBundle) auth.Viewer { return b.admin },
			func(t *testing.T, b *testBundle) order.Order {
				return b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID}).ID)
			}, nil, apperr.RefundExceedsPayment},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.order(t, b)
			before := stateOf(t, b.d, o.ID)
			calls := b.gw.CallCount("Refund")
			_, err := b.svc.Refund(ctx, tc.v(b), o.ID, tc.amount)
			require.Equal(t, []apperr.Code{tc.want}, tf.Codes(err), "%v", err)
			require.Equal(t, before, stateOf(t, b.d, o.ID), "a refused refund changes nothing")
			require.Equal(t, calls, b.gw.CallCount("Refund"))
		})
	}

	t.Run("a refusal by the provider releases the amount", func(t *testing.T) {
		o, _ := b.paid(t)
		b.gw.RefuseRefunds.Store(true)
		_, err := b.svc.Refund(ctx, b.admin, o.ID, amount(700))
		b.gw.RefuseRefunds.Store(false)
		require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), "%v", err)
		require.Zero(t, b.payment(t, o.ID).AmountRefunded.Amount)
		require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID))
		require.Equal(t, 1, tf.Count(t, b.d, "refunds", "status = 'FAILED' AND payment_id = $1", b.payment(t, o.ID).ID))
		_, err = b.svc.Refund(ctx, b.admin, o.ID, amount(700))
		require.NoError(t, err, "the amount can be refunded again")
	})

	t.Run("an unanswered refund stays PENDING, blocks others, and its settlement finishes it once", func(t *testing.T) {
		o, p := b.paid(t)
		b.gw.LoseRefundAnswers.Store(true)
		_, err := b.svc.Refund(ctx, b.admin, o.ID, amount(600))
		b.gw.LoseRefundAnswers.Store(false)
		require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), "%v", err)
		require.Equal(t, int64(600), b.payment(t, o.ID).AmountRefunded.Amount, "the amount stays reserved")
		require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID), "not refunded until the provider says so")

		before := stateOf(t, b.d, o.ID)
		_, err = b.svc.Refund(ctx, b.admin, o.ID, amount(100))
		require.True(t, apperr.Is(err, apperr.RefundPending), "%v", err)
		require.Equal(t, before, stateOf(t, b.d, o.ID))

		var refundID int64
		require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT id FROM refunds WHERE payment_id = $1 AND status = 'PENDING'`, p.ID).Scan(&refundID))
		require.NoError(t, b.svc.SettleRefund(ctx, refundID))
		require.NoError(t, b.svc.SettleRefund(ctx, refundID), "settling twice settles once")
		require.Equal(t, "PARTIALLY_REFUNDED", tf.OrderStatus(t, b.d, o.ID))
		require.Equal(t, int64(600), b.gw.Refunded(p.IntentID), "the provider refunded once, under one key")
	})

	t.Run("concurrent refunds never give back more than was paid", func(t *testing.T) {
		o, p := b.paid(t)
		const n = 6 // each 500 of 2000: four fit
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				_, err := b.svc.Refund(ctx, b.admin, o.ID, amount(500))
				errs <- err
			}()
		}
		close(start)
		ok := 0
		for range n {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			require.True(t, apperr.Is(err, apperr.RefundExceedsPayment) || apperr.Is(err, apperr.RefundPending), "%v", err)
		}
		require.LessOrEqual(t, ok, 4)
		require.GreaterOrEqual(t, ok, 1)
		require.Equal(t, int64(ok)*500, b.gw.Refunded(p.IntentID))
		require.Equal(t, int64(ok)*500, b.payment(t, o.ID).AmountRefunded.Amount)
	})
}

func TestCancelOrder(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("the owner cancels a PENDING order and its intent", func(t *testing.T) {
		o, p := b.pending(t)
		got, err := b.svc.CancelOrder(ctx, b.owner, o.ID)
		require.NoError(t, err)
		require.Equal(t, order.Cancelled, got.Status)
		require.Equal(t, payment.Canceled, b.payment(t, o.ID).Status)
		in, err := b.gw.RetrieveIntent(ctx, p.IntentID)
		require.NoError(t, err)
		require.Equal(t, payment.IntentCanceled, in.Status)
		require.Zero(t, tf.Count(t, b.d, "river_job", "kind = 'refund_order' AND (args->>'order_id')::bigint = $1", o.ID))
	})

	t.Run("an admin cancels a PAID order, which is refunded in full with a job as backup", func(t *testing.T) {
		o, p := b.paid(t)
		got, err := b.svc.CancelOrder(ctx, b.admin, o.ID)
		require.NoError(t, err)
		require.Equal(t, order.Refunded, got.Status)
		require.Equal(t, o.Total.Amount, b.gw.Refunded(p.IntentID))
		require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'refund_order' AND (args->>'order_id')::bigint = $1", o.ID))
	})

	for _, tc := range []struct {
		name  string
		v     func(b *testBundle) auth.Viewer
		order func(t *testing.T, b *testBundle) order.Order
		want  apperr.Code
	}{
		{"the owner, PAID: FORBIDDEN", func(b *testBundle) auth.Viewer { return b.owner },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.paid(t); return o }, apperr.Forbidden},
		{"another customer: NOT_FOUND", func(b *testBundle) auth.Viewer { return tf.NewUser(t, b.d, tf.UserOpts{}).Viewer() },
			func(t *testing.T, b *testBundle) order.Order { o, _ := b.pending(t); return o }, apperr.NotFound},
		{"cancelled already: INVALID_TRANSITION", func(b *testBundle) auth.Viewer { return b.admin },
			func(t *testing.T, b *testBundle) order.Order {
				o, _ := b.pending(t)
				_, err := b.svc.CancelOrder(context.Background(), b.owner, o.ID)
				require.NoError(t, err)
				return o
			}, apperr.InvalidTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.order(t, b)
			before := stateOf(t, b.d, o.ID)
			_, err := b.svc.CancelOrder(ctx, tc.v(b), o.ID)
			require.True(t, apperr.Is(err, tc.want), "%v", err)
			require.Equal(t, before, stateOf(t, b.d, o.ID))
		})
	}
}

// Expiry cancels an unpaid order once, however often its job runs, and never a paid one.
func TestExpire(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	o, p := b.pending(t)
	require.NoError(t, b.svc.Expire(ctx, o.ID))
	require.NoError(t, b.svc.Expire(ctx, o.ID))
	require.Equal(t, "CANCELLED", tf.OrderStatus(t, b.d, o.ID))
	require.Equal(t, 2, tf.Count(t, b.d, "order_events", "order_id = $1", o.ID), "cancelled once")
	in, err := b.gw.RetrieveIntent(ctx, p.IntentID)
	require.NoError(t, err)
	require.Equal(t, payment.IntentCanceled, in.Status)

	paid, _ := b.paid(t)
	before := stateOf(t, b.d, paid.ID)
	require.NoError(t, b.svc.Expire(ctx, paid.ID))
	require.Equal(t, before, stateOf(t, b.d, paid.ID))
	require.NoError(t, b.svc.Expire(ctx, 1<<40), "a missing order has nothing to expire")
}

// The workers of the jobs that must not be lost: each can run again without doing twice what
// it did.
func TestWorkers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	row := &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 25}

	t.Run("expiry cancels an unpaid order", func(t *testing.T) {
		o, _ := b.pending(t)
		w := &payment.ExpireWorker{Payments: b.svc}
		job := &river.Job[jobs.ExpireOrderArgs]{JobRow: row, Args: jobs.ExpireOrderArgs{OrderID: o.ID}}
		require.NoError(t, w.Work(ctx, job))
		require.NoError(t, w.Work(ctx, job))
		require.Equal(t, "CANCELLED", tf.OrderStatus(t, b.d, o.ID))
		require.Equal(t, 2, tf.Count(t, b.d, "order_events", "order_id = $1", o.ID))
	})

	t.Run("the refund of an order paid after its cancellation gives the money back once", func(t *testing.T) {
		o, p := b.pending(t)
		_, err := b.orders.Cancel(ctx, b.owner, o.ID)
		require.NoError(t, err)
		b.gw.Succeed(p.IntentID)
		require.NoError(t, b.svc.HandleStripeEvent(ctx, event(t, payment.EventSpec{
			Type: "payment_intent.succeeded", IntentID: p.IntentID, Amount: o.Total.Amount, Currency: o.Total.Currency})))

		w := &payment.RefundWorker{Payments: b.svc}
		job := &river.Job[jobs.RefundOrderArgs]{JobRow: row, Args: jobs.RefundOrderArgs{OrderID: o.ID, Reason: "paid after the order was cancelled"}}
		require.NoError(t, w.Work(ctx, job))
		require.NoError(t, w.Work(ctx, job), "nothing left to refund is done, not a failure")
		require.Equal(t, o.Total.Amount, b.gw.Refunded(p.IntentID))
		require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o.ID))
	})

	t.Run("a refund job waits, without spending attempts, for an earlier unanswered refund", func(t *testing.T) {
		o, p := b.paid(t)
		b.gw.LoseRefundAnswers.Store(true)
		_, err := b.svc.Refund(ctx, b.admin, o.ID, nil)
		b.gw.LoseRefundAnswers.Store(false)
		require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), "%v", err)

		w := &payment.RefundWorker{Payments: b.svc}
		err = w.Work(ctx, &river.Job[jobs.RefundOrderArgs]{JobRow: row, Args: jobs.RefundOrderArgs{OrderID: o.ID, Reason: "x"}})
		var snooze *river.JobSnoozeError
		require.ErrorAs(t, err, &snooze)

		var refundID int64
		require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT id FROM refunds WHERE payment_id = $1 AND status = 'PENDING'`, p.ID).Scan(&refundID))
		settle := &payment.SettleRefundWorker{Payments: b.svc}
		b.gw.Down.Store(true)
		err = settle.Work(ctx, &river.Job[jobs.SettleRefundArgs]{JobRow: row, Args: jobs.SettleRefundArgs{RefundID: refundID}})
		b.gw.Down.Store(false)
		require.Error(t, err, "no answer yet: river retries")
		require.NoError(t, settle.Work(ctx, &river.Job[jobs.SettleRefundArgs]{JobRow: row, Args: jobs.SettleRefundArgs{RefundID: refundID}}))
		require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o.ID))
		require.Equal(t, o.Total.Amount, b.gw.Refunded(p.IntentID), "refunded once")
		require.NoError(t, settle.Work(ctx, &river.Job[jobs.SettleRefundArgs]{JobRow: row, Args: jobs.SettleRefundArgs{RefundID: 1 << 40}}),
			"a refund that is gone has nothing to settle")
	})
}
