package payment

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
)

// EventSpec describes a Stripe event to build for local use and tests, as Stripe would send it
// about an intent.
type EventSpec struct {
	// ID defaults to a random evt_ id.
	ID             string
	Type           string // e.g. payment_intent.succeeded
	IntentID       string
	Amount         int64
	Currency       string
	AmountRefunded int64  // charge.refunded
	FailureMessage string // payment_intent.payment_failed
	// APIVersion defaults to the version stripe-go v76 speaks.
	APIVersion string
}

// StripeEvent is the typ event Stripe would send about p's intent, for its whole amount.
func (p Payment) StripeEvent(typ string) EventSpec {
	return EventSpec{Type: typ, IntentID: p.IntentID, Amount: p.Amount.Amount, Currency: p.Amount.Currency}
}

// SimulatedSuccess is the payment_intent.succeeded Stripe would send once v pays o, for the
// development-only "Simulate payment" (httpapi.DevPayment). Errors: FORBIDDEN (not o's
// customer: maySimulatePayment), NOT_FOUND (no intent yet), INVALID (o is paid through
// another provider).
func (s *Service) SimulatedSuccess(ctx context.Context, v auth.Viewer, o order.Order) (EventSpec, error) {
	if err := maySimulatePayment(v, o); err != nil {
		return EventSpec{}, err
	}
	p, err := s.ForOrder(ctx, o.ID)
	if err != nil {
		return EventSpec{}, err
	}
	if p.Provider != ProviderStripe {
		return EventSpec{}, apperr.New(apperr.Invalid, "the order is paid through "+p.Provider+", not Stripe")
	}
	return p.StripeEvent("payment_intent.succeeded"), nil
}

// EventTypes are the event types `shopgraph stripe-event` can send.
var EventTypes = []string{
	"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.processing",
	"payment_intent.canceled", "charge.refunded",
}

// BuildEvent returns the JSON body of a Stripe event.
func BuildEvent(spec EventSpec) ([]byte, error) {
	if spec.ID == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		spec.ID = "evt_" + hex.EncodeToString(b)
	}
	if spec.APIVersion == "" {
		spec.APIVersion = stripe.APIVersion
	}
	currency := strings.ToLower(spec.Currency)
	var object map[string]any
	switch {
	case strings.HasPrefix(spec.Type, "payment_intent."):
		status := map[string]string{
			"payment_intent.succeeded": "succeeded", "payment_intent.payment_failed": "requires_payment_method",
			"payment_intent.processing": "processing", "payment_intent.canceled": "canceled",
		}[spec.Type]
		object = map[string]any{"id": spec.IntentID, "object": "payment_intent", "amount": spec.Amount, "currency": currency, "status": status}
		if spec.Type == "payment_intent.succeeded" {
			object["amount_received"] = spec.Amount
		}
		if spec.Type == "payment_intent.payment_failed" {
			msg := spec.FailureMessage
			if msg == "" {
				msg = "Your card was declined."
			}
			object["last_payment_error"] = map[string]any{"message": msg, "type": "card_error", "code": "card_declined"}
		}
	case spec.Type == "charge.refunded":
		object = map[string]any{"id": "ch_" + strings.TrimPrefix(spec.IntentID, "pi_"), "object": "charge", "amount": spec.Amount,
			"amount_refunded": spec.AmountRefunded, "currency": currency, "payment_intent": spec.IntentID, "refunded": spec.AmountRefunded >= spec.Amount}
	default:
		object = map[string]any{"id": "obj_unknown", "object": "unknown"}
	}
	return json.Marshal(map[string]any{
		"id": spec.ID, "object": "event", "api_version": spec.APIVersion, "created": time.Now().Unix(),
		"type": spec.Type, "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": object},
	})
}

// SignEvent signs body for the Stripe-Signature header with secret at time at.
func SignEvent(body []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}

// SendEvent builds, signs and POSTs an event to a webhook URL; it returns the HTTP status.
func SendEvent(ctx context.Context, url, secret string, spec EventSpec) (int, string, error) {
	body, err := BuildEvent(spec)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", SignEvent(body, secret, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("send event: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(answer), nil
}
