package catalog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/catalog"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// products.in_stock (migration 00033) follows the product's live stocked variants, and a stock
// change that crosses no line leaves the product row alone (checkout's updates stay HOT).
func TestProductInStockFlag(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	// flag reads the product's in_stock, its stocked_variants, and the row's xmin (which
	// changes whenever the row is written).
	flag := func(t *testing.T, id int64) (inStock bool, stocked int, xmin string) {
		t.Helper()
		require.NoError(t, b.d.Pool.QueryRow(ctx, `SELECT in_stock, stocked_variants, xmin::text FROM products WHERE id = $1`, id).Scan(&inStock, &stocked, &xmin))
		return inStock, stocked, xmin
	}
	p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Stock: 2}, {NoStock: true}, {Stock: 4, Deleted: true}}})
	stocked, empty := p.Variants[0], p.Variants[1]

	in, n, before := flag(t, p.ID)
	require.True(t, in)
	require.Equal(t, 1, n, "the deleted variant does not count")

	_, err := b.svc.StockAdjust(ctx, b.vendor, stocked, -1)
	require.NoError(t, err)
	in, n, after := flag(t, p.ID)
	require.True(t, in)
	require.Equal(t, 1, n)
	require.Equal(t, before, after, "a sale that leaves stock writes nothing to the product")

	_, err = b.svc.StockAdjust(ctx, b.vendor, stocked, -1)
	require.NoError(t, err)
	in, n, _ = flag(t, p.ID)
	require.False(t, in, "the last unit sold")
	require.Zero(t, n)

	_, err = b.svc.StockAdjust(ctx, b.vendor, empty, 3)
	require.NoError(t, err)
	in, n, _ = flag(t, p.ID)
	require.True(t, in, "another variant restocked")
	require.Equal(t, 1, n)

	v, err := b.svc.VariantCreate(ctx, b.vendor, p.ID, catalog.VariantInput{SKU: fmt.Sprintf("IS-%d-%d", p.ID, n), Price: 500, Stock: 7})
	require.NoError(t, err)
	_, n, _ = flag(t, p.ID)
	require.Equal(t, 2, n, "a new stocked variant")

	_, err = b.svc.VariantDelete(ctx, b.vendor, empty)
	require.NoError(t, err)
	_, n, _ = flag(t, p.ID)
	require.Equal(t, 1, n, "a stocked variant deleted")
	_, err = b.svc.VariantDelete(ctx, b.vendor, v.ID)
	require.NoError(t, err)
	in, n, _ = flag(t, p.ID)
	require.False(t, in, "the only stocked variant left was deleted")
	require.Zero(t, n)

	_, err = b.d.Pool.Exec(ctx, `DELETE FROM product_variants WHERE product_id = $1`, p.ID)
	require.NoError(t, err)
	_, err = b.d.Pool.Exec(ctx, `INSERT INTO product_variants (product_id, sku, name, price_amount, currency, stock) VALUES ($1, $2, 'x', 100, 'USD', 1)`, p.ID, fmt.Sprintf("IS-%d-%d", p.ID, n))
	require.NoError(t, err)
	_, n, _ = flag(t, p.ID)
	require.Equal(t, 1, n, "hard deletes and inserts count too")

	t.Run("concurrent sell-outs of a product's last two stocked variants leave it out of stock", func(t *testing.T) {
		for range 5 {
			p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Stock: 1}, {Stock: 1}}})
			errs := make(chan error, 2)
			start := make(chan struct{})
			for _, id := range p.Variants {
				go func() {
					<-start
					_, err := b.svc.StockAdjust(ctx, b.vendor, id, -1)
					errs <- err
				}()
			}
			close(start)
			require.NoError(t, <-errs)
			require.NoError(t, <-errs)
			in, n, _ := flag(t, p.ID)
			require.False(t, in)
			require.Zero(t, n)
		}
	})
}
