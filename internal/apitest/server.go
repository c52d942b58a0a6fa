// This file starts test servers: the real handler on a fresh database, with the settings the
// suite needs to stay small (pool size, polling job queue) and the local services it finds.

package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// Server is the real HTTP handler, built by the same constructor as `shopgraph serve`, on
// its own fresh database.
type Server struct {
	*httptest.Server
	// App is the server's wiring: tests reach its services and pools for fast fixtures and
	// for reading what the database holds.
	App *app.App
	// Statements counts every SQL statement the server runs.
	Statements *postgres.StatementCounter
	// Logs is the server's log, printed when the test fails.
	Logs *LockedWriter
}

// RedisURL is the Redis that `make test` found, or "" when none answers.
func RedisURL(t *testing.T) string {
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

// StripeURL is the stripe-mock that `make test` starts (TEST_STRIPE_URL), by default the
// one on its standard port.
func StripeURL() string {
	if u := os.Getenv("TEST_STRIPE_URL"); u != "" {
		return u
	}
	return "http://127.0.0.1:12111"
}

// NewServer starts a server with env on top of test defaults. Stripe calls go to
// stripe-mock (TEST_STRIPE_URL), which validates every request against Stripe's API.
func NewServer(t *testing.T, env map[string]string) *Server {
	t.Helper()
	return NewServerWithGateway(t, env, nil)
}

// NewServerWithGateway is NewServer with a payment gateway of the test's (the stateful fake,
// for behaviour stripe-mock cannot show).
func NewServerWithGateway(t *testing.T, env map[string]string, gateway payment.Gateway) *Server {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     pgtest.NewURL(t),
		"REDIS_KEY_PREFIX": "sgtest:" + uuid.NewString() + ":",
		"LOG_LEVEL":        "warn",
		"STRIPE_API_BASE":  StripeURL(),
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
	logs := &LockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	counter := &postgres.StatementCounter{}
	a, err := app.Open(context.Background(), cfg, log, app.Options{Migrate: true, Work: true, Tracer: counter, Gateway: gateway, PollOnly: true})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &Server{Server: srv, App: a, Statements: counter, Logs: logs}
}

// LockedWriter is a log destination safe for concurrent writes; its zero value is ready.
type LockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var _ io.Writer = (*LockedWriter)(nil)

// Write appends p to the log.
func (l *LockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String is everything written so far.
func (l *LockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Find returns the first complete JSON log line whose msg is msg. A line still being written
// (the text after the last newline) and lines that are not JSON are skipped.
func (l *LockedWriter) Find(msg string) (map[string]any, bool) {
	lines := strings.Split(l.String(), "\n")
	for _, line := range lines[:len(lines)-1] {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["msg"] == msg {
			return e, true
		}
	}
	return nil, false
}

// Await waits for the JSON log line whose msg is msg and returns it. The writer is the output
// of a server started by the test; exited delivers when that server ends, which fails the
// test (and sets *ended, so that the test's cleanup does not wait for it again), as does
// timeout passing first.
func (l *LockedWriter) Await(t testing.TB, msg string, exited <-chan error, ended *bool, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if e, ok := l.Find(msg); ok {
			return e
		}
		select {
		case err := <-exited:
			*ended = true
			t.Fatalf("the server ended before logging %q: %v\noutput: %s", msg, err, l)
		case <-deadline:
			t.Fatalf("no %q log line after %s\noutput: %s", msg, timeout, l)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
