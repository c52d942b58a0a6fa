package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
		"help":         {{"help", "help"}},
	}

	for envName, env := range envs {
		runHelp := func(t *testing.T, args []string) string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out)
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
		require.NoError(t, run(context.Background(), []string{"seed", "--help"}, func(string) string { return "" }, nil, &out))
		require.Contains(t, out.String(), "-products")
	})

	for _, args := range [][]string{{"serve", "--halp"}, {"serve", "now"}, {"migrate", "--dry-run"}} {
		t.Run(strings.Join(args, " ")+" is refused with the usage, before connecting", func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), args, func(k string) string { return envs["development"][k] }, nil, &out)
			require.ErrorContains(t, err, "takes no arguments")
			require.ErrorContains(t, err, "usage: shopgraph "+args[0])
		})
	}

	// Checked last (subtests above are sequential): nothing connected to the database or Redis.
	t.Run("no command connected to the database or Redis", func(t *testing.T) {
		require.Zero(t, trap.conns.Load())
	})
}
