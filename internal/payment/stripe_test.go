package payment_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"

	"github.com/shopgraph/shopgraph/internal/payment"
)

// stripeMockURL is the stripe-mock that `make test` starts (TEST_STRIPE_URL), by default the one
// on its standard port. stripe-mock validates every request against Stripe's OpenAPI
// description and answers 4xx for anything Stripe would refuse.
func stripeMockURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_STRIPE_URL")
	if u == "" {
		u = "http://127.0.0.1:12111"
	}
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", parsed.Host, 2*time.Second)
	require.NoError(t, err, "stripe-mock is not running at %s (scripts/services.sh stripe-mock-url starts it)", u)
	_ = conn.Close()
	return u
}

// stripeRequest is one request the gateway sent, as the recording proxy saw it.
type stripeRequest struct {
	method, path   string
	form           url.Values
	idempotencyKey string
	stripeVersion  string
	authorization  string
	status         int
}

// recordingProxy forwards to stripe-mock and records what went through, so a test sees both
// that stripe-mock accepted a request and what exactly the gateway sent.
type recordingProxy struct {
	*httptest.Server
	mu       sync.Mutex
	requests []stripeRequest
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &recordingProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.requests[len(p.requests)-1].status = resp.StatusCode
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if r.Method == http.MethodGet {
			form = r.URL.Query()
		}
		p.mu.Lock()
		p.requests = append(p.requests, stripeRequest{
			method: r.Method, path: r.URL.Path, form: form,
			idempotencyKey: r.Header.Get("Idempotency-Key"), stripeVersion: r.Header.Get("Stripe-Version"),
			authorization: r.Header.Get("Authorization"),
		})
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// last returns the last recorded request.
func (p *recordingProxy) last(t *testing.T) stripeRequest {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.NotEmpty(t, p.requests, "the gateway sent nothing")
	return p.requests[len(p.requests)-1]
}

// TestStripeGatewayReusesConnections: concurrent calls keep their connections open for the
// next ones instead of opening (and, against Stripe, TLS-handshaking) new ones each time.
func TestStripeGatewayReusesConnections(t *testing.T) {
	t.Parallel()
	target, err := url.Parse(stripeMockURL(t))
	require.NoError(t, err)
	var opened atomic.Int64
	proxy := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	proxy.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	proxy.Start()
	t.Cleanup(proxy.Close)
	gw := payment.NewStripe("sk_test_shopgraph", proxy.URL)

	const concurrent, rounds = 16, 5
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, concurrent)
		for i := range concurrent {
			id := int64(round*concurrent + i + 1)
			wg.Go(func() {
				_, err := gw.CreateIntent(context.Background(), payment.IntentParams{OrderID: id, Amount: 100, Currency: "USD",
					IdempotencyKey: "shopgraph-order-" + strconv.FormatInt(id, 10) + "-intent"})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	require.LessOrEqual(t, opened.Load(), int64(concurrent), "%d calls, %d at a time, opened %d connections", concurrent*rounds, concurrent, opened.Load())
}

func TestStripeGatewayAgainstStripeMock(t *testing.T) {
	t.Parallel()
	mock := stripeMockURL(t)
	proxy := newRecordingProxy(t, mock)
	gw := payment.NewStripe("sk_test_shopgraph", proxy.URL)
	ctx := context.Background()

	require.Equal(t, "stripe", gw.Provider())

	t.Run("CreateIntent sends the amount, currency, order metadata and our idempotency key", func(t *testing.T) {
		in, err := gw.CreateIntent(ctx, payment.IntentParams{OrderID: 42, Amount: 2599, Currency: "USD", IdempotencyKey: "shopgraph-order-42-intent"})
		require.NoError(t, err)
		req := proxy.last(t)
		require.Equal(t, http.StatusOK, req.status, "stripe-mock accepted the request")
		require.Equal(t, http.MethodPost, req.method)
		require.Equal(t, "/v1/payment_intents", req.path)
		require.Equal(t, "2599", req.form.Get("amount"))
		require.Equal(t, "usd", req.form.Get("currency"), "Stripe wants lower-case currencies")
		require.Equal(t, "42", req.form.Get("metadata[order_id]"))
		require.Equal(t, "true", req.form.Get("automatic_payment_methods[enabled]"))
		require.Equal(t, "shopgraph-order-42-intent", req.idempotencyKey, "our key, not stripe-go's random one")
		require.Equal(t, stripe.APIVersion, req.stripeVersion)
		require.Equal(t, "2023-10-16", req.stripeVersion, "the API version pinned by stripe-go v76")
		require.Equal(t, "Bearer sk_test_shopgraph", req.authorization, "the gateway's own key, not the global stripe.Key")

		require.Regexp(t, `^pi_`, in.ID)
		require.NotEmpty(t, in.ClientSecret)
		require.Equal(t, int64(2599), in.Amount)
		require.Equal(t, "USD", in.Currency, "currencies come back upper case")
		require.Contains(t, []payment.IntentStatus{
			payment.IntentRequiresPayment, payment.IntentProcessing, payment.IntentSucceeded, payment.IntentCanceled,
			"requires_confirmation", "requires_action", "requires_capture",
		}, in.Status)
	})

	t.Run("RetrieveIntent reads the intent by id", func(t *testing.T) {
		in, err := gw.RetrieveIntent(ctx, "pi_shopgraphretrieve")
		require.NoError(t, err)
		req := proxy.last(t)
		require.Equal(t, http.StatusOK, req.status)
		require.Equal(t, http.MethodGet, req.method)
		require.Equal(t, "/v1/payment_intents/pi_shopgraphretrieve", req.path)
		require.Equal(t, "pi_shopgraphretrieve", in.ID)
		require.NotEmpty(t, in.Currency)
	})

	t.Run("CancelIntent cancels as abandoned with our idempotency key", func(t *testing.T) {
		in, err := gw.CancelIntent(ctx, "pi_shopgraphcancel", "shopgraph-order-42-cancel")
		require.NoError(t, err)
		req := proxy.last(t)
		require.Equal(t, http.StatusOK, req.status)
		require.Equal(t, http.MethodPost, req.method)
		require.Equal(t, "/v1/payment_intents/pi_shopgraphcancel/cancel", req.path)
		require.Equal(t, "abandoned", req.form.Get("cancellation_reason"))
		require.Equal(t, "shopgraph-order-42-cancel", req.idempotencyKey)
		require.Equal(t, "pi_shopgraphcancel", in.ID)
	})

	t.Run("Refund refunds an amount of an intent with our idempotency key", func(t *testing.T) {
		r, err := gw.Refund(ctx, payment.RefundParams{IntentID: "pi_shopgraphrefund", Amount: 700, IdempotencyKey: "shopgraph-order-42-refund-1"})
		require.NoError(t, err)
		req := proxy.last(t)
		require.Equal(t, http.StatusOK, req.status)
		require.Equal(t, http.MethodPost, req.method)
		require.Equal(t, "/v1/refunds", req.path)
		require.Equal(t, "pi_shopgraphrefund", req.form.Get("payment_intent"))
		require.Equal(t, "700", req.form.Get("amount"))
		require.Equal(t, "shopgraph-order-42-refund-1", req.idempotencyKey)
		require.Regexp(t, `^re_`, r.ID)
		require.NotEmpty(t, r.Status)
	})

	t.Run("a key stripe-mock refuses is a 4xx, not ErrUnavailable", func(t *testing.T) {
		bad := payment.NewStripe("sk_live_bad", mock)
		_, err := bad.CreateIntent(ctx, payment.IntentParams{OrderID: 1, Amount: 100, Currency: "USD", IdempotencyKey: "k-bad-key"})
		require.Error(t, err)
		require.NotErrorIs(t, err, payment.ErrUnavailable, "a refused request will not succeed by retrying")
		require.False(t, payment.IsUnavailable(err))
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		require.Equal(t, http.StatusUnauthorized, se.HTTPStatusCode)
	})
}

func TestStripeGatewayErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	params := payment.IntentParams{OrderID: 7, Amount: 100, Currency: "USD", IdempotencyKey: "shopgraph-order-7-intent"}

	t.Run("a closed port is ErrUnavailable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())

		gw := payment.NewStripe("sk_test_shopgraph", "http://"+addr)
		_, err = gw.CreateIntent(ctx, params)
		require.ErrorIs(t, err, payment.ErrUnavailable)
		require.True(t, payment.IsUnavailable(err))
		_, err = gw.RetrieveIntent(ctx, "pi_x")
		require.ErrorIs(t, err, payment.ErrUnavailable)
		_, err = gw.CancelIntent(ctx, "pi_x", "k")
		require.ErrorIs(t, err, payment.ErrUnavailable)
		_, err = gw.Refund(ctx, payment.RefundParams{IntentID: "pi_x", Amount: 1, IdempotencyKey: "k"})
		require.ErrorIs(t, err, payment.ErrUnavailable)
	})

	// A Stripe-shaped error answer of a given status; Stripe-Should-Retry: false keeps
	// stripe-go from retrying, so the test is fast.
	answering := func(t *testing.T, status int) *payment.Stripe {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Stripe-Should-Retry", "false")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","message":"nope"}}`)
		}))
		t.Cleanup(srv.Close)
		return payment.NewStripe("sk_test_shopgraph", srv.URL)
	}

	for _, tc := range []struct {
		name        string
		status      int
		unavailable bool
	}{
		{"a 400 is not ErrUnavailable", http.StatusBadRequest, false},
		{"a 402 card error is not ErrUnavailable", http.StatusPaymentRequired, false},
		{"a 404 is not ErrUnavailable", http.StatusNotFound, false},
		{"a 429 rate limit is ErrUnavailable", http.StatusTooManyRequests, true},
		{"a 500 is ErrUnavailable", http.StatusInternalServerError, true},
		{"a 503 is ErrUnavailable", http.StatusServiceUnavailable, true},
		// Another request under the same key is in progress (the one that timed out): its
		// outcome is unknown, and only the same key may ask again.
		{"a 409 idempotency conflict is ErrUnavailable", http.StatusConflict, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw := answering(t, tc.status)
			_, err := gw.CreateIntent(ctx, params)
			require.Error(t, err)
			require.Equal(t, tc.unavailable, errors.Is(err, payment.ErrUnavailable), "err: %v", err)
			var se *stripe.Error
			require.ErrorAs(t, err, &se, "the stripe error stays inspectable")
			require.Equal(t, tc.status, se.HTTPStatusCode)
		})
	}
}

// TestStripeGatewayIdempotencyError: Stripe answers idempotency_error in two cases. 409: a
// request under this key is still in progress (typically the one that timed out), so the
// money may yet move; it is never taken for a refusal (which would release the refund's
// reserved amount and let a new key refund it again). 400: the key was used before with
// other parameters, so this request was not and will never be carried out under it: a
// permanent failure, and a bug of ours, logged at ERROR.
func TestStripeGatewayIdempotencyError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		status      int
		message     string
		unavailable bool
		logged      bool
	}{
		{"409 in progress: outcome unknown", http.StatusConflict,
			"There is currently another in-progress request using this Idempotent Key. Please try again later.", true, false},
		{"400 other parameters: refused, logged at ERROR", http.StatusBadRequest,
			"Keys for idempotent requests can only be used with the same parameters they were first used with.", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Stripe-Should-Retry", "false")
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"error":{"type":"idempotency_error","message":"`+tc.message+`"}}`)
			}))
			t.Cleanup(srv.Close)
			var logs bytes.Buffer
			gw := payment.NewStripe("sk_test_shopgraph", srv.URL)
			gw.Log = slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))

			_, err := gw.Refund(context.Background(), payment.RefundParams{IntentID: "pi_x", Amount: 1, IdempotencyKey: "shopgraph-order-7-refund-1"})
			require.Error(t, err)
			require.Equal(t, tc.unavailable, errors.Is(err, payment.ErrUnavailable), "err: %v", err)
			var se *stripe.Error
			require.ErrorAs(t, err, &se)
			require.Equal(t, stripe.ErrorTypeIdempotency, se.Type)
			require.Equal(t, tc.status, se.HTTPStatusCode)
			if tc.logged {
				require.Contains(t, logs.String(), `"level":"ERROR"`)
				require.Contains(t, logs.String(), "idempotency key reused")
			} else {
				require.Empty(t, logs.String())
			}
		})
	}
}

// syncWriter serializes writes to w (the gateway may log from its own goroutine).
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
