package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestNoTestFailsFromAGoroutine holds the rule that only a test's own goroutine may end it:
// require, t.Fatal, t.FailNow and t.Skip stop the goroutine that calls them (runtime.Goexit),
// so one called from another goroutine never sends the result the test waits for, and the
// test hangs until the suite's timeout instead of failing. Goroutines send their errors back.
//
// It reads every _test.go file of the module and reports, inside a goroutine's function (a
// go statement, a .Go(func) call, or the function argument of a helper that runs it on a
// goroutine, like together and parallel), any call that can end the test: require.*, the
// FailNow family, or a function or method of the same directory's tests that (transitively)
// makes one. Methods are matched by name, which is strict rather than exact: rename a
// helper or add a try- variant that returns its error.
func TestNoTestFailsFromAGoroutine(t *testing.T) {
	t.Parallel()
	byDir := map[string][]*ast.File{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata" || d.Name() == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	var problems []string
	for _, files := range byDir {
		problems = append(problems, goroutineFailures(fset, files)...)
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Errorf("%s", p)
	}
}

// failNowNames are the testing.TB methods that end the calling goroutine.
var failNowNames = map[string]bool{
	"Fatal": true, "Fatalf": true, "FailNow": true, "Skip": true, "Skipf": true, "SkipNow": true,
}

// goroutineFailures reports the calls that can end a test from a goroutine in one directory's
// test files.
func goroutineFailures(fset *token.FileSet, files []*ast.File) []string {
	// Which of the directory's functions and methods can end the test, by name.
	bodies := map[string][]*ast.BlockStmt{}
	// Which helpers run a function argument on a goroutine: name → argument positions.
	spawners := map[string][]int{}
	for _, f := range files {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			bodies[fd.Name.Name] = append(bodies[fd.Name.Name], fd.Body)
			if pos := goroutineParams(fd); len(pos) > 0 {
				spawners[fd.Name.Name] = pos
			}
		}
	}
	fails := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for name, bs := range bodies {
			if fails[name] {
				continue
			}
			for _, b := range bs {
				if len(failingCalls(b, fails)) > 0 {
					fails[name], changed = true, true
					break
				}
			}
		}
	}

	var out []string
	report := func(body ast.Node, where token.Pos) {
		for _, call := range failingCalls(body, fails) {
			out = append(out, fset.Position(call.Pos()).String()+": "+callName(call)+
				" can end the test from the goroutine started at "+fset.Position(where).String())
		}
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				report(n.Call, n.Pos())
				// A named function started with go: its body is checked through its name.
				if name := calleeName(n.Call); fails[name] {
					out = append(out, fset.Position(n.Pos()).String()+": go "+name+"(…), which can end the test")
				}
			case *ast.CallExpr:
				name := calleeName(n)
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Go" {
					for _, a := range n.Args {
						if fl, ok := a.(*ast.FuncLit); ok {
							report(fl.Body, n.Pos())
						}
					}
				}
				for _, i := range spawners[name] {
					if i < len(n.Args) {
						if fl, ok := n.Args[i].(*ast.FuncLit); ok {
							report(fl.Body, n.Pos())
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// goroutineParams are the positions of fd's function parameters that it calls inside a go
// statement.
func goroutineParams(fd *ast.FuncDecl) []int {
	params := map[string]int{}
	i := 0
	for _, field := range fd.Type.Params.List {
		_, isFunc := field.Type.(*ast.FuncType)
		for _, name := range field.Names {
			if isFunc {
				params[name.Name] = i
			}
			i++
		}
		if len(field.Names) == 0 {
			i++
		}
	}
	var pos []int
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		g, ok := n.(*ast.GoStmt)
		if !ok {
			return true
		}
		ast.Inspect(g.Call, func(m ast.Node) bool {
			if c, ok := m.(*ast.CallExpr); ok {
				if id, ok := c.Fun.(*ast.Ident); ok {
					if p, ok := params[id.Name]; ok {
						pos = append(pos, p)
					}
				}
			}
			return true
		})
		return true
	})
	return pos
}

// failingCalls are the calls in n that can end the test: require.*, the FailNow family, or a
// call of a name in fails.
func failingCalls(n ast.Node, fails map[string]bool) []*ast.CallExpr {
	var out []*ast.CallExpr
	ast.Inspect(n, func(m ast.Node) bool {
		c, ok := m.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch fun := c.Fun.(type) {
		case *ast.SelectorExpr:
			if pkg, ok := fun.X.(*ast.Ident); ok && pkg.Name == "require" {
				out = append(out, c)
			} else if failNowNames[fun.Sel.Name] || fails[fun.Sel.Name] {
				out = append(out, c)
			}
		case *ast.Ident:
			if fails[fun.Name] {
				out = append(out, c)
			}
		}
		return true
	})
	return out
}

func calleeName(c *ast.CallExpr) string {
	switch fun := c.Fun.(type) {
	case *ast.SelectorExpr:
		return fun.Sel.Name
	case *ast.Ident:
		return fun.Name
	}
	return ""
}

func callName(c *ast.CallExpr) string {
	if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
		if x, ok := sel.X.(*ast.Ident); ok {
			return x.Name + "." + sel.Sel.Name
		}
		return "…." + sel.Sel.Name
	}
	return calleeName(c)
}
