// Package payment takes payments for orders through a provider Gateway (Stripe, PayPal): one intent per order created outside any transaction with an idempotency key
// derived from the order, provider events applied exactly once, refunds that can never exceed
// what was paid, and expiry of unpaid orders.
package payment

import (
	"context"
	"errors"
)

// IntentStatus is a provider intent's state, in Stripe's vocabulary.
type IntentStatus string

// Intent statuses.
const (
	IntentRequiresPayment IntentStatus = "requires_payment_method"
	IntentProcessing      IntentStatus = "processing"
	IntentSucceeded       IntentStatus = "succeeded"
	IntentCanceled        IntentStatus = "canceled"
	// IntentRequiresAction: the bank asks the customer to authenticate (3-D Secure) first.
	IntentRequiresAction IntentStatus = "requires_action"
)

// Intent is a provider's payment intent.
type Intent struct {
	ID             string
	ClientSecret   string
	Status         IntentStatus
	Amount         int64
	AmountReceived int64
	Currency       string // ISO 4217, upper case
	// NextAction is what the customer must do first when Status is requires_action.
	NextAction *NextAction
}

// IntentParams creates an intent.
type IntentParams struct {
	OrderID        int64
	Amount         int64
	Currency       string
	IdempotencyKey string
}

// RefundParams creates a refund.
type RefundParams struct {
	IntentID       string
	Amount         int64
	IdempotencyKey string
	// Currency is the payment's (PayPal states it with the amount; Stripe knows it).
	Currency string
	// CaptureID is the capture that took the payment, where the provider refunds a capture
	// (PayPal); empty when unknown or not applicable.
	CaptureID string
}

// RefundResult is a provider's refund.
type RefundResult struct {
	ID     string
	Status string
}

// Gateway is a payment provider. Every call that creates something takes an idempotency key
// derived from our ids, so our own retries never create a second intent or refund.
type Gateway interface {
	Provider() string
	CreateIntent(ctx context.Context, p IntentParams) (Intent, error)
	RetrieveIntent(ctx context.Context, id string) (Intent, error)
	CancelIntent(ctx context.Context, id, idempotencyKey string) (Intent, error)
	Refund(ctx context.Context, p RefundParams) (RefundResult, error)
}

// ErrUnavailable wraps provider failures worth retrying later, under the same idempotency
// key, because their outcome is unknown: network errors, timeouts, rate limits, 5xx answers
// and 409 idempotency conflicts (a request under the same key still in progress).
var ErrUnavailable = errors.New("payment provider unavailable")
