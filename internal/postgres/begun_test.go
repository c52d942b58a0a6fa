package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// InTxBegunWith is a transaction like InTxWithTx whose BEGIN travels with its first pipeline.
func TestInTxBegunWith(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2, Tracer: &postgres.StatementCounter{}})
	ctx := context.Background()
	_, err := d.Pool.Exec(ctx, `CREATE TABLE begun_probe (n int PRIMARY KEY)`)
	require.NoError(t, err)
	count := func(n int) int {
		var c int
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM begun_probe WHERE n = $1`, n).Scan(&c))
		return c
	}
	// first queues a statement whose effect lasts to the end of the transaction, so that fn
	// can tell it ran in the same one.
	first := func(ctx context.Context, q *db.Queries) func() error {
		set := q.PlanCacheModeSet(ctx, []string{"force_generic_plan"})
		return func() (err error) {
			set.Exec(func(_ int, e error) { err = e })
			return err
		}
	}

	t.Run("BEGIN goes with the first pipeline; commits, then runs the callbacks", func(t *testing.T) {
		var counts postgres.Counts
		ran := 0
		err := d.InTxBegunWith(postgres.WithCounter(ctx, &counts), first, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			var mode string
			require.NoError(t, tx.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode))
			require.Equal(t, "force_generic_plan", mode, "fn runs in the pipeline's transaction")
			postgres.AfterCommit(ctx, func(context.Context) {
				require.Equal(t, 1, count(1), "the callback runs after the commit")
				ran++
			})
			_, err := tx.Exec(ctx, `INSERT INTO begun_probe VALUES (1)`)
			return err
		})
		require.NoError(t, err)
		require.Equal(t, 1, ran)
		require.Equal(t, 1, count(1))
		// [BEGIN, SET], SHOW, INSERT, COMMIT: the BEGIN took no round trip of its own.
		require.Equal(t, int64(4), counts.RoundTrips.Load())
	})

	t.Run("fn's error rolls everything back and drops the callbacks", func(t *testing.T) {
		probe := errors.New("probe")
		ran := 0
		err := d.InTxBegunWith(ctx, first, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			postgres.AfterCommit(ctx, func(context.Context) { ran++ })
			if _, err := tx.Exec(ctx, `INSERT INTO begun_probe VALUES (2)`); err != nil {
				return err
			}
			return probe
		})
		require.ErrorIs(t, err, probe)
		require.Zero(t, ran)
		require.Zero(t, count(2))
	})

	t.Run("a failing first pipeline ends the transaction and gives its connection back", func(t *testing.T) {
		bad := func(ctx context.Context, q *db.Queries) func() error {
			set := q.PlanCacheModeSet(ctx, []string{"no_such_mode"})
			return func() (err error) {
				set.Exec(func(_ int, e error) { err = e })
				return err
			}
		}
		for range 5 { // more attempts than the pool has connections
			called := false
			err := d.InTxBegunWith(ctx, bad, func(context.Context, pgx.Tx, *db.Queries) error {
				called = true
				return nil
			})
			require.Error(t, err)
			require.False(t, called)
		}
		require.Equal(t, 0, count(3), "the pool still answers")
	})
}
