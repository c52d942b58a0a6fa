package inventory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/jobs"
)

// River runs a job again once it has been running for jobs.DefaultRescueAfter, taking it for
// the work of a dead process: the import's own timeout must end it first, or a slow but live
// apply would be started a second time beside it.
func TestImportTimeoutEndsBeforeRescue(t *testing.T) {
	require.Less(t, (&inventory.ImportWorker{}).Timeout(nil), jobs.DefaultRescueAfter)
}
