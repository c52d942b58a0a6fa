package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
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

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median = %v", got)
	}
}
