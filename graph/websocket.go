package graph

import (
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// closeInitTimeout is graphql-transport-ws's close code for a connection that did not send
// connection_init in time (gqlgen closes with 1002, a generic protocol error).
const closeInitTimeout = 4408

// closeGoingAway is RFC 6455's "going away": the server is shutting down, reconnect elsewhere.
const closeGoingAway = 1001

// closeCodesImplementation wraps a WebSocket implementation to close with the codes clients
// act on: graphql-transport-ws's 4408 for a connection that sent no connection_init in time
// (gqlgen's InitTimeout closes with a generic 1002), and 1001 for connections ended by a
// server shutdown (gqlgen closes with 1000).
type closeCodesImplementation struct {
	inner transport.WebsocketImplementation
}

func (i closeCodesImplementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := i.inner.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	return &closeCodesConn{WebsocketConn: conn, done: r.Context().Done()}, nil
}

type closeCodesConn struct {
	transport.WebsocketConn
	// done closes when the server's base context ends (shutdown).
	done <-chan struct{}
}

// gqlgenInitTimeout is the reason gqlgen gives when InitTimeout passes without connection_init
// (a subscription test of the 4408 close notices if it changes).
const gqlgenInitTimeout = "connection initialisation timeout"

func (c *closeCodesConn) WriteClose(code int, reason string) error {
	switch {
	case code == transport.WebsocketCloseProtocolError && reason == gqlgenInitTimeout:
		code, reason = closeInitTimeout, "Connection initialisation timeout"
	case code == transport.WebsocketCloseNormalClosure:
		select {
		case <-c.done:
			code, reason = closeGoingAway, "server shutting down"
		default:
		}
	}
	return c.WebsocketConn.WriteClose(code, reason)
}

// SetReadLimit passes the payload limit through to the wrapped connection.
func (c *closeCodesConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline passes read deadlines (ping/pong) through to the wrapped connection.
func (c *closeCodesConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}
