package inventory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/inventory"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// movement is a stock_movements row as the tests compare it.
type movement struct {
	Kind            string
	Delta, Quantity int
	ActorID         *int64
	OrderID         *int64
	Note            string
}

func movementsOf(t *testing.T, b importBundle, variantID int64) []movement {
	t.Helper()
	rows, err := b.d.Pool.Query(context.Background(),
		`SELECT kind::text, delta, quantity, actor_id, order_id, note FROM stock_movements WHERE variant_id = $1 ORDER BY id`, variantID)
	require.NoError(t, err)
	defer rows.Close()
	var out []movement
	for rows.Next() {
		var m movement
		require.NoError(t, rows.Scan(&m.Kind, &m.Delta, &m.Quantity, &m.ActorID, &m.OrderID, &m.Note))
		out = append(out, m)
	}
	require.NoError(t, rows.Err())
	return out
}

type crossingRecorder struct {
	mu        sync.Mutex
	crossings []catalog.LowStockCrossing
}

func (h *crossingRecorder) LowStock(_ context.Context, tx pgx.Tx, c []catalog.LowStockCrossing) error {
	if tx == nil {
		return fmt.Errorf("no transaction")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.crossings = append(h.crossings, c...)
	return nil
}

// A bulk set sets every row's stock in one transaction, writes a BULK_SET movement for each
// stock that changed (none for an unchanged one), tells the webhook hook and the low-stock
// hook in the transaction, and refreshes the cached stock after the commit.
func TestBulkSet(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	hook, low := &hookRecorder{}, &crossingRecorder{}
	b.svc.Hook, b.svc.LowStock = hook, low
	u := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vendor := u.Viewer()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &u.VendorID, Variants: []tf.VariantOpts{{Stock: 10}, {Stock: 10}, {Stock: 3}}})
	cached, err := b.catalog.VariantsByProductIDs(ctx, []int64{p.ID})
	require.NoError(t, err)
	require.EqualValues(t, 10, cached[p.ID][0].Stock)

	set, err := b.svc.BulkSet(ctx, vendor, []inventory.BulkSetRow{
		{SKU: skuOf(t, b.d, p.Variants[1]), Quantity: 4, Reason: "cycle count"},
		{SKU: " " + skuOf(t, b.d, p.Variants[0]) + " ", Quantity: 25},
		{SKU: skuOf(t, b.d, p.Variants[2]), Quantity: 3},
	})
	require.NoError(t, err)
	require.Equal(t, []inventory.BulkSetResult{
		{VariantID: p.Variants[1], ProductID: p.ID, Previous: 10, Quantity: 4},
		{VariantID: p.Variants[0], ProductID: p.ID, Previous: 10, Quantity: 25},
		{VariantID: p.Variants[2], ProductID: p.ID, Previous: 3, Quantity: 3},
	}, set)
	require.Equal(t, 25, tf.Stock(t, b.d, p.Variants[0]))
	require.Equal(t, 4, tf.Stock(t, b.d, p.Variants[1]))
	actor := vendor.UserID
	require.Equal(t, []movement{{Kind: "BULK_SET", Delta: 15, Quantity: 25, ActorID: &actor}}, movementsOf(t, b, p.Variants[0]))
	require.Equal(t, []movement{{Kind: "BULK_SET", Delta: -6, Quantity: 4, ActorID: &actor, Note: "cycle count"}}, movementsOf(t, b, p.Variants[1]))
	require.Empty(t, movementsOf(t, b, p.Variants[2]), "no movement for an unchanged stock")
	require.Len(t, hook.changes, 2, "STOCK_CHANGED owed for the two changes")
	require.Equal(t, []catalog.LowStockCrossing{{VariantID: p.Variants[1], VendorID: &u.VendorID, Quantity: 4, Threshold: 5}}, low.crossings)
	cached, err = b.catalog.VariantsByProductIDs(ctx, []int64{p.ID})
	require.NoError(t, err)
	require.EqualValues(t, 25, cached[p.ID][0].Stock, "the cached stock was invalidated")
}

// Any bad row refuses the whole set with every row's problem, field
// ["input", "rows", index, column], and changes nothing.
func TestBulkSetRefusalsChangeNothing(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	u := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	rival := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	vendor := u.Viewer()
	mine := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &u.VendorID, Variants: []tf.VariantOpts{{Stock: 10}, {Stock: 10}}})
	theirs := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &rival.VendorID})
	hidden := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &rival.VendorID, Archived: true})
	ok := skuOf(t, b.d, mine.Variants[0])

	_, err := b.svc.BulkSet(ctx, vendor, []inventory.BulkSetRow{
		{SKU: ok, Quantity: 1},
		{SKU: "NO-SUCH-SKU", Quantity: 1},
		{SKU: skuOf(t, b.d, theirs.Variant()), Quantity: 1},
		{SKU: skuOf(t, b.d, hidden.Variant()), Quantity: 1},
		{SKU: skuOf(t, b.d, mine.Variants[1]), Quantity: -1},
		{SKU: ok, Quantity: 2},
		{SKU: "", Quantity: catalog.MaxStock + 1, Reason: strings.Repeat("x", inventory.MaxReasonLength+1)},
	})
	require.Equal(t, []string{
		"NOT_FOUND input.rows.1.sku",
		"FORBIDDEN input.rows.2.sku",
		"NOT_FOUND input.rows.3.sku",
		"INVALID input.rows.4.quantity",
		"DUPLICATE input.rows.5.sku",
		"INVALID input.rows.6.sku",
		"INVALID input.rows.6.quantity",
		"INVALID input.rows.6.reason",
	}, errorsOf(t, err))
	require.Equal(t, 10, tf.Stock(t, b.d, mine.Variants[0]), "the good row was not applied either")
	require.Zero(t, tf.Count(t, b.d, "stock_movements", ""))

	_, err = b.svc.BulkSet(ctx, vendor, nil)
	require.Equal(t, []string{"input.rows"}, tf.Fields(err))
	_, err = b.svc.BulkSet(ctx, vendor, make([]inventory.BulkSetRow, inventory.MaxBulkSetRows+1))
	require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))
	customer := tf.NewUser(t, b.d, tf.UserOpts{}).Viewer()
	_, err = b.svc.BulkSet(ctx, customer, []inventory.BulkSetRow{{SKU: ok, Quantity: 1}})
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err))

	// An admin sets any vendor's.
	_, err = b.svc.BulkSet(ctx, b.admin, []inventory.BulkSetRow{{SKU: skuOf(t, b.d, theirs.Variant()), Quantity: 7}})
	require.NoError(t, err)
	require.Equal(t, 7, tf.Stock(t, b.d, theirs.Variant()))
}

// An import's apply writes an IMPORT movement per changed stock, by the uploader, with the
// row's reason, and tells the low-stock hook of its crossings.
func TestImportWritesMovements(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	low := &crossingRecorder{}
	b.svc.LowStock = low
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 20}, {Stock: 20}, {Stock: 20}}})
	imp, err := b.svc.Import(ctx, b.admin, csvOf("sku,quantity,reason",
		skuOf(t, b.d, p.Variants[0])+",30,recount",
		skuOf(t, b.d, p.Variants[1])+",20,",
		skuOf(t, b.d, p.Variants[2])+",2,"))
	require.NoError(t, err)
	require.Zero(t, tf.Count(t, b.d, "stock_movements", ""), "nothing before the apply")
	require.NoError(t, b.work(t, imp.ID, 1))
	admin := b.admin.UserID
	require.Equal(t, []movement{{Kind: "IMPORT", Delta: 10, Quantity: 30, ActorID: &admin, Note: "recount"}}, movementsOf(t, b, p.Variants[0]))
	require.Empty(t, movementsOf(t, b, p.Variants[1]))
	require.Equal(t, []movement{{Kind: "IMPORT", Delta: -18, Quantity: 2, ActorID: &admin}}, movementsOf(t, b, p.Variants[2]))
	require.Equal(t, []catalog.LowStockCrossing{{VariantID: p.Variants[2], Quantity: 2, Threshold: 5}}, low.crossings)
}

// Release (a cancelled order) writes a CANCELLATION movement per variant with the order and
// actor, in the caller's transaction: rolled back with it.
func TestReleaseWritesMovements(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 5}}})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: b.admin.UserID})
	actor := b.admin.UserID
	require.NoError(t, b.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		return inventory.Release(ctx, q, []inventory.Item{{VariantID: p.Variant(), Quantity: 2}, {VariantID: p.Variant(), Quantity: 1}}, o.ID, &actor)
	}))
	require.Equal(t, []movement{{Kind: "CANCELLATION", Delta: 3, Quantity: 8, ActorID: &actor, OrderID: &o.ID}}, movementsOf(t, b, p.Variant()))
	err := b.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if err := inventory.Release(ctx, q, []inventory.Item{{VariantID: p.Variant(), Quantity: 4}}, o.ID, nil); err != nil {
			return err
		}
		return fmt.Errorf("roll back")
	})
	require.Error(t, err)
	require.Equal(t, 8, tf.Stock(t, b.d, p.Variant()))
	require.Len(t, movementsOf(t, b, p.Variant()), 1, "the rolled-back release left no movement")
}
