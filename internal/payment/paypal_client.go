package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PayPalClient is a small typed client of the parts of PayPal's REST API that shopgraph uses:
// the OAuth2 client-credentials token (cached until shortly before it expires), Orders v2
// (create with intent CAPTURE, get, capture), refunds of a capture and the
// verify-webhook-signature call. It is our own rather than github.com/plutov/paypal/v4: that
// module is not among the ones this build may take, and the five calls we need fit in this
// file with PayPal's documented shapes, our idempotency headers and our error classification
// (ErrUnavailable) under our control.
type PayPalClient struct {
	base, clientID, secret string
	http                   *http.Client

	mu      sync.Mutex
	token   string
	expires time.Time
	// now is time.Now; tests move it.
	now func() time.Time
}

// NewPayPalClient returns a client of the API at base (https://api-m.sandbox.paypal.com,
// https://api-m.paypal.com, or the local stand-in).
func NewPayPalClient(base, clientID, secret string) *PayPalClient {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns, transport.MaxIdleConnsPerHost = maxIdleConns, maxIdleConns
	return &PayPalClient{base: strings.TrimRight(base, "/"), clientID: clientID, secret: secret,
		http: &http.Client{Timeout: 20 * time.Second, Transport: transport}, now: time.Now}
}

// SetTimeout bounds each call (tests of time-outs shorten it).
func (c *PayPalClient) SetTimeout(d time.Duration) { c.http.Timeout = d }

// PayPalAmount is PayPal's money: a currency code and a decimal string ("10.00", "1000" in JPY).
type PayPalAmount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

// PayPalLink is a HATEOAS link of a PayPal resource.
type PayPalLink struct {
	Href   string `json:"href"`
	Rel    string `json:"rel"`
	Method string `json:"method,omitempty"`
}

// PayPalCapture is a captured payment.
type PayPalCapture struct {
	ID                string            `json:"id"`
	Status            string            `json:"status"` // COMPLETED, DECLINED, PENDING, REFUNDED, PARTIALLY_REFUNDED, FAILED
	Amount            PayPalAmount      `json:"amount"`
	CustomID          string            `json:"custom_id,omitempty"`
	SupplementaryData *PayPalSupplement `json:"supplementary_data,omitempty"`
}

// PayPalSupplement carries the ids a capture relates to (its order).
type PayPalSupplement struct {
	RelatedIDs struct {
		OrderID string `json:"order_id,omitempty"`
	} `json:"related_ids"`
}

// PayPalPurchaseUnit is one purchase unit of an order (ours have one).
type PayPalPurchaseUnit struct {
	ReferenceID string       `json:"reference_id,omitempty"`
	CustomID    string       `json:"custom_id,omitempty"`
	Amount      PayPalAmount `json:"amount"`
	Payments    *struct {
		Captures []PayPalCapture `json:"captures,omitempty"`
	} `json:"payments,omitempty"`
}

// PayPalOrder is an Orders v2 order.
type PayPalOrder struct {
	ID            string               `json:"id"`
	Status        string               `json:"status"` // CREATED, SAVED, APPROVED, VOIDED, COMPLETED, PAYER_ACTION_REQUIRED
	Intent        string               `json:"intent,omitempty"`
	PurchaseUnits []PayPalPurchaseUnit `json:"purchase_units,omitempty"`
	Links         []PayPalLink         `json:"links,omitempty"`
}

// ApproveURL is where the buyer approves the order (the "approve" or "payer-action" link).
func (o PayPalOrder) ApproveURL() string {
	for _, l := range o.Links {
		if l.Rel == "approve" || l.Rel == "payer-action" {
			return l.Href
		}
	}
	return ""
}

// Capture is the order's first capture, if any.
func (o PayPalOrder) Capture() *PayPalCapture {
	for _, u := range o.PurchaseUnits {
		if u.Payments != nil && len(u.Payments.Captures) > 0 {
			return &u.Payments.Captures[0]
		}
	}
	return nil
}

// PayPalRefund is a refund of a capture. SellerPayableBreakdown.TotalRefundedAmount is what
// has been refunded of the capture to date (cumulative, which makes refund reports commute).
type PayPalRefund struct {
	ID                     string       `json:"id"`
	Status                 string       `json:"status"` // COMPLETED, PENDING, CANCELLED, FAILED
	Amount                 PayPalAmount `json:"amount"`
	Links                  []PayPalLink `json:"links,omitempty"`
	SellerPayableBreakdown *struct {
		TotalRefundedAmount *PayPalAmount `json:"total_refunded_amount,omitempty"`
	} `json:"seller_payable_breakdown,omitempty"`
}

// CaptureID is the id of the refunded capture, from the refund's "up" link.
func (r PayPalRefund) CaptureID() string {
	for _, l := range r.Links {
		if l.Rel == "up" {
			if i := strings.LastIndex(l.Href, "/captures/"); i >= 0 {
				return l.Href[i+len("/captures/"):]
			}
		}
	}
	return ""
}

// PayPalOrderParams creates an order.
type PayPalOrderParams struct {
	RequestID   string
	ReferenceID string // our order id
	Amount      PayPalAmount
	ReturnURL   string
	CancelURL   string
}

// PayPalAPIError is an answer of PayPal's other than 2xx.
type PayPalAPIError struct {
	Status  int
	Name    string `json:"name"`
	Message string `json:"message"`
	DebugID string `json:"debug_id"`
	Details []struct {
		Issue       string `json:"issue"`
		Description string `json:"description"`
	} `json:"details"`
}

func (e *PayPalAPIError) Error() string {
	issue := ""
	if len(e.Details) > 0 {
		issue = " " + e.Details[0].Issue
	}
	return fmt.Sprintf("paypal %d %s%s: %s", e.Status, e.Name, issue, e.Message)
}

// Issue is the first detail's issue (e.g. ORDER_ALREADY_CAPTURED), or the error's name.
func (e *PayPalAPIError) Issue() string {
	if len(e.Details) > 0 {
		return e.Details[0].Issue
	}
	return e.Name
}

// PayPalIssue is err's PayPal issue, or "" when err is not PayPal's answer.
func PayPalIssue(err error) string {
	var pe *PayPalAPIError
	if errors.As(err, &pe) {
		return pe.Issue()
	}
	return ""
}

// accessToken returns the cached token, or asks for a new one when it expires within a minute.
func (c *PayPalClient) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires.Add(-time.Minute)) {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.clientID, c.secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.send(req, &tok); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	c.token, c.expires = tok.AccessToken, c.now().Add(time.Duration(tok.ExpiresIn)*time.Second)
	return c.token, nil
}

// do calls the API with the bearer token; requestID, when set, is PayPal-Request-Id: PayPal
// answers a repeated request under the same id with the first one's result.
func (c *PayPalClient) do(ctx context.Context, method, path, requestID string, body, out any) error {
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if requestID != "" {
		req.Header.Set("PayPal-Request-Id", requestID)
		req.Header.Set("Prefer", "return=representation")
	}
	err = c.send(req, out)
	var pe *PayPalAPIError
	if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
		// The token was revoked or expired early: forget it, so the next call asks again.
		c.mu.Lock()
		c.token = ""
		c.mu.Unlock()
	}
	return err
}

// send performs req and decodes a 2xx answer into out. Failures whose outcome is unknown
// (network, time-out, 429, 5xx, 401 for a stale token, 409 for a request id still in progress)
// are ErrUnavailable: asking again under the same request id is safe.
func (c *PayPalClient) send(req *http.Request, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w: read answer: %w", ErrUnavailable, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil || len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("decode paypal answer: %w", err)
		}
		return nil
	}
	pe := &PayPalAPIError{Status: resp.StatusCode}
	_ = json.Unmarshal(body, pe)
	if pe.Name == "" {
		// The token endpoint answers OAuth-style errors.
		var oe struct {
			ErrorDescription string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		pe.Name, pe.Message = http.StatusText(resp.StatusCode), oe.ErrorDescription
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests, s >= 500, s == http.StatusConflict, s == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrUnavailable, pe)
	}
	return pe
}

// CreateOrder creates an order with intent CAPTURE.
func (c *PayPalClient) CreateOrder(ctx context.Context, p PayPalOrderParams) (PayPalOrder, error) {
	body := map[string]any{
		"intent": "CAPTURE",
		"purchase_units": []map[string]any{{
			"reference_id": p.ReferenceID, "custom_id": p.ReferenceID, "amount": p.Amount,
		}},
	}
	if p.ReturnURL != "" {
		body["payment_source"] = map[string]any{"paypal": map[string]any{"experience_context": map[string]any{
			"return_url": p.ReturnURL, "cancel_url": p.CancelURL, "user_action": "PAY_NOW",
		}}}
	}
	var o PayPalOrder
	err := c.do(ctx, http.MethodPost, "/v2/checkout/orders", p.RequestID, body, &o)
	return o, err
}

// GetOrder reads an order.
func (c *PayPalClient) GetOrder(ctx context.Context, id string) (PayPalOrder, error) {
	var o PayPalOrder
	err := c.do(ctx, http.MethodGet, "/v2/checkout/orders/"+url.PathEscape(id), "", nil, &o)
	return o, err
}

// CaptureOrder captures an approved order under requestID.
func (c *PayPalClient) CaptureOrder(ctx context.Context, id, requestID string) (PayPalOrder, error) {
	var o PayPalOrder
	err := c.do(ctx, http.MethodPost, "/v2/checkout/orders/"+url.PathEscape(id)+"/capture", requestID, struct{}{}, &o)
	return o, err
}

// RefundCapture refunds amount of a capture under requestID.
func (c *PayPalClient) RefundCapture(ctx context.Context, captureID string, amount PayPalAmount, requestID string) (PayPalRefund, error) {
	var r PayPalRefund
	err := c.do(ctx, http.MethodPost, "/v2/payments/captures/"+url.PathEscape(captureID)+"/refund", requestID,
		map[string]any{"amount": amount}, &r)
	return r, err
}

// PayPalTransmission is a webhook delivery's signature headers.
type PayPalTransmission struct {
	AuthAlgo, CertURL, TransmissionID, TransmissionSig, TransmissionTime string
}

// PayPalTransmissionOf reads the PAYPAL-* headers of a webhook delivery.
func PayPalTransmissionOf(h http.Header) PayPalTransmission {
	return PayPalTransmission{
		AuthAlgo: h.Get("PAYPAL-AUTH-ALGO"), CertURL: h.Get("PAYPAL-CERT-URL"), TransmissionID: h.Get("PAYPAL-TRANSMISSION-ID"),
		TransmissionSig: h.Get("PAYPAL-TRANSMISSION-SIG"), TransmissionTime: h.Get("PAYPAL-TRANSMISSION-TIME"),
	}
}

// VerifyWebhook asks PayPal whether event (the raw body) was sent by PayPal to the webhook
// webhookID with the transmission t. It is a network call: never inside a transaction.
func (c *PayPalClient) VerifyWebhook(ctx context.Context, webhookID string, t PayPalTransmission, event []byte) (bool, error) {
	if !json.Valid(event) {
		return false, nil
	}
	body := map[string]any{
		"auth_algo": t.AuthAlgo, "cert_url": t.CertURL, "transmission_id": t.TransmissionID,
		"transmission_sig": t.TransmissionSig, "transmission_time": t.TransmissionTime,
		"webhook_id": webhookID, "webhook_event": json.RawMessage(event),
	}
	var out struct {
		VerificationStatus string `json:"verification_status"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/notifications/verify-webhook-signature", "", body, &out); err != nil {
		return false, err
	}
	return out.VerificationStatus == "SUCCESS", nil
}

// zeroDecimal are the currencies PayPal takes without decimals.
var zeroDecimal = map[string]bool{"HUF": true, "JPY": true, "TWD": true}

// PayPalValue formats minor units as PayPal's decimal string: 1050 USD is "10.50", 1000 JPY is "1000".
func PayPalValue(minor int64, currency string) PayPalAmount {
	cur := strings.ToUpper(currency)
	if zeroDecimal[cur] {
		return PayPalAmount{CurrencyCode: cur, Value: strconv.FormatInt(minor, 10)}
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return PayPalAmount{CurrencyCode: cur, Value: fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)}
}

// PayPalMinor parses PayPal's decimal string back to minor units; it refuses a value with
// more decimals than the currency has.
func PayPalMinor(a PayPalAmount) (int64, error) {
	cur := strings.ToUpper(a.CurrencyCode)
	whole, frac, hasFrac := strings.Cut(a.Value, ".")
	digits := 2
	if zeroDecimal[cur] {
		digits = 0
	}
	if len(frac) > digits || (hasFrac && frac == "") {
		return 0, fmt.Errorf("paypal amount %q %s: too many decimals", a.Value, cur)
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || whole == "" || strings.HasPrefix(whole, "+") {
		return 0, fmt.Errorf("paypal amount %q %s: not a number", a.Value, cur)
	}
	return n, nil
}
