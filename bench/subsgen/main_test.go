package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

func TestParseStatus(t *testing.T) {
	s := parseStatus("Name:\tshopgraph\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nRssAnon:\t   90000 kB\nThreads:\t11\n")
	if s.RSS != 100<<20 || s.HWM != 200<<20 || s.Anon != 90000*1024 || s.Threads != 11 {
		t.Fatalf("parseStatus: %+v", s)
	}
}

func TestParseStatTicks(t *testing.T) {
	// The command may hold spaces and parentheses; utime and stime are fields 14 and 15.
	line := "1234 (shop graph (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 0 0"
	n, err := parseStatTicks(line)
	if err != nil || n != 300 {
		t.Fatalf("parseStatTicks = %d, %v; want 300", n, err)
	}
	if _, err := parseStatTicks("garbage"); err == nil {
		t.Fatal("want an error")
	}
}

func TestAnalyse(t *testing.T) {
	base := time.Now()
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	stamps := []stamp{{Seq: 6, Sent: at(0), Done: at(5)}, {Seq: 7, Sent: at(100), Done: at(105)}}
	ok := []delivery{{Seq: 5, At: at(-50)}, {Seq: 6, At: at(15)}, {Seq: 7, At: at(125)}}
	a := analyse([][]delivery{ok, ok}, 5, stamps)
	if a.Expected != 4 || a.Delivered != 4 || a.Missing != 0 || a.Duplicates != 0 || a.OutOfOrder != 0 || a.Unexpected != 0 {
		t.Fatalf("clean run: %+v", a)
	}
	if a.FromDone.P50 != 10 || a.FromDone.Max != 20 || a.FromSent.Max != 25 || a.LastSub.N != 2 || a.FirstSub.N != 2 || a.FirstSub.Max != 20 {
		t.Fatalf("latencies: %+v / %+v / %+v / %+v", a.FromDone, a.FromSent, a.LastSub, a.FirstSub)
	}

	bad := []delivery{{Seq: 5, At: at(-50)}, {Seq: 7, At: at(106)}, {Seq: 6, At: at(107)}, {Seq: 7, At: at(108)}, {Seq: 9, At: at(200)}}
	missing := []delivery{{Seq: 5, At: at(-50)}, {Seq: 6, At: at(4)}}
	a = analyse([][]delivery{bad, missing}, 5, stamps)
	if a.Delivered != 3 || a.Missing != 1 || a.Duplicates != 1 || a.OutOfOrder != 1 || a.Unexpected != 1 || a.Negative != 1 {
		t.Fatalf("faulty run: %+v", a)
	}
	// Event 7 did not reach every subscriber: only event 6 has a slowest subscriber.
	if a.LastSub.N != 1 {
		t.Fatalf("last subscriber: %+v", a.LastSub)
	}
}

func TestReport(t *testing.T) {
	dir := t.TempDir()
	mem := MemResult{Scenario: "S1", Label: "500x20", Run: 1, Fields: "full", Conns: 500, PerConn: 20, Subscriptions: 10000, Live: 10000,
		Baseline: Sample{RSS: 70 << 20}, Loaded: Sample{RSS: 470 << 20}, PerSub: PerSub{RSS: 40 << 10}, HoldDBTxPerS: 340}
	fan := FanoutResult{Scenario: "S2", Label: "full", Run: 1, Subscribers: 1000, Conns: 1000, PerConn: 1, Events: 30, IntervalMs: 500,
		StoredEvents: 30, Analysis: Analysis{Expected: 30000, Delivered: 30000, FromDone: benchkit.Latency{P50: 50, P99: 150, Max: 200}}}
	if err := benchkit.WriteJSON(filepath.Join(dir, "s1-500x20-run1.json"), mem); err != nil {
		t.Fatal(err)
	}
	if err := benchkit.WriteJSON(filepath.Join(dir, "s2-full-run1.json"), fan); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := printReport(&b, dir); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| 500 conn × 20 | 10000 | 70 → 470 | **40.0** |", "| full | 30000 | **50.0** |", "30 of 30"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if err := printReport(&b, t.TempDir()); err == nil {
		t.Error("an empty directory must be an error")
	}
}
