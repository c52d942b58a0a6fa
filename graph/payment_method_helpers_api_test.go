package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// stripeShim stands between the gateway and stripe-mock. Every request goes to stripe-mock,
// which validates it against Stripe's API description and answers from its fixtures; the shim
// records what was sent and rewrites only what stripe-mock, being stateless, cannot know:
//   - which customer a payment method is attached to (the `customer` of a payment method, and
//     which methods a customer's list holds), set by the test as Stripe.js would by confirming
//     a SetupIntent, and forgotten on a detach stripe-mock accepted;
//   - the customer's invoice_settings.default_payment_method, as last set through the API;
//   - a PaymentIntent's outcome for a card the test marks: succeeded, requires_action (with
//     a use_stripe_sdk next action, also on a later retrieve), or declined (Stripe's 402
//     card_error around the intent stripe-mock created);
//   - failNextIntents: PaymentIntent creations answered 500 (an outage), without stripe-mock.
//
// Everything else (ids, client secrets, card details, statuses of unmarked cards) is
// stripe-mock's own answer.
type stripeShim struct {
	*httptest.Server
	mu              sync.Mutex
	requests        []shimRequest
	customers       map[int64]string  // user id → customer created for it
	owner           map[string]string // payment method → customer
	defaults        map[string]string // customer → default payment method
	outcome         map[string]string // payment method → "succeeded" | "requires_action" | "declined"
	intentOutcome   map[string]string // intent → outcome, for retrieves
	failNextIntents int
}

// shimFormKey carries a request's form to the rewrite of its response.
type shimFormKey struct{}

type shimRequest struct {
	method, path, idempotencyKey string
	form                         url.Values
}

func newStripeShim(t *testing.T) *stripeShim {
	t.Helper()
	target, err := url.Parse(apitest.StripeURL())
	require.NoError(t, err)
	s := &stripeShim{customers: map[int64]string{}, owner: map[string]string{}, defaults: map[string]string{},
		outcome: map[string]string{}, intentOutcome: map[string]string{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = s.rewrite
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		s.mu.Lock()
		s.requests = append(s.requests, shimRequest{method: r.Method, path: r.URL.Path, form: form, idempotencyKey: r.Header.Get("Idempotency-Key")})
		fail := r.Method == http.MethodPost && r.URL.Path == "/v1/payment_intents" && s.failNextIntents > 0
		if fail {
			s.failNextIntents--
		}
		s.mu.Unlock()
		if fail {
			http.Error(w, `{"error":{"type":"api_error","message":"shim: outage"}}`, http.StatusInternalServerError)
			return
		}
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), shimFormKey{}, form)))
	}))
	t.Cleanup(s.Close)
	return s
}

var (
	shimPaymentMethodPath = regexp.MustCompile(`^/v1/payment_methods/([^/]+)$`)
	shimDetachPath        = regexp.MustCompile(`^/v1/payment_methods/([^/]+)/detach$`)
	shimCustomerPath      = regexp.MustCompile(`^/v1/customers/([^/]+)$`)
	shimCustomerPMsPath   = regexp.MustCompile(`^/v1/customers/([^/]+)/payment_methods$`)
	shimIntentPath        = regexp.MustCompile(`^/v1/payment_intents/([^/]+)$`)
)

// rewrite is the proxy's ModifyResponse: stripe-mock's answer, with what it cannot know.
func (s *stripeShim) rewrite(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	req := resp.Request
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		return err
	}
	s.mu.Lock()
	sent, _ := req.Context().Value(shimFormKey{}).(url.Values)
	path, post := req.URL.Path, req.Method == http.MethodPost
	status := http.StatusOK
	switch {
	case post && path == "/v1/customers":
		uid, _ := strconv.ParseInt(sent.Get("metadata[user_id]"), 10, 64)
		s.customers[uid] = obj["id"].(string)
	case !post && shimPaymentMethodPath.MatchString(path):
		id := shimPaymentMethodPath.FindStringSubmatch(path)[1]
		obj["id"] = id
		obj["customer"] = nullable(s.owner[id])
	case post && shimDetachPath.MatchString(path):
		id := shimDetachPath.FindStringSubmatch(path)[1]
		if c := s.owner[id]; s.defaults[c] == id {
			delete(s.defaults, c) // Stripe clears a detached default
		}
		delete(s.owner, id)
		obj["id"] = id
	case !post && shimCustomerPMsPath.MatchString(path):
		c := shimCustomerPMsPath.FindStringSubmatch(path)[1]
		fixture := obj["data"].([]any)[0].(map[string]any)
		var ids []string
		for pm, owner := range s.owner {
			if owner == c {
				ids = append(ids, pm)
			}
		}
		slices.Sort(ids)
		data := []any{}
		for _, id := range ids {
			pm := map[string]any{}
			for k, v := range fixture {
				pm[k] = v
			}
			pm["id"], pm["customer"] = id, c
			data = append(data, pm)
		}
		obj["data"] = data
	case shimCustomerPath.MatchString(path):
		c := shimCustomerPath.FindStringSubmatch(path)[1]
		if post {
			if pm := sent.Get("invoice_settings[default_payment_method]"); pm != "" {
				s.defaults[c] = pm
			}
		}
		obj["invoice_settings"].(map[string]any)["default_payment_method"] = nullable(s.defaults[c])
	case post && path == "/v1/payment_intents":
		outcome := s.outcome[sent.Get("payment_method")]
		s.intentOutcome[obj["id"].(string)] = outcome
		status = applyOutcome(obj, outcome)
		if status != http.StatusOK {
			obj = map[string]any{"error": obj}
		}
	case !post && shimIntentPath.MatchString(path):
		applyOutcome(obj, s.intentOutcome[shimIntentPath.FindStringSubmatch(path)[1]])
	}
	s.mu.Unlock()
	out, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	resp.StatusCode, resp.Status = status, strconv.Itoa(status)+" "+http.StatusText(status)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

// applyOutcome turns stripe-mock's intent into the marked outcome; for a decline, obj becomes
// the error (Stripe's card_error carries the intent) and the status 402.
func applyOutcome(obj map[string]any, outcome string) int {
	switch outcome {
	case "succeeded":
		obj["status"], obj["next_action"], obj["amount_received"] = "succeeded", nil, obj["amount"]
	case "requires_action":
		obj["status"] = "requires_action"
		obj["next_action"] = map[string]any{"type": "use_stripe_sdk", "use_stripe_sdk": map[string]any{"type": "three_d_secure_redirect"}}
	case "declined":
		intent := map[string]any{}
		for k, v := range obj {
			intent[k] = v
		}
		intent["status"], intent["next_action"] = "requires_payment_method", nil
		for k := range obj {
			delete(obj, k)
		}
		obj["type"], obj["code"], obj["decline_code"] = "card_error", "card_declined", "insufficient_funds"
		obj["message"] = "Your card has insufficient funds."
		obj["payment_intent"] = intent
		return http.StatusPaymentRequired
	}
	return http.StatusOK
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// attach attaches payment method pm to the customer of user uid, as confirming a SetupIntent in
// Stripe.js does; the user must have a customer (paymentMethodSetupIntentCreate made it).
func (s *stripeShim) attach(t *testing.T, uid int64, pm string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.customers[uid]
	require.True(t, ok, "user %d has no Stripe customer", uid)
	s.owner[pm] = c
}

func (s *stripeShim) customerOf(uid int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.customers[uid]
}

func (s *stripeShim) setOutcome(pm, outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcome[pm] = outcome
}

func (s *stripeShim) failIntents(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNextIntents = n
}

// sent returns the requests so far that match method and path pattern.
func (s *stripeShim) sent(method, pathPattern string) []shimRequest {
	re := regexp.MustCompile("^" + pathPattern + "$")
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []shimRequest
	for _, r := range s.requests {
		if r.method == method && re.MatchString(r.path) {
			out = append(out, r)
		}
	}
	return out
}

func (s *stripeShim) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}
