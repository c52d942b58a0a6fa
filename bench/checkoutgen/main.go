// Command checkoutgen is shopgraph's checkout load generator (standard library only), driven by
// bench/checkout.sh; see bench/README.md, section "Checkout".
//
//	checkoutgen register -url URL -n 256 -out users.tsv           create customers, keep their tokens
//	checkoutgen run -scenario C1 -users users.tsv -variants-file v.txt -c 16 -duration 15s -json c1.json
//	checkoutgen run -scenario C2 -users users.tsv -hot-variant 42 -c 16 -json c2.json
//	checkoutgen verify -dir DIR -hot-stock 500                    the C2 stock invariant (exit 1 on FAIL)
//	checkoutgen report -dir DIR -hot-stock 500                    the markdown tables of a checkout.sh run
//
// Scenarios:
//
//	C1  throughput: each worker is a virtual user (one of -users, rotating) that adds two distinct
//	    random variants (quantity 1 each) to its cart and checks out with a fresh idempotency key.
//	    One iteration = one order. A warm-up, then -runs measured runs of -duration.
//	C2  hot product: every worker adds the one -hot-variant (quantity 1) and checks out, again and
//	    again, until it is answered OUT_OF_STOCK -soldout-attempts times; no warm-up.
//
// An iteration is ok when checkout returns an order, a payment intent and no userErrors. A
// checkout answered with only OUT_OF_STOCK is counted as out_of_stock (expected in C2, reported
// separately in C1). Anything else is an error: a transport failure, a status other than 200,
// a top-level "errors" member, or any other userError (of cartItemAdd or checkout, including
// PAYMENT_PROVIDER_UNAVAILABLE: that order exists but the customer cannot pay yet). After any
// iteration that did not end in an order the worker empties its cart (cartClear, not timed) so
// the next iteration starts clean.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

// The operations, exactly as documented in bench/README.md.
const (
	mutCartAdd   = `mutation CartItemAdd($input: CartItemAddInput!) { cartItemAdd(input: $input) { cart { totalQuantity subtotal { amount currency } lines { quantity variant { id } } } userErrors { code message } } }`
	mutCartClear = `mutation CartClear { cartClear { cart { totalQuantity } userErrors { code message } } }`
	mutCheckout  = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) { order { id status total { amount currency } lines { sku quantity } } payment { intentId status } userErrors { code message variantId availableQuantity } } }`
)

const benchPassword = "bench-password-1"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "register":
		err = cmdRegister(os.Args[2:])
	case "run":
		err = cmdRun(os.Args[2:])
	case "verify":
		err = cmdVerify(os.Args[2:])
	case "report":
		err = cmdReport(os.Args[2:])
	case "-h", "--help", "help":
		usage()
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "checkoutgen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: checkoutgen register|run|verify|report [flags]  (checkoutgen CMD -h for the flags)")
	os.Exit(2)
}

// ---------------------------------------------------------------------------
// HTTP

type gqlError struct {
	Message string `json:"message"`
}

type userError struct {
	Code              string  `json:"code"`
	Message           string  `json:"message"`
	VariantID         *string `json:"variantId"`
	AvailableQuantity *int    `json:"availableQuantity"`
}

// post sends one operation over the worker's own connection and decodes the answer's data
// into out. It returns a short error description ("" on success) that groups identical
// failures.
func post(c *benchkit.Conn, token string, b []byte, out any) string {
	status, raw, err := c.Post(token, b)
	if err != nil {
		return "transport: " + benchkit.ShortErr(err)
	}
	if status != http.StatusOK {
		return fmt.Sprintf("HTTP %d: %s", status, benchkit.Truncate(string(raw), 120))
	}
	// One pass: data is decoded straight into out (an interface holding a pointer).
	env := struct {
		Data   any        `json:"data"`
		Errors []gqlError `json:"errors"`
	}{Data: out}
	if err := json.Unmarshal(raw, &env); err != nil {
		return "decode: " + benchkit.Truncate(string(raw), 120)
	}
	if len(env.Errors) > 0 {
		return "GraphQL errors: " + benchkit.Truncate(env.Errors[0].Message, 120)
	}
	return ""
}

// ---------------------------------------------------------------------------
// register

type user struct {
	Email string
	Token string
}

func cmdRegister(args []string) error {
	fs := flag.NewFlagSet("register", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint")
	n := fs.Int("n", 256, "customers to create")
	par := fs.Int("p", 2*runtime.NumCPU(), "registrations in flight (each costs the server one argon2id hash)")
	out := fs.String("out", "users.tsv", "where to write email<TAB>access token, one customer a line")
	prefix := fs.String("prefix", "bench-"+benchkit.Nonce(), "email local-part prefix (emails are PREFIX-N@bench.example.com)")
	_ = fs.Parse(args)
	if *n < 1 || *par < 1 {
		return errors.New("-n and -p must be positive")
	}
	conns, err := benchkit.NewConns(*url, *par, 60*time.Second)
	if err != nil {
		return err
	}
	users := make([]user, *n)
	errs := make([]string, *n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for _, conn := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				email := fmt.Sprintf("%s-%d@bench.example.com", *prefix, i)
				var data struct {
					AccountRegister struct {
						Tokens *struct {
							AccessToken string `json:"accessToken"`
						} `json:"tokens"`
						UserErrors []userError `json:"userErrors"`
					} `json:"accountRegister"`
				}
				b := benchkit.Body(benchkit.MutRegister, "Register", map[string]any{"input": map[string]any{
					"email": email, "password": benchPassword, "name": "Bench " + strconv.Itoa(i)}})
				if kind := post(conn, "", b, &data); kind != "" {
					errs[i] = kind
					continue
				}
				p := data.AccountRegister
				if len(p.UserErrors) > 0 || p.Tokens == nil {
					errs[i] = fmt.Sprintf("userErrors: %+v", p.UserErrors)
					continue
				}
				users[i] = user{Email: email, Token: p.Tokens.AccessToken}
			}
		}()
	}
	wg.Wait()
	for i, e := range errs {
		if e != "" {
			return fmt.Errorf("register customer %d: %s", i, e)
		}
	}
	var buf bytes.Buffer
	for _, u := range users {
		fmt.Fprintf(&buf, "%s\t%s\n", u.Email, u.Token)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o600); err != nil {
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "checkoutgen: registered %d customers in %.1fs (%.1f/s, %d in flight)\n",
		*n, el.Seconds(), float64(*n)/el.Seconds(), *par)
	return nil
}

func readUsers(path string) ([]user, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var users []user
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		email, token, ok := strings.Cut(strings.TrimSpace(sc.Text()), "\t")
		if !ok || token == "" {
			continue
		}
		users = append(users, user{Email: email, Token: token})
	}
	return users, sc.Err()
}

func readIDs(path string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a database id", path, s)
		}
		ids = append(ids, id)
	}
	return ids, sc.Err()
}

// ---------------------------------------------------------------------------
// run

// RunResult is one measured run (or the warm-up, or the whole of C2).
type RunResult struct {
	Run        int     `json:"run"`
	ElapsedSec float64 `json:"elapsed_sec"`
	Iterations int64   `json:"iterations"` // ok + out_of_stock + errors
	OK         int64   `json:"ok"`         // orders placed with a payment intent
	OutOfStock int64   `json:"out_of_stock"`
	Errors     int64   `json:"errors"`
	// OrdersCreated counts checkouts that returned an order, with or without a payment
	// (PAYMENT_PROVIDER_UNAVAILABLE): what the database must hold.
	OrdersCreated int64            `json:"orders_created"`
	UnitsOrdered  int64            `json:"units_ordered"` // sum of the returned orders' line quantities
	OrdersPerSec  float64          `json:"orders_per_sec"`
	Checkout      benchkit.Latency `json:"checkout"`  // every checkout request
	Iteration     benchkit.Latency `json:"iteration"` // cartItemAdd ×2 (C1) or ×1 (C2) + checkout
	CartAdd       benchkit.Latency `json:"cart_add"`  // every cartItemAdd request
	SoldOutSec    float64          `json:"sold_out_sec,omitempty"`
	ErrorKinds    map[string]int   `json:"error_kinds,omitempty"`
}

// Result is what -json writes.
type Result struct {
	Scenario    string      `json:"scenario"`
	Label       string      `json:"label,omitempty"`
	URL         string      `json:"url"`
	Concurrency int         `json:"concurrency"`
	Users       int         `json:"users"`
	Variants    int         `json:"variants,omitempty"`
	HotVariant  int64       `json:"hot_variant,omitempty"`
	WarmupSec   float64     `json:"warmup_sec"`
	DurationSec float64     `json:"duration_sec"`
	StartedAt   time.Time   `json:"started_at"`
	Warmup      *RunResult  `json:"warmup,omitempty"`
	Runs        []RunResult `json:"runs"`
	GoMaxProcs  int         `json:"gomaxprocs"`
}

type runOptions struct {
	url             string
	scenario        string
	concurrency     int
	usersFile       string
	variantsFile    string
	hotVariant      int64
	warmup          time.Duration
	duration        time.Duration
	runs            int
	soldoutAttempts int
	maxDuration     time.Duration
	timeout         time.Duration
	seed            uint64
	jsonOut         string
	label           string
	runOffset       int
}

func cmdRun(args []string) error {
	var o runOptions
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint")
	fs.StringVar(&o.scenario, "scenario", "C1", "C1 (throughput) or C2 (hot product)")
	fs.IntVar(&o.concurrency, "c", 16, "workers, one iteration in flight each")
	fs.StringVar(&o.usersFile, "users", "users.tsv", "customers from `checkoutgen register`; worker w uses customers w, w+c, w+2c… in turn (at least -c)")
	fs.StringVar(&o.variantsFile, "variants-file", "", "C1: database ids of in-stock variants, one a line")
	fs.Int64Var(&o.hotVariant, "hot-variant", 0, "C2: database id of the one variant everybody buys")
	fs.DurationVar(&o.warmup, "warmup", 5*time.Second, "C1: warm-up before the measured runs (results kept apart)")
	fs.DurationVar(&o.duration, "duration", 15*time.Second, "C1: length of each measured run")
	fs.IntVar(&o.runs, "runs", 3, "C1: measured runs")
	fs.IntVar(&o.runOffset, "run-offset", 0, "C1: number the runs from run-offset+1 (when a script calls one run at a time)")
	fs.IntVar(&o.soldoutAttempts, "soldout-attempts", 2, "C2: a worker stops after this many OUT_OF_STOCK answers")
	fs.DurationVar(&o.maxDuration, "max-duration", 5*time.Minute, "C2: give up after this long")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (0: from the clock)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.label, "label", "", "label recorded in the JSON")
	cpuProfile := fs.String("cpuprofile", "", "write the generator's own CPU profile to this file")
	_ = fs.Parse(args)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	o.scenario = strings.ToUpper(o.scenario)
	if o.seed == 0 {
		o.seed = uint64(time.Now().UnixNano())
	}
	if o.concurrency < 1 {
		return errors.New("-c must be positive")
	}
	users, err := readUsers(o.usersFile)
	if err != nil {
		return err
	}
	if len(users) < o.concurrency {
		return fmt.Errorf("%d customers in %s, need at least -c %d", len(users), o.usersFile, o.concurrency)
	}
	// One connection per worker, kept open from the warm-up to the last run.
	conns, err := benchkit.NewConns(o.url, o.concurrency, o.timeout)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	res := Result{Scenario: o.scenario, Label: o.label, URL: o.url, Concurrency: o.concurrency, Users: len(users),
		WarmupSec: o.warmup.Seconds(), DurationSec: o.duration.Seconds(), GoMaxProcs: runtime.GOMAXPROCS(0)}
	g := &gen{o: o, conns: conns, users: users, keyPrefix: "bench-" + benchkit.Nonce()}

	switch o.scenario {
	case "C1":
		if o.variantsFile == "" {
			return errors.New("C1 needs -variants-file")
		}
		ids, err := readIDs(o.variantsFile)
		if err != nil {
			return err
		}
		if len(ids) < 2 {
			return errors.New("C1 needs at least two variants")
		}
		g.variants = make([]string, len(ids))
		for i, id := range ids {
			g.variants[i] = benchkit.GID("ProductVariant", id)
		}
		res.Variants = len(ids)
		if o.runs < 0 || (o.runs == 0 && o.warmup <= 0) || o.duration <= 0 {
			return errors.New("C1 needs -runs ≥ 1 (or a -warmup) and a positive -duration")
		}
		fmt.Printf("C1%s: %s, c=%d, %d customers, %d variants, warm-up %s, %d x %s\n",
			labelSuffix(o.label), o.url, o.concurrency, len(users), len(ids), o.warmup, o.runs, o.duration)
		res.StartedAt = time.Now().UTC()
		if o.warmup > 0 {
			w := g.measure(o.warmup, o.seed+100, false)
			res.Warmup = &w
			fmt.Printf("  warm-up  %s\n", lineOf(w))
		}
		for i := 1; i <= o.runs; i++ {
			rr := g.measure(o.duration, o.seed+uint64(i)*1000, false)
			rr.Run = o.runOffset + i
			res.Runs = append(res.Runs, rr)
			fmt.Printf("  run %d    %s\n", rr.Run, lineOf(rr))
			printKinds(rr.ErrorKinds)
		}
	case "C2":
		if o.hotVariant <= 0 {
			return errors.New("C2 needs -hot-variant")
		}
		g.variants = []string{benchkit.GID("ProductVariant", o.hotVariant)}
		res.HotVariant = o.hotVariant
		res.WarmupSec, res.DurationSec = 0, 0
		fmt.Printf("C2%s: %s, c=%d, %d customers, hot variant %d, until sold out (each worker stops after %d OUT_OF_STOCK)\n",
			labelSuffix(o.label), o.url, o.concurrency, len(users), o.hotVariant, o.soldoutAttempts)
		res.StartedAt = time.Now().UTC()
		rr := g.measure(o.maxDuration, o.seed+7, true)
		rr.Run = 1
		res.Runs = append(res.Runs, rr)
		fmt.Printf("  run      %s\n", lineOf(rr))
		fmt.Printf("           sold out after %.2fs (last successful checkout)\n", rr.SoldOutSec)
		printKinds(rr.ErrorKinds)
	default:
		return fmt.Errorf("unknown -scenario %q (C1 or C2)", o.scenario)
	}

	return benchkit.WriteJSON(o.jsonOut, res)
}

func labelSuffix(l string) string {
	if l == "" {
		return ""
	}
	return " [" + l + "]"
}

func printKinds(m map[string]int) {
	benchkit.WriteKinds(os.Stdout, "           error x%d: %s\n", m)
}

func lineOf(r RunResult) string {
	return fmt.Sprintf("%7.1f orders/s  checkout p50 %6.2f p99 %7.2f ms  iteration p50 %6.2f p99 %7.2f ms  ok %d  out_of_stock %d  errors %d  (%d iterations in %.1fs)",
		r.OrdersPerSec, r.Checkout.P50, r.Checkout.P99, r.Iteration.P50, r.Iteration.P99, r.OK, r.OutOfStock, r.Errors, r.Iterations, r.ElapsedSec)
}

type gen struct {
	o         runOptions
	conns     []*benchkit.Conn // one per worker
	users     []user
	variants  []string
	keyPrefix string
	keySeq    atomic.Int64
}

type workerStats struct {
	checkout, iteration, add []time.Duration
	ok, oos, errs, orders    int64
	units                    int64
	lastOK                   time.Time
	kinds                    map[string]int
}

func (st *workerStats) fail(kind string) {
	st.errs++
	if st.kinds == nil {
		st.kinds = map[string]int{}
	}
	if len(st.kinds) < 20 || st.kinds[kind] > 0 {
		st.kinds[kind]++
	}
}

type addData struct {
	CartItemAdd struct {
		Cart *struct {
			TotalQuantity int `json:"totalQuantity"`
		} `json:"cart"`
		UserErrors []userError `json:"userErrors"`
	} `json:"cartItemAdd"`
}

type checkoutData struct {
	Checkout struct {
		Order *struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Lines  []struct {
				SKU      string `json:"sku"`
				Quantity int    `json:"quantity"`
			} `json:"lines"`
		} `json:"order"`
		Payment *struct {
			IntentID string `json:"intentId"`
			Status   string `json:"status"`
		} `json:"payment"`
		UserErrors []userError `json:"userErrors"`
	} `json:"checkout"`
}

// measure runs the workers for at most d. C1 (hot=false): each worker iterates until the
// deadline. C2 (hot=true): each worker iterates until it has been answered OUT_OF_STOCK
// -soldout-attempts times (or the deadline passes).
func (g *gen) measure(d time.Duration, seed uint64, hot bool) RunResult {
	c := g.o.concurrency
	stats := make([]workerStats, c)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &stats[w]
			conn := g.conns[w]
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			// Worker w owns customers w, w+c, w+2c…: no two workers share a cart.
			var mine []user
			for i := w; i < len(g.users); i += c {
				mine = append(mine, g.users[i])
			}
			soldOut := 0
			for it := 0; time.Now().Before(deadline); it++ {
				if hot && soldOut >= g.o.soldoutAttempts {
					return
				}
				u := mine[it%len(mine)]
				var picks []string
				if hot {
					picks = []string{g.variants[0]}
				} else {
					a := r.IntN(len(g.variants))
					b := r.IntN(len(g.variants) - 1)
					if b >= a {
						b++
					}
					picks = []string{g.variants[a], g.variants[b]}
				}
				outcome := g.iterate(conn, st, u, picks)
				switch outcome {
				case outcomeOutOfStock:
					soldOut++
				case outcomeOK:
					st.lastOK = time.Now()
				}
				if outcome != outcomeOK {
					// Leave the cart empty for the customer's next turn (not timed).
					var data struct {
						CartClear struct {
							UserErrors []userError `json:"userErrors"`
						} `json:"cartClear"`
					}
					if kind := post(conn, u.Token, benchkit.Body(mutCartClear, "CartClear", nil), &data); kind != "" {
						st.fail("cartClear: " + kind)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var rr RunResult
	var co, itl, add []time.Duration
	var lastOK time.Time
	for _, st := range stats {
		rr.OK += st.ok
		rr.OutOfStock += st.oos
		rr.Errors += st.errs
		rr.OrdersCreated += st.orders
		rr.UnitsOrdered += st.units
		co = append(co, st.checkout...)
		itl = append(itl, st.iteration...)
		add = append(add, st.add...)
		if st.lastOK.After(lastOK) {
			lastOK = st.lastOK
		}
		for k, n := range st.kinds {
			if rr.ErrorKinds == nil {
				rr.ErrorKinds = map[string]int{}
			}
			rr.ErrorKinds[k] += n
		}
	}
	rr.Iterations = int64(len(itl))
	rr.ElapsedSec = elapsed.Seconds()
	rr.OrdersPerSec = float64(rr.OK) / elapsed.Seconds()
	if hot && !lastOK.IsZero() {
		rr.SoldOutSec = lastOK.Sub(start).Seconds()
		rr.OrdersPerSec = float64(rr.OK) / rr.SoldOutSec
	}
	rr.Checkout = benchkit.Summarise(co)
	rr.Iteration = benchkit.Summarise(itl)
	rr.CartAdd = benchkit.Summarise(add)
	return rr
}

type outcome int

const (
	outcomeOK outcome = iota
	outcomeOutOfStock
	outcomeError
)

// iterate is one iteration: cartItemAdd of each pick (quantity 1), then checkout.
func (g *gen) iterate(conn *benchkit.Conn, st *workerStats, u user, picks []string) outcome {
	t0 := time.Now()
	for _, v := range picks {
		var data addData
		t := time.Now()
		kind := post(conn, u.Token, benchkit.Body(mutCartAdd, "CartItemAdd", map[string]any{
			"input": map[string]any{"variantId": v, "quantity": 1}}), &data)
		st.add = append(st.add, time.Since(t))
		if kind == "" && len(data.CartItemAdd.UserErrors) > 0 {
			kind = "userError " + data.CartItemAdd.UserErrors[0].Code
		} else if kind == "" && data.CartItemAdd.Cart == nil {
			kind = "no cart"
		}
		if kind != "" {
			st.iteration = append(st.iteration, time.Since(t0))
			st.fail("cartItemAdd: " + kind)
			return outcomeError
		}
	}
	key := fmt.Sprintf("%s-%d", g.keyPrefix, g.keySeq.Add(1))
	var data checkoutData
	t := time.Now()
	kind := post(conn, u.Token, benchkit.Body(mutCheckout, "Checkout", map[string]any{
		"input": map[string]any{"idempotencyKey": key, "shippingAddress": benchkit.ShippingAddress}}), &data)
	now := time.Now()
	st.checkout = append(st.checkout, now.Sub(t))
	st.iteration = append(st.iteration, now.Sub(t0))
	if kind != "" {
		st.fail("checkout: " + kind)
		return outcomeError
	}
	p := data.Checkout
	if p.Order != nil {
		st.orders++
		for _, l := range p.Order.Lines {
			st.units += int64(l.Quantity)
		}
	}
	switch {
	case p.Order != nil && len(p.UserErrors) == 0 && p.Payment != nil && p.Payment.IntentID != "":
		if len(p.Order.Lines) != len(picks) {
			st.fail(fmt.Sprintf("checkout: order with %d lines, cart had %d", len(p.Order.Lines), len(picks)))
			return outcomeError
		}
		st.ok++
		return outcomeOK
	case p.Order == nil && len(p.UserErrors) > 0 && allCode(p.UserErrors, "OUT_OF_STOCK"):
		st.oos++
		return outcomeOutOfStock
	case len(p.UserErrors) > 0:
		st.fail(fmt.Sprintf("checkout: userError %s (order returned: %t)", p.UserErrors[0].Code, p.Order != nil))
	case p.Order == nil:
		st.fail("checkout: no order and no userErrors")
	default:
		st.fail("checkout: order without a payment intent")
	}
	return outcomeError
}

func allCode(ue []userError, code string) bool {
	for _, e := range ue {
		if e.Code != code {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// verify and report
//
// A checkout.sh results directory holds:
//   c1-*.json        checkoutgen run -scenario C1 results (their runs are pooled, medians taken)
//   pgbench-c1.tps   the pgbench TPC-B tps of each run, one a line
//   c1-db.txt        "key value" lines from the database after C1 (see checkout.sh)
//   c2.json          checkoutgen run -scenario C2
//   c2-db.txt        "key value" lines from the database after C2

// Targets of issue 4 ("Benchmark").
const (
	targetRatio = 0.25
	targetP99Ms = 100.0
)

func readKV(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]int64{}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, l, err)
		}
		m[f[0]] = n
	}
	return m, nil
}

func readFloats(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var v []float64
	for _, f := range strings.Fields(string(b)) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		v = append(v, x)
	}
	return v, nil
}

// check is one line of an invariant verdict.
type check struct {
	name string
	ok   bool
	got  string
}

// verifyC2 checks the hot-product invariant: the database after C2 (c2-db.txt) against the
// stock it started with and what the clients were told (c2.json).
func verifyC2(dir string, hotStock int64) ([]check, error) {
	r, err := benchkit.ReadJSON[Result](filepath.Join(dir, "c2.json"))
	if err != nil {
		return nil, err
	}
	if len(r.Runs) != 1 {
		return nil, errors.New("c2.json: want exactly one run")
	}
	db, err := readKV(filepath.Join(dir, "c2-db.txt"))
	if err != nil {
		return nil, err
	}
	need := []string{"hot_stock", "hot_units", "hot_orders", "hot_orders_other_lines", "negative_stock_rows", "stock_check_constraint", "hot_orders_not_pending"}
	for _, k := range need {
		if _, ok := db[k]; !ok {
			return nil, fmt.Errorf("c2-db.txt: no %s", k)
		}
	}
	run := r.Runs[0]
	attempts := run.OK + run.OutOfStock + run.Errors
	return []check{
		{fmt.Sprintf("sum of the order lines' quantities of the variant = S (%d)", hotStock), db["hot_units"] == hotStock, strconv.FormatInt(db["hot_units"], 10)},
		{"stock of the variant after the run = 0", db["hot_stock"] == 0, strconv.FormatInt(db["hot_stock"], 10)},
		{"no variant has negative stock (and the CHECK (stock >= 0) constraint is in place)", db["negative_stock_rows"] == 0 && db["stock_check_constraint"] == 1,
			fmt.Sprintf("%d negative rows, constraint present: %t", db["negative_stock_rows"], db["stock_check_constraint"] == 1)},
		{fmt.Sprintf("successful checkouts = S (%d) = orders holding the variant", hotStock), run.OK == hotStock && db["hot_orders"] == hotStock && run.OrdersCreated == hotStock,
			fmt.Sprintf("%d successful, %d orders in the database, %d orders returned", run.OK, db["hot_orders"], run.OrdersCreated)},
		{"every other checkout was OUT_OF_STOCK (no errors)", run.Errors == 0 && run.OutOfStock == attempts-run.OK && run.OutOfStock > 0,
			fmt.Sprintf("%d attempts: %d ok, %d OUT_OF_STOCK, %d errors", attempts, run.OK, run.OutOfStock, run.Errors)},
		{"each such order has one line, quantity 1, and is PENDING", db["hot_orders_other_lines"] == 0 && db["hot_orders_not_pending"] == 0 && db["hot_units"] == db["hot_orders"],
			fmt.Sprintf("%d orders with other lines, %d not PENDING", db["hot_orders_other_lines"], db["hot_orders_not_pending"])},
	}, nil
}

// verifyC1 checks the throughput run's bookkeeping: every unit of stock taken is in an order
// line, and the database holds exactly the orders the clients were given.
func verifyC1(dir string) ([]check, error) {
	db, err := readKV(filepath.Join(dir, "c1-db.txt"))
	if err != nil {
		return nil, err
	}
	results, err := benchkit.LoadJSON[Result](filepath.Join(dir, "c1-*.json"))
	if err != nil {
		return nil, err
	}
	var orders, units int64
	for _, r := range results {
		all := r.Runs
		if r.Warmup != nil {
			all = append(all, *r.Warmup)
		}
		for _, rr := range all {
			orders += rr.OrdersCreated
			units += rr.UnitsOrdered
		}
	}
	return []check{
		{"stock taken = units in order lines", db["stock_taken"] == db["line_units"],
			fmt.Sprintf("%d taken, %d in lines", db["stock_taken"], db["line_units"])},
		{"orders in the database = orders returned to clients", db["orders"] == orders && db["line_units"] == units,
			fmt.Sprintf("%d in the database, %d returned; %d units in lines, %d returned", db["orders"], orders, db["line_units"], units)},
		{"no variant has negative stock", db["negative_stock_rows"] == 0, strconv.FormatInt(db["negative_stock_rows"], 10)},
	}, nil
}

func allOK(cs []check) bool {
	for _, c := range cs {
		if !c.ok {
			return false
		}
	}
	return true
}

func printChecks(w io.Writer, title string, cs []check) {
	verdict := "PASS"
	if !allOK(cs) {
		verdict = "**FAIL**"
	}
	fmt.Fprintf(w, "%s: %s\n\n", title, verdict)
	for _, c := range cs {
		v := "PASS"
		if !c.ok {
			v = "**FAIL**"
		}
		fmt.Fprintf(w, "- %s %s: %s\n", v, c.name, c.got)
	}
	fmt.Fprintln(w)
}

func cmdVerify(args []string) error {
	fs := flag.NewFlagSet("verify", flag.ExitOnError)
	dir := fs.String("dir", ".", "results directory")
	hotStock := fs.Int64("hot-stock", 500, "the hot variant's stock before C2")
	scenario := fs.String("scenario", "C2", "C1 (bookkeeping) or C2 (hot-product invariant)")
	_ = fs.Parse(args)
	var cs []check
	var err error
	title := ""
	switch strings.ToUpper(*scenario) {
	case "C1":
		cs, err = verifyC1(*dir)
		title = "C1 stock bookkeeping"
	case "C2":
		cs, err = verifyC2(*dir, *hotStock)
		title = "C2 stock invariant"
	default:
		return fmt.Errorf("unknown -scenario %q", *scenario)
	}
	if err != nil {
		return err
	}
	printChecks(os.Stdout, title, cs)
	if !allOK(cs) {
		return errors.New(title + ": FAIL")
	}
	return nil
}

// printSQLAlone reports the SQL of an iteration run without the server
// (bench/pgbench/checkout_sql.sql): the ceiling of what any server sending those statements
// could reach on this machine, and the share of it the API reaches.
func printSQLAlone(w io.Writer, alone []float64, tpsMedian, ops float64) {
	m := benchkit.Median(alone)
	var per []string
	for _, x := range alone {
		per = append(per, fmt.Sprintf("%.0f", x))
	}
	fmt.Fprintf(w, "SQL alone (`bench/pgbench/checkout_sql.sql`: the statements of one iteration in the server's round trips and transactions, pgbench -M prepared, no server, HTTP, GraphQL, Stripe or load generator): median %.0f orders/s (per run %s)", m, strings.Join(per, " / "))
	if tpsMedian > 0 {
		fmt.Fprintf(w, ", **%.3fx** TPC-B: the most the API could reach on this machine with these statements", m/tpsMedian)
	}
	if m > 0 {
		fmt.Fprintf(w, "; the API reaches %.0f%% of it", 100*ops/m)
	}
	fmt.Fprintln(w, ".")
}

func cmdReport(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", ".", "results directory")
	hotStock := fs.Int64("hot-stock", 500, "the hot variant's stock before C2")
	_ = fs.Parse(args)
	return printReport(os.Stdout, *dir, *hotStock)
}

func printReport(w io.Writer, dir string, hotStock int64) error {
	results, err := benchkit.LoadJSON[Result](filepath.Join(dir, "c1-*.json"))
	if err != nil {
		return err
	}
	var runs []RunResult
	var warm []RunResult
	var conc, users, variants int
	for _, r := range results {
		runs = append(runs, r.Runs...)
		if r.Warmup != nil {
			warm = append(warm, *r.Warmup)
		}
		conc, users, variants = r.Concurrency, r.Users, r.Variants
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Run < runs[j].Run })
	tps, _ := readFloats(filepath.Join(dir, "pgbench-c1.tps"))

	if len(runs) > 0 {
		ops := benchkit.MedianOf(runs, func(r RunResult) float64 { return r.OrdersPerSec })
		var errs, oos, ok int64
		for _, r := range runs {
			errs += r.Errors
			oos += r.OutOfStock
			ok += r.OK
		}
		coP50 := benchkit.MedianOf(runs, func(r RunResult) float64 { return r.Checkout.P50 })
		coP99 := benchkit.MedianOf(runs, func(r RunResult) float64 { return r.Checkout.P99 })
		itP50 := benchkit.MedianOf(runs, func(r RunResult) float64 { return r.Iteration.P50 })
		itP99 := benchkit.MedianOf(runs, func(r RunResult) float64 { return r.Iteration.P99 })
		addP99 := benchkit.MedianOf(runs, func(r RunResult) float64 { return r.CartAdd.P99 })
		tpsS, ratioS := "–", "–"
		ratio, tpsMedian := 0.0, benchkit.Median(tps)
		if tpsMedian > 0 {
			ratio = ops / tpsMedian
			tpsS = fmt.Sprintf("%.0f", tpsMedian)
			ratioS = fmt.Sprintf("%.3fx", ratio)
		}
		var miss []string
		if len(tps) == 0 {
			miss = append(miss, "no pgbench figure")
		} else if ratio < targetRatio {
			miss = append(miss, "ratio")
		}
		if coP99 >= targetP99Ms {
			miss = append(miss, "checkout p99")
		}
		if errs > 0 {
			miss = append(miss, "errors")
		}
		verdict := "met"
		if len(miss) > 0 {
			verdict = "**missed** (" + strings.Join(miss, ", ") + ")"
		}
		fmt.Fprintf(w, "C1, throughput: %d workers over %d customers, each iteration = 2 × cartItemAdd (random distinct variants of %d, quantity 1) + checkout (fresh idempotency key, Stripe PaymentIntent via stripe-mock).\n\n", conc, users, variants)
		fmt.Fprintln(w, "| scenario | median orders/s | checkout p50 ms | checkout p99 ms | iteration p50 ms | iteration p99 ms | cartItemAdd p99 ms | errors (all runs) | OUT_OF_STOCK | pgbench TPC-B median tps | ratio orders/s ÷ tps | target | verdict |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
		fmt.Fprintf(w, "| C1 | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d | %s | %s | ≥ %.2fx, checkout p99 < %.0f ms | %s |\n\n",
			ops, coP50, coP99, itP50, itP99, addP99, errs, oos, tpsS, ratioS, targetRatio, targetP99Ms, verdict)
		var parts []string
		for _, r := range runs {
			parts = append(parts, fmt.Sprintf("%.1f (checkout p99 %.1f ms, %d orders, %d errors)", r.OrdersPerSec, r.Checkout.P99, r.OK, r.Errors))
		}
		fmt.Fprintf(w, "Per run, orders/s: %s.\n", strings.Join(parts, "; "))
		if len(tps) > 0 {
			var t []string
			for _, x := range tps {
				t = append(t, fmt.Sprintf("%.0f", x))
			}
			fmt.Fprintf(w, "pgbench per run (tps): %s.\n", strings.Join(t, " / "))
		}
		for _, wu := range warm {
			fmt.Fprintf(w, "Warm-up (discarded): %.1f orders/s, checkout p99 %.1f ms.\n", wu.OrdersPerSec, wu.Checkout.P99)
		}
		if alone, _ := readFloats(filepath.Join(dir, "sql-alone.tps")); len(alone) > 0 {
			printSQLAlone(w, alone, tpsMedian, ops)
		}
		kinds := map[string]int{}
		for _, r := range runs {
			for k, n := range r.ErrorKinds {
				kinds[k] += n
			}
		}
		if len(kinds) > 0 {
			fmt.Fprintln(w, "Errors:")
			benchkit.WriteKinds(w, "- %d × `%s`\n", kinds)
		}
		fmt.Fprintln(w)
		if cs, err := verifyC1(dir); err == nil {
			printChecks(w, "C1 stock bookkeeping (database after C1)", cs)
		}
	}

	if r, err := benchkit.ReadJSON[Result](filepath.Join(dir, "c2.json")); err == nil && len(r.Runs) == 1 {
		rr := r.Runs[0]
		fmt.Fprintf(w, "C2, hot product: %d workers over %d customers all buying variant %d (stock S = %d), cartItemAdd (quantity 1) + checkout, each worker until answered OUT_OF_STOCK.\n\n", r.Concurrency, r.Users, r.HotVariant, hotStock)
		fmt.Fprintln(w, "| scenario | successful checkouts | OUT_OF_STOCK | errors | sold out after s | orders/s until sold out | checkout p50 ms | checkout p99 ms | checkout max ms | invariant |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		inv := "–"
		cs, verr := verifyC2(dir, hotStock)
		if verr == nil {
			inv = "PASS"
			if !allOK(cs) {
				inv = "**FAIL**"
			}
		}
		fmt.Fprintf(w, "| C2 | %d | %d | %d | %.2f | %.1f | %.2f | %.2f | %.2f | %s |\n\n",
			rr.OK, rr.OutOfStock, rr.Errors, rr.SoldOutSec, rr.OrdersPerSec, rr.Checkout.P50, rr.Checkout.P99, rr.Checkout.Max, inv)
		if len(rr.ErrorKinds) > 0 {
			fmt.Fprintln(w, "Errors:")
			for k, n := range rr.ErrorKinds {
				fmt.Fprintf(w, "- %d × `%s`\n", n, k)
			}
			fmt.Fprintln(w)
		}
		if verr != nil {
			fmt.Fprintf(w, "C2 stock invariant: not checked (%v)\n\n", verr)
		} else {
			printChecks(w, "C2 stock invariant (database after C2)", cs)
		}
	}
	return nil
}
