package payment

import (
	"strconv"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/money"
)

// Status is a payment's state in shopgraph.
type Status string

// Payment statuses.
const (
	RequiresPayment Status = "REQUIRES_PAYMENT"
	Processing      Status = "PROCESSING"
	Succeeded       Status = "SUCCEEDED"
	Failed          Status = "FAILED"
	Canceled        Status = "CANCELED"
	AmountMismatch  Status = "AMOUNT_MISMATCH"
)

// Refund statuses (the refunds.status column): a refund is PENDING from the moment its amount
// is reserved until the provider answers.
const (
	refundPending   = "PENDING"
	refundSucceeded = "SUCCEEDED"
	refundFailed    = "FAILED"
)

// Payment is an order's payment record.
type Payment struct {
	ID             int64
	OrderID        int64
	Provider       string
	IntentID       string
	ClientSecret   string
	Status         Status
	Amount         money.Money
	AmountReceived money.Money
	AmountRefunded money.Money
	LastError      *string
	// CaptureID is the PayPal capture that took the payment; nil for Stripe, or before it.
	CaptureID *string
	UpdatedAt time.Time
	// NextAction is what the customer must do before the provider can charge (3-D Secure),
	// as the provider answered a checkout with a saved method; it is not stored.
	NextAction *NextAction
}

func paymentFromRow(r db.Payment) Payment {
	return Payment{
		ID: r.ID, OrderID: r.OrderID, Provider: r.Provider, IntentID: r.IntentID, ClientSecret: r.ClientSecret,
		Status: Status(r.Status), Amount: money.New(r.Amount, r.Currency), AmountReceived: money.New(r.AmountReceived, r.Currency),
		AmountRefunded: money.New(r.AmountRefunded, r.Currency), LastError: r.LastError, CaptureID: r.CaptureID, UpdatedAt: r.UpdatedAt,
	}
}

// intentKey and friends derive provider idempotency keys from our ids: a retry of ours sends
// the same key, so the provider answers with what it already did instead of doing it again.
func intentKey(orderID int64) string {
	return "shopgraph-order-" + strconv.FormatInt(orderID, 10) + "-intent"
}
func cancelKey(orderID int64) string {
	return "shopgraph-order-" + strconv.FormatInt(orderID, 10) + "-cancel"
}
func refundKey(orderID int64, n int64) string {
	return "shopgraph-order-" + strconv.FormatInt(orderID, 10) + "-refund-" + strconv.FormatInt(n, 10)
}
