package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db/migrations"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// 00020 (fulfilments) on a database with orders: their events become STATUS_CHANGED events
// of no fulfilment, nothing is lost, and fulfilments can then be written; its down removes it.
func TestFulfillmentsMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, 19)
	require.NoError(t, err)

	u := tf.NewUser(t, d, tf.UserOpts{})
	o := tf.NewOrder(t, d, tf.OrderOpts{UserID: u.ID, Status: "PAID"})
	_, err = provider.UpTo(ctx, 20)
	require.NoError(t, err)

	var kind string
	var fulfillment *int64
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT kind, fulfillment_id FROM order_events WHERE order_id = $1`, o.ID).Scan(&kind, &fulfillment))
	require.Equal(t, "STATUS_CHANGED", kind)
	require.Nil(t, fulfillment)
	var id int64
	require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO fulfillments (order_id, tracking_number) VALUES ($1, 'T') RETURNING id`, o.ID).Scan(&id))
	_, err = d.Pool.Exec(ctx, `INSERT INTO fulfillment_lines (fulfillment_id, order_line_id, quantity) VALUES ($1, $2, 1)`, id, o.LineIDs[0])
	require.NoError(t, err)
	_, err = d.Pool.Exec(ctx, `UPDATE fulfillments SET status = 'DELIVERED' WHERE id = $1`, id)
	require.Error(t, err, "a delivered fulfilment has its delivery time")

	_, err = provider.DownTo(ctx, 19)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT to_regclass('fulfillments') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
	require.Equal(t, 1, tf.Count(t, d, "order_events", "order_id = $1", o.ID), "the order keeps its history")
	_, err = provider.Up(ctx)
	require.NoError(t, err)
}
