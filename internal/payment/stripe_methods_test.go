package payment_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/payment"
)

// TestStripeMethodGateway: every saved-method call is one stripe-mock accepts (it validates
// each request against Stripe's API description), with what the gateway must send.
func TestStripeMethodGateway(t *testing.T) {
	t.Parallel()
	proxy := newRecordingProxy(t, stripeMockURL(t))
	gw := payment.NewStripe("sk_test_shopgraph", proxy.URL)
	ctx := context.Background()

	cus, err := gw.CreateCustomer(ctx, 42, "shopgraph-user-42-customer")
	require.NoError(t, err)
	require.Regexp(t, `^cus_`, cus)
	r := proxy.last(t)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "shopgraph-user-42-customer", r.idempotencyKey)
	require.Equal(t, "42", r.form.Get("metadata[user_id]"))

	si, err := gw.CreateSetupIntent(ctx, cus)
	require.NoError(t, err)
	require.Regexp(t, `^seti_.+_secret_`, si.ClientSecret)
	r = proxy.last(t)
	require.Equal(t, cus, r.form.Get("customer"))
	require.Equal(t, "card", r.form.Get("payment_method_types[0]"))
	require.Equal(t, "on_session", r.form.Get("usage"))

	m, err := gw.PaymentMethod(ctx, "pm_123")
	require.NoError(t, err)
	require.Equal(t, "pm_123", m.ID)
	require.NotEmpty(t, m.Brand)
	require.Len(t, m.Last4, 4)

	list, err := gw.PaymentMethods(ctx, cus, 100)
	require.NoError(t, err)
	require.LessOrEqual(t, len(list), 100)
	r = proxy.last(t)
	require.Equal(t, "/v1/customers/"+cus+"/payment_methods", r.path)
	require.Equal(t, "card", r.form.Get("type"))
	require.Equal(t, "100", r.form.Get("limit"))

	require.NoError(t, gw.SetDefaultPaymentMethod(ctx, cus, "pm_123"))
	require.Equal(t, "pm_123", proxy.last(t).form.Get("invoice_settings[default_payment_method]"))
	_, err = gw.DefaultPaymentMethod(ctx, cus)
	require.NoError(t, err)
	require.NoError(t, gw.DetachPaymentMethod(ctx, "pm_123"))
	require.Equal(t, "/v1/payment_methods/pm_123/detach", proxy.last(t).path)

	in, err := gw.ChargeMethod(ctx, payment.MethodIntentParams{
		IntentParams: payment.IntentParams{OrderID: 7, Amount: 1234, Currency: "EUR", IdempotencyKey: "shopgraph-order-7-intent"},
		CustomerID:   cus, PaymentMethodID: "pm_123",
	})
	require.NoError(t, err)
	require.Regexp(t, `^pi_`, in.ID)
	require.Nil(t, in.NextAction, "a next action only when the intent requires_action (stripe-mock's fixture has a placeholder one)")
	r = proxy.last(t)
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "shopgraph-order-7-intent", r.idempotencyKey)
	for k, want := range map[string]string{"customer": cus, "payment_method": "pm_123", "confirm": "true", "off_session": "false",
		"amount": "1234", "currency": "eur", "payment_method_types[0]": "card", "metadata[order_id]": "7"} {
		require.Equal(t, want, r.form.Get(k), k)
	}
}

// stripeAnswer is a server that answers every request with status and body, for what
// stripe-mock never answers (it knows every id, and never declines).
func stripeAnswer(t *testing.T, status int, body string) *payment.Stripe {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return payment.NewStripe("sk_test_shopgraph", srv.URL)
}

func TestStripePaymentMethodMissing(t *testing.T) {
	t.Parallel()
	gw := stripeAnswer(t, http.StatusNotFound, `{"error":{"type":"invalid_request_error","code":"resource_missing","param":"payment_method","message":"No such PaymentMethod: 'pm_x'"}}`)
	_, err := gw.PaymentMethod(context.Background(), "pm_x")
	require.ErrorIs(t, err, payment.ErrMethodNotFound)
}

func TestStripeChargeMethodDeclined(t *testing.T) {
	t.Parallel()
	gw := stripeAnswer(t, http.StatusPaymentRequired, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds",
		"message":"Your card has insufficient funds.","payment_intent":{"id":"pi_declined","object":"payment_intent","status":"requires_payment_method",
		"client_secret":"pi_declined_secret_x","amount":500,"currency":"usd"}}}`)
	_, err := gw.ChargeMethod(context.Background(), payment.MethodIntentParams{
		IntentParams: payment.IntentParams{OrderID: 1, Amount: 500, Currency: "USD", IdempotencyKey: "k"}, CustomerID: "cus_1", PaymentMethodID: "pm_1",
	})
	var d *payment.DeclinedError
	require.True(t, errors.As(err, &d), "%v", err)
	require.Equal(t, "card_declined", d.Code)
	require.Equal(t, "insufficient_funds", d.DeclineCode)
	require.Equal(t, "Your card has insufficient funds.", d.Message)
	require.Equal(t, "pi_declined", d.Intent.ID)
	require.Equal(t, "pi_declined_secret_x", d.Intent.ClientSecret)
	require.False(t, payment.IsUnavailable(err), "a decline is an answer, not an outage")
}
