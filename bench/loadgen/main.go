// Command loadgen is shopgraph's GraphQL load generator (standard library only).
//
// It runs one scenario at a fixed concurrency against a running server: a warm-up whose results
// are discarded, then -runs measured runs of -duration each, and prints per-run and median
// throughput, latency percentiles and error counts. See bench/README.md.
//
//	go run ./bench/loadgen -url http://127.0.0.1:8080/graphql -scenario W1
//	go run ./bench/loadgen -scenario W2 -ids-file ids.txt -json w2.json
//	go run ./bench/loadgen -report bench/results/2026-01-01T120000Z   (markdown table of a run.sh run)
//
// Scenarios:
//
//	W1  the first page of 20 products (newest first) with category, variants and price range
//	W2  one product by a random id, with category, vendor and variants
//	W3  a relevance-ranked search for a random catalog word (about 1 in 10 has a one-letter typo)
//	W4  a filtered page (in stock, a random minimum price) with totalCount and every facet:
//	    uncached, whatever the configuration, as few requests repeat a filter
//
// A request is an error when the transport fails, the status is not 200, or the body has a
// top-level "errors" member. A 200 answer without data (W1/W3: no edges, W2: product null)
// is counted separately as "empty": it is not an error, but it means the run measured the
// wrong thing (a wrong id list, an empty catalog).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

// The scenarios' operations, exactly as documented in bench/README.md.
const (
	queryW1 = benchkit.QueryW1
	queryW2 = `query W2($id: ID!) { product(id: $id) { id name description category { name } vendor { name } variants { sku price { amount currency } stockStatus } } }`
	queryW4 = `query W4($min: Int64!) { products(first: 20, filter: {minPrice: $min, inStock: true}) { totalCount edges { node { id name priceRange { min { amount currency } } } } facets { categories { category { id name } count } priceBuckets { min max count } ratings { minRating count } stock { inStock outOfStock } attributes { key count values { value count } } } } }`
	queryW3 = `query W3($q: String!) { products(first: 20, filter: {search: $q}, sort: RELEVANCE) { edges { node { id name priceRange { min { amount currency } } } } } }`

	// queryIDs walks the catalog to collect product ids when no -ids-file is given.
	queryIDs = `query IDs($after: String) { products(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`
)

// searchWords are words that occur in the names and descriptions of the seeded catalog
// (internal/product/seed.go: adjectives, colours, nouns), followed by one-letter typos of a few
// nouns that pg_trgm still matches. W3 picks uniformly from the whole list, so about one search
// in ten has a typo. bench/pgbench/w3.sql holds the same list: keep them in sync.
// w4MaxMinPrice bounds W4's random minimum price (exclusive); bench/pgbench/w4.sql draws from
// the same range.
const w4MaxMinPrice = 20000

var searchWords = []string{
	// adjectives
	"classic", "organic", "vintage", "urban", "premium", "everyday", "lightweight", "rugged",
	"cosy", "slim", "relaxed", "essential", "handmade", "recycled", "waterproof",
	// colours
	"red", "blue", "black", "white", "green", "grey", "navy", "olive", "sand", "rust", "teal", "mustard",
	// nouns
	"hoodie", "t-shirt", "jacket", "sneakers", "backpack", "mug", "headphones", "lamp", "notebook",
	"water bottle", "scarf", "beanie", "jeans", "sweater", "desk chair", "speaker", "candle",
	"blanket", "wallet", "sunglasses",
	// typos (a letter dropped)
	"hodie", "sneakrs", "backpak", "sweatr", "walet",
}

type options struct {
	url         string
	scenario    string
	concurrency int
	warmup      time.Duration
	duration    time.Duration
	runs        int
	idsFile     string
	ids         int
	idFormat    string
	jsonOut     string
	label       string
	timeout     time.Duration
	seed        uint64
	report      string
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080/graphql", "GraphQL endpoint")
	flag.StringVar(&o.scenario, "scenario", "W1", "W1 (first page), W2 (product by random id), W3 (search) or W4 (facets)")
	flag.IntVar(&o.concurrency, "c", 64, "concurrent connections (one request in flight each)")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up before the measured runs (results discarded)")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "length of each measured run")
	flag.IntVar(&o.runs, "runs", 3, "measured runs; medians are reported")
	flag.StringVar(&o.idsFile, "ids-file", "", "W2: file of product ids, one a line: global IDs, or database ids (all digits) encoded with -id-format; default: collect -ids ids through the API")
	flag.IntVar(&o.ids, "ids", 2000, "W2 without -ids-file: how many product ids to collect by walking products(first: 100)")
	flag.StringVar(&o.idFormat, "id-format", "Product:%d", "how a database id in -ids-file becomes a global ID (base64url without padding of this format); checked against the server before the run")
	flag.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file (- for stdout)")
	flag.StringVar(&o.label, "label", "", "configuration label recorded in the JSON (e.g. redis, in-process)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.Uint64Var(&o.seed, "seed", 0, "random seed (0: from the clock)")
	flag.StringVar(&o.report, "report", "", "instead of a load test: print the markdown table of a run.sh results directory")
	flag.Parse()

	if o.report != "" {
		if err := printReport(os.Stdout, o.report); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------------------
// Results

// RunResult is one measured run.
type RunResult struct {
	Run        int            `json:"run"`
	Requests   int64          `json:"requests"` // completed: ok + errors
	OK         int64          `json:"ok"`
	Errors     int64          `json:"errors"`
	Empty      int64          `json:"empty"` // 200 without data (subset of ok)
	ElapsedSec float64        `json:"elapsed_sec"`
	RPS        float64        `json:"rps"` // ok / elapsed
	MeanMs     float64        `json:"mean_ms"`
	P50Ms      float64        `json:"p50_ms"`
	P90Ms      float64        `json:"p90_ms"`
	P99Ms      float64        `json:"p99_ms"`
	MaxMs      float64        `json:"max_ms"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
}

// Median holds the median across runs of each figure, taken independently.
type Median struct {
	RPS    float64 `json:"rps"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
	Errors float64 `json:"errors"`
}

// Result is what -json writes.
type Result struct {
	Scenario    string      `json:"scenario"`
	Label       string      `json:"label,omitempty"`
	URL         string      `json:"url"`
	Concurrency int         `json:"concurrency"`
	WarmupSec   float64     `json:"warmup_sec"`
	DurationSec float64     `json:"duration_sec"`
	StartedAt   time.Time   `json:"started_at"`
	IDs         int         `json:"ids,omitempty"`
	Warmup      RunResult   `json:"warmup"`
	Runs        []RunResult `json:"runs"`
	Median      Median      `json:"median"`
	TotalErrors int64       `json:"total_errors"`
	TotalEmpty  int64       `json:"total_empty"`
	GoMaxProcs  int         `json:"gomaxprocs"`
}

// ---------------------------------------------------------------------------
// Load

// scenario is a request generator plus the body fragment that marks an empty answer.
type scenario struct {
	next  func(r *rand.Rand) []byte
	empty []byte
}

func run(o options) error {
	o.scenario = strings.ToUpper(o.scenario)
	if o.concurrency < 1 || o.runs < 1 || o.duration <= 0 {
		return errors.New("-c, -runs and -duration must be positive")
	}
	client := benchkit.NewClient(o.concurrency, o.timeout)
	ctx := context.Background()
	seed := o.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}

	var sc scenario
	res := Result{Scenario: o.scenario, Label: o.label, URL: o.url, Concurrency: o.concurrency,
		WarmupSec: o.warmup.Seconds(), DurationSec: o.duration.Seconds(), GoMaxProcs: runtime.GOMAXPROCS(0)}
	switch o.scenario {
	case "W1":
		b := benchkit.Body(queryW1, "W1", nil)
		sc = scenario{next: func(*rand.Rand) []byte { return b }, empty: []byte(`"edges":[]`)}
	case "W2":
		ids, err := loadIDs(ctx, client, o)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return errors.New("W2: no product ids")
		}
		bodies := make([][]byte, len(ids))
		for i, id := range ids {
			bodies[i] = benchkit.Body(queryW2, "W2", map[string]any{"id": id})
		}
		res.IDs = len(ids)
		// The ids must resolve: a wrong -id-format would otherwise measure "not found".
		r := rand.New(rand.NewPCG(seed, 1))
		for range 5 {
			b := bodies[r.IntN(len(bodies))]
			out, err := post(ctx, client, o.url, b)
			if err != nil {
				return fmt.Errorf("W2 id check: %w", err)
			}
			if bytes.Contains(out, []byte(`"product":null`)) {
				return fmt.Errorf("W2 id check: the server does not find product ids from the list (%s); check -ids-file and -id-format", benchkit.Truncate(string(b), 200))
			}
		}
		sc = scenario{next: func(r *rand.Rand) []byte { return bodies[r.IntN(len(bodies))] }, empty: []byte(`"product":null`)}
	case "W3":
		bodies := make([][]byte, len(searchWords))
		for i, w := range searchWords {
			bodies[i] = benchkit.Body(queryW3, "W3", map[string]any{"q": w})
		}
		sc = scenario{next: func(r *rand.Rand) []byte { return bodies[r.IntN(len(bodies))] }, empty: []byte(`"edges":[]`)}
	case "W4":
		// 20,000 minimum prices (the seeded prices run from 5.00 to about 215.00): a filter
		// seldom repeats within a run, so the list cache does not serve it.
		sc = scenario{next: func(r *rand.Rand) []byte {
			return benchkit.Body(queryW4, "W4", map[string]any{"min": r.IntN(w4MaxMinPrice)})
		}, empty: []byte(`"edges":[]`)}
	default:
		return fmt.Errorf("unknown -scenario %q (W1, W2, W3 or W4)", o.scenario)
	}

	// One checked request first, so that a broken setup fails in a second, not after a minute.
	r := rand.New(rand.NewPCG(seed, 2))
	first := sc.next(r)
	if out, err := post(ctx, client, o.url, first); err != nil {
		return fmt.Errorf("%s check request: %w", o.scenario, err)
	} else if bytes.Contains(out, sc.empty) {
		fmt.Fprintf(os.Stderr, "loadgen: warning: %s check request returned no data: %s\n", o.scenario, benchkit.Truncate(string(out), 300))
	}

	label := o.scenario
	if o.label != "" {
		label += " [" + o.label + "]"
	}
	fmt.Printf("%s: %s, c=%d, warm-up %s, %d x %s\n", label, o.url, o.concurrency, o.warmup, o.runs, o.duration)
	res.StartedAt = time.Now().UTC()
	if o.warmup > 0 {
		res.Warmup = measure(ctx, client, o, sc, o.warmup, seed+100)
		res.Warmup.Run = 0
		fmt.Printf("  warm-up  %s\n", line(res.Warmup))
	}
	for i := 1; i <= o.runs; i++ {
		rr := measure(ctx, client, o, sc, o.duration, seed+uint64(i)*1000)
		rr.Run = i
		res.Runs = append(res.Runs, rr)
		res.TotalErrors += rr.Errors
		res.TotalEmpty += rr.Empty
		fmt.Printf("  run %d    %s\n", i, line(rr))
		for k, n := range rr.ErrorKinds {
			fmt.Printf("           error x%d: %s\n", n, k)
		}
	}
	res.Median = Median{
		RPS:    benchkit.MedianOf(res.Runs, func(r RunResult) float64 { return r.RPS }),
		P50Ms:  benchkit.MedianOf(res.Runs, func(r RunResult) float64 { return r.P50Ms }),
		P90Ms:  benchkit.MedianOf(res.Runs, func(r RunResult) float64 { return r.P90Ms }),
		P99Ms:  benchkit.MedianOf(res.Runs, func(r RunResult) float64 { return r.P99Ms }),
		MaxMs:  benchkit.MedianOf(res.Runs, func(r RunResult) float64 { return r.MaxMs }),
		Errors: benchkit.MedianOf(res.Runs, func(r RunResult) float64 { return float64(r.Errors) }),
	}
	m := res.Median
	fmt.Printf("  median   %8.1f req/s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %7.2f ms  errors %g (total %d, empty %d)\n",
		m.RPS, m.P50Ms, m.P90Ms, m.P99Ms, m.MaxMs, m.Errors, res.TotalErrors, res.TotalEmpty)

	if o.jsonOut == "-" {
		_, err := os.Stdout.Write(benchkit.EncodeJSON(res))
		return err
	}
	return benchkit.WriteJSON(o.jsonOut, res)
}

func line(r RunResult) string {
	return fmt.Sprintf("%8.1f req/s  p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %7.2f ms  errors %d  empty %d  (%d requests in %.1fs)",
		r.RPS, r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs, r.Errors, r.Empty, r.Requests, r.ElapsedSec)
}

// workerStats is one worker's tally; workers share nothing while running.
type workerStats struct {
	lat        []time.Duration
	ok, errs   int64
	empty      int64
	errorKinds map[string]int
}

// measure runs c workers for d, each with one request in flight at a time, and summarises.
// A worker starts no request after the deadline; the run ends when the last one returns.
func measure(ctx context.Context, client *http.Client, o options, sc scenario, d time.Duration, seed uint64) RunResult {
	stats := make([]workerStats, o.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &stats[w]
			st.lat = make([]time.Duration, 0, 4096)
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			var buf bytes.Buffer
			for time.Now().Before(deadline) {
				b := sc.next(r)
				t0 := time.Now()
				kind := do(ctx, client, o.url, b, &buf)
				st.lat = append(st.lat, time.Since(t0))
				if kind != "" {
					st.errs++
					if st.errorKinds == nil {
						st.errorKinds = map[string]int{}
					}
					if len(st.errorKinds) < 20 {
						st.errorKinds[kind]++
					}
					continue
				}
				st.ok++
				if bytes.Contains(buf.Bytes(), sc.empty) {
					st.empty++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	var rr RunResult
	var all []time.Duration
	var sum time.Duration
	for _, st := range stats {
		rr.OK += st.ok
		rr.Errors += st.errs
		rr.Empty += st.empty
		all = append(all, st.lat...)
		for _, l := range st.lat {
			sum += l
		}
		for k, n := range st.errorKinds {
			if rr.ErrorKinds == nil {
				rr.ErrorKinds = map[string]int{}
			}
			rr.ErrorKinds[k] += n
		}
	}
	rr.Requests = rr.OK + rr.Errors
	rr.ElapsedSec = elapsed.Seconds()
	rr.RPS = float64(rr.OK) / elapsed.Seconds()
	slices.Sort(all)
	if len(all) > 0 {
		rr.MeanMs = benchkit.Ms(sum / time.Duration(len(all)))
		rr.P50Ms = benchkit.Ms(benchkit.Percentile(all, 50))
		rr.P90Ms = benchkit.Ms(benchkit.Percentile(all, 90))
		rr.P99Ms = benchkit.Ms(benchkit.Percentile(all, 99))
		rr.MaxMs = benchkit.Ms(all[len(all)-1])
	}
	return rr
}

// do sends one request, reading the whole answer into buf; it returns "" on success or a short
// description of the error.
func do(ctx context.Context, client *http.Client, url string, b []byte, buf *bytes.Buffer) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return "request: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "transport: " + benchkit.ShortErr(err)
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "read body: " + benchkit.ShortErr(err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("HTTP %d: %s", resp.StatusCode, benchkit.Truncate(buf.String(), 120))
	}
	if bytes.Contains(buf.Bytes(), []byte(`"errors"`)) {
		return "GraphQL errors: " + benchkit.Truncate(buf.String(), 160)
	}
	return ""
}

// post sends one request and returns its body, or an error for any kind of failure.
func post(ctx context.Context, client *http.Client, url string, b []byte) ([]byte, error) {
	var buf bytes.Buffer
	if kind := do(ctx, client, url, b, &buf); kind != "" {
		return nil, errors.New(kind)
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------------------
// Product ids for W2

func loadIDs(ctx context.Context, client *http.Client, o options) ([]string, error) {
	if o.idsFile == "" {
		return collectIDs(ctx, client, o.url, o.ids)
	}
	f, err := os.Open(o.idsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			s = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, o.idFormat, mustInt(s)))
		}
		ids = append(ids, s)
	}
	return ids, sc.Err()
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// collectIDs walks products(first: 100) pages until it has n ids or the catalog ends.
func collectIDs(ctx context.Context, client *http.Client, url string, n int) ([]string, error) {
	var ids []string
	var after any
	for len(ids) < n {
		out, err := post(ctx, client, url, benchkit.Body(queryIDs, "IDs", map[string]any{"after": after}))
		if err != nil {
			return nil, fmt.Errorf("collect product ids: %w", err)
		}
		var page struct {
			Data struct {
				Products struct {
					Edges []struct {
						Node struct {
							ID string `json:"id"`
						} `json:"node"`
					} `json:"edges"`
					PageInfo struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
				} `json:"products"`
			} `json:"data"`
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return nil, fmt.Errorf("collect product ids: %w", err)
		}
		for _, e := range page.Data.Products.Edges {
			ids = append(ids, e.Node.ID)
		}
		if !page.Data.Products.PageInfo.HasNextPage || len(page.Data.Products.Edges) == 0 {
			break
		}
		after = page.Data.Products.PageInfo.EndCursor
	}
	if len(ids) > n {
		ids = ids[:n]
	}
	fmt.Fprintf(os.Stderr, "loadgen: collected %d product ids through the API\n", len(ids))
	return ids, nil
}

// ---------------------------------------------------------------------------
// Report: the markdown table of a bench/run.sh results directory.

// Targets of issue 3 ("Benchmark"): minimum rps/tps ratio per scenario and configuration
// (0: none), and the p99 bound.
func targets(scenario, label string) (ratio, p99 float64) {
	switch scenario {
	case "W1":
		// "with the cache" (Redis, or in-process on one instance) and "without it" (CACHE=off).
		if label == "no-cache" {
			return 0.15, 25
		}
		return 0.3, 25
	case "W2":
		return 0.2, 25
	case "W3":
		return 0, 50
	case "W4":
		return 0, 100
	}
	return 0, 0
}

// cachedConfig reports whether label is a configuration with a cache, which the HTTP floor
// judges; without one the server does the work the floor skips.
func cachedConfig(label string) bool { return label == "redis" || label == "in-process" }

// httpFloorTarget is issue 22's minimum ratio of req/s to the HTTP floor's (0: none): cached W1
// with Redis, the shared cache of every multi-instance deployment.
func httpFloorTarget(scenario, label string) float64 {
	if scenario == "W1" && label == "redis" {
		return 0.5
	}
	return 0
}

// printReport reads DIR/loadgen-*.json and DIR/pgbench-*.tps (one tps per line, written by
// run.sh) and prints the summary table.
func printReport(w io.Writer, dir string) error {
	files, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var results []Result
	for _, f := range files {
		if !strings.HasPrefix(f.Name(), "loadgen-") || !strings.HasSuffix(f.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(dir + "/" + f.Name())
		if err != nil {
			return err
		}
		var r Result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		results = append(results, r)
	}
	if len(results) == 0 {
		return fmt.Errorf("no loadgen-*.json in %s", dir)
	}
	configOrder := map[string]int{"redis": 0, "in-process": 1}
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		if a.Scenario != b.Scenario {
			return a.Scenario < b.Scenario
		}
		oa, oka := configOrder[a.Label]
		ob, okb := configOrder[b.Label]
		if !oka {
			oa = 99
		}
		if !okb {
			ob = 99
		}
		if oa != ob {
			return oa < ob
		}
		return a.Label < b.Label
	})

	pgTPS := map[string]float64{}
	pgRuns := map[string][]float64{}
	for _, s := range []string{"W1", "W2", "W3", "W4"} {
		b, err := os.ReadFile(fmt.Sprintf("%s/pgbench-%s.tps", dir, s))
		if err != nil {
			continue
		}
		var v []float64
		for _, l := range strings.Fields(string(b)) {
			if x, err := strconv.ParseFloat(l, 64); err == nil {
				v = append(v, x)
			}
		}
		if len(v) > 0 {
			pgTPS[s] = benchkit.Median(v)
			pgRuns[s] = v
		}
	}

	// The HTTP floor (bench/httpfloor, loadgen's JSON under another name so that it is not a
	// row of its own) judges the cached configurations.
	httpFloor := map[string]Result{}
	for _, s := range []string{"W1", "W2", "W3", "W4"} {
		if f, err := benchkit.ReadJSON[Result](fmt.Sprintf("%s/httpfloor-%s.json", dir, s)); err == nil {
			httpFloor[s] = f
		}
	}
	rps := map[string]float64{} // scenario + " " + label → median req/s

	fmt.Fprintln(w, "| scenario | config | median req/s | p50 ms | p90 ms | p99 ms | errors (all runs) | pgbench median tps | ratio req/s ÷ tps | target ratio | HTTP floor req/s | req/s ÷ HTTP floor | target | target p99 | verdict |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		rps[r.Scenario+" "+r.Label] = r.Median.RPS
		tps, hasTPS := pgTPS[r.Scenario]
		ratioT, p99T := targets(r.Scenario, r.Label)
		ratio, ratioS, tpsS := 0.0, "–", "–"
		if hasTPS && tps > 0 {
			ratio = r.Median.RPS / tps
			ratioS = fmt.Sprintf("%.3fx", ratio)
			tpsS = fmt.Sprintf("%.0f", tps)
		}
		targetS := "–"
		if ratioT > 0 {
			targetS = fmt.Sprintf("≥ %.2fx", ratioT)
		}
		var miss []string
		if ratioT > 0 && hasTPS && ratio < ratioT {
			miss = append(miss, "ratio")
		}
		floorS, floorRatioS, floorTargetS := "–", "–", "–"
		floorT := httpFloorTarget(r.Scenario, r.Label)
		if floorT > 0 {
			floorTargetS = fmt.Sprintf("≥ %.2fx", floorT)
		}
		f, hasFloor := httpFloor[r.Scenario]
		hasFloor = hasFloor && f.Median.RPS > 0
		if hasFloor && cachedConfig(r.Label) {
			floorRatio := r.Median.RPS / f.Median.RPS
			floorS = fmt.Sprintf("%.0f", f.Median.RPS)
			floorRatioS = fmt.Sprintf("%.3fx", floorRatio)
			if floorT > 0 && floorRatio < floorT {
				miss = append(miss, "HTTP floor ratio")
			}
		}
		if r.Median.P99Ms >= p99T {
			miss = append(miss, "p99")
		}
		if r.TotalErrors > 0 {
			miss = append(miss, "errors")
		}
		verdict := "met"
		if len(miss) > 0 {
			verdict = "**missed** (" + strings.Join(miss, ", ") + ")"
		}
		if ratioT > 0 && !hasTPS {
			verdict += " (no pgbench figure)"
		}
		if floorT > 0 && !hasFloor {
			verdict += " (no HTTP floor figure)"
		}
		errS := strconv.FormatInt(r.TotalErrors, 10)
		if r.TotalEmpty > 0 {
			errS += fmt.Sprintf(" (+%d empty)", r.TotalEmpty)
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s | < %.0f ms | %s |\n",
			r.Scenario, r.Label, r.Median.RPS, r.Median.P50Ms, r.Median.P90Ms, r.Median.P99Ms, errS, tpsS, ratioS, targetS,
			floorS, floorRatioS, floorTargetS, p99T, verdict)
	}
	fmt.Fprintln(w)
	for _, s := range []string{"W1", "W2", "W3", "W4"} {
		if f, ok := httpFloor[s]; ok {
			fmt.Fprintf(w, "HTTP floor %s (bench/httpfloor, the same answer from memory): median %.0f req/s, p99 %.2f ms, errors %d.\n",
				s, f.Median.RPS, f.Median.P99Ms, f.TotalErrors)
		}
		redis, okR := rps[s+" redis"]
		none, okN := rps[s+" no-cache"]
		if s == "W1" && okR && okN && none > 0 {
			verdict := "met"
			if redis < none {
				verdict = "**missed**"
			}
			fmt.Fprintf(w, "%s Redis cache ÷ no cache: %.2fx (target ≥ 1: Redis never slower than no cache): %s.\n", s, redis/none, verdict)
		}
	}
	fmt.Fprintf(w, "Per run (req/s): ")
	var parts []string
	for _, r := range results {
		var v []string
		for _, rr := range r.Runs {
			v = append(v, fmt.Sprintf("%.0f", rr.RPS))
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", r.Scenario, r.Label, strings.Join(v, "/")))
	}
	fmt.Fprintln(w, strings.Join(parts, "; ")+".")
	if len(pgRuns) > 0 {
		parts = parts[:0]
		for _, s := range []string{"W1", "W2", "W3", "W4"} {
			if v, ok := pgRuns[s]; ok {
				var t []string
				for _, x := range v {
					t = append(t, fmt.Sprintf("%.0f", x))
				}
				parts = append(parts, fmt.Sprintf("%s %s", s, strings.Join(t, "/")))
			}
		}
		fmt.Fprintf(w, "pgbench per run (tps): %s.\n", strings.Join(parts, "; "))
	}
	return nil
}
