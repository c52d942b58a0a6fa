package ws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// Timeouts of the connection's own writes.
const (
	// writeWait bounds one message's write: a client that stops reading is cut off instead of
	// holding the connection's writers (and the workers of its subscriptions) forever.
	writeWait = 10 * time.Second
	// closeWait is how long a closing connection waits for the client's close frame, so that
	// the client reads the close code before the socket goes (closing a socket with unread
	// input resets it).
	closeWait = 2 * time.Second
	// readWait bounds the read of one frame, or of a data message, once its first bytes came
	// (polled connections; Transport.readWait in tests).
	readWait = 30 * time.Second
)

// conn is one WebSocket connection. On Linux no goroutine waits for its client: the poller
// (poll_linux.go) starts one to read and handle each message as it comes, in order (one at a
// time); elsewhere one goroutine reads it. Subscriptions, timers and the shutdown write to it
// under wmu.
type conn struct {
	t     Transport
	nc    net.Conn
	p     *protocol
	exec  graphql.GraphExecutor
	limit int64

	// base is the upgrade request's context without its cancellation; cancel ends it and
	// every operation under it.
	base   context.Context
	cancel context.CancelFunc

	// rearm asks the poller for the next readable; unwatch forgets the connection (before
	// its descriptor is closed and reused). Nil when not polled.
	rearm   func() bool
	unwatch func()

	wmu   sync.Mutex // serialises writes
	wdone bool       // under wmu: the close frame was written, or a write failed

	mu          sync.Mutex
	ctx         context.Context // after connection_init: InitFunc's context
	initialised bool
	closed      bool // a close frame was sent, or the connection broke
	ops         map[string]*operation
	initTimer   *time.Timer
	keepAlive   *time.Timer
	closeTimer  *time.Timer
	stopLife    func() bool
	life        *serverLife // nil outside a server's life
	leftLife    sync.Once   // the close frame was written, or the connection broke
	finished    sync.Once
}

func newConn(ctx context.Context, cancel context.CancelFunc, nc net.Conn, p *protocol, t Transport, exec graphql.GraphExecutor, life *serverLife) *conn {
	limit := t.ReadLimit
	if limit == 0 {
		limit = defaultReadLimit
	}
	cn := &conn{t: t, nc: nc, p: p, exec: exec, limit: limit, base: ctx, cancel: cancel, ctx: ctx, life: life}
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if t.InitTimeout > 0 {
		cn.initTimer = time.AfterFunc(t.InitTimeout, cn.initTimedOut)
	}
	if life != nil {
		life.add(1)
	}
	return cn
}

// followLife closes the connection with 1001 when the server's life ends. Called once the
// connection is watched, so that the close cannot race with its registration.
func (c *conn) followLife() {
	if c.life == nil {
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.stopLife = context.AfterFunc(c.life.ctx, func() { c.close(closeGoingAway, "server shutting down") })
	}
	c.mu.Unlock()
}

// leave tells the server's life that the connection has said its last.
func (c *conn) leave() {
	if c.life != nil {
		c.leftLife.Do(func() { c.life.add(-1) })
	}
}

// usePoller is false in tests of the goroutine-per-connection fallback.
var usePoller = true

// serve starts reading: through the poller where there is one, else on a goroutine.
func (c *conn) serve() {
	if usePoller && watch(c, c.nc) {
		c.followLife()
		return
	}
	c.followLife()
	go func() {
		for c.readNext(time.Time{}, false) {
		}
	}()
}

// readable is the poller's call: the socket has input (or the client left).
func (c *conn) readable() {
	wait := readWait
	if c.t.readWait > 0 {
		wait = c.t.readWait
	}
	// The socket is readable: a frame's first bytes came. A ping alone does not hold the
	// goroutine (nor start a deadline) until a data message follows.
	if c.readNext(time.Now().Add(wait), true) && !c.rearm() {
		c.close(-1, "") // ends the operations and timers too
		c.finish()
	}
}

// readNext reads and handles one message; false once the connection is done reading (then
// it has been let go, or will be when the close handshake ends).
func (c *conn) readNext(deadline time.Time, polled bool) bool {
	_ = c.nc.SetReadDeadline(deadline)
	bp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bp)
	msg, err := readMessage(c.nc, (*bp)[:0], c.limit, polled, c.control)
	if cap(msg) <= 64<<10 {
		*bp = msg[:0]
	}
	var cf *closeFrame
	switch {
	case err == nil:
		c.handleMessage(msg, graphql.Now())
		return true
	case err == errNoMessage:
		return true
	case errors.As(err, &cf):
		// Answer a close the client began (as gorilla/websocket does); ours is answered.
		c.close(cf.code, "")
		c.finish()
		return false
	case errors.Is(err, errTooBig):
		c.fail(closeTooBig, "")
		return false
	case errors.Is(err, errProtocol):
		c.fail(closeProtocolError, "protocol error")
		return false
	case errors.Is(err, errInvalidUTF8):
		c.fail(closeInvalidPayload, "")
		return false
	default: // the client left, or broke off a message
		c.close(-1, "")
		c.finish()
		return false
	}
}

var readBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// control answers a ping frame with a pong (WebSocket pings, not graphql-transport-ws's).
func (c *conn) control(op byte, payload []byte) {
	if op == opPing {
		c.write(opPong, payload)
	}
}

// handleMessage decodes a client message and handles it.
func (c *conn) handleMessage(b []byte, readAt time.Time) {
	if c.isClosed() {
		return // waiting for the client's close frame
	}
	var m clientMessage
	if err := json.Unmarshal(b, &m); err != nil {
		c.invalid("invalid json")
		return
	}
	c.handle(&m, readAt)
}

// fail fails the connection (RFC 6455 7.1.7) after input it cannot parse: what follows is
// the rest of a bad frame, not frames. The close frame goes, then our end of the stream
// (the client reads the code, then EOF); the input is discarded unread until the client
// closes, or closeWait, and the socket goes.
func (c *conn) fail(code int, reason string) {
	c.close(code, reason)
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		c.wmu.Lock()
		_ = cw.CloseWrite()
		c.wmu.Unlock()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(closeWait))
	bp := discardBuffers.Get().(*[]byte)
	for {
		if _, err := c.nc.Read(*bp); err != nil {
			break
		}
	}
	discardBuffers.Put(bp)
	c.finish()
}

var discardBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// finish lets the socket go.
func (c *conn) finish() {
	c.finished.Do(func() {
		if c.unwatch != nil {
			c.unwatch()
		}
		_ = c.nc.Close()
		c.leave()
		c.mu.Lock()
		if c.closeTimer != nil {
			c.closeTimer.Stop()
		}
		c.mu.Unlock()
	})
}

// handle does what one client message asks.
func (c *conn) handle(m *clientMessage, readAt time.Time) {
	k := c.p.kindOf(m)
	c.mu.Lock()
	initialised := c.initialised
	c.mu.Unlock()
	if k == kindInvalid {
		c.invalid(fmt.Sprintf("unexpected message %s", m.Type))
		return
	}
	if !initialised {
		switch k {
		case kindInit:
			c.init(m.Payload)
		case kindTerminate:
			c.close(closeNormal, "terminated")
		case kindPing:
			c.send(c.p.pongReply, "", m.Payload)
		case kindPong:
		default:
			if c.p.legacy {
				c.connectionError(fmt.Sprintf("unexpected message %s", m.Type))
				c.close(closeProtocolError, "unexpected message")
				return
			}
			c.close(closeUnauthorized, "Unauthorized")
		}
		return
	}
	switch k {
	case kindInit:
		if c.p.legacy {
			c.connectionError("unexpected message " + m.Type)
			c.close(closeProtocolError, "unexpected message")
			return
		}
		c.close(closeTooManyInits, "Too many initialisation requests")
	case kindSubscribe:
		if m.ID == "" {
			c.invalid("subscribe without an id")
			return
		}
		c.subscribe(m.ID, m.Payload, readAt)
	case kindStop:
		c.mu.Lock()
		op := c.ops[m.ID]
		delete(c.ops, m.ID) // the id may be used again at once
		c.mu.Unlock()
		// The client's complete (stop) is answered with complete, as gqlgen does, here: before
		// the next message is read, so that it cannot end an operation that reuses the id.
		// The stopped operation sends nothing more.
		if op != nil && op.stoppedByClient() {
			c.send(c.p.complete, m.ID, nil)
		}
	case kindPing:
		c.send(c.p.pongReply, "", m.Payload)
	case kindPong:
	case kindTerminate:
		c.close(closeNormal, "terminated")
	}
}

// invalid ends the connection after a message it cannot take: graphql-transport-ws's 4400;
// the legacy protocol's connection_error and 1002, as gqlgen did.
func (c *conn) invalid(reason string) {
	if c.p.legacy {
		c.connectionError(reason)
		c.close(closeProtocolError, reason)
		return
	}
	c.close(closeInvalidMessage, "Invalid message received")
}

// init runs InitFunc on connection_init and acknowledges.
func (c *conn) init(raw json.RawMessage) {
	var payload transport.InitPayload
	if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &payload); err != nil {
			c.invalid("invalid init payload")
			return
		}
	}
	ctx := c.base
	var ackPayload *transport.InitPayload
	if c.t.InitFunc != nil {
		initCtx, ack, err := c.t.InitFunc(ctx, payload)
		if err != nil {
			code := closeNormal
			if initCtx != nil {
				if cc, ok := initCtx.Value(closeCodeKey{}).(int); ok {
					code = cc
				}
			}
			reason := "terminated"
			if code == closeForbidden {
				reason = "Forbidden"
			}
			c.connectionError(err.Error())
			c.close(code, reason)
			return
		}
		ctx, ackPayload = initCtx, ack
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.ctx, c.initialised = ctx, true
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	c.mu.Unlock()

	var ack []byte
	if ackPayload != nil {
		ack, _ = json.Marshal(*ackPayload)
	}
	c.send(c.p.ack, "", ack)
	if c.p.keepAlive != "" && c.t.KeepAlive > 0 {
		c.send(c.p.keepAlive, "", nil) // gqlgen's first ka follows the ack
		c.mu.Lock()
		if !c.closed {
			c.keepAlive = time.AfterFunc(c.t.KeepAlive, c.sendKeepAlive)
		}
		c.mu.Unlock()
	}
}

// sendKeepAlive sends the legacy protocol's ka and arms the next (a timer, not a goroutine,
// waits in between).
func (c *conn) sendKeepAlive() {
	c.send(c.p.keepAlive, "", nil)
	c.mu.Lock()
	if !c.closed {
		c.keepAlive.Reset(c.t.KeepAlive)
	}
	c.mu.Unlock()
}

func (c *conn) initTimedOut() {
	c.mu.Lock()
	initialised := c.initialised
	c.mu.Unlock()
	if !initialised {
		c.close(closeInitTimeout, "Connection initialisation timeout")
	}
}

// subscribe starts operation id (a subscription, or a query or mutation sent over the socket).
func (c *conn) subscribe(id string, payload json.RawMessage, readAt time.Time) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if old := c.ops[id]; old != nil {
		if !c.p.legacy {
			c.mu.Unlock()
			c.close(closeSubscriberExist, "Subscriber for "+truncate(id, 80)+" already exists")
			return
		}
		// subscriptions-transport-ws's server replaced an operation started again.
		delete(c.ops, id)
		c.mu.Unlock()
		old.replaced()
		c.mu.Lock()
	}
	ctx, cancel := context.WithCancel(graphql.StartOperationTrace(c.ctx))
	op := &operation{c: c, id: id, ctx: ctx, cancel: cancel, running: true}
	if c.ops == nil {
		c.ops = map[string]*operation{}
	}
	c.ops[id] = op
	c.mu.Unlock()
	// Parsing, validation and the resolver's first steps run on a goroutine of their own, so
	// that the connection's stays shallow and keeps reading (a stop for this operation).
	go op.start(payload, graphql.TraceTiming{Start: readAt, End: graphql.Now()})
}

// forget drops op from the live operations unless its id was taken again.
func (c *conn) forget(op *operation) {
	c.mu.Lock()
	if c.ops[op.id] == op {
		delete(c.ops, op.id)
	}
	c.mu.Unlock()
}

func (c *conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// close sends a close frame with code (none when code < 0: the connection broke), ends every
// operation and stops the timers. The connection's goroutine lets the socket go once the
// client answers, or after closeWait.
func (c *conn) close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	ops := c.ops
	c.ops = nil
	if c.initTimer != nil {
		c.initTimer.Stop()
	}
	if c.keepAlive != nil {
		c.keepAlive.Stop()
	}
	if c.stopLife != nil {
		c.stopLife()
	}
	c.mu.Unlock()

	if code >= 0 {
		c.write(opClose, closePayload(code, reason))
		c.mu.Lock()
		c.closeTimer = time.AfterFunc(closeWait, c.finish)
		c.mu.Unlock()
	}
	c.leave()
	c.cancel()
	for _, op := range ops {
		op.stop()
	}
}

// truncate cuts s to n bytes at most, on a rune boundary (a close reason is UTF-8).
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
