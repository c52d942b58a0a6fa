package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The floor answers the fetched bytes unchanged, whatever is asked, and refuses to fetch an
// answer the load generator would count as an error.
func TestFloorServesTheFetchedAnswer(t *testing.T) {
	answer := `{"data":{"products":{"edges":[{"cursor":"x"}]}}}`
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(b), `"operationName":"W1"`) {
			http.Error(w, "not W1", http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, answer)
	}))
	defer origin.Close()
	path := filepath.Join(t.TempDir(), "w1.json")
	if err := fetchW1(origin.URL, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != answer {
		t.Fatalf("fetched %q, %v; want %q", b, err, answer)
	}

	floor := httptest.NewServer(handler(b))
	defer floor.Close()
	resp, err := http.Post(floor.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{x}"}`))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(got) != answer {
		t.Fatalf("floor answered %d %q; want 200 %q", resp.StatusCode, got, answer)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"errors":[{"message":"boom"}]}`)
	}))
	defer bad.Close()
	if err := fetchW1(bad.URL, filepath.Join(t.TempDir(), "bad.json")); err == nil {
		t.Fatal("fetched an answer with errors")
	}
}
