package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logEntries parses the complete JSON lines in s, skipping lines that are not JSON.
func logEntries(s string) []map[string]any {
	var entries []map[string]any
	lines := strings.Split(s, "\n")
	for _, line := range lines[:len(lines)-1] { // the last element is an unfinished line
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil {
			entries = append(entries, e)
		}
	}
	return entries
}

// findLog returns the first complete log entry with msg.
func findLog(s, msg string) (map[string]any, bool) {
	for _, e := range logEntries(s) {
		if e["msg"] == msg {
			return e, true
		}
	}
	return nil, false
}

// serveBundle is serve running on a loopback listener with a handler whose /block requests
// wait for release.
type serveBundle struct {
	addr    string
	cancel  context.CancelFunc
	logs    *syncBuffer
	started chan struct{} // receives when a /block request has started
	release func()        // lets /block requests finish
	errc    chan error    // serve's result
	timeout time.Duration
}

func setupServe(t *testing.T, timeout time.Duration) *serveBundle {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &serveBundle{
		addr:    ln.Addr().String(),
		logs:    &syncBuffer{},
		started: make(chan struct{}, 10),
		errc:    make(chan error, 1),
		timeout: timeout,
	}
	released := make(chan struct{})
	b.release = sync.OnceFunc(func() { close(released) })
	t.Cleanup(b.release)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /block", func(w http.ResponseWriter, _ *http.Request) {
		b.started <- struct{}{}
		<-released // deliberately ignores the request context, like a slow handler
		_, _ = io.WriteString(w, "released")
	})
	mux.HandleFunc("GET /subscribe", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		b.started <- struct{}{}
		<-r.Context().Done() // a long-lived subscription ends with its context
	})

	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	t.Cleanup(cancel)
	log := slog.New(slog.NewJSONHandler(b.logs, nil))
	go func() { b.errc <- serve(ctx, ln, mux, timeout, log) }()

	// The server answers before the test goes on, so a refused connection later means shutdown.
	resp, err := newClient().Get("http://" + b.addr + "/ok")
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return b
}

func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
}

type result struct {
	status int
	body   string
	err    error
}

// get starts a GET in the background and waits until the handler has started.
func (b *serveBundle) get(t *testing.T, path string) <-chan result {
	t.Helper()
	out := make(chan result, 1)
	go func() {
		resp, err := newClient().Get("http://" + b.addr + path)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		out <- result{status: resp.StatusCode, body: string(body), err: err}
	}()
	select {
	case <-b.started:
	case r := <-out:
		t.Fatalf("request ended before its handler started: %+v", r)
	case <-time.After(5 * time.Second):
		t.Fatal("the handler did not start")
	}
	return out
}

func (b *serveBundle) waitServe(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-b.errc:
		return err
	case <-time.After(within):
		t.Fatalf("serve did not return within %s", within)
		return nil
	}
}

func refusesConnections(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return true
	}
	_ = conn.Close()
	return false
}

func TestServeShutdown(t *testing.T) {
	t.Parallel()

	t.Run("stops accepting, lets the in-flight request finish and returns nil", func(t *testing.T) {
		t.Parallel()
		b := setupServe(t, 10*time.Second)
		inflight := b.get(t, "/block")

		b.cancel()
		require.Eventually(t, func() bool { return refusesConnections(b.addr) },
			2*time.Second, 10*time.Millisecond, "new connections are refused soon after ctx ends")
		_, err := newClient().Get("http://" + b.addr + "/ok")
		require.Error(t, err, "a new request cannot get in")

		select {
		case err := <-b.errc:
			t.Fatalf("serve returned while a request was in flight: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
		_, logged := findLog(b.logs.String(), "shutting down")
		require.True(t, logged, "logs: %s", b.logs.String())

		b.release()
		select {
		case r := <-inflight:
			require.NoError(t, r.err)
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, "released", r.body)
		case <-time.After(5 * time.Second):
			t.Fatal("the in-flight request did not complete")
		}

		require.NoError(t, b.waitServe(t, 5*time.Second))
		_, logged = findLog(b.logs.String(), "shutdown complete")
		require.True(t, logged, "logs: %s", b.logs.String())
	})

	t.Run("returns nil at once when nothing is in flight", func(t *testing.T) {
		t.Parallel()
		b := setupServe(t, 10*time.Second)
		b.cancel()
		require.NoError(t, b.waitServe(t, 2*time.Second))
		_, logged := findLog(b.logs.String(), "shutdown complete")
		require.True(t, logged, "logs: %s", b.logs.String())
	})

	t.Run("ends long-lived requests through their context before the timeout", func(t *testing.T) {
		t.Parallel()
		const timeout = time.Second
		b := setupServe(t, timeout)
		sub := b.get(t, "/subscribe")

		start := time.Now()
		b.cancel()
		require.NoError(t, b.waitServe(t, timeout))
		require.Less(t, time.Since(start), timeout)
		select {
		case r := <-sub:
			require.Equal(t, http.StatusOK, r.status)
		case <-time.After(5 * time.Second):
			t.Fatal("the subscription did not end")
		}
	})

	t.Run("returns an error about when the timeout ends if a request outlasts it", func(t *testing.T) {
		t.Parallel()
		const timeout = 600 * time.Millisecond
		b := setupServe(t, timeout)
		inflight := b.get(t, "/block")

		start := time.Now()
		b.cancel()
		err := b.waitServe(t, timeout+2*time.Second)
		elapsed := time.Since(start)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.GreaterOrEqual(t, elapsed, timeout-50*time.Millisecond, "serve waited for the timeout")
		require.Less(t, elapsed, timeout+450*time.Millisecond, "serve returned about when the timeout ended")

		// The connection was closed under the request, which can no longer complete.
		select {
		case r := <-inflight:
			require.Error(t, r.err)
		case <-time.After(5 * time.Second):
			t.Fatal("the client was not disconnected")
		}
		_, logged := findLog(b.logs.String(), "shutdown complete")
		require.False(t, logged)
	})

	t.Run("returns the listener's error", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, ln.Close())
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		err = serve(context.Background(), ln, http.NotFoundHandler(), time.Second, log)
		require.ErrorIs(t, err, net.ErrClosed)
	})
}

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
		t.Parallel()
		cmd := exec.Command(bin)
		// A whole environment, so none of the test process's (REDIS_URL, secrets) leaks in.
		cmd.Env = []string{
			"PORT=0",
			"DATABASE_URL=" + pgtest.NewURL(t),
			"APP_ENV=test",
			"SHUTDOWN_TIMEOUT=5s",
		}
		stdout, stderr := &syncBuffer{}, &syncBuffer{}
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

		var listening map[string]any
		deadline := time.After(60 * time.Second)
		for listening == nil {
			if e, ok := findLog(stdout.String(), "listening"); ok {
				listening = e
				break
			}
			select {
			case err := <-exited:
				waited = true
				t.Fatalf("the server exited before listening: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
			case <-deadline:
				t.Fatalf("no \"listening\" log line\nstdout: %s\nstderr: %s", stdout, stderr)
			case <-time.After(20 * time.Millisecond):
			}
		}
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
		_, logged := findLog(stdout.String(), "shutdown complete")
		require.True(t, logged, "stdout: %s", stdout)
		require.NotContains(t, stdout.String(), config.DevJWTSecret, "the JWT secret is not logged")
	})

	t.Run("production without secrets refuses to start and names them", func(t *testing.T) {
		t.Parallel()
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
