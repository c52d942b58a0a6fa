package benchkit

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// echo answers each POST with its method, path, headers of interest and body; large bodies
// go out chunked (no Content-Length), small ones with a length.
func echo(t *testing.T, conns *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reply := r.Method + " " + r.URL.RequestURI() + " " + r.Header.Get("Content-Type") + " " +
			r.Header.Get("Authorization") + " " + string(b)
		if strings.HasPrefix(string(b), "big") {
			reply += strings.Repeat("x", 64<<10)
			w.(http.Flusher).Flush() // forces chunked encoding
		}
		if strings.HasPrefix(string(b), "close") {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, reply)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestConn(t *testing.T) {
	t.Run("requests go over one kept-alive connection", func(t *testing.T) {
		var conns atomic.Int64
		srv := echo(t, &conns)
		c, err := NewConn(srv.URL+"/graphql?x=1", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i := range 20 {
			status, raw, err := c.Post("tok", []byte("body"))
			if err != nil || status != 200 {
				t.Fatalf("post %d: %d %v", i, status, err)
			}
			if want := "POST /graphql?x=1 application/json Bearer tok body"; string(raw) != want {
				t.Fatalf("post %d: got %q, want %q", i, raw, want)
			}
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%d connections for 20 requests, want 1", n)
		}
	})

	t.Run("a chunked answer is read whole and the connection kept", func(t *testing.T) {
		var conns atomic.Int64
		srv := echo(t, &conns)
		c, _ := NewConn(srv.URL, time.Second)
		defer c.Close()
		for range 3 {
			_, raw, err := c.Post("", []byte("big"))
			if err != nil || len(raw) < 64<<10 || !strings.HasSuffix(string(raw), "xxx") {
				t.Fatalf("got %d bytes, %v", len(raw), err)
			}
		}
		if n := conns.Load(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})

	t.Run("no Authorization header without a token", func(t *testing.T) {
		var conns atomic.Int64
		srv := echo(t, &conns)
		c, _ := NewConn(srv.URL, time.Second)
		defer c.Close()
		_, raw, err := c.Post("", []byte("b"))
		if err != nil || string(raw) != "POST / application/json  b" {
			t.Fatalf("got %q, %v", raw, err)
		}
	})

	t.Run("Connection: close is honoured, and the next request dials again", func(t *testing.T) {
		var conns atomic.Int64
		srv := echo(t, &conns)
		c, _ := NewConn(srv.URL, time.Second)
		defer c.Close()
		for _, b := range []string{"close", "after"} {
			if _, _, err := c.Post("", []byte(b)); err != nil {
				t.Fatal(err)
			}
		}
		if n := conns.Load(); n != 2 {
			t.Errorf("%d connections, want 2", n)
		}
	})

	t.Run("a kept-alive connection the server closed is replaced, the request sent once", func(t *testing.T) {
		var conns, posts atomic.Int64
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			posts.Add(1)
			io.WriteString(w, "ok")
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		defer srv.Close()
		c, _ := NewConn(srv.URL, time.Second)
		defer c.Close()
		if _, _, err := c.Post("", []byte("1")); err != nil {
			t.Fatal(err)
		}
		srv.CloseClientConnections()
		status, raw, err := c.Post("", []byte("2"))
		if err != nil || status != 200 || string(raw) != "ok" {
			t.Fatalf("after the server closed the connection: %d %q %v", status, raw, err)
		}
		if n, p := conns.Load(), posts.Load(); n != 2 || p != 2 {
			t.Errorf("%d connections and %d requests served, want 2 and 2", n, p)
		}
	})

	t.Run("a silent server is a time-out, not a hang", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			nc, err := ln.Accept()
			if err == nil {
				defer nc.Close()
				io.Copy(io.Discard, nc)
			}
		}()
		c, _ := NewConn("http://"+ln.Addr().String()+"/graphql", 200*time.Millisecond)
		defer c.Close()
		start := time.Now()
		if _, _, err := c.Post("", []byte("x")); err == nil {
			t.Fatal("no error from a server that never answers")
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})

	t.Run("only http URLs", func(t *testing.T) {
		for _, u := range []string{"https://example.com/graphql", "127.0.0.1:8080", "http://"} {
			if _, err := NewConn(u, 0); err == nil {
				t.Errorf("%q accepted", u)
			}
		}
	})
}
