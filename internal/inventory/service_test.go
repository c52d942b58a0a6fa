package inventory_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/postgres/fastpath"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d *postgres.DB
}

func setup(t *testing.T) testBundle {
	t.Helper()
	return testBundle{d: pgtest.New(t, postgres.Options{MaxConns: 4})}
}

// reserve runs a reservation the way checkout does: in one transaction that first locks the
// variants in id order, then takes the stock; a shortage rolls the transaction back.
func reserve(ctx context.Context, d *postgres.DB, items []inventory.Item) (inventory.Change, error) {
	var change inventory.Change
	err := d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		ids := make([]int64, len(items))
		for i, it := range items {
			ids[i] = it.VariantID
		}
		if _, err := tx.Exec(ctx, `SELECT id FROM product_variants WHERE id = ANY($1) ORDER BY id FOR UPDATE`, ids); err != nil {
			return err
		}
		var p fastpath.Pipeline
		r := inventory.QueueReserve(ctx, p.Queries(), items)
		if err := p.Run(ctx, tx, r.Read); err != nil {
			return err
		}
		var err error
		change, err = r.Result(ctx, q)
		return err
	})
	return change, err
}

func release(ctx context.Context, d *postgres.DB, items []inventory.Item) error {
	return d.InTx(ctx, func(ctx context.Context, q *db.Queries) error { return inventory.Release(ctx, q, items, 0, nil) })
}

func TestReserve(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	t.Run("takes every item's quantity, adding up items of one variant", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 20}, {Stock: 20}}})
		q := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 20}}})
		change, err := reserve(ctx, b.d, []inventory.Item{
			{VariantID: p.Variants[1], Quantity: 2}, {VariantID: p.Variants[0], Quantity: 3},
			{VariantID: q.Variant(), Quantity: 1}, {VariantID: p.Variants[1], Quantity: 4},
		})
		require.NoError(t, err)
		require.Equal(t, 17, tf.Stock(t, b.d, p.Variants[0]))
		require.Equal(t, 14, tf.Stock(t, b.d, p.Variants[1]))
		require.Equal(t, 19, tf.Stock(t, b.d, q.Variant()))
		require.ElementsMatch(t, []int64{p.ID, p.ID, q.ID}, change.ProductIDs, "one product id per variant taken")
		require.False(t, change.StatusChanged, "every variant stayed above the low-stock line")
	})

	for _, tc := range []struct {
		name        string
		stock, take int
		want        bool
	}{
		{"above the low-stock line after: no status change", 20, 14, false},
		{"down to the low-stock line: status may change", 20, 15, true},
		{"down to zero: status changes", 3, 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: tc.stock}}})
			change, err := reserve(ctx, b.d, []inventory.Item{{VariantID: p.Variant(), Quantity: tc.take}})
			require.NoError(t, err)
			require.Equal(t, tc.want, change.StatusChanged)
			require.Equal(t, tc.stock-tc.take, tf.Stock(t, b.d, p.Variant()))
		})
	}

	for _, tc := range []struct {
		name          string
		variant       tf.VariantOpts
		items         func(short, other int64) []inventory.Item
		requested     int
		wantAvailable int
	}{
		{
			name:    "more than the stock",
			variant: tf.VariantOpts{Stock: 3},
			items: func(short, other int64) []inventory.Item {
				return []inventory.Item{{VariantID: other, Quantity: 1}, {VariantID: short, Quantity: 4}}
			},
			requested: 4, wantAvailable: 3,
		},
		{
			name:    "items of one variant that together exceed the stock",
			variant: tf.VariantOpts{Stock: 3},
			items: func(short, other int64) []inventory.Item {
				return []inventory.Item{{VariantID: short, Quantity: 2}, {VariantID: other, Quantity: 1}, {VariantID: short, Quantity: 2}}
			},
			requested: 4, wantAvailable: 3,
		},
		{
			name:    "none in stock",
			variant: tf.VariantOpts{NoStock: true},
			items: func(short, other int64) []inventory.Item {
				return []inventory.Item{{VariantID: short, Quantity: 1}, {VariantID: other, Quantity: 1}}
			},
			requested: 1, wantAvailable: 0,
		},
		{
			name:    "a deleted variant has nothing available",
			variant: tf.VariantOpts{Stock: 9, Deleted: true},
			items: func(short, other int64) []inventory.Item {
				return []inventory.Item{{VariantID: short, Quantity: 1}, {VariantID: other, Quantity: 1}}
			},
			requested: 1, wantAvailable: 0,
		},
	} {
		t.Run("OUT_OF_STOCK and nothing taken: "+tc.name, func(t *testing.T) {
			short := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{tc.variant}}).Variant()
			other := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 5}}}).Variant()
			before := tf.Stock(t, b.d, short)
			_, err := reserve(ctx, b.d, tc.items(short, other))
			require.True(t, apperr.Is(err, apperr.OutOfStock), "%v", err)
			var oos *inventory.OutOfStockError
			require.True(t, errors.As(err, &oos), "%v", err)
			require.Equal(t, inventory.OutOfStockError{VariantID: short, Requested: tc.requested, Available: tc.wantAvailable}, *oos)
			require.Contains(t, apperr.As(err).Message, "Only")
			require.Equal(t, before, tf.Stock(t, b.d, short))
			require.Equal(t, 5, tf.Stock(t, b.d, other), "the transaction rolls back what the statement took")
		})
	}
}

func TestRelease(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 4}, {Stock: 4, Deleted: true}}})

	require.NoError(t, release(ctx, b.d, []inventory.Item{
		{VariantID: p.Variants[0], Quantity: 1}, {VariantID: p.Variants[1], Quantity: 2}, {VariantID: p.Variants[0], Quantity: 3},
	}))
	require.Equal(t, 8, tf.Stock(t, b.d, p.Variants[0]), "items of one variant add up")
	require.Equal(t, 6, tf.Stock(t, b.d, p.Variants[1]), "a deleted variant gets its units back too")

	_, err := reserve(ctx, b.d, []inventory.Item{{VariantID: p.Variants[0], Quantity: 8}})
	require.NoError(t, err, "released stock can be reserved again")
	require.Zero(t, tf.Stock(t, b.d, p.Variants[0]))
	require.NoError(t, release(ctx, b.d, nil), "nothing to release")
}

// Concurrent reservations never take more than the stock, whatever their items' order: of
// many customers each taking one unit of two variants, exactly as many succeed as there were
// units, and the others are told OUT_OF_STOCK without taking anything.
func TestReserveConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	const stock, buyers = 5, 12
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: stock}, {Stock: stock + 3}}})
	a, c := p.Variants[0], p.Variants[1]

	errs := make(chan error, buyers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range buyers {
		items := []inventory.Item{{VariantID: a, Quantity: 1}, {VariantID: c, Quantity: 1}}
		if i%2 == 1 {
			items[0], items[1] = items[1], items[0]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := reserve(ctx, b.d, items)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.True(t, apperr.Is(err, apperr.OutOfStock), "%v", err)
	}
	require.Equal(t, stock, ok, "as many reservations succeed as there were units")
	require.Zero(t, tf.Stock(t, b.d, a))
	require.Equal(t, 3, tf.Stock(t, b.d, c), "a refused reservation takes nothing of its other variant")
}
