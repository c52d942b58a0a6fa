package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/payment"
)

// DevPaymentPath is the development-only route that pays an order as Stripe would.
const DevPaymentPath = "/dev/payments/succeed"

// DevPaymentIntent returns the Stripe intent of the order with global ID orderID, for viewer v
// who must be allowed to pay it (its owner). Errors are apperr-coded (NOT_FOUND, FORBIDDEN).
type DevPaymentIntent func(ctx context.Context, v auth.Viewer, orderID string) (payment.EventSpec, error)

// DevPayment is POST /dev/payments/succeed {"orderId": "…"}: the storefront's "Simulate
// payment" button where Stripe.js cannot load (offline development, the browser tests). It
// builds the payment_intent.succeeded event Stripe would send for the order's intent, signs it
// with the webhook secret and hands it to webhook, the very handler of POST /webhooks/stripe,
// so the order is paid by the one path every payment takes. The app mounts it only when
// APP_ENV is development or test; elsewhere the route does not exist (404).
func DevPayment(intent DevPaymentIntent, secret string, webhook http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := auth.ViewerFrom(r.Context())
		if !ok {
			writeGraphQLError(w, http.StatusUnauthorized, string(apperr.Unauthenticated), "sign in to pay an order")
			return
		}
		var in struct {
			OrderID string `json:"orderId"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.OrderID == "" {
			writeGraphQLError(w, http.StatusBadRequest, string(apperr.Invalid), `send {"orderId": "<Order ID>"}`)
			return
		}
		spec, err := intent(r.Context(), v, in.OrderID)
		if err != nil {
			status := http.StatusInternalServerError
			switch apperr.CodeOf(err) {
			case apperr.NotFound:
				status = http.StatusNotFound
			case apperr.Forbidden:
				status = http.StatusForbidden
			case apperr.Invalid:
				status = http.StatusBadRequest
			}
			var ae *apperr.Error
			msg := "could not find the order's payment"
			if errors.As(err, &ae) {
				msg = ae.Message
			}
			writeGraphQLError(w, status, string(apperr.CodeOf(err)), msg)
			return
		}
		body, err := payment.BuildEvent(spec)
		if err != nil {
			writeGraphQLError(w, http.StatusInternalServerError, string(apperr.Internal), "could not build the event")
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
		if err != nil {
			writeGraphQLError(w, http.StatusInternalServerError, string(apperr.Internal), "could not build the request")
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", payment.SignEvent(body, secret, time.Now()))
		answer := &capturedResponse{header: http.Header{}, status: http.StatusOK}
		webhook.ServeHTTP(answer, req)
		if answer.status != http.StatusOK {
			writeGraphQLError(w, http.StatusBadGateway, string(apperr.Internal), "the webhook refused the event: "+answer.body.String())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"delivered": "payment_intent.succeeded", "intentId": spec.IntentID})
	})
}

// capturedResponse keeps the webhook handler's answer to a simulated delivery.
type capturedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capturedResponse) Header() http.Header         { return c.header }
func (c *capturedResponse) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *capturedResponse) WriteHeader(status int)      { c.status = status }
