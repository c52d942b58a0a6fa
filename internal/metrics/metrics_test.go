package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/metrics"
)

// scrape returns the text exposition of reg's handler.
func scrape(t *testing.T, reg *metrics.Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// requireSeries fails unless the exposition has a sample line starting with series (name and
// labels in Prometheus' sorted order) with the value want.
func requireSeries(t *testing.T, body, series, want string) {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			require.Equal(t, want, rest, "value of %s", series)
			return
		}
	}
	t.Fatalf("series %s not found in:\n%s", series, grepLines(body, strings.SplitN(series, "{", 2)[0]))
}

func grepLines(body, prefix string) string {
	var out []string
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// fakeSchema is a one-field executable schema: product(id) answers null with a NOT_FOUND
// error, as the real resolvers do through the error presenter.
func fakeSchema() graphql.ExecutableSchema {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { product(id: ID!): String }
		type Mutation { checkoutComplete: String }
	`})
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ComplexityFunc: func(ctx context.Context, typeName, fieldName string, childComplexity int, args map[string]any) (int, bool) {
			return 1000, true
		},
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			ran := false
			return func(ctx context.Context) *graphql.Response {
				if ran {
					return nil
				}
				ran = true
				if graphql.GetOperationContext(ctx).Operation.Operation == ast.Mutation {
					return &graphql.Response{Data: json.RawMessage(`{"checkoutComplete":"ok"}`)}
				}
				graphql.AddError(ctx, &gqlerror.Error{
					Message: "product not found", Path: ast.Path{ast.PathName("product")},
					Extensions: map[string]any{"code": "NOT_FOUND"},
				})
				return &graphql.Response{Data: json.RawMessage(`{"product":null}`)}
			}
		},
	}
}

// newGraphQL returns a gqlgen server with reg's extension first, as server.go should add it.
func newGraphQL(reg *metrics.Registry, more ...graphql.HandlerExtension) *handler.Server {
	srv := handler.New(fakeSchema())
	srv.AddTransport(transport.POST{})
	srv.Use(reg.GraphQLMiddleware())
	for _, e := range more {
		srv.Use(e)
	}
	return srv
}

func post(t *testing.T, h http.Handler, body string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.String()
}

func TestGraphQLMiddleware(t *testing.T) {
	t.Parallel()

	t.Run("an error response is counted by operation and extensions.code", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		srv := newGraphQL(reg)
		resp := post(t, srv, `{"query":"query ProductPage { product(id: \"x\") }"}`)
		require.Contains(t, resp, `"NOT_FOUND"`)
		post(t, srv, `{"query":"mutation Checkout { checkoutComplete }"}`)

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="ProductPage",type="query"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_errors_total{code="NOT_FOUND",operation="ProductPage"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_request_duration_seconds_count{operation="ProductPage",type="query"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="Checkout",type="mutation"}`, "1")
		require.NotContains(t, body, `shopgraph_graphql_errors_total{code="NOT_FOUND",operation="Checkout"}`)
	})

	t.Run("requests refused before an operation exists count as invalid", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		srv := newGraphQL(reg)
		post(t, srv, `{"query":"query Broken { product(id: "}`)
		post(t, srv, `{"query":"query Unknown { nope }"}`)

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="invalid",type="invalid"}`, "2")
		requireSeries(t, body, `shopgraph_graphql_errors_total{code="GRAPHQL_PARSE_FAILED",operation="invalid"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED",operation="invalid"}`, "1")
		require.NotContains(t, body, `operation="Unknown"`, "a name from an invalid document must not become a label")
	})

	t.Run("a refusal after validation keeps the operation's name", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		srv := newGraphQL(reg, extension.FixedComplexityLimit(10))
		resp := post(t, srv, `{"query":"query Expensive { product(id: \"x\") }"}`)
		require.Contains(t, resp, "COMPLEXITY_LIMIT_EXCEEDED")

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="Expensive",type="query"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_errors_total{code="COMPLEXITY_LIMIT_EXCEEDED",operation="Expensive"}`, "1")
	})

	t.Run("an inner AroundOperations refusal is counted", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		srv := newGraphQL(reg)
		srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message: "slow down", Extensions: map[string]any{"code": "RATE_LIMITED"},
			}}})
		})
		post(t, srv, `{"query":"{ product(id: \"x\") }"}`)

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="anonymous",type="query"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_errors_total{code="RATE_LIMITED",operation="anonymous"}`, "1")
	})

	t.Run("operation names past the cap are reported as other", func(t *testing.T) {
		reg := metrics.New(metrics.Options{MaxOperationNames: 2})
		srv := newGraphQL(reg)
		for _, name := range []string{"A", "B", "C", "D", "A"} {
			post(t, srv, `{"query":"query `+name+` { product(id: \"x\") }"}`)
		}

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="A",type="query"}`, "2")
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="B",type="query"}`, "1")
		requireSeries(t, body, `shopgraph_graphql_requests_total{operation="other",type="query"}`, "2")
		require.NotContains(t, body, `operation="C"`)
	})
}

func TestInstrument(t *testing.T) {
	t.Parallel()
	reg := metrics.New(metrics.Options{})
	var flushable bool
	h := reg.Instrument("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, flushable = w.(http.Flusher)
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPost, "BREW"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(m, "/graphql?x=1", nil))
	}
	require.True(t, flushable, "SSE needs Flush through the wrapper")

	body := scrape(t, reg)
	requireSeries(t, body, `shopgraph_http_requests_total{code="200",method="get",route="/graphql"}`, "1")
	requireSeries(t, body, `shopgraph_http_requests_total{code="418",method="post",route="/graphql"}`, "2")
	requireSeries(t, body, `shopgraph_http_requests_total{code="200",method="unknown",route="/graphql"}`, "1")
	requireSeries(t, body, `shopgraph_http_request_duration_seconds_count{method="post",route="/graphql"}`, "2")
	requireSeries(t, body, `shopgraph_http_requests_in_flight{route="/graphql"}`, "0")
}

func TestObservers(t *testing.T) {
	t.Parallel()

	t.Run("webhook events by type and outcome", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		var obs metrics.WebhookObserver = reg
		obs.ObserveWebhook("payment_intent.succeeded", "applied")
		obs.ObserveWebhook("payment_intent.succeeded", "duplicate")
		obs.ObserveWebhook("payment_intent.succeeded", "applied")
		obs.ObserveWebhook("bad type\n{", "")

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_webhook_events_total{outcome="applied",type="payment_intent.succeeded"}`, "2")
		requireSeries(t, body, `shopgraph_webhook_events_total{outcome="duplicate",type="payment_intent.succeeded"}`, "1")
		requireSeries(t, body, `shopgraph_webhook_events_total{outcome="unknown",type="other"}`, "1")
	})

	t.Run("orders created", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		var obs metrics.CheckoutObserver = reg
		obs.OrderCreated()
		obs.OrderCreated()
		requireSeries(t, scrape(t, reg), `shopgraph_checkout_orders_created_total`, "2")
	})

	t.Run("a nil registry observes nothing and does not panic", func(t *testing.T) {
		var reg *metrics.Registry
		var w metrics.WebhookObserver = reg
		var c metrics.CheckoutObserver = reg
		w.ObserveWebhook("charge.refunded", "applied")
		c.OrderCreated()
	})
}

type fakeCache struct{ s cache.Stats }

func (f fakeCache) Stats() cache.Stats { return f.s }

type fakeHub struct{ n int64 }

func (f fakeHub) Subscribers() int64 { return f.n }

func TestWatchers(t *testing.T) {
	t.Parallel()

	t.Run("cache counters and live subscriptions", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		reg.WatchCache(fakeCache{cache.Stats{Hits: 7, Misses: 3, Bypasses: 2, Loads: 4, Errors: 1}})
		reg.WatchSubscriptions(fakeHub{n: 5})

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_cache_requests_total{result="hit"}`, "7")
		requireSeries(t, body, `shopgraph_cache_requests_total{result="miss"}`, "3")
		requireSeries(t, body, `shopgraph_cache_requests_total{result="bypass"}`, "2")
		requireSeries(t, body, `shopgraph_cache_loads_total`, "4")
		requireSeries(t, body, `shopgraph_cache_errors_total`, "1")
		requireSeries(t, body, `shopgraph_graphql_active_subscriptions`, "5")
	})

	t.Run("job queue depth is cached between scrapes", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		var (
			mu    sync.Mutex
			calls int
		)
		reg.WatchJobQueue(func(ctx context.Context) (map[string]int64, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			_, hasDeadline := ctx.Deadline()
			require.True(t, hasDeadline, "the count must run with a timeout")
			return map[string]int64{"available": int64(calls), "scheduled": 4}, nil
		}, time.Hour)

		for range 3 {
			body := scrape(t, reg)
			requireSeries(t, body, `shopgraph_jobs_queue_depth{state="available"}`, "1")
			requireSeries(t, body, `shopgraph_jobs_queue_depth{state="scheduled"}`, "4")
			requireSeries(t, body, `shopgraph_jobs_queue_depth_up`, "1")
		}
		mu.Lock()
		require.Equal(t, 1, calls)
		mu.Unlock()
	})

	t.Run("a failed count reports down and no depth", func(t *testing.T) {
		reg := metrics.New(metrics.Options{})
		reg.WatchJobQueue(func(context.Context) (map[string]int64, error) {
			return nil, errors.New("database is down")
		}, time.Millisecond)

		body := scrape(t, reg)
		requireSeries(t, body, `shopgraph_jobs_queue_depth_up`, "0")
		require.NotContains(t, body, "shopgraph_jobs_queue_depth{")
	})
}

func TestAdminServer(t *testing.T) {
	t.Parallel()

	t.Run("non-loopback addresses are refused", func(t *testing.T) {
		for _, addr := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "10.1.2.3:6060", "example.com:6060", "127.0.0.1"} {
			srv, err := metrics.AdminServer(addr, nil)
			require.Error(t, err, addr)
			require.Nil(t, srv, addr)
		}
	})

	t.Run("loopback serves pprof and metrics", func(t *testing.T) {
		for _, addr := range []string{"127.0.0.1:6060", "[::1]:6060", "localhost:6060", "127.0.0.2:0"} {
			_, err := metrics.AdminServer(addr, nil)
			require.NoError(t, err, addr)
		}
		reg := metrics.New(metrics.Options{})
		srv, err := metrics.AdminServer("127.0.0.1:0", reg)
		require.NoError(t, err)
		ts := httptest.NewServer(srv.Handler)
		defer ts.Close()
		for path, want := range map[string]string{
			"/debug/pprof/":                  "goroutine",
			"/debug/pprof/goroutine?debug=1": "goroutine profile",
			"/debug/pprof/cmdline":           "",
			"/metrics":                       "go_goroutines",
			"/debug/pprof/heap?debug=1":      "heap profile",
			"/debug/pprof/symbol":            "num_symbols",
			"/debug/pprof/profile?seconds=1": "",
		} {
			resp, err := http.Get(ts.URL + path)
			require.NoError(t, err, path)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			require.Contains(t, string(b), want, path)
		}
	})
}
