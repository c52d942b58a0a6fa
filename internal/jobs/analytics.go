package jobs

import (
	"time"

	"github.com/riverqueue/river"
)

// CompactAnalyticsArgs asks to fold the sales rollups' delta rows of buckets older than an
// hour (analytics.CompactWorker). Periodic, on one instance at a time (River's leader).
type CompactAnalyticsArgs struct{}

// Kind names the job in the queue table.
func (CompactAnalyticsArgs) Kind() string { return "compact_analytics" }

// AnalyticsCompaction is the periodic job that folds the rollups: every 15 minutes, and at
// start.
func AnalyticsCompaction() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(15*time.Minute),
		func() (river.JobArgs, *river.InsertOpts) { return CompactAnalyticsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
