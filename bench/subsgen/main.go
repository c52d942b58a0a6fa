// Command subsgen is shopgraph's live-tracking load generator (standard library plus
// github.com/coder/websocket), driven by bench/subs.sh; see bench/README.md, "Live tracking".
//
//	subsgen setup  -url URL -admin-email E -admin-password P -variant 7 -orders 2 -out state.json
//	subsgen mem    -url URL -state state.json -conns 500 -per-conn 20 -pid PID -debug URL -json s1.json
//	subsgen fanout -sub-url URL_B -mut-url URL_A -state state.json -subscribers 1000 -events 30 -json s2.json
//	subsgen report -dir DIR
//
// Scenarios:
//
//	S1  memory: -conns graphql-transport-ws connections, -per-conn subscriptions each, all to
//	    orderStatusChanged(orderId, after: 0) of one PENDING order of one customer (the owner's
//	    token in the connection_init payload). Once every subscription has received its first
//	    event (the stored PENDING one), the server's resident set (VmRSS of /proc/<pid>/status)
//	    and its Go runtime figures (goroutines, live heap after a forced GC; read from the
//	    benchmark-only debug listener) are compared with the same figures before: bytes per
//	    subscription. Then the subscriptions are held -hold idle while the server's CPU time and
//	    the database's transactions are counted, and closed: the goroutines must return to the
//	    baseline.
//	S2  fan-out: -subscribers subscriptions on instance B (-sub-url) to orderStatusChanged of
//	    one PAID order (after: its last sequence − 1, so each first receives that stored event:
//	    proof that it is live). Then an admin moves the order to PARTIALLY_REFUNDED -events times
//	    through instance A (-mut-url), one every -interval; each change is stamped just before
//	    the mutation is sent and just after its response is read (the commit happened between
//	    the two; the event is published to Redis after the commit, before the response). Per
//	    subscriber and event: delivery time − stamp. Every subscriber must receive every event
//	    exactly once, in order.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

// The operations, exactly as documented in bench/README.md.
const (
	mutLogin    = `mutation Login($input: AccountLoginInput!) { accountLogin(input: $input) { user { id } tokens { accessToken } userErrors { code message } } }`
	mutCartAdd  = `mutation CartItemAdd($input: CartItemAddInput!) { cartItemAdd(input: $input) { cart { totalQuantity } userErrors { code message } } }`
	mutCheckout = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { id status } payment { intentId status } userErrors { code message } } }`
	mutStatus   = `mutation OrderStatusUpdate($input: OrderStatusUpdateInput!) { orderStatusUpdate(input: $input) { order { id status } userErrors { code message } } }`
	qOrder      = `query Order($id: ID!) { order(id: $id) { id status events { sequence status } } }`

	// subFull is what an app watching its order asks for: the event and the order as it is now
	// (the `order` field is also where the server reports the error that ends a stream).
	subFull = `subscription OrderStatusChanged($orderId: ID!, $after: Int) { orderStatusChanged(orderId: $orderId, after: $after) { sequence status previousStatus at order { id status } } }`
	// subLean is the event alone, without the per-event order lookup.
	subLean = `subscription OrderStatusChanged($orderId: ID!, $after: Int) { orderStatusChanged(orderId: $orderId, after: $after) { sequence status previousStatus at } }`
)

const protocol = "graphql-transport-ws"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "setup":
		err = cmdSetup(os.Args[2:])
	case "mem":
		err = cmdMem(os.Args[2:])
	case "fanout":
		err = cmdFanout(os.Args[2:])
	case "report":
		err = cmdReport(os.Args[2:])
	case "-h", "--help", "help":
		usage()
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "subsgen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: subsgen setup|mem|fanout|report [flags]  (subsgen CMD -h for the flags)")
	os.Exit(2)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "subsgen: "+format+"\n", args...)
}

// ---------------------------------------------------------------------------
// HTTP

// httpClient carries the few requests made outside the WebSockets (setup, logins, status
// changes, the debug listener), one at a time: 16 idle connections are plenty.
var httpClient = benchkit.NewClient(8, 30*time.Second)

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type userError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// post sends one operation and decodes the answer's data into out.
func post(ctx context.Context, url, token, query, op string, vars map[string]any, out any) error {
	b := benchkit.Body(query, op, vars)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, benchkit.Truncate(string(raw), 200))
	}
	var env struct {
		Data   json.RawMessage `json:"data"`
		Errors []gqlError      `json:"errors"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s: decode: %s", op, benchkit.Truncate(string(raw), 200))
	}
	if len(env.Errors) > 0 {
		return fmt.Errorf("%s: %s", op, env.Errors[0].Message)
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("%s: decode data: %w", op, err)
		}
	}
	return nil
}

func firstUserError(ue []userError) error {
	if len(ue) == 0 {
		return nil
	}
	return fmt.Errorf("userError %s: %s", ue[0].Code, ue[0].Message)
}

func login(ctx context.Context, url, email, password string) (string, error) {
	var data struct {
		AccountLogin struct {
			Tokens *struct {
				AccessToken string `json:"accessToken"`
			} `json:"tokens"`
			UserErrors []userError `json:"userErrors"`
		} `json:"accountLogin"`
	}
	if err := post(ctx, url, "", mutLogin, "Login", map[string]any{"input": map[string]any{"email": email, "password": password}}, &data); err != nil {
		return "", err
	}
	if err := firstUserError(data.AccountLogin.UserErrors); err != nil {
		return "", fmt.Errorf("login %s: %w", email, err)
	}
	if data.AccountLogin.Tokens == nil {
		return "", fmt.Errorf("login %s: no tokens", email)
	}
	return data.AccountLogin.Tokens.AccessToken, nil
}

type orderInfo struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Events []struct {
		Sequence int    `json:"sequence"`
		Status   string `json:"status"`
	} `json:"events"`
}

func (o orderInfo) lastSequence() int {
	last := 0
	for _, e := range o.Events {
		last = max(last, e.Sequence)
	}
	return last
}

func getOrder(ctx context.Context, url, token, id string) (orderInfo, error) {
	var data struct {
		Order *orderInfo `json:"order"`
	}
	if err := post(ctx, url, token, qOrder, "Order", map[string]any{"id": id}, &data); err != nil {
		return orderInfo{}, err
	}
	if data.Order == nil {
		return orderInfo{}, fmt.Errorf("order %s not found", id)
	}
	return *data.Order, nil
}

func setStatus(ctx context.Context, url, token, id, status, note string) (string, error) {
	var data struct {
		OrderStatusUpdate struct {
			Order *struct {
				Status string `json:"status"`
			} `json:"order"`
			UserErrors []userError `json:"userErrors"`
		} `json:"orderStatusUpdate"`
	}
	input := map[string]any{"id": id, "status": status}
	if note != "" {
		input["note"] = note
	}
	if err := post(ctx, url, token, mutStatus, "OrderStatusUpdate", map[string]any{"input": input}, &data); err != nil {
		return "", err
	}
	if err := firstUserError(data.OrderStatusUpdate.UserErrors); err != nil {
		return "", err
	}
	if data.OrderStatusUpdate.Order == nil {
		return "", errors.New("orderStatusUpdate: no order")
	}
	return data.OrderStatusUpdate.Order.Status, nil
}

// ---------------------------------------------------------------------------
// setup

// State is what setup leaves for mem and fanout: who to log in as and which orders to watch.
// Tokens are not kept: access tokens live 15 minutes, so every command signs in afresh.
type State struct {
	CustomerEmail    string   `json:"customer_email"`
	CustomerPassword string   `json:"customer_password"`
	AdminEmail       string   `json:"admin_email"`
	AdminPassword    string   `json:"admin_password"`
	Orders           []string `json:"orders"` // global IDs; Orders[0] stays PENDING (S1), Orders[1] is PAID (S2)
}

func cmdSetup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint")
	adminEmail := fs.String("admin-email", "", "an existing admin (shopgraph admin create)")
	adminPassword := fs.String("admin-password", "", "its password")
	variant := fs.Int64("variant", 0, "database id of an in-stock variant to order")
	n := fs.Int("orders", 2, "orders to place (one cartItemAdd + checkout each); all but the first are moved to PAID")
	out := fs.String("out", "state.json", "where to write the state")
	_ = fs.Parse(args)
	if *adminEmail == "" || *adminPassword == "" || *variant <= 0 || *n < 1 {
		return errors.New("setup needs -admin-email, -admin-password, -variant and -orders ≥ 1")
	}
	ctx := context.Background()
	st := State{
		CustomerEmail: "subs-" + benchkit.Nonce() + "@bench.example.com", CustomerPassword: "bench-password-1",
		AdminEmail: *adminEmail, AdminPassword: *adminPassword,
	}
	var reg struct {
		AccountRegister struct {
			Tokens *struct {
				AccessToken string `json:"accessToken"`
			} `json:"tokens"`
			UserErrors []userError `json:"userErrors"`
		} `json:"accountRegister"`
	}
	if err := post(ctx, *url, "", benchkit.MutRegister, "Register", map[string]any{"input": map[string]any{
		"email": st.CustomerEmail, "password": st.CustomerPassword, "name": "Subscriptions Bench"}}, &reg); err != nil {
		return err
	}
	if err := firstUserError(reg.AccountRegister.UserErrors); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	customer := reg.AccountRegister.Tokens.AccessToken
	admin, err := login(ctx, *url, st.AdminEmail, st.AdminPassword)
	if err != nil {
		return err
	}
	for i := range *n {
		var add struct {
			CartItemAdd struct {
				UserErrors []userError `json:"userErrors"`
			} `json:"cartItemAdd"`
		}
		if err := post(ctx, *url, customer, mutCartAdd, "CartItemAdd", map[string]any{"input": map[string]any{"variantId": benchkit.GID("ProductVariant", *variant), "quantity": 1}}, &add); err != nil {
			return err
		}
		if err := firstUserError(add.CartItemAdd.UserErrors); err != nil {
			return fmt.Errorf("cartItemAdd: %w", err)
		}
		var co struct {
			Checkout struct {
				Order *struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"order"`
				UserErrors []userError `json:"userErrors"`
			} `json:"checkout"`
		}
		if err := post(ctx, *url, customer, mutCheckout, "Checkout", map[string]any{"input": map[string]any{
			"idempotencyKey": "subs-" + benchkit.Nonce(), "shippingAddress": benchkit.ShippingAddress}}, &co); err != nil {
			return err
		}
		// An order without a payment intent (PAYMENT_PROVIDER_UNAVAILABLE) is still an order.
		if co.Checkout.Order == nil {
			return fmt.Errorf("checkout: no order: %v", firstUserError(co.Checkout.UserErrors))
		}
		id := co.Checkout.Order.ID
		if i > 0 {
			if _, err := setStatus(ctx, *url, admin, id, "PAID", "subs bench setup"); err != nil {
				return fmt.Errorf("order %s to PAID: %w", id, err)
			}
		}
		st.Orders = append(st.Orders, id)
	}
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := os.WriteFile(*out, append(b, '\n'), 0o600); err != nil {
		return err
	}
	logf("setup: customer %s, orders %s", st.CustomerEmail, strings.Join(st.Orders, " "))
	return nil
}

func readState(path string) (State, error) {
	var st State
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	if len(st.Orders) == 0 {
		return st, fmt.Errorf("%s: no orders", path)
	}
	return st, nil
}

// ---------------------------------------------------------------------------
// WebSocket clients (graphql-transport-ws)

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// delivery is one `next` message of a subscription.
type delivery struct {
	Seq    int
	Status string
	At     time.Time
}

// subState is one subscription. Only its connection's reader goroutine writes it, until the
// reader has returned.
type subState struct {
	sentAt time.Time
	events []delivery
	errs   []string
	done   bool // the server sent complete
}

// counters are the progress of every connection of a run, read while it goes on.
type counters struct {
	acked     atomic.Int64 // connections acknowledged
	first     atomic.Int64 // subscriptions that received at least one event
	events    atomic.Int64 // events received, all subscriptions
	errors    atomic.Int64 // error payloads, error messages, unexpected closes
	completes atomic.Int64
}

type client struct {
	conn    *websocket.Conn
	subs    []*subState
	closing atomic.Bool
	closeBy string // why the reader stopped, when not by us
	done    chan struct{}
}

type dialOptions struct {
	url      string // http://host:port/graphql
	token    string
	query    string
	vars     map[string]any
	perConn  int
	timeout  time.Duration
	counters *counters
}

var dialHTTP = &http.Client{Transport: &http.Transport{Proxy: nil,
	DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}}

// open dials one connection, initialises it with the token, starts perConn subscriptions and
// the reader. ctx bounds the connection's life.
func open(ctx context.Context, o dialOptions) (*client, error) {
	hctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(hctx, o.url, &websocket.DialOptions{
		HTTPClient: dialHTTP, Subprotocols: []string{protocol}, CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial: HTTP %d", resp.StatusCode)
		}
		return nil, fmt.Errorf("dial: %s", shortErr(err))
	}
	if conn.Subprotocol() != protocol {
		conn.CloseNow()
		return nil, fmt.Errorf("server chose subprotocol %q", conn.Subprotocol())
	}
	conn.SetReadLimit(1 << 20)
	write := func(m any) error {
		b, _ := json.Marshal(m)
		return conn.Write(hctx, websocket.MessageText, b)
	}
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + o.token}}
	if err := write(init); err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("connection_init: %s", shortErr(err))
	}
	for {
		_, b, err := conn.Read(hctx)
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("waiting for connection_ack: %s", shortErr(err))
		}
		var m wsMessage
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		if m.Type == "ping" {
			_ = write(map[string]string{"type": "pong"})
			continue
		}
		if m.Type == "connection_ack" {
			break
		}
		conn.CloseNow()
		return nil, fmt.Errorf("expected connection_ack, got %q", m.Type)
	}
	o.counters.acked.Add(1)
	c := &client{conn: conn, subs: make([]*subState, o.perConn), done: make(chan struct{})}
	for i := range o.perConn {
		c.subs[i] = &subState{}
	}
	for i := range o.perConn {
		c.subs[i].sentAt = time.Now()
		err := write(map[string]any{"id": strconv.Itoa(i + 1), "type": "subscribe", "payload": map[string]any{
			"query": o.query, "operationName": "OrderStatusChanged", "variables": o.vars}})
		if err != nil {
			conn.CloseNow()
			return nil, fmt.Errorf("subscribe: %s", shortErr(err))
		}
	}
	go c.read(ctx, o.counters)
	return c, nil
}

type nextPayload struct {
	Data *struct {
		OrderStatusChanged *struct {
			Sequence int    `json:"sequence"`
			Status   string `json:"status"`
		} `json:"orderStatusChanged"`
	} `json:"data"`
	Errors []gqlError `json:"errors"`
}

func (c *client) read(ctx context.Context, cs *counters) {
	defer close(c.done)
	for {
		_, b, err := c.conn.Read(ctx)
		now := time.Now()
		if err != nil {
			if !c.closing.Load() && ctx.Err() == nil {
				c.closeBy = "connection ended: " + shortErr(err)
				cs.errors.Add(1)
			}
			return
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			c.closeBy = "undecodable message"
			cs.errors.Add(1)
			continue
		}
		i, _ := strconv.Atoi(m.ID)
		var s *subState
		if i >= 1 && i <= len(c.subs) {
			s = c.subs[i-1]
		}
		switch m.Type {
		case "ping":
			_ = c.conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
		case "pong":
		case "next":
			if s == nil {
				cs.errors.Add(1)
				continue
			}
			var p nextPayload
			if err := json.Unmarshal(m.Payload, &p); err != nil {
				s.errs = append(s.errs, "undecodable next payload")
				cs.errors.Add(1)
				continue
			}
			if len(p.Errors) > 0 || p.Data == nil || p.Data.OrderStatusChanged == nil {
				kind := "next without data"
				if len(p.Errors) > 0 {
					kind = "error: " + errCode(p.Errors[0]) + " " + benchkit.Truncate(p.Errors[0].Message, 100)
				}
				s.errs = append(s.errs, kind)
				cs.errors.Add(1)
				continue
			}
			e := p.Data.OrderStatusChanged
			s.events = append(s.events, delivery{Seq: e.Sequence, Status: e.Status, At: now})
			if len(s.events) == 1 {
				cs.first.Add(1)
			}
			cs.events.Add(1)
		case "error":
			kind := "error message: " + benchkit.Truncate(string(m.Payload), 120)
			if s != nil {
				s.errs = append(s.errs, kind)
			}
			cs.errors.Add(1)
		case "complete":
			if s != nil {
				s.done = true
			}
			cs.completes.Add(1)
		default:
			cs.errors.Add(1)
		}
	}
}

func errCode(e gqlError) string {
	if c, ok := e.Extensions["code"].(string); ok {
		return c
	}
	return "-"
}

// closeAll closes every connection (a normal closure), par at a time, and waits for the
// readers to stop.
func closeAll(clients []*client, par int) {
	var wg sync.WaitGroup
	ch := make(chan *client)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				c.closing.Store(true)
				if err := c.conn.Close(websocket.StatusNormalClosure, ""); err != nil {
					c.conn.CloseNow()
				}
				<-c.done
			}
		}()
	}
	for _, c := range clients {
		ch <- c
	}
	close(ch)
	wg.Wait()
}

// openAll opens n connections, par dials in flight. Failed dials are counted by kind.
func openAll(ctx context.Context, n, par int, o dialOptions) ([]*client, map[string]int) {
	var (
		mu      sync.Mutex
		clients = make([]*client, 0, n)
		kinds   = map[string]int{}
		next    atomic.Int64
		wg      sync.WaitGroup
	)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				c, err := open(ctx, o)
				mu.Lock()
				if err != nil {
					kinds[err.Error()]++
				} else {
					clients = append(clients, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return clients, kinds
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s)-i > 12 {
		s = s[i+2:]
	}
	return benchkit.Truncate(s, 120)
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------
// The server's process and runtime

// Sample is the server's memory at one moment.
type Sample struct {
	RSS     int64   `json:"rss_bytes"`  // VmRSS
	HWM     int64   `json:"hwm_bytes"`  // VmHWM, the peak resident set so far
	Anon    int64   `json:"anon_bytes"` // RssAnon
	Threads int     `json:"threads"`
	Go      GoStats `json:"go"`
}

// GoStats are the server's runtime/metrics figures, read after a forced GC.
type GoStats struct {
	OK          bool  `json:"ok"`
	Goroutines  int64 `json:"goroutines"`
	HeapLive    int64 `json:"heap_live"`    // /gc/heap/live:bytes: retained heap
	HeapObjects int64 `json:"heap_objects"` // /memory/classes/heap/objects:bytes
	Stacks      int64 `json:"stacks"`       // /memory/classes/heap/stacks:bytes
	Total       int64 `json:"total"`        // /memory/classes/total:bytes: all the runtime mapped
	Released    int64 `json:"released"`     // /memory/classes/heap/released:bytes: given back to the OS
}

// procStatus reads the memory lines of /proc/<pid>/status.
func procStatus(pid int) (Sample, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Sample{}, err
	}
	return parseStatus(string(b)), nil
}

func parseStatus(s string) Sample {
	var out Sample
	for _, l := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		switch k {
		case "VmRSS":
			out.RSS = n
		case "VmHWM":
			out.HWM = n
		case "RssAnon":
			out.Anon = n
		case "Threads":
			out.Threads = int(n)
		}
	}
	return out
}

// cpuTicks is the process's user + system time in clock ticks (/proc/<pid>/stat).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(b))
}

func parseStatTicks(s string) (int64, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/<pid>/stat")
	}
	f := strings.Fields(s[i+1:])
	// After the command: state(3) ... utime(14) stime(15): indexes 11 and 12 here.
	if len(f) < 13 {
		return 0, errors.New("short /proc/<pid>/stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc/<pid>/stat times")
	}
	return u + st, nil
}

func goStats(debugURL string, gc bool) GoStats {
	if debugURL == "" {
		return GoStats{}
	}
	u := strings.TrimRight(debugURL, "/") + "/debug/bench/runtime"
	if gc {
		u += "?gc=1"
	}
	resp, err := httpClient.Get(u)
	if err != nil {
		return GoStats{}
	}
	defer resp.Body.Close()
	var m map[string]int64
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
		return GoStats{}
	}
	return GoStats{OK: true, Goroutines: m["goroutines"], HeapLive: m["heap_live"], HeapObjects: m["heap_objects"],
		Stacks: m["stacks"], Total: m["total"], Released: m["released"]}
}

// sample reads the resident set first (as the OS sees it, without disturbing it), then the Go
// figures after a forced GC.
func sample(pid int, debugURL string) (Sample, error) {
	s, err := procStatus(pid)
	if err != nil {
		return s, err
	}
	s.Go = goStats(debugURL, true)
	return s, nil
}

// counter runs a shell command that prints one integer (e.g. the database's committed
// transactions); -1 when there is none or it fails.
func counter(cmd string) int64 {
	if cmd == "" {
		return -1
	}
	out, err := exec.Command("sh", "-c", cmd).Output()
	if err != nil {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// ---------------------------------------------------------------------------
// S1: memory per subscription

// MemResult is one S1 run.
type MemResult struct {
	Scenario      string           `json:"scenario"` // S1
	Label         string           `json:"label"`    // the layout, e.g. 500x20
	Run           int              `json:"run"`
	URL           string           `json:"url"`
	StartedAt     time.Time        `json:"started_at"`
	Fields        string           `json:"fields"`
	Conns         int              `json:"conns"`
	PerConn       int              `json:"per_conn"`
	Subscriptions int              `json:"subscriptions"` // asked for
	Live          int              `json:"live"`          // that received their first event
	DialErrors    int              `json:"dial_errors"`
	DialKinds     map[string]int   `json:"dial_error_kinds,omitempty"`
	OpenSec       float64          `json:"open_sec"`    // first dial → every first event
	FirstEvent    benchkit.Latency `json:"first_event"` // subscribe sent → first event, per subscription
	Baseline      Sample           `json:"baseline"`
	Loaded        Sample           `json:"loaded"`
	AfterClose    Sample           `json:"after_close"`
	HoldSec       float64          `json:"hold_sec"`
	HoldCPUPct    float64          `json:"hold_cpu_pct"`     // server CPU while holding, % of one core
	HoldDBTxPerS  float64          `json:"hold_db_tx_per_s"` // committed transactions/s of the database while holding; -1 unknown
	PerSub        PerSub           `json:"per_sub"`
	Errors        int64            `json:"errors"`
	ErrorKinds    map[string]int   `json:"error_kinds,omitempty"`
	BadFirst      int              `json:"bad_first"`    // first event not sequence 1 / PENDING
	ExtraEvents   int64            `json:"extra_events"` // events beyond the first (there should be none)
	Completes     int64            `json:"completes"`
	GoMaxProcs    int              `json:"gomaxprocs"`
	LoadAvg       float64          `json:"loadavg_1m"` // the machine's 1-minute load average when the run started
}

// PerSub is the growth from the baseline divided by the live subscriptions.
type PerSub struct {
	RSS        float64 `json:"rss_bytes"`
	GoTotal    float64 `json:"go_total_bytes"` // runtime-mapped memory minus released
	HeapLive   float64 `json:"heap_live_bytes"`
	Stacks     float64 `json:"stack_bytes"`
	Goroutines float64 `json:"goroutines"`
	// GoroutinesLeft is goroutines after closing everything minus the baseline.
	GoroutinesLeft int64 `json:"goroutines_left"`
}

func queryFor(fields string) (string, error) {
	switch fields {
	case "full":
		return subFull, nil
	case "lean":
		return subLean, nil
	}
	return "", fmt.Errorf("-fields %q: full or lean", fields)
}

func wsURL(u string) string {
	switch {
	case strings.HasPrefix(u, "http://"):
		return "ws://" + strings.TrimPrefix(u, "http://")
	case strings.HasPrefix(u, "https://"):
		return "wss://" + strings.TrimPrefix(u, "https://")
	}
	return u
}

func cmdMem(args []string) error {
	fs := flag.NewFlagSet("mem", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint (instance A)")
	statePath := fs.String("state", "state.json", "from subsgen setup")
	conns := fs.Int("conns", 500, "WebSocket connections")
	perConn := fs.Int("per-conn", 20, "subscriptions per connection (the server allows 20)")
	pid := fs.Int("pid", 0, "the server's process id (its /proc/<pid>/status is read)")
	debugURL := fs.String("debug", "", "the server's benchmark debug listener (http://127.0.0.1:PORT), for goroutines and the Go heap")
	fields := fs.String("fields", "full", "selection: full (event + order { id status }) or lean (event only)")
	par := fs.Int("dial-c", 32, "dials in flight")
	warm := fs.Int("warmup", 200, "subscriptions opened and closed again before the baseline (0: none)")
	settle := fs.Duration("settle", 3*time.Second, "wait after the last first event before reading the memory")
	hold := fs.Duration("hold", 30*time.Second, "hold the subscriptions idle this long, counting the server's CPU and -db-commits (0: no hold)")
	holdSkip := fs.Duration("hold-skip", 11*time.Second, "idle time before the hold's counting starts")
	dbCmd := fs.String("db-commits", "", "shell command printing the database's committed transactions (pg_stat_database.xact_commit)")
	timeout := fs.Duration("timeout", 180*time.Second, "give up waiting for the first events after this long")
	label := fs.String("label", "", "label (default CONNSxPER-CONN)")
	run := fs.Int("run", 1, "run number recorded in the JSON")
	jsonOut := fs.String("json", "", "write the result as JSON to this file")
	heapProfile := fs.String("heap-profile", "", "with -debug: save the server's heap profile, taken with every subscription live, to this file")
	goroutineProfile := fs.String("goroutine-profile", "", "with -debug: save the server's goroutines (grouped by stack, text) at the same moment")
	_ = fs.Parse(args)
	if *pid <= 0 {
		return errors.New("-pid is required")
	}
	if *conns < 1 || *perConn < 1 {
		return errors.New("-conns and -per-conn must be positive")
	}
	query, err := queryFor(*fields)
	if err != nil {
		return err
	}
	st, err := readState(*statePath)
	if err != nil {
		return err
	}
	if *label == "" {
		*label = fmt.Sprintf("%dx%d", *conns, *perConn)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	token, err := login(ctx, *url, st.CustomerEmail, st.CustomerPassword)
	if err != nil {
		return err
	}
	orderID := st.Orders[0]
	o, err := getOrder(ctx, *url, token, orderID)
	if err != nil {
		return err
	}
	if o.Status != "PENDING" || o.lastSequence() != 1 {
		return fmt.Errorf("order %s: want PENDING with one event, got %s with %d", orderID, o.Status, o.lastSequence())
	}
	dial := dialOptions{url: wsURL(*url), token: token, query: query, perConn: *perConn, timeout: 60 * time.Second,
		vars: map[string]any{"orderId": orderID, "after": 0}}

	res := MemResult{Scenario: "S1", Label: *label, Run: *run, URL: *url, StartedAt: time.Now().UTC(), Fields: *fields,
		Conns: *conns, PerConn: *perConn, Subscriptions: *conns * *perConn, GoMaxProcs: runtime.GOMAXPROCS(0), LoadAvg: loadAvg()}
	fmt.Printf("S1 [%s] run %d: %s, %d connections x %d subscriptions = %d, fields %s\n",
		*label, *run, *url, *conns, *perConn, res.Subscriptions, *fields)

	if *warm > 0 {
		before := goStats(*debugURL, false)
		wc := max(1, *warm / *perConn)
		var wcs counters
		d := dial
		d.counters = &wcs
		wctx, wcancel := context.WithCancel(ctx)
		clients, kinds := openAll(wctx, wc, min(*par, wc), d)
		if len(kinds) > 0 {
			wcancel()
			return fmt.Errorf("warm-up dials failed: %v", kinds)
		}
		ok := waitFor(60*time.Second, func() bool { return wcs.first.Load() >= int64(wc**perConn) })
		closeAll(clients, 64)
		wcancel()
		if !ok {
			return fmt.Errorf("warm-up: %d of %d subscriptions got their first event (errors %d)", wcs.first.Load(), wc**perConn, wcs.errors.Load())
		}
		// Let the server notice the closes and settle.
		waitFor(15*time.Second, func() bool {
			g := goStats(*debugURL, false)
			return !g.OK || g.Goroutines <= before.Goroutines+10
		})
		time.Sleep(2 * time.Second)
	}
	if res.Baseline, err = sample(*pid, *debugURL); err != nil {
		return err
	}
	fmt.Printf("  baseline: RSS %.1f MiB, goroutines %d, heap live %.1f MiB\n", mib(res.Baseline.RSS), res.Baseline.Go.Goroutines, mib(res.Baseline.Go.HeapLive))

	var cs counters
	dial.counters = &cs
	t0 := time.Now()
	progressDone := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				fmt.Printf("  … %5.1fs: %d connections acknowledged, %d subscriptions live, %d errors\n",
					time.Since(t0).Seconds(), cs.acked.Load(), cs.first.Load(), cs.errors.Load())
			}
		}
	}()
	clients, kinds := openAll(ctx, *conns, *par, dial)
	res.DialKinds = kinds
	for _, n := range kinds {
		res.DialErrors += n
	}
	want := int64(len(clients) * *perConn)
	all := waitFor(*timeout, func() bool { return cs.first.Load()+cs.errors.Load() >= want })
	close(progressDone)
	res.OpenSec = time.Since(t0).Seconds()
	res.Live = int(cs.first.Load())
	if !all {
		fmt.Printf("  timed out: %d of %d subscriptions live after %.0fs\n", res.Live, want, res.OpenSec)
	}
	fmt.Printf("  %d connections (%d dial errors), %d subscriptions live in %.1fs\n", len(clients), res.DialErrors, res.Live, res.OpenSec)
	for k, n := range kinds {
		fmt.Printf("    dial error x%d: %s\n", n, k)
	}

	time.Sleep(*settle)
	if res.Loaded, err = sample(*pid, *debugURL); err != nil {
		return err
	}
	fmt.Printf("  loaded:   RSS %.1f MiB (peak %.1f), goroutines %d, heap live %.1f MiB, threads %d\n",
		mib(res.Loaded.RSS), mib(res.Loaded.HWM), res.Loaded.Go.Goroutines, mib(res.Loaded.Go.HeapLive), res.Loaded.Threads)

	if *debugURL != "" {
		base := strings.TrimRight(*debugURL, "/") + "/debug/pprof/"
		for file, path := range map[string]string{*heapProfile: "heap", *goroutineProfile: "goroutine?debug=1"} {
			if file == "" {
				continue
			}
			if err := fetch(base+path, file); err != nil {
				logf("warning: %s: %v", path, err)
			}
		}
	}

	if *hold > 0 {
		// PostgreSQL 15 flushes a busy backend's statistics up to 10 s late, and every
		// subscription's first session check comes 30 s after it started: the counting starts
		// after -hold-skip of quiet, and -hold 30s covers exactly one check per subscription.
		time.Sleep(*holdSkip)
		c0, err := cpuTicks(*pid)
		if err != nil {
			return err
		}
		db0 := counter(*dbCmd)
		h0 := time.Now()
		time.Sleep(*hold)
		c1, err := cpuTicks(*pid)
		if err != nil {
			return err
		}
		db1 := counter(*dbCmd)
		res.HoldSec = time.Since(h0).Seconds()
		// Clock ticks are 1/100 s on Linux (getconf CLK_TCK).
		res.HoldCPUPct = float64(c1-c0) / 100 / res.HoldSec * 100
		res.HoldDBTxPerS = -1
		if db0 >= 0 && db1 >= 0 {
			res.HoldDBTxPerS = float64(db1-db0) / res.HoldSec
		}
		fmt.Printf("  held %.0fs idle: server CPU %.1f%% of a core, database %.1f transactions/s\n", res.HoldSec, res.HoldCPUPct, res.HoldDBTxPerS)
	}

	closeAll(clients, 64)
	waitFor(20*time.Second, func() bool {
		g := goStats(*debugURL, false)
		return !g.OK || g.Goroutines <= res.Baseline.Go.Goroutines+10
	})
	time.Sleep(time.Second)
	if res.AfterClose, err = sample(*pid, *debugURL); err != nil {
		return err
	}

	// Every subscription: exactly one event, sequence 1, PENDING; nothing else.
	var firsts []time.Duration
	res.ErrorKinds = map[string]int{}
	for _, c := range clients {
		if c.closeBy != "" {
			res.ErrorKinds[c.closeBy]++
		}
		for _, s := range c.subs {
			for _, e := range s.errs {
				res.ErrorKinds[e]++
			}
			if s.done {
				res.Completes++
			}
			if len(s.events) == 0 {
				continue
			}
			firsts = append(firsts, s.events[0].At.Sub(s.sentAt))
			if s.events[0].Seq != 1 || s.events[0].Status != "PENDING" {
				res.BadFirst++
			}
			res.ExtraEvents += int64(len(s.events) - 1)
		}
	}
	res.Errors = cs.errors.Load()
	if len(res.ErrorKinds) == 0 {
		res.ErrorKinds = nil
	}
	res.FirstEvent = benchkit.Summarise(firsts)
	if n := float64(res.Live); n > 0 {
		b, l := res.Baseline, res.Loaded
		res.PerSub = PerSub{
			RSS:            float64(l.RSS-b.RSS) / n,
			GoTotal:        float64((l.Go.Total-l.Go.Released)-(b.Go.Total-b.Go.Released)) / n,
			HeapLive:       float64(l.Go.HeapLive-b.Go.HeapLive) / n,
			Stacks:         float64(l.Go.Stacks-b.Go.Stacks) / n,
			Goroutines:     float64(l.Go.Goroutines-b.Go.Goroutines) / n,
			GoroutinesLeft: res.AfterClose.Go.Goroutines - b.Go.Goroutines,
		}
	}
	fmt.Printf("  per subscription: RSS %.1f KiB, Go heap live %.1f KiB, stacks %.1f KiB, %.2f goroutines; first event p50 %.1f ms p99 %.1f ms\n",
		res.PerSub.RSS/1024, res.PerSub.HeapLive/1024, res.PerSub.Stacks/1024, res.PerSub.Goroutines, res.FirstEvent.P50, res.FirstEvent.P99)
	fmt.Printf("  after close: RSS %.1f MiB, goroutines %d (baseline %d); errors %d, bad first events %d, extra events %d, completes %d\n",
		mib(res.AfterClose.RSS), res.AfterClose.Go.Goroutines, res.Baseline.Go.Goroutines, res.Errors, res.BadFirst, res.ExtraEvents, res.Completes)
	printKinds(res.ErrorKinds)
	if err := benchkit.WriteJSON(*jsonOut, res); err != nil {
		return err
	}
	if res.Live < res.Subscriptions {
		return fmt.Errorf("only %d of %d subscriptions went live", res.Live, res.Subscriptions)
	}
	return nil
}

// fetch saves the body of a GET to file.
func fetch(url, file string) error {
	resp, err := httpClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

// loadAvg is the 1-minute load average (/proc/loadavg), or -1.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	x, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return x
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func printKinds(m map[string]int) {
	benchkit.WriteKinds(os.Stdout, "    error x%d: %s\n", m)
}

// ---------------------------------------------------------------------------
// S2: fan-out latency across instances

// stamp is when one status change was sent to instance A and when its answer was read.
type stamp struct {
	Seq  int       `json:"seq"`
	Sent time.Time `json:"sent"`
	Done time.Time `json:"done"`
}

// FanoutResult is one S2 run.
type FanoutResult struct {
	Scenario    string           `json:"scenario"` // S2
	Label       string           `json:"label"`    // the selection, full or lean
	Run         int              `json:"run"`
	SubURL      string           `json:"sub_url"`
	MutURL      string           `json:"mut_url"`
	StartedAt   time.Time        `json:"started_at"`
	Fields      string           `json:"fields"`
	Subscribers int              `json:"subscribers"`
	Conns       int              `json:"conns"`
	PerConn     int              `json:"per_conn"`
	Events      int              `json:"events"`
	IntervalMs  float64          `json:"interval_ms"`
	FirstSeq    int              `json:"first_seq"` // the stored event each subscriber first receives
	DialErrors  int              `json:"dial_errors"`
	Live        int              `json:"live"`
	Mutation    benchkit.Latency `json:"mutation"` // orderStatusUpdate on A, send → answer
	Analysis
	StoredEvents int            `json:"stored_events"` // events of the order after the run, from the API
	ErrorKinds   map[string]int `json:"error_kinds,omitempty"`
	GoMaxProcs   int            `json:"gomaxprocs"`
	LoadAvg      float64        `json:"loadavg_1m"` // the machine's 1-minute load average when the run started
}

// Analysis is what the deliveries show.
type Analysis struct {
	Expected   int              `json:"expected"`   // subscribers × events
	Delivered  int              `json:"delivered"`  // distinct (subscriber, event) received
	Missing    int              `json:"missing"`    // expected, never received
	Duplicates int              `json:"duplicates"` // received more than once (the first, replayed event included)
	OutOfOrder int              `json:"out_of_order"`
	Unexpected int              `json:"unexpected"` // sequences outside the run
	Errors     int              `json:"errors"`
	FromDone   benchkit.Latency `json:"from_response"`    // delivery − mutation answer read (≈ commit; can be < 0)
	FromSent   benchkit.Latency `json:"from_send"`        // delivery − mutation sent (an upper bound of commit → delivery)
	LastSub    benchkit.Latency `json:"last_subscriber"`  // per event: the slowest subscriber's delivery − answer
	FirstSub   benchkit.Latency `json:"first_subscriber"` // per event: the fastest subscriber's (the pipeline without the fan-out)
	Negative   int              `json:"delivered_before_response"`
}

// analyse checks and times the deliveries: each subscriber must have first (the replayed
// event), then first+1 … first+len(stamps), each once and in order.
func analyse(subs [][]delivery, first int, stamps []stamp) Analysis {
	var a Analysis
	bySeq := map[int]stamp{}
	for _, s := range stamps {
		bySeq[s.Seq] = s
	}
	last := first + len(stamps)
	a.Expected = len(subs) * len(stamps)
	slowest := map[int]time.Duration{}
	fastest := map[int]time.Duration{}
	complete := map[int]int{}
	var fromDone, fromSent []time.Duration
	for _, evs := range subs {
		seen := map[int]bool{}
		prev := 0
		for _, e := range evs {
			if e.Seq < first || e.Seq > last {
				a.Unexpected++
				continue
			}
			if seen[e.Seq] {
				a.Duplicates++
				continue
			}
			seen[e.Seq] = true
			if e.Seq < prev {
				a.OutOfOrder++
			}
			prev = max(prev, e.Seq)
			st, ok := bySeq[e.Seq]
			if !ok {
				continue // the replayed first event: not timed
			}
			a.Delivered++
			d := e.At.Sub(st.Done)
			if d < 0 {
				a.Negative++
			}
			fromDone = append(fromDone, d)
			fromSent = append(fromSent, e.At.Sub(st.Sent))
			complete[e.Seq]++
			if cur, ok := slowest[e.Seq]; !ok || d > cur {
				slowest[e.Seq] = d
			}
			if cur, ok := fastest[e.Seq]; !ok || d < cur {
				fastest[e.Seq] = d
			}
		}
	}
	a.Missing = a.Expected - a.Delivered
	a.FromDone = benchkit.Summarise(fromDone)
	a.FromSent = benchkit.Summarise(fromSent)
	var lasts, firsts []time.Duration
	for seq, n := range complete {
		if n == len(subs) {
			lasts = append(lasts, slowest[seq])
		}
		firsts = append(firsts, fastest[seq])
	}
	a.LastSub = benchkit.Summarise(lasts)
	a.FirstSub = benchkit.Summarise(firsts)
	return a
}

func cmdFanout(args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ExitOnError)
	subURL := fs.String("sub-url", "http://127.0.0.1:8081/graphql", "GraphQL endpoint of instance B (the subscribers)")
	mutURL := fs.String("mut-url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint of instance A (the status changes)")
	statePath := fs.String("state", "state.json", "from subsgen setup")
	n := fs.Int("subscribers", 1000, "subscriptions on B")
	perConn := fs.Int("per-conn", 1, "subscriptions per connection")
	events := fs.Int("events", 30, "status changes (PARTIALLY_REFUNDED, again and again)")
	interval := fs.Duration("interval", 500*time.Millisecond, "one status change every interval (fixed rate)")
	fields := fs.String("fields", "full", "selection: full (event + order { id status }) or lean (event only)")
	par := fs.Int("dial-c", 32, "dials in flight")
	drain := fs.Duration("drain", 20*time.Second, "after the last change, wait at most this long for every delivery")
	label := fs.String("label", "", "label (default: the -fields)")
	run := fs.Int("run", 1, "run number recorded in the JSON")
	jsonOut := fs.String("json", "", "write the result as JSON to this file")
	_ = fs.Parse(args)
	if *n < 1 || *perConn < 1 || *events < 1 || *n%*perConn != 0 {
		return errors.New("-subscribers, -per-conn and -events must be positive, -subscribers a multiple of -per-conn")
	}
	query, err := queryFor(*fields)
	if err != nil {
		return err
	}
	st, err := readState(*statePath)
	if err != nil {
		return err
	}
	if len(st.Orders) < 2 {
		return errors.New("the state has no second (PAID) order")
	}
	if *label == "" {
		*label = *fields
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	owner, err := login(ctx, *subURL, st.CustomerEmail, st.CustomerPassword)
	if err != nil {
		return err
	}
	admin, err := login(ctx, *mutURL, st.AdminEmail, st.AdminPassword)
	if err != nil {
		return err
	}
	orderID := st.Orders[1]
	o, err := getOrder(ctx, *mutURL, admin, orderID)
	if err != nil {
		return err
	}
	if o.Status == "PENDING" {
		if _, err := setStatus(ctx, *mutURL, admin, orderID, "PAID", "subs bench"); err != nil {
			return err
		}
		if o, err = getOrder(ctx, *mutURL, admin, orderID); err != nil {
			return err
		}
	}
	if o.Status != "PAID" && o.Status != "PARTIALLY_REFUNDED" {
		return fmt.Errorf("order %s is %s: it cannot move to PARTIALLY_REFUNDED", orderID, o.Status)
	}
	first := o.lastSequence()
	conns := *n / *perConn
	res := FanoutResult{Scenario: "S2", Label: *label, Run: *run, SubURL: *subURL, MutURL: *mutURL, StartedAt: time.Now().UTC(),
		Fields: *fields, Subscribers: *n, Conns: conns, PerConn: *perConn, Events: *events, IntervalMs: benchkit.Ms(*interval),
		FirstSeq: first, GoMaxProcs: runtime.GOMAXPROCS(0), LoadAvg: loadAvg()}
	fmt.Printf("S2 [%s] run %d: %d subscribers (%d connections x %d) on %s, %d changes every %s through %s, fields %s\n",
		*label, *run, *n, conns, *perConn, *subURL, *events, *interval, *mutURL, *fields)

	var cs counters
	dial := dialOptions{url: wsURL(*subURL), token: owner, query: query, perConn: *perConn, timeout: 60 * time.Second,
		vars: map[string]any{"orderId": orderID, "after": first - 1}, counters: &cs}
	t0 := time.Now()
	clients, kinds := openAll(ctx, conns, *par, dial)
	for _, k := range kinds {
		res.DialErrors += k
	}
	want := int64(len(clients) * *perConn)
	if !waitFor(120*time.Second, func() bool { return cs.first.Load()+cs.errors.Load() >= want }) || res.DialErrors > 0 {
		closeAll(clients, 64)
		return fmt.Errorf("subscribers: %d of %d live, dial errors %v", cs.first.Load(), *n, kinds)
	}
	res.Live = int(cs.first.Load())
	fmt.Printf("  %d subscribers live in %.1fs (each received the stored event %d)\n", res.Live, time.Since(t0).Seconds(), first)
	time.Sleep(time.Second)

	stamps := make([]stamp, 0, *events)
	var mut []time.Duration
	start := time.Now()
	for i := 1; i <= *events; i++ {
		if d := time.Until(start.Add(time.Duration(i-1) * *interval)); d > 0 {
			time.Sleep(d)
		}
		sent := time.Now()
		status, err := setStatus(ctx, *mutURL, admin, orderID, "PARTIALLY_REFUNDED", fmt.Sprintf("subs bench %d", i))
		done := time.Now()
		if err != nil {
			closeAll(clients, 64)
			return fmt.Errorf("status change %d: %w", i, err)
		}
		if status != "PARTIALLY_REFUNDED" {
			closeAll(clients, 64)
			return fmt.Errorf("status change %d: order is %s", i, status)
		}
		stamps = append(stamps, stamp{Seq: first + i, Sent: sent, Done: done})
		mut = append(mut, done.Sub(sent))
	}
	total := int64(res.Live) * int64(1+*events)
	if !waitFor(*drain, func() bool { return cs.events.Load() >= total }) {
		fmt.Printf("  drain: %d of %d deliveries after %s\n", cs.events.Load()-int64(res.Live), int64(res.Live)*int64(*events), *drain)
	}
	time.Sleep(500 * time.Millisecond) // duplicates, if any, arrive too
	closeAll(clients, 64)

	res.Mutation = benchkit.Summarise(mut)
	subs := make([][]delivery, 0, *n)
	res.ErrorKinds = map[string]int{}
	for _, c := range clients {
		if c.closeBy != "" {
			res.ErrorKinds[c.closeBy]++
		}
		for _, s := range c.subs {
			subs = append(subs, s.events)
			for _, e := range s.errs {
				res.ErrorKinds[e]++
			}
		}
	}
	res.Analysis = analyse(subs, first, stamps)
	res.Errors = int(cs.errors.Load())
	if len(res.ErrorKinds) == 0 {
		res.ErrorKinds = nil
	}
	if after, err := getOrder(ctx, *mutURL, admin, orderID); err == nil {
		res.StoredEvents = after.lastSequence() - first
	}
	a := res.Analysis
	fmt.Printf("  delivery − mutation answer: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms (%d deliveries, %d before the answer)\n",
		a.FromDone.P50, a.FromDone.P90, a.FromDone.P99, a.FromDone.Max, a.Delivered, a.Negative)
	fmt.Printf("  delivery − mutation sent:   p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms; mutation p50 %.2f ms\n",
		a.FromSent.P50, a.FromSent.P90, a.FromSent.P99, a.FromSent.Max, res.Mutation.P50)
	fmt.Printf("  per event: first subscriber p50 %.2f max %.2f ms, last subscriber p50 %.2f max %.2f ms (load average %.2f at the start)\n",
		a.FirstSub.P50, a.FirstSub.Max, a.LastSub.P50, a.LastSub.Max, res.LoadAvg)
	fmt.Printf("  expected %d, missing %d, duplicates %d, out of order %d, unexpected %d, errors %d; events stored %d of %d\n",
		a.Expected, a.Missing, a.Duplicates, a.OutOfOrder, a.Unexpected, res.Errors, res.StoredEvents, *events)
	printKinds(res.ErrorKinds)
	if err := benchkit.WriteJSON(*jsonOut, res); err != nil {
		return err
	}
	if a.Missing > 0 || a.Duplicates > 0 || a.OutOfOrder > 0 || res.Errors > 0 {
		return errors.New("S2: deliveries missing, duplicated, out of order or failed (see above)")
	}
	return nil
}

// ---------------------------------------------------------------------------
// report

// groups keeps labels in their first-seen order.
func groups[T any](items []T, label func(T) string) ([]string, map[string][]T) {
	var order []string
	m := map[string][]T{}
	for _, it := range items {
		l := label(it)
		if _, ok := m[l]; !ok {
			order = append(order, l)
		}
		m[l] = append(m[l], it)
	}
	return order, m
}

func perRun[T any](runs []T, format string, f func(T) float64) string {
	parts := make([]string, len(runs))
	for i, r := range runs {
		parts[i] = fmt.Sprintf(format, f(r))
	}
	return strings.Join(parts, " / ")
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", ".", "results directory of a subs.sh run")
	_ = fs.Parse(args)
	return printReport(os.Stdout, *dir)
}

func printReport(w io.Writer, dir string) error {
	mems, err := benchkit.LoadJSON[MemResult](filepath.Join(dir, "s1-*.json"))
	if err != nil {
		return err
	}
	fans, err := benchkit.LoadJSON[FanoutResult](filepath.Join(dir, "s2-*.json"))
	if err != nil {
		return err
	}
	if len(mems) > 0 {
		sort.SliceStable(mems, func(i, j int) bool { return mems[i].PerConn < mems[j].PerConn })
		order, by := groups(mems, func(r MemResult) string { return r.Label })
		fmt.Fprintf(w, "S1, memory: subscriptions to `orderStatusChanged(orderId, after: 0)` (fields: %s) of one PENDING order, on one instance; figures are medians of %d run(s), each on a freshly started server.\n\n", mems[0].Fields, len(by[order[0]]))
		fmt.Fprintln(w, "| layout | subscriptions live | RSS before → with them, MiB | **RSS per subscription, KiB** | Go heap live per sub, KiB | goroutines per sub | stack per sub, KiB | all live after, s | first event p50 / p99 ms | idle: server CPU % / DB tx/s | goroutines left after close | errors |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, l := range order {
			rs := by[l]
			var errs, bad, extra int64
			live := 0
			for _, r := range rs {
				errs += r.Errors + int64(r.DialErrors)
				bad += int64(r.BadFirst)
				extra += r.ExtraEvents
				live = max(live, r.Live)
			}
			errCell := strconv.FormatInt(errs, 10)
			if bad+extra > 0 {
				errCell += fmt.Sprintf(" (+%d wrong first, %d extra events)", bad, extra)
			}
			db := benchkit.MedianOf(rs, func(r MemResult) float64 { return r.HoldDBTxPerS })
			dbS := "–"
			if db >= 0 {
				dbS = fmt.Sprintf("%.0f", db)
			}
			fmt.Fprintf(w, "| %d conn × %d | %d | %.0f → %.0f | **%.1f** | %.1f | %.2f | %.1f | %.1f | %.0f / %.0f | %.0f%% / %s | %.0f | %s |\n",
				rs[0].Conns, rs[0].PerConn, live,
				benchkit.MedianOf(rs, func(r MemResult) float64 { return mib(r.Baseline.RSS) }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return mib(r.Loaded.RSS) }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.PerSub.RSS / 1024 }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.PerSub.HeapLive / 1024 }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.PerSub.Goroutines }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.PerSub.Stacks / 1024 }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.OpenSec }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.FirstEvent.P50 }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.FirstEvent.P99 }),
				benchkit.MedianOf(rs, func(r MemResult) float64 { return r.HoldCPUPct }), dbS,
				benchkit.MedianOf(rs, func(r MemResult) float64 { return float64(r.PerSub.GoroutinesLeft) }),
				errCell)
		}
		fmt.Fprintln(w)
		for _, l := range order {
			rs := by[l]
			fmt.Fprintf(w, "Per run, %s: RSS per subscription %s KiB; Go heap live per sub %s KiB; peak RSS (VmHWM) %s MiB; held idle %.0f s; 1-minute load average at the start %s.\n", l,
				perRun(rs, "%.1f", func(r MemResult) float64 { return r.PerSub.RSS / 1024 }),
				perRun(rs, "%.1f", func(r MemResult) float64 { return r.PerSub.HeapLive / 1024 }),
				perRun(rs, "%.0f", func(r MemResult) float64 { return mib(r.Loaded.HWM) }),
				rs[0].HoldSec,
				perRun(rs, "%.1f", func(r MemResult) float64 { return r.LoadAvg }))
			kinds := map[string]int{}
			for _, r := range rs {
				for k, n := range r.ErrorKinds {
					kinds[k] += n
				}
				for k, n := range r.DialKinds {
					kinds["dial: "+k] += n
				}
			}
			writeKinds(w, kinds)
		}
		fmt.Fprintln(w)
	}
	if len(fans) > 0 {
		order, by := groups(fans, func(r FanoutResult) string { return r.Label })
		f0 := fans[0]
		fmt.Fprintf(w, "S2, fan-out across two instances: %d subscribers (%d connection(s) × %d) to `orderStatusChanged` of one order on instance B; an admin moves the order through instance A (`orderStatusUpdate` to PARTIALLY_REFUNDED) %d times, one every %.0f ms; Redis pub/sub between them. Latency = delivery on the subscriber's socket − the moment the mutation's answer was read (the commit and the publish happened before it); \"from send\" is measured from just before the mutation was sent (an upper bound). Medians of %d run(s) of the per-run percentiles; max and the counts over all runs.\n\n",
			f0.Subscribers, f0.Conns, f0.PerConn, f0.Events, f0.IntervalMs, len(by[order[0]]))
		fmt.Fprintln(w, "| fields | deliveries | **p50 ms** | p90 ms | **p99 ms** | max ms | from send p50 / p99 ms | per event: first / last subscriber p50 ms | mutation p50 ms | missing | duplicates | out of order | errors | events stored |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, l := range order {
			rs := by[l]
			var deliv, miss, dup, ooo, errs, stored, want int
			mx := 0.0
			for _, r := range rs {
				deliv += r.Delivered
				miss += r.Missing
				dup += r.Duplicates
				ooo += r.OutOfOrder
				errs += r.Errors + r.DialErrors
				stored += r.StoredEvents
				want += r.Events
				mx = max(mx, r.FromDone.Max)
			}
			fmt.Fprintf(w, "| %s | %d | **%.1f** | %.1f | **%.1f** | %.1f | %.1f / %.1f | %.1f / %.1f | %.1f | %d | %d | %d | %d | %d of %d |\n",
				l, deliv,
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.FromDone.P50 }),
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.FromDone.P90 }),
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.FromDone.P99 }),
				mx,
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.FromSent.P50 }),
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.FromSent.P99 }),
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.FirstSub.P50 }),
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.LastSub.P50 }),
				benchkit.MedianOf(rs, func(r FanoutResult) float64 { return r.Mutation.P50 }),
				miss, dup, ooo, errs, stored, want)
		}
		fmt.Fprintln(w)
		for _, l := range order {
			rs := by[l]
			fmt.Fprintf(w, "Per run, %s: p50 %s ms; p99 %s ms; max %s ms; 1-minute load average at the start %s.\n", l,
				perRun(rs, "%.1f", func(r FanoutResult) float64 { return r.FromDone.P50 }),
				perRun(rs, "%.1f", func(r FanoutResult) float64 { return r.FromDone.P99 }),
				perRun(rs, "%.1f", func(r FanoutResult) float64 { return r.FromDone.Max }),
				perRun(rs, "%.1f", func(r FanoutResult) float64 { return r.LoadAvg }))
			kinds := map[string]int{}
			for _, r := range rs {
				for k, n := range r.ErrorKinds {
					kinds[k] += n
				}
			}
			writeKinds(w, kinds)
		}
		fmt.Fprintln(w)
	}
	if len(mems) == 0 && len(fans) == 0 {
		return fmt.Errorf("%s: no s1-*.json or s2-*.json", dir)
	}
	return nil
}

// writeKinds is the error list under a report's table.
func writeKinds(w io.Writer, kinds map[string]int) {
	benchkit.WriteKinds(w, "- %d × `%s`\n", kinds)
}
