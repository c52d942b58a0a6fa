package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db/migrations"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// A database that took 00005's insert-time feed positions moves to commit-time ones (00007),
// then to transaction-ordered ones (00008), keeping the positions it gave, and back.
func TestFeedPositionMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, 6)
	require.NoError(t, err)

	var orderID int64
	require.NoError(t, d.Pool.QueryRow(ctx, `
		WITH u AS (INSERT INTO users (email, password_hash) VALUES ('feed@example.com', 'x') RETURNING id)
		INSERT INTO orders (user_id, currency, total_amount, shipping_address)
		SELECT id, 'USD', 100, '{}' FROM u RETURNING id`).Scan(&orderID))
	addEvent := func(seq int) {
		t.Helper()
		_, err := d.Pool.Exec(ctx, `INSERT INTO order_events (order_id, sequence, status) VALUES ($1, $2, 'PENDING')`, orderID, seq)
		require.NoError(t, err)
	}
	positions := func() []int64 {
		t.Helper()
		rows, err := d.Pool.Query(ctx, `SELECT feed_position FROM order_events WHERE order_id = $1 ORDER BY sequence`, orderID)
		require.NoError(t, err)
		var out []int64
		for rows.Next() {
			var p int64
			require.NoError(t, rows.Scan(&p))
			out = append(out, p)
		}
		require.NoError(t, rows.Err())
		return out
	}
	addEvent(1)
	addEvent(2)
	require.Equal(t, []int64{1, 2}, positions(), "00005: positions at insert")

	_, err = provider.UpTo(ctx, 7)
	require.NoError(t, err)
	addEvent(3)
	require.Equal(t, []int64{1, 2, 3}, positions(), "00007 keeps the positions given and continues after them")

	_, err = provider.DownTo(ctx, 6)
	require.NoError(t, err)
	addEvent(4)
	require.Equal(t, []int64{1, 2, 3, 4}, positions(), "and back")

	// 00008: positions at insert, ordered by transaction: its id << 16, plus the event's
	// number in it. The positions given are kept.
	_, err = provider.UpTo(ctx, 8)
	require.NoError(t, err)
	var xid int64
	require.NoError(t, pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		for _, seq := range []int{5, 6} {
			if _, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, sequence, status) VALUES ($1, $2, 'PENDING')`, orderID, seq); err != nil {
				return err
			}
		}
		return tx.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&xid)
	}))
	addEvent(7)
	got := positions()
	require.Equal(t, []int64{1, 2, 3, 4, xid<<16 | 1, xid<<16 | 2}, got[:6], "00008: two events of one transaction")
	require.Greater(t, got[6]>>16, xid, "a later transaction's event")
	require.Equal(t, int64(1), got[6]&0xffff)

	_, err = provider.DownTo(ctx, 7)
	require.NoError(t, err)
	addEvent(8)
	require.Greater(t, positions()[7], got[6], "back to 00007: positions continue after the last one given")

	_, err = provider.Up(ctx)
	require.NoError(t, err)
}
