package main

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
)

// postRaw posts body as JSON and decodes the GraphQL response.
func postRaw(t *testing.T, srv *testServer, body []byte, header http.Header) (*http.Response, *gqlResponse) {
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
	out := &gqlResponse{HTTP: resp}
	_ = json.Unmarshal(raw, out)
	return resp, out
}

func TestQueryLimits(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, map[string]string{"QUERY_COMPLEXITY_LIMIT": "2000", "QUERY_DEPTH_LIMIT": "6", "QUERY_ALIAS_LIMIT": "5", "QUERY_FIELD_LIMIT": "40"})
	c := srv.client(t)

	t.Run("every response reports its cost and the limit", func(t *testing.T) {
		var out struct {
			Extensions map[string]any `json:"extensions"`
		}
		_, r := postRaw(t, srv, []byte(`{"query":"{ products(first: 10) { nodes { name } } }"}`), nil)
		require.Empty(t, r.Errors)
		body, _ := json.Marshal(r)
		_ = json.Unmarshal(body, &out)
		resp := c.do(`{ products(first: 10) { nodes { name variants { sku } } } }`, nil)
		require.Empty(t, resp.Errors)
		raw := doRaw(t, srv, `{ products(first: 10) { nodes { name variants { sku } } } }`)
		require.Contains(t, raw, `"cost":{"limit":2000,"requested":`)
		require.Contains(t, raw, `"sqlStatements":`, "development reports the statement count")
	})

	t.Run("a connection's page size multiplies its cost; over the limit is QUERY_TOO_COMPLEX before any resolver", func(t *testing.T) {
		before := srv.statements.Total()
		resp := c.do(`{ products(first: 100) { nodes { name variants { sku price { amount currency } } category { name } } } }`, nil)
		require.Equal(t, "QUERY_TOO_COMPLEX", resp.code())
		cost := resp.Errors[0].Extensions["cost"].(map[string]any)
		require.Greater(t, cost["requested"].(float64), 2000.0)
		require.EqualValues(t, 2000, cost["limit"])
		require.Equal(t, before, srv.statements.Total(), "no resolver ran")
		require.Empty(t, c.do(`{ products(first: 5) { nodes { name variants { sku } } } }`, nil).Errors)
	})

	t.Run("depth is counted through fragments", func(t *testing.T) {
		resp := c.do(`{ products(first: 1) { ...P } } fragment P on ProductConnection { nodes { category { parent { parent { parent { name } } } } } }`, nil)
		require.Equal(t, "QUERY_TOO_DEEP", resp.code())
	})

	t.Run("aliases and fields are limited", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := range 6 {
			b.WriteString(" a" + string(rune('a'+i)) + ": categories { name }")
		}
		b.WriteString(" }")
		require.Equal(t, "TOO_MANY_ALIASES", c.do(b.String(), nil).code())
		fields := "{ products(first: 1) { nodes { " + strings.Repeat("name slug description ", 15) + "} } }"
		require.Equal(t, "TOO_MANY_FIELDS", c.do(fields, nil).code())
	})

	t.Run("the parser's token limit refuses huge documents", func(t *testing.T) {
		q := "{ " + strings.Repeat("__typename ", 20000) + "}"
		resp := c.do(q, nil)
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
		require.Equal(t, "REQUEST_TOO_LARGE", r.code())
	})
}

// doRaw posts a query and returns the raw body.
func doRaw(t *testing.T, srv *testServer, query string) string {
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
	srv := newTestServer(t, map[string]string{"REQUEST_TIMEOUT": "1ns"})
	resp := srv.client(t).do(`{ categories { name } }`, nil)
	require.Equal(t, "TIMEOUT", resp.code())
}

func TestProductionHidesSchema(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 40),
		"STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_test_123",
	})
	c := srv.client(t)
	resp := c.do(`{ __schema { types { name } } }`, nil)
	require.NotEmpty(t, resp.Errors, "introspection is off")
	resp = c.do(`{ prodcts(first: 1) { nodes { name } } }`, nil)
	require.NotEmpty(t, resp.Errors)
	require.NotContains(t, resp.Errors[0].Message, "Did you mean", "no suggestions in production")
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	page, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	page.Body.Close()
	require.NotEqual(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"), "no GraphiQL in production")

	dev := newTestServer(t, nil)
	require.Empty(t, dev.client(t).do(`{ __schema { types { name } } }`, nil).Errors)
	resp = dev.client(t).do(`{ prodcts(first: 1) { nodes { name } } }`, nil)
	require.Contains(t, resp.Errors[0].Message, "Did you mean")
}

func TestPersistedQueriesAndCacheControl(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, nil)
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
		srv := newTestServer(t, map[string]string{"REDIS_URL": redisURL, "RATE_LIMIT_PER_IP": "5", "REGISTER_PER_IP_PER_HOUR": "2"})
		t.Run("per IP: 429 with Retry-After and RATE_LIMITED", func(t *testing.T) {
			c := srv.client(t)
			var last *gqlResponse
			for range 6 {
				last = c.post("application/json", []byte(`{"query":"{ __typename }"}`))
			}
			require.Equal(t, http.StatusTooManyRequests, last.HTTP.StatusCode)
			require.Equal(t, "RATE_LIMITED", last.code())
			require.NotEmpty(t, last.HTTP.Header.Get("Retry-After"))
			require.Positive(t, last.Errors[0].Extensions["retryAfterSeconds"])
		})
	}
	t.Run("in process", func(t *testing.T) { run(t, "") })
	t.Run("in Redis", func(t *testing.T) {
		if testRedisURL(t) == "" {
			t.Skip("no TEST_REDIS_URL")
		}
		run(t, testRedisURL(t))
	})

	t.Run("registration has a stricter budget per IP", func(t *testing.T) {
		srv := newTestServer(t, map[string]string{"REGISTER_PER_IP_PER_HOUR": "2"})
		for range 2 {
			require.Empty(t, srv.client(t).register(uniqueEmail(), "password-123").UserErrors)
		}
		resp := srv.client(t).do(registerMutation, map[string]any{"input": map[string]any{"email": uniqueEmail(), "password": "password-123"}})
		require.Equal(t, "RATE_LIMITED", resp.code())
	})
}

func TestRateLimitsPerUserAndCheckout(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, map[string]string{"RATE_LIMIT_PER_USER": "4", "RATE_LIMIT_PER_IP": "1000", "CHECKOUT_PER_USER": "1"})
	e := &shopEnv{srv: srv}

	t.Run("a signed-in user has its own budget", func(t *testing.T) {
		c, _ := e.customer(t)
		var last *gqlResponse
		for range 5 {
			last = c.post("application/json", []byte(`{"query":"{ me { id } }"}`))
		}
		require.Equal(t, http.StatusTooManyRequests, last.HTTP.StatusCode)
		require.Equal(t, "RATE_LIMITED", last.code())
		other, _ := e.customer(t)
		require.Empty(t, other.do(`{ me { id } }`, nil).Errors, "another user is not limited")
	})

	t.Run("checkout has a stricter budget per user", func(t *testing.T) {
		c, _ := e.customer(t)
		first := c.do(`mutation C($input: CheckoutInput!) { checkout(input: $input) { userErrors { code } } }`,
			map[string]any{"input": checkoutInput("budget-1", testAddress())})
		require.Empty(t, first.Errors, "the first attempt runs (and finds an empty cart)")
		second := c.do(`mutation C($input: CheckoutInput!) { checkout(input: $input) { userErrors { code } } }`,
			map[string]any{"input": checkoutInput("budget-2", testAddress())})
		require.Equal(t, "RATE_LIMITED", second.code())
		require.Positive(t, second.Errors[0].Extensions["retryAfterSeconds"])
	})
}

func TestCORSAndSecurityHeaders(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, map[string]string{"CORS_ORIGINS": "https://shop.example.com"})
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
	srv := newTestServer(t, map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 40), "STRIPE_SECRET_KEY": "sk_test_123",
		"STRIPE_WEBHOOK_SECRET": "whsec_test_123", "INTROSPECTION": "true", "PLAYGROUND": "true",
	})
	require.Empty(t, srv.client(t).do(`{ __schema { queryType { name } } }`, nil).Errors)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/graphql", nil)
	req.Header.Set("Accept", "text/html")
	page, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	page.Body.Close()
	require.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
}
