package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// testServer is the real HTTP handler, built by the same constructor as `shopgraph serve`, on
// its own fresh database.
type testServer struct {
	*httptest.Server
	app        *app
	statements *postgres.StatementCounter
	logs       *lockedWriter
}

// testRedisURL is the Redis that `make test` found, or "" when none answers.
func testRedisURL(t *testing.T) string {
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		return ""
	}
	opts, err := redis.ParseURL(u)
	require.NoError(t, err)
	c := redis.NewClient(opts)
	defer c.Close()
	require.NoError(t, c.Ping(context.Background()).Err(), "TEST_REDIS_URL is set but Redis does not answer")
	return u
}

// newTestServer starts a server with env on top of test defaults. Stripe calls go to
// stripe-mock (TEST_STRIPE_URL), which validates every request against Stripe's API.
func newTestServer(t *testing.T, env map[string]string) *testServer {
	t.Helper()
	return newTestServerWithGateway(t, env, nil)
}

// newTestServerWithGateway is newTestServer with a payment gateway of the test's (the
// stateful fake, for behaviour stripe-mock cannot show).
func newTestServerWithGateway(t *testing.T, env map[string]string, gateway payment.Gateway) *testServer {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     pgtest.NewURL(t),
		"REDIS_KEY_PREFIX": "sgtest:" + uuid.NewString() + ":",
		"LOG_LEVEL":        "warn",
		"STRIPE_API_BASE":  testStripeURL(),
		// The race detector and parallel packages make a loaded 2-core machine slow; tests
		// that check the timeout set their own.
		"REQUEST_TIMEOUT": "2m",
		// Dozens of test servers run side by side: keep each pool small so that together they
		// stay under the suite's cap of PostgreSQL connections (README, make test).
		"DB_MAX_CONNS": "4",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	logs := &lockedWriter{w: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	counter := &postgres.StatementCounter{}
	a, err := openApp(context.Background(), cfg, log, appOptions{migrate: true, work: true, tracer: counter, gateway: gateway, pollOnly: true})
	require.NoError(t, err)
	srv := httptest.NewServer(a.handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{Server: srv, app: a, statements: counter, logs: logs}
}

// gqlClient is a GraphQL-over-HTTP client with a cookie jar, like a browser, and optional
// bearer token, like a mobile app.
type gqlClient struct {
	t      *testing.T
	srv    *testServer
	http   *http.Client
	bearer string
	header http.Header
}

func (s *testServer) client(t *testing.T) *gqlClient {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &gqlClient{t: t, srv: s, http: &http.Client{Jar: jar}, header: http.Header{}}
}

// clientFrom is a client whose connections come from ip, a loopback address other than
// 127.0.0.1 (Linux answers on all of 127.0.0.0/8): the server takes the TCP peer as the client
// IP, so this is how a test plays several clients on several addresses.
func (s *testServer) clientFrom(t *testing.T, ip string) *gqlClient {
	c := s.client(t)
	addr := net.ParseIP(ip)
	require.NotNil(t, addr, ip)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr}}
	c.http.Transport = &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(c.http.CloseIdleConnections)
	return c
}

// gqlResponse is a decoded GraphQL response.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions map[string]any `json:"extensions"`
	HTTP       *http.Response `json:"-"`
}

// sqlStatements is the statement count the server reports for this request (development).
func (r *gqlResponse) sqlStatements(t *testing.T) int64 {
	t.Helper()
	return r.extensionCount(t, "sqlStatements")
}

// sqlRoundTrips is the number of round trips to PostgreSQL the server reports for this request
// (development): a pipeline of several statements is one.
func (r *gqlResponse) sqlRoundTrips(t *testing.T) int64 {
	t.Helper()
	return r.extensionCount(t, "sqlRoundTrips")
}

func (r *gqlResponse) extensionCount(t *testing.T, name string) int64 {
	t.Helper()
	n, ok := r.Extensions[name].(float64)
	require.True(t, ok, "no %s extension in %v", name, r.Extensions)
	return int64(n)
}

// code returns the extensions.code of the first error, or "".
func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// decode unmarshals data into out, failing the test on any top-level error.
func (r *gqlResponse) decode(t *testing.T, out any) {
	t.Helper()
	require.Empty(t, r.Errors, "unexpected GraphQL errors")
	require.NoError(t, json.Unmarshal(r.Data, out))
}

func (c *gqlClient) do(query string, vars map[string]any) *gqlResponse {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(c.t, err)
	return c.post("application/json", body)
}

func (c *gqlClient) post(contentType string, body []byte) *gqlResponse {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+"/graphql", bytes.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	out := &gqlResponse{HTTP: resp}
	require.NoError(c.t, json.Unmarshal(raw, out), "body: %s", raw)
	return out
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// String is everything written so far.
func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.w.(*bytes.Buffer); ok {
		return b.String()
	}
	return ""
}

func encodeTestID(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }

// testStripeURL is the stripe-mock that `make test` starts (TEST_STRIPE_URL), by default the
// one on its standard port.
func testStripeURL() string {
	if u := os.Getenv("TEST_STRIPE_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:12111"
}
