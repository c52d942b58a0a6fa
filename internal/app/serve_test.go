package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/graph/ws"
	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
)

// serveBundle is serve running on a loopback listener with a handler whose /block requests
// wait for release.
type serveBundle struct {
	addr    string
	cancel  context.CancelFunc
	logs    *apitest.LockedWriter
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
		logs:    &apitest.LockedWriter{},
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
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		ws.Transport{}.Do(w, r, nil) // connections that send nothing need no executor
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
	go func() { b.errc <- app.Serve(ctx, ln, mux, timeout, log) }()

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
		_, logged := b.logs.Find("shutting down")
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
		_, logged = b.logs.Find("shutdown complete")
		require.True(t, logged, "logs: %s", b.logs.String())
	})

	t.Run("returns nil at once when nothing is in flight", func(t *testing.T) {
		b := setupServe(t, 10*time.Second)
		b.cancel()
		require.NoError(t, b.waitServe(t, 2*time.Second))
		_, logged := b.logs.Find("shutdown complete")
		require.True(t, logged, "logs: %s", b.logs.String())
	})

	t.Run("ends long-lived requests through their context before the timeout", func(t *testing.T) {
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
		_, logged := b.logs.Find("shutdown complete")
		require.False(t, logged)
	})

	t.Run("returns the listener's error", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.NoError(t, ln.Close())
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		err = app.Serve(context.Background(), ln, http.NotFoundHandler(), time.Second, log)
		require.ErrorIs(t, err, net.ErrClosed)
	})
}

// TestServeWritesWebSocketCloseFrames: Serve returns only once every WebSocket has been sent
// its 1001 close frame (net/http's Shutdown waits for no hijacked connection, and the process
// exits when Serve returns): each client finds the frame already there.
func TestServeWritesWebSocketCloseFrames(t *testing.T) {
	b := setupServe(t, 2*time.Second)
	var conns []*websocket.Conn
	for range 20 {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+b.addr+"/ws", nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		conns = append(conns, c)
	}
	b.cancel()
	require.NoError(t, b.waitServe(t, 10*time.Second))
	want := []byte{0x88, 0x16, 0x03, 0xE9} // close, 22 bytes, 1001
	for i, c := range conns {
		raw, err := c.NetConn().(syscall.Conn).SyscallConn()
		require.NoError(t, err)
		buf := make([]byte, 64)
		n := 0
		// Without waiting: what Serve left written is in the socket already.
		require.NoError(t, raw.Read(func(fd uintptr) bool {
			n, _ = syscall.Read(int(fd), buf)
			return true
		}))
		require.GreaterOrEqual(t, n, len(want), "connection %d: no close frame when Serve returned", i)
		require.Equal(t, want, buf[:len(want)], "connection %d", i)
	}
}
