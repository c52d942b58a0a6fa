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

// earningsBackfillMigration is 00029_vendor_earnings_backfill.sql's version.
const earningsBackfillMigration = 29

// 00029 on a database with orders paid before the ledger: each paid order's vendor lines get
// their EARNING (the line's rate, else the vendor's current one; commission rounded half up),
// a partly refunded one its REVERSALs by the one refund rule; unpaid, cancelled and already
// recorded orders get nothing, and running it again (down, up) writes nothing more.
func TestVendorEarningsBackfillMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, earningsBackfillMigration-1)
	require.NoError(t, err)

	one := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		require.NoError(t, d.Pool.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	customer := one(`INSERT INTO users (email, password_hash) VALUES ('buyer@example.com', 'x') RETURNING id`)
	acme := one(`INSERT INTO vendors (name, slug, status, commission_bps) VALUES ('Acme', 'acme', 'ACTIVE', 1750) RETURNING id`)
	bolt := one(`INSERT INTO vendors (name, slug, status, commission_bps) VALUES ('Bolt', 'bolt', 'ACTIVE', 1000) RETURNING id`)
	n := 0
	line := func(orderID int64, vendor *int64, total int64, bps *int32) int64 {
		n++
		sku := "sku-" + string(rune('a'+n))
		productID := one(`INSERT INTO products (name, slug, currency, vendor_id) VALUES ($1, $1, 'USD', $2) RETURNING id`, sku, vendor)
		variantID := one(`INSERT INTO product_variants (product_id, sku, name, price_amount, currency, stock) VALUES ($1, $2, 'Default', $3, 'USD', 5) RETURNING id`, productID, sku, total)
		return one(`INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total, commission_bps)
			VALUES ($1, $2, $3, $4, $5, 'Default', $5, $6, 'USD', 1, $6, $7) RETURNING id`, orderID, productID, variantID, vendor, sku, total, bps)
	}
	newOrder := func(status string, total int64) int64 {
		return one(`INSERT INTO orders (user_id, status, currency, total_amount, shipping_address) VALUES ($1, $2, 'USD', $3, '{}') RETURNING id`, customer, status, total)
	}
	tenPercent := int32(1000)

	paid := newOrder("SHIPPED", 3000)
	acmeLine := line(paid, &acme, 1999, nil)         // no rate kept: Acme's current 17.5%: 349.825 → 350
	boltLine := line(paid, &bolt, 1001, &tenPercent) // its own 10%: 100.1 → 100
	refunded := newOrder("PARTIALLY_REFUNDED", 3000)
	for _, v := range []*int64{&acme, &bolt, nil} {
		line(refunded, v, 1000, &tenPercent)
	}
	one(`INSERT INTO payments (order_id, provider, intent_id, status, amount, currency, amount_received, provider_refunded)
		VALUES ($1, 'stripe', 'pi_1', 'SUCCEEDED', 3000, 'USD', 3000, 1001) RETURNING id`, refunded)
	pending := newOrder("PENDING", 1000)
	line(pending, &acme, 1000, nil)
	cancelled := newOrder("CANCELLED", 1000)
	line(cancelled, &acme, 1000, nil)
	recorded := newOrder("PAID", 1000)
	recordedLine := line(recorded, &acme, 1000, &tenPercent)
	one(`INSERT INTO vendor_ledger_entries (vendor_id, order_id, order_line_id, kind, currency, gross_amount, commission_amount, net_amount, commission_bps)
		VALUES ($1, $2, $3, 'EARNING', 'USD', 1000, 100, 900, 1000) RETURNING id`, acme, recorded, recordedLine)

	type entry struct {
		Vendor                 int64
		Kind                   string
		Gross, Commission, Net int64
	}
	entries := func(orderID int64) []entry {
		t.Helper()
		rows, err := d.Pool.Query(ctx, `SELECT vendor_id, kind::text, gross_amount, commission_amount, net_amount
			FROM vendor_ledger_entries WHERE order_id = $1 ORDER BY kind, vendor_id, id`, orderID)
		require.NoError(t, err)
		defer rows.Close()
		out := []entry{}
		for rows.Next() {
			var e entry
			require.NoError(t, rows.Scan(&e.Vendor, &e.Kind, &e.Gross, &e.Commission, &e.Net))
			out = append(out, e)
		}
		require.NoError(t, rows.Err())
		return out
	}
	check := func() {
		t.Helper()
		require.Equal(t, []entry{
			{acme, "EARNING", 1999, 350, 1649},
			{bolt, "EARNING", 1001, 100, 901},
		}, entries(paid))
		// 1001 of 3000 refunded: each vendor's third, rounded down (333), its commission back
		// half up (100 × 333/1000 = 33.3 → 33).
		require.Equal(t, []entry{
			{acme, "EARNING", 1000, 100, 900},
			{bolt, "EARNING", 1000, 100, 900},
			{acme, "REVERSAL", 333, 33, 300},
			{bolt, "REVERSAL", 333, 33, 300},
		}, entries(refunded))
		require.Empty(t, entries(pending))
		require.Empty(t, entries(cancelled))
		require.Len(t, entries(recorded), 1, "an order with entries is left alone")
	}
	_, err = provider.UpTo(ctx, earningsBackfillMigration)
	require.NoError(t, err)
	check()
	for vendorID, lineID := range map[int64]int64{acme: acmeLine, bolt: boltLine} {
		var lineOf int64
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT order_line_id FROM vendor_ledger_entries WHERE order_id = $1 AND vendor_id = $2`, paid, vendorID).Scan(&lineOf))
		require.Equal(t, lineID, lineOf)
	}

	_, err = provider.DownTo(ctx, earningsBackfillMigration-1)
	require.NoError(t, err)
	_, err = provider.UpTo(ctx, earningsBackfillMigration)
	require.NoError(t, err)
	check()
}
