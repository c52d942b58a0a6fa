package graph_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// Helpers of the payment API tests (payment_api_test.go): payments through GraphQL, signed
// webhook deliveries, and direct reads of what the database holds.

const paymentFields = `provider intentId clientSecret status lastError
  amount { amount currency } amountReceived { amount currency } amountRefunded { amount currency }`

const (
	payCheckoutMutation = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) {
    order { id status total { amount currency } } payment { ` + paymentFields + ` } ` + commerceErrorFields + ` } }`
	payOrderQuery    = `query OrderPayment($id: ID!) { order(id: $id) { id status payment { ` + paymentFields + ` } } }`
	payRetryMutation = `mutation Retry($input: OrderPaymentRetryInput!) { orderPaymentRetry(input: $input) {
    order { id status } payment { ` + paymentFields + ` } ` + commerceErrorFields + ` } }`
	payRefundMutation = `mutation Refund($input: OrderRefundInput!) { orderRefund(input: $input) {
    order { id status payment { ` + paymentFields + ` } } ` + commerceErrorFields + ` } }`
	payCancelMutation = `mutation Cancel($input: OrderCancelInput!) { orderCancel(input: $input) {
    order { id status payment { ` + paymentFields + ` } } ` + commerceErrorFields + ` } }`
)

type paymentView struct {
	Provider       string    `json:"provider"`
	IntentID       string    `json:"intentId"`
	ClientSecret   *string   `json:"clientSecret"`
	Status         string    `json:"status"`
	LastError      *string   `json:"lastError"`
	Amount         moneyJSON `json:"amount"`
	AmountReceived moneyJSON `json:"amountReceived"`
	AmountRefunded moneyJSON `json:"amountRefunded"`
}

type payOrderView struct {
	ID      string       `json:"id"`
	Status  string       `json:"status"`
	Total   moneyJSON    `json:"total"`
	Payment *paymentView `json:"payment"`
}

// payPayloadView is the payload of checkout, orderPaymentRetry, orderRefund and orderCancel
// as the payment tests query them.
type payPayloadView struct {
	Order      *payOrderView   `json:"order"`
	Payment    *paymentView    `json:"payment"`
	UserErrors []commerceError `json:"userErrors"`
}

// payMutation runs a one-field mutation with {input} and returns its payload; no top-level
// errors allowed.
func payMutation(t *testing.T, c *apitest.Client, query, field string, input map[string]any) payPayloadView {
	t.Helper()
	var out map[string]payPayloadView
	c.As(t).Do(query, map[string]any{"input": input}).Decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, field)
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	return p
}

// payCheckout checks out c's cart with key and returns the payload, payment included; unlike
// checkoutWith it allows PAYMENT_PROVIDER_UNAVAILABLE.
func payCheckout(t *testing.T, c *apitest.Client, key string) payPayloadView {
	t.Helper()
	return payMutation(t, c, payCheckoutMutation, "checkout", checkoutInput(key, apitest.Address()))
}

func payRefund(t *testing.T, c *apitest.Client, orderGID string, amount *int64) payPayloadView {
	t.Helper()
	in := map[string]any{"id": orderGID}
	if amount != nil {
		in["amount"] = *amount
	}
	return payMutation(t, c, payRefundMutation, "orderRefund", in)
}

func payRetry(t *testing.T, c *apitest.Client, orderGID string) payPayloadView {
	t.Helper()
	return payMutation(t, c, payRetryMutation, "orderPaymentRetry", map[string]any{"id": orderGID})
}

// payOrderAs reads an order and its payment as c; nil when c may not see the order.
func payOrderAs(t *testing.T, c *apitest.Client, orderGID string) *payOrderView {
	t.Helper()
	var out struct {
		Order *payOrderView `json:"order"`
	}
	c.As(t).Do(payOrderQuery, map[string]any{"id": orderGID}).Decode(t, &out)
	return out.Order
}

// newPaymentEnv is newShopEnv with env and gateway (nil: stripe-mock).
func newPaymentEnv(t *testing.T, env map[string]string, gateway payment.Gateway) *apitest.Env {
	t.Helper()
	return apitest.NewEnv(t, apitest.EnvOptions{Env: env, Gateway: gateway, Redis: true})
}

// newPayOrder places an order of quantity units at price with stock units in stock; the
// checkout must have created the payment intent.
func newPayOrder(t *testing.T, e *apitest.Env, price int64, stock, quantity int) apitest.Order {
	t.Helper()
	return e.Order(t, apitest.OrderOptions{Price: price, Stock: stock, Quantity: quantity})
}

// payState is what the database holds about an order and its payment.
type payState struct {
	OrderStatus    string
	PaymentStatus  string
	Received       int64
	Refunded       int64
	LastError      *string
	OrderEvents    int
	Stock          int
	RefundRows     int
	RefundedOK     int64 // sum of SUCCEEDED refund rows
	PendingRefunds int
}

func readPayState(t *testing.T, e *apitest.Env, o apitest.Order) payState {
	t.Helper()
	var s payState
	err := e.Server.App.DB.Pool.QueryRow(context.Background(), `
		SELECT o.status::text, COALESCE(p.status::text, ''), COALESCE(p.amount_received, 0), COALESCE(p.amount_refunded, 0), p.last_error,
		       (SELECT count(*) FROM order_events WHERE order_id = o.id),
		       (SELECT stock FROM product_variants WHERE id = $2),
		       (SELECT count(*) FROM refunds r WHERE r.payment_id = p.id),
		       (SELECT COALESCE(sum(amount), 0) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'SUCCEEDED'),
		       (SELECT count(*) FROM refunds r WHERE r.payment_id = p.id AND r.status = 'PENDING')
		FROM orders o LEFT JOIN payments p ON p.order_id = o.id WHERE o.id = $1`, o.ID, o.Variant.VariantID).
		Scan(&s.OrderStatus, &s.PaymentStatus, &s.Received, &s.Refunded, &s.LastError, &s.OrderEvents, &s.Stock,
			&s.RefundRows, &s.RefundedOK, &s.PendingRefunds)
	require.NoError(t, err)
	return s
}

// orderStatuses lists an order's event statuses, oldest first.
func orderStatuses(t *testing.T, e *apitest.Env, orderID int64) []string {
	t.Helper()
	rows, err := e.Server.App.DB.Pool.Query(context.Background(),
		`SELECT status::text FROM order_events WHERE order_id = $1 ORDER BY sequence`, orderID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// eventRows is how many payment_events rows an event id has, and the outcome of the first.
func eventRows(t *testing.T, e *apitest.Env, eventID string) (int, string) {
	t.Helper()
	var (
		n       int
		outcome string
	)
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
		`SELECT count(*), COALESCE(min(outcome), '') FROM payment_events WHERE event_id = $1`, eventID).Scan(&n, &outcome))
	return n, outcome
}

// payOrderModel loads an order as the system sees it.
func payOrderModel(t *testing.T, e *apitest.Env, id int64) order.Order {
	t.Helper()
	o, err := e.Server.App.Orders.Get(context.Background(), e.AdminViewer(), id)
	require.NoError(t, err)
	return o
}

// intentRecorder is the fake gateway, recording the idempotency keys of CreateIntent.
type intentRecorder struct {
	*paymenttest.Gateway
	mu   sync.Mutex
	keys []string
}

func (r *intentRecorder) CreateIntent(ctx context.Context, p payment.IntentParams) (payment.Intent, error) {
	r.mu.Lock()
	r.keys = append(r.keys, p.IdempotencyKey)
	r.mu.Unlock()
	return r.Gateway.CreateIntent(ctx, p)
}

// takeKeys returns and forgets the recorded keys.
func (r *intentRecorder) takeKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.keys
	r.keys = nil
	return out
}

// refundHook is the fake gateway with a hook run before each refund: an error it returns is
// the refund's answer, and it may block to order concurrent refunds.
type refundHook struct {
	*paymenttest.Gateway
	mu   sync.Mutex
	hook func(payment.RefundParams) error
}

func (g *refundHook) setHook(h func(payment.RefundParams) error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hook = h
}

func (g *refundHook) Refund(ctx context.Context, p payment.RefundParams) (payment.RefundResult, error) {
	g.mu.Lock()
	h := g.hook
	g.mu.Unlock()
	if h != nil {
		if err := h(p); err != nil {
			return payment.RefundResult{}, err
		}
	}
	return g.Gateway.Refund(ctx, p)
}

// holdRefund starts an admin's refund of amount on o and returns once the provider has been
// asked, holding its answer back; answer lets it through and returns the mutation's payload.
// Tests use the moment between to show what is committed, or what arrives, before the answer.
func (g *refundHook) holdRefund(t *testing.T, e *apitest.Env, o apitest.Order, amount int64) (answer func() payPayloadView) {
	t.Helper()
	started, release := make(chan struct{}), make(chan struct{})
	closeStarted, closeRelease := sync.OnceFunc(func() { close(started) }), sync.OnceFunc(func() { close(release) })
	g.setHook(func(payment.RefundParams) error {
		closeStarted()
		<-release
		return nil
	})
	t.Cleanup(func() { g.setHook(nil) })
	t.Cleanup(closeRelease)
	done := make(chan payPayloadView, 1)
	go func() {
		var out payPayloadView
		if err := e.Admin.TryPayload(payRefundMutation, map[string]any{"input": map[string]any{"id": o.GID, "amount": amount}}, "orderRefund", &out); err != nil {
			out.UserErrors = []commerceError{{Code: err.Error()}}
		}
		done <- out
	}()
	<-started
	return func() payPayloadView {
		closeRelease()
		return <-done
	}
}

// holdExpiry postpones an order's expiry job by an hour so that a test decides when it runs;
// releaseExpiry makes it due now.
func holdExpiry(t *testing.T, e *apitest.Env, orderID int64) {
	t.Helper()
	tag, err := e.Server.App.DB.Pool.Exec(context.Background(), `
		UPDATE river_job SET scheduled_at = now() + interval '1 hour', state = 'scheduled'
		WHERE kind = 'expire_order' AND (args->>'order_id')::bigint = $1 AND state IN ('scheduled', 'available')`, orderID)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected(), "the expiry job of order %d already ran (or was never scheduled)", orderID)
}

func releaseExpiry(t *testing.T, e *apitest.Env, orderID int64) {
	t.Helper()
	tag, err := e.Server.App.DB.Pool.Exec(context.Background(), `
		UPDATE river_job SET scheduled_at = now(), state = 'available'
		WHERE kind = 'expire_order' AND (args->>'order_id')::bigint = $1 AND state = 'scheduled'`, orderID)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
}

// expiryJobState is the state of an order's expiry job ("" when none).
func expiryJobState(t *testing.T, e *apitest.Env, orderID int64) string {
	t.Helper()
	var state string
	err := e.Server.App.DB.Pool.QueryRow(context.Background(), `
		SELECT COALESCE(max(state::text), '') FROM river_job WHERE kind = 'expire_order' AND (args->>'order_id')::bigint = $1`, orderID).Scan(&state)
	require.NoError(t, err)
	return state
}

// payEventually polls cond (which must not call require) until it holds.
func payEventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting: "+what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// orderStatusNow reads an order's status without failing the test (for waitFor).
func orderStatusNow(e *apitest.Env, orderID int64) string {
	var s string
	_ = e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT status::text FROM orders WHERE id = $1`, orderID).Scan(&s)
	return s
}

func int64p(n int64) *int64 { return &n }
