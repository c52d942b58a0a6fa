package payment

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// ProviderStripe and ProviderPayPal are the providers' names (payments.provider).
const (
	ProviderStripe = "stripe"
	ProviderPayPal = "paypal"
)

// PayPal is the Gateway backed by PayPal's Orders v2 API. Its intent is a PayPal order
// (intent CAPTURE); the intent's ClientSecret is the order's approval URL, where the buyer
// approves it. PayPal has no cancellation of an order: one never approved expires at PayPal,
// and shopgraph captures only the orders of its PENDING orders.
type PayPal struct {
	Client *PayPalClient
	// WebhookID is the webhook whose deliveries VerifyWebhook accepts (PAYPAL_WEBHOOK_ID).
	WebhookID string
	// ReturnURL and CancelURL are where PayPal sends the buyer after approving or cancelling
	// (the storefront); empty: PayPal's default page.
	ReturnURL, CancelURL string
}

// NewPayPal returns a PayPal gateway.
func NewPayPal(apiBase, clientID, secret, webhookID string) *PayPal {
	return &PayPal{Client: NewPayPalClient(apiBase, clientID, secret), WebhookID: webhookID}
}

// Provider is "paypal".
func (p *PayPal) Provider() string { return ProviderPayPal }

// CreateIntent creates the PayPal order of our order, under PayPal-Request-Id p.IdempotencyKey
// (derived from our order), so that retries return the same PayPal order.
func (p *PayPal) CreateIntent(ctx context.Context, ip IntentParams) (Intent, error) {
	o, err := p.Client.CreateOrder(ctx, PayPalOrderParams{
		RequestID: ip.IdempotencyKey, ReferenceID: fmt.Sprint(ip.OrderID), Amount: PayPalValue(ip.Amount, ip.Currency),
		ReturnURL: p.ReturnURL, CancelURL: p.CancelURL,
	})
	if err != nil {
		return Intent{}, fmt.Errorf("paypal create order: %w", err)
	}
	return p.intentOf(o)
}

// RetrieveIntent reads a PayPal order.
func (p *PayPal) RetrieveIntent(ctx context.Context, id string) (Intent, error) {
	o, err := p.Client.GetOrder(ctx, id)
	if err != nil {
		return Intent{}, fmt.Errorf("paypal get order: %w", err)
	}
	return p.intentOf(o)
}

// CancelIntent does nothing at PayPal, which cannot void an order of intent CAPTURE: an order
// never captured expires there. It reports the intent canceled so that the payment is
// recorded so; shopgraph never captures the order of a cancelled order.
func (p *PayPal) CancelIntent(_ context.Context, id, _ string) (Intent, error) {
	return Intent{ID: id, Status: IntentCanceled}, nil
}

// Refund refunds part of the order's capture under PayPal-Request-Id p.IdempotencyKey. The
// capture is p.CaptureID, or read from the order when it is not known yet.
func (p *PayPal) Refund(ctx context.Context, rp RefundParams) (RefundResult, error) {
	captureID := rp.CaptureID
	if captureID == "" {
		o, err := p.Client.GetOrder(ctx, rp.IntentID)
		if err != nil {
			return RefundResult{}, fmt.Errorf("paypal get order: %w", err)
		}
		c := o.Capture()
		if c == nil {
			return RefundResult{}, fmt.Errorf("paypal order %s has no capture to refund", rp.IntentID)
		}
		captureID = c.ID
	}
	r, err := p.Client.RefundCapture(ctx, captureID, PayPalValue(rp.Amount, rp.Currency), rp.IdempotencyKey)
	if err != nil {
		return RefundResult{}, fmt.Errorf("paypal refund capture: %w", err)
	}
	if r.Status == "FAILED" || r.Status == "CANCELLED" {
		return RefundResult{}, fmt.Errorf("paypal refund %s is %s", r.ID, r.Status)
	}
	return RefundResult{ID: r.ID, Status: strings.ToLower(r.Status)}, nil
}

// Captured is what capturing a PayPal order took.
type Captured struct {
	OrderID   string // the PayPal order
	CaptureID string
	Status    string // COMPLETED, DECLINED, PENDING, FAILED
	Amount    int64
	Currency  string
}

// Capture captures an approved PayPal order under requestID. An order captured already
// (under another request id) answers what its capture took.
func (p *PayPal) Capture(ctx context.Context, orderID, requestID string) (Captured, error) {
	o, err := p.Client.CaptureOrder(ctx, orderID, requestID)
	if PayPalIssue(err) == "ORDER_ALREADY_CAPTURED" {
		o, err = p.Client.GetOrder(ctx, orderID)
	}
	if err != nil {
		return Captured{}, fmt.Errorf("paypal capture order: %w", err)
	}
	c := o.Capture()
	if c == nil {
		return Captured{}, fmt.Errorf("paypal order %s answered %s without a capture", orderID, o.Status)
	}
	return capturedOf(orderID, *c)
}

func capturedOf(orderID string, c PayPalCapture) (Captured, error) {
	amount, err := PayPalMinor(c.Amount)
	if err != nil {
		return Captured{}, err
	}
	return Captured{OrderID: orderID, CaptureID: c.ID, Status: c.Status, Amount: amount, Currency: strings.ToUpper(c.Amount.CurrencyCode)}, nil
}

// VerifyWebhook asks PayPal whether a delivery (its headers and raw body) is genuine, for the
// configured webhook id. A false answer is a forgery; an error means PayPal could not say.
func (p *PayPal) VerifyWebhook(ctx context.Context, h http.Header, body []byte) (bool, error) {
	if p.WebhookID == "" {
		return false, nil
	}
	return p.Client.VerifyWebhook(ctx, p.WebhookID, PayPalTransmissionOf(h), body)
}

func (p *PayPal) intentOf(o PayPalOrder) (Intent, error) {
	in := Intent{ID: o.ID, ClientSecret: o.ApproveURL(), Status: IntentRequiresPayment}
	if len(o.PurchaseUnits) > 0 {
		a := o.PurchaseUnits[0].Amount
		n, err := PayPalMinor(a)
		if err != nil {
			return Intent{}, err
		}
		in.Amount, in.Currency = n, strings.ToUpper(a.CurrencyCode)
	}
	switch o.Status {
	case "APPROVED":
		in.Status = IntentProcessing
	case "COMPLETED":
		in.Status, in.AmountReceived = IntentSucceeded, in.Amount
	case "VOIDED":
		in.Status = IntentCanceled
	}
	return in, nil
}
