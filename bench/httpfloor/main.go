// Command httpfloor is the HTTP floor of bench/run.sh: the least any Go server can do to answer
// scenario W1, a net/http server that reads the request and writes the bytes of shopgraph's own
// answer from memory. Driven by bench/loadgen in the same run as the servers, it shows what the
// machine, the kernel's loopback, net/http and the load generator cost by themselves, which is
// what a cached read is judged against: a cache hit that does nothing else cannot beat it.
//
//	httpfloor -fetch http://127.0.0.1:8080/graphql -out w1.json   fetch W1's answer once
//	httpfloor -addr 127.0.0.1:9000 -body w1.json                  serve it on every path
//
// Standard library only, like the load generator. /readyz answers 200 for bench/lib.sh's
// wait_ready; every other path and method answers the body with status 200.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/shopgraph/shopgraph/bench/internal/benchkit"
)

func main() {
	fetch := flag.String("fetch", "", "GraphQL endpoint to fetch W1's answer from (then exit)")
	out := flag.String("out", "", "with -fetch: file to write the answer to")
	addr := flag.String("addr", "127.0.0.1:0", "address to serve on")
	body := flag.String("body", "", "file holding the answer to serve")
	flag.Parse()

	var err error
	if *fetch != "" {
		err = fetchW1(*fetch, *out)
	} else {
		err = serve(*addr, *body)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpfloor:", err)
		os.Exit(1)
	}
}

// fetchW1 asks url for W1 exactly as the load generator does and writes the answer to path,
// refusing one the load generator would count as an error or as empty.
func fetchW1(url, path string) error {
	if path == "" {
		return errors.New("-fetch needs -out")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(benchkit.Body(benchkit.QueryW1, "W1", nil)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || bytes.Contains(b, []byte(`"errors"`)) || bytes.Contains(b, []byte(`"edges":[]`)) {
		return fmt.Errorf("W1 answer unusable (HTTP %d): %s", resp.StatusCode, benchkit.Truncate(string(b), 200))
	}
	return os.WriteFile(path, b, 0o644)
}

func serve(addr, path string) error {
	if path == "" {
		return errors.New("-body is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "httpfloor: serving %d bytes on %s\n", len(b), addr)
	return http.ListenAndServe(addr, handler(b))
}

// handler answers body to every request but /readyz.
func handler(body []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Read the request as a server must before answering it; the answer is the same
		// whatever it says.
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	return mux
}
