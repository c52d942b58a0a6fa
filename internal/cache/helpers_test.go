package cache

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// testRedisOptions returns client options for TEST_REDIS_URL, skipping the test if that Redis
// does not answer PING.
func testRedisOptions(t *testing.T) *redis.Options {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(t, err, "TEST_REDIS_URL")
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Skipf("no Redis at %s (set TEST_REDIS_URL to a running Redis to run this test): %v", url, err)
	}
	return opts
}

// testRedisClient returns a client for TEST_REDIS_URL, skipping the test if Redis is not there.
func testRedisClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(testRedisOptions(t))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// uniquePrefix returns a key prefix no other test (or run) uses, and deletes its keys when the
// test ends so that runs do not accumulate garbage in a shared Redis.
func uniquePrefix(t *testing.T, c redis.UniversalClient) string {
	t.Helper()
	name := strings.NewReplacer("/", ":", "*", "_", "?", "_", "[", "_", "]", "_", "\\", "_").Replace(t.Name())
	prefix := "shopgraph-test:cache:" + name + ":" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	if c != nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
			var keys []string
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if len(keys) > 0 {
				_ = c.Del(ctx, keys...).Err()
			}
		})
	}
	return prefix
}

// attemptCounter is a go-redis hook counting every command and pipeline the store attempts, so
// tests can assert that an open breaker really stops traffic. Commands go-redis sends on its own
// to set up a connection are not the store's attempts and are left out.
type attemptCounter struct{ n atomic.Int64 }

func connectionSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "client", "auth", "select":
		return true
	}
	return false
}

func (h *attemptCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *attemptCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !connectionSetup(cmd) {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *attemptCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && !connectionSetup(cmds[0]) {
			h.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestMain silences go-redis's own logger, which would print a line for every failed dial in the
// tests that kill Redis on purpose; the store's breaker logs are what these tests look at.
func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// logBuffer collects log output from concurrent goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) count(substr string) int { return strings.Count(b.String(), substr) }

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

const (
	logOpened = "bypassing it"
	logClosed = "available again"
)

// fakeClock is a settable clock for the memory store's TTLs.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// proxy is a TCP proxy in front of a real Redis that a test can cut or stall, to simulate a
// network partition or a Redis that accepts connections but never answers, without losing
// Redis's data as killing it would.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]struct{}
}

type proxyMode int

const (
	proxyForward proxyMode = iota
	proxyRefuse            // close every connection at once
	proxyStall             // accept connections and never answer
)

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.setMode(proxyRefuse)
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *proxy) handle(c net.Conn) {
	p.mu.Lock()
	mode := p.mode
	if mode == proxyRefuse {
		p.mu.Unlock()
		_ = c.Close()
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	if mode == proxyStall {
		return // held open, unread, until the mode changes
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	go func() {
		_, _ = io.Copy(up, c)
		_ = up.Close()
	}()
	_, _ = io.Copy(c, up)
	_ = c.Close()
}

// setMode switches behaviour and drops every open connection, as a partition would.
func (p *proxy) setMode(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// product is a cached value with a slice, so tests can check that callers get private copies.
type product struct {
	ID    int64    `json:"id"`
	Name  string   `json:"name"`
	Price int64    `json:"price"`
	Tags  []string `json:"tags"`
}

// counter is a load function's call counter.
type counter struct{ n atomic.Int64 }

func (c *counter) load(v product) func(context.Context) (product, error) {
	return func(context.Context) (product, error) {
		c.n.Add(1)
		return v, nil
	}
}
