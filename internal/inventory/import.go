package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// ImportStatus is where an inventory import is.
type ImportStatus string

// Import statuses: PENDING until its job starts, RUNNING while it applies, then SUCCEEDED
// (every row applied) or FAILED (none).
const (
	ImportPending   ImportStatus = "PENDING"
	ImportRunning   ImportStatus = "RUNNING"
	ImportSucceeded ImportStatus = "SUCCEEDED"
	ImportFailed    ImportStatus = "FAILED"
)

// Done reports whether the import has ended.
func (s ImportStatus) Done() bool { return s == ImportSucceeded || s == ImportFailed }

// Import is an inventory import: a file of absolute stock levels, applied all-or-nothing by a
// background job.
type Import struct {
	ID        int64
	CreatedBy int64
	Status    ImportStatus
	// Processed is how many rows the apply has done; Total is how many the file has.
	Processed, Total int
	// Errors say why a FAILED import was not applied.
	Errors     []ImportError
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// ImportError is a problem with one row (Row 0: the import as a whole) found when applying.
type ImportError struct {
	Row     int         `json:"row"`
	Column  string      `json:"column,omitempty"`
	Code    apperr.Code `json:"code"`
	Message string      `json:"message"`
}

// StockChange is one variant's stock set by an import.
type StockChange struct {
	VariantID int64
	ProductID int64
	// Quantity is the new stock; Delta what it moved by (new minus old).
	Quantity, Delta int
	Reason          string
}

// StockHook is told of stock changes inside the transaction that makes them (STOCK_CHANGED
// webhooks insert their deliveries there); an error rolls the change back.
type StockHook interface {
	StockChanged(ctx context.Context, tx pgx.Tx, changes []StockChange) error
}

// Scheduler inserts the apply job in the upload's transaction (*jobs.Queue).
type Scheduler interface {
	ScheduleInventoryImport(ctx context.Context, tx pgx.Tx, importID int64) error
}

// StockCache is told, after commit, which products' stock changed (*catalog.Service).
type StockCache interface {
	InvalidateStock(ctx context.Context, productIDs []int64, statusChanged bool)
}

// Bell rings a topic on every instance (*pubsub.Bell): the apply rings an import's topic when
// its progress or status changes, and Follow streams listen.
type Bell interface {
	Ring(ctx context.Context, topic string)
	Listen(topic string) (<-chan struct{}, func())
}

// importTopic is the bell's topic of import id.
func importTopic(id int64) string { return "inventory-import:" + strconv.FormatInt(id, 10) }

// ImportService takes inventory imports and applies them.
type ImportService struct {
	db    *postgres.DB
	jobs  Scheduler
	stock StockCache
	log   *slog.Logger
	// Hook, when set, is told of every import's stock changes inside its apply transaction.
	Hook StockHook
	// LowStock, when set, is told of the variants an import or bulk set takes from above
	// their low-stock threshold to at or under it, inside the change's transaction.
	LowStock catalog.LowStockHook
	// ChunkSize is how many rows one statement of the apply sets (and how often progress is
	// recorded); DefaultImportChunk unless set.
	ChunkSize int
	// Bell, when set, rings followers on every instance as the import moves; without it they
	// only poll.
	Bell Bell
	// PollInterval is how often a Follow stream reads the import without a ring:
	// DefaultFollowPoll unless set, or DefaultFollowPollWithBell with a Bell.
	PollInterval time.Duration
	// beforeChunk, when set (tests), runs before each chunk of the apply.
	beforeChunk func(ctx context.Context, processed int)
}

// Defaults of ImportService.
const (
	DefaultImportChunk        = 5000
	DefaultFollowPoll         = 250 * time.Millisecond
	DefaultFollowPollWithBell = 2 * time.Second
)

// NewImportService returns the service.
func NewImportService(d *postgres.DB, jobs Scheduler, stock StockCache, log *slog.Logger) *ImportService {
	return &ImportService{db: d, jobs: jobs, stock: stock, log: log}
}

// Import validates a file of stock levels (CSV: a header of sku,quantity[,reason], then one
// row per variant, quantity the new absolute stock) and, when every row is valid, records it
// and inserts the job that applies it, in one transaction. The file's every problem is
// returned at once as an apperr.List, nothing recorded: INVALID (the header, a column count, a
// quantity outside 0..MaxImportQuantity, a reason over MaxReasonLength characters, an empty
// file, more than MaxImportRows rows), DUPLICATE (a SKU given twice), NOT_FOUND (no live
// variant has the SKU, or it is another vendor's archived product's), FORBIDDEN (another
// vendor's product). Their field is ["input", "file", line, column], line counting the header
// as 1. Errors: FORBIDDEN (not an admin or vendor).
func (s *ImportService) Import(ctx context.Context, v auth.Viewer, file io.Reader) (Import, error) {
	if err := mayImport(v); err != nil {
		return Import{}, err
	}
	var errs rowErrors
	rows := parseImport(file, &errs)
	if len(rows) == 0 {
		return Import{}, errs.err()
	}
	skus := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.sku != "" {
			skus = append(skus, r.sku)
		}
	}
	found, err := s.db.Queries.VariantsBySKU(ctx, skus)
	if err != nil {
		return Import{}, fmt.Errorf("resolve SKUs: %w", err)
	}
	bySKU := make(map[string]db.VariantsBySKURow, len(found))
	for _, f := range found {
		bySKU[f.SKU] = f
	}
	arg := db.InventoryImportRowsInsertParams{}
	for _, r := range rows {
		if r.sku == "" {
			continue
		}
		f, ok := bySKU[r.sku]
		switch code := importableBy(v, f.VendorID, catalog.Status(f.Status), f.VendorActive); {
		case !ok || code == apperr.NotFound:
			errs.add(r.line, "sku", apperr.NotFound, "No variant has SKU %q.", truncate(r.sku, maxSKULength))
			continue
		case code != "":
			errs.add(r.line, "sku", code, "SKU %q is another vendor's; you can only import your own products' stock.", r.sku)
			continue
		}
		if r.quantity < 0 {
			continue // already reported
		}
		arg.VariantIds = append(arg.VariantIds, f.ID)
		arg.Lines = append(arg.Lines, int32(r.line))
		arg.Skus = append(arg.Skus, r.sku)
		arg.Quantities = append(arg.Quantities, int32(r.quantity))
		arg.Reasons = append(arg.Reasons, r.reason)
	}
	if err := errs.err(); err != nil {
		return Import{}, err
	}
	var imp db.InventoryImport
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		var err error
		if imp, err = q.InventoryImportCreate(ctx, db.InventoryImportCreateParams{CreatedBy: v.UserID, Total: int32(len(arg.VariantIds))}); err != nil {
			return fmt.Errorf("create import: %w", err)
		}
		arg.ImportID = imp.ID
		if err := q.InventoryImportRowsInsert(ctx, arg); err != nil {
			return fmt.Errorf("store import rows: %w", err)
		}
		return s.jobs.ScheduleInventoryImport(ctx, tx, imp.ID)
	})
	if err != nil {
		return Import{}, err
	}
	return importFromRow(imp), nil
}

// Get returns import id to v. Errors: NOT_FOUND (no such import, or not v's to see).
func (s *ImportService) Get(ctx context.Context, v auth.Viewer, id int64) (Import, error) {
	row, err := s.db.Queries.InventoryImportGet(ctx, id)
	if postgres.IsNotFound(err) {
		return Import{}, apperr.New(apperr.NotFound, "inventory import not found")
	}
	if err != nil {
		return Import{}, fmt.Errorf("read import %d: %w", id, err)
	}
	imp := importFromRow(row)
	if !canSeeImport(v, imp) {
		return Import{}, apperr.New(apperr.NotFound, "inventory import not found")
	}
	return imp, nil
}

// Follow streams import id to v: its state now, then each change of its status or progress,
// until it ends (the last value sent is SUCCEEDED or FAILED) or ctx does. The stream reads
// PostgreSQL, the truth whichever instance runs the job: when the Bell rings the import's
// topic (the apply rings it on every instance, through Redis), and every PollInterval in case
// a ring was lost. Errors: NOT_FOUND (no such import, or not v's to see).
func (s *ImportService) Follow(ctx context.Context, v auth.Viewer, id int64) (<-chan Import, error) {
	var rang <-chan struct{}
	stop := func() {}
	if s.Bell != nil {
		// Before the first read: a ring between it and listening would be lost.
		rang, stop = s.Bell.Listen(importTopic(id))
	}
	first, err := s.Get(ctx, v, id)
	if err != nil {
		stop()
		return nil, err
	}
	poll := s.PollInterval
	switch {
	case poll > 0:
	case s.Bell != nil:
		poll = DefaultFollowPollWithBell
	default:
		poll = DefaultFollowPoll
	}
	out := make(chan Import, 1)
	go func() {
		defer close(out)
		defer stop()
		last := first
		out <- first
		ticker := time.NewTicker(poll)
		defer ticker.Stop()
		for !last.Status.Done() {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			case <-rang:
			}
			row, err := s.db.Queries.InventoryImportGet(ctx, id)
			if err != nil {
				if ctx.Err() == nil {
					s.log.WarnContext(ctx, "follow inventory import", "import_id", id, "err", err)
				}
				continue
			}
			cur := importFromRow(row)
			if cur.Status == last.Status && cur.Processed == last.Processed {
				continue
			}
			select {
			case out <- cur:
				last = cur
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// errApplyFailed rolls the apply back: a row could not be applied (failure says which).
var errApplyFailed = errors.New("inventory import: a row cannot be applied")

// errAlreadyDone ends an apply attempt that finds the import ended (a job run again).
var errAlreadyDone = errors.New("inventory import: already ended")

// Apply applies import id: every row's stock, in one transaction, or none. Progress
// (processed) is written on its own connection after each chunk, so that followers see it
// while the transaction is still open. The status SUCCEEDED commits with the stock; an import
// that has ended is left alone, so a job run again (after a crash between the commit and
// River's completion) applies nothing twice. A row that cannot be applied (its variant deleted
// since validation) fails the import: the stock stays as it was, the status is FAILED with the
// rows' errors, and Apply returns nil. Any other error is returned for the job to retry;
// lastAttempt marks the import FAILED first.
func (s *ImportService) Apply(ctx context.Context, id int64, lastAttempt bool) error {
	row, err := s.db.Queries.InventoryImportGet(ctx, id)
	if postgres.IsNotFound(err) {
		return nil // deleted: nothing to do
	}
	if err != nil {
		return fmt.Errorf("read import %d: %w", id, err)
	}
	if ImportStatus(row.Status).Done() {
		return nil
	}
	if err := s.db.Queries.InventoryImportStart(ctx, id); err != nil {
		return s.retryOrFail(ctx, id, 0, lastAttempt, fmt.Errorf("start import %d: %w", id, err))
	}
	s.ring(ctx, id)
	chunk := s.ChunkSize
	if chunk <= 0 {
		chunk = DefaultImportChunk
	}
	var failure []ImportError
	processed := 0
	err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		failure, processed = nil, 0
		if err := q.InventoryImportLock(ctx, id); err != nil {
			return err
		}
		cur, err := q.InventoryImportGet(ctx, id)
		if err != nil {
			return err
		}
		if ImportStatus(cur.Status).Done() {
			return errAlreadyDone
		}
		var (
			changes   []StockChange
			crossings []catalog.LowStockCrossing
			before    []int
		)
		statusChanged := false
		after := int64(0)
		for {
			if s.beforeChunk != nil {
				s.beforeChunk(ctx, processed)
			}
			want, err := q.InventoryImportChunk(ctx, db.InventoryImportChunkParams{ImportID: id, After: after, N: int32(chunk)})
			if err != nil {
				return err
			}
			if len(want) == 0 {
				break
			}
			upto := want[len(want)-1].VariantID
			got, err := q.InventoryImportApply(ctx, db.InventoryImportApplyParams{ImportID: id, After: after, Upto: upto})
			if err != nil {
				return err
			}
			if len(got) != len(want) {
				failure = missingRows(want, got)
				return errApplyFailed
			}
			for _, g := range got {
				changes = append(changes, StockChange{VariantID: g.ID, ProductID: g.ProductID,
					Quantity: int(g.Stock), Delta: int(g.Stock - g.OldStock), Reason: g.Reason})
				if stockStatusChanged(int(g.OldStock), int(g.Stock), int(g.LowStockThreshold)) {
					statusChanged = true
				}
				crossings = append(crossings, catalog.LowStockCrossing{VariantID: g.ID, VendorID: g.VendorID,
					Quantity: int(g.Stock), Threshold: int(g.LowStockThreshold)})
				before = append(before, int(g.OldStock))
			}
			processed += len(want)
			after = upto
			// On the pool, outside the transaction: committed at once, seen by followers.
			if err := s.db.Queries.InventoryImportProgress(ctx, db.InventoryImportProgressParams{ID: id, Processed: int32(processed)}); err != nil {
				return fmt.Errorf("record progress: %w", err)
			}
			s.ring(ctx, id)
		}
		if s.Hook != nil && len(changes) > 0 {
			if err := s.Hook.StockChanged(ctx, tx, changes); err != nil {
				return fmt.Errorf("stock hook: %w", err)
			}
		}
		if err := catalog.NotifyLowStock(ctx, tx, s.LowStock, crossings, before); err != nil {
			return err
		}
		if err := q.InventoryImportFinish(ctx, db.InventoryImportFinishParams{ID: id, Status: db.InventoryImportStatusSUCCEEDED,
			Processed: int32(processed), Errors: []byte("[]")}); err != nil {
			return err
		}
		productIDs := make([]int64, 0, len(changes))
		for _, c := range changes {
			productIDs = append(productIDs, c.ProductID)
		}
		slices.Sort(productIDs)
		productIDs = slices.Compact(productIDs)
		postgres.AfterCommit(ctx, func(ctx context.Context) {
			if s.stock != nil {
				s.stock.InvalidateStock(ctx, productIDs, statusChanged)
			}
			s.ring(ctx, id)
		})
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errAlreadyDone):
		return nil
	case errors.Is(err, errApplyFailed):
		return s.fail(ctx, id, processed, failure)
	}
	return s.retryOrFail(ctx, id, processed, lastAttempt, fmt.Errorf("apply import %d: %w", id, err))
}

// retryOrFail returns err for the job to retry, or, on its last attempt, marks the import
// FAILED first.
func (s *ImportService) retryOrFail(ctx context.Context, id int64, processed int, lastAttempt bool, err error) error {
	if !lastAttempt {
		return err
	}
	if ferr := s.fail(ctx, id, processed, []ImportError{{Code: apperr.Internal,
		Message: "The import could not be applied (the database failed repeatedly); nothing was changed. Upload it again."}}); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// fail marks import id FAILED with errs.
func (s *ImportService) fail(ctx context.Context, id int64, processed int, errs []ImportError) error {
	b, err := json.Marshal(errs)
	if err != nil {
		return err
	}
	if err := s.db.Queries.InventoryImportFinish(ctx, db.InventoryImportFinishParams{ID: id, Status: db.InventoryImportStatusFAILED,
		Processed: int32(processed), Errors: b}); err != nil {
		return fmt.Errorf("mark import %d failed: %w", id, err)
	}
	s.ring(ctx, id)
	return nil
}

// ring tells import id's followers on every instance that it moved.
func (s *ImportService) ring(ctx context.Context, id int64) {
	if s.Bell != nil {
		s.Bell.Ring(ctx, importTopic(id))
	}
}

// missingRows are the errors of the rows of want that the apply did not set.
func missingRows(want []db.InventoryImportChunkRow, got []db.InventoryImportApplyRow) []ImportError {
	applied := make(map[int64]bool, len(got))
	for _, g := range got {
		applied[g.ID] = true
	}
	var out []ImportError
	for _, w := range want {
		if !applied[w.VariantID] {
			out = append(out, ImportError{Row: int(w.Line), Column: "sku", Code: apperr.NotFound,
				Message: fmt.Sprintf("Row %d, sku: the variant with SKU %q was deleted after the file was checked; nothing was applied.", w.Line, w.SKU)})
		}
	}
	slices.SortFunc(out, func(a, b ImportError) int { return a.Row - b.Row })
	return out
}

// stockStatusChanged is whether customers see a change of stock from before to after under the
// variant's effective low-stock threshold (catalog.StockStatusOf).
func stockStatusChanged(before, after, threshold int) bool {
	return catalog.StockStatusOf(before, false, threshold) != catalog.StockStatusOf(after, false, threshold)
}

func importFromRow(r db.InventoryImport) Import {
	imp := Import{ID: r.ID, CreatedBy: r.CreatedBy, Status: ImportStatus(r.Status), Processed: int(r.Processed),
		Total: int(r.Total), CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt, Errors: []ImportError{}}
	_ = json.Unmarshal(r.Errors, &imp.Errors)
	return imp
}
