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

// The transactions of InTx/InTxWithTx are pgx's own (pgx.BeginFunc): committed when their
// function returns nil, rolled back on an error or a panic, their connection back in the pool.
func TestTransactions(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2, Tracer: &postgres.StatementCounter{}})
	ctx := context.Background()
	_, err := d.Pool.Exec(ctx, `CREATE TABLE tx_probe (id int PRIMARY KEY, note text NOT NULL)`)
	require.NoError(t, err)
	rowsIn := func(t *testing.T) int {
		t.Helper()
		var n int
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM tx_probe`).Scan(&n))
		return n
	}
	counted := func() (context.Context, *postgres.Counts) {
		var c postgres.Counts
		return postgres.WithCounter(ctx, &c), &c
	}
	idle := func(t *testing.T) {
		t.Helper()
		require.Zero(t, d.Pool.Stat().AcquiredConns(), "every connection went back to the pool")
	}

	t.Run("BEGIN, the statements, COMMIT", func(t *testing.T) {
		ctx, c := counted()
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tx_probe VALUES (1, 'one')`); err != nil {
				return err
			}
			var note string
			if err := tx.QueryRow(ctx, `SELECT note FROM tx_probe WHERE id = $1`, 1).Scan(&note); err != nil {
				return err
			}
			require.Equal(t, "one", note)
			_, err := tx.Exec(ctx, `INSERT INTO tx_probe VALUES (2, 'two')`)
			return err
		})
		require.NoError(t, err)
		require.Equal(t, int64(5), c.Statements.Load()) // begin, insert, select, insert, commit
		require.Equal(t, int64(5), c.RoundTrips.Load())
		require.Equal(t, 2, rowsIn(t))
		idle(t)
	})

	t.Run("a first statement that reads rows, and one that finds none", func(t *testing.T) {
		err := d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
			_, err := q.OrderGetByID(ctx, -1)
			require.ErrorIs(t, err, pgx.ErrNoRows)
			return nil
		})
		require.NoError(t, err)
		var ids []int32
		err = d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			rows, err := tx.Query(ctx, `SELECT id FROM tx_probe ORDER BY id`)
			if err != nil {
				return err
			}
			ids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
			return err
		})
		require.NoError(t, err)
		require.Equal(t, []int32{1, 2}, ids)
		idle(t)
	})

	t.Run("an error rolls everything back", func(t *testing.T) {
		before := rowsIn(t)
		boom := errors.New("boom")
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			if _, err := tx.Exec(ctx, `INSERT INTO tx_probe VALUES (10, 'ten')`); err != nil {
				return err
			}
			return boom
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, before, rowsIn(t))
		idle(t)
	})

	t.Run("a failing first statement leaves nothing and a clean connection", func(t *testing.T) {
		before := rowsIn(t)
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			_, err := tx.Exec(ctx, `INSERT INTO tx_probe VALUES (1, 'duplicate')`)
			return err
		})
		require.True(t, postgres.IsUniqueViolation(err, ""), "%v", err)
		require.Equal(t, before, rowsIn(t))
		idle(t)
		for range 3 { // the pool's connections still work
			require.Equal(t, before, rowsIn(t))
		}
	})

	t.Run("a panic rolls back and returns the connection", func(t *testing.T) {
		before := rowsIn(t)
		require.Panics(t, func() {
			_ = d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
				if _, err := tx.Exec(ctx, `INSERT INTO tx_probe VALUES (20, 'twenty')`); err != nil {
					return err
				}
				panic("boom")
			})
		})
		require.Equal(t, before, rowsIn(t))
		idle(t)
	})

	t.Run("a transaction that runs nothing sends BEGIN and COMMIT only", func(t *testing.T) {
		ctx, c := counted()
		require.NoError(t, d.InTx(ctx, func(context.Context, *db.Queries) error { return nil }))
		require.Equal(t, int64(2), c.RoundTrips.Load())
		idle(t)
	})

	t.Run("a statement with pgx options", func(t *testing.T) {
		ctx, c := counted()
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			var n int
			return tx.QueryRow(ctx, `SELECT count(*) FROM tx_probe WHERE id > $1`, pgx.QueryExecModeExec, 0).Scan(&n)
		})
		require.NoError(t, err)
		require.Equal(t, int64(3), c.RoundTrips.Load()) // begin, select, commit
		idle(t)
	})
}

// A transaction that fails with a serialisation failure or a deadlock runs again, at most
// three times in all; any other failure ends it at once.
func TestTransactionsRunAgain(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	_, err := d.Pool.Exec(ctx, `CREATE TABLE tx_again (attempt int PRIMARY KEY)`)
	require.NoError(t, err)
	fail := func(tx pgx.Tx, code string) error {
		_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '`+code+`'; END $$`)
		return err
	}
	committed := func(t *testing.T) []int {
		t.Helper()
		rows, err := d.Pool.Query(ctx, `DELETE FROM tx_again RETURNING attempt`)
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[int])
		require.NoError(t, err)
		return got
	}

	for _, code := range []string{"40001", "40P01"} {
		t.Run(code+" runs again", func(t *testing.T) {
			attempts := 0
			err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
				attempts++
				if _, err := tx.Exec(ctx, `INSERT INTO tx_again VALUES ($1)`, attempts); err != nil {
					return err
				}
				if attempts == 1 {
					return fail(tx, code)
				}
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, 2, attempts)
			require.Equal(t, []int{2}, committed(t), "only the second run is committed")
		})
	}

	t.Run("it gives up after three runs", func(t *testing.T) {
		attempts := 0
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			attempts++
			return fail(tx, "40001")
		})
		require.Error(t, err)
		require.Equal(t, 3, attempts)
	})

	t.Run("another failure is not run again", func(t *testing.T) {
		attempts := 0
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			attempts++
			return fail(tx, "23505")
		})
		require.Error(t, err)
		require.Equal(t, 1, attempts)
		require.Empty(t, committed(t))
	})
}
