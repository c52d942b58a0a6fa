// Package benchkit holds what shopgraph's load generators (bench/loadgen, bench/checkoutgen,
// bench/subsgen) had each copied: latency statistics, the HTTP client, GraphQL request bodies,
// global IDs and the reading and writing of JSON results. One copy keeps their figures
// comparable: a percentile or a median computed differently in one generator would make its
// tables disagree with the others'.
//
// It uses the standard library only, like the generators, and nothing of the server: the
// benchmark-only files that bench/*.sh compile into the server (zz_bench_*.go) must not import
// it.
package benchkit

import (
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ---------------------------------------------------------------------------
// Latency statistics

// Percentile is the nearest-rank percentile of sorted durations: always one of the measured
// values, never an interpolation, so that p99 of a small run is a latency somebody waited.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Ms converts to the unit every table and JSON file of the benchmark reports latencies in.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Median is how the benchmark condenses its runs (one slow run must not move the figure); v is
// not modified.
func Median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MedianOf is the median across runs of one figure f, taken independently of the others: the
// median p99 and the median throughput may come from different runs.
func MedianOf[T any](runs []T, f func(T) float64) float64 {
	v := make([]float64, len(runs))
	for i, r := range runs {
		v[i] = f(r)
	}
	return Median(v)
}

// Latency is exact nearest-rank percentiles over every sample of a run, in milliseconds; the
// JSON names are those of the results files already in bench/results.
type Latency struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Min  float64 `json:"min_ms"`
}

// Summarise keeps every sample rather than a histogram, so the percentiles are exact; d is not
// modified (callers keep their samples in arrival order).
func Summarise(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return Latency{N: len(s), Mean: Ms(sum / time.Duration(len(s))), P50: Ms(Percentile(s, 50)),
		P90: Ms(Percentile(s, 90)), P99: Ms(Percentile(s, 99)), Max: Ms(s[len(s)-1]), Min: Ms(s[0])}
}

// ---------------------------------------------------------------------------
// HTTP and GraphQL

// NewClient is a keep-alive client with enough idle connections per host that each of
// concurrency workers keeps its own connection open between requests: a new TCP connection per
// request would measure the handshake, not the server. Proxies and compression are off so that
// nothing but the server sits on the measured path.
func NewClient(concurrency int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Body is the JSON request body of one GraphQL operation. It panics when vars cannot be
// encoded: the generators only pass strings, numbers and maps of them, so that is a bug.
func Body(query, op string, vars map[string]any) []byte {
	m := map[string]any{"query": query, "operationName": op}
	if vars != nil {
		m["variables"] = vars
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// QueryW1 is scenario W1 of bench/loadgen, the first page of the catalog: here rather than in
// loadgen because bench/httpfloor fetches its answer once, to serve the same bytes as the
// HTTP floor.
const QueryW1 = `query W1 { products(first: 20) { edges { cursor node { id name slug priceRange { min { amount currency } } category { id name } variants { id sku price { amount currency } stockStatus } } } pageInfo { hasNextPage endCursor } } }`

// MutRegister creates a customer and returns its access token: checkoutgen and subsgen both
// need customers, and one text keeps the two benchmarks registering them the same way.
const MutRegister = `mutation Register($input: AccountRegisterInput!) { accountRegister(input: $input) { user { id } tokens { accessToken } userErrors { code message } } }`

// ShippingAddress is the one address every checkout of every generator ships to: the
// benchmarks measure checkout, and a constant address keeps its cost the same from run to run.
// Callers must not modify it.
var ShippingAddress = map[string]any{
	"name": "Bench Customer", "line1": "1 Load Street", "city": "Testville",
	"postalCode": "12345", "country": "US",
}

// GID is the global ID the API uses for the database id of a typ (internal/gid), e.g.
// GID("ProductVariant", 7): the scripts read ids from the database, the API wants global IDs.
func GID(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

// Nonce is a short random hex string that keeps the emails and idempotency keys of one run from
// colliding with those of earlier runs on the same database.
func Nonce() string {
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// ---------------------------------------------------------------------------
// Error descriptions

// Truncate bounds an error description, so that a server answering with a whole page does not
// flood the output; "…" marks the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ShortErr strips the method and URL that *url.Error puts before the cause, so that identical
// failures group together under one error kind.
func ShortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "\": "); i >= 0 {
		s = s[i+3:]
	}
	return Truncate(s, 120)
}

// WriteKinds lists error kinds sorted by kind, so that two runs with the same failures print
// the same lines; format receives the count and the kind, and sets each generator's layout.
func WriteKinds(w io.Writer, format string, kinds map[string]int) {
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, format, kinds[k], k)
	}
}

// ---------------------------------------------------------------------------
// JSON results

// EncodeJSON is the layout of every results file: indented, so that a run can be read and
// diffed by hand, and ending in a newline.
func EncodeJSON(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

// WriteJSON writes v to path as EncodeJSON does; an empty path writes nothing, because -json
// is optional in every generator.
func WriteJSON(path string, v any) error {
	if path == "" {
		return nil
	}
	return os.WriteFile(path, EncodeJSON(v), 0o644)
}

// ReadJSON reads one results file; a decoding error names the file, since a report reads many.
func ReadJSON[T any](path string) (T, error) {
	var v T
	b, err := os.ReadFile(path)
	if err != nil {
		return v, err
	}
	err = json.Unmarshal(b, &v)
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return v, err
}

// LoadJSON reads every results file matching pattern (filepath.Glob) in name order, so that a
// report lists runs in the order the scripts wrote them; no match is no results, not an error.
func LoadJSON[T any](pattern string) ([]T, error) {
	files, _ := filepath.Glob(pattern)
	sort.Strings(files)
	var out []T
	for _, f := range files {
		v, err := ReadJSON[T](f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
