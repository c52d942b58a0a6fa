package cart

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// CartViewQueued is CartView for a pipeline: sqlc gives a query one kind (:many, :batchmany),
// so its statement is written twice. The two must stay the same statement.
func TestCartViewQueuedIsCartView(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../queries/carts.sql")
	require.NoError(t, err)
	statement := func(name string) string {
		_, rest, ok := strings.Cut(string(b), "-- name: "+name+" ")
		require.True(t, ok, "no query %s", name)
		var lines []string
		for _, line := range strings.Split(rest, "\n")[1:] {
			if strings.HasPrefix(line, "--") {
				continue
			}
			lines = append(lines, line)
			if strings.HasSuffix(strings.TrimSpace(line), ";") {
				break
			}
		}
		return strings.Join(lines, "\n")
	}
	view := statement("CartView")
	require.Contains(t, view, "FROM cart")
	require.Equal(t, view, statement("CartViewQueued"))
}
