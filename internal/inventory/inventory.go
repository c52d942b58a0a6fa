// Package inventory takes and gives back stock inside the caller's transaction, with guarded
// single-statement updates so that stock never goes below zero, whatever runs concurrently.
package inventory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// Item is a quantity of one variant.
type Item struct {
	VariantID int64
	Quantity  int
}

// OutOfStockError says which variant lacked stock and how much there was.
type OutOfStockError struct {
	VariantID int64
	Requested int
	Available int
}

func (e *OutOfStockError) Error() string {
	return fmt.Sprintf("variant %d: %d requested, %d available", e.VariantID, e.Requested, e.Available)
}

// Change is what a reservation or release did to stock, for cache invalidation after commit.
type Change struct {
	ProductIDs []int64
	// StatusChanged is true when a variant may have changed what customers see
	// (IN_STOCK/LOW_STOCK/OUT_OF_STOCK), which cached list pages show.
	StatusChanged bool
}

// Reservation is a reservation of stock queued in a pipeline (fastpath.Pipeline): Read reads
// its results in the pipeline's read, then Result says what it did.
type Reservation struct {
	items   []Item // merged
	plan    *db.PlanCacheModeSetBatchResults
	reserve *db.StockReserveBatchResults
	taken   []db.StockReserveRow
}

// QueueReserve queues on pq, the queries of a pipeline in the caller's transaction, the taking
// of every item's quantity, or nothing: one guarded statement for all the items
// (StockReserve), after a setting that keeps its generic plan (PlanCacheModeSet). The caller
// holds the variants' row locks, taken in variant id order (checkout's line read takes them):
// two transactions reserving overlapping variants then wait for each other in the same order
// and cannot deadlock. Items of the same variant are added up.
func QueueReserve(ctx context.Context, pq *db.Queries, items []Item) *Reservation {
	r := &Reservation{items: merged(items)} // in variant order: a shortage names the same item every time
	arg := db.StockReserveParams{Ids: make([]int64, len(r.items)), Quantities: make([]int32, len(r.items))}
	for i, it := range r.items {
		arg.Ids[i], arg.Quantities[i] = it.VariantID, int32(it.Quantity)
	}
	r.plan = pq.PlanCacheModeSet(ctx, []string{"force_generic_plan"})
	r.reserve = pq.StockReserve(ctx, []db.StockReserveParams{arg})
	return r
}

// Read reads the reservation's results from its pipeline, where they were queued.
func (r *Reservation) Read() (err error) {
	r.plan.Exec(func(_ int, e error) { err = e })
	if err != nil {
		return err
	}
	r.reserve.Query(func(_ int, rows []db.StockReserveRow, e error) { r.taken, err = rows, e })
	return err
}

// Result is what the reservation changed, or, on a shortage, an OUT_OF_STOCK error (wrapping
// *OutOfStockError): the caller's transaction must then roll back. q reads what is left.
func (r *Reservation) Result(ctx context.Context, q *db.Queries) (Change, error) {
	taken := make(map[int64]bool, len(r.taken))
	var change Change
	for _, row := range r.taken {
		taken[row.ID] = true
		change.ProductIDs = append(change.ProductIDs, row.ProductID)
		// Stock only went down: above the low-stock line after, it was above it before too.
		if row.Stock <= catalog.LowStockThreshold {
			change.StatusChanged = true
		}
	}
	for _, it := range r.items {
		if !taken[it.VariantID] {
			return Change{}, shortage(ctx, q, it)
		}
	}
	return change, nil
}

// merged returns items with one item per variant, quantities added up, in variant id order.
func merged(items []Item) []Item {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b Item) int { return cmp.Compare(a.VariantID, b.VariantID) })
	out := sorted[:0]
	for _, it := range sorted {
		if n := len(out); n > 0 && out[n-1].VariantID == it.VariantID {
			out[n-1].Quantity += it.Quantity
			continue
		}
		out = append(out, it)
	}
	return out
}

// shortage is the OUT_OF_STOCK error for an item that could not be taken, naming what is left.
func shortage(ctx context.Context, q *db.Queries, it Item) error {
	available := 0
	if cur, err := q.StockGet(ctx, it.VariantID); err == nil && cur.DeletedAt == nil {
		available = int(cur.Stock)
	}
	cause := &OutOfStockError{VariantID: it.VariantID, Requested: it.Quantity, Available: available}
	return &apperr.Error{Code: apperr.OutOfStock, Err: cause,
		Message: fmt.Sprintf("Only %d left of an item you asked %d of.", available, it.Quantity)}
}

// Release gives items back, e.g. when an order is cancelled, in variant id order like every
// stock change: one StockRelease per variant, sent together as one batch (sqlc's :batchexec).
// Each statement writes its variant's CANCELLATION movement of order orderID by actorID (nil:
// the system) with the stock.
func Release(ctx context.Context, q *db.Queries, items []Item, orderID int64, actorID *int64) error {
	items = merged(items)
	args := make([]db.StockReleaseParams, len(items))
	for i, it := range items {
		args[i] = db.StockReleaseParams{ID: it.VariantID, N: int32(it.Quantity), OrderID: orderID, ActorID: actorID}
	}
	var err error
	q.StockRelease(ctx, args).Exec(func(i int, e error) {
		if e != nil && err == nil {
			err = fmt.Errorf("release stock of variant %d: %w", items[i].VariantID, e)
		}
	})
	return err
}
