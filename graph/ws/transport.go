// Package ws is the GraphQL WebSocket transport of /graphql: graphql-transport-ws (the
// graphql-ws library's protocol) and the legacy graphql-ws (subscriptions-transport-ws), run on
// gqlgen's executor like gqlgen's own transport.Websocket, whose protocol handling it follows.
//
// It exists for memory (issue 22): a server holds tens of thousands of idle subscriptions, and
// gqlgen's transport keeps three goroutines per connection and subscription, one of them on the
// deep stack of net/http's handler, plus net/http's buffers of the hijacked connection. Here
// the HTTP handler upgrades and returns (net/http's goroutine and buffers go), an idle
// connection holds no goroutine on Linux (poll_linux.go; one reads it elsewhere), writes are
// framed into pooled buffers, and a subscription whose resolver announces its values (Waker)
// holds no goroutine between them.
package ws

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// InitFunc authenticates a connection from its connection_init payload. It returns the
// connection's context (the viewer, per-connection counters) and an optional payload for
// connection_ack. On error the connection is closed with the code set by WithCloseCode
// (1000 without one); the legacy protocol first sends the error's text as connection_error.
type InitFunc func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error)

type closeCodeKey struct{}

// WithCloseCode returns ctx telling the transport which close code ends a connection whose
// InitFunc failed (4403 Forbidden for a bad token).
func WithCloseCode(ctx context.Context, code int) context.Context {
	return context.WithValue(ctx, closeCodeKey{}, code)
}

type lifeKey struct{}

// WithServerLife returns ctx, the server's base context, marked as the life of its
// connections: when it ends (a graceful shutdown), every connection opened under it is closed
// with 1001 Going Away. The HTTP handler returns once a connection is upgraded, and net/http
// cancels a request's context then, so the transport cannot follow the request's context.
func WithServerLife(ctx context.Context) context.Context {
	return context.WithValue(ctx, lifeKey{}, &serverLife{ctx: ctx})
}

// serverLife counts the connections opened under a server's life that have not yet sent
// their close frame (nor broken).
type serverLife struct {
	ctx  context.Context
	mu   sync.Mutex
	open int
}

func (l *serverLife) add(n int) {
	l.mu.Lock()
	l.open += n
	l.mu.Unlock()
}

func (l *serverLife) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// AwaitClosed waits, once the life given to WithServerLife has ended, until every connection
// opened under it has written its 1001 close frame or broken: net/http's Shutdown does not
// wait for hijacked connections, and a process that exits first sends no close frame. Each
// write is bounded by writeWait, and so is the wait.
func AwaitClosed(life context.Context) {
	l, _ := life.Value(lifeKey{}).(*serverLife)
	if l == nil {
		return
	}
	for deadline := time.Now().Add(writeWait); l.count() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// Transport serves GraphQL over WebSocket (a gqlgen graphql.Transport).
type Transport struct {
	// InitFunc authenticates connection_init; nil accepts every connection as it is.
	InitFunc InitFunc
	// InitTimeout closes (4408) a connection that sent no connection_init in time; 0: none.
	InitTimeout time.Duration
	// KeepAlive is the legacy protocol's "ka" interval; 0: none.
	KeepAlive time.Duration
	// ReadLimit bounds a client message (1 MB when 0, like gqlgen's); over it the connection
	// is closed with 1009.
	ReadLimit int64
	// AllowedOrigins are host patterns (path.Match, e.g. shop.example.com, *.example.com)
	// of browser origins allowed besides the server's own.
	AllowedOrigins []string
	// Log reports failed upgrades; nil: slog.Default.
	Log *slog.Logger
	// Upgraded, when set, is called with the upgrade request's context once the HTTP
	// response is gone, to let go of what refers to it: the connection keeps that context's
	// values for its life, and a value holding the ResponseWriter holds net/http's request,
	// connection and its 8 KiB of buffers with it.
	Upgraded func(ctx context.Context)

	// readWait replaces the package's readWait in tests.
	readWait time.Duration
}

var _ graphql.Transport = Transport{}

// Supports says the request asks for an upgrade (gqlgen's rule).
func (t Transport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") != ""
}

// defaultReadLimit is gqlgen's: 1 MB.
const defaultReadLimit = 1 << 20

// handshakeBuffers are gorilla/websocket's write buffers, which only its handshake uses here:
// the connection is read and written by frame.go (the library's reader keeps a buffer).
var handshakeBuffers = &sync.Pool{}

// Do upgrades the request and returns: no goroutine of net/http's stays with the connection.
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	up := websocket.Upgrader{
		ReadBufferSize:  maxControlPayload,
		WriteBufferSize: 1024,
		WriteBufferPool: handshakeBuffers,
		Subprotocols:    []string{protoLegacy.name, protoTransport.name},
		CheckOrigin:     t.checkOrigin,
	}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered (403 for an origin, 400 for a bad handshake).
		t.log().DebugContext(r.Context(), "websocket upgrade refused", "err", err)
		return
	}
	p := protoLegacy // no subprotocol: the legacy one, as gqlgen does
	if c.Subprotocol() == protoTransport.name {
		p = protoTransport
	}
	if t.Upgraded != nil {
		t.Upgraded(r.Context())
	}
	// The request's values (viewer from a cookie or header, request id, trace) stay; its
	// cancellation, which comes as this handler returns, does not.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	life, _ := r.Context().Value(lifeKey{}).(*serverLife)
	newConn(ctx, cancel, c.NetConn(), p, t, exec, life).serve()
}

func (t Transport) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// checkOrigin allows requests without an Origin (not browsers), the server's own origin and
// the configured ones (the rules of coder/websocket's OriginPatterns, which the transport
// used before).
func (t Transport) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, pattern := range t.AllowedOrigins {
		if ok, err := path.Match(strings.ToLower(pattern), strings.ToLower(u.Host)); err == nil && ok {
			return true
		}
	}
	return false
}
