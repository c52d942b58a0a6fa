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

type blockingEmailWorker struct {
	river.WorkerDefaults[jobs.SendOrderPlacedEmailArgs]
	started chan struct{}
	release chan struct{}
}

func (w *blockingEmailWorker) Work(ctx context.Context, _ *river.Job[jobs.SendOrderPlacedEmailArgs]) error {
	w.started <- struct{}{}
	select {
	case <-w.release:
	case <-ctx.Done():
	}
	return nil
}

type signallingExpireWorker struct {
	river.WorkerDefaults[jobs.ExpireOrderArgs]
	ran chan struct{}
}

func (w *signallingExpireWorker) Work(context.Context, *river.Job[jobs.ExpireOrderArgs]) error {
	w.ran <- struct{}{}
	return nil
}

// Email jobs have a queue of their own: while every email worker is busy (a storm of emails
// waiting for their turn under the send rate), an order's expiry still runs.
func TestEmailJobsDoNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	require.Equal(t, jobs.QueueEmail, jobs.SendOrderPlacedEmailArgs{}.InsertOpts().Queue)
	require.Equal(t, jobs.QueueEmail, jobs.SendOrderStatusEmailArgs{}.InsertOpts().Queue)

	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	email := &blockingEmailWorker{started: make(chan struct{}, 10), release: make(chan struct{})}
	expire := &signallingExpireWorker{ran: make(chan struct{}, 1)}
	workers := river.NewWorkers()
	river.AddWorker(workers, email)
	river.AddWorker(workers, expire)
	q := &jobs.Queue{}
	require.NoError(t, q.Start(context.Background(), d.Pool, workers, jobs.Options{Work: true, MaxWorkers: 1, EmailWorkers: 1, PollOnly: true}))
	t.Cleanup(func() {
		close(email.release)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})

	ctx := context.Background()
	for i := range 3 {
		_, err := q.Client().Insert(ctx, jobs.SendOrderPlacedEmailArgs{OrderID: int64(i + 1)}, nil)
		require.NoError(t, err)
	}
	select {
	case <-email.started:
	case <-time.After(30 * time.Second):
		t.Fatal("no email job started")
	}
	_, err := q.Client().Insert(ctx, jobs.ExpireOrderArgs{OrderID: 1}, nil)
	require.NoError(t, err)
	select {
	case <-expire.ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the expiry waited for the email jobs")
	}
}
