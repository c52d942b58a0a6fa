package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// eventState is what an order's payment events leave behind: the order, its payment record
// and its refund ledger. Two orders of arrival of the same events must leave the same one.
type eventState struct {
	payState
	ProviderRefunded int64
}

func readEventState(t *testing.T, e *apitest.Env, o apitest.Order) eventState {
	t.Helper()
	s := eventState{payState: readPayState(t, e, o)}
	s.OrderEvents = 0 // the history records the order of arrival; the state must not
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
		`SELECT provider_refunded FROM payments WHERE order_id = $1`, o.ID).Scan(&s.ProviderRefunded))
	return s
}

// permutations returns every order of items.
func permutations(items []string) [][]string {
	if len(items) <= 1 {
		return [][]string{append([]string(nil), items...)}
	}
	var out [][]string
	for i := range items {
		rest := append(append([]string(nil), items[:i]...), items[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{items[i]}, p...))
		}
	}
	return out
}

// TestPaymentEventsCommute delivers every order of arrival of sets of Stripe events that can
// happen to one intent (Stripe does not promise their order) and requires each set to end in
// one state, whatever the order, each event applied exactly once.
func TestPaymentEventsCommute(t *testing.T) {
	t.Parallel()
	e := newPaymentEnv(t, nil, nil) // stripe-mock creates the intents

	const (
		price    = 2500
		quantity = 2
		total    = price * quantity
		stock    = 10
		partial  = 1000
		declined = "Your card was declined."
		over     = 100 // what a mismatched success received beyond the order's total
	)
	// The events, by short name; refunded totals are cumulative, as in Stripe's charge.refunded.
	events := map[string]struct {
		typ  string
		edit func(*payment.EventSpec)
	}{
		"succeeded":       {"payment_intent.succeeded", nil},
		"mismatched":      {"payment_intent.succeeded", func(s *payment.EventSpec) { s.Amount = total + over }},
		"failed":          {"payment_intent.payment_failed", func(s *payment.EventSpec) { s.FailureMessage = declined }},
		"canceled":        {"payment_intent.canceled", nil},
		"refunded":        {"charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = total }},
		"partly_refunded": {"charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = partial }},
	}
	msg := declined
	paid := func(order string, refunded int64) eventState {
		return eventState{payState: payState{OrderStatus: order, PaymentStatus: "SUCCEEDED", Received: total, Refunded: refunded, Stock: stock - quantity}, ProviderRefunded: refunded}
	}
	unpaid := func(order, pay string, lastError *string, stockNow int, reported int64) eventState {
		return eventState{payState: payState{OrderStatus: order, PaymentStatus: pay, LastError: lastError, Stock: stockNow}, ProviderRefunded: reported}
	}
	mismatch := fmt.Sprintf("paid %d USD for an order of %d USD", total+over, total)
	mismatched := func(refunded int64) eventState {
		return eventState{payState: payState{OrderStatus: "PENDING", PaymentStatus: "AMOUNT_MISMATCH", Received: total + over, Refunded: refunded,
			LastError: &mismatch, Stock: stock - quantity}, ProviderRefunded: refunded}
	}
	// The sets of events one intent can produce. Succeeded and canceled are not one of them:
	// Stripe cancels only an intent that has not succeeded, and a succeeded one cannot be
	// cancelled, so it never sends both (a late payment_intent.canceled after a success, were
	// it to come, is ignored as stale).
	for _, tc := range []struct {
		events []string
		want   eventState
	}{
		{[]string{"succeeded", "failed"}, paid("PAID", 0)},
		// A success of another amount records what was received without paying the order;
		// a refund reported before or after it is kept the same.
		{[]string{"mismatched", "refunded"}, mismatched(total)},
		{[]string{"mismatched", "partly_refunded"}, mismatched(partial)},
		{[]string{"succeeded", "refunded"}, paid("REFUNDED", total)},
		{[]string{"succeeded", "partly_refunded"}, paid("PARTIALLY_REFUNDED", partial)},
		{[]string{"succeeded", "partly_refunded", "refunded"}, paid("REFUNDED", total)},
		{[]string{"failed", "succeeded", "refunded"}, paid("REFUNDED", total)},
		{[]string{"failed", "succeeded", "partly_refunded"}, paid("PARTIALLY_REFUNDED", partial)},
		{[]string{"failed", "succeeded", "partly_refunded", "refunded"}, paid("REFUNDED", total)},
		{[]string{"failed", "canceled"}, unpaid("CANCELLED", "CANCELED", &msg, stock, 0)},
		{[]string{"failed", "refunded"}, unpaid("PENDING", "FAILED", &msg, stock-quantity, total)},
		{[]string{"failed", "partly_refunded"}, unpaid("PENDING", "FAILED", &msg, stock-quantity, partial)},
		{[]string{"partly_refunded", "refunded"}, unpaid("PENDING", "REQUIRES_PAYMENT", nil, stock-quantity, total)},
		{[]string{"canceled", "refunded"}, unpaid("CANCELLED", "CANCELED", nil, stock, total)},
		{[]string{"canceled", "partly_refunded"}, unpaid("CANCELLED", "CANCELED", nil, stock, partial)},
	} {
		t.Run(strings.Join(tc.events, "+"), func(t *testing.T) {
			for _, perm := range permutations(tc.events) {
				t.Run(strings.Join(perm, "_then_"), func(t *testing.T) {
					o := newPayOrder(t, e, price, stock, quantity)
					var sent []apitest.StripeEvent
					for _, name := range perm {
						ev := apitest.NewStripeEvent(t, o, events[name].typ, events[name].edit)
						for range 2 { // each delivered twice: a duplicate does nothing
							require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, e, ev), "%s delivery", name)
						}
						sent = append(sent, ev)
					}
					got := readEventState(t, e, o)
					require.Equal(t, tc.want, got, "after %v", perm)

					for _, ev := range sent { // and all of them again, in the same order
						require.Equal(t, http.StatusOK, apitest.DeliverStripe(t, e, ev))
						n, _ := eventRows(t, e, ev.ID)
						require.Equal(t, 1, n, "event %s recorded once", ev.ID)
					}
					require.Equal(t, got, readEventState(t, e, o), "redelivery changes nothing")

					history := orderStatuses(t, e, o.ID)
					require.Equal(t, tc.want.OrderStatus, history[len(history)-1])
					if len(tc.events) == 2 {
						// One event of each kind: the same history whatever the order.
						want := map[string][]string{
							"PAID": {"PENDING", "PAID"}, "REFUNDED": {"PENDING", "PAID", "REFUNDED"},
							"PARTIALLY_REFUNDED": {"PENDING", "PAID", "PARTIALLY_REFUNDED"},
							"CANCELLED":          {"PENDING", "CANCELLED"}, "PENDING": {"PENDING"},
						}[tc.want.OrderStatus]
						require.Equal(t, want, history, fmt.Sprintf("history after %v", perm))
					}
				})
			}
		})
	}
}

// TestPaymentRefundedBeforeLatePayment: an order expires unpaid, the customer had paid after
// all, and Stripe reports the money refunded (in its dashboard) before it reports the
// payment. The payment is recorded as given back already: shopgraph refunds nothing more.
func TestPaymentRefundedBeforeLatePayment(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)
	ctx := context.Background()

	o := newPayOrder(t, e, 1500, 10, 2)
	fake.Succeed(o.Intent) // the customer pays; Stripe's events are late
	require.NoError(t, e.Server.App.Payments.Expire(ctx, o.ID))
	require.Equal(t, "CANCELLED", readPayState(t, e, o).OrderStatus)

	apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = o.Total })
	apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)

	s := readPayState(t, e, o)
	require.Equal(t, "REFUNDED", s.OrderStatus)
	require.Equal(t, "SUCCEEDED", s.PaymentStatus)
	require.Equal(t, o.Total, s.Received)
	require.Equal(t, o.Total, s.Refunded)
	require.Zero(t, s.RefundRows, "no refund of ours")
	require.Equal(t, 10, s.Stock, "stock restored once")
	require.Equal(t, []string{"PENDING", "CANCELLED", "REFUNDED"}, orderStatuses(t, e, o.ID))
	require.Zero(t, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'refund_order' AND (args->>'order_id')::bigint = $1`, o.ID),
		"no refund job for money already given back")
	require.Zero(t, fake.Refunded(o.Intent), "nothing refunded twice")
}

// TestPaymentEventsCommuteConcurrently: a success and a full refund delivered at the same
// time end as in either order, every time.
func TestPaymentEventsCommuteConcurrently(t *testing.T) {
	t.Parallel()
	e := newPaymentEnv(t, nil, nil)
	secret := e.Server.App.Config.StripeWebhookSecret
	for range 10 {
		o := newPayOrder(t, e, 1000, 10, 1)
		evs := []apitest.StripeEvent{
			apitest.NewStripeEvent(t, o, "payment_intent.succeeded", nil),
			apitest.NewStripeEvent(t, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = o.Total }),
		}
		var (
			mu       sync.Mutex
			statuses []int
			errs     []error
		)
		together(len(evs), func(i int) {
			status, err := apitest.PostWebhook(e.Server, evs[i].Body, payment.SignEvent(evs[i].Body, secret, time.Now()))
			mu.Lock()
			defer mu.Unlock()
			statuses = append(statuses, status)
			if err != nil {
				errs = append(errs, err)
			}
		})
		require.Empty(t, errs)
		require.Equal(t, []int{http.StatusOK, http.StatusOK}, statuses)
		s := readPayState(t, e, o)
		require.Equal(t, "REFUNDED", s.OrderStatus)
		require.Equal(t, "SUCCEEDED", s.PaymentStatus)
		require.Equal(t, o.Total, s.Refunded)
		require.Equal(t, []string{"PENDING", "PAID", "REFUNDED"}, orderStatuses(t, e, o.ID))
	}
}
