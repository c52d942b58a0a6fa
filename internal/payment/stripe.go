package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
)

// Stripe is the Gateway backed by Stripe's API through stripe-go, with its own client (never
// the global stripe.Key), so tests and several providers can coexist.
type Stripe struct {
	api *client.API
	// Log receives the failures that are our own bugs (an idempotency key reused with other
	// parameters), at ERROR; nil: slog's default logger.
	Log *slog.Logger
}

// maxIdleConns is how many connections to Stripe stay open between calls.
const maxIdleConns = 64

// NewStripe returns a Stripe gateway using key; apiBase, when set, replaces Stripe's API URL
// (stripe-mock in tests and development).
func NewStripe(key, apiBase string) *Stripe {
	// http.DefaultTransport keeps two idle connections per host: under concurrent checkouts
	// almost every call opened a new connection (a TLS handshake, against Stripe) and closed
	// it again. Keep as many as calls may run at once.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns, transport.MaxIdleConnsPerHost = maxIdleConns, maxIdleConns
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: 20 * time.Second, Transport: transport},
		MaxNetworkRetries: stripe.Int64(1),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		// stripe-go otherwise JSON-encodes the previous call's timing into a header of every
		// call, for Stripe's own statistics.
		EnableTelemetry: stripe.Bool(false),
	}
	if apiBase != "" {
		cfg.URL = stripe.String(apiBase)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, cfg)
	return &Stripe{api: client.New(key, &stripe.Backends{API: backend, Connect: backend, Uploads: backend})}
}

// Provider is "stripe".
func (s *Stripe) Provider() string { return "stripe" }

// CreateIntent creates a PaymentIntent with the order id in its metadata.
func (s *Stripe) CreateIntent(ctx context.Context, p IntentParams) (Intent, error) {
	params := &stripe.PaymentIntentParams{
		Amount:   stripe.Int64(p.Amount),
		Currency: stripe.String(strings.ToLower(p.Currency)),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{
			Enabled: stripe.Bool(true),
		},
	}
	params.Context = ctx
	params.AddMetadata("order_id", strconv.FormatInt(p.OrderID, 10))
	params.SetIdempotencyKey(p.IdempotencyKey)
	pi, err := s.api.PaymentIntents.New(params)
	if err != nil {
		return Intent{}, s.stripeError(ctx, "create payment intent", err)
	}
	return intentOf(pi), nil
}

// RetrieveIntent reads an intent.
func (s *Stripe) RetrieveIntent(ctx context.Context, id string) (Intent, error) {
	params := &stripe.PaymentIntentParams{}
	params.Context = ctx
	pi, err := s.api.PaymentIntents.Get(id, params)
	if err != nil {
		return Intent{}, s.stripeError(ctx, "retrieve payment intent", err)
	}
	return intentOf(pi), nil
}

// CancelIntent cancels an intent that has not succeeded.
func (s *Stripe) CancelIntent(ctx context.Context, id, idempotencyKey string) (Intent, error) {
	params := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("abandoned")}
	params.Context = ctx
	params.SetIdempotencyKey(idempotencyKey)
	pi, err := s.api.PaymentIntents.Cancel(id, params)
	if err != nil {
		return Intent{}, s.stripeError(ctx, "cancel payment intent", err)
	}
	return intentOf(pi), nil
}

// Refund refunds part or all of an intent's charge.
func (s *Stripe) Refund(ctx context.Context, p RefundParams) (RefundResult, error) {
	params := &stripe.RefundParams{PaymentIntent: stripe.String(p.IntentID), Amount: stripe.Int64(p.Amount)}
	params.Context = ctx
	params.SetIdempotencyKey(p.IdempotencyKey)
	r, err := s.api.Refunds.New(params)
	if err != nil {
		return RefundResult{}, s.stripeError(ctx, "create refund", err)
	}
	return RefundResult{ID: r.ID, Status: string(r.Status)}, nil
}

func intentOf(pi *stripe.PaymentIntent) Intent {
	return Intent{
		ID: pi.ID, ClientSecret: pi.ClientSecret, Status: IntentStatus(pi.Status),
		Amount: pi.Amount, AmountReceived: pi.AmountReceived, Currency: strings.ToUpper(string(pi.Currency)),
		NextAction: nextActionOf(pi),
	}
}

// stripeError marks as ErrUnavailable every failure whose outcome is unknown and that is
// worth asking again under the same idempotency key: network errors and timeouts, 429, 5xx,
// and 409 (idempotency_error included: a request under this key is still in progress,
// typically the one that timed out; Stripe may yet carry it out). Only an answer that says the
// request was refused is a refusal: callers release what they reserved for it, and a refund
// asked for again after that gets a new key, so an unknown outcome taken for a refusal could
// refund twice. A 400 idempotency_error is such a refusal: the key was first used with other
// parameters, so this request was not carried out and never will be under it; that is a bug
// of ours, logged at ERROR.
func (s *Stripe) stripeError(ctx context.Context, op string, err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) || se.HTTPStatusCode == 0 || se.HTTPStatusCode == http.StatusTooManyRequests ||
		se.HTTPStatusCode >= 500 || se.HTTPStatusCode == http.StatusConflict {
		return fmt.Errorf("stripe %s: %w: %w", op, ErrUnavailable, err)
	}
	if se.Type == stripe.ErrorTypeIdempotency {
		log := s.Log
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, "stripe refused an idempotency key reused with other parameters", "op", op,
			"status", se.HTTPStatusCode, "request_id", se.RequestID, "err", se.Msg)
	}
	return fmt.Errorf("stripe %s: %w", op, err)
}
