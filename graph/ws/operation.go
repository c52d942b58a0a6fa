package ws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// operation is one started operation of a connection.
//
// gqlgen's executor yields a subscription's events through its response handler, which blocks
// on the resolver's channel until the next value: a goroutine calling it waits for the
// subscription's whole life. A resolver that takes the operation's waker (Waker) instead calls
// wake once after each value it puts on its channel and once after closing it; the handler is
// then called only when a value is there, by a goroutine started for it, and no goroutine
// waits between events. Operations whose resolver does not (queries, mutations, other
// subscriptions) are served as gqlgen does, by one goroutine until the end.
type operation struct {
	c      *conn
	id     string
	ctx    context.Context
	cancel context.CancelFunc

	// sendMu orders the operation's responses with the client's stop: once the stop is
	// taken, no response of the operation is being written or will be.
	sendMu sync.Mutex

	mu      sync.Mutex
	rc      *graphql.OperationContext
	handler graphql.ResponseHandler
	hctx    context.Context
	woken   bool // the resolver took the waker
	pending int  // wakes the handler has not answered yet
	running bool // a goroutine serves the operation (from start until it drains or ends)
	ended   bool
	silent  bool // stopped by the client or replaced: nothing more goes out under its id
}

type wakerKey struct{}

// Waker returns, inside a subscription resolver served by this transport, take: calling it
// commits the resolver to call the returned wake once after each value it sends on the
// channel it returns, and once after closing that channel, and lets the operation hold no
// goroutine while the channel is empty. Outside this transport it returns nil. Call take
// only once the resolver is sure to return its channel (not an error).
func Waker(ctx context.Context) (take func() (wake func())) {
	op, ok := ctx.Value(wakerKey{}).(*operation)
	if !ok {
		return nil
	}
	return func() func() {
		op.mu.Lock()
		op.woken = true
		op.mu.Unlock()
		return op.wake
	}
}

// start parses, validates and dispatches the operation, then serves its responses.
func (op *operation) start(payload json.RawMessage, read graphql.TraceTiming) {
	c := op.c
	defer op.recoverPanic()
	params := &graphql.RawParams{}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // as gqlgen: Int64 variables keep their precision
	if err := dec.Decode(params); err != nil {
		if !op.isSilent() {
			c.sendError(op.id, &gqlerror.Error{Message: "invalid json"})
		}
		op.end()
		return
	}
	params.ReadTime = read
	rc, err := c.exec.CreateOperationContext(op.ctx, params)
	if err != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(op.ctx, rc), err)
		switch {
		case op.isSilent():
		case errcode.GetErrorKind(err) == errcode.KindProtocol:
			c.sendError(op.id, resp.Errors...)
		default:
			c.sendResponse(op.id, &graphql.Response{Errors: err})
		}
		op.end()
		return
	}
	op.mu.Lock()
	op.rc = rc
	op.mu.Unlock()
	ctx := context.WithValue(graphql.WithOperationContext(op.ctx, rc), wakerKey{}, op)
	handler, ctx := c.exec.DispatchOperation(ctx, rc)

	op.mu.Lock()
	op.handler, op.hctx = handler, ctx
	woken := op.woken
	op.mu.Unlock()
	if woken {
		op.drain()
		return
	}
	for {
		resp := handler(ctx)
		if resp == nil {
			break
		}
		op.sendNext(resp)
	}
	op.end()
}

// wake tells that the resolver's channel has one more value (or was closed): a goroutine
// calls the handler for it, unless one runs.
func (op *operation) wake() {
	op.mu.Lock()
	if op.ended {
		op.mu.Unlock()
		return
	}
	op.pending++
	if op.running {
		op.mu.Unlock()
		return
	}
	op.running = true
	op.mu.Unlock()
	go func() {
		defer op.recoverPanic()
		op.drain()
	}()
}

// drain answers the pending wakes, one response each, then lets the goroutine end.
func (op *operation) drain() {
	for {
		op.mu.Lock()
		if op.pending == 0 || op.ended {
			op.running = false
			op.mu.Unlock()
			return
		}
		op.pending--
		op.mu.Unlock()
		// Called only for a value on the channel, or its end, or once the operation is
		// cancelled: it does not block.
		resp := op.handler(op.hctx)
		if resp == nil {
			op.end()
			return
		}
		op.sendNext(resp)
	}
}

// sendNext sends a response unless the client has let the operation go: its id may name a
// new operation by now.
func (op *operation) sendNext(resp *graphql.Response) {
	op.sendMu.Lock()
	defer op.sendMu.Unlock()
	if !op.isSilent() {
		op.c.sendResponse(op.id, resp)
	}
}

func (op *operation) isSilent() bool {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.silent
}

// stop ends the operation from outside (the client's complete or stop, the connection's
// end): the handler returns nil once the context is cancelled, and the wake makes sure it is
// called.
func (op *operation) stop() {
	op.cancel()
	op.wake()
}

// replaced stops the operation without a complete: its id names a new operation.
func (op *operation) replaced() {
	op.mu.Lock()
	op.silent = true
	op.mu.Unlock()
	op.stop()
}

// stoppedByClient stops the operation on the client's complete or stop: nothing more goes
// out under its id, which the client may use again at once. It reports whether the
// operation was still live (had not sent its own complete).
func (op *operation) stoppedByClient() bool {
	op.sendMu.Lock() // a response being written goes before the answer to the stop
	defer op.sendMu.Unlock()
	op.mu.Lock()
	live := !op.ended && !op.silent
	op.silent = true
	op.mu.Unlock()
	op.stop()
	return live
}

// end completes the operation (gqlgen sends complete after errors and after a client's stop
// too) and lets its resources go.
func (op *operation) end() {
	op.mu.Lock()
	if op.ended {
		op.mu.Unlock()
		return
	}
	op.ended = true
	silent := op.silent
	op.mu.Unlock()
	// Forgotten first: a client that reuses the id on seeing complete must find it free.
	op.c.forget(op)
	if !silent {
		op.c.send(op.c.p.complete, op.id, nil)
	}
	op.cancel()
}

// recoverPanic reports a panic out of the executor as gqlgen's transport does: an error
// message, then complete.
func (op *operation) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	op.mu.Lock()
	rc := op.rc
	op.mu.Unlock()
	var err error
	if rc != nil {
		err = rc.Recover(op.ctx, r)
	}
	var gqlerr *gqlerror.Error
	if !errors.As(err, &gqlerr) {
		gqlerr = &gqlerror.Error{Message: "internal system error"}
		if err != nil {
			gqlerr.Message = err.Error()
		}
	}
	if !op.isSilent() {
		op.c.sendError(op.id, gqlerr)
	}
	op.end()
}
