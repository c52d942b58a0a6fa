package main

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
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
