package graph

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// closeInitTimeout is graphql-transport-ws's close code for a connection that did not send
// connection_init in time (gqlgen closes with 1002, a generic protocol error).
const closeInitTimeout = 4408

// closeGoingAway is RFC 6455's "going away": the server is shutting down, reconnect elsewhere.
const closeGoingAway = 1001

// initTimeoutImplementation wraps a WebSocket implementation so that a connection which sends
// no first message within timeout is closed with 4408, and connections ended by a server
// shutdown close with 1001 rather than gqlgen's 1000.
type initTimeoutImplementation struct {
	inner   transport.WebsocketImplementation
	timeout time.Duration
}

func (i initTimeoutImplementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := i.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &initTimeoutConn{WebsocketConn: conn, timeout: i.timeout, done: r.Context().Done()}, nil
}

// initTimeoutConn bounds only the wait for the first message.
type initTimeoutConn struct {
	transport.WebsocketConn
	timeout time.Duration
	first   sync.Once
	// done closes when the server's base context ends (shutdown).
	done <-chan struct{}
}

// WriteClose turns gqlgen's normal closure into "going away" when the server is shutting
// down, so clients know to reconnect (and resume with after) rather than stop.
func (c *initTimeoutConn) WriteClose(code int, reason string) error {
	if code == transport.WebsocketCloseNormalClosure {
		select {
		case <-c.done:
			code, reason = closeGoingAway, "server shutting down"
		default:
		}
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

var errInitTimeout = errors.New("connection initialisation timeout")

type readResult struct {
	kind int
	r    io.Reader
	err  error
}

func (c *initTimeoutConn) NextReader() (int, io.Reader, error) {
	isFirst := false
	c.first.Do(func() { isFirst = true })
	if !isFirst || c.timeout <= 0 {
		return c.WebsocketConn.NextReader()
	}
	done := make(chan readResult, 1)
	go func() {
		kind, r, err := c.WebsocketConn.NextReader()
		done <- readResult{kind, r, err}
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.kind, res.r, res.err
	case <-timer.C:
		_ = c.WebsocketConn.WriteClose(closeInitTimeout, "Connection initialisation timeout")
		return 0, nil, errInitTimeout
	}
}

// SetReadLimit passes the payload limit through to the wrapped connection.
func (c *initTimeoutConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes read deadlines (ping/pong) through to the wrapped connection.
func (c *initTimeoutConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
