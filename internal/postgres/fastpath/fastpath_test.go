package fastpath_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/postgres/fastpath"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// A pipeline sends sqlc batch queries of different kinds in one round trip; each query's
// results are read with sqlc's own methods, in the order queued.
func TestPipeline(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2, Tracer: &postgres.StatementCounter{}})
	ctx := context.Background()

	t.Run("in a transaction: one round trip, results in order, part of the transaction", func(t *testing.T) {
		var c postgres.Counts
		ctx := postgres.WithCounter(ctx, &c)
		var setting string
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			before := c.RoundTrips.Load()
			var p fastpath.Pipeline
			q := p.Queries()
			plan := q.PlanCacheModeSet(ctx, []string{"force_generic_plan"})
			lock := q.CartLockForUser(ctx, []*int64{new(int64(-1))})
			reserve := q.StockReserve(ctx, []db.StockReserveParams{{Ids: []int64{-1}, Quantities: []int32{1}}})
			var (
				planErr, lockErr error
				taken            []db.StockReserveRow
			)
			err := p.Run(ctx, tx, func() (err error) {
				plan.Exec(func(_ int, e error) { planErr = e })
				lock.Exec(func(_ int, e error) { lockErr = e })
				reserve.Query(func(_ int, rows []db.StockReserveRow, e error) { taken, err = rows, e })
				return err
			})
			require.NoError(t, err)
			require.NoError(t, planErr)
			require.NoError(t, lockErr)
			require.Empty(t, taken)
			require.Equal(t, int64(1), c.RoundTrips.Load()-before, "three statements, one round trip")
			return tx.QueryRow(ctx, `SELECT current_setting('plan_cache_mode')`).Scan(&setting)
		})
		require.NoError(t, err)
		require.Equal(t, "force_generic_plan", setting, "the pipeline ran in the transaction")
	})

	t.Run("on the pool: a failing statement is the pipeline's error", func(t *testing.T) {
		var p fastpath.Pipeline
		q := p.Queries()
		q.StockRelease(ctx, []db.StockReleaseParams{{ID: -1, N: 1}})
		q.PlanCacheModeSet(ctx, []string{"no such mode"})
		err := d.RunPipeline(ctx, &p, func() error { return nil })
		require.Error(t, err, "unread results are read when the pipeline ends")
	})

	t.Run("only batch queries can be queued", func(t *testing.T) {
		var p fastpath.Pipeline
		_, err := p.Queries().OrderGetByID(ctx, 1)
		require.ErrorContains(t, err, "only sqlc batch queries")
	})

	t.Run("an empty pipeline sends nothing", func(t *testing.T) {
		var c postgres.Counts
		ctx := postgres.WithCounter(ctx, &c)
		var p fastpath.Pipeline
		require.NoError(t, d.RunPipeline(ctx, &p, func() error { return nil }))
		require.Zero(t, c.RoundTrips.Load())
	})
}
