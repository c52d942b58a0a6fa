package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// A Pipeline is one round trip; on the pool it is one implicit transaction, in a transaction
// part of it; rows are scanned by position into sqlc's row types.
func TestPipeline(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2, Tracer: &postgres.StatementCounter{}})
	ctx := context.Background()
	_, err := d.Pool.Exec(ctx, `CREATE TABLE pipe_probe (id int PRIMARY KEY)`)
	require.NoError(t, err)
	rowsIn := func(t *testing.T) int {
		t.Helper()
		var n int
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM pipe_probe`).Scan(&n))
		return n
	}
	counted := func() (context.Context, *postgres.Counts) {
		var c postgres.Counts
		return postgres.WithCounter(ctx, &c), &c
	}

	t.Run("one round trip; each statement sees the ones before it", func(t *testing.T) {
		ctx, c := counted()
		var (
			p     postgres.Pipeline
			count int64
			ids   []int32
		)
		p.Exec(`INSERT INTO pipe_probe VALUES (1), (2)`)
		postgres.QueueOne(&p, &count, `SELECT count(*) FROM pipe_probe`)
		postgres.QueueAll(&p, &ids, `SELECT id FROM pipe_probe ORDER BY id`)
		require.NoError(t, d.Run(ctx, &p))
		require.Equal(t, int64(2), count)
		require.Equal(t, []int32{1, 2}, ids)
		require.Equal(t, int64(3), c.Statements.Load())
		require.Equal(t, int64(1), c.RoundTrips.Load())
		_, err := d.Pool.Exec(ctx, `TRUNCATE pipe_probe`)
		require.NoError(t, err)
	})

	t.Run("on the pool, a failing statement undoes the ones before it", func(t *testing.T) {
		var p postgres.Pipeline
		p.Exec(`INSERT INTO pipe_probe VALUES (10)`)
		p.Exec(`INSERT INTO pipe_probe VALUES (10)`) // duplicate key
		require.Error(t, d.Run(ctx, &p))
		require.Zero(t, rowsIn(t))
	})

	t.Run("QueueOne without a row is pgx.ErrNoRows", func(t *testing.T) {
		var (
			p postgres.Pipeline
			n int32
		)
		postgres.QueueOne(&p, &n, `SELECT id FROM pipe_probe WHERE id = -1`)
		require.ErrorIs(t, d.Run(ctx, &p), pgx.ErrNoRows)
	})

	t.Run("models embedded with sqlc.embed are scanned field by field", func(t *testing.T) {
		var (
			p    postgres.Pipeline
			rows []db.CartViewRow
		)
		postgres.QueueAll(&p, &rows, `SELECT 7::bigint, 8::bigint, 'SKU-1', 'Red', '{"color":"red"}'::jsonb, 1250::bigint,
			'EUR', 4, 1, now(), now(), NULL::timestamptz, 3, now(), 'ACTIVE'::product_status, true`)
		require.NoError(t, d.Run(ctx, &p))
		require.Len(t, rows, 1)
		r := rows[0]
		require.Equal(t, int64(7), r.ProductVariant.ID)
		require.Equal(t, "SKU-1", r.ProductVariant.SKU)
		require.Equal(t, int64(1250), r.ProductVariant.PriceAmount)
		require.Equal(t, "EUR", r.ProductVariant.Currency)
		require.Nil(t, r.ProductVariant.DeletedAt)
		require.Equal(t, int32(3), r.Quantity)
		require.Equal(t, db.ProductStatusACTIVE, r.ProductStatus)
		require.True(t, r.Guest)

		p = postgres.Pipeline{}
		postgres.QueueAll(&p, &rows, `SELECT 1, 2`) // columns that do not fit the row type
		require.Error(t, d.Run(ctx, &p))
	})

	t.Run("in a transaction, BEGIN goes with the first pipeline; a failure rolls it all back", func(t *testing.T) {
		ctx, c := counted()
		err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			var p postgres.Pipeline
			p.Exec(`INSERT INTO pipe_probe VALUES (20)`)
			p.Exec(`INSERT INTO pipe_probe VALUES (21)`)
			return p.Send(ctx, tx)
		})
		require.NoError(t, err)
		require.Equal(t, int64(4), c.Statements.Load()) // begin, insert, insert, commit
		require.Equal(t, int64(2), c.RoundTrips.Load())
		require.Equal(t, 2, rowsIn(t))

		err = d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, _ *db.Queries) error {
			if _, err := tx.Exec(ctx, `INSERT INTO pipe_probe VALUES (22)`); err != nil {
				return err
			}
			var p postgres.Pipeline
			p.Exec(`INSERT INTO pipe_probe VALUES (23)`)
			p.Exec(`INSERT INTO pipe_probe VALUES (20)`) // duplicate key
			return p.Send(ctx, tx)
		})
		require.Error(t, err)
		require.Equal(t, 2, rowsIn(t))
		require.Zero(t, d.Pool.Stat().AcquiredConns(), "every connection went back to the pool")
	})
}
