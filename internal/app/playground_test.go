package app

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestPlaygroundTabs holds GraphiQL's example tabs to the documented operations: the path the
// issue names (sign in, browse, add to cart, check out, follow the order), each tab's variables
// ones its operation declares.
func TestPlaygroundTabs(t *testing.T) {
	t.Parallel()
	tabs, err := playgroundTabs()
	require.NoError(t, err)
	var names []string
	for _, tab := range tabs {
		doc, perr := parser.ParseQuery(&ast.Source{Input: tab.Query})
		require.Nil(t, perr)
		require.Len(t, doc.Operations, 1)
		op := doc.Operations[0]
		names = append(names, op.Name)
		var vars map[string]any
		require.NoError(t, json.Unmarshal([]byte(tab.Variables), &vars), op.Name)
		for name := range vars {
			require.NotNil(t, op.VariableDefinitions.ForName(name), "%s declares no $%s", op.Name, name)
		}
		for _, v := range op.VariableDefinitions {
			if v.Type.NonNull && v.DefaultValue == nil {
				require.Contains(t, vars, v.Variable, "%s needs $%s", op.Name, v.Variable)
			}
		}
	}
	require.Equal(t, []string{"SignIn", "Products", "CartItemAdd", "Checkout", "OrderStatusChanged"}, names)
}
