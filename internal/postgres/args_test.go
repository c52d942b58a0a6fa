package postgres

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestArgsFollowGeneratedCalls checks what Args relies on: every generated method passes its
// parameter struct's fields in the order they are declared.
func TestArgsFollowGeneratedCalls(t *testing.T) {
	files, err := filepath.Glob("../../db/*.sql.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	fset := token.NewFileSet()
	fields := map[string][]string{} // Params type → field names in order
	calls := map[string][]string{}  // Params type → arg.X selectors in the order passed
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.TypeSpec:
				if st, ok := n.Type.(*ast.StructType); ok {
					for _, fl := range st.Fields.List {
						for _, name := range fl.Names {
							fields[n.Name.Name] = append(fields[n.Name.Name], name.Name)
						}
					}
				}
			case *ast.FuncDecl:
				if n.Type.Params == nil {
					return true
				}
				paramsType := ""
				for _, p := range n.Type.Params.List {
					if id, ok := p.Type.(*ast.Ident); ok && len(p.Names) == 1 && p.Names[0].Name == "arg" {
						paramsType = id.Name
					}
				}
				if paramsType == "" {
					return true
				}
				ast.Inspect(n.Body, func(m ast.Node) bool {
					call, ok := m.(*ast.CallExpr)
					if !ok || len(call.Args) < 2 {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok || (sel.Sel.Name != "Query" && sel.Sel.Name != "QueryRow" && sel.Sel.Name != "Exec") {
						return true
					}
					var passed []string
					for _, a := range call.Args[2:] {
						if s, ok := a.(*ast.SelectorExpr); ok {
							if x, ok := s.X.(*ast.Ident); ok && x.Name == "arg" {
								passed = append(passed, s.Sel.Name)
							}
						}
					}
					calls[paramsType] = passed
					return false
				})
			}
			return true
		})
	}
	require.NotEmpty(t, calls)
	for typ, passed := range calls {
		require.Equal(t, fields[typ], passed, "%s: arguments passed in another order than its fields", typ)
	}
	require.Contains(t, calls, "CheckoutPlaceOrderParams")
}
