package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// A working queue listens for new jobs on a connection it holds outside the pool; with
// PollOnly (the test servers') it holds none.
func TestQueuePollOnly(t *testing.T) {
	t.Parallel()
	for _, pollOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("PollOnly=%v", pollOnly), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := pgtest.New(t, postgres.Options{MaxConns: 2})
			workers := river.NewWorkers()
			river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[jobs.ExpireOrderArgs]) error { return nil }))
			q := &jobs.Queue{}
			require.NoError(t, q.Start(ctx, d.Pool, workers, jobs.Options{Work: true, MaxWorkers: 1, PollOnly: pollOnly}))
			t.Cleanup(func() {
				stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = q.Stop(stopCtx)
			})
			listening := func() int {
				var n int
				require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
					WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&n))
				return n
			}
			if pollOnly {
				// Give a listener the time it takes to appear (see the other case).
				time.Sleep(2 * time.Second)
				require.Zero(t, listening())
				return
			}
			require.Eventually(t, func() bool { return listening() > 0 }, 10*time.Second, 50*time.Millisecond)
		})
	}
}

// TestSettleRefundWithinIdempotencyWindow: every retry of a refund's settlement is asked
// within the 24 hours Stripe keeps an idempotency key, with River's own retry policy, at the
// top of its jitter; later, the same key could make a second refund.
func TestSettleRefundWithinIdempotencyWindow(t *testing.T) {
	t.Parallel()
	policy := &river.DefaultClientRetryPolicy{}
	var total time.Duration
	for failures := 1; failures < int(jobs.SettleRefundArgs{}.InsertOpts().MaxAttempts); failures++ {
		now := time.Now()
		delay := policy.NextRetry(&rivertype.JobRow{Errors: make([]rivertype.AttemptError, failures-1)}).Sub(now)
		total += delay * 11 / 10 // whatever jitter this draw had, the worst case is +10%
	}
	require.Less(t, total, 22*time.Hour, "the last settlement retry must come well within Stripe's 24 hours")
	require.Greater(t, total, 6*time.Hour, "a provider outage of hours must still be outlasted")
}
