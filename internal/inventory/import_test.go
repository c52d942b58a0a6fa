package inventory_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type importBundle struct {
	d       *postgres.DB
	catalog *catalog.Service
	svc     *inventory.ImportService
	admin   auth.Viewer
}

func setupImport(t testing.TB) importBundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	q := &jobs.Queue{} // insert-only: the tests run the worker themselves
	require.NoError(t, q.Start(context.Background(), d.Pool, nil, jobs.Options{}))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat := catalog.NewService(d, cache.New(cache.NewMemory(0)), log)
	svc := inventory.NewImportService(d, q, cat, log)
	admin := tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin})
	return importBundle{d: d, catalog: cat, svc: svc, admin: admin.Viewer()}
}

// work runs the apply job as River would, attempt of max.
func (b importBundle) work(t testing.TB, importID int64, attempt int) error {
	t.Helper()
	w := &inventory.ImportWorker{Imports: b.svc}
	return w.Work(context.Background(), &river.Job[jobs.ApplyInventoryImportArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: jobs.InventoryImportAttempts},
		Args:   jobs.ApplyInventoryImportArgs{ImportID: importID},
	})
}

func csvOf(lines ...string) io.Reader { return strings.NewReader(strings.Join(lines, "\n") + "\n") }

func skuOf(t *testing.T, d *postgres.DB, variantID int64) string {
	t.Helper()
	var sku string
	require.NoError(t, d.Pool.QueryRow(context.Background(), `SELECT sku FROM product_variants WHERE id = $1`, variantID).Scan(&sku))
	return sku
}

func errorsOf(t *testing.T, err error) []string {
	t.Helper()
	list, ok := err.(apperr.List)
	require.True(t, ok, "want an apperr.List, got %T: %v", err, err)
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = string(e.Code) + " " + strings.Join(e.Field, ".")
	}
	return out
}

// A file with problems gets every one of them, each naming its line and column, and changes
// nothing: no import, no job, no stock.
func TestImportValidationReportsEveryErrorAndChangesNothing(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 7}, {Stock: 7}, {Stock: 7}}})
	a, c, e := skuOf(t, b.d, p.Variants[0]), skuOf(t, b.d, p.Variants[1]), skuOf(t, b.d, p.Variants[2])

	cases := []struct {
		name string
		file io.Reader
		want []string
	}{
		{"every row's problems", csvOf("sku,quantity,reason",
			a+",5,restock",   // line 2: fine
			"NO-SUCH-SKU,3,", // 3: unknown
			c+",-1,",         // 4: negative
			e+",lots,",       // 5: not a number
			a+",2,",          // 6: duplicate of line 2
			c+",1000000001,", // 7: above the bound (and c again: duplicate of 4)
			e+",1",           // 8: wrong column count
			",4,",            // 9: empty SKU
			"X-"+a+",1,"+strings.Repeat("r", 201), // 10: unknown and reason too long
		), []string{
			"NOT_FOUND input.file.3.sku",
			"INVALID input.file.4.quantity",
			"INVALID input.file.5.quantity",
			"DUPLICATE input.file.6.sku",
			"DUPLICATE input.file.7.sku",
			"INVALID input.file.7.quantity",
			"INVALID input.file.8",
			"INVALID input.file.9.sku",
			"INVALID input.file.10.reason",
			"NOT_FOUND input.file.10.sku",
		}},
		{"an empty file", strings.NewReader(""), []string{"INVALID input.file"}},
		{"a header without rows", csvOf("sku,quantity"), []string{"INVALID input.file"}},
		{"a wrong header", csvOf("sku,qty", a+",1"), []string{"INVALID input.file.1"}},
		{"a header with extra columns", csvOf("sku,quantity,reason,note", a+",1,,"), []string{"INVALID input.file.1"}},
		{"a deleted variant's SKU", func() io.Reader {
			q := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{}, {Deleted: true}}})
			return csvOf("sku,quantity", skuOf(t, b.d, q.Variants[1])+",1")
		}(), []string{"NOT_FOUND input.file.2.sku"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.svc.Import(ctx, b.admin, tc.file)
			require.Error(t, err)
			require.ElementsMatch(t, tc.want, errorsOf(t, err))
		})
	}
	t.Run("more than 100,000 rows", func(t *testing.T) {
		var sb strings.Builder
		sb.WriteString("sku,quantity\n")
		for i := range inventory.MaxImportRows + 1 {
			fmt.Fprintf(&sb, "S%d,1\n", i)
		}
		_, err := b.svc.Import(ctx, b.admin, strings.NewReader(sb.String()))
		require.Equal(t, []string{"INVALID input.file"}, errorsOf(t, err))
		require.Contains(t, err.Error(), "more than 100000 rows")
	})
	t.Run("a file of many bad rows lists the first thousand and counts the rest", func(t *testing.T) {
		var sb strings.Builder
		sb.WriteString("sku,quantity\n")
		for i := range 1500 {
			fmt.Fprintf(&sb, "%s,x%d\n", a, i)
		}
		_, err := b.svc.Import(ctx, b.admin, strings.NewReader(sb.String()))
		list := err.(apperr.List)
		require.Len(t, list, inventory.MaxReportedErrors+1)
		require.Contains(t, list[len(list)-1].Message, "more errors are not listed")
	})

	require.Zero(t, tf.Count(t, b.d, "inventory_imports", "true"), "no import recorded")
	require.Zero(t, tf.Count(t, b.d, "inventory_import_rows", "true"))
	require.Zero(t, tf.Count(t, b.d, "river_job", "kind = 'apply_inventory_import'"), "no job")
	for _, v := range p.Variants {
		require.Equal(t, 7, tf.Stock(t, b.d, v), "no stock changed")
	}
}

// Vendors import only their own products' stock; another vendor's SKU is a row error, and
// customers cannot import at all.
func TestImportPolicy(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	vendor := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	other := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	own := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &vendor.VendorID})
	theirs := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &other.VendorID})
	theirsArchived := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &other.VendorID, Archived: true})
	platform := tf.NewProduct(t, b.d, tf.ProductOpts{})

	_, err := b.svc.Import(ctx, vendor.Viewer(), csvOf("sku,quantity",
		skuOf(t, b.d, own.Variant())+",3",
		skuOf(t, b.d, theirs.Variant())+",3",
		skuOf(t, b.d, theirsArchived.Variant())+",3",
		skuOf(t, b.d, platform.Variant())+",3"))
	require.ElementsMatch(t, []string{"FORBIDDEN input.file.3.sku", "NOT_FOUND input.file.4.sku", "FORBIDDEN input.file.5.sku"}, errorsOf(t, err))
	require.Zero(t, tf.Count(t, b.d, "inventory_imports", "true"))
	require.Equal(t, 10, tf.Stock(t, b.d, theirs.Variant()))

	imp, err := b.svc.Import(ctx, vendor.Viewer(), csvOf("sku,quantity", skuOf(t, b.d, own.Variant())+",3"))
	require.NoError(t, err, "a vendor imports their own stock")
	require.Equal(t, inventory.ImportPending, imp.Status)

	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	_, err = b.svc.Import(ctx, customer.Viewer(), csvOf("sku,quantity", skuOf(t, b.d, own.Variant())+",3"))
	require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)

	_, err = b.svc.Get(ctx, other.Viewer(), imp.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "another vendor cannot see the import: %v", err)
	_, err = b.svc.Follow(ctx, other.Viewer(), imp.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "nor follow it: %v", err)
	got, err := b.svc.Get(ctx, b.admin, imp.ID)
	require.NoError(t, err, "admins see every import")
	require.Equal(t, imp.ID, got.ID)
}

type hookRecorder struct {
	mu      sync.Mutex
	changes []inventory.StockChange
}

func (h *hookRecorder) StockChanged(_ context.Context, tx pgx.Tx, changes []inventory.StockChange) error {
	if tx == nil {
		return fmt.Errorf("no transaction")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.changes = append(h.changes, changes...)
	return nil
}

// A valid file of 1,000 rows is stored with its job and applied whole: every variant's stock,
// the import SUCCEEDED, the cached stock refreshed, the hook told of every change in the
// transaction; a job run again applies nothing twice.
func TestImportApply(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	hook := &hookRecorder{}
	b.svc.Hook = hook
	b.svc.ChunkSize = 300
	const n = 1000
	opts := make([]tf.VariantOpts, n)
	for i := range opts {
		opts[i] = tf.VariantOpts{Stock: 20}
	}
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: opts})
	lines := []string{"sku,quantity,reason"}
	for i, v := range p.Variants {
		lines = append(lines, fmt.Sprintf("%s,%d,count %d", skuOf(t, b.d, v), i, i))
	}
	// The cache holds the old stock, as a storefront read would have left it.
	before, err := b.catalog.VariantsByProductIDs(ctx, []int64{p.ID})
	require.NoError(t, err)
	require.EqualValues(t, 20, before[p.ID][0].Stock)

	imp, err := b.svc.Import(ctx, b.admin, csvOf(lines...))
	require.NoError(t, err)
	require.Equal(t, inventory.Import{ID: imp.ID, CreatedBy: b.admin.UserID, Status: inventory.ImportPending, Total: n,
		Errors: []inventory.ImportError{}, CreatedAt: imp.CreatedAt}, imp)
	require.Equal(t, n, tf.Count(t, b.d, "inventory_import_rows", "import_id = $1", imp.ID))
	require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'apply_inventory_import' AND (args->>'import_id')::bigint = $1", imp.ID),
		"the job committed with the import")
	require.Equal(t, 20, tf.Stock(t, b.d, p.Variants[5]), "nothing applied before the job runs")

	require.NoError(t, b.work(t, imp.ID, 1))
	for i, v := range p.Variants {
		require.Equal(t, i, tf.Stock(t, b.d, v))
	}
	got, err := b.svc.Get(ctx, b.admin, imp.ID)
	require.NoError(t, err)
	require.Equal(t, inventory.ImportSucceeded, got.Status)
	require.Equal(t, n, got.Processed)
	require.NotNil(t, got.FinishedAt)
	require.Empty(t, got.Errors)

	after, err := b.catalog.VariantsByProductIDs(ctx, []int64{p.ID})
	require.NoError(t, err)
	require.EqualValues(t, 7, after[p.ID][7].Stock, "the cached stock was invalidated after the commit")

	require.Len(t, hook.changes, n)
	require.Equal(t, inventory.StockChange{VariantID: p.Variants[3], ProductID: p.ID, Quantity: 3, Delta: -17, Reason: "count 3"}, hook.changes[3])

	// Run again (River retrying after a crash between the commit and the job's completion):
	// nothing is applied twice, even over a later change.
	_, err = b.d.Pool.Exec(ctx, `UPDATE product_variants SET stock = 99 WHERE id = $1`, p.Variants[0])
	require.NoError(t, err)
	require.NoError(t, b.work(t, imp.ID, 2))
	require.Equal(t, 99, tf.Stock(t, b.d, p.Variants[0]), "a retried job applies nothing")
	require.Len(t, hook.changes, n, "nor tells the hook again")
}

// Two attempts at once (a job River believes lost, run again while the first still runs)
// apply the import once.
func TestImportApplyConcurrentAttempts(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	hook := &hookRecorder{}
	b.svc.Hook = hook
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{}, {}}})
	imp, err := b.svc.Import(ctx, b.admin, csvOf("sku,quantity", skuOf(t, b.d, p.Variants[0])+",4", skuOf(t, b.d, p.Variants[1])+",5"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = b.work(t, imp.ID, 1) })
	}
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Len(t, hook.changes, 2, "applied once")
	require.Equal(t, 4, tf.Stock(t, b.d, p.Variants[0]))
}

// A variant deleted between the check and the apply fails the import: no stock changes, not
// even the rows before it, and the import is FAILED naming the row.
func TestImportApplyFailsWholeWhenAVariantIsGone(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	b.svc.ChunkSize = 2
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 8}, {Stock: 8}, {Stock: 8}, {Stock: 8}, {Stock: 8}}})
	lines := []string{"sku,quantity"}
	for _, v := range p.Variants {
		lines = append(lines, skuOf(t, b.d, v)+",1")
	}
	imp, err := b.svc.Import(ctx, b.admin, csvOf(lines...))
	require.NoError(t, err)
	_, err = b.d.Pool.Exec(ctx, `UPDATE product_variants SET deleted_at = now() WHERE id = $1`, p.Variants[3])
	require.NoError(t, err)

	require.NoError(t, b.work(t, imp.ID, 1), "a permanent failure is not retried")
	for _, v := range p.Variants {
		require.Equal(t, 8, tf.Stock(t, b.d, v), "nothing applied, not even the chunks before")
	}
	got, err := b.svc.Get(ctx, b.admin, imp.ID)
	require.NoError(t, err)
	require.Equal(t, inventory.ImportFailed, got.Status)
	require.NotNil(t, got.FinishedAt)
	require.Len(t, got.Errors, 1)
	require.Equal(t, 5, got.Errors[0].Row)
	require.Equal(t, "sku", got.Errors[0].Column)
	require.Equal(t, apperr.NotFound, got.Errors[0].Code)

	require.NoError(t, b.work(t, imp.ID, 2), "run again, a failed import stays failed")
	require.Equal(t, 8, tf.Stock(t, b.d, p.Variants[0]))
}

// Progress is visible while the apply runs, before anything of it is: processed grows on its
// own connection while the stock stays as it was until the commit.
func TestImportProgressIsVisibleWhileRunning(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	b.svc.ChunkSize = 10
	opts := make([]tf.VariantOpts, 35)
	for i := range opts {
		opts[i] = tf.VariantOpts{Stock: 3}
	}
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: opts})
	lines := []string{"sku,quantity"}
	for _, v := range p.Variants {
		lines = append(lines, skuOf(t, b.d, v)+",50")
	}
	imp, err := b.svc.Import(ctx, b.admin, csvOf(lines...))
	require.NoError(t, err)

	type seen struct {
		status    inventory.ImportStatus
		processed int
		stock     int
	}
	var observed []seen
	b.svc.SetBeforeChunk(func(ctx context.Context, processed int) {
		got, err := b.svc.Get(context.WithoutCancel(ctx), b.admin, imp.ID) // the pool: another connection
		require.NoError(t, err)
		observed = append(observed, seen{got.Status, got.Processed, tf.Stock(t, b.d, p.Variants[0])})
	})
	require.NoError(t, b.work(t, imp.ID, 1))
	require.Equal(t, []seen{
		{inventory.ImportRunning, 0, 3}, {inventory.ImportRunning, 10, 3}, {inventory.ImportRunning, 20, 3},
		{inventory.ImportRunning, 30, 3}, {inventory.ImportRunning, 35, 3},
	}, observed)
	require.Equal(t, 50, tf.Stock(t, b.d, p.Variants[0]))
}

// Follow streams the import's state, each change of its progress, and ends with its final
// status: by polling PostgreSQL, or, with a bell, as soon as the apply rings (the poll then
// set to an hour, so that only rings can deliver).
func TestImportFollow(t *testing.T) {
	t.Parallel()
	for _, withBell := range []bool{false, true} {
		t.Run(fmt.Sprintf("bell=%v", withBell), func(t *testing.T) {
			b := setupImport(t)
			if withBell {
				b.svc.Bell = pubsub.NewBell(nil, "bell", slog.New(slog.NewTextHandler(io.Discard, nil)))
				b.svc.PollInterval = time.Hour
			} else {
				b.svc.PollInterval = 5 * time.Millisecond
			}
			follow(t, b)
		})
	}
}

func follow(t *testing.T, b importBundle) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b.svc.ChunkSize = 2
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{}, {}, {}, {}}})
	lines := []string{"sku,quantity"}
	for _, v := range p.Variants {
		lines = append(lines, skuOf(t, b.d, v)+",2")
	}
	imp, err := b.svc.Import(ctx, b.admin, csvOf(lines...))
	require.NoError(t, err)
	stream, err := b.svc.Follow(ctx, b.admin, imp.ID)
	require.NoError(t, err)
	first := <-stream
	require.Equal(t, inventory.ImportPending, first.Status)

	// Each chunk waits until the follower saw the progress before it.
	var got []inventory.Import
	b.svc.SetBeforeChunk(func(_ context.Context, processed int) {
		for {
			select {
			case u := <-stream:
				got = append(got, u)
				if u.Status == inventory.ImportRunning && u.Processed == processed {
					return
				}
			case <-ctx.Done():
				t.Error("timed out waiting for progress", processed)
				return
			}
		}
	})
	require.NoError(t, b.work(t, imp.ID, 1))
	for u := range stream {
		got = append(got, u)
	}
	last := got[len(got)-1]
	require.Equal(t, inventory.ImportSucceeded, last.Status)
	require.Equal(t, 4, last.Processed)
	var progress []int
	for _, u := range got {
		if u.Status == inventory.ImportRunning {
			progress = append(progress, u.Processed)
		}
	}
	require.Equal(t, []int{0, 2, 4}, progress)
}

type failingHook struct{}

func (failingHook) StockChanged(context.Context, pgx.Tx, []inventory.StockChange) error {
	return fmt.Errorf("webhook outbox unavailable")
}

// The stock hook runs inside the apply's transaction: its failure rolls the stock back and the
// job is retried; on the last attempt the import is marked FAILED.
func TestImportHookFailureRollsBackAndFailsOnLastAttempt(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	b.svc.Hook = failingHook{}
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Stock: 4}}})
	imp, err := b.svc.Import(ctx, b.admin, csvOf("sku,quantity", skuOf(t, b.d, p.Variant())+",9"))
	require.NoError(t, err)

	require.Error(t, b.work(t, imp.ID, 1), "a transient failure is returned for River to retry")
	require.Equal(t, 4, tf.Stock(t, b.d, p.Variant()))
	got, err := b.svc.Get(ctx, b.admin, imp.ID)
	require.NoError(t, err)
	require.Equal(t, inventory.ImportRunning, got.Status)

	require.Error(t, b.work(t, imp.ID, jobs.InventoryImportAttempts))
	require.Equal(t, 4, tf.Stock(t, b.d, p.Variant()))
	got, err = b.svc.Get(ctx, b.admin, imp.ID)
	require.NoError(t, err)
	require.Equal(t, inventory.ImportFailed, got.Status)
	require.Equal(t, apperr.Internal, got.Errors[0].Code)

	b.svc.Hook = nil
	require.NoError(t, b.work(t, imp.ID, jobs.InventoryImportAttempts+1), "a FAILED import is never applied later")
	require.Equal(t, 4, tf.Stock(t, b.d, p.Variant()))
}

// Spreadsheet exports are taken as they come: a byte order mark, a capitalised header, CRLF
// line endings, quoted fields, blank lines and spaces around values.
func TestImportReadsSpreadsheetExports(t *testing.T) {
	t.Parallel()
	b := setupImport(t)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{}, {}}})
	file := "\uFEFFSKU,Quantity,Reason\r\n" + skuOf(t, b.d, p.Variants[0]) + ", 12 ,\"damaged, returned\"\r\n\r\n\"" + skuOf(t, b.d, p.Variants[1]) + "\",0,\r\n"
	imp, err := b.svc.Import(ctx, b.admin, strings.NewReader(file))
	require.NoError(t, err)
	require.Equal(t, 2, imp.Total)
	require.NoError(t, b.work(t, imp.ID, 1))
	require.Equal(t, 12, tf.Stock(t, b.d, p.Variants[0]))
	require.Zero(t, tf.Stock(t, b.d, p.Variants[1]))
}
