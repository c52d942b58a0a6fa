package checkout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/postgres"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type sale struct {
	Kind            string
	Delta, Quantity int
	ActorID         int64
	OrderID         int64
}

func salesOf(t *testing.T, d *postgres.DB, variantID int64) []sale {
	t.Helper()
	rows, err := d.Pool.Query(context.Background(),
		`SELECT kind::text, delta, quantity, actor_id, order_id FROM stock_movements WHERE variant_id = $1 ORDER BY id`, variantID)
	require.NoError(t, err)
	defer rows.Close()
	var out []sale
	for rows.Next() {
		var s sale
		require.NoError(t, rows.Scan(&s.Kind, &s.Delta, &s.Quantity, &s.ActorID, &s.OrderID))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

type crossings struct {
	mu  sync.Mutex
	got []catalog.LowStockCrossing
}

func (c *crossings) LowStock(_ context.Context, tx pgx.Tx, cs []catalog.LowStockCrossing) error {
	if tx == nil {
		return fmt.Errorf("no transaction")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, cs...)
	return nil
}

func (c *crossings) take() []catalog.LowStockCrossing {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.got
	c.got = nil
	return out
}

// A checkout writes one SALE movement per line in its order's statement: the customer, the
// order, the units taken and the stock left; a low-stock crossing is told once.
func TestCompleteWritesSaleMovements(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	low := &crossings{}
	b.svc.LowStock = low
	vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	mug := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &vendor.VendorID, Variants: []tf.VariantOpts{{Stock: 8}}})
	tee := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 20}}})

	v := customer(t, b.d)
	tf.CartLine(t, b.d, v.UserID, mug.Variant(), 3)
	tf.CartLine(t, b.d, v.UserID, tee.Variant(), 2)
	res, err := b.svc.Complete(ctx, v, input("k1"))
	require.NoError(t, err)
	require.Equal(t, []sale{{Kind: "SALE", Delta: -3, Quantity: 5, ActorID: v.UserID, OrderID: res.Order.ID}}, salesOf(t, b.d, mug.Variant()))
	require.Equal(t, []sale{{Kind: "SALE", Delta: -2, Quantity: 18, ActorID: v.UserID, OrderID: res.Order.ID}}, salesOf(t, b.d, tee.Variant()))
	require.Equal(t, []catalog.LowStockCrossing{{VariantID: mug.Variant(), VendorID: &vendor.VendorID, Quantity: 5, Threshold: 5}}, low.take())

	// Selling under the threshold again is no crossing.
	w := customer(t, b.d)
	tf.CartLine(t, b.d, w.UserID, mug.Variant(), 1)
	_, err = b.svc.Complete(ctx, w, input("k2"))
	require.NoError(t, err)
	require.Empty(t, low.take())
	require.Len(t, salesOf(t, b.d, mug.Variant()), 2)

	// A replay writes nothing.
	_, err = b.svc.Complete(ctx, v, input("k1"))
	require.NoError(t, err)
	require.Len(t, salesOf(t, b.d, tee.Variant()), 1)
}

// A checkout refused for lack of stock rolls back its sale movements with the order: the
// line that could be taken leaves no movement.
func TestCompleteRolledBackLeavesNoMovement(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	v := customer(t, b.d)
	plenty := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 10}}})
	scarce := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 1}}})
	tf.CartLine(t, b.d, v.UserID, plenty.Variant(), 1)
	tf.CartLine(t, b.d, v.UserID, scarce.Variant(), 1)
	// Someone else takes the last unit after it went into the cart.
	_, err := b.d.Pool.Exec(ctx, `UPDATE product_variants SET stock = 0 WHERE id = $1`, scarce.Variant())
	require.NoError(t, err)
	_, err = b.svc.Complete(ctx, v, input("k"))
	require.True(t, apperr.Is(err, apperr.OutOfStock), "%v", err)
	require.Zero(t, tf.Count(t, b.d, "stock_movements", "variant_id IN ($1, $2)", plenty.Variant(), scarce.Variant()))
	require.Equal(t, 10, tf.Stock(t, b.d, plenty.Variant()))
}

// Concurrent checkouts of one variant leave movements that add up to the stock taken, each
// with the stock its sale left, all different.
func TestConcurrentSalesMovementsAddUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const stock, buyers = 5, 8
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: stock}}})
	viewers := make([]auth.Viewer, buyers)
	for i := range viewers {
		viewers[i] = customer(t, b.d)
		tf.CartLine(t, b.d, viewers[i].UserID, p.Variant(), 1)
	}
	var wg sync.WaitGroup
	errs := make([]error, buyers)
	for i := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res checkout.Result
			res, errs[i] = b.svc.Complete(ctx, viewers[i], input("race"))
			_ = res
		}()
	}
	wg.Wait()
	placed := 0
	for _, err := range errs {
		if err == nil {
			placed++
		} else {
			require.True(t, apperr.Is(err, apperr.OutOfStock), "%v", err)
		}
	}
	moves := salesOf(t, b.d, p.Variant())
	require.Len(t, moves, placed)
	sum := 0
	left := map[int]bool{}
	for _, m := range moves {
		sum += m.Delta
		left[m.Quantity] = true
	}
	require.Equal(t, tf.Stock(t, b.d, p.Variant())-stock, sum)
	require.Len(t, left, placed, "each sale saw the stock the previous left")
	require.True(t, left[0])
}
