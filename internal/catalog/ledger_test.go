package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// lowStockRecorder records the crossings it is told of, checking each comes with the change's
// transaction, in which the change's movement is already written.
type lowStockRecorder struct {
	mu        sync.Mutex
	crossings []catalog.LowStockCrossing
	fail      bool
}

func (h *lowStockRecorder) LowStock(ctx context.Context, tx pgx.Tx, crossings []catalog.LowStockCrossing) error {
	if tx == nil {
		return fmt.Errorf("no transaction")
	}
	for _, c := range crossings {
		var q int
		if err := tx.QueryRow(ctx, `SELECT quantity FROM stock_movements WHERE variant_id = $1 ORDER BY id DESC LIMIT 1`, c.VariantID).Scan(&q); err != nil {
			return fmt.Errorf("the movement is not in the hook's transaction: %w", err)
		}
		if q != c.Quantity {
			return fmt.Errorf("movement quantity %d, crossing %d", q, c.Quantity)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.crossings = append(h.crossings, crossings...)
	if h.fail {
		return errors.New("hook failed")
	}
	return nil
}

func (h *lowStockRecorder) take() []catalog.LowStockCrossing {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.crossings
	h.crossings = nil
	return out
}

// Every adjustment writes a MANUAL_ADJUSTMENT movement with its actor, delta, stock left and
// reason; a zero or refused adjustment writes none. The ledger reads newest first, a page at
// a time, for the owning vendor and admins only.
func TestStockMovementsOfAdjustments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Stock: 10}}})
	id := p.Variant()

	_, err := b.svc.StockAdjustNoted(ctx, b.vendor, id, 5, "  delivery  ")
	require.NoError(t, err)
	_, err = b.svc.StockAdjust(ctx, b.admin, id, -3)
	require.NoError(t, err)
	_, err = b.svc.StockAdjust(ctx, b.vendor, id, 0)
	require.NoError(t, err)
	_, err = b.svc.StockAdjust(ctx, b.vendor, id, -100)
	require.Equal(t, []apperr.Code{apperr.InsufficientStock}, tf.Codes(err))
	_, err = b.svc.StockAdjustNoted(ctx, b.vendor, id, 1, string(make([]rune, catalog.MaxMovementNote+1)))
	require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))

	variants, err := b.svc.VariantsByIDs(ctx, []int64{id})
	require.NoError(t, err)
	variant := variants[id]
	page, err := b.svc.StockMovements(ctx, &b.vendor, variant, 10, "")
	require.NoError(t, err)
	require.Len(t, page.Movements, 2, "no movement for a zero or refused adjustment")
	got := page.Movements
	require.Equal(t, catalog.MovementManual, got[0].Kind)
	require.Equal(t, -3, got[0].Delta)
	require.Equal(t, 12, got[0].Quantity)
	require.Equal(t, b.admin.UserID, *got[0].ActorID)
	require.Equal(t, 5, got[1].Delta)
	require.Equal(t, 15, got[1].Quantity)
	require.Equal(t, b.vendor.UserID, *got[1].ActorID)
	require.Equal(t, "delivery", got[1].Note)
	require.Nil(t, got[1].OrderID)

	first, err := b.svc.StockMovements(ctx, &b.admin, variant, 1, "")
	require.NoError(t, err)
	require.True(t, first.HasNextPage)
	require.Equal(t, got[0].ID, first.Movements[0].ID)
	second, err := b.svc.StockMovements(ctx, &b.admin, variant, 1, first.Cursors[0])
	require.NoError(t, err)
	require.False(t, second.HasNextPage)
	require.Equal(t, got[1].ID, second.Movements[0].ID)
	n, err := b.svc.CountStockMovements(ctx, &b.admin, variant)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	for name, v := range map[string]*auth.Viewer{"another vendor": &b.rival, "a customer": &b.customer, "anonymous": nil} {
		_, err := b.svc.StockMovements(ctx, v, variant, 10, "")
		require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), name)
		_, err = b.svc.CountStockMovements(ctx, v, variant)
		require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), name)
	}
	_, err = b.svc.StockMovements(ctx, &b.admin, variant, 101, "")
	require.Equal(t, []apperr.Code{apperr.BadUserInput}, tf.Codes(err))
	_, err = b.svc.StockMovements(ctx, &b.admin, variant, 10, "nope")
	require.Equal(t, []apperr.Code{apperr.BadUserInput}, tf.Codes(err))
}

func TestCrossed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		before, after, threshold int
		want                     bool
	}{
		{10, 5, 5, true}, {6, 0, 5, true}, {10, 6, 5, false}, {5, 4, 5, false}, {4, 0, 5, false},
		{0, 10, 5, false}, {6, 5, 5, true}, {1, 0, 0, true}, {0, 0, 0, false},
	} {
		require.Equal(t, tc.want, catalog.Crossed(tc.before, tc.after, tc.threshold), "%+v", tc)
	}
}

// A change taking a variant from above its threshold to at or under it is one crossing, told
// once in the change's transaction; staying under is none; going back above and under again
// is a second. A failing hook rolls the change and its movement back.
func TestLowStockCrossingOnAdjustments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	hook := &lowStockRecorder{}
	b.svc.LowStock = hook
	p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Stock: 10}}})
	id := p.Variant()
	threshold := 5
	want := func(delta int, crossing bool, quantity int) {
		t.Helper()
		_, err := b.svc.StockAdjust(ctx, b.vendor, id, delta)
		require.NoError(t, err)
		got := hook.take()
		if !crossing {
			require.Empty(t, got, "delta %d", delta)
			return
		}
		require.Equal(t, []catalog.LowStockCrossing{{VariantID: id, VendorID: &b.vendor.VendorID, Quantity: quantity, Threshold: threshold}}, got)
	}
	want(-4, false, 6) // 6: above the platform's 5
	want(-1, true, 5)  // 5: at it
	want(-2, false, 3) // still under
	want(7, false, 10) // back above
	want(-8, true, 2)  // under again: a second crossing

	// The vendor's default moves the line.
	_, err := b.svc.SetVendorLowStockThreshold(ctx, b.vendor, b.vendor.VendorID, ptr(20))
	require.NoError(t, err)
	threshold = 20
	want(10, false, 12)
	want(10, false, 22)
	want(-2, true, 20)

	hook.fail = true
	movements := tf.Count(t, b.d, "stock_movements", "variant_id = $1", id)
	_, err = b.svc.StockAdjust(ctx, b.vendor, id, 50)
	require.NoError(t, err, "no crossing upwards, the hook is not called")
	_, err = b.svc.StockAdjust(ctx, b.vendor, id, -60)
	require.Error(t, err)
	require.Equal(t, 70, tf.Stock(t, b.d, id), "the failed hook rolled the adjustment back")
	require.Equal(t, movements+1, tf.Count(t, b.d, "stock_movements", "variant_id = $1", id), "and its movement")
}

// lowStockVariants lists variants at or under their own threshold, else their vendor's default,
// else 5: a vendor its own only, an admin any vendor's or all; customers nothing.
func TestLowStockVariants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	mine := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID,
		Variants: []tf.VariantOpts{{Stock: 5}, {Stock: 6}, {Stock: 15}, {Stock: 30}, {Stock: 1, Deleted: true}}})
	theirs := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.rival.VendorID, Variants: []tf.VariantOpts{{Stock: 2}, {Stock: 8}}})
	ids := func(page catalog.LowStockPage) map[int64]int {
		out := map[int64]int{}
		for _, v := range page.Variants {
			out[v.Variant.ID] = v.Threshold
		}
		return out
	}

	page, err := b.svc.LowStockVariants(ctx, b.vendor, nil, 100, "")
	require.NoError(t, err)
	require.Equal(t, map[int64]int{mine.Variants[0]: 5}, ids(page), "the platform's 5; deleted variants left out")

	_, err = b.svc.SetVendorLowStockThreshold(ctx, b.vendor, b.vendor.VendorID, ptr(15))
	require.NoError(t, err)
	threshold, err := b.svc.VendorLowStockThreshold(ctx, b.vendor, b.vendor.VendorID)
	require.NoError(t, err)
	require.Equal(t, 15, *threshold)
	v, eff, err := b.svc.SetVariantLowStockThreshold(ctx, b.vendor, mine.Variants[3], ptr(30))
	require.NoError(t, err)
	require.Equal(t, mine.Variants[3], v.ID)
	require.Equal(t, 30, eff)
	page, err = b.svc.LowStockVariants(ctx, b.vendor, &b.vendor.VendorID, 100, "")
	require.NoError(t, err)
	require.Equal(t, map[int64]int{mine.Variants[0]: 15, mine.Variants[1]: 15, mine.Variants[2]: 15, mine.Variants[3]: 30}, ids(page))
	n, err := b.svc.CountLowStockVariants(ctx, b.vendor, nil)
	require.NoError(t, err)
	require.Equal(t, 4, n)

	// A variant's own threshold under the vendor's takes it off the list; clearing it falls back.
	_, eff, err = b.svc.SetVariantLowStockThreshold(ctx, b.admin, mine.Variants[2], ptr(0))
	require.NoError(t, err)
	require.Zero(t, eff)
	page, err = b.svc.LowStockVariants(ctx, b.vendor, nil, 2, "")
	require.NoError(t, err)
	require.True(t, page.HasNextPage)
	require.Equal(t, map[int64]int{mine.Variants[0]: 15, mine.Variants[1]: 15}, ids(page))
	page, err = b.svc.LowStockVariants(ctx, b.vendor, nil, 2, page.Cursors[1])
	require.NoError(t, err)
	require.False(t, page.HasNextPage)
	require.Equal(t, map[int64]int{mine.Variants[3]: 30}, ids(page))
	_, eff, err = b.svc.SetVariantLowStockThreshold(ctx, b.vendor, mine.Variants[2], nil)
	require.NoError(t, err)
	require.Equal(t, 15, eff)

	all, err := b.svc.LowStockVariants(ctx, b.admin, nil, 100, "")
	require.NoError(t, err)
	got := ids(all)
	require.Contains(t, got, mine.Variants[0])
	require.Contains(t, got, theirs.Variants[0])
	require.NotContains(t, got, theirs.Variants[1])
	theirsOnly, err := b.svc.LowStockVariants(ctx, b.admin, &b.rival.VendorID, 100, "")
	require.NoError(t, err)
	require.Equal(t, map[int64]int{theirs.Variants[0]: 5}, ids(theirsOnly))

	_, err = b.svc.LowStockVariants(ctx, b.vendor, &b.rival.VendorID, 100, "")
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), "another vendor's")
	_, err = b.svc.LowStockVariants(ctx, b.customer, nil, 100, "")
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), "a customer")

	// Who may set thresholds, and their bounds; a refusal changes nothing.
	_, _, err = b.svc.SetVariantLowStockThreshold(ctx, b.rival, mine.Variants[0], ptr(1))
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), "another vendor's variant customers see")
	_, _, err = b.svc.SetVariantLowStockThreshold(ctx, b.vendor, mine.Variants[0], ptr(-1))
	require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))
	_, err = b.svc.SetVendorLowStockThreshold(ctx, b.rival, b.vendor.VendorID, ptr(1))
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err))
	_, err = b.svc.VendorLowStockThreshold(ctx, b.customer, b.vendor.VendorID)
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err))
	require.Equal(t, 0, tf.Count(t, b.d, "product_variants", "id = $1 AND low_stock_threshold IS NOT NULL", mine.Variants[0]))
}
