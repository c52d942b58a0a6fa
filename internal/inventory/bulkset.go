package inventory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// MaxBulkSetRows is the most rows one productVariantStockBulkSet takes.
const MaxBulkSetRows = 500

// ReasonBulkSet is the reason STOCK_CHANGED webhooks give for a bulk set's row without one.
const ReasonBulkSet = "bulk_set"

// BulkSetRow is one row of a bulk set: variant SKU's stock becomes Quantity.
type BulkSetRow struct {
	SKU      string
	Quantity int
	Reason   string
}

// BulkSetResult is one variant a bulk set set, in the order of the rows.
type BulkSetResult struct {
	VariantID, ProductID int64
	// Previous is the stock before; Quantity after.
	Previous, Quantity int
}

// BulkSet sets the stock of up to MaxBulkSetRows variants by SKU (a warehouse system's sync)
// in one transaction, all or nothing, with the import's rules: admins any variant, a vendor's
// members their vendor's. Every row is checked before anything is written and every problem
// returned at once as an apperr.List, nothing changed; each error's field is ["input", "rows",
// index, "sku" | "quantity" | "reason"]: NOT_FOUND (no live variant has the SKU, or it is
// another vendor's product customers do not see), FORBIDDEN (another vendor's product),
// INVALID (a quantity outside 0..MaxImportQuantity, a reason over MaxReasonLength characters,
// an empty SKU), DUPLICATE (a SKU given in an earlier row). Errors: FORBIDDEN (not an admin or
// vendor), INVALID (no rows or more than MaxBulkSetRows, field ["input", "rows"]).
//
// In the transaction: the stock and a BULK_SET movement per changed variant (one statement,
// variants locked in id order), the STOCK_CHANGED webhooks (Hook), the low-stock crossings
// (LowStock); cached stock is invalidated after the commit.
func (s *ImportService) BulkSet(ctx context.Context, v auth.Viewer, rows []BulkSetRow) ([]BulkSetResult, error) {
	if err := mayImport(v); err != nil {
		return nil, err
	}
	if len(rows) == 0 || len(rows) > MaxBulkSetRows {
		return nil, apperr.FieldError(apperr.Invalid,
			fmt.Sprintf("Give between 1 and %d rows.", MaxBulkSetRows), "input", "rows")
	}
	rows = slices.Clone(rows) // trimmed below
	var errs apperr.List
	add := func(i int, column string, code apperr.Code, format string, args ...any) {
		errs = append(errs, apperr.FieldError(code, fmt.Sprintf("Row %d: ", i)+fmt.Sprintf(format, args...),
			"input", "rows", strconv.Itoa(i), column))
	}
	skus := make([]string, 0, len(rows))
	seen := make(map[string]int, len(rows))
	for i := range rows {
		r := &rows[i]
		r.SKU, r.Reason = strings.TrimSpace(r.SKU), strings.TrimSpace(r.Reason)
		switch first, dup := seen[r.SKU]; {
		case r.SKU == "":
			add(i, "sku", apperr.Invalid, "A SKU is required.")
		case dup:
			add(i, "sku", apperr.Duplicate, "SKU %q is already in row %d.", truncate(r.SKU, maxSKULength), first)
		default:
			seen[r.SKU] = i
			skus = append(skus, r.SKU)
		}
		if r.Quantity < 0 || r.Quantity > MaxImportQuantity {
			add(i, "quantity", apperr.Invalid, "The quantity must be between 0 and %d.", MaxImportQuantity)
		}
		if utf8.RuneCountInString(r.Reason) > MaxReasonLength {
			add(i, "reason", apperr.Invalid, "A reason can be at most %d characters.", MaxReasonLength)
		}
	}
	found, err := s.db.Queries.VariantsBySKU(ctx, skus)
	if err != nil {
		return nil, fmt.Errorf("resolve SKUs: %w", err)
	}
	bySKU := make(map[string]db.VariantsBySKURow, len(found))
	for _, f := range found {
		bySKU[f.SKU] = f
	}
	arg := db.StockBulkSetParams{ActorID: v.UserID}
	for i, r := range rows {
		if r.SKU == "" || seen[r.SKU] != i {
			continue
		}
		f, ok := bySKU[r.SKU]
		switch code := importableBy(v, f.VendorID, catalog.Status(f.Status), f.VendorActive); {
		case !ok || code == apperr.NotFound:
			add(i, "sku", apperr.NotFound, "No variant has SKU %q.", truncate(r.SKU, maxSKULength))
			continue
		case code != "":
			add(i, "sku", code, "SKU %q is another vendor's; you can only set your own products' stock.", r.SKU)
			continue
		}
		arg.Ids = append(arg.Ids, f.ID)
		arg.Quantities = append(arg.Quantities, int32(r.Quantity))
		arg.Reasons = append(arg.Reasons, r.Reason)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *apperr.Error) int { return rowOf(a) - rowOf(b) })
		return nil, errs
	}
	var set []db.StockBulkSetRow
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		var err error
		if set, err = q.StockBulkSet(ctx, arg); err != nil {
			return fmt.Errorf("set stock: %w", err)
		}
		if len(set) != len(arg.Ids) {
			// A variant was deleted between the check and the lock: refuse the whole set.
			return apperr.FieldError(apperr.Conflict, "A variant was deleted meanwhile; nothing was changed. Send the rows again.", "input", "rows")
		}
		var (
			changes       []StockChange
			crossings     []catalog.LowStockCrossing
			before        []int
			productIDs    []int64
			statusChanged bool
		)
		for _, g := range set {
			if g.Stock == g.OldStock {
				continue
			}
			reason := g.Reason
			if reason == "" {
				reason = ReasonBulkSet
			}
			changes = append(changes, StockChange{VariantID: g.ID, ProductID: g.ProductID, Quantity: int(g.Stock),
				Delta: int(g.Stock - g.OldStock), Reason: reason})
			crossings = append(crossings, catalog.LowStockCrossing{VariantID: g.ID, VendorID: g.VendorID,
				Quantity: int(g.Stock), Threshold: int(g.LowStockThreshold)})
			before = append(before, int(g.OldStock))
			productIDs = append(productIDs, g.ProductID)
			if stockStatusChanged(int(g.OldStock), int(g.Stock), int(g.LowStockThreshold)) {
				statusChanged = true
			}
		}
		if s.Hook != nil && len(changes) > 0 {
			if err := s.Hook.StockChanged(ctx, tx, changes); err != nil {
				return fmt.Errorf("stock hook: %w", err)
			}
		}
		if err := catalog.NotifyLowStock(ctx, tx, s.LowStock, crossings, before); err != nil {
			return err
		}
		slices.Sort(productIDs)
		productIDs = slices.Compact(productIDs)
		postgres.AfterCommit(ctx, func(ctx context.Context) {
			if s.stock != nil && len(productIDs) > 0 {
				s.stock.InvalidateStock(ctx, productIDs, statusChanged)
			}
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]db.StockBulkSetRow, len(set))
	for _, g := range set {
		byID[g.ID] = g
	}
	out := make([]BulkSetResult, len(arg.Ids))
	for i, id := range arg.Ids {
		g := byID[id]
		out[i] = BulkSetResult{VariantID: g.ID, ProductID: g.ProductID, Previous: int(g.OldStock), Quantity: int(g.Stock)}
	}
	return out, nil
}

// rowOf is the row index in a bulk set error's field, for sorting.
func rowOf(e *apperr.Error) int {
	if len(e.Field) < 3 {
		return -1
	}
	n, _ := strconv.Atoi(e.Field[2])
	return n
}
