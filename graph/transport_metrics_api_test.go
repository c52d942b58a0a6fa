package graph_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// TestMetricsAfterCheckout: a scrape of /metrics after a checkout shows the checkout's series.
func TestMetricsAfterCheckout(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	c, _ := e.Customer(t)
	v := e.Variant(t, 1500, 5)
	mustAdd(t, c, v.GID, 1)
	resp := c.Do(`mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { id } userErrors { code } } }`,
		map[string]any{"input": checkoutInput("metrics-key", apitest.Address())})
	require.Empty(t, resp.Errors)
	c.Do(`query Broken { order(id: "nope") { id } orders(first: 1000) { totalCount } }`, nil)

	scrape, err := http.Get(e.Server.URL + "/metrics")
	require.NoError(t, err)
	defer scrape.Body.Close()
	body, err := io.ReadAll(scrape.Body)
	require.NoError(t, err)
	text := string(body)
	for _, want := range []string{
		`shopgraph_checkout_orders_created_total 1`,
		`shopgraph_graphql_requests_total{operation="Checkout"`,
		`shopgraph_graphql_request_duration_seconds_bucket{operation="Checkout"`,
		`shopgraph_graphql_errors_total{code="BAD_USER_INPUT",operation="Broken"}`,
		`shopgraph_http_requests_total`,
		`shopgraph_graphql_active_subscriptions`,
		`shopgraph_jobs_queue_depth`,
		`shopgraph_db_`,
		`shopgraph_cache_`,
		`shopgraph_cache_near_hits_total`,
	} {
		require.Contains(t, text, want)
	}
}
