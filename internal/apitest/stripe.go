// This file plays Stripe's part: signed webhook deliveries about an order's payment intent,
// and paying an order with the stateful fake gateway.

package apitest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
)

// StripeEvent is a Stripe event body with a fixed id, so that it can be delivered again.
type StripeEvent struct {
	ID   string
	Body []byte
}

// NewStripeEvent builds an event about an order's intent (amount and currency default to the
// order's).
func NewStripeEvent(t *testing.T, o Order, typ string, edit func(*payment.EventSpec)) StripeEvent {
	t.Helper()
	spec := payment.EventSpec{ID: "evt_" + strings.ReplaceAll(uuid.NewString(), "-", ""), Type: typ,
		IntentID: o.Intent, Amount: o.Total, Currency: "USD"}
	if edit != nil {
		edit(&spec)
	}
	body, err := payment.BuildEvent(spec)
	require.NoError(t, err)
	return StripeEvent{ID: spec.ID, Body: body}
}

// PostWebhook POSTs body with a Stripe-Signature header ("" sends none) and returns the
// status. Safe from goroutines.
func PostWebhook(srv *Server, body []byte, signature string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/stripe", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("Stripe-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// DeliverStripe signs ev with the server's webhook secret now and POSTs it.
func DeliverStripe(t *testing.T, e *Env, ev StripeEvent) int {
	t.Helper()
	status, err := PostWebhook(e.Server, ev.Body, payment.SignEvent(ev.Body, e.Server.App.Config.StripeWebhookSecret, time.Now()))
	require.NoError(t, err)
	return status
}

// SendStripe builds and delivers an event, requiring 200.
func SendStripe(t *testing.T, e *Env, o Order, typ string, edit func(*payment.EventSpec)) StripeEvent {
	t.Helper()
	ev := NewStripeEvent(t, o, typ, edit)
	require.Equal(t, http.StatusOK, DeliverStripe(t, e, ev), "%s delivery", typ)
	return ev
}

// PayWithFake pays an order as a customer would: the fake's intent succeeds and Stripe's
// event arrives.
func PayWithFake(t *testing.T, e *Env, fake *paymenttest.Gateway, o Order) {
	t.Helper()
	fake.Succeed(o.Intent)
	SendStripe(t, e, o, "payment_intent.succeeded", nil)
	require.Equal(t, "PAID", e.OrderStatus(t, o.ID))
}

// PaidOrder places an order (Order) on a server whose gateway is fake, and pays it.
func (e *Env) PaidOrder(t *testing.T, fake *paymenttest.Gateway, opts OrderOptions) Order {
	t.Helper()
	o := e.Order(t, opts)
	PayWithFake(t, e, fake, o)
	return o
}
