package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// slowStripeRefunds stands in for Stripe's refunds endpoint (a true external) the way it
// behaves when a refund request times out, once: the first request it gets is carried out
// but its answer never arrives (the connection drops); while Stripe is still working on it,
// a request under the same key gets 409 idempotency_error; once done, the same key gets the
// same refund back. Any other key makes a new refund at once. It records every key it was
// called with.
type slowStripeRefunds struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []string
	first   string // the key of the request that timed out
	done    bool   // Stripe has finished that refund
	refunds map[string]refundMade
}

type refundMade struct {
	id     string
	amount int64
	intent string
}

func newSlowStripeRefunds(t *testing.T) *slowStripeRefunds {
	s := &slowStripeRefunds{refunds: map[string]refundMade{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *slowStripeRefunds) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	if r.Method != http.MethodPost || r.URL.Path != "/v1/refunds" {
		http.Error(w, `{"error":{"type":"invalid_request_error","message":"not faked"}}`, http.StatusNotFound)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	s.keys = append(s.keys, key)
	made, seen := s.refunds[key]
	if !seen {
		amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
		made = refundMade{id: fmt.Sprintf("re_slow_%d", len(s.refunds)+1), amount: amount, intent: form.Get("payment_intent")}
		s.refunds[key] = made
	}
	timeout := s.first == ""
	if timeout {
		s.first = key
	}
	inProgress := key == s.first && !s.done
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	switch {
	case timeout:
		// Carried out, but the answer is lost: the caller sees the connection drop.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusGatewayTimeout)
	case inProgress:
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"error":{"type":"idempotency_error","message":"There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later."}}`)
	default:
		_, _ = fmt.Fprintf(w, `{"id":%q,"object":"refund","amount":%d,"currency":"usd","payment_intent":%q,"status":"succeeded"}`, made.id, made.amount, made.intent)
	}
}

// finish makes Stripe done with the refund in progress.
func (s *slowStripeRefunds) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
}

func (s *slowStripeRefunds) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

func (s *slowStripeRefunds) refunded() (n int, total int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.refunds {
		n++
		total += r.amount
	}
	return n, total
}

// stripeRefunds is the stateful fake gateway for intents, with refunds sent through the real
// Stripe gateway to url.
type stripeRefunds struct {
	*paymenttest.Gateway
	stripe *payment.Stripe
}

func (g stripeRefunds) Refund(ctx context.Context, p payment.RefundParams) (payment.RefundResult, error) {
	return g.stripe.Refund(ctx, p)
}

// TestRefundTimeoutKeepsItsKey: a refund whose request timed out is asked again only under
// its own idempotency key, however Stripe answers meanwhile, and is made once.
func TestRefundTimeoutKeepsItsKey(t *testing.T) {
	t.Parallel()
	slow := newSlowStripeRefunds(t)
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, stripeRefunds{Gateway: fake, stripe: payment.NewStripe("sk_test_shopgraph", slow.URL)})
	ctx := context.Background()

	// The customer paid an order that had expired meanwhile: the money goes back by a job.
	o := newPayOrder(t, e, 2500, 10, 2) // 5000
	fake.Succeed(o.Intent)
	require.NoError(t, e.Server.App.Payments.Expire(ctx, o.ID))
	apitest.SendStripe(t, e, o, "payment_intent.succeeded", nil)

	// The first request times out; the retries meet Stripe still working on it (409).
	payEventually(t, "the refund is asked again after its time-out", 30*time.Second, func() bool { return len(slow.calls()) >= 3 })
	calls := slow.calls()
	for _, k := range calls {
		require.Equal(t, calls[0], k, "the refund is asked again under its own key only: %v", calls)
	}
	s := readPayState(t, e, o)
	require.Equal(t, "CANCELLED", s.OrderStatus)
	require.Equal(t, 1, s.PendingRefunds, "an unknown outcome is not a refusal: the refund stays PENDING")
	require.Equal(t, o.Total, s.Refunded, "with its amount reserved")

	slow.finish()
	payEventually(t, "the refund is settled", 60*time.Second, func() bool { return orderStatusNow(e, o.ID) == "REFUNDED" })
	s = readPayState(t, e, o)
	require.Equal(t, 1, s.RefundRows)
	require.Equal(t, o.Total, s.RefundedOK)
	require.Zero(t, s.PendingRefunds)

	keys := refundKeys(t, e, o.ID)
	require.Len(t, keys, 1)
	for _, k := range slow.calls() {
		require.Equal(t, keys[0], k, "every request for the refund used its own key")
	}
	n, total := slow.refunded()
	require.Equal(t, 1, n, "Stripe made one refund")
	require.Equal(t, o.Total, total)
}

// lostRefund is the fake gateway with Stripe timing out a refund: the first refund request
// is carried out but its answer is lost, and requests under its key get no answer either
// until answer() is called. Requests under other keys reach the fake as they are.
type lostRefund struct {
	*paymenttest.Gateway
	mu       sync.Mutex
	first    string
	answered bool
}

func (g *lostRefund) Refund(ctx context.Context, p payment.RefundParams) (payment.RefundResult, error) {
	g.mu.Lock()
	if g.first == "" {
		g.first = p.IdempotencyKey
		g.mu.Unlock()
		if _, err := g.Gateway.Refund(ctx, p); err != nil {
			return payment.RefundResult{}, err
		}
		return payment.RefundResult{}, fmt.Errorf("fake refund: timeout: %w", payment.ErrUnavailable)
	}
	still := p.IdempotencyKey == g.first && !g.answered
	g.mu.Unlock()
	if still {
		return payment.RefundResult{}, fmt.Errorf("fake refund: timeout: %w", payment.ErrUnavailable)
	}
	return g.Gateway.Refund(ctx, p)
}

func (g *lostRefund) answer() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.answered = true
}

// settlePending settles an order's PENDING refunds now, as their jobs would.
func settlePending(t *testing.T, e *apitest.Env, orderID int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := e.Server.App.DB.Pool.Query(ctx,
		`SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.order_id = $1 AND r.status = 'PENDING'`, orderID)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, id := range ids {
		require.NoError(t, e.Server.App.Payments.SettleRefund(ctx, id))
	}
}

// TestRefundPendingRefusesAnother: while a refund whose request timed out awaits its answer,
// another refund of the order is refused (REFUND_PENDING) rather than made under a new key:
// an admin retrying after PAYMENT_PROVIDER_UNAVAILABLE would otherwise refund twice.
func TestRefundPendingRefusesAnother(t *testing.T) {
	t.Parallel()

	t.Run("orderRefund", func(t *testing.T) {
		gw := &lostRefund{Gateway: paymenttest.New()}
		e := newPaymentEnv(t, nil, gw)
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, gw.Gateway, o)

		r := payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
		r = payRefund(t, e.Admin, o.GID, int64p(1000)) // the admin tries again
		require.Equal(t, []string{"REFUND_PENDING:input.id"}, errorCodesOf(r.UserErrors))
		require.Contains(t, r.UserErrors[0].Message, "still being confirmed")
		require.Nil(t, r.Order)

		require.Equal(t, int64(1000), gw.Refunded(o.Intent), "one refund at the provider")
		s := readPayState(t, e, o)
		require.Equal(t, "PAID", s.OrderStatus)
		require.Equal(t, 1, s.RefundRows)
		require.Equal(t, 1, s.PendingRefunds)
		require.Equal(t, int64(1000), s.Refunded)

		// The provider answers the first under its own key; a refund after that is made.
		gw.answer()
		settlePending(t, e, o.ID)
		require.Equal(t, "PARTIALLY_REFUNDED", orderStatusNow(e, o.ID))
		r = payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Empty(t, r.UserErrors)
		require.Equal(t, int64(2000), gw.Refunded(o.Intent))
		s = readPayState(t, e, o)
		require.Equal(t, 2, s.RefundRows)
		require.Equal(t, int64(2000), s.RefundedOK)
	})

	t.Run("orderCancel refunds the rest once the pending refund is settled", func(t *testing.T) {
		gw := &lostRefund{Gateway: paymenttest.New()}
		e := newPaymentEnv(t, nil, gw)
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, gw.Gateway, o)

		r := payRefund(t, e.Admin, o.GID, int64p(1000))
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
		r = payMutation(t, e.Admin, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
		require.Empty(t, r.UserErrors)
		require.Equal(t, "CANCELLED", r.Order.Status)
		require.Equal(t, int64(1000), gw.Refunded(o.Intent), "nothing more while the 1000 awaits its answer")

		gw.answer()
		settlePending(t, e, o.ID)
		// The rest goes back by the refund job, which retries until the 1000 is settled.
		_, err := e.Server.App.DB.Pool.Exec(context.Background(),
			`UPDATE river_job SET scheduled_at = now() WHERE kind = 'refund_order' AND (args->>'order_id')::bigint = $1 AND state IN ('scheduled', 'retryable')`, o.ID)
		require.NoError(t, err)
		payEventually(t, "the rest is refunded", 30*time.Second, func() bool { return orderStatusNow(e, o.ID) == "REFUNDED" })
		require.Equal(t, int64(5000), gw.Refunded(o.Intent))
		s := readPayState(t, e, o)
		require.Equal(t, int64(5000), s.RefundedOK)
		require.Equal(t, 2, s.RefundRows)
		require.Equal(t, 10, s.Stock, "stock restored once")
	})
}

// TestRefundExternalWhileOursPending: a refund made in Stripe's dashboard while a full refund
// of ours awaits its answer. The order follows what is known to have gone back (not our
// reservation, which may yet be refused), and when ours is refused the payment keeps what
// Stripe reported, whichever came first.
func TestRefundExternalWhileOursPending(t *testing.T) {
	t.Parallel()
	gw := &refundHook{Gateway: paymenttest.New()}
	e := newPaymentEnv(t, nil, gw)
	const dashboard = 1000

	// hold makes our refund hang at the provider until release, then be refused.
	hold := func(t *testing.T) (started <-chan struct{}, release func()) {
		s, r := make(chan struct{}), make(chan struct{})
		closeStarted, closeRelease := sync.OnceFunc(func() { close(s) }), sync.OnceFunc(func() { close(r) })
		gw.setHook(func(payment.RefundParams) error {
			closeStarted()
			<-r
			return errors.New("fake refund declined")
		})
		t.Cleanup(func() { closeRelease(); gw.setHook(nil) })
		return s, closeRelease
	}
	refundAsync := func(o apitest.Order, amount int64) <-chan payPayloadView {
		out := make(chan payPayloadView, 1)
		go func() {
			var p payPayloadView
			if err := e.Admin.TryPayload(payRefundMutation, map[string]any{"input": map[string]any{"id": o.GID, "amount": amount}}, "orderRefund", &p); err != nil {
				p.UserErrors = []commerceError{{Code: err.Error()}}
			}
			out <- p
		}()
		return out
	}
	want := func(o apitest.Order) eventState {
		return eventState{payState: payState{OrderStatus: "PARTIALLY_REFUNDED", PaymentStatus: "SUCCEEDED", Received: o.Total, Refunded: dashboard,
			Stock: 8, RefundRows: 1}, ProviderRefunded: dashboard}
	}

	t.Run("reported while ours is pending", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, gw.Gateway, o)
		started, release := hold(t)
		res := refundAsync(o, o.Total)
		<-started
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = dashboard })
		require.Equal(t, "PARTIALLY_REFUNDED", orderStatusNow(e, o.ID), "our 5000 may yet be refused: only 1000 went back")
		release()
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly((<-res).UserErrors))
		require.Equal(t, want(o), readEventState(t, e, o))
		require.Equal(t, []string{"PENDING", "PAID", "PARTIALLY_REFUNDED"}, orderStatuses(t, e, o.ID))
	})

	t.Run("reported before ours", func(t *testing.T) {
		o := newPayOrder(t, e, 2500, 10, 2) // 5000
		apitest.PayWithFake(t, e, gw.Gateway, o)
		apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = dashboard })
		started, release := hold(t)
		res := refundAsync(o, o.Total-dashboard)
		<-started
		release()
		require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly((<-res).UserErrors))
		require.Equal(t, want(o), readEventState(t, e, o))
		require.Equal(t, []string{"PENDING", "PAID", "PARTIALLY_REFUNDED"}, orderStatuses(t, e, o.ID))
	})
}

// dueRefundJobs makes an order's refund jobs due now rather than at their time, as if that
// time had come.
func dueRefundJobs(t *testing.T, e *apitest.Env, orderID int64) {
	t.Helper()
	_, err := e.Server.App.DB.Pool.Exec(context.Background(),
		`UPDATE river_job SET scheduled_at = now() WHERE kind = 'refund_order' AND (args->>'order_id')::bigint = $1 AND state IN ('scheduled', 'retryable')`, orderID)
	require.NoError(t, err)
}

// TestRefundCancelledOrderByJob: the refund of a cancelled PAID order is committed with the
// cancellation, as a job. Were it only tried after the commit, an outage between the two (here
// the database refusing refunds) would leave the order CANCELLED with its money kept.
func TestRefundCancelledOrderByJob(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)
	ctx := context.Background()
	o := newPayOrder(t, e, 2500, 10, 2) // 5000
	apitest.PayWithFake(t, e, fake, o)

	_, err := e.Server.App.DB.Pool.Exec(ctx, `
		CREATE FUNCTION refunds_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refunds are down'; END $$;
		CREATE TRIGGER refunds_down BEFORE INSERT ON refunds FOR EACH ROW EXECUTE FUNCTION refunds_down()`)
	require.NoError(t, err)
	var r payPayloadView
	err = e.Admin.TryPayload(payCancelMutation, map[string]any{"input": map[string]any{"id": o.GID}}, "orderCancel", &r)
	require.NoError(t, err, "the order is cancelled; its refund is the job's")
	require.Empty(t, r.UserErrors)
	require.Equal(t, "CANCELLED", r.Order.Status)
	s := readPayState(t, e, o)
	require.Equal(t, "CANCELLED", s.OrderStatus, "the cancellation committed")
	require.Zero(t, s.RefundRows, "the refund at once failed")
	require.Zero(t, fake.Refunded(o.Intent))

	_, err = e.Server.App.DB.Pool.Exec(ctx, `DROP TRIGGER refunds_down ON refunds`)
	require.NoError(t, err)
	dueRefundJobs(t, e, o.ID)
	payEventually(t, "the refund job refunds the order", 30*time.Second, func() bool { return orderStatusNow(e, o.ID) == "REFUNDED" })
	s = readPayState(t, e, o)
	require.Equal(t, o.Total, s.RefundedOK)
	require.Equal(t, 1, s.RefundRows)
	require.Equal(t, o.Total, fake.Refunded(o.Intent), "refunded once")
	require.Equal(t, 10, s.Stock, "stock restored once")
}

// TestRefundJobWaitsForPendingRefund: a refund job that meets an earlier refund still awaiting
// the provider's answer (REFUND_PENDING) waits for it without spending an attempt; failing
// instead would spend them all during a long outage and drop the refund.
func TestRefundJobWaitsForPendingRefund(t *testing.T) {
	t.Parallel()
	gw := &lostRefund{Gateway: paymenttest.New()}
	e := newPaymentEnv(t, nil, gw)
	ctx := context.Background()
	o := newPayOrder(t, e, 2500, 10, 2) // 5000
	apitest.PayWithFake(t, e, gw.Gateway, o)

	r := payRefund(t, e.Admin, o.GID, int64p(1000))
	require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
	r = payMutation(t, e.Admin, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
	require.Empty(t, r.UserErrors)
	dueRefundJobs(t, e, o.ID)

	type jobState struct {
		State    string
		Attempt  int
		Errors   int
		WaitsFor time.Duration
	}
	read := func() (s jobState, ran bool) {
		var wait float64
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx, `
			SELECT state::text, attempt, COALESCE(array_length(errors, 1), 0), EXTRACT(epoch FROM scheduled_at - now()), attempted_at IS NOT NULL
			FROM river_job WHERE kind = 'refund_order' AND (args->>'order_id')::bigint = $1`, o.ID).
			Scan(&s.State, &s.Attempt, &s.Errors, &wait, &ran))
		s.WaitsFor = time.Duration(wait * float64(time.Second)).Round(10 * time.Second)
		return s, ran && s.State != "running"
	}
	payEventually(t, "the refund job runs", 30*time.Second, func() bool { _, ran := read(); return ran })
	s, _ := read()
	require.Equal(t, jobState{State: "scheduled", WaitsFor: time.Minute}, s, "snoozed: no attempt spent, no error")
	require.Equal(t, int64(1000), gw.Refunded(o.Intent), "nothing more while the 1000 awaits its answer")
}

// TestRefundSettlementGivesUpLoudly: a settlement job that runs out of attempts leaves its
// refund PENDING, blocking every later refund of the payment; it says so at ERROR.
func TestRefundSettlementGivesUpLoudly(t *testing.T) {
	t.Parallel()
	fake := paymenttest.New()
	e := newPaymentEnv(t, nil, fake)
	ctx := context.Background()
	o := newPayOrder(t, e, 2500, 10, 2) // 5000
	apitest.PayWithFake(t, e, fake, o)

	fake.Down.Store(true)
	r := payRefund(t, e.Admin, o.GID, int64p(1000))
	require.Equal(t, []string{"PAYMENT_PROVIDER_UNAVAILABLE"}, codesOnly(r.UserErrors))
	var refundID int64
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx,
		`SELECT r.id FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.order_id = $1`, o.ID).Scan(&refundID))

	w := &payment.SettleRefundWorker{Payments: e.Server.App.Payments}
	job := func(attempt int) *river.Job[jobs.SettleRefundArgs] {
		return &river.Job[jobs.SettleRefundArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: 25}, Args: jobs.SettleRefundArgs{RefundID: refundID}}
	}
	require.Error(t, w.Work(ctx, job(24)))
	require.NotContains(t, e.Server.Logs.String(), "refund settlement gave up", "a retry to come is no error")
	require.Error(t, w.Work(ctx, job(25)))
	var line struct {
		Level    string `json:"level"`
		RefundID int64  `json:"refund_id"`
	}
	for _, l := range strings.Split(e.Server.Logs.String(), "\n") {
		if strings.Contains(l, "refund settlement gave up") {
			require.NoError(t, json.Unmarshal([]byte(l), &line))
		}
	}
	require.Equal(t, "ERROR", line.Level)
	require.Equal(t, refundID, line.RefundID)
}

// TestRefundReportedBeforeItsAnswer: Stripe usually sends charge.refunded before our refund
// request has its answer recorded. The report moves the order; recording the answer of the
// same refund then adds no second "refunded" event.
func TestRefundReportedBeforeItsAnswer(t *testing.T) {
	t.Parallel()
	gw := &refundHook{Gateway: paymenttest.New()}
	e := newPaymentEnv(t, nil, gw)
	o := newPayOrder(t, e, 2500, 10, 2) // 5000
	apitest.PayWithFake(t, e, gw.Gateway, o)

	answer := gw.holdRefund(t, e, o, 1000)
	apitest.SendStripe(t, e, o, "charge.refunded", func(s *payment.EventSpec) { s.AmountRefunded = 1000 })
	require.Equal(t, "PARTIALLY_REFUNDED", orderStatusNow(e, o.ID))
	r := answer()
	require.Empty(t, r.UserErrors)
	require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
	require.Equal(t, []string{"PENDING", "PAID", "PARTIALLY_REFUNDED"}, orderStatuses(t, e, o.ID), "one refund, one event")
	s := readPayState(t, e, o)
	require.Equal(t, int64(1000), s.RefundedOK)
	require.Equal(t, int64(1000), s.Refunded)
}
