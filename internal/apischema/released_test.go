package apischema_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/internal/apischema"
)

// TestNoBreakingChangeSinceRelease is CI's breaking-change check: the schema of today against
// the last released one (docs/schema/released.graphql). Deprecate first, release, then remove.
// docs/schema/README.md says how to cut a release.
func TestNoBreakingChangeSinceRelease(t *testing.T) {
	t.Parallel()
	current, err := apischema.LoadDir("../../schema")
	require.NoError(t, err)
	b, err := os.ReadFile("../../docs/schema/released.graphql")
	require.NoError(t, err)
	released, err := apischema.Load(&ast.Source{Name: "docs/schema/released.graphql", Input: string(b)})
	require.NoError(t, err)

	if changes := apischema.Breaking(released, current); len(changes) > 0 {
		var lines []string
		for _, c := range changes {
			lines = append(lines, "  "+c.String())
		}
		t.Fatalf("the schema breaks clients of the released one (docs/schema/released.graphql):\n%s\n"+
			"Mark the element @deprecated(reason: \"Use … instead.\") and keep it until a release has "+
			"shipped the deprecation (docs/schema/README.md).", strings.Join(lines, "\n"))
	}
}
