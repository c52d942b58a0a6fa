package graph_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestStorefrontOperationsAreCurrent runs GraphQL Code Generator on the reference storefront's
// operations, the documented ones (docs/operations), against schema/*.graphqls: an operation the
// schema no longer accepts fails it, and so does committed generated code (src/gql) that a
// fresh run would change (`npm run codegen` in examples/storefront, then commit).
func TestStorefrontOperationsAreCurrent(t *testing.T) {
	t.Parallel()
	node := storefrontNode(t)
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("node_modules", "@graphql-codegen", "cli", "esm", "bin.js"), "--config", "codegen.ts")
	cmd.Dir = storefrontDir
	cmd.Env = append(os.Environ(), "CODEGEN_OUT="+out+string(filepath.Separator), "NO_COLOR=1", "FORCE_COLOR=0")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "graphql-codegen: the storefront's operations do not match the schema:\n%s", b)

	committed := filepath.Join(storefrontDir, "src", "gql")
	fresh, err := os.ReadDir(out)
	require.NoError(t, err)
	old, err := os.ReadDir(committed)
	require.NoError(t, err)
	require.Equal(t, len(fresh), len(old), "src/gql has other files than codegen writes")
	for _, f := range fresh {
		want, err := os.ReadFile(filepath.Join(out, f.Name()))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(committed, f.Name()))
		require.NoError(t, err, "src/gql lacks %s", f.Name())
		require.Equal(t, string(want), string(got), "examples/storefront/src/gql/%s is stale: run `npm run codegen` there and commit", f.Name())
	}
}
