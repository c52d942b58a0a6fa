package pgtest

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/postgres"
)

// TestClonesHaveTheirOwnInstallation: clones of the one template would share its installation
// id, and so their Redis namespace (migration 00009), unless NewURL gives each its own.
func TestClonesHaveTheirOwnInstallation(t *testing.T) {
	t.Parallel()
	ids := map[uuid.UUID]bool{}
	for range 2 {
		id, err := New(t, postgres.Options{MaxConns: 1}).InstallationID(context.Background())
		require.NoError(t, err)
		ids[id] = true
	}
	require.Len(t, ids, 2, "two cloned databases share an installation id")
}
