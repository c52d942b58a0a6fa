package vendor_test

import (
	"context"
	"fmt"
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

// vendorsMigration is 00018_vendors.sql's version.
const vendorsMigration = 18

// 00018 turns vendor accounts into vendors on a database with orders: every account that is a
// vendor (the VENDOR role) or that products or order lines name becomes a vendor with the
// same id, so products, order lines and the order event feed keep their values; VENDOR
// accounts become members; nothing is lost; foreign keys now point at vendors; its down goes
// back to accounts, and up again.
func TestVendorsMigration(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	sqlDB := stdlib.OpenDBFromPool(d.Pool)
	t.Cleanup(func() { _ = sqlDB.Close() })
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	require.NoError(t, err)
	_, err = provider.DownTo(ctx, vendorsMigration-1)
	require.NoError(t, err)

	one := func(sql string, args ...any) int64 {
		t.Helper()
		var id int64
		require.NoError(t, d.Pool.QueryRow(ctx, sql, args...).Scan(&id), sql)
		return id
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := d.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	// Some customers first, so that account ids and the vendors' sequence differ.
	for i := 0; i < 3; i++ {
		one(`INSERT INTO users (email, password_hash) VALUES ($1, 'x') RETURNING id`, fmt.Sprintf("early%d@example.com", i))
	}
	vendorAcct := one(`INSERT INTO users (email, password_hash, name, role) VALUES ('acme@example.com', 'x', 'Acme Outfitters!', 'VENDOR') RETURNING id`)
	unnamed := one(`INSERT INTO users (email, password_hash, role) VALUES ('solo.seller@example.com', 'x', 'VENDOR') RETURNING id`)
	// A seller demoted to CUSTOMER whose products stayed on sale.
	demoted := one(`INSERT INTO users (email, password_hash, name) VALUES ('former@example.com', 'x', 'Former Seller') RETURNING id`)
	admin := one(`INSERT INTO users (email, password_hash, role) VALUES ('admin@example.com', 'x', 'ADMIN') RETURNING id`)
	customer := one(`INSERT INTO users (email, password_hash) VALUES ('buyer@example.com', 'x') RETURNING id`)

	product := func(slug string, vendorID *int64) (productID, variantID int64) {
		productID = one(`INSERT INTO products (name, slug, currency, vendor_id) VALUES ($1, $1, 'USD', $2) RETURNING id`, slug, vendorID)
		variantID = one(`INSERT INTO product_variants (product_id, sku, price_amount, currency, stock) VALUES ($1, upper($2), 1000, 'USD', 5) RETURNING id`, productID, slug)
		return
	}
	acmeProduct, acmeVariant := product("acme-boots", &vendorAcct)
	oldProduct, oldVariant := product("old-lamp", &demoted)
	shopProduct, shopVariant := product("shop-mug", nil)

	orderID := one(`INSERT INTO orders (user_id, status, currency, total_amount, shipping_address) VALUES ($1, 'PAID', 'USD', 4000, '{}') RETURNING id`, customer)
	const orphan = int64(987654) // an order line's vendor with no account left (no foreign key until now)
	line := func(productID, variantID int64, vendorID *int64) {
		exec(`INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total)
		      VALUES ($1, $2, $3, $4, 'p', 'v', 'SKU', 1000, 'USD', 1, 1000)`, orderID, productID, variantID, vendorID)
	}
	line(acmeProduct, acmeVariant, &vendorAcct)
	line(oldProduct, oldVariant, &demoted)
	line(shopProduct, shopVariant, nil)
	line(shopProduct, shopVariant, ptr(orphan))
	exec(`INSERT INTO order_events (order_id, sequence, status, actor_id) VALUES ($1, 1, 'PENDING', $2), ($1, 2, 'PAID', NULL)`, orderID, customer)

	type snapshot struct {
		products, lines, events, orders int64
		feedVendors                     string
	}
	snap := func() snapshot {
		t.Helper()
		var s snapshot
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM products), (SELECT count(*) FROM order_lines), (SELECT count(*) FROM order_events), (SELECT count(*) FROM orders),
			(SELECT string_agg(DISTINCT vendor_id::text, ',' ORDER BY vendor_id::text) FROM order_lines WHERE order_id = $1)`, orderID).
			Scan(&s.products, &s.lines, &s.events, &s.orders, &s.feedVendors))
		return s
	}
	before := snap()

	_, err = provider.UpTo(ctx, vendorsMigration)
	require.NoError(t, err)
	require.Equal(t, before, snap(), "no product, line, event or order lost or changed vendor")

	type vendorRow struct {
		name, slug, status, email string
	}
	vendorOf := func(id int64) vendorRow {
		t.Helper()
		var v vendorRow
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT name, slug, status::text, contact_email FROM vendors WHERE id = $1`, id).
			Scan(&v.name, &v.slug, &v.status, &v.email), "vendor %d", id)
		return v
	}
	require.Equal(t, vendorRow{"Acme Outfitters!", fmt.Sprintf("acme-outfitters-%d", vendorAcct), "ACTIVE", "acme@example.com"}, vendorOf(vendorAcct))
	require.Equal(t, vendorRow{"solo.seller@example.com", fmt.Sprintf("solo-seller-%d", unnamed), "ACTIVE", "solo.seller@example.com"}, vendorOf(unnamed),
		"an account without a name is named by its email")
	require.Equal(t, vendorRow{"Former Seller", fmt.Sprintf("former-seller-%d", demoted), "ACTIVE", "former@example.com"}, vendorOf(demoted))
	require.Equal(t, vendorRow{fmt.Sprintf("Vendor %d", orphan), fmt.Sprintf("vendor-%d", orphan), "ACTIVE", ""}, vendorOf(orphan))
	require.Equal(t, int64(4), one(`SELECT count(*) FROM vendors`), "only vendors: no vendor for customers or admins")
	require.Equal(t, int64(4), one(`SELECT count(*) FROM vendor_events WHERE action = 'CREATED'`), "each has its history")

	// Every product and line points at a vendor with the same id.
	require.Zero(t, one(`SELECT count(*) FROM products p WHERE p.vendor_id IS NOT NULL AND NOT EXISTS (SELECT FROM vendors v WHERE v.id = p.vendor_id)`))
	require.Zero(t, one(`SELECT count(*) FROM order_lines l WHERE l.vendor_id IS NOT NULL AND NOT EXISTS (SELECT FROM vendors v WHERE v.id = l.vendor_id)`))
	require.Equal(t, vendorAcct, one(`SELECT vendor_id FROM products WHERE id = $1`, acmeProduct))
	require.Equal(t, demoted, one(`SELECT vendor_id FROM products WHERE id = $1`, oldProduct))
	require.Equal(t, int64(3), one(`SELECT count(*) FROM products WHERE vendor_active`), "every vendor is ACTIVE: every product stays visible")

	// Membership: VENDOR accounts act for their vendor; the demoted seller does not.
	memberOf := func(user int64) *int64 {
		t.Helper()
		var v *int64
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT vendor_id FROM users WHERE id = $1`, user).Scan(&v))
		return v
	}
	require.Equal(t, ptr(vendorAcct), memberOf(vendorAcct))
	require.Equal(t, ptr(unnamed), memberOf(unnamed))
	require.Nil(t, memberOf(demoted))
	require.Nil(t, memberOf(admin))
	require.Nil(t, memberOf(customer))

	// The foreign keys now reference vendors: an account id that is no vendor is refused.
	var pgErr *pgconn.PgError
	_, err = d.Pool.Exec(ctx, `UPDATE products SET vendor_id = $1 WHERE id = $2`, customer, shopProduct)
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "products_vendor_id_fkey", pgErr.ConstraintName)
	_, err = d.Pool.Exec(ctx, `UPDATE order_lines SET vendor_id = $1 WHERE order_id = $2`, customer, orderID)
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "order_lines_vendor_id_fkey", pgErr.ConstraintName)

	// The sequence is past every migrated id. A vendor made since, with the customer as its
	// member, and one without members, each sell a product.
	fresh := one(`INSERT INTO vendors (name, slug, contact_email) VALUES ('New', 'new', 'new@example.com') RETURNING id`)
	require.Greater(t, fresh, orphan)
	exec(`UPDATE users SET vendor_id = $1, role = 'VENDOR' WHERE id = $2`, fresh, customer)
	freshProduct, _ := product("fresh-cup", &fresh)
	lone := one(`INSERT INTO vendors (name, slug, contact_email) VALUES ('Lone', 'lone', '') RETURNING id`)
	loneProduct, _ := product("lone-cup", &lone)
	beforeDown := snap()

	// Down: products go back to the accounts, the vendors' tables go; and up again.
	_, err = provider.DownTo(ctx, vendorsMigration-1)
	require.NoError(t, err)
	require.Equal(t, beforeDown, snap())
	require.Equal(t, vendorAcct, one(`SELECT vendor_id FROM products WHERE id = $1`, acmeProduct))
	require.Equal(t, demoted, one(`SELECT vendor_id FROM products WHERE id = $1`, oldProduct))
	require.Equal(t, customer, one(`SELECT vendor_id FROM products WHERE id = $1`, freshProduct), "to the new vendor's member")
	var loneOwner *int64
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT vendor_id FROM products WHERE id = $1`, loneProduct).Scan(&loneOwner))
	require.Nil(t, loneOwner, "a vendor without members has no account to go back to: the platform's")
	var exists bool
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT to_regclass('vendors') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
	_, err = provider.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, beforeDown, snap())
}

// 00018's catalog_visible also asks for the vendor's state: a customer's call folds to the
// product's status and vendor_active (inlined, the sort index kept); admins and the vendor
// itself still see a suspended vendor's products.
func TestCatalogVisibleVendorActive(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	vendor := int64(7)
	for _, c := range []struct {
		status       string
		active       bool
		seeArchived  bool
		viewerVendor *int64
		want         bool
	}{
		{"ACTIVE", true, false, nil, true},
		{"ACTIVE", false, false, nil, false},
		{"ACTIVE", false, true, nil, true},
		{"ACTIVE", false, false, &vendor, true},
		{"ARCHIVED", true, false, nil, false},
		{"ARCHIVED", false, false, &vendor, true},
	} {
		var got *bool
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT catalog_visible($1::product_status, $2, $3, $4, $5)`,
			c.status, c.active, vendor, c.seeArchived, c.viewerVendor).Scan(&got))
		require.Equal(t, c.want, got != nil && *got, "%+v", c)
	}
	rows, err := d.Pool.Query(ctx, `EXPLAIN (COSTS OFF, FORMAT TEXT)
		SELECT id FROM products p WHERE catalog_visible(p.status, p.vendor_active, p.vendor_id, false, NULL::bigint)
		ORDER BY p.created_at DESC, p.id DESC LIMIT 20`)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	plan := strings.Join(lines, "\n")
	require.NotContains(t, plan, "catalog_visible", "the function is inlined")
	require.Contains(t, plan, "status = 'ACTIVE'")
	require.Contains(t, plan, "vendor_active")
}

func ptr[T any](v T) *T { return &v }
