package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/order"
)

// Tests of the WebSocket transport's protocol behaviours (graph/ws) that the tracking tests
// (subscription_api_test.go) do not cover: ping/pong, the graphql-transport-ws close codes for
// protocol violations, the legacy protocol's keepalive, stop and terminate, queries over a
// socket, and the goroutines an idle connection holds.

// rawRead reads the next frame as it came, keepalives included; the client must not have
// started its reader (recv, closeStatus).
func (c *wsClient) rawRead() wsMessage {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), trackWait)
	defer cancel()
	_, b, err := c.conn.Read(ctx)
	require.NoError(c.t, err)
	var m wsMessage
	require.NoError(c.t, json.Unmarshal(b, &m), "%s", b)
	return m
}

func (c *wsClient) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), trackWait)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, websocket.MessageText, []byte(s)))
}

func TestWebSocketTransportProtocol(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	o := newTrackOrder(t, e, nil)
	srv := e.Server.Server

	t.Run("graphql-transport-ws", func(t *testing.T) {
		t.Run("a ping is answered with a pong carrying its payload, before and after the ack", func(t *testing.T) {
			c := mustDialWS(t, srv, protoTransportWS, nil)
			c.sendRaw(`{"type":"ping","payload":{"n":1}}`)
			m := c.rawRead()
			require.Equal(t, "pong", m.Type)
			require.JSONEq(t, `{"n":1}`, string(m.Payload))
			c.init(bearerInit(o.owner.Bearer))
			require.Equal(t, wsAck, c.rawRead().Type)
			c.sendRaw(`{"type":"ping"}`)
			m = c.rawRead()
			require.Equal(t, "pong", m.Type)
			require.Empty(t, m.Payload)
		})

		for name, tc := range map[string]struct {
			init bool
			send []string
			code websocket.StatusCode
		}{
			"a subscribe before connection_init closes with 4401 Unauthorized": {
				send: []string{`{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}}`}, code: 4401,
			},
			"a second connection_init closes with 4429": {
				init: true, send: []string{`{"type":"connection_init"}`}, code: 4429,
			},
			"a message that is not JSON closes with 4400": {
				init: true, send: []string{`{"type":`}, code: 4400,
			},
			"a message of an unknown type closes with 4400": {
				init: true, send: []string{`{"type":"start","id":"1","payload":{"query":"{ __typename }"}}`}, code: 4400,
			},
			"a subscribe without an id closes with 4400": {
				init: true, send: []string{`{"type":"subscribe","payload":{"query":"{ __typename }"}}`}, code: 4400,
			},
			"a subscribe with the id of a live subscription closes with 4409": {
				init: true, code: 4409, send: []string{
					fmt.Sprintf(`{"type":"subscribe","id":"1","payload":{"query":%q,"variables":{"id":%q,"after":-1}}}`, trackQuery, o.gid),
					fmt.Sprintf(`{"type":"subscribe","id":"1","payload":{"query":%q,"variables":{"id":%q,"after":-1}}}`, trackQuery, o.gid),
				},
			},
		} {
			t.Run(name, func(t *testing.T) {
				c := mustDialWS(t, srv, protoTransportWS, nil)
				if tc.init {
					c.init(bearerInit(o.owner.Bearer))
					c.ack()
				}
				for _, s := range tc.send {
					c.sendRaw(s)
				}
				require.Equal(t, tc.code, c.closeStatus(trackWait), "%v", c.endErr())
			})
		}

		t.Run("a completed id may be used again at once", func(t *testing.T) {
			c := connectWS(t, srv, protoTransportWS, nil, bearerInit(o.owner.Bearer))
			s := &wsSub{c: c, id: "same"}
			for range 3 {
				c.subscribe(s.id, trackQuery, trackVars(o.gid, -1))
				// The stopped operation's complete may come before or after the new one's event.
				for {
					it, ok := s.next(trackWait)
					require.True(t, ok, "the connection ended: %v", c.endErr())
					if it.Event != nil {
						require.Equal(t, 1, it.Event.Sequence, "%s", it.Raw)
						break
					}
					require.True(t, it.Done, "%s", it.Raw)
				}
				c.stop(s.id)
			}
			require.Nil(t, c.endErr())
		})

		t.Run("a query over the socket gets next then complete; an invalid one gets error then complete", func(t *testing.T) {
			c := connectWS(t, srv, protoTransportWS, nil, nil)
			c.subscribe("q", `{ __typename }`, nil)
			m, ok := c.recv(trackWait)
			require.True(t, ok)
			require.Equal(t, wsNext, m.Type)
			require.Contains(t, string(m.Payload), `"__typename":"Query"`)
			m, ok = c.recv(trackWait)
			require.True(t, ok)
			require.Equal(t, wsComplete, m.Type)
			require.Equal(t, "q", m.ID)

			c.subscribe("bad", `{ noSuchField }`, nil)
			m, ok = c.recv(trackWait)
			require.True(t, ok)
			require.Equal(t, wsError, m.Type, "%s", m.Payload) // validation: gqlgen's protocol error
			require.Contains(t, string(m.Payload), "GRAPHQL_VALIDATION_FAILED")
			m, ok = c.recv(trackWait)
			require.True(t, ok)
			require.Equal(t, wsComplete, m.Type)
		})
	})

	t.Run("graphql-ws", func(t *testing.T) {
		t.Run("connection_ack is followed by a keepalive", func(t *testing.T) {
			c := mustDialWS(t, srv, protoLegacyWS, nil)
			c.init(nil)
			require.Equal(t, "connection_ack", c.rawRead().Type)
			require.Equal(t, "ka", c.rawRead().Type)
		})

		t.Run("start streams data, stop ends the operation with complete", func(t *testing.T) {
			c := connectWS(t, srv, protoLegacyWS, nil, bearerInit(o.owner.Bearer))
			s := &wsSub{c: c, id: "1"}
			c.subscribe(s.id, trackQuery, trackVars(o.gid, -1))
			require.Equal(t, 1, nextEvent(t, s).Sequence)
			c.stop(s.id)
			it, ok := s.next(trackWait)
			require.True(t, ok)
			require.True(t, it.Done, "%s", it.Raw)
		})

		t.Run("a start with the id of a live operation replaces it", func(t *testing.T) {
			c := connectWS(t, srv, protoLegacyWS, nil, bearerInit(o.owner.Bearer))
			s := &wsSub{c: c, id: "1"}
			c.subscribe(s.id, trackQuery, trackVars(o.gid, -1))
			require.Equal(t, 1, nextEvent(t, s).Sequence)
			c.subscribe(s.id, trackQuery, trackVars(o.gid, -1))
			require.Equal(t, 1, nextEvent(t, s).Sequence, "the new operation starts over")
			require.Nil(t, c.endErr())
		})

		t.Run("a message before connection_init gets connection_error and 1002", func(t *testing.T) {
			c := mustDialWS(t, srv, protoLegacyWS, nil)
			c.subscribe("1", `{ __typename }`, nil)
			m := c.rawRead()
			require.Equal(t, wsConnError, m.Type)
			require.Contains(t, string(m.Payload), "unexpected message start")
			require.Equal(t, websocket.StatusProtocolError, c.closeStatus(trackWait))
		})

		t.Run("a message that is not JSON gets connection_error and 1002", func(t *testing.T) {
			c := connectWS(t, srv, protoLegacyWS, nil, nil)
			c.sendRaw(`not json`)
			m, ok := c.recv(trackWait)
			require.True(t, ok)
			require.Equal(t, wsConnError, m.Type)
			require.Equal(t, websocket.StatusProtocolError, c.closeStatus(trackWait))
		})

		t.Run("connection_terminate closes with 1000", func(t *testing.T) {
			c := connectWS(t, srv, protoLegacyWS, nil, bearerInit(o.owner.Bearer))
			c.subscribe("1", trackQuery, trackVars(o.gid, -1))
			require.Equal(t, 1, nextEvent(t, &wsSub{c: c, id: "1"}).Sequence)
			c.sendRaw(`{"type":"connection_terminate"}`)
			require.Equal(t, websocket.StatusNormalClosure, c.closeStatus(trackWait))
		})
	})

	t.Run("a message over the read limit closes with 1009", func(t *testing.T) {
		c := connectWS(t, srv, protoTransportWS, nil, nil)
		big := `{"type":"ping","payload":{"x":"` + strings.Repeat("a", 1<<20) + `"}}`
		ctx, cancel := context.WithTimeout(context.Background(), trackWait)
		defer cancel()
		_ = c.conn.Write(ctx, websocket.MessageText, []byte(big)) // the server may close first
		require.Equal(t, websocket.StatusMessageTooBig, c.closeStatus(trackWait))
	})
}

// serverGoroutines counts the goroutines of this process that serve WebSockets and
// subscriptions (the transport, gqlgen, the tracking streams, net/http's connections),
// leaving out the test's own clients.
func serverGoroutines() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "graph_test.") || strings.Contains(g, "coder/websocket") {
			continue
		}
		for _, mark := range []string{"shopgraph/graph/ws.", "99designs/gqlgen", "shopgraph/internal/tracking.", "net/http.(*conn).serve"} {
			if strings.Contains(g, mark) {
				n++
				break
			}
		}
	}
	return n
}

// TestIdleWebSocketsHoldNoGoroutine: an idle connection with a live subscription holds no
// goroutine on Linux (the transport's poller, one for the server, starts one when the client
// writes) and one elsewhere (its reader), not gqlgen's three (reader under net/http's handler,
// closeOnCancel, one per subscription waiting on its channel), and still gets the next event.
func TestIdleWebSocketsHoldNoGoroutine(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	o := newTrackOrder(t, e, nil)
	const n = 40
	before := serverGoroutines()
	subs := make([]*wsSub, n)
	for i := range subs {
		c := connectWS(t, e.Server.Server, trackWSProtocols[i%2], nil, bearerInit(o.owner.Bearer))
		subs[i] = &wsSub{c: c, id: "1"}
		c.subscribe("1", trackQuery, trackVars(o.gid, -1))
		require.Equal(t, 1, nextEvent(t, subs[i]).Sequence)
	}
	limit := n / 10
	if runtime.GOOS != "linux" {
		limit += n
	}
	var held int
	require.Eventually(t, func() bool {
		held = serverGoroutines() - before
		return held <= limit
	}, 5*time.Second, 50*time.Millisecond, "goroutines")
	t.Logf("%d idle connections with a subscription each hold %d goroutines", n, held)

	moveOrder(t, e.Server, o.id, order.Paid, "paid")
	for _, s := range subs {
		ev := nextEvent(t, s)
		require.Equal(t, 2, ev.Sequence)
		require.Equal(t, "PAID", ev.Status)
	}
	for _, s := range subs {
		s.c.stop(s.id)
		it, ok := s.next(trackWait)
		require.True(t, ok)
		require.True(t, it.Done, "%s", it.Raw)
	}
}
