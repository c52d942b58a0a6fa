package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// inTx runs fn in a transaction of b's database, committed when commit is true.
func (b *bundle) inTx(t *testing.T, commit bool, fn func(ctx context.Context, tx pgx.Tx) error) {
	t.Helper()
	ctx := context.Background()
	tx, err := b.d.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	require.NoError(t, fn(ctx, tx))
	if commit {
		require.NoError(t, tx.Commit(ctx))
	}
}

// jobArgs returns the args of the queued jobs of kind, in insertion order.
func jobArgs[A any](t *testing.T, b *bundle, kind string) []A {
	t.Helper()
	rows, err := b.d.Pool.Query(context.Background(), `SELECT args FROM river_job WHERE kind = $1 ORDER BY id`, kind)
	require.NoError(t, err)
	var out []A
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var a A
		require.NoError(t, json.Unmarshal(raw, &a))
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func jobOf[A river.JobArgs](a A) *river.Job[A] {
	return &river.Job[A]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 17}, Args: a}
}

// sentTo returns the messages received for address to.
func sentTo(srv *smtptest.Server, to string) []smtptest.Received {
	var out []smtptest.Received
	for _, m := range srv.Messages() {
		if slices.Contains(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}

// parts requires m's subject and both parts.
func parts(t *testing.T, m smtptest.Received) (string, string, string) {
	t.Helper()
	subject, p, err := m.Parts()
	require.NoError(t, err)
	require.NotEmpty(t, p["text/plain"])
	require.NotEmpty(t, p["text/html"])
	return subject, p["text/plain"], p["text/html"]
}

// vendorWithMembers makes a vendor with no contact address and n member accounts.
func vendorWithMembers(t *testing.T, b *bundle, name string, n int) (tf.Vendor, []string) {
	t.Helper()
	v := tf.NewVendor(t, b.d, tf.VendorOpts{Name: name})
	_, err := b.d.Pool.Exec(context.Background(), `UPDATE vendors SET contact_email = '' WHERE id = $1`, v.ID)
	require.NoError(t, err)
	var emails []string
	for range n {
		u := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor, NoVendor: true})
		_, err := b.d.Pool.Exec(context.Background(), `UPDATE users SET vendor_id = $1 WHERE id = $2`, v.ID, u.ID)
		require.NoError(t, err)
		emails = append(emails, u.Email)
	}
	return v, emails
}

// TestVendorOrderNoticeListsOnlyItsLines: each vendor of a paid order's lines gets one notice
// (to its contact address, or to each member when it has none) listing only its own lines and
// their total, amounts formatted; the platform's own line is in none; the job run again sends
// nothing more.
func TestVendorOrderNoticeListsOnlyItsLines(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acme := tf.NewVendor(t, b.d, tf.VendorOpts{Name: "Acme Widgets"})
	acmeEmail := acme.Slug + "@vendors.example.com"
	bolt, boltMembers := vendorWithMembers(t, b, "Bolt Supplies", 2)
	product := func(name string, vendorID *int64) tf.Product {
		return tf.NewProduct(t, b.d, tf.ProductOpts{Name: name, VendorID: vendorID, Variants: []tf.VariantOpts{{Name: "Std", Price: 100}}})
	}
	gear, sprocket := product("Acme Gear", &acme.ID), product("Acme Sprocket", &acme.ID)
	bolts, house := product("Bolt Pack", &bolt.ID), product("House Brand Tape", nil)
	line := func(p tf.Product, vendorID *int64, qty int, price int64) tf.LineOpts {
		return tf.LineOpts{ProductID: p.ID, VariantID: p.Variant(), VendorID: vendorID, Quantity: qty, UnitPrice: price}
	}
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID, Status: "PAID", Lines: []tf.LineOpts{
		line(gear, &acme.ID, 2, 1250), line(bolts, &bolt.ID, 3, 199), line(sprocket, &acme.ID, 1, 4000), line(house, nil, 1, 999),
	}})

	w := &notify.VendorOrderWorker{Notify: b.svc}
	require.NoError(t, w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o.ID})))
	require.Len(t, b.smtp.Messages(), 3, "acme's contact and bolt's two members")

	got := sentTo(b.smtp, acmeEmail)
	require.Len(t, got, 1)
	subject, text, html := parts(t, got[0])
	require.Equal(t, notify.VendorOrderSubject(o.ID, "Acme Widgets"), subject)
	for typ, body := range map[string]string{"text": text, "html": html} {
		for _, want := range []string{"Acme Gear", "Acme Sprocket", "$ 12.50", "$ 25.00", "$ 40.00", "$ 65.00", "1 Main St"} {
			require.Contains(t, body, want, "%s part", typ)
		}
		for _, not := range []string{"Bolt Pack", "House Brand Tape", "$ 5.97", "$ 9.99", "$ 80.94"} {
			require.NotContains(t, body, not, "another seller's line or the order's total in acme's %s part", typ)
		}
	}
	for _, member := range boltMembers {
		got := sentTo(b.smtp, member)
		require.Len(t, got, 1, member)
		subject, text, html := parts(t, got[0])
		require.Equal(t, notify.VendorOrderSubject(o.ID, "Bolt Supplies"), subject)
		for _, body := range []string{text, html} {
			require.Contains(t, body, "Bolt Pack")
			require.Contains(t, body, "$ 1.99")
			require.Contains(t, body, "$ 5.97")
			require.NotContains(t, body, "Acme")
			require.NotContains(t, body, "House Brand Tape")
		}
	}
	require.Equal(t, 3, tf.Count(t, b.d, "email_deliveries", "event_key LIKE $1 AND status = 'sent'", fmt.Sprintf("vendor_order:%d:%%", o.ID)))
	require.Equal(t, 1, tf.Count(t, b.d, "email_deliveries", "event_key = $1", notify.VendorOrderEventKey(o.ID, acme.ID)))

	// The job run again (a retry) sends nothing more.
	require.NoError(t, w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o.ID})))
	require.Len(t, b.smtp.Messages(), 3)
}

// TestVendorOrderNoticeFailures: a transient failure fails the job (River retries it) and
// the retry sends every recipient its notice; a permanent refusal is recorded per recipient
// and cancels the job.
func TestVendorOrderNoticeFailures(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v, members := vendorWithMembers(t, b, "Gamma", 2)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID, Status: "PAID",
		Lines: []tf.LineOpts{{VendorID: &v.ID, Quantity: 1, UnitPrice: 500}}})
	w := &notify.VendorOrderWorker{Notify: b.svc}

	b.smtp.Refuse(451)
	err := w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o.ID}))
	require.Error(t, err)
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel), "transient: retried")
	b.smtp.Refuse(0)
	require.NoError(t, w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o.ID})))
	for _, m := range members {
		require.Len(t, sentTo(b.smtp, m), 1)
	}

	// A second order, refused for good: recorded, cancelled, not sent again.
	o2 := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID, Status: "PAID",
		Lines: []tf.LineOpts{{VendorID: &v.ID, Quantity: 1, UnitPrice: 500}}})
	b.smtp.Refuse(550)
	err = w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o2.ID}))
	require.ErrorAs(t, err, &cancel)
	require.Equal(t, 2, tf.Count(t, b.d, "email_deliveries", "event_key = $1 AND status = 'failed'", notify.VendorOrderEventKey(o2.ID, v.ID)))
}

// TestPaidMoveOwesTheVendorNotices: the move to PAID inserts the customer's email and the
// vendors' notices in its transaction (one statement); rolled back, neither; other moves owe
// no vendor notice.
func TestPaidMoveOwesTheVendorNotices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	vendorJobs := func() []jobs.SendVendorOrderEmailsArgs {
		return jobArgs[jobs.SendVendorOrderEmailsArgs](t, b, "email_vendor_order")
	}
	move := func(orderID int64, status order.Status, commit bool) {
		b.inTx(t, commit, func(ctx context.Context, tx pgx.Tx) error {
			return b.svc.StatusChanged(ctx, tx, order.StatusChange{OrderID: orderID, Sequence: 2, Status: status})
		})
	}
	move(10, order.Paid, false)
	require.Empty(t, vendorJobs(), "a rolled-back payment owes nothing")
	move(11, order.Shipped, true)
	require.Empty(t, vendorJobs(), "only the payment tells the vendors")
	move(12, order.Paid, true)
	require.Equal(t, []jobs.SendVendorOrderEmailsArgs{{OrderID: 12}}, vendorJobs())
	require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'email_order_status' AND (args->>'order_id')::bigint = 12 AND queue = 'email'"))
	require.Equal(t, 1, tf.Count(t, b.d, "river_job", "kind = 'email_vendor_order' AND queue = 'email'"))
}

// TestLowStockNotices: a crossing committed owes one notice to its vendor, with the SKU,
// names, quantity and threshold; rolled back, none; two crossings, two notices; the job run
// again sends nothing more; a crossing without a vendor owes none; one without a key is
// refused.
func TestLowStockNotices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v := tf.NewVendor(t, b.d, tf.VendorOpts{Name: "Delta Goods"})
	contact := v.Slug + "@vendors.example.com"
	p := tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Delta Lamp", VendorID: &v.ID,
		Variants: []tf.VariantOpts{{SKU: "LAMP-RED-" + v.Slug, Name: "Red", Price: 100, Stock: 3}}})
	sku := "LAMP-RED-" + v.Slug
	owe := func(commit bool, cs ...notify.LowStockCrossing) {
		b.inTx(t, commit, func(ctx context.Context, tx pgx.Tx) error { return b.svc.LowStock(ctx, tx, cs) })
	}
	work := func() {
		w := &notify.LowStockWorker{Notify: b.svc}
		for _, a := range jobArgs[jobs.SendLowStockEmailArgs](t, b, "email_low_stock") {
			require.NoError(t, w.Work(context.Background(), jobOf(a)))
		}
	}

	owe(false, notify.LowStockCrossing{VariantID: p.Variant(), VendorID: v.ID, Quantity: 3, Threshold: 5, Key: "100"})
	require.Empty(t, jobArgs[jobs.SendLowStockEmailArgs](t, b, "email_low_stock"), "rolled back: nothing owed")

	owe(true, notify.LowStockCrossing{VariantID: p.Variant(), VendorID: v.ID, Quantity: 3, Threshold: 5, Key: "101"},
		notify.LowStockCrossing{VariantID: p.Variant(), Quantity: 1, Threshold: 2, Key: "102"}) // no vendor: no notice
	work()
	got := sentTo(b.smtp, contact)
	require.Len(t, got, 1)
	require.Len(t, b.smtp.Messages(), 1)
	subject, text, html := parts(t, got[0])
	require.Equal(t, notify.LowStockSubject(sku), subject)
	for _, body := range []string{text, html} {
		for _, want := range []string{sku, "Delta Lamp", "Red", "Delta Goods", "threshold of 5"} {
			require.Contains(t, body, want)
		}
	}
	require.Contains(t, text, "down to 3")
	require.Contains(t, html, "down to <strong>3</strong>")

	work() // every job run again: a retry sends nothing more
	require.Len(t, sentTo(b.smtp, contact), 1)

	// The stock is restocked, then falls again: a second crossing, a second notice.
	owe(true, notify.LowStockCrossing{VariantID: p.Variant(), VendorID: v.ID, Quantity: 0, Threshold: 5, Key: "205"})
	work()
	got = sentTo(b.smtp, contact)
	require.Len(t, got, 2)
	_, text, _ = parts(t, got[1])
	require.Contains(t, text, "down to 0")
	require.Equal(t, 2, tf.Count(t, b.d, "email_deliveries", "event_key LIKE 'low_stock:%' AND status = 'sent'"))
	require.Equal(t, 1, tf.Count(t, b.d, "email_deliveries", "event_key = $1", notify.LowStockEventKey(p.Variant(), "205")))

	// The same crossing owed twice (a job inserted twice) is still one notice.
	owe(true, notify.LowStockCrossing{VariantID: p.Variant(), VendorID: v.ID, Quantity: 0, Threshold: 5, Key: "205"})
	work()
	require.Len(t, sentTo(b.smtp, contact), 2)

	ctx := context.Background()
	tx, err := b.d.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	require.Error(t, b.svc.LowStock(ctx, tx, []notify.LowStockCrossing{{VariantID: p.Variant(), VendorID: v.ID}}), "a crossing needs its key")

	off := notify.NewService(b.d, b.queue, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	before := len(jobArgs[jobs.SendLowStockEmailArgs](t, b, "email_low_stock"))
	b.inTx(t, true, func(ctx context.Context, tx pgx.Tx) error {
		return off.LowStock(ctx, tx, []notify.LowStockCrossing{{VariantID: p.Variant(), VendorID: v.ID, Key: "300"}})
	})
	require.Len(t, jobArgs[jobs.SendLowStockEmailArgs](t, b, "email_low_stock"), before, "emails off: no job")
}

// failingNotifier owes the notice, then fails the application's transaction.
type failingNotifier struct{ vendor.Notifier }

func (f failingNotifier) VendorApplied(ctx context.Context, tx pgx.Tx, id int64) error {
	if err := f.Notifier.VendorApplied(ctx, tx, id); err != nil {
		return err
	}
	return errors.New("the application fails after its notice was owed")
}

// TestVendorApplicationNotice: an application through the vendor service tells every admin,
// once, of the vendor's name and the applicant; a rolled-back application tells no one.
func TestVendorApplicationNotice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	vendors := vendor.NewService(b.d, nil, log)
	vendors.Notifier = b.svc
	admins := []tf.User{tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleAdmin}), tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleAdmin})}
	applicant := tf.NewUser(t, b.d, tf.UserOpts{Name: "Grace Hopper"})
	ctx := context.Background()

	vendors.Notifier = failingNotifier{b.svc}
	_, err := vendors.Apply(ctx, applicant.Viewer(), vendor.ApplyInput{Profile: vendor.Profile{Name: "Rolled Back Co"}})
	require.Error(t, err)
	require.Empty(t, jobArgs[jobs.SendVendorApplicationEmailArgs](t, b, "email_vendor_application"), "rolled back: nothing owed")
	require.Zero(t, tf.Count(t, b.d, "vendors", "name = 'Rolled Back Co'"))

	vendors.Notifier = b.svc
	vd, err := vendors.Apply(ctx, applicant.Viewer(), vendor.ApplyInput{Profile: vendor.Profile{
		Name: "Hopper Compilers", Description: "Compilers, hand-made.", ContactEmail: "sales@hopper.example"}})
	require.NoError(t, err)
	owed := jobArgs[jobs.SendVendorApplicationEmailArgs](t, b, "email_vendor_application")
	require.Equal(t, []jobs.SendVendorApplicationEmailArgs{{VendorID: vd.ID}}, owed)

	w := &notify.VendorApplicationWorker{Notify: b.svc}
	require.NoError(t, w.Work(ctx, jobOf(owed[0])))
	require.NoError(t, w.Work(ctx, jobOf(owed[0])), "run again")
	require.Len(t, b.smtp.Messages(), len(admins), "one each, however often the job runs")
	for _, a := range admins {
		got := sentTo(b.smtp, a.Email)
		require.Len(t, got, 1, a.Email)
		subject, text, html := parts(t, got[0])
		require.Equal(t, notify.VendorApplicationSubject("Hopper Compilers"), subject)
		for _, body := range []string{text, html} {
			for _, want := range []string{"Hopper Compilers", "Grace Hopper", applicant.Email, "sales@hopper.example", "Compilers, hand-made.", vd.GlobalID()} {
				require.Contains(t, body, want)
			}
		}
	}
	require.False(t, strings.Contains(fmt.Sprint(b.smtp.Messages()[0].To), applicant.Email), "the applicant is not an admin")
}

// TestNoticeTemplates: the notices' templates are overridable like the others, and a broken
// one stops LoadTemplates naming its file; a vendor's total is formatted in the order's
// currency with its own minor units.
func TestNoticeTemplates(t *testing.T) {
	t.Parallel()
	tmpl, err := notify.LoadTemplates(writeTemplates(t, map[string]string{
		"vendor_order.subject.tmpl": "Ship order {{.Number}}, {{.Vendor}}",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"vendor_order.subject.tmpl"}, tmpl.Overridden)
	yen := func(n int64) money.Money { return money.Money{Amount: n, Currency: "JPY"} }
	o := order.Order{ID: 88, Total: yen(99999), ShippingAddress: order.Address{Name: "Ada", Line1: "1 Main St"}}
	msg, err := tmpl.VendorOrderMessage("v@example.com", "Acme", o, []order.Line{
		{ProductName: "Fan", SKU: "FAN-1", Quantity: 2, UnitPrice: yen(1500), LineTotal: yen(3000)},
		{ProductName: "Kettle", SKU: "KET-1", Quantity: 1, UnitPrice: yen(12000), LineTotal: yen(12000)},
	})
	require.NoError(t, err)
	require.Equal(t, "Ship order 88, Acme", msg.Subject)
	for _, body := range []string{msg.Text, msg.HTML} {
		require.Contains(t, body, "¥ 15,000", "the vendor's total, not the order's")
		require.Contains(t, body, "¥ 1,500")
		require.NotContains(t, body, "99,999")
	}

	for _, name := range []string{"vendor_order.txt.tmpl", "low_stock.html.tmpl", "vendor_application.subject.tmpl"} {
		_, err := notify.LoadTemplates(writeTemplates(t, map[string]string{name: "{{.NoSuchField}}"}))
		require.ErrorContains(t, err, name, "a broken override fails at start")
	}
}

// TestVendorOrderNoticeSnoozedUnderTheRateLimit: a notice job whose next send must wait past
// MaxWait is snoozed after the sends it could make; run again, it sends only the rest, so
// every member gets one notice.
func TestVendorOrderNoticeSnoozedUnderTheRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.svc.Configure(notify.Options{Rate: notify.RateLimit{Buckets: ratelimit.NewMemoryBuckets(), PerSecond: 1, MaxWait: time.Millisecond}})
	v, members := vendorWithMembers(t, b, "Epsilon", 3)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID, Status: "PAID",
		Lines: []tf.LineOpts{{VendorID: &v.ID}}})
	w := &notify.VendorOrderWorker{Notify: b.svc}

	err := w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o.ID}))
	var snooze *river.JobSnoozeError
	require.ErrorAs(t, err, &snooze, "the second send's turn is a second off")
	require.Len(t, b.smtp.Messages(), 1)

	deadline := time.Now().Add(15 * time.Second)
	for err != nil && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		err = w.Work(context.Background(), jobOf(jobs.SendVendorOrderEmailsArgs{OrderID: o.ID}))
		if err != nil {
			require.ErrorAs(t, err, &snooze)
		}
	}
	require.NoError(t, err)
	for _, m := range members {
		require.Len(t, sentTo(b.smtp, m), 1, m)
	}
	require.Len(t, b.smtp.Messages(), 3)
}
