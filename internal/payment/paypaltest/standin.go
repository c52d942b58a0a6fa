// Package paypaltest is a stateful stand-in for the parts of PayPal's REST API that shopgraph
// calls (PayPal has no official local mock): the OAuth2 token, Orders v2 create/get/capture,
// refunds of a capture and verify-webhook-signature, with PayPal's documented request and
// response shapes. It validates what we send (credentials, bearer token, PayPal-Request-Id,
// amounts as decimal strings with the currency's decimals), is idempotent on PayPal-Request-Id,
// can inject failures and slow answers, serves an approval page a browser can click
// (/checkoutnow?token=…) and sends signed webhooks to WebhookURL. Tests start it with
// httptest; `make run` starts it as cmd/paypal-standin.
package paypaltest

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/shopgraph/shopgraph/internal/payment"
)

// StandIn is the stand-in's state; its Handler serves the API.
type StandIn struct {
	ClientID, Secret string
	// WebhookID is the webhook whose deliveries the stand-in signs and verifies.
	WebhookID string
	// WebhookURL receives the stand-in's webhooks (CHECKOUT.ORDER.APPROVED on approval,
	// PAYMENT.CAPTURE.COMPLETED/DENIED on capture, PAYMENT.CAPTURE.REFUNDED on refund); empty
	// sends none.
	WebhookURL string
	// BaseURL is the stand-in's own URL, for its links (the approval page).
	BaseURL string
	// TokenTTL is the access tokens' lifetime (expires_in).
	TokenTTL time.Duration
	// DeclineCaptures makes captures DECLINED.
	DeclineCaptures bool
	// Log receives one line per request; nil: none.
	Log *log.Logger

	mu       sync.Mutex
	seq      int
	tokens   map[string]bool
	orders   map[string]*order
	captures map[string]string // capture id → order id
	answers  map[string][]byte // "<op> <PayPal-Request-Id>" → the first answer
	faults   map[string][]fault
	// Calls counts requests per operation (token, create, get, capture, refund, verify),
	// including those answered from a request id.
	Calls map[string]int
	// Sent are the webhook bodies sent, in order.
	Sent [][]byte
}

type fault struct {
	status int
	delay  time.Duration
}

type order struct {
	payment.PayPalOrder
	returnURL, cancelURL string
	refunded             int64
	captured             int64
}

// New returns a stand-in accepting clientID and secret, signing for webhookID.
func New(clientID, secret, webhookID string) *StandIn {
	return &StandIn{ClientID: clientID, Secret: secret, WebhookID: webhookID, TokenTTL: time.Hour,
		tokens: map[string]bool{}, orders: map[string]*order{}, captures: map[string]string{},
		answers: map[string][]byte{}, faults: map[string][]fault{}, Calls: map[string]int{}}
}

// FailNext makes the next call of op (token, create, get, capture, refund, verify) answer
// status without doing anything.
func (s *StandIn) FailNext(op string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], fault{status: status})
}

// SlowNext makes the next call of op do its work, then wait d before answering: a client with
// a shorter time-out never learns the outcome, as when PayPal acted but the answer was lost.
func (s *StandIn) SlowNext(op string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], fault{delay: d})
}

// Count returns how many calls op got.
func (s *StandIn) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Calls[op]
}

// Order returns a copy of order id.
func (s *StandIn) Order(id string) (payment.PayPalOrder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return payment.PayPalOrder{}, false
	}
	return o.PayPalOrder, true
}

// Orders is how many orders exist.
func (s *StandIn) Orders() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orders)
}

// Approve marks order id APPROVED, as the buyer's click does, and sends
// CHECKOUT.ORDER.APPROVED when WebhookURL is set. It returns the webhook's body.
func (s *StandIn) Approve(id string) ([]byte, error) {
	s.mu.Lock()
	o, ok := s.orders[id]
	if !ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("no order %s", id)
	}
	if o.Status == "CREATED" || o.Status == "PAYER_ACTION_REQUIRED" {
		o.Status = "APPROVED"
	}
	amount, _ := payment.PayPalMinor(o.PurchaseUnits[0].Amount)
	s.mu.Unlock()
	body, err := payment.BuildPayPalEvent(payment.PayPalEventSpec{Type: payment.PayPalOrderApproved, OrderID: id,
		Amount: amount, Currency: o.PurchaseUnits[0].Amount.CurrencyCode})
	if err != nil {
		return nil, err
	}
	s.send(body)
	return body, nil
}

// Headers signs body as a PayPal delivery to the stand-in's webhook.
func (s *StandIn) Headers(body []byte) http.Header {
	return payment.PayPalSignedHeaders(payment.PayPalDevSigningKey, s.WebhookID, body)
}

func (s *StandIn) send(body []byte) {
	s.mu.Lock()
	s.Sent = append(s.Sent, body)
	target := s.WebhookURL
	s.mu.Unlock()
	if target == "" {
		return
	}
	go func() {
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header = s.Headers(body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			s.logf("webhook to %s: %v", target, err)
			return
		}
		_ = resp.Body.Close()
		s.logf("webhook to %s: %d", target, resp.StatusCode)
	}()
}

func (s *StandIn) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// Handler serves the API.
func (s *StandIn) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", s.token)
	mux.HandleFunc("POST /v2/checkout/orders", s.authed("create", s.create))
	mux.HandleFunc("GET /v2/checkout/orders/{id}", s.authed("get", s.get))
	mux.HandleFunc("POST /v2/checkout/orders/{id}/capture", s.authed("capture", s.capture))
	mux.HandleFunc("POST /v2/payments/captures/{id}/refund", s.authed("refund", s.refund))
	mux.HandleFunc("POST /v1/notifications/verify-webhook-signature", s.authed("verify", s.verify))
	mux.HandleFunc("GET /checkoutnow", s.approvalPage)
	mux.HandleFunc("POST /checkoutnow", s.approvalClick)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.logf("%s %s", r.Method, r.URL.Path)
		mux.ServeHTTP(w, r)
	})
}

// apiError writes PayPal's error shape.
func apiError(w http.ResponseWriter, status int, name, issue, msg string) {
	body := map[string]any{"name": name, "message": msg, "debug_id": "standin"}
	if issue != "" {
		body["details"] = []map[string]string{{"issue": issue, "description": msg}}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// takeFault pops op's next fault, counting the call.
func (s *StandIn) takeFault(op string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Calls[op]++
	f := s.faults[op]
	if len(f) == 0 {
		return fault{}, false
	}
	s.faults[op] = f[1:]
	return f[0], true
}

func (s *StandIn) token(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.takeFault("token"); ok && f.status != 0 {
		apiError(w, f.status, "INTERNAL_SERVER_ERROR", "", "injected")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || id != s.ClientID || !hmac.Equal([]byte(secret), []byte(s.Secret)) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client Authentication failed"})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"})
		return
	}
	s.mu.Lock()
	s.seq++
	tok := fmt.Sprintf("A21AA-standin-%d", s.seq)
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"scope": "https://uri.paypal.com/services/payments/payment", "access_token": tok,
		"token_type": "Bearer", "app_id": "APP-standin", "expires_in": int(s.TokenTTL.Seconds()), "nonce": tok})
}

// authed checks the bearer token, applies injected faults, and replays the first answer of a
// request id: PayPal answers a repeated PayPal-Request-Id with what it did the first time.
func (s *StandIn) authed(op string, h func(w http.ResponseWriter, r *http.Request, body []byte) (int, any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, faulty := s.takeFault(op)
		if faulty && f.status != 0 {
			apiError(w, f.status, "INTERNAL_SERVER_ERROR", "", "injected failure")
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		valid := ok && s.tokens[tok]
		s.mu.Unlock()
		if !valid {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "Token signature verification failed"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "", "unreadable body")
			return
		}
		if r.Method == http.MethodPost && op != "verify" && !json.Valid(body) {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
			return
		}
		reqID := r.Header.Get("PayPal-Request-Id")
		if (op == "create" || op == "capture" || op == "refund") && reqID == "" {
			// PayPal takes these without one, but every call of ours must carry one.
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "MISSING_REQUEST_ID", "shopgraph always sends PayPal-Request-Id")
			return
		}
		key := op + " " + reqID + " " + r.PathValue("id")
		s.mu.Lock()
		prior, replay := s.answers[key]
		s.mu.Unlock()
		if reqID != "" && replay {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(prior)
			return
		}
		status, out := h(w, r, body)
		b, _ := json.Marshal(out)
		if reqID != "" && status < 300 {
			s.mu.Lock()
			s.answers[key] = b
			s.mu.Unlock()
		}
		if faulty && f.delay > 0 {
			select {
			case <-time.After(f.delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

func problem(status int, name, issue, msg string) (int, any) {
	return status, map[string]any{"name": name, "message": msg, "debug_id": "standin",
		"details": []map[string]string{{"issue": issue, "description": msg}}}
}

var (
	twoDecimals  = regexp.MustCompile(`^(0|[1-9][0-9]{0,9})\.[0-9]{2}$`)
	zeroDecimals = regexp.MustCompile(`^(0|[1-9][0-9]{0,11})$`)
	currencies   = map[string]bool{"USD": true, "EUR": true, "GBP": true, "CAD": true, "AUD": true, "JPY": true, "CHF": true}
)

// validAmount checks an amount as PayPal does: a supported currency, and a decimal string with
// exactly the currency's decimals (two, none for JPY).
func validAmount(a payment.PayPalAmount) (string, bool) {
	if !currencies[a.CurrencyCode] {
		return "CURRENCY_NOT_SUPPORTED", false
	}
	re := twoDecimals
	if a.CurrencyCode == "JPY" {
		re = zeroDecimals
	}
	if !re.MatchString(a.Value) {
		return "DECIMAL_PRECISION", false
	}
	return "", true
}

func (s *StandIn) create(_ http.ResponseWriter, _ *http.Request, body []byte) (int, any) {
	var in struct {
		Intent        string `json:"intent"`
		PurchaseUnits []struct {
			ReferenceID string                `json:"reference_id"`
			CustomID    string                `json:"custom_id"`
			Amount      *payment.PayPalAmount `json:"amount"`
		} `json:"purchase_units"`
		PaymentSource struct {
			PayPal struct {
				ExperienceContext struct {
					ReturnURL string `json:"return_url"`
					CancelURL string `json:"cancel_url"`
				} `json:"experience_context"`
			} `json:"paypal"`
		} `json:"payment_source"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return problem(http.StatusBadRequest, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", err.Error())
	}
	if in.Intent != "CAPTURE" {
		return problem(http.StatusBadRequest, "INVALID_REQUEST", "INVALID_PARAMETER_VALUE", "intent must be CAPTURE")
	}
	if len(in.PurchaseUnits) != 1 || in.PurchaseUnits[0].Amount == nil {
		return problem(http.StatusBadRequest, "INVALID_REQUEST", "MISSING_REQUIRED_PARAMETER", "one purchase unit with an amount")
	}
	a := *in.PurchaseUnits[0].Amount
	if issue, ok := validAmount(a); !ok {
		return problem(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", issue, "amount "+a.Value+" "+a.CurrencyCode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("5O%015d", s.seq)
	o := &order{PayPalOrder: payment.PayPalOrder{ID: id, Status: "CREATED", Intent: "CAPTURE",
		PurchaseUnits: []payment.PayPalPurchaseUnit{{ReferenceID: in.PurchaseUnits[0].ReferenceID, CustomID: in.PurchaseUnits[0].CustomID, Amount: a}},
		Links: []payment.PayPalLink{
			{Href: s.BaseURL + "/v2/checkout/orders/" + id, Rel: "self", Method: "GET"},
			{Href: s.BaseURL + "/checkoutnow?token=" + id, Rel: "approve", Method: "GET"},
			{Href: s.BaseURL + "/v2/checkout/orders/" + id + "/capture", Rel: "capture", Method: "POST"},
		}},
		returnURL: in.PaymentSource.PayPal.ExperienceContext.ReturnURL, cancelURL: in.PaymentSource.PayPal.ExperienceContext.CancelURL}
	s.orders[id] = o
	return http.StatusCreated, o.PayPalOrder
}

func (s *StandIn) get(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[r.PathValue("id")]
	if !ok {
		return problem(http.StatusNotFound, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
	}
	return http.StatusOK, o.PayPalOrder
}

func (s *StandIn) capture(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		return problem(http.StatusNotFound, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
	}
	switch o.Status {
	case "COMPLETED":
		s.mu.Unlock()
		return problem(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "Order already captured.")
	case "APPROVED":
	default:
		s.mu.Unlock()
		return problem(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
	}
	s.seq++
	capID := fmt.Sprintf("3C%015d", s.seq)
	status, event := "COMPLETED", payment.PayPalCaptureCompleted
	if s.DeclineCaptures {
		status, event = "DECLINED", payment.PayPalCaptureDenied
	}
	amount := o.PurchaseUnits[0].Amount
	c := payment.PayPalCapture{ID: capID, Status: status, Amount: amount, SupplementaryData: &payment.PayPalSupplement{}}
	c.SupplementaryData.RelatedIDs.OrderID = o.ID
	o.PurchaseUnits[0].Payments = &struct {
		Captures []payment.PayPalCapture `json:"captures,omitempty"`
	}{Captures: []payment.PayPalCapture{c}}
	o.Status = "COMPLETED"
	minor, _ := payment.PayPalMinor(amount)
	if status == "COMPLETED" {
		o.captured = minor
	}
	s.captures[capID] = o.ID
	out := o.PayPalOrder
	s.mu.Unlock()
	if body, err := payment.BuildPayPalEvent(payment.PayPalEventSpec{Type: event, OrderID: o.ID, CaptureID: capID, Amount: minor, Currency: amount.CurrencyCode}); err == nil {
		s.send(body)
	}
	return http.StatusCreated, out
}

func (s *StandIn) refund(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	var in struct {
		Amount *payment.PayPalAmount `json:"amount"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return problem(http.StatusBadRequest, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", err.Error())
	}
	capID := r.PathValue("id")
	s.mu.Lock()
	o, ok := s.orders[s.captures[capID]]
	if !ok || o.captured == 0 {
		s.mu.Unlock()
		return problem(http.StatusNotFound, "RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist.")
	}
	capAmount := o.PurchaseUnits[0].Amount
	amount := o.captured - o.refunded
	if in.Amount != nil {
		if issue, ok := validAmount(*in.Amount); !ok {
			s.mu.Unlock()
			return problem(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", issue, "amount "+in.Amount.Value)
		}
		if in.Amount.CurrencyCode != capAmount.CurrencyCode {
			s.mu.Unlock()
			return problem(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "REFUND_CURRENCY_MISMATCH", "Refund currency must match the capture's.")
		}
		amount, _ = payment.PayPalMinor(*in.Amount)
	}
	if amount <= 0 || o.refunded+amount > o.captured {
		s.mu.Unlock()
		return problem(http.StatusUnprocessableEntity, "UNPROCESSABLE_ENTITY", "REFUND_AMOUNT_EXCEEDED", "The refund amount must be less than or equal to the capture amount that has not yet been refunded.")
	}
	o.refunded += amount
	total := o.refunded
	s.seq++
	ref := payment.PayPalRefund{ID: fmt.Sprintf("1R%015d", s.seq), Status: "COMPLETED", Amount: payment.PayPalValue(amount, capAmount.CurrencyCode),
		Links: []payment.PayPalLink{{Rel: "up", Method: "GET", Href: s.BaseURL + "/v2/payments/captures/" + capID}}}
	t := payment.PayPalValue(total, capAmount.CurrencyCode)
	ref.SellerPayableBreakdown = &struct {
		TotalRefundedAmount *payment.PayPalAmount `json:"total_refunded_amount,omitempty"`
	}{TotalRefundedAmount: &t}
	orderID := o.ID
	s.mu.Unlock()
	if body, err := payment.BuildPayPalEvent(payment.PayPalEventSpec{Type: payment.PayPalCaptureRefunded, OrderID: orderID, CaptureID: capID,
		RefundID: ref.ID, Amount: amount, RefundedTotal: total, Currency: capAmount.CurrencyCode}); err == nil {
		s.send(body)
	}
	return http.StatusCreated, ref
}

func (s *StandIn) verify(_ http.ResponseWriter, _ *http.Request, body []byte) (int, any) {
	var in struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		WebhookEvent     json.RawMessage `json:"webhook_event"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.WebhookID == "" || len(in.WebhookEvent) == 0 {
		return problem(http.StatusBadRequest, "VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER", "webhook_id and webhook_event are required")
	}
	want := payment.PayPalSign(payment.PayPalDevSigningKey, in.TransmissionID, in.TransmissionTime, in.WebhookID, in.WebhookEvent)
	ok := in.WebhookID == s.WebhookID && in.AuthAlgo == payment.PayPalStandInAlgo &&
		hmac.Equal([]byte(want), []byte(in.TransmissionSig))
	status := "FAILURE"
	if ok {
		status = "SUCCESS"
	}
	return http.StatusOK, map[string]string{"verification_status": status}
}

var approvalPage = template.Must(template.New("approve").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>PayPal stand-in: approve</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 3em auto">
<h1>PayPal (local stand-in)</h1>
<p>Order <code>{{.ID}}</code>: <strong>{{.Value}} {{.Currency}}</strong> ({{.Status}})</p>
<form method="post" action="/checkoutnow?token={{.ID}}"><button type="submit">Pay now</button></form>
</body></html>`))

func (s *StandIn) approvalPage(w http.ResponseWriter, r *http.Request) {
	o, ok := s.Order(r.URL.Query().Get("token"))
	if !ok {
		http.Error(w, "no such order", http.StatusNotFound)
		return
	}
	a := o.PurchaseUnits[0].Amount
	_ = approvalPage.Execute(w, map[string]string{"ID": o.ID, "Value": a.Value, "Currency": a.CurrencyCode, "Status": o.Status})
}

func (s *StandIn) approvalClick(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("token")
	if _, err := s.Approve(id); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	s.mu.Lock()
	ret := s.orders[id].returnURL
	s.mu.Unlock()
	if ret != "" {
		sep := "?"
		if strings.Contains(ret, "?") {
			sep = "&"
		}
		http.Redirect(w, r, ret+sep+"token="+id, http.StatusSeeOther)
		return
	}
	_, _ = io.WriteString(w, "Approved. You can close this page.")
}

// Captures is how many captures the stand-in made (a capture answered again from its request
// id is not another).
func (s *StandIn) Captures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.captures)
}

// Refunded is what has been refunded of order id's capture.
func (s *StandIn) Refunded(id string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[id]; ok {
		return o.refunded
	}
	return 0
}
