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

	// The order is written by hand: the factories write today's columns, which a database at
	// 00019 does not have yet (order_lines.commission_bps came with 00021).
	u := tf.NewUser(t, d, tf.UserOpts{})
	var o struct {
		ID      int64
		LineIDs []int64
	}
	var productID, variantID, lineID int64
	require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO products (name, slug, currency) VALUES ('Boot', 'boot', 'USD') RETURNING id`).Scan(&productID))
	require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO product_variants (product_id, sku, price_amount, currency, stock)
		VALUES ($1, 'BOOT-1', 1000, 'USD', 5) RETURNING id`, productID).Scan(&variantID))
	require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
		VALUES ($1, 'PAID', 'USD', 1000, '{}') RETURNING id`, u.ID).Scan(&o.ID))
	require.NoError(t, d.Pool.QueryRow(ctx, `INSERT INTO order_lines (order_id, product_id, variant_id, product_name, variant_name, sku,
		unit_price, currency, quantity, line_total) VALUES ($1, $2, $3, 'Boot', 'Default', 'BOOT-1', 1000, 'USD', 1, 1000) RETURNING id`,
		o.ID, productID, variantID).Scan(&lineID))
	o.LineIDs = []int64{lineID}
	_, err = d.Pool.Exec(ctx, `INSERT INTO order_events (order_id, sequence, status, actor_id) VALUES ($1, 1, 'PAID', $2)`, o.ID, u.ID)
	require.NoError(t, err)
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
