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

// Callbacks registered with AfterCommit run once their transaction has committed, in order,
// and never for a transaction, or an attempt of one, that rolled back.
func TestAfterCommit(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	_, err := d.Pool.Exec(ctx, `CREATE TABLE after_commit_probe (n int PRIMARY KEY)`)
	require.NoError(t, err)
	insert := func(ctx context.Context, tx pgx.Tx, n int) error {
		_, err := tx.Exec(ctx, `INSERT INTO after_commit_probe VALUES ($1)`, n)
		return err
	}

	t.Run("runs on commit, in the order registered, after COMMIT", func(t *testing.T) {
		var ran []string
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			postgres.AfterCommit(ctx, func(ctx context.Context) {
				var n int
				// Another connection sees the change: it has committed.
				require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM after_commit_probe WHERE n = 1`).Scan(&n))
				require.Equal(t, 1, n)
				ran = append(ran, "first")
			})
			if err := insert(ctx, tx, 1); err != nil {
				return err
			}
			postgres.AfterCommit(ctx, func(context.Context) { ran = append(ran, "second") })
			postgres.AfterCommit(ctx, func(context.Context) { ran = append(ran, "third") })
			require.Empty(t, ran, "nothing runs inside the transaction")
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"first", "second", "third"}, ran)
	})

	t.Run("dropped on rollback", func(t *testing.T) {
		ran := 0
		probe := errors.New("probe")
		err := d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
			postgres.AfterCommit(ctx, func(context.Context) { ran++ })
			return probe
		})
		require.ErrorIs(t, err, probe)
		require.Zero(t, ran)

		// A failed statement aborts the transaction: its COMMIT fails too.
		err = d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			postgres.AfterCommit(ctx, func(context.Context) { ran++ })
			_ = insert(ctx, tx, 1) // duplicate key: the transaction is aborted
			return nil
		})
		require.Error(t, err)
		require.Zero(t, ran)
	})

	t.Run("an attempt run again drops the callbacks of the first", func(t *testing.T) {
		var ran []int
		attempts := 0
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			attempts++
			attempt := attempts
			postgres.AfterCommit(ctx, func(context.Context) { ran = append(ran, attempt) })
			if attempt == 1 {
				_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '40001'; END $$`)
				return err
			}
			return insert(ctx, tx, 2)
		})
		require.NoError(t, err)
		require.Equal(t, 2, attempts)
		require.Equal(t, []int{2}, ran, "once, the second attempt's")
	})

	t.Run("outside a transaction it runs at once", func(t *testing.T) {
		ran := false
		postgres.AfterCommit(ctx, func(context.Context) { ran = true })
		require.True(t, ran)
	})

	t.Run("a callback gets the caller's context, not the transaction's", func(t *testing.T) {
		var nested []string
		err := d.InTx(ctx, func(ctx context.Context, _ *db.Queries) error {
			postgres.AfterCommit(ctx, func(ctx context.Context) {
				// Registered after the commit: nothing is left to wait for.
				postgres.AfterCommit(ctx, func(context.Context) { nested = append(nested, "nested") })
				nested = append(nested, "outer")
			})
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, []string{"nested", "outer"}, nested)
	})
}
