package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

func TestWebhookSignedInFuture(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }

	for _, tc := range []struct {
		name   string
		header string
		want   bool
	}{
		{"no header is not in the future", "", false},
		{"no timestamp is not in the future", "v1=abc", false},
		{"now is not in the future", "t=" + ts(0) + ",v1=abc", false},
		{"the past is not in the future", "t=" + ts(-time.Hour) + ",v1=abc", false},
		{"a little ahead is clock skew", "t=" + ts(4*time.Minute) + ",v1=abc", false},
		{"exactly the allowed skew is accepted", "t=" + ts(maxFutureSkew) + ",v1=abc", false},
		{"one second beyond the allowed skew is refused", "t=" + ts(maxFutureSkew+time.Second) + ",v1=abc", true},
		{"far in the future is refused", "t=" + ts(24*time.Hour) + ",v1=abc", true},
		{"the timestamp may come after the signatures", "v1=abc,v0=def,t=" + ts(time.Hour), true},
		{"spaces around parts are ignored", "v1=abc , t=" + ts(time.Hour), true},
		{"a malformed timestamp is left to ConstructEvent", "t=soon,v1=abc", false},
		{"a key that merely starts with t is not the timestamp", "tt=" + ts(time.Hour) + ",v1=abc", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, signedInFuture(tc.header, now), "header %q", tc.header)
		})
	}
}

const testWebhookSecret = "whsec_webhook_unit_test"

// eventJSON is a minimal Stripe event of the given API version.
func eventJSON(id, apiVersion string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"object":"event","api_version":%q,"created":%d,"type":"payment_intent.succeeded",`+
		`"livemode":false,"pending_webhooks":1,"data":{"object":{"id":"pi_unit","object":"payment_intent","amount":1000,"currency":"usd","status":"succeeded"}}}`,
		id, apiVersion, time.Now().Unix()))
}

func signAt(body []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}

// stubHandle records the events it is given and answers err.
type stubHandle struct {
	mu     sync.Mutex
	events []stripe.Event
	err    error
}

func (s *stubHandle) handle(_ context.Context, e stripe.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	return s.err
}

func (s *stubHandle) seen() []stripe.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]stripe.Event(nil), s.events...)
}

func TestStripeWebhookHandler(t *testing.T) {
	t.Parallel()

	type setup struct {
		body   []byte
		header string // the Stripe-Signature header; "-" sends none
	}
	valid := func() setup {
		b := eventJSON("evt_valid", stripe.APIVersion)
		return setup{body: b, header: signAt(b, testWebhookSecret, time.Now())}
	}

	for _, tc := range []struct {
		name       string
		req        func() setup
		handleErr  error
		wantStatus int
		wantHandle bool
	}{
		{"a correctly signed event is handled and acknowledged", valid, nil, http.StatusOK, true},
		{"a transient failure answers 500 so that Stripe retries", valid, errors.New("db down"), http.StatusInternalServerError, true},
		{"a missing signature is refused", func() setup { s := valid(); s.header = "-"; return s }, nil, http.StatusBadRequest, false},
		{"a garbled signature is refused", func() setup {
			s := valid()
			s.header = strings.Replace(s.header, "v1=", "v1=00", 1)
			return s
		}, nil, http.StatusBadRequest, false},
		{"a body changed after signing is refused", func() setup {
			s := valid()
			s.body = bytes.Replace(s.body, []byte(`"amount":1000`), []byte(`"amount":1`), 1)
			return s
		}, nil, http.StatusBadRequest, false},
		{"a signature made with another secret is refused", func() setup {
			b := eventJSON("evt_other_secret", stripe.APIVersion)
			return setup{body: b, header: signAt(b, "whsec_someone_else", time.Now())}
		}, nil, http.StatusBadRequest, false},
		{"a signature older than five minutes is refused", func() setup {
			b := eventJSON("evt_stale", stripe.APIVersion)
			return setup{body: b, header: signAt(b, testWebhookSecret, time.Now().Add(-6*time.Minute))}
		}, nil, http.StatusBadRequest, false},
		{"a signature four minutes old is accepted", func() setup {
			b := eventJSON("evt_recent", stripe.APIVersion)
			return setup{body: b, header: signAt(b, testWebhookSecret, time.Now().Add(-4*time.Minute))}
		}, nil, http.StatusOK, true},
		{"a signature timestamped far in the future is refused", func() setup {
			b := eventJSON("evt_future", stripe.APIVersion)
			return setup{body: b, header: signAt(b, testWebhookSecret, time.Now().Add(time.Hour))}
		}, nil, http.StatusBadRequest, false},
		{"an event of another API version is refused", func() setup {
			b := eventJSON("evt_old_version", "2020-08-27")
			return setup{body: b, header: signAt(b, testWebhookSecret, time.Now())}
		}, nil, http.StatusBadRequest, false},
		{"an oversized body is refused even when correctly signed", func() setup {
			b := eventJSON("evt_big", stripe.APIVersion)
			b = append(b[:len(b)-1], []byte(`,"padding":"`+strings.Repeat("x", maxWebhookBody)+`"}`)...)
			return setup{body: b, header: signAt(b, testWebhookSecret, time.Now())}
		}, nil, http.StatusBadRequest, false},
		{"an empty body is refused", func() setup {
			return setup{body: nil, header: signAt(nil, testWebhookSecret, time.Now())}
		}, nil, http.StatusBadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stub := &stubHandle{err: tc.handleErr}
			logs := &bytes.Buffer{}
			h := StripeWebhook(testWebhookSecret, stub.handle, slog.New(slog.NewTextHandler(&syncWriter{w: logs}, nil)))
			s := tc.req()
			req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(s.body))
			if s.header != "-" {
				req.Header.Set("Stripe-Signature", s.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)

			require.Equal(t, tc.wantStatus, rec.Code, "body: %s", rec.Body.String())
			seen := stub.seen()
			if !tc.wantHandle {
				require.Empty(t, seen, "an unverified event never reaches the handler")
				return
			}
			require.Len(t, seen, 1)
			if tc.wantStatus == http.StatusInternalServerError {
				require.Contains(t, logs.String(), "db down", "the failure is logged")
			}
			var sent struct{ ID string }
			require.NoError(t, json.Unmarshal(s.body, &sent))
			require.Equal(t, sent.ID, seen[0].ID)
			require.Equal(t, stripe.EventType("payment_intent.succeeded"), seen[0].Type)
			require.Equal(t, "pi_unit", seen[0].Data.Object["id"])
			if tc.wantStatus == http.StatusOK {
				require.JSONEq(t, `{"received":true}`, rec.Body.String())
			}
		})
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestStripeWebhookLogsAPIVersionMismatch(t *testing.T) {
	t.Parallel()
	stub := &stubHandle{}
	logs := &bytes.Buffer{}
	h := StripeWebhook(testWebhookSecret, stub.handle, slog.New(slog.NewTextHandler(&syncWriter{w: logs}, nil)))
	body := eventJSON("evt_version", "2020-08-27")
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
	req.Header.Set("Stripe-Signature", signAt(body, testWebhookSecret, time.Now()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Empty(t, stub.seen())
	require.Contains(t, logs.String(), "2020-08-27", "the refused version is logged")
}
