package analytics_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db/migrations"
	"github.com/shopgraph/shopgraph/internal/analytics"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// analyticsMigration is 00022_analytics.sql's version.
const analyticsMigration = 22

// 00022 on a database with orders: paid orders' sales enter the rollups at their PAID event,
// refunds confirmed before it (SUCCEEDED refund rows) at their settlement, unpaid orders not
// at all; its down drops it all, and up again builds the same.
func TestAnalyticsMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, analyticsMigration-1)
	require.NoError(t, err)

	one := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		require.NoError(t, d.Pool.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	customer := one(`INSERT INTO users (email, password_hash) VALUES ('buyer@example.com', 'x') RETURNING id`)
	vendor := one(`INSERT INTO vendors (name, slug, status) VALUES ('Acme', 'acme', 'ACTIVE') RETURNING id`)
	order := func(status string, paidAt string, lines ...int64) int64 {
		id := one(`INSERT INTO orders (user_id, status, currency, total_amount, shipping_address) VALUES ($1, $2, 'USD', 0, '{}') RETURNING id`, customer, status)
		for _, amount := range lines {
			one(`INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total)
			     VALUES ($1, 7, 7, $2, 'Boots', 'v', 'SKU', $3, 'USD', 1, $3) RETURNING id`, id, vendor, amount)
		}
		one(`INSERT INTO order_events (order_id, sequence, status, created_at) VALUES ($1, 1, 'PENDING', '2026-01-01T00:00:00Z') RETURNING order_id`, id)
		if paidAt != "" {
			one(`INSERT INTO order_events (order_id, sequence, status, created_at) VALUES ($1, 2, 'PAID', $2) RETURNING order_id`, id, ts(paidAt))
		}
		return id
	}
	paid := order("PARTIALLY_REFUNDED", "2026-01-02T10:00:00Z", 3000, 1000)
	order("PENDING", "", 5000)
	pay := one(`INSERT INTO payments (order_id, provider, intent_id, status, amount, currency, amount_received, amount_refunded)
	            VALUES ($1, 'stripe', 'pi_1', 'SUCCEEDED', 4000, 'USD', 4000, 1500) RETURNING id`, paid)
	one(`INSERT INTO refunds (payment_id, amount, idempotency_key, status, updated_at) VALUES ($1, 1000, 'k1', 'SUCCEEDED', '2026-01-03T10:00:00Z') RETURNING id`, pay)
	one(`INSERT INTO refunds (payment_id, amount, idempotency_key, status, updated_at) VALUES ($1, 400, 'k2', 'SUCCEEDED', '2026-01-04T10:00:00Z') RETURNING id`, pay)
	one(`INSERT INTO refunds (payment_id, amount, idempotency_key, status, updated_at) VALUES ($1, 100, 'k3', 'PENDING', '2026-01-04T10:00:00Z') RETURNING id`, pay)

	check := func() {
		t.Helper()
		svc := analytics.NewService(d, nil)
		admin := auth.Viewer{UserID: customer, Role: auth.RoleAdmin}
		in := analytics.Input{VendorID: &vendor, From: "2026-01-01", To: "2026-01-04", Interval: analytics.Day, TimeZone: "UTC"}
		r, err := svc.Report(ctx, &admin, in)
		require.NoError(t, err)
		require.Equal(t, analytics.FromRollups, r.Source)
		require.Equal(t, []fig{{}, {Gross: 4000, Orders: 1, Units: 2}, {Refunds: 1000}, {Refunds: 400}}, series(currency(t, r, "USD")))
		plain, err := svc.ReportFromLines(ctx, &admin, in)
		require.NoError(t, err)
		plain.Source = r.Source
		require.Equal(t, plain, r)
	}
	_, err = provider.UpTo(ctx, analyticsMigration)
	require.NoError(t, err)
	check()
	_, err = provider.DownTo(ctx, analyticsMigration-1)
	require.NoError(t, err)
	_, err = provider.UpTo(ctx, analyticsMigration)
	require.NoError(t, err)
	check()
}
