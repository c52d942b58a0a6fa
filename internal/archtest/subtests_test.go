package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// databaseHarnesses are the packages whose tests hold PostgreSQL connections: a test server
// with its pools, or a pool on a database of its own.
var databaseHarnesses = []string{module + "internal/apitest", module + "internal/testutil/pgtest"}

// TestDatabaseTestsRunSubtestsInTurn keeps `make test` under its cap of PostgreSQL connections
// (TEST_PG_CAP). A parallel test whose subtests are parallel too gives up its -parallel slot
// while they wait their turn, yet keeps its server and pools: another parallel test then
// starts and does the same, and the graph package held some twenty idle servers at once,
// 48 connections with -parallel 2. So in the packages that use a database, the subtests of a
// parallel test run one after another: -parallel then bounds how many servers are alive.
func TestDatabaseTestsRunSubtestsInTurn(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files := map[string][]*ast.File{}
	usesDatabase := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		files[dir] = append(files[dir], f)
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, h := range databaseHarnesses {
				if p == h {
					usesDatabase[dir] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for dir, fs := range files {
		if !usesDatabase[dir] {
			continue
		}
		for _, f := range fs {
			checked++
			for _, pos := range parallelSubtestsOfParallelTests(f) {
				t.Errorf("%s: a subtest of a parallel test calls Parallel; in a package with a database, run them in turn (see this test's comment)", fset.Position(pos))
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no test file that uses a database: is root right?")
	}
}

// parallelSubtestsOfParallelTests returns where the function literals inside each top-level
// Test function that calls Parallel itself call Parallel too.
func parallelSubtestsOfParallelTests(f *ast.File) []token.Pos {
	var found []token.Pos
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Recv != nil || fn.Body == nil || !strings.HasPrefix(fn.Name.Name, "Test") {
			continue
		}
		parallel := false
		for _, s := range fn.Body.List {
			parallel = parallel || isParallelCall(s)
		}
		if !parallel {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			lit, ok := n.(*ast.FuncLit)
			if !ok {
				return true
			}
			ast.Inspect(lit.Body, func(m ast.Node) bool {
				if s, ok := m.(ast.Stmt); ok && isParallelCall(s) {
					found = append(found, s.Pos())
				}
				return true
			})
			return false
		})
	}
	return found
}

// isParallelCall reports whether s is a statement `x.Parallel()`.
func isParallelCall(s ast.Stmt) bool {
	e, ok := s.(*ast.ExprStmt)
	if !ok {
		return false
	}
	call, ok := e.X.(*ast.CallExpr)
	if !ok || len(call.Args) != 0 {
		return false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "Parallel"
}
