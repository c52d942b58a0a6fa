package main

// The start-up smoke test of main: the built binary serves until healthy and exits 0 on
// SIGTERM, and refuses to start in production without its secrets. Everything else about the
// commands and the server is tested in internal/app, and the API in graph/.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// TestBinary builds the server once and runs it as a process.
func TestBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "shopgraph")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	t.Run("serves health checks and exits 0 on SIGTERM", func(t *testing.T) {
		cmd := exec.Command(bin)
		// A whole environment, so none of the test process's (REDIS_URL, secrets) leaks in.
		cmd.Env = []string{
			"PORT=0",
			"DATABASE_URL=" + pgtest.NewURL(t),
			"APP_ENV=test",
			"SHUTDOWN_TIMEOUT=5s",
		}
		stdout, stderr := &apitest.LockedWriter{}, &apitest.LockedWriter{}
		cmd.Stdout, cmd.Stderr = stdout, stderr
		require.NoError(t, cmd.Start())
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		var waited bool // set once exited has been received from
		t.Cleanup(func() {
			if !waited {
				_ = cmd.Process.Kill()
				<-exited
			}
		})

		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("stderr: %s", stderr)
			}
		})
		listening := stdout.Await(t, "listening", exited, &waited, 60*time.Second)
		addr, ok := listening["addr"].(string)
		require.True(t, ok, "listening log has addr: %v", listening)
		_, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		require.NotEqual(t, "0", port)
		base := "http://127.0.0.1:" + port

		client := &http.Client{Timeout: 10 * time.Second}
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := client.Get(base + path)
			require.NoError(t, err, path)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, body)
		}

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case err := <-exited:
			waited = true
			require.NoError(t, err, "exit status\nstdout: %s\nstderr: %s", stdout, stderr)
		case <-time.After(10 * time.Second):
			t.Fatalf("the server did not exit after SIGTERM\nstdout: %s\nstderr: %s", stdout, stderr)
		}
		require.Equal(t, 0, cmd.ProcessState.ExitCode())
		_, logged := stdout.Find("shutdown complete")
		require.True(t, logged, "stdout: %s", stdout)
		require.NotContains(t, stdout.String(), config.DevJWTSecret, "the JWT secret is not logged")
	})

	t.Run("production without secrets refuses to start and names them", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = []string{"APP_ENV=production", "PORT=0"}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exitErr *exec.ExitError
		require.True(t, errors.As(err, &exitErr), "want a non-zero exit, got %v", err)
		require.NotEqual(t, 0, exitErr.ExitCode())
		require.Contains(t, stderr.String(), "JWT_SECRET")
		require.Contains(t, stderr.String(), "STRIPE_SECRET_KEY")
		require.NotContains(t, stdout.String(), "listening")
	})
}

// serveBundle is serve running on a loopback listener with a handler whose /block requests
// wait for release.
