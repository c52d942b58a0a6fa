package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// postRaw posts body as JSON and decodes the GraphQL response.
func postRaw(t *testing.T, srv *apitest.Server, body []byte, header http.Header) (*http.Response, *apitest.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	out := &apitest.Response{HTTP: resp}
	_ = json.Unmarshal(raw, out)
	return resp, out
}

func TestQueryLimits(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{"QUERY_COMPLEXITY_LIMIT": "2000", "QUERY_DEPTH_LIMIT": "6", "QUERY_ALIAS_LIMIT": "5", "QUERY_FIELD_LIMIT": "40"})
	c := srv.Client(t)

	t.Run("every response reports its cost and the limit", func(t *testing.T) {
		var out struct {
			Extensions map[string]any `json:"extensions"`
		}
		_, r := postRaw(t, srv, []byte(`{"query":"{ products(first: 10) { nodes { name } } }"}`), nil)
		require.Empty(t, r.Errors)
		body, _ := json.Marshal(r)
		_ = json.Unmarshal(body, &out)
		resp := c.Do(`{ products(first: 10) { nodes { name variants { sku } } } }`, nil)
		require.Empty(t, resp.Errors)
		raw := doRaw(t, srv, `{ products(first: 10) { nodes { name variants { sku } } } }`)
		require.Contains(t, raw, `"cost":{"limit":2000,"requested":`)
		require.Contains(t, raw, `"sqlStatements":`, "development reports the statement count")
	})

	t.Run("a connection's page size multiplies its cost; over the limit is QUERY_TOO_COMPLEX before any resolver", func(t *testing.T) {
		before := srv.Statements.Total()
		resp := c.Do(`{ products(first: 100) { nodes { name variants { sku price { amount currency } } category { name } } } }`, nil)
		require.Equal(t, "QUERY_TOO_COMPLEX", resp.Code())
		cost := resp.Errors[0].Extensions["cost"].(map[string]any)
		require.Greater(t, cost["requested"].(float64), 2000.0)
		require.EqualValues(t, 2000, cost["limit"])
		require.Equal(t, before, srv.Statements.Total(), "no resolver ran")
		require.Empty(t, c.Do(`{ products(first: 5) { nodes { name variants { sku } } } }`, nil).Errors)
	})

	t.Run("depth is counted through fragments", func(t *testing.T) {
		resp := c.Do(`{ products(first: 1) { ...P } } fragment P on ProductConnection { nodes { category { parent { parent { parent { name } } } } } }`, nil)
		require.Equal(t, "QUERY_TOO_DEEP", resp.Code())
	})

	t.Run("aliases and fields are limited", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 6 {
			b.WriteString(" a" + string(rune('a'+i)) + ": categories { name }")
		}
		b.WriteString(" }")
		require.Equal(t, "TOO_MANY_ALIASES", c.Do(b.String(), nil).Code())
		fields := "{ products(first: 1) { nodes { " + strings.Repeat("name slug description ", 15) + "} } }"
		require.Equal(t, "TOO_MANY_FIELDS", c.Do(fields, nil).Code())
	})

	t.Run("the parser's token limit refuses huge documents", func(t *testing.T) {
		q := "{ " + strings.Repeat("__typename ", 20000) + "}"
		resp := c.Do(q, nil)
		require.NotEmpty(t, resp.Errors)
	})

	t.Run("batched requests are refused: one operation per request", func(t *testing.T) {
		resp, _ := postRaw(t, srv, []byte(`[{"query":"{ __typename }"},{"query":"{ __typename }"}]`), nil)
		require.GreaterOrEqual(t, resp.StatusCode, 400)
	})

	t.Run("bodies over the limit are refused with 413 before they are read", func(t *testing.T) {
		big := `{"query":"{ __typename }","variables":{"x":"` + strings.Repeat("x", 1<<20+10) + `"}}`
		resp, r := postRaw(t, srv, []byte(big), nil)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		require.Equal(t, "REQUEST_TOO_LARGE", r.Code())
	})
}

// doRaw posts a query and returns the raw body.
func doRaw(t *testing.T, srv *apitest.Server, query string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer x") // not cacheable: runs every time
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{"REQUEST_TIMEOUT": "1ns"})
	resp := srv.Client(t).Do(`{ categories { name } }`, nil)
	require.Equal(t, "TIMEOUT", resp.Code())
}

func TestProductionHidesSchema(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 40),
		"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_test_123",
	})
	c := srv.Client(t)
	resp := c.Do(`{ __schema { types { name } } }`, nil)
	require.NotEmpty(t, resp.Errors, "introspection is off")
	resp = c.Do(`{ prodcts(first: 1) { nodes { name } } }`, nil)
	require.NotEmpty(t, resp.Errors)
	require.NotContains(t, resp.Errors[0].Message, "Did you mean", "no suggestions in production")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	page, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	page.Body.Close()
	require.NotEqual(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"), "no GraphiQL in production")

	dev := apitest.NewServer(t, nil)
	require.Empty(t, dev.Client(t).Do(`{ __schema { types { name } } }`, nil).Errors)
	resp = dev.Client(t).Do(`{ prodcts(first: 1) { nodes { name } } }`, nil)
	require.Contains(t, resp.Errors[0].Message, "Did you mean")
}

func TestPersistedQueriesAndCacheControl(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	q := `{ categories { name } }`
	sum := sha256.Sum256([]byte(q))
	hash := hex.EncodeToString(sum[:])
	ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`

	t.Run("a hash alone is unknown at first, then works once registered", func(t *testing.T) {
		_, r := postRaw(t, srv, []byte(`{"extensions":`+ext+`}`), http.Header{"Authorization": {"Bearer nope"}})
		require.NotEmpty(t, r.Errors)
		require.Equal(t, "PersistedQueryNotFound", r.Errors[0].Message)
		_, r = postRaw(t, srv, []byte(`{"query":"`+q+`","extensions":`+ext+`}`), http.Header{"Authorization": {"Bearer nope"}})
		require.Empty(t, r.Errors)
		_, r = postRaw(t, srv, []byte(`{"extensions":`+ext+`}`), http.Header{"Authorization": {"Bearer nope"}})
		require.Empty(t, r.Errors)
		require.Contains(t, string(r.Data), "categories")
	})

	t.Run("anonymous catalog GETs are public for CDNs; anything user-dependent is no-store", func(t *testing.T) {
		get := func(query string, header http.Header) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql?query="+url.QueryEscape(query), nil)
			req.Header.Set("Accept", "application/json")
			for k, v := range header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp
		}
		require.Contains(t, get(`{ products(first: 2) { nodes { name } } }`, nil).Header.Get("Cache-Control"), "public")
		require.Equal(t, "no-store", get(`{ me { id } }`, nil).Header.Get("Cache-Control"))
		require.Equal(t, "no-store", get(`{ products(first: 2) { nodes { name } } }`, http.Header{"Authorization": {"Bearer x"}}).Header.Get("Cache-Control"))
	})
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, redisURL string) {
		srv := apitest.NewServer(t, map[string]string{"REDIS_URL": redisURL, "RATE_LIMIT_PER_IP": "5", "REGISTER_PER_IP_PER_HOUR": "2"})
		t.Run("per IP: 429 with Retry-After and RATE_LIMITED", func(t *testing.T) {
			c := srv.Client(t)
			var last *apitest.Response
			for range 6 {
				last = c.Post("application/json", []byte(`{"query":"{ __typename }"}`))
			}
			require.Equal(t, http.StatusTooManyRequests, last.HTTP.StatusCode)
			require.Equal(t, "RATE_LIMITED", last.Code())
			require.NotEmpty(t, last.HTTP.Header.Get("Retry-After"))
			require.Positive(t, last.Errors[0].Extensions["retryAfterSeconds"])
		})
	}
	t.Run("in process", func(t *testing.T) { run(t, "") })
	t.Run("in Redis", func(t *testing.T) {
		if apitest.RedisURL(t) == "" {
			t.Skip("no TEST_REDIS_URL")
		}
		run(t, apitest.RedisURL(t))
	})

	t.Run("registration has a stricter budget per IP", func(t *testing.T) {
		srv := apitest.NewServer(t, map[string]string{"REGISTER_PER_IP_PER_HOUR": "2"})
		for range 2 {
			require.Empty(t, srv.Client(t).Register(apitest.UniqueEmail(), "password-123").UserErrors)
		}
		resp := srv.Client(t).Do(apitest.RegisterMutation, map[string]any{"input": map[string]any{"email": apitest.UniqueEmail(), "password": "password-123"}})
		require.Equal(t, "RATE_LIMITED", resp.Code())
	})
}

func TestRateLimitsPerUserAndCheckout(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{"RATE_LIMIT_PER_USER": "4", "RATE_LIMIT_PER_IP": "1000", "CHECKOUT_PER_USER": "1"})
	e := &apitest.Env{Server: srv}

	t.Run("a signed-in user has its own budget", func(t *testing.T) {
		c, _ := e.Customer(t)
		var last *apitest.Response
		for range 5 {
			last = c.Post("application/json", []byte(`{"query":"{ me { id } }"}`))
		}
		require.Equal(t, http.StatusTooManyRequests, last.HTTP.StatusCode)
		require.Equal(t, "RATE_LIMITED", last.Code())
		other, _ := e.Customer(t)
		require.Empty(t, other.Do(`{ me { id } }`, nil).Errors, "another user is not limited")
	})

	t.Run("checkout has a stricter budget per user", func(t *testing.T) {
		c, _ := e.Customer(t)
		first := c.Do(`mutation C($input: CheckoutInput!) { checkout(input: $input) { userErrors { code } } }`,
			map[string]any{"input": checkoutInput("budget-1", apitest.Address())})
		require.Empty(t, first.Errors, "the first attempt runs (and finds an empty cart)")
		second := c.Do(`mutation C($input: CheckoutInput!) { checkout(input: $input) { userErrors { code } } }`,
			map[string]any{"input": checkoutInput("budget-2", apitest.Address())})
		require.Equal(t, "RATE_LIMITED", second.Code())
		require.Positive(t, second.Errors[0].Extensions["retryAfterSeconds"])
	})
}

func TestCORSAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{"CORS_ORIGINS": "https://shop.example.com"})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	ok := preflight("https://shop.example.com")
	require.Equal(t, "https://shop.example.com", ok.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", ok.Header.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	bad := preflight("https://evil.example.com")
	require.Empty(t, bad.Header.Get("Access-Control-Allow-Origin"), "origins outside the allowlist get no CORS grant")

	resp, r := postRaw(t, srv, []byte(`{"query":"{ __typename }"}`), nil)
	require.Empty(t, r.Errors)
	for header, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		require.Equal(t, want, resp.Header.Get(header), header)
	}
	require.NotEmpty(t, resp.Header.Get("X-Request-Id"))
}

func TestProductionCanEnableSchemaTools(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 40), "STRIPE_SECRET_KEY": "sk_test_123",
		"STRIPE_WEBHOOK_SECRET": "whsec_test_123", "INTROSPECTION": "true", "PLAYGROUND": "true",
	})
	require.Empty(t, srv.Client(t).Do(`{ __schema { queryType { name } } }`, nil).Errors)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	page, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	page.Body.Close()
	require.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
}
