package app_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
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

// TestOpenRefusesBrokenEmailTemplates: an override in EMAIL_TEMPLATES_DIR that would fail at
// send time stops the start, naming its file; a good one starts.
func TestOpenRefusesBrokenEmailTemplates(t *testing.T) {
	t.Parallel()
	s := apitest.NewServer(t, nil)
	log := slog.New(slog.NewJSONHandler(&apitest.LockedWriter{}, &slog.HandlerOptions{Level: slog.LevelWarn}))

	dir := t.TempDir()
	path := filepath.Join(dir, "order_status.subject.tmpl")
	require.NoError(t, os.WriteFile(path, []byte("Order {{.Number}} {{.Nope}}"), 0o600))
	cfg := s.App.Config
	cfg.EmailTemplatesDir = dir
	_, err := app.Open(context.Background(), cfg, log, app.Options{})
	require.ErrorContains(t, err, path)

	require.NoError(t, os.WriteFile(path, []byte("Order {{.Number}}: {{.SubjectEnding}}"), 0o600))
	a, err := app.Open(context.Background(), cfg, log, app.Options{})
	require.NoError(t, err)
	a.Close()
}
