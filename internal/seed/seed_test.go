package seed_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
	"github.com/shopgraph/shopgraph/internal/seed"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// The demo vendors are vendors, each with its demo account as a VENDOR member, and the demo
// products are theirs (or the platform's); seeding again reuses them.
func TestCatalogSeedsVendorsWithMembers(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 3})
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	accounts := account.NewService(d, auth.NewTokens("test-secret-test-secret-test-secret", time.Now), ratelimit.NewMemory(time.Now),
		account.LoginLimits{PerEmailIP: 10, PerIP: 10, PerEmail: 10, Window: time.Minute}, log)
	cat := catalog.NewService(d, cache.New(cache.NewMemory(100)), log)
	vendors := vendor.NewService(d, cat, log)

	for range 2 {
		require.NoError(t, seed.Catalog(ctx, accounts, vendors, cat, 8))
	}
	var n, members, foreign int
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM vendors WHERE status = 'ACTIVE'),
		(SELECT count(*) FROM users u JOIN vendors v ON v.id = u.vendor_id WHERE u.role = 'VENDOR' AND u.email = ANY($1)),
		(SELECT count(*) FROM products p WHERE p.vendor_id IS NOT NULL AND NOT EXISTS (SELECT FROM vendors v WHERE v.id = p.vendor_id))`,
		seed.VendorEmails()).Scan(&n, &members, &foreign))
	require.Equal(t, len(seed.VendorEmails()), n, "one vendor each, reused the second time")
	require.Equal(t, len(seed.VendorEmails()), members)
	require.Zero(t, foreign)
	var vendorProducts int
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM products WHERE vendor_id IS NOT NULL AND vendor_active`).Scan(&vendorProducts))
	require.Positive(t, vendorProducts)
}
