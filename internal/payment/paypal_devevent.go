package payment

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PayPal webhook event types shopgraph handles.
const (
	PayPalOrderApproved    = "CHECKOUT.ORDER.APPROVED"
	PayPalCaptureCompleted = "PAYMENT.CAPTURE.COMPLETED"
	PayPalCaptureDenied    = "PAYMENT.CAPTURE.DENIED"
	PayPalCaptureRefunded  = "PAYMENT.CAPTURE.REFUNDED"
	PayPalCaptureReversed  = "PAYMENT.CAPTURE.REVERSED"
)

// PayPalEventTypes are the event types `shopgraph paypal-event` can send.
var PayPalEventTypes = []string{PayPalOrderApproved, PayPalCaptureCompleted, PayPalCaptureDenied, PayPalCaptureRefunded, PayPalCaptureReversed}

// PayPalEvent is a webhook event as PayPal sends it; Resource is the order, capture or refund.
type PayPalEvent struct {
	ID              string          `json:"id"`
	EventVersion    string          `json:"event_version"`
	CreateTime      string          `json:"create_time"`
	ResourceType    string          `json:"resource_type"`
	ResourceVersion string          `json:"resource_version"`
	EventType       string          `json:"event_type"`
	Summary         string          `json:"summary"`
	Resource        json.RawMessage `json:"resource"`
}

// PayPalEventSpec describes a PayPal event to build for local use and tests.
type PayPalEventSpec struct {
	ID        string // defaults to a random WH- id
	Type      string
	OrderID   string // the PayPal order
	CaptureID string // capture events and refunds; defaults from OrderID
	Amount    int64  // the order's amount (captures) or this refund's amount
	Currency  string
	// RefundedTotal is what has been refunded of the capture to date (refund events).
	RefundedTotal int64
	RefundID      string
}

// BuildPayPalEvent returns the JSON body of a PayPal webhook event with PayPal's documented
// resource shapes: a checkout-order for CHECKOUT.ORDER.APPROVED, a capture (with its order in
// supplementary_data.related_ids) for PAYMENT.CAPTURE.COMPLETED and .DENIED, a refund (linked
// "up" to its capture, with total_refunded_amount) for .REFUNDED and .REVERSED.
func BuildPayPalEvent(spec PayPalEventSpec) ([]byte, error) {
	if spec.ID == "" {
		spec.ID = "WH-" + randomHex(10)
	}
	if spec.CaptureID == "" {
		spec.CaptureID = "CAP-" + spec.OrderID
	}
	amount := PayPalValue(spec.Amount, spec.Currency)
	var (
		resource     any
		resourceType string
	)
	switch spec.Type {
	case PayPalOrderApproved:
		resourceType = "checkout-order"
		resource = PayPalOrder{ID: spec.OrderID, Status: "APPROVED", Intent: "CAPTURE", PurchaseUnits: []PayPalPurchaseUnit{{Amount: amount}}}
	case PayPalCaptureCompleted, PayPalCaptureDenied:
		resourceType = "capture"
		status := "COMPLETED"
		if spec.Type == PayPalCaptureDenied {
			status = "DECLINED"
		}
		c := PayPalCapture{ID: spec.CaptureID, Status: status, Amount: amount, SupplementaryData: &PayPalSupplement{}}
		c.SupplementaryData.RelatedIDs.OrderID = spec.OrderID
		resource = c
	case PayPalCaptureRefunded, PayPalCaptureReversed:
		resourceType = "refund"
		if spec.RefundID == "" {
			spec.RefundID = "REF-" + randomHex(6)
		}
		if spec.RefundedTotal == 0 {
			spec.RefundedTotal = spec.Amount
		}
		r := PayPalRefund{ID: spec.RefundID, Status: "COMPLETED", Amount: amount,
			Links: []PayPalLink{{Rel: "up", Method: "GET", Href: "https://api-m.sandbox.paypal.com/v2/payments/captures/" + spec.CaptureID}}}
		total := PayPalValue(spec.RefundedTotal, spec.Currency)
		r.SellerPayableBreakdown = &struct {
			TotalRefundedAmount *PayPalAmount `json:"total_refunded_amount,omitempty"`
		}{TotalRefundedAmount: &total}
		resource = r
	default:
		resourceType, resource = "unknown", map[string]any{"id": "unknown"}
	}
	raw, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	return json.Marshal(PayPalEvent{ID: spec.ID, EventVersion: "1.0", CreateTime: time.Now().UTC().Format(time.RFC3339),
		ResourceType: resourceType, ResourceVersion: "2.0", EventType: spec.Type, Summary: spec.Type, Resource: raw})
}

// PayPalDevSigningKey signs the webhooks of the local stand-in (paypaltest) and of
// `shopgraph paypal-event`; real PayPal signs with its certificate, which only PayPal's
// verify-webhook-signature call (or the certificate) checks.
const PayPalDevSigningKey = "shopgraph-paypal-standin"

// PayPalStandInAlgo is the auth algorithm the stand-in's signatures name.
const PayPalStandInAlgo = "HMACSHA256"

// PayPalSign signs body as the stand-in does: over PayPal's signed string
// "<transmission id>|<time>|<webhook id>|<crc32 of body>", with key.
func PayPalSign(key, transmissionID, at, webhookID string, body []byte) string {
	msg := transmissionID + "|" + at + "|" + webhookID + "|" + strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// PayPalSignedHeaders are the PAYPAL-* headers of a delivery of body signed with key.
func PayPalSignedHeaders(key, webhookID string, body []byte) http.Header {
	id, at := randomHex(8), time.Now().UTC().Format(time.RFC3339)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("PAYPAL-AUTH-ALGO", PayPalStandInAlgo)
	h.Set("PAYPAL-CERT-URL", "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-standin")
	h.Set("PAYPAL-TRANSMISSION-ID", id)
	h.Set("PAYPAL-TRANSMISSION-TIME", at)
	h.Set("PAYPAL-TRANSMISSION-SIG", PayPalSign(key, id, at, webhookID, body))
	return h
}

// SendPayPalEvent POSTs body, signed for webhookID with key, to url; it returns the status.
func SendPayPalEvent(ctx context.Context, url, key, webhookID string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header = PayPalSignedHeaders(key, webhookID, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("send paypal event: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(answer)), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}
