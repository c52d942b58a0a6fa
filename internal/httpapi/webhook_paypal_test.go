package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/httpapi"
)

func TestPayPalWebhook(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, c := range []struct {
		name      string
		verdict   bool
		verifyErr error
		handleErr error
		status    int
		handled   bool
	}{
		{"verified and handled", true, nil, nil, http.StatusOK, true},
		{"not verified: 400, nothing handled", false, nil, nil, http.StatusBadRequest, false},
		{"PayPal cannot say: 503, nothing handled", false, errors.New("down"), nil, http.StatusServiceUnavailable, false},
		{"handled with a transient failure: 500", true, nil, errors.New("db"), http.StatusInternalServerError, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			handled := false
			h := httpapi.PayPalWebhook(
				func(context.Context, http.Header, []byte) (bool, error) { return c.verdict, c.verifyErr },
				func(context.Context, []byte) error { handled = true; return c.handleErr }, log)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhooks/paypal", strings.NewReader(`{"id":"WH-1"}`)))
			require.Equal(t, c.status, rec.Code)
			require.Equal(t, c.handled, handled)
		})
	}
}
