package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/postgres/fastpath"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// TestTrackWrites: an operation knows whether it may have written, so that an outage's error
// can tell a client whether sending it again is safe.
func TestTrackWrites(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	tracked := func() context.Context { return postgres.TrackWrites(context.Background()) }

	t.Run("reads write nothing", func(t *testing.T) {
		ctx := tracked()
		_, err := d.Queries.InstallationID(ctx)
		require.NoError(t, err)
		require.False(t, postgres.Wrote(ctx))
	})
	t.Run("a write outside a transaction", func(t *testing.T) {
		ctx := tracked()
		_, err := d.Queries.InstallationRenew(ctx)
		require.NoError(t, err)
		require.True(t, postgres.Wrote(ctx))
	})
	t.Run("a committed transaction", func(t *testing.T) {
		ctx := tracked()
		require.NoError(t, d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
			_, err := q.InstallationRenew(ctx)
			return err
		}))
		require.True(t, postgres.Wrote(ctx))
	})
	t.Run("a batch on the pool", func(t *testing.T) {
		ctx := tracked()
		var err error
		d.Queries.StockRelease(ctx, []db.StockReleaseParams{{ID: -1, N: 1}}).Exec(func(_ int, e error) { err = e })
		require.NoError(t, err)
		require.True(t, postgres.Wrote(ctx))
	})
	t.Run("a pipeline", func(t *testing.T) {
		ctx := tracked()
		var p fastpath.Pipeline
		p.Queries().StockRelease(ctx, []db.StockReleaseParams{{ID: -1, N: 1}})
		require.NoError(t, d.RunPipeline(ctx, &p, func() error { return nil }))
		require.True(t, postgres.Wrote(ctx))
	})
	t.Run("nothing is tracked outside a tracked operation", func(t *testing.T) {
		ctx := context.Background()
		_, err := d.Queries.InstallationRenew(ctx)
		require.NoError(t, err)
		require.False(t, postgres.Wrote(ctx))
	})
}
