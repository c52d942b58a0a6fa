package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/seed"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// connCounter is a TCP listener that counts and drops every connection: a database or Redis
// that a command must not touch.
type connCounter struct {
	ln    net.Listener
	conns atomic.Int64
}

func newConnCounter(t *testing.T) *connCounter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	c := &connCounter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return c
}

func TestCommandHelp(t *testing.T) {
	t.Parallel()
	trap := newConnCounter(t)
	addr := trap.ln.Addr().String()
	envs := map[string]map[string]string{
		// Every command would connect to these at once.
		"development": {
			"DATABASE_URL": "postgres://postgres@" + addr + "/shopgraph?sslmode=disable&connect_timeout=2",
			"REDIS_URL":    "redis://" + addr + "/0",
			"PORT":         "0",
			"ADMIN_ADDR":   "127.0.0.1:0",
		},
		// Help does not need a loadable configuration.
		"production without secrets": {
			"APP_ENV":      "production",
			"DATABASE_URL": "postgres://postgres@" + addr + "/shopgraph?sslmode=disable&connect_timeout=2",
			"PORT":         "0",
		},
	}
	topLevel := [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}, {"help", "nonsense"}, {"help", "--help"}}
	perCommand := map[string][][]string{
		"serve":        {{"serve", "--help"}, {"serve", "-h"}, {"help", "serve"}},
		"migrate":      {{"migrate", "--help"}, {"migrate", "-h"}, {"help", "migrate"}},
		"admin create": {{"admin", "--help"}, {"admin", "-h"}, {"admin", "create", "--help"}, {"admin", "create", "-h"}, {"admin", "create", "--email", "a@example.com", "--help"}, {"help", "admin", "create"}},
		"seed":         {{"seed", "--help"}, {"seed", "-h"}, {"seed", "--products", "5", "-help"}, {"help", "seed"}},
		"stripe-event": {{"stripe-event", "--help"}, {"stripe-event", "-h"}, {"stripe-event", "charge.refunded", "--order", "1", "--help"}, {"help", "stripe-event"}},
		"paypal-event": {{"paypal-event", "--help"}, {"paypal-event", "-h"}, {"paypal-event", "PAYMENT.CAPTURE.REFUNDED", "--order", "1", "--help"}, {"help", "paypal-event"}},
		"help":         {{"help", "help"}},
	}

	for envName, env := range envs {
		runHelp := func(t *testing.T, args []string) string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := app.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out)
			require.NoError(t, err, "exit status 0; output:\n%s", out.String())
			return out.String()
		}
		for _, args := range topLevel {
			t.Run(envName+": "+strings.Join(args, " ")+" lists every command and points to the settings", func(t *testing.T) {
				out := runHelp(t, args)
				for name := range perCommand {
					require.Contains(t, out, "  "+name+" ")
				}
				require.Contains(t, out, `README.md's "Configuration"`)
			})
		}
		for name, cases := range perCommand {
			for _, args := range cases {
				t.Run(envName+": "+strings.Join(args, " ")+" shows the usage of "+name, func(t *testing.T) {
					out := runHelp(t, args)
					require.Contains(t, out, "usage: shopgraph "+name)
					require.Contains(t, out, `README.md's "Configuration"`)
				})
			}
		}
	}
	t.Run("a flag's usage lists its flags", func(t *testing.T) {
		var out bytes.Buffer
		require.NoError(t, app.Run(context.Background(), []string{"seed", "--help"}, func(string) string { return "" }, nil, &out))
		require.Contains(t, out.String(), "-products")
	})

	for _, args := range [][]string{{"serve", "--halp"}, {"serve", "now"}, {"migrate", "--dry-run"}} {
		t.Run(strings.Join(args, " ")+" is refused with the usage, before connecting", func(t *testing.T) {
			var out bytes.Buffer
			err := app.Run(context.Background(), args, func(k string) string { return envs["development"][k] }, nil, &out)
			require.ErrorContains(t, err, "takes no arguments")
			require.ErrorContains(t, err, "usage: shopgraph "+args[0])
		})
	}

	// Checked last (subtests above are sequential): nothing connected to the database or Redis.
	t.Run("no command connected to the database or Redis", func(t *testing.T) {
		require.Zero(t, trap.conns.Load())
	})
}

// TestServeCommand runs `shopgraph serve` through run, as main does, in the test environment
// (development defaults).
func TestServeCommand(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"APP_ENV":          "test",
		"PORT":             "0",
		"DATABASE_URL":     pgtest.NewURL(t),
		"DB_MAX_CONNS":     "4",
		"STRIPE_API_BASE":  apitest.StripeURL(),
		"SHUTDOWN_TIMEOUT": "5s",
		"REQUEST_TIMEOUT":  "2m",
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &apitest.LockedWriter{}
	exited := make(chan error, 1)
	go func() {
		exited <- app.Run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), stdout)
	}()
	var returned bool // set once exited has been received from
	t.Cleanup(func() {
		cancel()
		if !returned {
			<-exited
		}
	})

	listening := stdout.Await(t, "listening", exited, &returned, 3*time.Minute)
	addr, ok := listening["addr"].(string)
	require.True(t, ok, "listening log has addr: %v", listening)
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)

	t.Run("listens on loopback only by default", func(t *testing.T) {
		require.Equal(t, "127.0.0.1", host)
		require.Equal(t, "http://127.0.0.1:"+port+"/graphql", listening["graphql"])
	})

	t.Run("prints each demo vendor's email beside its password", func(t *testing.T) {
		emails := seed.VendorEmails()
		require.NotEmpty(t, emails)
		for _, email := range emails {
			require.Contains(t, stdout.String(), email+" / "+seed.VendorPassword)
		}
	})

	t.Run("reports the SQL statements of a request", func(t *testing.T) {
		body, err := json.Marshal(map[string]any{"query": apitest.LoginMutation, "variables": map[string]any{
			"input": map[string]any{"email": app.DevAdminEmail, "password": app.DevAdminPassword},
		}})
		require.NoError(t, err)
		resp, err := http.Post("http://"+addr+"/graphql", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var out apitest.Response
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Empty(t, out.Errors)
		require.Contains(t, string(out.Data), app.DevAdminEmail, "signed in")
		require.Positive(t, out.SQLStatements(t), "a sign-in reads the account: %v", out.Extensions)
		require.Positive(t, out.SQLRoundTrips(t))
	})

	cancel()
	select {
	case err := <-exited:
		returned = true
		require.NoError(t, err, "output: %s", stdout)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not return after its context ended\noutput: %s", stdout)
	}
}

// stripe-event posts to the server that the same settings start, at the host the server prints:
// one told to listen on a single address is not reachable at localhost.
func TestStripeEventDefaultURL(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]string{
		"127.0.0.2": "http://127.0.0.2:8080/webhooks/stripe",
		"::1":       "http://[::1]:8080/webhooks/stripe",
		"0.0.0.0":   "http://localhost:8080/webhooks/stripe",
		"::":        "http://localhost:8080/webhooks/stripe",
	} {
		cfg, err := config.Load(func(k string) string {
			return map[string]string{"APP_ENV": "test", "PORT": "8080", "LISTEN_HOST": host}[k]
		})
		require.NoError(t, err)
		require.Equal(t, want, app.StripeWebhookURL(cfg), host)
	}
}
