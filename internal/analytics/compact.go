package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/jobs"
)

// The rollups are append-only deltas (migration 00022): every payment and refund adds rows
// rather than updating a shared one, so payments never wait on each other. Compaction folds a
// quarter hour's rows into one per key once nothing writes to it any more.

// CompactAfter is how old a bucket must be before it is folded: writers append only to the
// quarter hour of now, so an hour leaves a wide margin for a transaction still open.
const CompactAfter = time.Hour

// CompactLookback is how far back each run looks: a bucket is folded once, by the first run
// after it is CompactAfter old, so the window only needs to cover runs that were missed.
const CompactLookback = 48 * time.Hour

// Compact folds the delta rows of every rollup key of a bucket in [since, before) into one
// row, in one transaction: the old rows go and their sum comes in together, so a report sees
// either. It locks only those old rows, which no payment or refund writes. It returns how many
// rows it wrote (one per folded key).
func (s *Service) Compact(ctx context.Context, since, before time.Time) (int64, error) {
	var written int64
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		n, err := q.AnalyticsCompactSales(ctx, db.AnalyticsCompactSalesParams{Since: since, Before: before})
		if err != nil {
			return fmt.Errorf("compact sales rollups: %w", err)
		}
		m, err := q.AnalyticsCompactProductSales(ctx, db.AnalyticsCompactProductSalesParams{Since: since, Before: before})
		if err != nil {
			return fmt.Errorf("compact product rollups: %w", err)
		}
		written = n + m
		return nil
	})
	return written, err
}

// CompactWorker runs the periodic compaction (jobs.AnalyticsCompaction).
type CompactWorker struct {
	river.WorkerDefaults[jobs.CompactAnalyticsArgs]
	Analytics *Service
}

// Work implements river.Worker.
func (w *CompactWorker) Work(ctx context.Context, _ *river.Job[jobs.CompactAnalyticsArgs]) error {
	before := time.Now().Add(-CompactAfter)
	_, err := w.Analytics.Compact(ctx, before.Add(-CompactLookback), before)
	return err
}
