package benchkit

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func millis(n int) []time.Duration {
	var d []time.Duration
	for i := 1; i <= n; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	return d
}

// From bench/loadgen, bench/checkoutgen and bench/subsgen.
func TestPercentileAndMedian(t *testing.T) {
	d := millis(100)
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := Percentile(d, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := Median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := Median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}

func TestMedianOf(t *testing.T) {
	type run struct{ rps, p99 float64 }
	runs := []run{{100, 9}, {300, 7}, {200, 8}}
	if got := MedianOf(runs, func(r run) float64 { return r.rps }); got != 200 {
		t.Errorf("median rps = %v", got)
	}
	if got := MedianOf(runs, func(r run) float64 { return r.p99 }); got != 8 {
		t.Errorf("median p99 = %v", got)
	}
}

func TestSummarise(t *testing.T) {
	d := millis(100)
	// Reversed, to check that the samples are sorted and the caller's slice is left alone.
	for i, j := 0, len(d)-1; i < j; i, j = i+1, j-1 {
		d[i], d[j] = d[j], d[i]
	}
	l := Summarise(d)
	if l.N != 100 || l.Mean != 50.5 || l.P50 != 50 || l.P90 != 90 || l.P99 != 99 || l.Max != 100 || l.Min != 1 {
		t.Fatalf("Summarise = %+v", l)
	}
	if d[0] != 100*time.Millisecond {
		t.Fatal("Summarise sorted the caller's slice")
	}
	if (Summarise(nil) != Latency{}) {
		t.Fatal("no samples must give the zero Latency")
	}
}

// From bench/checkoutgen (variantGID) and bench/subsgen (gidOf).
func TestGID(t *testing.T) {
	if got := GID("ProductVariant", 42); got != "UHJvZHVjdFZhcmlhbnQ6NDI" {
		t.Errorf("GID(ProductVariant, 42) = %s", got)
	}
	if g := GID("Order", 1); g != "T3JkZXI6MQ" {
		t.Fatalf("GID(Order, 1) = %s", g)
	}
}

func TestBody(t *testing.T) {
	if got := string(Body("query W1 { x }", "W1", nil)); got != `{"operationName":"W1","query":"query W1 { x }"}` {
		t.Errorf("Body without variables = %s", got)
	}
	if got := string(Body("q", "W2", map[string]any{"id": "a"})); got != `{"operationName":"W2","query":"q","variables":{"id":"a"}}` {
		t.Errorf("Body with variables = %s", got)
	}
}

func TestShortErrAndTruncate(t *testing.T) {
	err := &url.Error{Op: "Post", URL: "http://127.0.0.1:1/graphql", Err: os.ErrDeadlineExceeded}
	if got := ShortErr(err); got != os.ErrDeadlineExceeded.Error() {
		t.Errorf("ShortErr = %q", got)
	}
	if got := Truncate("abcdef", 3); got != "abc…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("abc", 3); got != "abc" {
		t.Errorf("Truncate = %q", got)
	}
}

func TestWriteKinds(t *testing.T) {
	var b bytes.Buffer
	WriteKinds(&b, "- %d × `%s`\n", map[string]int{"b": 2, "a": 1})
	if got := b.String(); got != "- 1 × `a`\n- 2 × `b`\n" {
		t.Errorf("WriteKinds = %q", got)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	type result struct {
		Run int     `json:"run"`
		P99 Latency `json:"p99"`
	}
	dir := t.TempDir()
	if err := WriteJSON("", result{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{2, 1} {
		if err := WriteJSON(filepath.Join(dir, "s-run"+string(rune('0'+r))+".json"), result{Run: r}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "s-run1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "{\n  \"run\": 1,") || !strings.HasSuffix(string(b), "}\n") {
		t.Errorf("layout:\n%s", b)
	}
	got, err := LoadJSON[result](filepath.Join(dir, "s-*.json"))
	if err != nil || len(got) != 2 || got[0].Run != 1 || got[1].Run != 2 {
		t.Fatalf("LoadJSON = %+v, %v", got, err)
	}
	if none, err := LoadJSON[result](filepath.Join(dir, "x-*.json")); none != nil || err != nil {
		t.Fatalf("no match: %+v, %v", none, err)
	}
	os.WriteFile(filepath.Join(dir, "s-bad.json"), []byte("{"), 0o644)
	if _, err := ReadJSON[result](filepath.Join(dir, "s-bad.json")); err == nil || !strings.Contains(err.Error(), "s-bad.json") {
		t.Fatalf("a decoding error must name the file: %v", err)
	}
}
