// This file is not part of the server: bench/subs.sh compiles it into the benchmark's build
// of package main through `go build -overlay` (the tree is not touched; the directory starts
// with "_", so the go tool ignores it otherwise). With BENCH_DEBUG_ADDR set it serves, on that
// loopback address only:
//
//	/debug/pprof/...          net/http/pprof
//	/debug/bench/runtime      the Go runtime's own figures as JSON (runtime/metrics);
//	                          ?gc=1 runs a full GC first, so heap_live is what is retained
//
// The load generator (bench/subsgen) reads it for the goroutine count and the Go heap; the
// resident set size it reads from /proc/<pid>/status.

package main

import (
	"encoding/json"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/metrics"
)

func init() {
	addr := os.Getenv("BENCH_DEBUG_ADDR")
	if addr == "" {
		return
	}
	names := map[string]string{
		"goroutines":   "/sched/goroutines:goroutines",
		"heap_live":    "/gc/heap/live:bytes",
		"heap_objects": "/memory/classes/heap/objects:bytes",
		"stacks":       "/memory/classes/heap/stacks:bytes",
		"total":        "/memory/classes/total:bytes",
		"released":     "/memory/classes/heap/released:bytes",
		"gc_cycles":    "/gc/cycles/total:gc-cycles",
	}
	http.HandleFunc("/debug/bench/runtime", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC()
		}
		samples := make([]metrics.Sample, 0, len(names))
		keys := make([]string, 0, len(names))
		for k, n := range names {
			samples = append(samples, metrics.Sample{Name: n})
			keys = append(keys, k)
		}
		metrics.Read(samples)
		out := map[string]uint64{}
		for i, s := range samples {
			if s.Value.Kind() == metrics.KindUint64 {
				out[keys[i]] = s.Value.Uint64()
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		panic("BENCH_DEBUG_ADDR: " + err.Error())
	}
	go func() { _ = http.Serve(ln, nil) }()
}
