package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/metrics"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

func TestPostgresCollectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t, postgres.Options{MaxConns: 3})

	q := &jobs.Queue{}
	require.NoError(t, q.Start(ctx, db.Pool, river.NewWorkers(), jobs.Options{}))
	for _, id := range []int64{1, 2} {
		require.NoError(t, pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			_, err := q.ScheduleRefundSettlement(ctx, tx, id, time.Now().Add(time.Hour))
			return err
		}))
	}

	count := metrics.PostgresJobCounter(db.Pool)
	depth, err := count(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"available": 0, "retryable": 0, "scheduled": 2}, depth)

	reg := metrics.New(metrics.Options{})
	reg.WatchPool(db.Pool)
	reg.WatchJobQueue(count, 0)
	body := scrape(t, reg)
	requireSeries(t, body, `shopgraph_jobs_queue_depth{state="scheduled"}`, "2")
	requireSeries(t, body, `shopgraph_jobs_queue_depth{state="available"}`, "0")
	requireSeries(t, body, `shopgraph_db_pool_max_conns`, "3")
	require.Contains(t, body, "shopgraph_db_pool_acquires_total ")
	require.Contains(t, body, "shopgraph_db_pool_idle_conns ")
}
