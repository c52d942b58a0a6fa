package ws

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// rawClient is a gorilla/websocket client: it sends control frames as the test says (OkHttp's
// pingInterval) and lets the test write raw bytes.
type rawClient struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, tr Transport, exec fakeExec) *rawClient {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.Do(w, r, exec)
	}))
	t.Cleanup(srv.Close)
	d := websocket.Dialer{Subprotocols: []string{protoTransport.name}}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawClient{t: t, c: c}
}

func (rc *rawClient) write(s string) {
	rc.t.Helper()
	if err := rc.c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		rc.t.Fatal(err)
	}
}

func (rc *rawClient) read() string {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := rc.c.ReadMessage()
	if err != nil {
		rc.t.Fatal(err)
	}
	return string(b)
}

// subscribed initialises the connection and starts subscription id.
func (rc *rawClient) subscribed(exec fakeExec, id string) *source {
	rc.t.Helper()
	rc.write(`{"type":"connection_init"}`)
	if got := rc.read(); got != `{"type":"connection_ack"}` {
		rc.t.Fatalf("got %s", got)
	}
	rc.write(`{"type":"subscribe","id":"` + id + `","payload":{"query":"subscription { tick }"}}`)
	select {
	case src := <-exec.sources:
		return src
	case <-time.After(5 * time.Second):
		rc.t.Fatal("the subscription did not start")
		return nil
	}
}

// TestPingThenIdleKeepsTheConnection: a WebSocket ping with nothing after it (OkHttp's
// pingInterval on an idle subscription) does not start readWait: the connection lives on.
func TestPingThenIdleKeepsTheConnection(t *testing.T) {
	const wait = 200 * time.Millisecond
	exec := fakeExec{sources: make(chan *source, 1)}
	rc := dialRaw(t, Transport{readWait: wait}, exec)
	src := rc.subscribed(exec, "1")
	pongs := make(chan string, 1)
	rc.c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	if err := rc.c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * wait)
	src.send("a")
	if got, want := rc.read(), `{"type":"next","id":"1","payload":{"data":"a"}}`; got != want {
		t.Fatalf("after a ping and %v idle: got %s, want %s", 3*wait, got, want)
	}
	select {
	case p := <-pongs:
		if p != "hi" {
			t.Fatalf("pong %q", p)
		}
	default:
		t.Fatal("no pong")
	}
	// Still read: a second ping is answered and a message handled.
	if err := rc.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * wait)
	rc.write(`{"type":"ping"}`)
	if got := rc.read(); got != `{"type":"pong"}` {
		t.Fatalf("got %s", got)
	}
}

// TestReusedIDAfterClientComplete: the client's complete is answered at once, and the
// stopped operation sends nothing more, even when its resolver is slow to let go: an
// operation started again under its id is not ended by a stray complete.
func TestReusedIDAfterClientComplete(t *testing.T) {
	const slow = 200 * time.Millisecond
	exec := fakeExec{sources: make(chan *source, 1), slowEnd: slow}
	rc := dialRaw(t, Transport{}, exec)
	rc.subscribed(exec, "1")
	// Started again at once, before the answer to the client's complete came.
	rc.write(`{"type":"complete","id":"1"}`)
	rc.write(`{"type":"subscribe","id":"1","payload":{"query":"subscription { tick }"}}`)
	var src *source
	select {
	case src = <-exec.sources:
	case <-time.After(5 * time.Second):
		t.Fatal("the second subscription did not start")
	}
	src.send("b")
	if got := rc.read(); got != `{"type":"complete","id":"1"}` {
		t.Fatalf("got %s, want the complete answering the client's first", got)
	}
	if got, want := rc.read(), `{"type":"next","id":"1","payload":{"data":"b"}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	time.Sleep(2 * slow) // the stopped operation has ended by now
	rc.write(`{"type":"ping"}`)
	if got := rc.read(); got != `{"type":"pong"}` {
		t.Fatalf("got %s, want pong (a stray message under the reused id)", got)
	}
	src.send("c")
	if got, want := rc.read(), `{"type":"next","id":"1","payload":{"data":"c"}}`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// TestOversizedMessageFailsTheConnection: after a message over the limit the server sends
// 1009 and reads no more frames: the rest of the message is not parsed as frames (here
// pings, which would be answered), and the server's side ends at once, not after closeWait.
func TestOversizedMessageFailsTheConnection(t *testing.T) {
	for _, polled := range []bool{true, false} {
		t.Run(fmt.Sprint("polled=", polled), func(t *testing.T) {
			usePoller = polled
			t.Cleanup(func() { usePoller = true })
			rc := dialRaw(t, Transport{ReadLimit: 1024}, fakeExec{sources: make(chan *source, 1)})
			nc := rc.c.NetConn()
			b := []byte{0x81, 0x80 | 127}
			b = binary.BigEndian.AppendUint64(b, 2<<20)
			b = append(b, 0, 0, 0, 0) // mask
			for range 100 {
				b = append(b, 0x80|opPing, 0x80, 0, 0, 0, 0) // what a frame parser would take for pings
			}
			if _, err := nc.Write(b); err != nil {
				t.Fatal(err)
			}
			_ = nc.SetReadDeadline(time.Now().Add(closeWait / 2))
			got, err := io.ReadAll(nc)
			if err != nil {
				t.Fatalf("the server's side did not end before closeWait: %v (read % x)", err, got)
			}
			if want := []byte{0x80 | opClose, 2, 0x03, 0xF1}; !bytes.Equal(got, want) {
				t.Fatalf("read % x, want the close frame 1009 alone % x", got, want)
			}
		})
	}
}

// TestNothingFollowsTheCloseFrame: a message whose sender found the connection open before
// the close frame went is not written after it.
func TestNothingFollowsTheCloseFrame(t *testing.T) {
	server, client := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	c := newConn(ctx, cancel, server, protoTransport, Transport{}, fakeExec{}, nil)
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(client)
		got <- b
	}()
	// What close does, as a subscription's send had checked isClosed just before.
	c.write(opClose, closePayload(closeNormal, ""))
	c.send(c.p.next, "1", []byte(`{"data":"late"}`))
	_ = server.Close()
	if b, want := <-got, []byte{0x80 | opClose, 2, 0x03, 0xE8}; !bytes.Equal(b, want) {
		t.Fatalf("written % x, want the close frame alone % x", b, want)
	}
	cancel()
}
