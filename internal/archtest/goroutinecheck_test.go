package archtest

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/tools/go/packages"
)

// requirePath is testify's require: every function of it but New, and every method of its
// Assertions, calls FailNow when its assertion fails.
const requirePath = "github.com/stretchr/testify/require"

// failNowNames are the testing.TB methods that end the calling goroutine (runtime.Goexit).
var failNowNames = map[string]bool{
	"Fatal": true, "Fatalf": true, "FailNow": true, "Skip": true, "Skipf": true, "SkipNow": true,
}

// testingTypes are the testing types whose FailNow family ends the calling goroutine: *T, *B
// and *F get it from the embedded *common, TB declares it.
var testingTypes = map[string]bool{"T": true, "B": true, "F": true, "TB": true, "common": true}

// goroutineCheck finds the calls that can end a test from a goroutine other than the test's
// own. It works on the packages' syntax and types, so that it follows calls across packages
// (a test calling a helper of internal/apitest that calls require) and tells apart two methods
// of the same name (apitest's Client.Do, which requires, and net/http's, which does not).
//
// A function is known by its types.Func full name, "(*example.com/p.T).M" or "example.com/p.F",
// which is the same whether its package was type-checked from source or read from export data,
// and in every variant of a package go/packages loads (p, p [p.test]). Every function literal
// is a function of its own too, known by its position, so that calling a variable assigned
// one calls it.
type goroutineCheck struct {
	fset *token.FileSet
	dir  string              // positions are reported relative to it
	pkgs []*packages.Package // the packages whose code is checked, the test variants included
	// source are the import paths of pkgs: only their types can have methods that end the test,
	// besides testing's and require's.
	source map[string]bool

	funcs map[string][]funcBody // every function of pkgs with a body, by key
	fails map[string]bool       // the functions that can end the test that calls them
	// spawns are the functions that run some of their parameters on a goroutine (together,
	// parallel), with the parameters' positions.
	spawns map[string]map[int]bool
	// assigns are the values assigned to local variables of function type (function literals,
	// functions, method values), so that a call of the variable is a call of those.
	assigns map[*types.Var][]value
	// own are the testing methods that run their function argument on the test's own goroutine
	// (a subtest's, or the test's after it ends): t.Run, t.Cleanup, f.Fuzz.
	own map[string]bool

	keys      map[*types.Func]string
	resolved  map[value]target
	closures  map[*types.Package][]*types.Package
	methodsOf map[methodsKey][]method
}

// funcBody is a function's body, with the package whose types describe it.
type funcBody struct {
	body *ast.BlockStmt
	sig  *types.Signature
	pkg  *packages.Package
}

// value is an expression of a package.
type value struct {
	expr ast.Expr
	pkg  *packages.Package
}

// target is what a call or a function value may run.
type target struct {
	keys   []string      // the functions, by key
	ifaces []ifaceMethod // the interface methods: whatever implements them
	vars   []*types.Var  // the variables of function type it calls and whose values are unknown (parameters)
	fn     *types.Func   // the static callee, if any
}

// ifaceMethod is a method of an interface called in a package: it runs the method of whichever
// type of the package's program the value has.
type ifaceMethod struct {
	iface *types.Interface
	fn    *types.Func
	pkg   *types.Package
}

type methodsKey struct {
	universe *types.Package
	name     string
}

// method is a named type of a program that has a method of some name, with its key.
type method struct {
	named *types.Named
	key   string
}

// loadForGoroutineCheck loads the packages of patterns, from dir, with their tests.
func loadForGoroutineCheck(dir string, patterns ...string) ([]*packages.Package, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports |
			packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:   dir,
		Tests: true,
	}
	// go list compiles the dependencies' export data: with the flags of this test binary's
	// build, it finds them in the build cache `go test -race ./...` fills for the other
	// packages instead of compiling them a second time.
	if raceEnabled {
		cfg.BuildFlags = []string{"-race"}
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []string
	var out []*packages.Package
	for _, p := range pkgs {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
		// The generated test mains have nothing to check.
		if p.Name == "main" && strings.HasSuffix(p.ID, ".test") {
			continue
		}
		out = append(out, p)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("loading %s: %s", strings.Join(patterns, " "), strings.Join(errs, "; "))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("loading %s: no packages", strings.Join(patterns, " "))
	}
	return out, nil
}

// goroutineFailures reports every call of pkgs that can end the test from a goroutine:
// position, call, where the goroutine started.
func goroutineFailures(dir string, pkgs []*packages.Package) []string {
	c := &goroutineCheck{
		fset:      pkgs[0].Fset,
		dir:       dir,
		pkgs:      pkgs,
		source:    map[string]bool{},
		funcs:     map[string][]funcBody{},
		fails:     map[string]bool{},
		spawns:    map[string]map[int]bool{},
		assigns:   map[*types.Var][]value{},
		own:       map[string]bool{},
		keys:      map[*types.Func]string{},
		resolved:  map[value]target{},
		closures:  map[*types.Package][]*types.Package{},
		methodsOf: map[methodsKey][]method{},
	}
	for _, p := range pkgs {
		c.source[p.PkgPath] = true
	}
	c.collect()
	c.findSpawners()
	c.findFailing()
	return c.report()
}

// collect records every function body and every assignment of a function value to a local
// variable.
func (c *goroutineCheck) collect() {
	for _, p := range c.pkgs {
		for _, f := range p.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					if fn, ok := p.TypesInfo.Defs[n.Name].(*types.Func); ok && n.Body != nil {
						k := c.key(fn)
						c.funcs[k] = append(c.funcs[k], funcBody{n.Body, fn.Signature(), p})
					}
				case *ast.FuncLit:
					if sig, ok := p.TypesInfo.TypeOf(n).(*types.Signature); ok {
						k := c.litKey(n)
						c.funcs[k] = append(c.funcs[k], funcBody{n.Body, sig, p})
					}
				case *ast.AssignStmt:
					if len(n.Lhs) == len(n.Rhs) {
						for i, lhs := range n.Lhs {
							c.assign(p, lhs, n.Rhs[i])
						}
					}
				case *ast.ValueSpec:
					if len(n.Names) == len(n.Values) {
						for i, name := range n.Names {
							c.assign(p, name, n.Values[i])
						}
					}
				}
				return true
			})
		}
	}
}

func (c *goroutineCheck) assign(p *packages.Package, lhs, rhs ast.Expr) {
	id, ok := ast.Unparen(lhs).(*ast.Ident)
	if !ok {
		return
	}
	obj := p.TypesInfo.ObjectOf(id)
	v, ok := obj.(*types.Var)
	if !ok || v.IsField() {
		return
	}
	if _, ok := v.Type().Underlying().(*types.Signature); !ok {
		return
	}
	c.assigns[v] = append(c.assigns[v], value{rhs, p})
}

// findSpawners computes which parameters each function runs on a goroutine: those it calls
// inside a goroutine, starts with go, passes to a .Go method or to another function's
// goroutine parameter.
func (c *goroutineCheck) findSpawners() {
	for changed := true; changed; {
		changed = false
		for k, bodies := range c.funcs {
			for _, b := range bodies {
				params := map[*types.Var]int{}
				for i := range b.sig.Params().Len() {
					if v := b.sig.Params().At(i); isFunc(v.Type()) {
						params[v] = i
					}
				}
				if len(params) == 0 {
					continue
				}
				mark := func(t target) {
					for _, v := range t.vars {
						if i, ok := params[v]; ok && !c.spawns[k][i] {
							if c.spawns[k] == nil {
								c.spawns[k] = map[int]bool{}
							}
							c.spawns[k][i], changed = true, true
						}
					}
				}
				c.goroutines(b.body, b.pkg, func(_ token.Pos, lit *ast.FuncLit, ref ast.Expr, _ bool) {
					if ref != nil {
						mark(c.resolve(value{ref, b.pkg}))
						return
					}
					c.calls(lit.Body, b.pkg, func(call *ast.CallExpr) { mark(c.resolve(value{call.Fun, b.pkg})) })
				})
			}
		}
	}
}

// findFailing computes the fixed point of "can end the test": a function can if a call of its
// own goroutine (its body but the function literals it runs on other goroutines, or on the
// test's own with t.Run and t.Cleanup) can.
func (c *goroutineCheck) findFailing() {
	for changed := true; changed; {
		changed = false
		for k, bodies := range c.funcs {
			if c.fails[k] {
				continue
			}
			for _, b := range bodies {
				failing := false
				c.calls(b.body, b.pkg, func(call *ast.CallExpr) {
					failing = failing || c.callFails(call, b.pkg)
				})
				if failing {
					c.fails[k], changed = true, true
					break
				}
			}
		}
	}
}

// report lists the calls that can end the test inside goroutines, in every file of pkgs.
func (c *goroutineCheck) report() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range c.pkgs {
		for _, f := range p.Syntax {
			c.goroutines(f, p, func(start token.Pos, lit *ast.FuncLit, ref ast.Expr, isGo bool) {
				switch {
				case lit != nil:
					c.calls(lit.Body, p, func(call *ast.CallExpr) {
						if c.callFails(call, p) {
							add(c.pos(call.Pos()) + ": " + callName(call) + " can end the test from the goroutine started at " + c.pos(start))
						}
					})
				case c.targetFails(c.resolve(value{ref, p})):
					if isGo {
						add(c.pos(start) + ": go " + exprName(ref) + "(…), which can end the test")
					} else {
						add(c.pos(ref.Pos()) + ": " + exprName(ref) + " can end the test from the goroutine started at " + c.pos(start))
					}
				}
			})
		}
	}
	sort.Strings(out)
	return out
}

// goroutines calls visit for every goroutine started in n: a go statement, the function
// argument of a .Go method (errgroup, sync.WaitGroup) or of a function that runs it on a
// goroutine. visit gets where it starts, and either the function literal it runs, or the
// expression of the function it runs (a function, a method value, a variable); isGo tells a
// go statement.
func (c *goroutineCheck) goroutines(n ast.Node, p *packages.Package, visit func(start token.Pos, lit *ast.FuncLit, ref ast.Expr, isGo bool)) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			if lit, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); ok {
				visit(n.Pos(), lit, nil, true)
			} else {
				visit(n.Pos(), nil, n.Call.Fun, true)
			}
		case *ast.CallExpr:
			for _, i := range c.goroutineArgs(n, p) {
				if lit, ok := ast.Unparen(n.Args[i]).(*ast.FuncLit); ok {
					visit(n.Pos(), lit, nil, false)
				} else {
					visit(n.Pos(), nil, n.Args[i], false)
				}
			}
		}
		return true
	})
}

// goroutineArgs are the positions of call's arguments that the callee runs on another
// goroutine.
func (c *goroutineCheck) goroutineArgs(call *ast.CallExpr, p *packages.Package) []int {
	var out []int
	if sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr); ok && (sel.Sel.Name == "Go" || sel.Sel.Name == "TryGo") {
		if s, ok := p.TypesInfo.Selections[sel]; ok && s.Kind() == types.MethodVal {
			for i, a := range call.Args {
				if isFunc(p.TypesInfo.TypeOf(a)) {
					out = append(out, i)
				}
			}
			return out
		}
	}
	for _, k := range c.resolve(value{call.Fun, p}).keys {
		for i := range c.spawns[k] {
			if i < len(call.Args) {
				out = append(out, i)
			}
		}
	}
	return out
}

// calls visits the calls of n that run on the goroutine that runs n: it does not enter the
// function literals that run on another goroutine, or on the test's own (t.Run, t.Cleanup).
func (c *goroutineCheck) calls(n ast.Node, p *packages.Package, visit func(*ast.CallExpr)) {
	var inspect func(ast.Node) bool
	inspect = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			// The arguments are evaluated by the goroutine that runs the go statement.
			if _, ok := ast.Unparen(n.Call.Fun).(*ast.FuncLit); !ok {
				ast.Inspect(n.Call.Fun, inspect)
			}
			for _, a := range n.Call.Args {
				ast.Inspect(a, inspect)
			}
			return false
		case *ast.CallExpr:
			visit(n)
			skip := map[int]bool{}
			for _, i := range c.goroutineArgs(n, p) {
				skip[i] = true
			}
			if fn := c.resolve(value{n.Fun, p}).fn; fn != nil && c.own[c.key(fn)] {
				for i := range n.Args {
					skip[i] = true
				}
			}
			ast.Inspect(n.Fun, inspect)
			for i, a := range n.Args {
				if _, isLit := ast.Unparen(a).(*ast.FuncLit); !isLit || !skip[i] {
					ast.Inspect(a, inspect)
				}
			}
			return false
		}
		return true
	}
	ast.Inspect(n, inspect)
}

// callFails reports whether call can end the test.
func (c *goroutineCheck) callFails(call *ast.CallExpr, p *packages.Package) bool {
	return c.targetFails(c.resolve(value{call.Fun, p}))
}

// targetFails reports whether running t can end the test.
func (c *goroutineCheck) targetFails(t target) bool {
	for _, k := range t.keys {
		if c.fails[k] {
			return true
		}
	}
	for _, m := range t.ifaces {
		for _, impl := range c.methods(m.pkg, m.fn) {
			if c.fails[impl.key] && (types.Implements(impl.named, m.iface) || types.Implements(types.NewPointer(impl.named), m.iface)) {
				return true
			}
		}
	}
	return false
}

// resolve tells what calling v may run. A call of a variable runs the values assigned to it,
// a call of an interface method the method of any type that implements the interface and
// that its package's program has; the calls of other function values (fields, results) are
// not followed.
func (c *goroutineCheck) resolve(v value) target {
	v.expr = ast.Unparen(v.expr)
	if t, ok := c.resolved[v]; ok {
		return t
	}
	c.resolved[v] = target{} // a variable assigned itself
	var t target
	info := v.pkg.TypesInfo
	e := v.expr
	switch x := e.(type) {
	case *ast.IndexExpr: // an instantiation of a generic function
		e = ast.Unparen(x.X)
	case *ast.IndexListExpr:
		e = ast.Unparen(x.X)
	}
	var obj types.Object
	var recv types.Type
	switch x := e.(type) {
	case *ast.FuncLit:
		t.keys = append(t.keys, c.litKey(x))
	case *ast.Ident:
		obj = info.Uses[x]
	case *ast.SelectorExpr:
		if sel, ok := info.Selections[x]; ok {
			obj = sel.Obj()
			if sel.Kind() != types.FieldVal {
				recv = sel.Recv()
			}
		} else {
			obj = info.Uses[x.Sel]
		}
	}
	switch o := obj.(type) {
	case *types.Func:
		t.fn = o
		t.keys = append(t.keys, c.key(o))
		if r := o.Signature().Recv(); r != nil && types.IsInterface(r.Type()) {
			it := recv
			if it == nil || !types.IsInterface(it) {
				it = r.Type() // promoted from an embedded interface: the interface that declares it
			}
			t.ifaces = append(t.ifaces, ifaceMethod{it.Underlying().(*types.Interface), o, v.pkg.Types})
		}
	case *types.Var:
		assigned := c.assigns[o]
		for _, a := range assigned {
			r := c.resolve(a)
			t.keys = append(t.keys, r.keys...)
			t.ifaces = append(t.ifaces, r.ifaces...)
			t.vars = append(t.vars, r.vars...)
		}
		if len(assigned) == 0 {
			t.vars = append(t.vars, o)
		}
	}
	c.resolved[v] = t
	return t
}

// methods are the named types of the program of universe (the packages it depends on) that
// have a method named like fn and can be checked, with the key of that method: the types of
// the checked packages, testing's and require's, since no other method can end the test.
func (c *goroutineCheck) methods(universe *types.Package, fn *types.Func) []method {
	mk := methodsKey{universe, fn.Name()}
	if ms, ok := c.methodsOf[mk]; ok {
		return ms
	}
	var ms []method
	for _, p := range c.closure(universe) {
		if !c.source[p.Path()] && p.Path() != "testing" && p.Path() != requirePath {
			continue
		}
		for _, name := range p.Scope().Names() {
			tn, ok := p.Scope().Lookup(name).(*types.TypeName)
			if !ok || tn.IsAlias() {
				continue
			}
			named, ok := tn.Type().(*types.Named)
			if !ok || named.TypeParams().Len() > 0 || types.IsInterface(named) {
				continue
			}
			if m, ok := lookupMethod(types.NewPointer(named), fn); ok {
				ms = append(ms, method{named, c.key(m)})
			}
		}
	}
	c.methodsOf[mk] = ms
	return ms
}

func lookupMethod(t types.Type, fn *types.Func) (*types.Func, bool) {
	obj, _, _ := types.LookupFieldOrMethod(t, false, fn.Pkg(), fn.Name())
	m, ok := obj.(*types.Func)
	return m, ok
}

// closure is p and every package it depends on.
func (c *goroutineCheck) closure(p *types.Package) []*types.Package {
	if ps, ok := c.closures[p]; ok {
		return ps
	}
	seen := map[*types.Package]bool{p: true}
	queue := []*types.Package{p}
	for i := 0; i < len(queue); i++ {
		for _, imp := range queue[i].Imports() {
			if !seen[imp] {
				seen[imp] = true
				queue = append(queue, imp)
			}
		}
	}
	c.closures[p] = queue
	return queue
}

// key is fn's name, the same in every package variant; it notes whether fn ends the test by
// itself (require, the FailNow family) or runs its function argument on the test's goroutine.
func (c *goroutineCheck) key(fn *types.Func) string {
	if k, ok := c.keys[fn]; ok {
		return k
	}
	orig := fn
	fn = fn.Origin()
	k := fn.FullName()
	c.keys[orig] = k
	if fn.Pkg() != nil {
		switch fn.Pkg().Path() {
		case requirePath:
			if fn.Name() != "New" {
				c.fails[k] = true
			}
		case "testing":
			if r := fn.Signature().Recv(); r != nil && testingTypes[typeName(r.Type())] {
				if failNowNames[fn.Name()] {
					c.fails[k] = true
				}
				switch fn.Name() {
				case "Run", "Cleanup", "Fuzz":
					c.own[k] = true
				}
			}
		}
	}
	return k
}

func (c *goroutineCheck) litKey(lit *ast.FuncLit) string {
	return "func literal at " + c.fset.Position(lit.Pos()).String()
}

func (c *goroutineCheck) pos(p token.Pos) string {
	pos := c.fset.Position(p)
	if rel, err := filepath.Rel(c.dir, pos.Filename); err == nil {
		pos.Filename = rel
	}
	return pos.String()
}

func typeName(t types.Type) string {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

func isFunc(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := t.Underlying().(*types.Signature)
	return ok
}

// callName is how a report names the function a call calls.
func callName(c *ast.CallExpr) string { return exprName(c.Fun) }

func exprName(e ast.Expr) string {
	switch e := ast.Unparen(e).(type) {
	case *ast.SelectorExpr:
		if x, ok := ast.Unparen(e.X).(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
		return "…." + e.Sel.Name
	case *ast.Ident:
		return e.Name
	case *ast.IndexExpr:
		return exprName(e.X)
	case *ast.IndexListExpr:
		return exprName(e.X)
	case *ast.FuncLit:
		return "func literal"
	}
	return types.ExprString(e)
}
