package ws

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The transport's own mechanics, on an executor whose only operation is a subscription fed
// by the test: a subscription that announces its values holds no goroutine between them,
// with the poller and without it. The protocol as clients see it is tested through the API
// (graph/ws_transport_api_test.go, graph/subscription_api_test.go).

// source is the test's subscription: values sent on ch, announced by wake when the
// transport gave a waker.
type source struct {
	ch   chan string
	wake func()
}

func (s *source) send(v string) {
	s.ch <- v
	if s.wake != nil {
		s.wake()
	}
}

func (s *source) end() {
	close(s.ch)
	if s.wake != nil {
		s.wake()
	}
}

type fakeExec struct {
	sources chan *source
	buffer  int // of the subscription's channel; 1 when 0
	// slowEnd delays the handler's end once the operation is cancelled (a resolver slow to
	// let go).
	slowEnd time.Duration
}

func (fakeExec) CreateOperationContext(_ context.Context, p *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	return &graphql.OperationContext{RawQuery: p.Query, Variables: p.Variables}, nil
}

func (f fakeExec) DispatchOperation(ctx context.Context, _ *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	s := &source{ch: make(chan string, max(f.buffer, 1))}
	if take := Waker(ctx); take != nil {
		s.wake = take()
	}
	f.sources <- s
	return func(ctx context.Context) *graphql.Response {
		if ctx.Err() != nil { // as gqlgen's executor
			time.Sleep(f.slowEnd)
			return nil
		}
		select {
		case v, ok := <-s.ch:
			if !ok {
				return nil
			}
			return &graphql.Response{Data: json.RawMessage(`"` + v + `"`)}
		case <-ctx.Done():
			return nil
		}
	}, ctx
}

func (fakeExec) DispatchError(_ context.Context, list gqlerror.List) *graphql.Response {
	return &graphql.Response{Errors: list}
}

// transportGoroutines counts the goroutines in this package's code.
func transportGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "graph/ws.") && !strings.Contains(g, "graph/ws.Test") && !strings.Contains(g, "(*poller).wait") {
			n++
		}
	}
	return n
}

func TestAnnouncedSubscriptionHoldsNoGoroutine(t *testing.T) {
	// Not parallel: usePoller is the package's.
	for _, polled := range []bool{true, false} {
		name := "polled"
		if !polled {
			name = "a goroutine per connection"
		}
		t.Run(name, func(t *testing.T) {
			usePoller = polled
			t.Cleanup(func() { usePoller = true })
			exec := fakeExec{sources: make(chan *source, 1)}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				Transport{InitTimeout: 5 * time.Second}.Do(w, r, exec)
			}))
			defer srv.Close()

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{protoTransport.name}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			write := func(s string) {
				if err := c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
					t.Fatal(err)
				}
			}
			read := func() string {
				_, b, err := c.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			write(`{"type":"connection_init"}`)
			if got := read(); got != `{"type":"connection_ack"}` {
				t.Fatalf("got %s", got)
			}
			write(`{"type":"subscribe","id":"1","payload":{"query":"subscription { tick }"}}`)
			src := <-exec.sources
			if src.wake == nil {
				t.Fatal("no waker in the resolver's context")
			}

			want := 0
			if !polled {
				want = 1 // the connection's reader
			}
			var held int
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if held = transportGoroutines(); held <= want || time.Now().After(deadline) {
					break
				}
			}
			if held > want {
				t.Fatalf("an idle connection with a subscription holds %d goroutines of the transport, want %d", held, want)
			}

			for _, v := range []string{"a", "b"} {
				src.send(v)
				if got, want := read(), `{"type":"next","id":"1","payload":{"data":"`+v+`"}}`; got != want {
					t.Fatalf("got %s, want %s", got, want)
				}
			}
			src.end()
			if got := read(); got != `{"type":"complete","id":"1"}` {
				t.Fatalf("got %s", got)
			}
		})
	}
}

// TestAnnouncedValuesArriveInOrder: values announced together are sent in order, by one
// goroutine at a time (gqlgen's handler is not safe for concurrent calls).
func TestAnnouncedValuesArriveInOrder(t *testing.T) {
	t.Parallel()
	const n = 100
	exec := fakeExec{sources: make(chan *source, 1), buffer: n}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Transport{}.Do(w, r, exec)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), &websocket.DialOptions{Subprotocols: []string{protoTransport.name}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`))
	_, _, _ = c.Read(ctx)
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe","id":"1","payload":{"query":"subscription { tick }"}}`))
	src := <-exec.sources
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			src.send(string(rune('A' + i%26)))
		}
	}()
	for i := range n {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"data":"` + string(rune('A'+i%26)) + `"`; !strings.Contains(string(b), want) {
			t.Fatalf("message %d: %s, want %s", i, b, want)
		}
	}
	wg.Wait()
}
