package catalog

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// The stock ledger and low stock (issue 16). Every statement that changes a variant's stock
// writes its movement (stock_movements) itself, so the ledger commits or rolls back with the
// stock: checkout's order statement (SALE), the release of a cancelled order (CANCELLATION),
// the adjustment (MANUAL_ADJUSTMENT), the inventory import's apply (IMPORT) and the bulk set
// (BULK_SET). The same statements return each variant's effective low-stock threshold
// (its own, else its vendor's default, else LowStockThreshold: SQL's low_stock_threshold_of),
// from which the callers detect crossings (Crossed) and tell the LowStockHook.

// MovementKind is what moved a variant's stock.
type MovementKind string

// Kinds of stock movements.
const (
	MovementSale         MovementKind = "SALE"
	MovementCancellation MovementKind = "CANCELLATION"
	MovementManual       MovementKind = "MANUAL_ADJUSTMENT"
	MovementImport       MovementKind = "IMPORT"
	MovementBulkSet      MovementKind = "BULK_SET"
)

// MaxMovementNote is the longest note (reason) a movement keeps, in characters.
const MaxMovementNote = 200

// MaxLowStockThreshold bounds a threshold, as it bounds stock.
const MaxLowStockThreshold = MaxStock

// Movement is one change of a variant's stock, as the ledger keeps it.
type Movement struct {
	ID        int64
	VariantID int64
	Kind      MovementKind
	// Delta is how much the stock moved; Quantity the stock it left.
	Delta, Quantity int
	// ActorID is who moved it (the customer of a sale, the user of an adjustment, import or
	// bulk set, who cancelled); nil for the system.
	ActorID *int64
	// OrderID is the order of a sale or cancellation.
	OrderID   *int64
	Note      string
	CreatedAt time.Time
}

// MovementPage is a page of movements, newest first, with each one's cursor.
type MovementPage struct {
	Movements   []Movement
	Cursors     []string
	HasNextPage bool
}

// LowStockCrossing is a variant a stock change took from above its low-stock threshold to at
// or under it.
type LowStockCrossing struct {
	VariantID int64
	// VendorID is the variant's product's vendor; nil for the platform's own products.
	VendorID *int64
	// Quantity is the stock left; Threshold the variant's effective threshold.
	Quantity, Threshold int
}

// LowStockHook is told of low-stock crossings inside the transaction of the change that made
// them (an email job inserted there is sent only if the change commits); an error rolls the
// change back. It is told once per crossing: a sale that leaves a variant under its threshold
// when it already was is no crossing.
type LowStockHook interface {
	LowStock(ctx context.Context, tx pgx.Tx, crossings []LowStockCrossing) error
}

// Crossed says whether a change from stock before to stock after crosses threshold downwards.
func Crossed(before, after, threshold int) bool {
	return before > threshold && after <= threshold
}

// NotifyLowStock tells hook (nil: nobody) of the crossings among candidates, whose stock
// before the change is before[i]; nothing when none crossed.
func NotifyLowStock(ctx context.Context, tx pgx.Tx, hook LowStockHook, candidates []LowStockCrossing, before []int) error {
	if hook == nil {
		return nil
	}
	var crossed []LowStockCrossing
	for i, c := range candidates {
		if Crossed(before[i], c.Quantity, c.Threshold) {
			crossed = append(crossed, c)
		}
	}
	if len(crossed) == 0 {
		return nil
	}
	if err := hook.LowStock(ctx, tx, crossed); err != nil {
		return fmt.Errorf("low-stock hook: %w", err)
	}
	return nil
}

// lowStockCrossed is NotifyLowStock with the service's hook.
func (s *Service) lowStockCrossed(ctx context.Context, tx pgx.Tx, candidates []LowStockCrossing, before []int) error {
	return NotifyLowStock(ctx, tx, s.LowStock, candidates, before)
}

// checkMovementNote refuses a note longer than MaxMovementNote. Errors: INVALID.
func checkMovementNote(note string, field ...string) error {
	if utf8.RuneCountInString(note) > MaxMovementNote {
		return apperr.FieldError(apperr.Invalid,
			fmt.Sprintf("A reason can be at most %d characters.", MaxMovementNote), field...)
	}
	return nil
}

// StockMovements returns a page of the movements of variant variantID, newest first, after the
// cursor after ("" for the first page): for those who may read its exact stock (admins and the
// owning vendor's members). Errors: NOT_FOUND for a variant v cannot see, FORBIDDEN for one it
// sees but does not manage (as exact stock), BAD_USER_INPUT for a page size out of range or a
// cursor that is not one.
func (s *Service) StockMovements(ctx context.Context, v *auth.Viewer, variant Variant, first int, after string) (MovementPage, error) {
	p, err := s.productOf(ctx, variant)
	if err != nil {
		return MovementPage{}, err
	}
	if err := mayReadStock(v, p); err != nil {
		return MovementPage{}, err
	}
	if first < 1 || first > 100 {
		return MovementPage{}, apperr.FieldError(apperr.BadUserInput, "Page size must be between 1 and 100.", "first")
	}
	afterID, err := decodeIDCursor(after)
	if err != nil {
		return MovementPage{}, err
	}
	rows, err := s.db.StockMovementList(ctx, db.StockMovementListParams{VariantID: variant.ID, After: afterID, Lim: int32(first + 1)})
	if err != nil {
		return MovementPage{}, fmt.Errorf("list stock movements: %w", err)
	}
	page := MovementPage{HasNextPage: len(rows) > first}
	if page.HasNextPage {
		rows = rows[:first]
	}
	for _, r := range rows {
		page.Movements = append(page.Movements, Movement{ID: r.ID, VariantID: r.VariantID, Kind: MovementKind(r.Kind),
			Delta: int(r.Delta), Quantity: int(r.Quantity), ActorID: r.ActorID, OrderID: r.OrderID, Note: r.Note, CreatedAt: r.CreatedAt})
		page.Cursors = append(page.Cursors, encodeIDCursor(r.ID))
	}
	return page, nil
}

// CountStockMovements is how many movements variant has (same access as StockMovements).
func (s *Service) CountStockMovements(ctx context.Context, v *auth.Viewer, variant Variant) (int, error) {
	p, err := s.productOf(ctx, variant)
	if err != nil {
		return 0, err
	}
	if err := mayReadStock(v, p); err != nil {
		return 0, err
	}
	n, err := s.db.StockMovementCount(ctx, variant.ID)
	if err != nil {
		return 0, fmt.Errorf("count stock movements: %w", err)
	}
	return int(n), nil
}

// productOf is variant's product (cached).
func (s *Service) productOf(ctx context.Context, variant Variant) (Product, error) {
	ps, err := s.ListByIDs(ctx, []int64{variant.ProductID})
	if err != nil {
		return Product{}, err
	}
	p, ok := ps[variant.ProductID]
	if !ok {
		return Product{}, apperr.New(apperr.NotFound, "No variant has this ID.")
	}
	return p, nil
}

// LowStockVariant is a variant at or under its effective low-stock threshold.
type LowStockVariant struct {
	Variant   Variant
	Threshold int
}

// LowStockPage is a page of low-stock variants in variant id order.
type LowStockPage struct {
	Variants    []LowStockVariant
	Cursors     []string
	HasNextPage bool
}

// lowStockScope is the vendor whose low stock v may list: a vendor's member its own (asking
// for another is FORBIDDEN), an admin the one asked for or, with none, every variant (nil).
// Errors: FORBIDDEN.
func lowStockScope(v auth.Viewer, vendorID *int64) (*int64, error) {
	if v.IsAdmin() {
		return vendorID, nil
	}
	own, ok := v.ActingVendor()
	if !ok {
		return nil, apperr.New(apperr.Forbidden, "Only admins and vendors can list low stock.")
	}
	if vendorID != nil && *vendorID != own {
		return nil, apperr.FieldError(apperr.Forbidden, "Vendors can only list their own low stock.", "vendorId")
	}
	return &own, nil
}

// LowStockVariants lists the live variants at or under their effective threshold, in variant
// id order after the cursor after: a vendor's member those of its vendor, an admin those of
// vendorID or, without it, all. Errors: FORBIDDEN, BAD_USER_INPUT (page size, cursor).
func (s *Service) LowStockVariants(ctx context.Context, v auth.Viewer, vendorID *int64, first int, after string) (LowStockPage, error) {
	scope, err := lowStockScope(v, vendorID)
	if err != nil {
		return LowStockPage{}, err
	}
	if first < 1 || first > 100 {
		return LowStockPage{}, apperr.FieldError(apperr.BadUserInput, "Page size must be between 1 and 100.", "first")
	}
	afterID, err := decodeIDCursor(after)
	if err != nil {
		return LowStockPage{}, err
	}
	rows, err := s.db.LowStockVariantList(ctx, db.LowStockVariantListParams{After: afterID, VendorID: scope, Lim: int32(first + 1)})
	if err != nil {
		return LowStockPage{}, fmt.Errorf("list low stock: %w", err)
	}
	page := LowStockPage{HasNextPage: len(rows) > first}
	if page.HasNextPage {
		rows = rows[:first]
	}
	for _, r := range rows {
		page.Variants = append(page.Variants, LowStockVariant{Variant: variantFromRow(r.ProductVariant), Threshold: int(r.Threshold)})
		page.Cursors = append(page.Cursors, encodeIDCursor(r.ProductVariant.ID))
	}
	return page, nil
}

// CountLowStockVariants is how many variants LowStockVariants lists across pages.
func (s *Service) CountLowStockVariants(ctx context.Context, v auth.Viewer, vendorID *int64) (int, error) {
	scope, err := lowStockScope(v, vendorID)
	if err != nil {
		return 0, err
	}
	n, err := s.db.LowStockVariantCount(ctx, scope)
	if err != nil {
		return 0, fmt.Errorf("count low stock: %w", err)
	}
	return int(n), nil
}

// checkThreshold refuses a threshold out of [0, MaxLowStockThreshold]. Errors: INVALID.
func checkThreshold(threshold *int) error {
	if threshold != nil && (*threshold < 0 || *threshold > MaxLowStockThreshold) {
		return apperr.FieldError(apperr.Invalid,
			fmt.Sprintf("A threshold must be between 0 and %s.", maxStockText), "input", "threshold")
	}
	return nil
}

// SetVariantLowStockThreshold sets variant variantID's own low-stock threshold (nil: fall back
// to its vendor's default, then LowStockThreshold) and returns its effective threshold: for
// those who may manage its product. Errors: NOT_FOUND, FORBIDDEN, INVALID.
func (s *Service) SetVariantLowStockThreshold(ctx context.Context, v auth.Viewer, variantID int64, threshold *int) (Variant, int, error) {
	if err := checkThreshold(threshold); err != nil {
		return Variant{}, 0, err
	}
	variants, err := s.VariantsByIDs(ctx, []int64{variantID})
	if err != nil {
		return Variant{}, 0, err
	}
	cur, ok := variants[variantID]
	if !ok || cur.DeletedAt != nil {
		return Variant{}, 0, variantNotFound("input", "variantId")
	}
	if _, err := s.managed(ctx, v, cur.ProductID, "input", "variantId"); err != nil {
		return Variant{}, 0, asVariantNotFound(err, "input", "variantId")
	}
	var arg db.VariantLowStockThresholdSetParams
	arg.ID = variantID
	if threshold != nil {
		t := int32(*threshold)
		arg.Threshold = &t
	}
	row, err := s.db.VariantLowStockThresholdSet(ctx, arg)
	if postgres.IsNotFound(err) {
		return Variant{}, 0, variantNotFound("input", "variantId")
	}
	if err != nil {
		return Variant{}, 0, fmt.Errorf("set low-stock threshold: %w", err)
	}
	s.thresholdChanged(ctx)
	return cur, int(row.Effective), nil
}

// SetVendorLowStockThreshold sets vendor vendorID's default low-stock threshold (nil: the
// platform's, LowStockThreshold), for its members and admins, and returns the effective
// default. Errors: NOT_FOUND (no such vendor, for an admin), FORBIDDEN (another vendor),
// INVALID.
func (s *Service) SetVendorLowStockThreshold(ctx context.Context, v auth.Viewer, vendorID int64, threshold *int) (int, error) {
	if !v.IsAdmin() && !v.ActsFor(vendorID) {
		return 0, apperr.FieldError(apperr.Forbidden, "You can only set your own vendor's threshold.", "input", "vendorId")
	}
	if err := checkThreshold(threshold); err != nil {
		return 0, err
	}
	var arg db.VendorLowStockThresholdSetParams
	arg.ID = vendorID
	if threshold != nil {
		t := int32(*threshold)
		arg.Threshold = &t
	}
	n, err := s.db.VendorLowStockThresholdSet(ctx, arg)
	if err != nil {
		return 0, fmt.Errorf("set vendor low-stock threshold: %w", err)
	}
	if n == 0 {
		return 0, apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "vendorId")
	}
	s.thresholdChanged(ctx)
	if threshold == nil {
		return LowStockThreshold, nil
	}
	return *threshold, nil
}

// VendorLowStockThreshold is vendor vendorID's own default threshold (nil: the platform's),
// for its members and admins. Errors: FORBIDDEN.
func (s *Service) VendorLowStockThreshold(ctx context.Context, v auth.Viewer, vendorID int64) (*int, error) {
	if !v.IsAdmin() && !v.ActsFor(vendorID) {
		return nil, apperr.New(apperr.Forbidden, "Only the vendor's members and admins can see its low-stock threshold.")
	}
	t, err := s.db.VendorLowStockThresholdGet(ctx, vendorID)
	if err != nil || t == nil {
		return nil, postgres.MapError(err, "vendor")
	}
	n := int(*t)
	return &n, nil
}

// encodeIDCursor is the opaque cursor of a row id.
func encodeIDCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(id, 10)))
}

// decodeIDCursor reads encodeIDCursor's cursor ("" is 0, the start). Errors: BAD_USER_INPUT.
func decodeIDCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	invalid := apperr.FieldError(apperr.BadUserInput, "The after cursor is not valid.", "after")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) < 4 || string(raw[:3]) != "id:" {
		return 0, invalid
	}
	id, err := strconv.ParseInt(string(raw[3:]), 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid
	}
	return id, nil
}
