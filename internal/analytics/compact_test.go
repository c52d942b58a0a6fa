package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Compact folds an old bucket's delta rows into one row per key with their sums, leaves
// recent buckets and single rows alone, and does not wait for a payment still writing to the
// current quarter hour.
func TestCompactFoldsOldDeltas(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(15 * time.Minute)
	old, older := now.Add(-3*time.Hour), now.Add(-5*time.Hour)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := e.d.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	sale := `INSERT INTO analytics_sales (vendor_id, bucket, currency, gross, refunds, orders, units) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	exec(sale, 7, old, "USD", 1000, 0, 1, 2)
	exec(sale, 7, old, "USD", 500, 0, 1, 1)
	exec(sale, 7, old, "USD", 0, 300, 0, 0)
	exec(sale, 7, old, "EUR", 900, 0, 1, 1)
	exec(sale, 0, older, "USD", 100, 0, 1, 1)
	exec(sale, 0, older, "USD", 200, 0, 1, 1)
	exec(sale, 7, now, "USD", 10, 0, 1, 1)
	exec(sale, 7, now, "USD", 20, 0, 1, 1)
	product := `INSERT INTO analytics_product_sales (vendor_id, bucket, currency, product_id, product_name, revenue, units) VALUES ($1, $2, 'USD', $3, 'Mug', $4, $5)`
	exec(product, 7, old, 1, 1000, 2)
	exec(product, 7, old, 1, 500, 1)
	exec(product, 7, old, 2, 700, 1)

	// A payment in progress: its transaction holds a new row of the current quarter hour.
	paying, err := e.d.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = paying.Rollback(ctx) }()
	_, err = paying.Exec(ctx, sale, 7, now, "USD", 5, 0, 1, 1)
	require.NoError(t, err)

	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	written, err := e.svc.Compact(quick, now.Add(-48*time.Hour), now.Add(-time.Hour))
	require.NoError(t, err, "compaction never waits for a payment")
	t.Logf("compaction beside an open payment took %s", time.Since(start))
	require.Equal(t, int64(3), written, "(7, old, USD), (0, older, USD) and product 1's key")
	require.NoError(t, paying.Commit(ctx))

	type row struct{ Rows, Gross, Refunds, Orders, Units int64 }
	key := func(vendor int64, bucket time.Time, currency string) row {
		t.Helper()
		var r row
		require.NoError(t, e.d.Pool.QueryRow(ctx, `SELECT count(*), COALESCE(sum(gross), 0), COALESCE(sum(refunds), 0), COALESCE(sum(orders), 0), COALESCE(sum(units), 0)
			FROM analytics_sales WHERE vendor_id = $1 AND bucket = $2 AND currency = $3`, vendor, bucket, currency).Scan(&r.Rows, &r.Gross, &r.Refunds, &r.Orders, &r.Units))
		return r
	}
	require.Equal(t, row{1, 1500, 300, 2, 3}, key(7, old, "USD"))
	require.Equal(t, row{1, 900, 0, 1, 1}, key(7, old, "EUR"))
	require.Equal(t, row{1, 300, 0, 2, 2}, key(0, older, "USD"))
	require.Equal(t, row{3, 35, 0, 3, 3}, key(7, now, "USD"), "the current quarter hour is not folded")
	var products, revenue int64
	require.NoError(t, e.d.Pool.QueryRow(ctx, `SELECT count(*), sum(revenue) FROM analytics_product_sales WHERE product_id = 1`).Scan(&products, &revenue))
	require.Equal(t, []int64{1, 1500}, []int64{products, revenue})

	written, err = e.svc.Compact(ctx, now.Add(-48*time.Hour), now.Add(-time.Hour))
	require.NoError(t, err)
	require.Zero(t, written, "nothing left to fold")
}
