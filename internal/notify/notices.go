package notify

// This file holds the notices to vendors and admins (issue 17's "Vendors" and "Admins"
// emails): a vendor's notice of a paid order holding its lines, a vendor's low-stock notice,
// and the admins' notice of an application to sell. Each is owed, like the customer's emails,
// by a River job inserted in the transaction of the change; its recipients are found when the
// job runs, and each (event, recipient) is sent at most once once marked (email_deliveries).
//
// A vendor's notices go to its contact address (vendors.contact_email) or, when it has none,
// to each of its members (users.vendor_id). The admins' notices go to every ADMIN account.

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
)

// VendorOrderEventKey is the delivery key of vendor vendorID's notice of order orderID: one
// per (order, vendor), to each of the vendor's recipients.
func VendorOrderEventKey(orderID, vendorID int64) string {
	return fmt.Sprintf("%s:%d:%d", KindVendorOrder, orderID, vendorID)
}

// LowStockEventKey is the delivery key of the low-stock notice of variant variantID's
// crossing key.
func LowStockEventKey(variantID int64, key string) string {
	return fmt.Sprintf("%s:%d:%s", KindLowStock, variantID, key)
}

// VendorApplicationEventKey is the delivery key of the admins' notice of vendor vendorID's
// application.
func VendorApplicationEventKey(vendorID int64) string {
	return fmt.Sprintf("%s:%d", KindVendorApplication, vendorID)
}

// vendorRecipients returns the vendors among ids with the addresses their notices go to: the
// contact address, else every member's. A vendor with neither is left out.
func vendorRecipients(ctx context.Context, q *db.Queries, ids []int64) (map[int64]db.NoticeVendorRecipientsRow, map[int64][]string, error) {
	rows, err := q.NoticeVendorRecipients(ctx, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("read vendors %v's recipients: %w", ids, err)
	}
	vendors := make(map[int64]db.NoticeVendorRecipientsRow, len(rows))
	to := make(map[int64][]string, len(rows))
	for _, r := range rows {
		vendors[r.ID] = r
		if r.ContactEmail != "" {
			to[r.ID] = []string{r.ContactEmail}
		} else {
			to[r.ID] = r.MemberEmails
		}
	}
	return vendors, to, nil
}

// pending is one email of a job that sends several.
type pending struct {
	key string
	msg Message
}

// deliverAll sends each email once per (key, recipient), as deliver does, going on past a
// recipient's failure so that one bad address holds up no one else. A send that must wait for
// its turn stops the run at once (its *RateLimitedError: the job is snoozed and sends the
// rest when run again; the sent ones are skipped). Then: any transient failure is returned
// (without the permanent ones, so the job is retried, not cancelled); only permanent ones,
// they are returned (wrapping ErrPermanent); none, nil.
func (s *Service) deliverAll(ctx context.Context, emails []pending) error {
	// The deliveries over already are skipped before they take a turn under the rate limit:
	// otherwise a job snoozed after its first sends would spend its turns on them again each
	// time it runs, and never reach the rest.
	keys := make([]string, 0, len(emails))
	for _, e := range emails {
		if !slices.Contains(keys, e.key) {
			keys = append(keys, e.key)
		}
	}
	done, err := db.New(s.db.Pool).NoticeDeliveriesDone(ctx, keys)
	if err != nil {
		return fmt.Errorf("read the deliveries of %v: %w", keys, err)
	}
	type delivery struct{ key, to string }
	over := make(map[delivery]bool, len(done))
	for _, d := range done {
		over[delivery{d.EventKey, d.Recipient}] = true
	}
	var transient, permanent []error
	for _, e := range emails {
		if over[delivery{e.key, e.msg.To}] {
			continue
		}
		_, err := s.deliver(ctx, e.key, e.msg)
		var rl *RateLimitedError
		switch {
		case err == nil:
		case errors.As(err, &rl):
			return err
		case errors.Is(err, ErrPermanent):
			permanent = append(permanent, err)
		default:
			transient = append(transient, err)
		}
	}
	if len(transient) > 0 {
		for _, err := range permanent {
			s.log.WarnContext(ctx, "email refused for good", "err", err)
		}
		return errors.Join(transient...)
	}
	return errors.Join(permanent...)
}

// errOff is the error of a send while emails are off.
func errOff(what string) error {
	return fmt.Errorf("%s: %w: SMTP_URL is not set", what, ErrPermanent)
}

// SendVendorOrders sends each vendor of order orderID's lines its notice of the order: only
// its own lines and their total, with the shipping address. Lines of the platform's own
// products (no vendor) are in no notice. Errors: as deliverAll's.
func (s *Service) SendVendorOrders(ctx context.Context, orderID int64) error {
	if !s.Enabled() {
		return errOff(fmt.Sprintf("order %d's vendor notices", orderID))
	}
	q := db.New(s.db.Pool)
	row, err := q.OrderGetByID(ctx, orderID)
	if err != nil {
		return fmt.Errorf("get order %d: %w", orderID, err)
	}
	o := order.FromRow(row)
	lineRows, err := q.OrderLineListByOrderIDs(ctx, []int64{orderID})
	if err != nil {
		return fmt.Errorf("get order %d's lines: %w", orderID, err)
	}
	var ids []int64 // in the order of their first line
	byVendor := map[int64][]order.Line{}
	for _, r := range lineRows {
		l := order.LineOf(r)
		if l.VendorID == nil {
			continue
		}
		if _, ok := byVendor[*l.VendorID]; !ok {
			ids = append(ids, *l.VendorID)
		}
		byVendor[*l.VendorID] = append(byVendor[*l.VendorID], l)
	}
	if len(ids) == 0 {
		return nil
	}
	vendors, to, err := vendorRecipients(ctx, q, ids)
	if err != nil {
		return err
	}
	var emails []pending
	for _, id := range ids {
		if len(to[id]) == 0 {
			s.log.WarnContext(ctx, "vendor has no contact address nor members: no order notice", "vendor_id", id, "order_id", orderID)
			continue
		}
		for _, addr := range to[id] {
			msg, err := s.tmpl().VendorOrderMessage(addr, vendors[id].Name, o, byVendor[id])
			if err != nil {
				return err
			}
			emails = append(emails, pending{key: VendorOrderEventKey(orderID, id), msg: msg})
		}
	}
	return s.deliverAll(ctx, emails)
}

// LowStockCrossing is a variant's stock falling to or below its low-stock threshold: the
// movement that took it from above the threshold to at or below it. One crossing is one
// notice; sales that keep it below send nothing until it is restocked above and crosses
// again.
type LowStockCrossing struct {
	VariantID int64
	// VendorID is the vendor told; 0 (a product of the platform's own) is told no one.
	VendorID int64
	// Quantity is the stock after the movement; Threshold the variant's threshold.
	Quantity, Threshold int
	// Key names this crossing among the variant's, the same however often the job or the
	// transaction that found it runs: the id of the stock movement that crossed, or the
	// variant's count of crossings. Required.
	Key string
}

// LowStock owes each crossing's vendor its low-stock notice: it inserts their jobs in tx,
// the transaction of the stock movement, in one statement (InsertManyTx). It does nothing when
// emails are off; crossings without a vendor are skipped. A crossing without a Key is an
// error (its notices could not be told apart from another crossing's).
func (s *Service) LowStock(ctx context.Context, tx pgx.Tx, crossings []LowStockCrossing) error {
	if !s.Enabled() {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(crossings))
	for _, c := range crossings {
		if c.Key == "" {
			return fmt.Errorf("low-stock crossing of variant %d has no key", c.VariantID)
		}
		if c.VendorID == 0 {
			continue
		}
		params = append(params, river.InsertManyParams{Args: jobs.SendLowStockEmailArgs{
			VariantID: c.VariantID, VendorID: c.VendorID, Quantity: c.Quantity, Threshold: c.Threshold, Key: c.Key}})
	}
	return s.jobs.InsertManyTx(ctx, tx, params)
}

// SendLowStock sends crossing c's notice to its vendor's recipients. Errors: as deliverAll's.
func (s *Service) SendLowStock(ctx context.Context, c LowStockCrossing) error {
	if !s.Enabled() {
		return errOff(fmt.Sprintf("variant %d's low-stock notice", c.VariantID))
	}
	q := db.New(s.db.Pool)
	v, err := q.NoticeVariant(ctx, c.VariantID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("variant %d is gone: %w", c.VariantID, ErrPermanent)
	}
	if err != nil {
		return fmt.Errorf("get variant %d: %w", c.VariantID, err)
	}
	vendors, to, err := vendorRecipients(ctx, q, []int64{c.VendorID})
	if err != nil {
		return err
	}
	if len(to[c.VendorID]) == 0 {
		s.log.WarnContext(ctx, "vendor has no contact address nor members: no low-stock notice", "vendor_id", c.VendorID, "variant_id", c.VariantID)
		return nil
	}
	data := lowStockData{Vendor: vendors[c.VendorID].Name, SKU: v.SKU, Product: v.ProductName, Variant: v.Name,
		Quantity: c.Quantity, Threshold: c.Threshold}
	var emails []pending
	for _, addr := range to[c.VendorID] {
		msg, err := s.tmpl().LowStockMessage(addr, data)
		if err != nil {
			return err
		}
		emails = append(emails, pending{key: LowStockEventKey(c.VariantID, c.Key), msg: msg})
	}
	return s.deliverAll(ctx, emails)
}

// VendorApplied owes every admin the notice of vendor vendorID's application to sell: it
// inserts its job in tx, the application's transaction. It does nothing when emails are off.
func (s *Service) VendorApplied(ctx context.Context, tx pgx.Tx, vendorID int64) error {
	if !s.Enabled() {
		return nil
	}
	return s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: jobs.SendVendorApplicationEmailArgs{VendorID: vendorID}}})
}

// SendVendorApplication sends every admin the notice of vendor vendorID's application.
// Errors: as deliverAll's.
func (s *Service) SendVendorApplication(ctx context.Context, vendorID int64) error {
	if !s.Enabled() {
		return errOff(fmt.Sprintf("vendor %d's application notice", vendorID))
	}
	q := db.New(s.db.Pool)
	v, err := q.NoticeVendorApplication(ctx, vendorID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("vendor %d is gone: %w", vendorID, ErrPermanent)
	}
	if err != nil {
		return fmt.Errorf("get vendor %d: %w", vendorID, err)
	}
	admins, err := q.NoticeAdminEmails(ctx)
	if err != nil {
		return fmt.Errorf("list admins: %w", err)
	}
	data := vendorApplicationData{VendorID: vendorGID(vendorID), Vendor: v.Name, Slug: v.Slug,
		ContactEmail: v.ContactEmail, Description: v.Description, Applied: v.CreatedAt.UTC().Format("2006-01-02 15:04 MST")}
	if v.ApplicantEmail != nil {
		data.ApplicantEmail = *v.ApplicantEmail
	}
	if v.ApplicantName != nil {
		data.Applicant = *v.ApplicantName
	}
	var emails []pending
	for _, addr := range admins {
		msg, err := s.tmpl().VendorApplicationMessage(addr, data)
		if err != nil {
			return err
		}
		emails = append(emails, pending{key: VendorApplicationEventKey(vendorID), msg: msg})
	}
	return s.deliverAll(ctx, emails)
}

// vendorTotal is the sum of lines' totals (checked: an overflow is an error, never a wrong
// amount).
func vendorTotal(lines []order.Line, currency string) (money.Money, error) {
	total := money.Money{Currency: currency}
	for _, l := range lines {
		var err error
		if total, err = total.Add(l.LineTotal); err != nil {
			return money.Money{}, err
		}
	}
	return total, nil
}

// VendorOrderWorker sends the vendors' notices of a paid order; failures as
// OrderPlacedWorker's (a permanent failure of one recipient does not stop the others).
type VendorOrderWorker struct {
	river.WorkerDefaults[jobs.SendVendorOrderEmailsArgs]
	Notify *Service
}

// Work implements river.Worker.
func (w *VendorOrderWorker) Work(ctx context.Context, job *river.Job[jobs.SendVendorOrderEmailsArgs]) error {
	return w.Notify.jobResult(ctx, w.Notify.SendVendorOrders(ctx, job.Args.OrderID), "order_id", job.Args.OrderID)
}

// LowStockWorker sends a low-stock crossing's notice; failures as VendorOrderWorker's.
type LowStockWorker struct {
	river.WorkerDefaults[jobs.SendLowStockEmailArgs]
	Notify *Service
}

// Work implements river.Worker.
func (w *LowStockWorker) Work(ctx context.Context, job *river.Job[jobs.SendLowStockEmailArgs]) error {
	a := job.Args
	err := w.Notify.SendLowStock(ctx, LowStockCrossing{VariantID: a.VariantID, VendorID: a.VendorID,
		Quantity: a.Quantity, Threshold: a.Threshold, Key: a.Key})
	return w.Notify.jobResult(ctx, err, "variant_id", a.VariantID, "key", a.Key)
}

// VendorApplicationWorker sends the admins' notice of an application; failures as
// VendorOrderWorker's.
type VendorApplicationWorker struct {
	river.WorkerDefaults[jobs.SendVendorApplicationEmailArgs]
	Notify *Service
}

// Work implements river.Worker.
func (w *VendorApplicationWorker) Work(ctx context.Context, job *river.Job[jobs.SendVendorApplicationEmailArgs]) error {
	return w.Notify.jobResult(ctx, w.Notify.SendVendorApplication(ctx, job.Args.VendorID), "vendor_id", job.Args.VendorID)
}

// jobResult is what a notice's job returns for its send's err: a snooze for a send that must
// wait for its turn, a cancellation for permanent failures only (recorded), else err (River
// retries with backoff).
func (s *Service) jobResult(ctx context.Context, err error, logArgs ...any) error {
	if snooze := snoozed(err); snooze != nil {
		return snooze
	}
	if errors.Is(err, ErrPermanent) {
		s.log.WarnContext(ctx, "notice refused for good", append(logArgs, "err", err)...)
		return river.JobCancel(err)
	}
	return err
}
