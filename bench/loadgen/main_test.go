package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

// The pgbench floor of W3 must search the same words as the load generator.
func TestW3WordsMatchPgbenchScript(t *testing.T) {
	b, err := os.ReadFile("../pgbench/w3.sql")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`ARRAY\[([^\]]*)\]`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no ARRAY[...] in w3.sql")
	}
	var words []string
	for _, w := range strings.Split(string(m[1]), ",") {
		words = append(words, strings.Trim(strings.TrimSpace(w), "'"))
	}
	if strings.Join(words, "|") != strings.Join(searchWords, "|") {
		t.Fatalf("w3.sql words differ from searchWords:\n%q\n%q", words, searchWords)
	}
	n := regexp.MustCompile(`random\(1, (\d+)\)`).FindSubmatch(b)
	if n == nil || string(n[1]) != strconv.Itoa(len(searchWords)) {
		t.Fatalf("w3.sql must pick random(1, %d)", len(searchWords))
	}
}

// The pgbench floor of W4 must draw minimum prices from the load generator's range.
func TestW4PricesMatchPgbenchScript(t *testing.T) {
	b, err := os.ReadFile("../pgbench/w4.sql")
	if err != nil {
		t.Fatal(err)
	}
	want := `\set mp random(0, ` + strconv.Itoa(w4MaxMinPrice-1) + `)`
	if !strings.Contains(string(b), want) {
		t.Fatalf("w4.sql must %s", want)
	}
}

// The summary judges cached configurations against the HTTP floor, and Redis against no cache.
func TestReportJudgesCachedReadsByTheHTTPFloor(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, label string, rps float64) {
		r := Result{Scenario: "W1", Label: label, Runs: []RunResult{{Run: 1, RPS: rps}}, Median: Median{RPS: rps, P99Ms: 5}}
		if err := benchkit.WriteJSON(dir+"/"+name, r); err != nil {
			t.Fatal(err)
		}
	}
	write("loadgen-W1-redis.json", "redis", 4000)
	write("loadgen-W1-in-process.json", "in-process", 12000)
	write("loadgen-W1-no-cache.json", "no-cache", 5000)
	write("httpfloor-W1.json", "http-floor", 20000)
	var out strings.Builder
	if err := printReport(&out, dir); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, want := range []string{
		"| W1 | redis | 4000 |", "| 20000 | 0.200x | ≥ 0.50x |", "**missed** (HTTP floor ratio)",
		"| 20000 | 0.600x | – |",
		"HTTP floor W1 (bench/httpfloor, the same answer from memory): median 20000 req/s",
		"W1 Redis cache ÷ no cache: 0.80x (target ≥ 1: Redis never slower than no cache): **missed**.",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if strings.Contains(report, "http-floor") {
		t.Errorf("the floor is a row of its own:\n%s", report)
	}
}
