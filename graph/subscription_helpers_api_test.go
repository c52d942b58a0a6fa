package graph_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// Helpers of the live order tracking tests (subscription_api_test.go, e2e_browser_api_test.go): a
// raw WebSocket client speaking both GraphQL subprotocols (so that tests see close codes and
// error payloads exactly), a Server-Sent Events reader, one interface over the three
// transports, a second server instance on the first one's database, and signed Stripe webhooks.

// The WebSocket subprotocols and the SSE transport of /graphql.
const (
	// protoTransportWS is graphql-ws (the library)'s protocol.
	protoTransportWS = "graphql-transport-ws"
	// protoLegacyWS is subscriptions-transport-ws's protocol.
	protoLegacyWS = "graphql-ws"
	// transportSSE is GraphQL over Server-Sent Events (POST, Accept: text/event-stream).
	transportSSE = "sse"
)

var (
	trackWSProtocols = []string{protoTransportWS, protoLegacyWS}
	trackTransports  = []string{protoTransportWS, protoLegacyWS, transportSSE}
)

// trackWait bounds every wait for a message that should come.
const trackWait = 10 * time.Second

const (
	trackQuery = `subscription Track($id: ID!, $after: Int) {
  orderStatusChanged(orderId: $id, after: $after) {
    sequence position status previousStatus note order { id status trackingNumber }
  }
}`
	// trackQueryBare selects no field with a resolver: nothing but the event itself.
	trackQueryBare = `subscription TrackBare($id: ID!, $after: Int) {
  orderStatusChanged(orderId: $id, after: $after) { sequence position status }
}`
	feedQuery = `subscription Feed($after: Int64) {
  orderEvents(after: $after) { sequence position status previousStatus order { id } }
}`
)

// wsMessage is one frame of either protocol, types normalised by the client.
type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Normalised message types (the legacy protocol's names on the right).
const (
	wsAck       = "connection_ack"
	wsConnError = "connection_error"
	wsNext      = "next"     // data
	wsError     = "error"    // error
	wsComplete  = "complete" // complete
)

// wsClient is a raw GraphQL WebSocket client. It starts reading only when first asked for a
// message, so that a test can leave a socket unread.
type wsClient struct {
	t     *testing.T
	proto string
	conn  *websocket.Conn

	readOnce sync.Once
	msgs     chan wsMessage
	done     chan struct{}
	readErr  error // why reading stopped; set before done is closed
}

// trackWSURL is srv's GraphQL WebSocket URL.
func trackWSURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"
}

// dialWS opens a WebSocket to srv's /graphql offering proto, with header on the upgrade
// request. It returns the upgrade response too (for refusals).
func dialWS(t *testing.T, srv *httptest.Server, proto string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), trackWait)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, trackWSURL(srv), &websocket.DialOptions{
		Subprotocols: []string{proto},
		HTTPHeader:   header,
	})
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 22)
	require.Equal(t, proto, conn.Subprotocol(), "the server picked another subprotocol")
	c := &wsClient{t: t, proto: proto, conn: conn, msgs: make(chan wsMessage, 8192), done: make(chan struct{})}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c, resp, nil
}

// mustDialWS is dialWS that fails the test on a refused upgrade.
func mustDialWS(t *testing.T, srv *httptest.Server, proto string, header http.Header) *wsClient {
	t.Helper()
	c, resp, err := dialWS(t, srv, proto, header)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	require.NoError(t, err, "upgrade refused (HTTP %d)", status)
	return c
}

// connect dials and completes connection_init/connection_ack with payload (nil: no payload).
func connectWS(t *testing.T, srv *httptest.Server, proto string, header http.Header, payload map[string]any) *wsClient {
	t.Helper()
	c := mustDialWS(t, srv, proto, header)
	c.init(payload)
	c.ack()
	return c
}

// bearerInit is a connection_init payload carrying token as Authorization.
func bearerInit(token string) map[string]any {
	return map[string]any{"Authorization": "Bearer " + token}
}

func (c *wsClient) send(m any) {
	c.t.Helper()
	b, err := json.Marshal(m)
	require.NoError(c.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), trackWait)
	defer cancel()
	require.NoError(c.t, c.conn.Write(ctx, websocket.MessageText, b))
}

// init sends connection_init.
func (c *wsClient) init(payload map[string]any) {
	c.t.Helper()
	m := map[string]any{"type": "connection_init"}
	if payload != nil {
		m["payload"] = payload
	}
	c.send(m)
}

// ack waits for connection_ack.
func (c *wsClient) ack() {
	c.t.Helper()
	m, ok := c.recv(trackWait)
	require.True(c.t, ok, "no connection_ack (connection ended: %v)", c.endErr())
	require.Equal(c.t, wsAck, m.Type, "payload: %s", m.Payload)
}

// subscribe starts operation id.
func (c *wsClient) subscribe(id, query string, vars map[string]any) {
	c.t.Helper()
	typ := "subscribe"
	if c.proto == protoLegacyWS {
		typ = "start"
	}
	c.send(map[string]any{"type": typ, "id": id, "payload": map[string]any{"query": query, "variables": vars}})
}

// stop ends operation id from the client side.
func (c *wsClient) stop(id string) {
	c.t.Helper()
	typ := "complete"
	if c.proto == protoLegacyWS {
		typ = "stop"
	}
	c.send(map[string]any{"type": typ, "id": id})
}

func (c *wsClient) startReading() {
	c.readOnce.Do(func() {
		go func() {
			defer close(c.done)
			for {
				_, b, err := c.conn.Read(context.Background())
				if err != nil {
					c.readErr = err
					return
				}
				var m wsMessage
				if err := json.Unmarshal(b, &m); err != nil {
					c.readErr = fmt.Errorf("undecodable frame %q: %w", b, err)
					return
				}
				switch m.Type {
				case "ka", "pong":
					continue // keepalives
				case "ping":
					// graphql-transport-ws: answer pings, as the graphql-ws library does.
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					_ = c.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
					cancel()
					continue
				case "data":
					m.Type = wsNext
				}
				c.msgs <- m
			}
		}()
	})
}

// recv returns the next message other than a keepalive; false when none came within wait or
// the connection ended.
func (c *wsClient) recv(wait time.Duration) (wsMessage, bool) {
	c.startReading()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case m := <-c.msgs:
		return m, true
	case <-c.done:
		select { // messages read before the end
		case m := <-c.msgs:
			return m, true
		default:
			return wsMessage{}, false
		}
	case <-timer.C:
		return wsMessage{}, false
	}
}

// endErr is why the connection ended, or nil while it is open.
func (c *wsClient) endErr() error {
	select {
	case <-c.done:
		return c.readErr
	default:
		return nil
	}
}

// closeStatus waits up to wait for the server to close the connection, skipping any message,
// and returns the close code (-1 for an end without a close frame, 0 for a timeout).
func (c *wsClient) closeStatus(wait time.Duration) websocket.StatusCode {
	c.startReading()
	deadline := time.After(wait)
	for {
		select {
		case <-c.msgs:
		case <-c.done:
			return websocket.CloseStatus(c.readErr)
		case <-deadline:
			return 0
		}
	}
}

// trackEvent is an OrderStatusEvent as the subscription queries select it.
type trackEvent struct {
	Sequence       int     `json:"sequence"`
	Position       int64   `json:"position"`
	Status         string  `json:"status"`
	PreviousStatus *string `json:"previousStatus"`
	Note           string  `json:"note"`
	Order          *struct {
		ID             string  `json:"id"`
		Status         string  `json:"status"`
		TrackingNumber *string `json:"trackingNumber"`
	} `json:"order"`
}

// trackError is a GraphQL error as a subscription reports it.
type trackError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

func (e trackError) code() string { c, _ := e.Extensions["code"].(string); return c }

// trackItem is what a subscription yielded: an event, errors (in a result or as the
// protocol's error message), or its end.
type trackItem struct {
	Event  *trackEvent
	Errors []trackError
	// Done: the server completed the operation (or, for SSE, ended the stream).
	Done bool
	// Raw is the payload as received, for failure messages.
	Raw string
}

func (it trackItem) codes() []string {
	out := make([]string, len(it.Errors))
	for i, e := range it.Errors {
		out[i] = e.code()
	}
	return out
}

// decodeTrackResult turns a GraphQL result {data, errors} into an item.
func decodeTrackResult(t *testing.T, payload []byte) trackItem {
	t.Helper()
	var res struct {
		Data   map[string]*trackEvent `json:"data"`
		Errors []trackError           `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(payload, &res), "result: %s", payload)
	it := trackItem{Errors: res.Errors, Raw: string(payload)}
	for _, ev := range res.Data {
		if ev != nil {
			it.Event = ev
		}
	}
	return it
}

// trackSub is one subscription over any transport.
type trackSub interface {
	// next returns the next item; ok is false when nothing came within wait.
	next(wait time.Duration) (it trackItem, ok bool)
	// close ends the subscription from the client side (and its connection).
	close()
}

// wsSub is operation id on a wsClient.
type wsSub struct {
	c  *wsClient
	id string
}

func (s *wsSub) next(wait time.Duration) (trackItem, bool) {
	s.c.t.Helper()
	for {
		m, ok := s.c.recv(wait)
		if !ok {
			return trackItem{}, false
		}
		if m.ID != s.id {
			if m.Type == wsConnError {
				return trackItem{Errors: []trackError{{Message: string(m.Payload)}}, Done: true, Raw: string(m.Payload)}, true
			}
			continue // another operation's
		}
		switch m.Type {
		case wsNext:
			return decodeTrackResult(s.c.t, m.Payload), true
		case wsError:
			it := trackItem{Raw: string(m.Payload)}
			// graphql-transport-ws sends a list of errors; be lenient about a single one.
			if err := json.Unmarshal(m.Payload, &it.Errors); err != nil {
				var one trackError
				require.NoError(s.c.t, json.Unmarshal(m.Payload, &one), "error payload: %s", m.Payload)
				it.Errors = []trackError{one}
			}
			return it, true
		case wsComplete:
			return trackItem{Done: true}, true
		default:
			s.c.t.Fatalf("unexpected %s message: %s", m.Type, m.Payload)
		}
	}
}

func (s *wsSub) close() { _ = s.c.conn.Close(websocket.StatusNormalClosure, "") }

// sseSub is a subscription over Server-Sent Events.
type sseSub struct {
	t      *testing.T
	cancel context.CancelFunc
	items  chan trackItem
	done   chan struct{}
}

func (s *sseSub) next(wait time.Duration) (trackItem, bool) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case it, ok := <-s.items:
		if !ok {
			return trackItem{Done: true}, true
		}
		return it, true
	case <-timer.C:
		return trackItem{}, false
	}
}

func (s *sseSub) close() {
	s.cancel()
	<-s.done
}

// openSSE POSTs a subscription with Accept: text/event-stream and reads the stream. token
// "" sends none.
func openSSE(t *testing.T, srv *httptest.Server, token, query string, vars map[string]any) *sseSub {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		require.NoError(t, err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		_ = resp.Body.Close()
		t.Fatalf("SSE subscription answered HTTP %d", resp.StatusCode)
	}
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	s := &sseSub{t: t, cancel: cancel, items: make(chan trackItem, 8192), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer close(s.items)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		event, data := "", ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				switch {
				case event == "complete":
					return
				case data != "":
					var it trackItem
					var res struct {
						Data   map[string]*trackEvent `json:"data"`
						Errors []trackError           `json:"errors"`
					}
					if err := json.Unmarshal([]byte(data), &res); err != nil {
						it = trackItem{Errors: []trackError{{Message: "undecodable SSE data: " + data}}, Raw: data}
					} else {
						it = trackItem{Errors: res.Errors, Raw: data}
						for _, ev := range res.Data {
							if ev != nil {
								it.Event = ev
							}
						}
					}
					s.items <- it
				}
				event, data = "", ""
			case strings.HasPrefix(line, ":"):
				// comment (keepalive)
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

// openTrack subscribes to query with vars over transport as the holder of token ("" for
// none). Over WebSocket the token travels in the connection_init payload.
func openTrack(t *testing.T, srv *httptest.Server, transport, token, query string, vars map[string]any) trackSub {
	t.Helper()
	if transport == transportSSE {
		return openSSE(t, srv, token, query, vars)
	}
	var payload map[string]any
	if token != "" {
		payload = bearerInit(token)
	}
	c := connectWS(t, srv, transport, nil, payload)
	c.subscribe("1", query, vars)
	return &wsSub{c: c, id: "1"}
}

// trackVars are orderStatusChanged's variables; after < 0 leaves `after` out.
func trackVars(orderID string, after int) map[string]any {
	v := map[string]any{"id": orderID}
	if after >= 0 {
		v["after"] = after
	}
	return v
}

// nextEvent requires the next item to be an event without errors.
func nextEvent(t *testing.T, s trackSub) trackEvent {
	t.Helper()
	it, ok := s.next(trackWait)
	require.True(t, ok, "no event within %s", trackWait)
	require.Empty(t, it.Errors, "unexpected errors: %s", it.Raw)
	require.False(t, it.Done, "the subscription ended")
	require.NotNil(t, it.Event, "no event in %s", it.Raw)
	return *it.Event
}

// nextEnd reads until the subscription reports an error or ends (skipping events, which are
// returned) and returns the error codes seen.
func nextEnd(t *testing.T, s trackSub, wait time.Duration) (codes []string, events []trackEvent, raw string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		it, ok := s.next(time.Until(deadline))
		require.True(t, ok, "the subscription neither failed nor ended within %s (%d events)", wait, len(events))
		if it.Event != nil && len(it.Errors) == 0 {
			events = append(events, *it.Event)
			continue
		}
		if len(it.Errors) > 0 {
			return it.codes(), events, it.Raw
		}
		if it.Done {
			return nil, events, ""
		}
		t.Fatalf("unexpected item: %s", it.Raw)
	}
}

// requireQuiet fails if s yields anything within wait.
func requireQuiet(t *testing.T, s trackSub, wait time.Duration) {
	t.Helper()
	if it, ok := s.next(wait); ok {
		t.Fatalf("expected nothing more, got %+v (%s)", it.Event, it.Raw)
	}
}

// sequences are the events' sequence numbers.
func sequences(events []trackEvent) []int {
	out := make([]int, len(events))
	for i, e := range events {
		out[i] = e.Sequence
	}
	return out
}

// seqRange is from..to.
func seqRange(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// shopEnvOn is newShopEnv's fixtures on an existing server.
func shopEnvOn(t *testing.T, srv *apitest.Server) *apitest.Env {
	t.Helper()
	e := &apitest.Env{Server: srv}
	e.AdminID = e.InsertUsers(t, auth.RoleAdmin, 1)[0]
	e.Admin = e.ClientFor(t, e.AdminID, auth.RoleAdmin)
	return e
}

// newTestServerSharing starts a second instance on first's database, Redis and Redis key
// prefix — another process of the same deployment.
func newTestServerSharing(t *testing.T, first *apitest.Server) *apitest.Server {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     first.App.Config.DatabaseURL,
		"REDIS_URL":        first.App.Config.RedisURL,
		"REDIS_KEY_PREFIX": first.App.Config.RedisKeyPrefix,
		"LOG_LEVEL":        "warn",
		"STRIPE_API_BASE":  apitest.StripeURL(),
		"REQUEST_TIMEOUT":  "2m",
		"DB_MAX_CONNS":     "4",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	logs := &apitest.LockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	counter := &postgres.StatementCounter{}
	a, err := app.Open(context.Background(), cfg, log, app.Options{Work: true, Tracer: counter, PollOnly: true})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &apitest.Server{Server: srv, App: a, Statements: counter, Logs: logs}
}

// newTwinServers starts two instances sharing a fresh database and the Redis at redisURL.
func newTwinServers(t *testing.T, redisURL string) (a, b *apitest.Server) {
	t.Helper()
	a = apitest.NewServer(t, map[string]string{"REDIS_URL": redisURL})
	return a, newTestServerSharing(t, a)
}

// waitRedisSubscribers waits until srv's bus channel has n Redis subscribers (the instances'
// buses are subscribed), so that nothing published next is lost to a subscription still
// being set up.
func waitRedisSubscribers(t *testing.T, srv *apitest.Server, n int64) {
	t.Helper()
	channel := srv.App.Bus.Channel()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		counts, err := srv.App.Redis.PubSubNumSub(ctx, channel).Result()
		return err == nil && counts[channel] >= n
	}, trackWait, 20*time.Millisecond, "the instances never subscribed to %s", channel)
}

// trackOrder is an order of a test's: its global and numeric id, owner and payment intent.
type trackOrder struct {
	gid    string
	id     int64
	owner  *apitest.Client
	userID int64
}

// newTrackOrder has a new customer buy one unit of a new product (of vendor, when not nil).
func newTrackOrder(t *testing.T, e *apitest.Env, vendor *int64) trackOrder {
	t.Helper()
	c, uid := e.Customer(t)
	var v apitest.Variant
	if vendor == nil {
		v = e.Variant(t, 1250, 100)
	} else {
		v = e.Product(t, apitest.ProductOptions{VendorID: vendor, Variants: []catalog.VariantInput{{Name: "Default", Price: 1250, Stock: 100}}})[0]
	}
	o := buy(t, c, v, 1)
	return trackOrder{gid: o.ID, id: trackDBID(t, o.ID), owner: c, userID: uid}
}

// trackDBID decodes an Order global ID.
func trackDBID(t *testing.T, gid string) int64 {
	t.Helper()
	return apitest.OrderNumber(t, gid)
}

// moveOrder drives order id to status directly through the order service, as the system.
func moveOrder(t *testing.T, srv *apitest.Server, id int64, to order.Status, note string) {
	t.Helper()
	opts := order.TransitionOptions{Note: note}
	if to == order.Shipped {
		tracking := "TRK-" + note
		opts.TrackingNumber = &tracking
	}
	_, err := srv.App.Orders.Transition(context.Background(), order.SystemActor, id, to, opts)
	require.NoError(t, err, "move order %d to %s", id, to)
}

// sendPaymentSucceeded delivers a correctly signed payment_intent.succeeded for order id's
// intent, for its whole amount, to srv's webhook, and requires 200.
func sendPaymentSucceeded(t *testing.T, srv *apitest.Server, id int64) {
	t.Helper()
	status, body := postPaymentSucceeded(srv, id)
	require.Equal(t, http.StatusOK, status, "webhook answered %s", body)
}

// postPaymentSucceeded is sendPaymentSucceeded returning the answer (for goroutines).
func postPaymentSucceeded(srv *apitest.Server, id int64) (int, string) {
	ctx := context.Background()
	p, err := srv.App.Payments.ForOrder(ctx, id)
	if err != nil {
		return 0, fmt.Sprintf("order %d has no payment: %v", id, err)
	}
	status, body, err := payment.SendEvent(ctx, srv.URL+"/webhooks/stripe", srv.App.Config.StripeWebhookSecret, payment.EventSpec{
		Type: "payment_intent.succeeded", IntentID: p.IntentID, Amount: p.Amount.Amount, Currency: p.Amount.Currency,
	})
	if err != nil {
		return 0, err.Error()
	}
	return status, body
}

// injectTracer counts statements like newTestServer's tracer and runs a test's code right
// before or right after chosen statements: it injects events into the windows between a
// subscription's live attach, its replay from Postgres and its first live event.
type injectTracer struct {
	*postgres.StatementCounter
	mu    sync.Mutex
	hooks []*queryHook
}

// queryHook runs before (before the statement is sent) and after (once its rows were read),
// once, for the first statement whose SQL contains sql and whose arguments match.
type queryHook struct {
	sql           string
	match         func(args []any) bool
	before, after func()
	fired         bool
}

type injectKey struct{}

func (tr *injectTracer) add(h *queryHook) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.hooks = append(tr.hooks, h)
}

func (tr *injectTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	ctx = tr.StatementCounter.TraceQueryStart(ctx, conn, data)
	tr.mu.Lock()
	var hook *queryHook
	for _, h := range tr.hooks {
		if !h.fired && strings.Contains(data.SQL, h.sql) && (h.match == nil || h.match(statementArgs(data.Args))) {
			h.fired, hook = true, h
			break
		}
	}
	tr.mu.Unlock()
	if hook == nil {
		return ctx
	}
	if hook.before != nil {
		hook.before()
	}
	return context.WithValue(ctx, injectKey{}, hook)
}

// statementArgs are a traced statement's arguments without the pgx option that may lead them
// (postgres.DB.CustomPlans passes pgx.QueryExecModeExec first).
func statementArgs(args []any) []any {
	if len(args) > 0 {
		if _, ok := args[0].(pgx.QueryExecMode); ok {
			return args[1:]
		}
	}
	return args
}

func (tr *injectTracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryEndData) {
	tr.StatementCounter.TraceQueryEnd(ctx, conn, data)
	if h, ok := ctx.Value(injectKey{}).(*queryHook); ok && h.after != nil {
		h.after()
	}
}

// newInjectServer is newTestServer (on Redis when `make test` found one) with an injectTracer.
func newInjectServer(t *testing.T) (*apitest.Server, *injectTracer) {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     pgtest.NewURL(t),
		"REDIS_KEY_PREFIX": "sgtest:" + uuid.NewString() + ":",
		"LOG_LEVEL":        "warn",
		"STRIPE_API_BASE":  apitest.StripeURL(),
		"REDIS_URL":        apitest.RedisURL(t),
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	logs := &apitest.LockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	tracer := &injectTracer{StatementCounter: &postgres.StatementCounter{}}
	a, err := app.Open(context.Background(), cfg, log, app.Options{Migrate: true, Work: true, Tracer: tracer, PollOnly: true})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return &apitest.Server{Server: srv, App: a, Statements: tracer.StatementCounter, Logs: logs}, tracer
}
