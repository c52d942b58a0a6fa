package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// maxWebhookBody bounds a webhook body; Stripe's events are far smaller.
const maxWebhookBody = 256 << 10

// maxFutureSkew is how far in the future a signature's timestamp may be. ConstructEvent only
// refuses old timestamps; one from the future would stay replayable for as long as it is ahead.
const maxFutureSkew = 5 * time.Minute

// StripeWebhook is POST /webhooks/stripe: transport only. It reads the raw body (bounded),
// verifies the Stripe-Signature header with the secret and Stripe's default tolerance, refuses
// events of another API version, and hands the event to handle. 400 for anything unverifiable
// (nothing changes), 500 when handle fails transiently so that Stripe retries, 200 otherwise —
// duplicates and ignored types included.
func StripeWebhook(secret string, handle func(context.Context, stripe.Event) error, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusBadRequest)
			return
		}
		sig := r.Header.Get("Stripe-Signature")
		if signedInFuture(sig, time.Now()) {
			log.WarnContext(r.Context(), "stripe webhook refused: timestamp in the future")
			http.Error(w, "signature timestamp is in the future", http.StatusBadRequest)
			return
		}
		// ConstructEvent also refuses an event whose api_version differs from the one this
		// stripe-go speaks (2023-10-16): its shape could differ from what we decode.
		event, err := webhook.ConstructEvent(body, sig, secret)
		if err != nil {
			log.WarnContext(r.Context(), "stripe webhook refused", "err", err)
			http.Error(w, "invalid signature or payload", http.StatusBadRequest)
			return
		}
		if err := handle(r.Context(), event); err != nil {
			log.ErrorContext(r.Context(), "stripe webhook failed; Stripe will retry", "event_id", event.ID, "type", event.Type, "err", err)
			http.Error(w, "temporary failure", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"received":true}`)
	})
}

// signedInFuture reports whether any t= timestamp of the header is further ahead than
// allowed. Every one is checked: stripe-go uses the last, so checking only the first could be
// bypassed with a harmless t= in front.
func signedInFuture(header string, now time.Time) bool {
	future := false
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k != "t" {
			continue
		}
		ts, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue // malformed: ConstructEvent refuses it
		}
		future = future || time.Unix(ts, 0).After(now.Add(maxFutureSkew))
	}
	return future
}
