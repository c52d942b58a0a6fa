package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
)

// A server's job queue keeps a pool of three for fetching, completing, leader election,
// maintenance and the queue-depth metric (River's LISTEN connection comes on top); it had
// dropped to two for the tests' sake. Only a polling-only queue (the test servers) has one.
func TestJobQueuePool(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, nil)
	require.EqualValues(t, 1, s.app.jobsDB.Pool.Config().MaxConns, "a test server polls on one connection")

	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: &bytes.Buffer{}}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := openApp(context.Background(), s.app.cfg, log, appOptions{work: true})
	require.NoError(t, err)
	defer a.Close()
	require.EqualValues(t, 3, a.jobsDB.Pool.Config().MaxConns, "a server's queue works on three")
}
