package archtest

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNoTestFailsFromAGoroutine holds the rule that only a test's own goroutine may end it:
// require, t.Fatal, t.FailNow and t.Skip stop the goroutine that calls them (runtime.Goexit),
// so one called from another goroutine never sends the result the test waits for, and the
// test hangs until the suite's timeout instead of failing. Goroutines send their errors back.
//
// It loads every package of the module with its tests, syntax and types (go/packages), and
// reports, inside a goroutine's function (a go statement, a .Go(func) call, or the function
// argument of a helper that runs it on a goroutine, like together and parallel), any call
// that can end the test: require.*, the FailNow family of testing.TB, or a function or method
// of the module that (transitively, across packages: internal/apitest's Client.Do, a factory
// of Env) makes one. Functions are told apart by their types, not their names: apitest's
// Client.Do requires, net/http's does not. See goroutinecheck_test.go for what it follows.
func TestNoTestFailsFromAGoroutine(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pkgs, err := loadForGoroutineCheck(dir, "./...")
	if err != nil {
		t.Fatal(err)
	}
	loaded := time.Now()
	for _, p := range goroutineFailures(dir, pkgs) {
		t.Errorf("%s", p)
	}
	t.Logf("loaded %d packages in %v, checked them in %v", len(pkgs), loaded.Sub(start).Round(time.Millisecond), time.Since(loaded).Round(time.Millisecond))
}

// TestGoroutineCheck runs the check on testdata/goroutine, whose test calls the harness of
// another package from goroutines: it reports exactly the lines marked "// want".
func TestGoroutineCheck(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := loadForGoroutineCheck(dir, "./internal/archtest/testdata/goroutine/...")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			for _, cg := range f.Comments {
				if strings.TrimSpace(cg.Text()) == "want" {
					pos := p.Fset.Position(cg.Pos())
					rel, err := filepath.Rel(dir, pos.Filename)
					if err != nil {
						t.Fatal(err)
					}
					want[fmt.Sprintf("%s:%d", rel, pos.Line)] = true
				}
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no // want in testdata/goroutine")
	}
	got := map[string]bool{}
	for _, p := range goroutineFailures(dir, pkgs) {
		t.Log(p)
		// file:line:column: …
		parts := strings.SplitN(p, ":", 3)
		line := parts[0] + ":" + parts[1]
		if got[line] {
			t.Errorf("reported twice: %s", line)
		}
		got[line] = true
		if !want[line] {
			t.Errorf("reported, not wanted: %s", p)
		}
	}
	for line := range want {
		if !got[line] {
			t.Errorf("wanted, not reported: %s", line)
		}
	}
}
