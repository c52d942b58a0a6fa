package app_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
)

// A server's job queue keeps a pool of three for fetching, completing, leader election,
// maintenance and the queue-depth metric (River's LISTEN connection comes on top); it had
// dropped to two for the tests' sake. Only a polling-only queue (the test servers) has one.
func TestJobQueuePool(t *testing.T) {
	t.Parallel()
	s := apitest.NewServer(t, nil)
	require.EqualValues(t, 1, s.App.JobsDB.Pool.Config().MaxConns, "a test server polls on one connection")

	log := slog.New(slog.NewJSONHandler(&apitest.LockedWriter{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(context.Background(), s.App.Config, log, app.Options{Work: true})
	require.NoError(t, err)
	defer a.Close()
	require.EqualValues(t, 3, a.JobsDB.Pool.Config().MaxConns, "a server's queue works on three")
}
