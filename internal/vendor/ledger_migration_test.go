package vendor_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db/migrations"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// ledgerMigration is 00021_vendor_ledger.sql's version.
const ledgerMigration = 21

// 00021 on a database with orders: lines of a vendor take its current commission rate, platform
// lines none; its down drops the ledger and the column, and up again works.
func TestVendorLedgerMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, ledgerMigration-1)
	require.NoError(t, err)

	one := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		require.NoError(t, d.Pool.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	customer := one(`INSERT INTO users (email, password_hash) VALUES ('buyer@example.com', 'x') RETURNING id`)
	vendorID := one(`INSERT INTO vendors (name, slug, status, commission_bps) VALUES ('Acme', 'acme', 'ACTIVE', 1750) RETURNING id`)
	line := func(orderID int64, vendor *int64, sku string) int64 {
		productID := one(`INSERT INTO products (name, slug, currency, vendor_id) VALUES ($1, $1, 'USD', $2) RETURNING id`, sku, vendor)
		variantID := one(`INSERT INTO product_variants (product_id, sku, name, price_amount, currency, stock) VALUES ($1, $2, 'Default', 1000, 'USD', 5) RETURNING id`, productID, sku)
		return one(`INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total)
			VALUES ($1, $2, $3, $4, $5, 'Default', $5, 1000, 'USD', 1, 1000) RETURNING id`, orderID, productID, variantID, vendor, sku)
	}
	orderID := one(`INSERT INTO orders (user_id, status, currency, total_amount, shipping_address) VALUES ($1, 'PAID', 'USD', 2000, '{}') RETURNING id`, customer)
	vendorLine := line(orderID, &vendorID, "v-1")
	platformLine := line(orderID, nil, "p-1")

	_, err = provider.UpTo(ctx, ledgerMigration)
	require.NoError(t, err)
	bps := func(lineID int64) *int32 {
		var b *int32
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT commission_bps FROM order_lines WHERE id = $1`, lineID).Scan(&b))
		return b
	}
	require.Equal(t, int32(1750), *bps(vendorLine))
	require.Nil(t, bps(platformLine))

	_, err = provider.DownTo(ctx, ledgerMigration-1)
	require.NoError(t, err)
	_, err = provider.UpTo(ctx, ledgerMigration)
	require.NoError(t, err)
	require.Equal(t, int32(1750), *bps(vendorLine))
}
