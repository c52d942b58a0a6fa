package payment_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paypaltest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// paypalBundle is testBundle with PayPal added, against the stand-in.
type paypalBundle struct {
	*testBundle
	pp *paypaltest.StandIn
	gw *payment.PayPal
}

func setupPayPal(t *testing.T) *paypalBundle {
	t.Helper()
	b := setup(t)
	pp := paypaltest.New("client", "secret", "WH-test")
	srv := httptest.NewServer(pp.Handler())
	t.Cleanup(srv.Close)
	pp.BaseURL = srv.URL
	gw := payment.NewPayPal(srv.URL, "client", "secret", "WH-test")
	b.svc.UsePayPal(gw)
	return &paypalBundle{testBundle: b, pp: pp, gw: gw}
}

// pendingPayPal places a PENDING order (2 at 1000 USD) to be paid with PayPal, with its
// PayPal order.
func (b *paypalBundle) pendingPayPal(t *testing.T) (order.Order, payment.Payment) {
	t.Helper()
	ctx := context.Background()
	o := b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID}).ID)
	require.NoError(t, b.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		return b.svc.ChooseProviderTx(ctx, q, o.ID, payment.ProviderPayPal)
	}))
	p, err := b.svc.NewIntent(ctx, o)
	require.NoError(t, err)
	return o, p
}

// paidPayPal is pendingPayPal, approved and captured.
func (b *paypalBundle) paidPayPal(t *testing.T) (order.Order, payment.Payment) {
	t.Helper()
	o, p := b.pendingPayPal(t)
	_, err := b.pp.Approve(p.IntentID)
	require.NoError(t, err)
	_, _, err = b.svc.CapturePayment(context.Background(), b.owner, o.ID)
	require.NoError(t, err)
	require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID))
	return o, b.payment(t, o.ID)
}

func ppEvent(t *testing.T, spec payment.PayPalEventSpec) []byte {
	t.Helper()
	body, err := payment.BuildPayPalEvent(spec)
	require.NoError(t, err)
	return body
}

func TestPayPalAmounts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		minor    int64
		currency string
		value    string
	}{{1050, "USD", "10.50"}, {5, "EUR", "0.05"}, {100000, "usd", "1000.00"}, {1000, "JPY", "1000"}, {0, "USD", "0.00"}} {
		a := payment.PayPalValue(c.minor, c.currency)
		require.Equal(t, c.value, a.Value, c)
		back, err := payment.PayPalMinor(a)
		require.NoError(t, err)
		require.Equal(t, c.minor, back)
	}
	_, err := payment.PayPalMinor(payment.PayPalAmount{CurrencyCode: "USD", Value: "1.005"})
	require.Error(t, err)
	_, err = payment.PayPalMinor(payment.PayPalAmount{CurrencyCode: "JPY", Value: "10.5"})
	require.Error(t, err)
}

func TestPayPalClientCachesTheToken(t *testing.T) {
	t.Parallel()
	pp := paypaltest.New("client", "secret", "WH-test")
	srv := httptest.NewServer(pp.Handler())
	t.Cleanup(srv.Close)
	c := payment.NewPayPalClient(srv.URL, "client", "secret")
	ctx := context.Background()
	o, err := c.CreateOrder(ctx, payment.PayPalOrderParams{RequestID: "r1", ReferenceID: "1", Amount: payment.PayPalValue(1000, "JPY")})
	require.NoError(t, err)
	require.Equal(t, "CREATED", o.Status)
	_, err = c.GetOrder(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, 1, pp.Count("token"), "one token for both calls")

	// Wrong credentials are refused, not retried as an outage.
	bad := payment.NewPayPalClient(srv.URL, "client", "nope")
	_, err = bad.GetOrder(ctx, o.ID)
	require.Error(t, err)
	// A malformed amount is PayPal's refusal (422), not an outage.
	_, err = c.CreateOrder(ctx, payment.PayPalOrderParams{RequestID: "r2", Amount: payment.PayPalAmount{CurrencyCode: "USD", Value: "10.5"}})
	require.Equal(t, "DECIMAL_PRECISION", payment.PayPalIssue(err))
	require.False(t, payment.IsUnavailable(err))
}

func TestPayPalIntentRetriesMakeOnePayPalOrder(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	o := b.order(t, tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.owner.UserID}).ID)
	require.NoError(t, b.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		return b.svc.ChooseProviderTx(ctx, q, o.ID, payment.ProviderPayPal)
	}))

	// PayPal is down: the order stands, no payment yet.
	b.pp.FailNext("create", http.StatusServiceUnavailable)
	_, err := b.svc.NewIntent(ctx, o)
	require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), err)

	// PayPal creates the order but the answer comes too late (a time-out).
	b.gw.Client.SetTimeout(200 * time.Millisecond)
	b.pp.SlowNext("create", time.Second)
	_, err = b.svc.NewIntent(ctx, o)
	require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), err)
	require.Equal(t, 1, b.pp.Orders())
	b.gw.Client.SetTimeout(5 * time.Second)

	// Retries, concurrent ones included, converge on that one PayPal order.
	var wg sync.WaitGroup
	ids := make([]string, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := b.svc.EnsureIntent(ctx, o)
			if err == nil {
				ids[i] = p.IntentID
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, b.pp.Orders())
	for _, id := range ids {
		require.Equal(t, ids[0], id)
	}
	p := b.payment(t, o.ID)
	require.Equal(t, "paypal", p.Provider)
	require.Contains(t, p.ClientSecret, "/checkoutnow?token="+p.IntentID, "the approval URL")
	got, _ := b.pp.Order(p.IntentID)
	require.Equal(t, "20.00", got.PurchaseUnits[0].Amount.Value)
	require.Equal(t, "USD", got.PurchaseUnits[0].Amount.CurrencyCode)
}

func TestPayPalCaptureByWebhookAndMutationCapturesOnce(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	for range 3 {
		o, p := b.pendingPayPal(t)
		// Capturing before the buyer approved is refused and changes nothing.
		_, _, err := b.svc.CapturePayment(ctx, b.owner, o.ID)
		require.True(t, apperr.Is(err, apperr.InvalidTransition), err)
		approved, err := b.pp.Approve(p.IntentID)
		require.NoError(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					errs[i] = b.svc.HandlePayPalEvent(ctx, approved)
				} else {
					_, _, errs[i] = b.svc.CapturePayment(ctx, b.owner, o.ID)
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID))
		paid := b.payment(t, o.ID)
		require.Equal(t, payment.Succeeded, paid.Status)
		require.Equal(t, int64(2000), paid.AmountReceived.Amount)
	}
	require.Equal(t, 3, b.pp.Captures(), "one capture per order")
}

func TestPayPalCaptureTimeoutRetriedUnderTheSameRequestID(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	o, p := b.pendingPayPal(t)
	_, err := b.pp.Approve(p.IntentID)
	require.NoError(t, err)
	b.gw.Client.SetTimeout(200 * time.Millisecond)
	b.pp.SlowNext("capture", time.Second)
	_, _, err = b.svc.CapturePayment(ctx, b.owner, o.ID)
	require.True(t, apperr.Is(err, apperr.PaymentProviderUnavailable), err)
	require.Equal(t, "PENDING", tf.OrderStatus(t, b.d, o.ID))
	b.gw.Client.SetTimeout(5 * time.Second)
	_, _, err = b.svc.CapturePayment(ctx, b.owner, o.ID)
	require.NoError(t, err)
	require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID))
	require.Equal(t, 1, b.pp.Captures())
}

func TestPayPalEventsOnceInAnyOrder(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	o, p := b.pendingPayPal(t)
	capID := "CAP-" + p.IntentID
	completed := ppEvent(t, payment.PayPalEventSpec{Type: payment.PayPalCaptureCompleted, OrderID: p.IntentID, CaptureID: capID, Amount: 2000, Currency: "USD"})
	refund1 := ppEvent(t, payment.PayPalEventSpec{Type: payment.PayPalCaptureRefunded, OrderID: p.IntentID, CaptureID: capID, Amount: 500, RefundedTotal: 500, Currency: "USD"})
	refund2 := ppEvent(t, payment.PayPalEventSpec{Type: payment.PayPalCaptureRefunded, OrderID: p.IntentID, CaptureID: capID, Amount: 1500, RefundedTotal: 2000, Currency: "USD"})
	denied := ppEvent(t, payment.PayPalEventSpec{Type: payment.PayPalCaptureDenied, OrderID: p.IntentID, CaptureID: capID, Amount: 2000, Currency: "USD"})

	// The capture completes, then a late denial and duplicates arrive; then the refunds, the
	// whole one first.
	for _, body := range [][]byte{completed, completed, denied, refund2, refund1, refund2} {
		require.NoError(t, b.svc.HandlePayPalEvent(ctx, body))
	}
	require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o.ID))
	got := b.payment(t, o.ID)
	require.Equal(t, payment.Succeeded, got.Status)
	require.Equal(t, int64(2000), got.AmountRefunded.Amount)
	var n int
	require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT count(*) FROM payment_events WHERE provider = 'paypal'`).Scan(&n))
	require.Equal(t, 4, n, "every event recorded once")

	// Another order: the partial refund before the whole one ends the same.
	o2, p2 := b.pendingPayPal(t)
	cap2 := "CAP-" + p2.IntentID
	for _, spec := range []payment.PayPalEventSpec{
		{Type: payment.PayPalCaptureCompleted, Amount: 2000},
		{Type: payment.PayPalCaptureRefunded, Amount: 500, RefundedTotal: 500},
		{Type: payment.PayPalCaptureReversed, Amount: 1500, RefundedTotal: 2000},
	} {
		spec.OrderID, spec.CaptureID, spec.Currency = p2.IntentID, cap2, "USD"
		require.NoError(t, b.svc.HandlePayPalEvent(ctx, ppEvent(t, spec)))
	}
	require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o2.ID))
}

func TestPayPalAmountOrCurrencyMismatch(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	for _, c := range []struct {
		amount   int64
		currency string
	}{{1999, "USD"}, {2000, "EUR"}} {
		o, p := b.pendingPayPal(t)
		require.NoError(t, b.svc.HandlePayPalEvent(ctx, ppEvent(t, payment.PayPalEventSpec{
			Type: payment.PayPalCaptureCompleted, OrderID: p.IntentID, Amount: c.amount, Currency: c.currency})))
		require.Equal(t, "PENDING", tf.OrderStatus(t, b.d, o.ID))
		got := b.payment(t, o.ID)
		require.Equal(t, payment.AmountMismatch, got.Status)
		require.NotNil(t, got.LastError)
	}
}

func TestPayPalRefundsGoToPayPal(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	o, p := b.paidPayPal(t)
	require.NotNil(t, b.capture(t, o.ID))

	part := int64(700)
	_, err := b.svc.Refund(ctx, b.admin, o.ID, &part)
	require.NoError(t, err)
	require.Equal(t, int64(700), b.pp.Refunded(p.IntentID))
	require.Equal(t, "PARTIALLY_REFUNDED", tf.OrderStatus(t, b.d, o.ID))

	over := int64(1301)
	_, err = b.svc.Refund(ctx, b.admin, o.ID, &over)
	require.True(t, apperr.Is(err, apperr.RefundExceedsPayment), err)

	// The rest; PayPal's own report of it, arriving after, changes nothing.
	_, err = b.svc.Refund(ctx, b.admin, o.ID, nil)
	require.NoError(t, err)
	require.Equal(t, int64(2000), b.pp.Refunded(p.IntentID))
	require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o.ID))
	require.Zero(t, b.testBundle.gw.Calls["Refund"], "nothing went to Stripe")
	for _, body := range b.pp.Sent {
		var e payment.PayPalEvent
		require.NoError(t, json.Unmarshal(body, &e))
		require.NoError(t, b.svc.HandlePayPalEvent(ctx, body))
	}
	require.Equal(t, "REFUNDED", tf.OrderStatus(t, b.d, o.ID))
	require.Equal(t, int64(2000), b.payment(t, o.ID).AmountRefunded.Amount)

	// An admin's cancellation of a PAID PayPal order refunds it at PayPal too.
	o2, p2 := b.paidPayPal(t)
	_, err = b.svc.CancelOrder(ctx, b.admin, o2.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2000), b.pp.Refunded(p2.IntentID))
}

func (b *paypalBundle) capture(t *testing.T, orderID int64) *string {
	t.Helper()
	var id *string
	require.NoError(t, b.d.Pool.QueryRow(context.Background(), `SELECT capture_id FROM payments WHERE order_id = $1`, orderID).Scan(&id))
	return id
}

func TestPayPalUnpaidOrderExpiresAndIsNeverCaptured(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	o, p := b.pendingPayPal(t)
	require.NoError(t, b.svc.Expire(ctx, o.ID))
	require.Equal(t, "CANCELLED", tf.OrderStatus(t, b.d, o.ID))
	require.Equal(t, payment.Canceled, b.payment(t, o.ID).Status)

	// The buyer approves afterwards: neither the webhook nor the mutation captures.
	approved, err := b.pp.Approve(p.IntentID)
	require.NoError(t, err)
	require.NoError(t, b.svc.HandlePayPalEvent(ctx, approved))
	_, _, err = b.svc.CapturePayment(ctx, b.owner, o.ID)
	require.True(t, apperr.Is(err, apperr.InvalidTransition), err)
	require.Zero(t, b.pp.Captures())
	require.Equal(t, "CANCELLED", tf.OrderStatus(t, b.d, o.ID))
}

func TestPayPalWebhookVerification(t *testing.T) {
	t.Parallel()
	b := setupPayPal(t)
	ctx := context.Background()
	body := ppEvent(t, payment.PayPalEventSpec{Type: payment.PayPalCaptureCompleted, OrderID: "X", Amount: 1, Currency: "USD"})
	ok, err := b.svc.VerifyPayPalWebhook(ctx, b.pp.Headers(body), body)
	require.NoError(t, err)
	require.True(t, ok)

	forged := b.pp.Headers(body)
	forged.Set("PAYPAL-TRANSMISSION-SIG", "AAAA")
	ok, err = b.svc.VerifyPayPalWebhook(ctx, forged, body)
	require.NoError(t, err)
	require.False(t, ok)

	tampered := append([]byte(nil), body...)
	tampered[len(tampered)-2] = ' '
	ok, err = b.svc.VerifyPayPalWebhook(ctx, b.pp.Headers(body), tampered)
	require.NoError(t, err)
	require.False(t, ok)

	// Signed for another webhook.
	other := payment.PayPalSignedHeaders(payment.PayPalDevSigningKey, "WH-other", body)
	ok, err = b.svc.VerifyPayPalWebhook(ctx, other, body)
	require.NoError(t, err)
	require.False(t, ok)

	// PayPal cannot say: an error, not a verdict.
	b.pp.FailNext("verify", http.StatusInternalServerError)
	_, err = b.svc.VerifyPayPalWebhook(ctx, b.pp.Headers(body), body)
	require.Error(t, err)
}
