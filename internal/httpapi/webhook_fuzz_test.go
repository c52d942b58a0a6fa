package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/shopgraph/shopgraph/internal/httpapi"
	"github.com/shopgraph/shopgraph/internal/payment"
)

const fuzzSecret = "whsec_fuzz_0123456789"

// How FuzzStripeWebhook builds the Stripe-Signature header from its inputs. Signatures made
// by the fuzz function itself use the current time, so the seeds stay validly signed however
// old the corpus gets, and the fuzzer explores bodies that pass verification.
const (
	sigAsGiven       = iota // the fuzzed header, unchanged
	sigValid                // signed now with the right secret
	sigWrongSecret          // signed now with another secret
	sigFuture               // signed with the right secret 10 minutes ahead
	sigStale                // signed with the right secret 10 minutes ago
	sigValidThenRaw         // valid signature, then the fuzzed header appended
	sigRawThenValid         // the fuzzed header, then a valid signature appended
	sigRawThenFuture        // the fuzzed header, then a future signature appended
	sigOversize             // the body padded past the 256 KiB limit, then signed now
	sigModes
)

// recorder is the webhook's handle: it records the events it is given and never fails, so
// no response may be a 500.
type recorder struct {
	mu     sync.Mutex
	events []stripe.Event
}

func (r *recorder) handle(_ context.Context, e stripe.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	return nil
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// FuzzStripeWebhook sends random bodies and Stripe-Signature headers to the webhook. A
// response is only ever 200 or 400 (the handle never fails), handle runs only for a body
// signed with the secret at an acceptable time (checked here with an HMAC computed
// independently of stripe-go), and a validly signed, well-formed event is never refused.
func FuzzStripeWebhook(f *testing.F) {
	for i, typ := range append([]string{"customer.created"}, payment.EventTypes...) {
		body, err := payment.BuildEvent(payment.EventSpec{
			ID: "evt_fuzz_" + strconv.Itoa(i), Type: typ, IntentID: "pi_fuzz", Amount: 1999, Currency: "USD", AmountRefunded: 1999,
		})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body, "", uint8(sigValid))
		f.Add(body, "", uint8(sigWrongSecret))
		f.Add(body, "v1=00", uint8(sigValidThenRaw))
	}
	old := []byte(`{"id":"evt_1","object":"event","api_version":"2023-10-16","type":"payment_intent.succeeded","data":{"object":{}}}`)
	f.Add(old, payment.SignEvent(old, fuzzSecret, time.Unix(1_700_000_000, 0)), uint8(sigAsGiven))
	f.Add(old, "", uint8(sigFuture))
	f.Add(old, "", uint8(sigStale))
	f.Add([]byte(`{}`), "t=abc,v1=zz", uint8(sigAsGiven))
	f.Add([]byte(``), "", uint8(sigValid))
	f.Add([]byte(`not json`), "", uint8(sigValid))

	f.Fuzz(func(t *testing.T, body []byte, header string, mode uint8) {
		now := time.Now()
		if mode%sigModes == sigOversize {
			// Trailing spaces keep JSON valid: only the size limit may refuse it.
			body = append(body, bytes.Repeat([]byte(" "), 256<<10)...)
		}
		header = buildHeader(body, header, mode%sigModes, now)

		rec := &recorder{}
		h := httpapi.StripeWebhook(fuzzSecret, rec.handle, slog.New(slog.DiscardHandler))
		req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)

		switch w.Code {
		case http.StatusOK, http.StatusBadRequest:
		default:
			t.Fatalf("status %d for header %q", w.Code, header)
		}
		if (w.Code == http.StatusOK) != (rec.calls() == 1) {
			t.Fatalf("status %d with %d handle calls", w.Code, rec.calls())
		}
		if rec.calls() > 0 && mode%sigModes == sigOversize {
			t.Fatalf("handle ran for a %d-byte body, over the limit", len(body))
		}
		if rec.calls() > 0 && !signedAcceptably(body, header, now) {
			t.Fatalf("handle ran for a body not validly signed: header %q", header)
		}
		if (mode%sigModes == sigValid || mode%sigModes == sigOversize) && w.Code != http.StatusOK && wellFormedEvent(body) {
			t.Fatalf("a validly signed, well-formed event was refused: %s", w.Body.String())
		}
	})
}

func buildHeader(body []byte, raw string, mode uint8, now time.Time) string {
	valid := func() string { return payment.SignEvent(body, fuzzSecret, now) }
	switch mode {
	case sigValid, sigOversize:
		return valid()
	case sigWrongSecret:
		return payment.SignEvent(body, "whsec_wrong", now)
	case sigFuture:
		return payment.SignEvent(body, fuzzSecret, now.Add(10*time.Minute))
	case sigStale:
		return payment.SignEvent(body, fuzzSecret, now.Add(-10*time.Minute))
	case sigValidThenRaw:
		return valid() + "," + raw
	case sigRawThenValid:
		return raw + "," + valid()
	case sigRawThenFuture:
		return raw + "," + payment.SignEvent(body, fuzzSecret, now.Add(10*time.Minute))
	}
	return raw
}

// signedAcceptably reports whether header holds a v1 signature of body, made with the secret,
// for one of its t= timestamps that is neither older than Stripe's 5-minute tolerance nor more
// than 5 minutes ahead (each bound widened by a few seconds for the time the request took).
func signedAcceptably(body []byte, header string, now time.Time) bool {
	var stamps []int64
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if ts, err := strconv.ParseInt(v, 10, 64); err == nil {
				stamps = append(stamps, ts)
			}
		case "v1":
			if sig, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, sig)
			}
		}
	}
	const slack = 5 * time.Second
	for _, ts := range stamps {
		at := time.Unix(ts, 0)
		if at.Before(now.Add(-5*time.Minute-slack)) || at.After(now.Add(5*time.Minute+slack)) {
			continue
		}
		mac := hmac.New(sha256.New, []byte(fuzzSecret))
		mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
		mac.Write(body)
		want := mac.Sum(nil)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				return true
			}
		}
	}
	return false
}

// wellFormedEvent reports whether body is an event that the webhook must accept once its
// signature is valid: within the size limit, decodable, and of the API version stripe-go
// speaks.
func wellFormedEvent(body []byte) bool {
	if len(body) > 256<<10 {
		return false
	}
	var e stripe.Event
	if err := json.Unmarshal(body, &e); err != nil {
		return false
	}
	return e.APIVersion == stripe.APIVersion
}
