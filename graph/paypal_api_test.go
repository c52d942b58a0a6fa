package graph_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paypaltest"
)

// PayPal through the API, against the PayPal stand-in: checkout with PAYPAL, the buyer's
// approval click, the signed webhooks it sends to the server, capture, refunds.

const (
	ppCheckoutMutation = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) {
    order { id status total { amount currency } } payment { ` + paymentFields + ` approvalUrl } ` + commerceErrorFields + ` } }`
	ppCaptureMutation = `mutation Capture($input: OrderPaymentCaptureInput!) { orderPaymentCapture(input: $input) {
    order { id status } payment { ` + paymentFields + ` approvalUrl } ` + commerceErrorFields + ` } }`
)

type ppPaymentView struct {
	paymentView
	ApprovalURL *string `json:"approvalUrl"`
}

type ppPayload struct {
	Order      *payOrderView   `json:"order"`
	Payment    *ppPaymentView  `json:"payment"`
	UserErrors []commerceError `json:"userErrors"`
}

func ppMutation(t *testing.T, c *apitest.Client, query, field string, input map[string]any) ppPayload {
	t.Helper()
	var out map[string]ppPayload
	c.As(t).Do(query, map[string]any{"input": input}).Decode(t, &out)
	p, ok := out[field]
	require.True(t, ok, field)
	return p
}

// newPayPalEnv starts the stand-in and a server that uses it, the stand-in's webhooks going to
// the server's /webhooks/paypal.
func newPayPalEnv(t *testing.T) (*apitest.Env, *paypaltest.StandIn) {
	t.Helper()
	pp := paypaltest.New("ci-client", "ci-secret", "WH-ci")
	srv := httptest.NewServer(pp.Handler())
	t.Cleanup(srv.Close)
	pp.BaseURL = srv.URL
	e := newPaymentEnv(t, map[string]string{
		"PAYPAL_CLIENT_ID": "ci-client", "PAYPAL_CLIENT_SECRET": "ci-secret", "PAYPAL_WEBHOOK_ID": "WH-ci", "PAYPAL_API_BASE": srv.URL,
	}, nil)
	pp.WebhookURL = e.Server.URL + "/webhooks/paypal"
	return e, pp
}

func TestPayPalCheckoutApproveCaptureRefund(t *testing.T) {
	t.Parallel()
	e, pp := newPayPalEnv(t)
	_, vendorID := e.Vendor(t)
	v := e.Product(t, apitest.ProductOptions{VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "Default", Price: 2599, Stock: 10}}})[0]
	c, _ := e.Customer(t)
	mustAdd(t, c, v.GID, 2)
	key := uuid.NewString()
	in := checkoutInput(key, apitest.Address())
	in["paymentProvider"] = "PAYPAL"
	first := ppMutation(t, c, ppCheckoutMutation, "checkout", in)
	require.Empty(t, first.UserErrors)
	require.NotNil(t, first.Payment)
	orderGID := first.Order.ID

	t.Run("checkout creates one PayPal order and returns its approval URL", func(t *testing.T) {
		p := first.Payment
		require.Equal(t, "paypal", p.Provider)
		require.Nil(t, p.ClientSecret)
		require.NotNil(t, p.ApprovalURL)
		require.Contains(t, *p.ApprovalURL, "/checkoutnow?token="+p.IntentID)
		got, ok := pp.Order(p.IntentID)
		require.True(t, ok)
		require.Equal(t, "51.98", got.PurchaseUnits[0].Amount.Value)
		again := ppMutation(t, c, ppCheckoutMutation, "checkout", in)
		require.Equal(t, p.IntentID, again.Payment.IntentID, "a replay returns the same PayPal order")
		require.Equal(t, 1, pp.Orders())
	})

	t.Run("the same key with another provider is refused", func(t *testing.T) {
		other := checkoutInput(key, apitest.Address())
		out := ppMutation(t, c, ppCheckoutMutation, "checkout", other)
		require.NotEmpty(t, out.UserErrors)
		require.Equal(t, "IDEMPOTENCY_KEY_REUSED", out.UserErrors[0].Code)
	})

	t.Run("capture before approval is INVALID_TRANSITION", func(t *testing.T) {
		out := ppMutation(t, c, ppCaptureMutation, "orderPaymentCapture", map[string]any{"orderId": orderGID})
		require.NotEmpty(t, out.UserErrors)
		require.Equal(t, "INVALID_TRANSITION", out.UserErrors[0].Code)
		require.Zero(t, pp.Captures())
	})

	t.Run("a forged webhook is 400 and changes nothing", func(t *testing.T) {
		body, err := payment.BuildPayPalEvent(payment.PayPalEventSpec{Type: payment.PayPalCaptureCompleted,
			OrderID: first.Payment.IntentID, Amount: 5198, Currency: "USD"})
		require.NoError(t, err)
		h := pp.Headers(body)
		h.Set("PAYPAL-TRANSMISSION-SIG", "Zm9yZ2Vk")
		req, _ := http.NewRequest(http.MethodPost, e.Server.URL+"/webhooks/paypal", bytes.NewReader(body))
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Equal(t, "PENDING", payOrderAs(t, c, orderGID).Status)
		require.Zero(t, e.Count(t, `SELECT count(*) FROM payment_events WHERE provider = 'paypal'`))
	})

	t.Run("the buyer's click approves, the webhook captures, the order is PAID", func(t *testing.T) {
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		page, err := noRedirect.Get(*first.Payment.ApprovalURL)
		require.NoError(t, err)
		page.Body.Close()
		require.Equal(t, http.StatusOK, page.StatusCode)
		u, err := url.Parse(*first.Payment.ApprovalURL)
		require.NoError(t, err)
		click, err := noRedirect.Post(*first.Payment.ApprovalURL, "application/x-www-form-urlencoded", nil)
		require.NoError(t, err)
		click.Body.Close()
		require.Less(t, click.StatusCode, 400, u.String())
		require.Eventually(t, func() bool { return payOrderAs(t, c, orderGID).Status == "PAID" }, 15*time.Second, 50*time.Millisecond)
		// The client's capture after the redirect finds it done.
		out := ppMutation(t, c, ppCaptureMutation, "orderPaymentCapture", map[string]any{"orderId": orderGID})
		require.Empty(t, out.UserErrors)
		require.Equal(t, "PAID", out.Order.Status)
		require.Equal(t, "SUCCEEDED", out.Payment.Status)
		require.Equal(t, int64(5198), out.Payment.AmountReceived.Amount)
		require.Equal(t, 1, pp.Captures())
	})

	t.Run("refunds go to PayPal, partial then the rest", func(t *testing.T) {
		admin, _ := e.NewAdmin(t)
		part := int64(1000)
		r := payRefund(t, admin, orderGID, &part)
		require.Empty(t, r.UserErrors)
		require.Equal(t, "PARTIALLY_REFUNDED", r.Order.Status)
		require.Equal(t, int64(1000), pp.Refunded(first.Payment.IntentID))
		r = payRefund(t, admin, orderGID, nil)
		require.Empty(t, r.UserErrors)
		require.Equal(t, "REFUNDED", r.Order.Status)
		require.Equal(t, int64(5198), pp.Refunded(first.Payment.IntentID))
		more := int64(1)
		r = payRefund(t, admin, orderGID, &more)
		require.Equal(t, "REFUND_EXCEEDS_PAYMENT", r.UserErrors[0].Code)
		// PayPal's refund webhooks, arriving now, change nothing.
		require.Eventually(t, func() bool {
			return e.Count(t, `SELECT count(*) FROM payment_events WHERE provider = 'paypal' AND type = 'PAYMENT.CAPTURE.REFUNDED'`) == 2
		}, 15*time.Second, 50*time.Millisecond)
		require.Equal(t, "REFUNDED", payOrderAs(t, c, orderGID).Status)
	})
}

func TestPayPalCheckoutRefusesPayPalWithASavedCard(t *testing.T) {
	t.Parallel()
	e, _ := newPayPalEnv(t)
	_, vendorID := e.Vendor(t)
	v := e.Product(t, apitest.ProductOptions{VendorID: &vendorID, Variants: []catalog.VariantInput{{Name: "Default", Price: 500, Stock: 10}}})[0]
	c, _ := e.Customer(t)
	mustAdd(t, c, v.GID, 1)
	in := checkoutInput(uuid.NewString(), apitest.Address())
	in["paymentProvider"] = "PAYPAL"
	in["paymentMethodId"] = "pm_card_visa"
	out := ppMutation(t, c, ppCheckoutMutation, "checkout", in)
	require.NotEmpty(t, out.UserErrors)
	require.Equal(t, "INVALID", out.UserErrors[0].Code)
	require.Nil(t, out.Order)
}
