package metrics

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// AdminServer returns an HTTP server for operators on addr: the runtime profiles under
// /debug/pprof/ and, when reg is not nil, the metrics at /metrics. Profiles reveal memory
// contents and cost CPU, so addr must be a loopback address (127.0.0.1:6060, [::1]:6060,
// localhost:6060); anything else, including a bare ":6060", is refused with an error.
//
// The caller starts it (ListenAndServe in a goroutine) and shuts it down. It has no
// WriteTimeout, since a CPU profile or trace streams for as long as its ?seconds= asks.
//
// The handlers are mounted on a mux of its own: nothing is registered on
// http.DefaultServeMux.
func AdminServer(addr string, reg *Registry) (*http.Server, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves the named profiles (heap, goroutine, ...)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	if reg != nil {
		mux.Handle("GET /metrics", reg.Handler())
	}
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       time.Minute,
	}, nil
}

// checkLoopback refuses an address that would listen beyond this machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("admin address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("admin address %q: must be a loopback address such as 127.0.0.1:6060 (pprof is never exposed beyond localhost)", addr)
	}
	return nil
}
