package ws

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A connection's writes: protocol messages framed into pooled buffers, written whole under
// the connection's write lock by whichever goroutine has something to say (a subscription's,
// a timer's, the reader's).

// frameHeaderRoom is room left in front of a message for its frame's header (10 bytes at
// most), so that the frame is written with one write.
const frameHeaderRoom = 10

var writeBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// send writes one protocol message unless the connection is closing.
func (c *conn) send(typ, id string, payload []byte) {
	if typ == "" || c.isClosed() {
		return
	}
	bp := writeBuffers.Get().(*[]byte)
	b := appendMessage((*bp)[:frameHeaderRoom], typ, id, payload)
	c.writeFrame(b, opText)
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		writeBuffers.Put(bp)
	}
}

// write writes a frame with payload (a control frame: pong, close).
func (c *conn) write(op byte, payload []byte) {
	var a [frameHeaderRoom + maxControlPayload]byte
	b := append(a[:frameHeaderRoom], payload...)
	c.writeFrame(b, op)
}

// writeFrame writes b[frameHeaderRoom:] as one frame, unless the close frame went or a write
// failed; on a failed write the connection is let go.
func (c *conn) writeFrame(b []byte, op byte) {
	payload := b[frameHeaderRoom:]
	var h [frameHeaderRoom]byte
	hdr := appendFrameHeader(h[:0], op, len(payload))
	start := frameHeaderRoom - len(hdr)
	copy(b[start:], hdr)
	c.wmu.Lock()
	if c.wdone {
		// After the close frame nothing may follow (RFC 6455 5.5.1); after a failed write
		// the stream may hold part of a frame.
		c.wmu.Unlock()
		return
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeWait))
	_, err := c.nc.Write(b[start:])
	if op == opClose || err != nil {
		c.wdone = true
	}
	c.wmu.Unlock()
	if err != nil {
		c.close(-1, "")
		c.finish()
	}
}

func (c *conn) sendResponse(id string, resp *graphql.Response) {
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err) // as gqlgen: a response always marshals
	}
	c.send(c.p.next, id, b)
}

func (c *conn) sendError(id string, errs ...*gqlerror.Error) {
	list := make([]error, len(errs))
	for i, err := range errs {
		list[i] = err
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic(err)
	}
	c.send(c.p.err, id, b)
}

// connectionError is the legacy protocol's connection_error (nothing in graphql-transport-ws).
func (c *conn) connectionError(message string) {
	if c.p.connError == "" {
		return
	}
	b, _ := json.Marshal(&gqlerror.Error{Message: message})
	c.send(c.p.connError, "", b)
}
