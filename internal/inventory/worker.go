package inventory

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/internal/jobs"
)

// ImportWorker applies inventory imports (jobs.ApplyInventoryImportArgs).
type ImportWorker struct {
	river.WorkerDefaults[jobs.ApplyInventoryImportArgs]
	Imports *ImportService
}

// Work applies the import; on the job's last attempt a failure marks it FAILED.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[jobs.ApplyInventoryImportArgs]) error {
	return w.Imports.Apply(ctx, job.Args.ImportID, job.Attempt >= job.MaxAttempts)
}

// Timeout: 100,000 rows take seconds, but a busy database may take longer than the queue's
// default minute.
func (w *ImportWorker) Timeout(*river.Job[jobs.ApplyInventoryImportArgs]) time.Duration {
	return 10 * time.Minute
}
