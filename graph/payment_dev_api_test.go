package graph_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// postDevPayment POSTs the development-only "simulate payment" route as bearer (none when empty).
func postDevPayment(t *testing.T, srv *apitest.Server, bearer, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/dev/payments/succeed", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// TestDevPaymentPaysThroughTheWebhook: in development and tests, the storefront's "Simulate
// payment" button pays its customer's own order by a signed payment_intent.succeeded that the
// Stripe webhook handler applies, as Stripe's own would be; nobody else may pay it that way.
func TestDevPaymentPaysThroughTheWebhook(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	customer, _ := e.Customer(t)
	other, _ := e.Customer(t)
	o := buy(t, customer, e.Variant(t, 1999, 5), 2)
	id := trackDBID(t, o.ID)
	body := `{"orderId":"` + o.ID + `"}`

	require.Equal(t, http.StatusUnauthorized, postDevPayment(t, e.Server, "", body))
	require.Equal(t, http.StatusNotFound, postDevPayment(t, e.Server, other.Bearer, body), "another customer's order is not found")
	require.Equal(t, http.StatusBadRequest, postDevPayment(t, e.Server, customer.Bearer, `{}`))
	require.Equal(t, "PENDING", e.OrderStatus(t, id), "a refused request pays nothing")

	require.Equal(t, http.StatusOK, postDevPayment(t, e.Server, customer.Bearer, body))
	require.Equal(t, "PAID", e.OrderStatus(t, id))
	require.Equal(t, http.StatusOK, postDevPayment(t, e.Server, customer.Bearer, body), "a second event is a duplicate the webhook accepts")
	require.Equal(t, "PAID", e.OrderStatus(t, id))
}

// TestDevPaymentIsAbsentInProduction: the route exists only in development and tests.
func TestDevPaymentIsAbsentInProduction(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 40),
		"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_test_123",
	})
	require.Equal(t, http.StatusNotFound, postDevPayment(t, srv, "", `{"orderId":"x"}`))
}
