package graph_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/docs/operations"
)

// TestDocumentedOperationsAreAllRun holds the rule that every documented operation is run by
// an API test here: the schema check alone misses an operation that validates but fails for
// the audience its comment names (a shopper's page selecting a vendor-only field). It reads the
// tests' source for calls that send an operation by name (Client.Operation, Client.Payload,
// apitest.OperationDocument), so a new file in docs/operations fails it until a test runs it.
func TestDocumentedOperationsAreAllRun(t *testing.T) {
	t.Parallel()
	set, err := operations.Embedded()
	require.NoError(t, err)

	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	run := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		require.NoError(t, err)
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			for _, arg := range call.Args {
				lit, ok := arg.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				switch sel.Sel.Name {
				case "Operation", "Payload", "OperationDocument":
					if name, err := strconv.Unquote(lit.Value); err == nil {
						run[name] = true
					}
				}
				break
			}
			return true
		})
	}
	var missing []string
	for _, op := range set.Operations {
		if !run[op.Name] {
			missing = append(missing, op.Path)
		}
	}
	require.Empty(t, missing, "documented operations no API test runs (call them with apitest.Client.Operation or Payload)")
}
