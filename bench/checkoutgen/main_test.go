package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

func writeC2(t *testing.T, dir string, run RunResult, db string) {
	t.Helper()
	b, err := json.Marshal(Result{Scenario: "C2", Concurrency: 16, Users: 64, HotVariant: 1, Runs: []RunResult{run}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c2.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c2-db.txt"), []byte(db), 0o644); err != nil {
		t.Fatal(err)
	}
}

const goodDB = `hot_stock 0
hot_units 500
hot_orders 500
hot_orders_other_lines 0
hot_orders_not_pending 0
negative_stock_rows 0
stock_check_constraint 1
`

func TestVerifyC2(t *testing.T) {
	good := RunResult{Run: 1, OK: 500, OutOfStock: 32, OrdersCreated: 500, UnitsOrdered: 500}
	for name, tc := range map[string]struct {
		run  RunResult
		db   string
		pass bool
	}{
		"sold out exactly":       {good, goodDB, true},
		"oversold":               {RunResult{OK: 501, OutOfStock: 31, OrdersCreated: 501}, strings.Replace(goodDB, "hot_units 500", "hot_units 501", 1), false},
		"stock left":             {good, strings.Replace(goodDB, "hot_stock 0", "hot_stock 3", 1), false},
		"an error":               {RunResult{OK: 500, OutOfStock: 31, Errors: 1, OrdersCreated: 500}, goodDB, false},
		"client and db disagree": {RunResult{OK: 499, OutOfStock: 33, OrdersCreated: 499}, goodDB, false},
		"never sold out":         {RunResult{OK: 500, OrdersCreated: 500}, goodDB, false},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeC2(t, dir, tc.run, tc.db)
			cs, err := verifyC2(dir, 500)
			if err != nil {
				t.Fatal(err)
			}
			if allOK(cs) != tc.pass {
				var buf bytes.Buffer
				printChecks(&buf, "C2", cs)
				t.Fatalf("pass = %t, want %t:\n%s", allOK(cs), tc.pass, buf.String())
			}
		})
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	writeC2(t, dir, RunResult{Run: 1, OK: 500, OutOfStock: 32, OrdersCreated: 500, UnitsOrdered: 500, SoldOutSec: 5, OrdersPerSec: 100}, goodDB)
	for i, ops := range []float64{90, 110, 100} {
		b, _ := json.Marshal(Result{Scenario: "C1", Concurrency: 16, Users: 256, Variants: 5999,
			Runs: []RunResult{{Run: i + 1, OK: int64(ops * 15), OrdersCreated: int64(ops * 15), UnitsOrdered: int64(ops * 30),
				OrdersPerSec: ops, Checkout: benchkit.Latency{P50: 20, P99: 80}}}})
		if err := os.WriteFile(filepath.Join(dir, "c1-run"+string(rune('1'+i))+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "pgbench-c1.tps"), []byte("400\n380\n420\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c1-db.txt"), []byte("stock_taken 9000\nline_units 9000\norders 4500\nnegative_stock_rows 0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sql-alone.tps"), []byte("130\n120\n125\n"), 0o644)
	var buf bytes.Buffer
	if err := printReport(&buf, dir, 500); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"| C1 | 100.0 |", "| 400 | 0.250x |", "| met |", "C1 stock bookkeeping (database after C1): PASS", "C2 stock invariant (database after C2): PASS", "| C2 | 500 | 32 | 0 |",
		"median 125 orders/s (per run 130 / 120 / 125), **0.312x** TPC-B", "the API reaches 80% of it"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
