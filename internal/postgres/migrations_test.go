package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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

// 00011 holds the bounds on money in the database: a row at a bound is stored, one beyond it
// is refused with the bound's constraint, and a database that already holds such a row
// refuses the migration until the row is corrected.
func TestMoneyBoundsMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	var userID, productID, variantID, orderID int64
	require.NoError(t, d.Pool.QueryRow(ctx, `
		WITH u AS (INSERT INTO users (email, password_hash) VALUES ('bounds@example.com', 'x') RETURNING id),
		     p AS (INSERT INTO products (name, slug, currency) VALUES ('Dear', 'dear', 'USD') RETURNING id),
		     v AS (INSERT INTO product_variants (product_id, sku, price_amount, currency)
		           SELECT id, 'DEAR', 10000000000, 'USD' FROM p RETURNING id, product_id),
		     o AS (INSERT INTO orders (user_id, currency, total_amount, shipping_address)
		           SELECT id, 'USD', 1000000000000000, '{}' FROM u RETURNING id)
		SELECT u.id, v.product_id, v.id, o.id FROM u, v, o`).Scan(&userID, &productID, &variantID, &orderID))

	insertLine := func(unitPrice, quantity, lineTotal int64) error {
		_, err := d.Pool.Exec(ctx, `INSERT INTO order_lines (order_id, product_id, variant_id, product_name, variant_name, sku,
			unit_price, currency, quantity, line_total) VALUES ($1, $2, $3, 'Dear', '', 'DEAR', $4, 'USD', $5, $6)`,
			orderID, productID, variantID, unitPrice, quantity, lineTotal)
		return err
	}
	insertPayment := func(amount int64) error {
		_, err := d.Pool.Exec(ctx, `INSERT INTO payments (order_id, provider, intent_id, amount, currency)
			VALUES ($1, 'stripe', 'pi_bounds', $2, 'USD')`, orderID, amount)
		return err
	}
	exec := func(sql string, args ...any) func() error {
		return func() error { _, err := d.Pool.Exec(ctx, sql, args...); return err }
	}
	require.NoError(t, insertLine(10_000_000_000, 1000, 10_000_000_000_000), "a line at every bound")
	require.NoError(t, insertPayment(1_000_000_000_000_000), "a payment at the bound")

	for constraint, write := range map[string]func() error{
		"product_variants_price_amount_max": exec(`UPDATE product_variants SET price_amount = 10000000001 WHERE id = $1`, variantID),
		"orders_total_amount_max":           exec(`UPDATE orders SET total_amount = 1000000000000001 WHERE id = $1`, orderID),
		"order_lines_unit_price_max":        func() error { return insertLine(10_000_000_001, 1, 10_000_000_000) },
		"order_lines_quantity_max":          func() error { return insertLine(1, 1001, 1001) },
		"order_lines_line_total_max":        func() error { return insertLine(1, 1, 10_000_000_000_001) },
		"payments_amount_max":               exec(`UPDATE payments SET amount = 1000000000000001 WHERE order_id = $1`, orderID),
	} {
		var pgErr *pgconn.PgError
		require.ErrorAs(t, write(), &pgErr, constraint)
		require.Equal(t, "23514", pgErr.Code, constraint)
		require.Equal(t, constraint, pgErr.ConstraintName)
	}

	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	var before int64 // the migration before 00011
	for _, s := range provider.ListSources() {
		if s.Version < 11 {
			before = max(before, s.Version)
		}
	}
	_, err = provider.DownTo(ctx, before)
	require.NoError(t, err)
	require.NoError(t, exec(`UPDATE product_variants SET price_amount = 10000000001 WHERE id = $1`, variantID)())
	_, err = provider.UpTo(ctx, 11)
	require.ErrorContains(t, err, "product_variants_price_amount_max", "a row beyond a bound stops the migration")
	require.NoError(t, exec(`UPDATE product_variants SET price_amount = 10000000000 WHERE id = $1`, variantID)())
	_, err = provider.Up(ctx)
	require.NoError(t, err)
}

// 00012's payment_refunded is the provider-refund rule: what the provider reported refunded,
// capped at what was received, as a floor under a refunded total; its down removes it.
func TestPaymentRefundedMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	for _, c := range []struct{ refunded, provider, received, want int64 }{
		{0, 0, 5000, 0},
		{1000, 0, 5000, 1000},    // ours alone
		{1000, 3000, 5000, 3000}, // the provider's report is the floor
		{3000, 1000, 5000, 3000}, // never lowered
		{0, 6000, 5000, 5000},    // capped at what was received
		{0, 1000, 0, 0},          // nothing received yet: the report waits
	} {
		var got int64
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT payment_refunded($1, $2, $3)`, c.refunded, c.provider, c.received).Scan(&got))
		require.Equal(t, c.want, got, "%+v", c)
	}

	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, 11)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT to_regproc('payment_refunded') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
	_, err = provider.Up(ctx)
	require.NoError(t, err)
}

// 00013's catalog_visible is who sees a product in the catalog's lists: ACTIVE for everyone,
// everything with see_archived, a vendor's own too. The planner must inline it, so that a list
// planned for a customer filters on status alone and keeps its sort index; its down removes it.
func TestCatalogVisibleMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	// 00018 redefines catalog_visible with the vendor's state (its own test is in
	// internal/vendor): this one holds 00013's, so it starts from before 00018.
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, 17)
	require.NoError(t, err)
	vendor := int64(7)
	for _, c := range []struct {
		status       string
		vendorID     *int64
		seeArchived  bool
		viewerVendor *int64
		want         bool
	}{
		{"ACTIVE", nil, false, nil, true},
		{"ARCHIVED", nil, false, nil, false},
		{"ARCHIVED", nil, true, nil, true},
		{"ARCHIVED", &vendor, false, &vendor, true},
		{"ARCHIVED", &vendor, false, nil, false},
		{"ARCHIVED", nil, false, &vendor, false},
		{"ACTIVE", &vendor, false, &vendor, true},
	} {
		var got *bool
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT catalog_visible($1::product_status, $2, $3, $4)`,
			c.status, c.vendorID, c.seeArchived, c.viewerVendor).Scan(&got))
		require.Equal(t, c.want, got != nil && *got, "%+v", c)
	}

	rows, err := d.Pool.Query(ctx, `EXPLAIN (COSTS OFF, FORMAT TEXT)
		SELECT id FROM products p WHERE catalog_visible(p.status, p.vendor_id, false, NULL::bigint)
		ORDER BY p.created_at DESC, p.id DESC LIMIT 20`)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	plan := strings.Join(lines, "\n")
	require.NotContains(t, plan, "catalog_visible", "the function is inlined")
	require.Contains(t, plan, "status = 'ACTIVE'", "a customer's call folds to the status")

	_, err = provider.DownTo(ctx, 12)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT to_regproc('catalog_visible') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
	_, err = provider.Up(ctx)
	require.NoError(t, err)
}
