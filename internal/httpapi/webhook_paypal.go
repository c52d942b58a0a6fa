package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
)

// PayPalWebhook is POST /webhooks/paypal: transport only. It reads the raw body (bounded) and
// has PayPal verify the delivery (verify: PayPal's verify-webhook-signature call with the
// configured webhook id, made here, outside any transaction), then hands the body to handle.
// 400 for a delivery PayPal does not vouch for (nothing changes), 503 when PayPal cannot say
// and 500 when handle fails transiently (PayPal retries both), 200 otherwise — duplicates and
// ignored types included.
func PayPalWebhook(verify func(context.Context, http.Header, []byte) (bool, error), handle func(context.Context, []byte) error, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "body too large or unreadable", http.StatusBadRequest)
			return
		}
		ok, err := verify(r.Context(), r.Header, body)
		if err != nil {
			log.WarnContext(r.Context(), "paypal webhook not verified: PayPal did not answer", "err", err)
			http.Error(w, "verification unavailable", http.StatusServiceUnavailable)
			return
		}
		if !ok {
			log.WarnContext(r.Context(), "paypal webhook refused: signature not verified")
			http.Error(w, "invalid signature", http.StatusBadRequest)
			return
		}
		if err := handle(r.Context(), body); err != nil {
			log.ErrorContext(r.Context(), "paypal webhook failed; PayPal will retry", "err", err)
			http.Error(w, "temporary failure", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"received":true}`)
	})
}
