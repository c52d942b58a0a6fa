package vendor

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// This file is the vendor ledger: what each vendor earned on its paid order lines and what
// refunds took back, per currency. It is the ledger payouts (Stripe Connect transfers) will
// read; nothing is transferred yet. It is append-only (vendor_ledger_entries; a trigger refuses
// updates and deletes) and written only by order.Service.TransitionTx, through its Ledger hook
// (set in internal/app), in the transaction of the order's move:
//
//   - PAID (the payment webhook's payment_intent.succeeded): one EARNING per vendor line, with
//     the commission rate the line kept at checkout (order_lines.commission_bps): commission =
//     line total × bps / 10000 rounded half up on minor units (249.5 cents → 250), earnings
//     (net) = line total − commission. Platform lines (no vendor) earn nobody anything.
//   - REFUNDED / PARTIALLY_REFUNDED (payment's moveForRefund, the one place that decides a
//     refund moved money back: our refund settled, or charge.refunded reported one): one
//     REVERSAL per vendor for the step, the step named by the order's refunded total after it
//     (refunded_through) and, when it was our refund, its id. Each vendor gives back its share
//     of the cumulative refunded total (analytics_share, queries/refund_split.sql, the one rule
//     the analytics use too) minus what it gave back before; each vendor's reversed commission is
//     its commission × (gross reversed so far / gross earned) rounded half up, cumulatively,
//     so a full refund reverses exactly what was earned and the reversals never exceed it.
//
// An order never paid (cancelled before payment) records nothing, and so does a refund of an
// order that earned nothing (paid after its cancellation: the refund gives the money back).
// Each entry is unique per (kind, source): per order line for EARNING, per (order, refund step,
// vendor) for REVERSAL, so a move that is somehow run again writes nothing twice.

// Kind is an entry's kind.
type Kind string

// Entry kinds.
const (
	Earning  Kind = "EARNING"
	Reversal Kind = "REVERSAL"
)

// LedgerEntry is one entry of a vendor's ledger; amounts are non-negative and Net = Gross −
// Commission (a REVERSAL's amounts are taken back).
type LedgerEntry struct {
	ID          int64
	VendorID    int64
	OrderID     int64
	OrderLineID *int64
	RefundID    *int64
	Kind        Kind
	Gross       money.Money
	Commission  money.Money
	Net         money.Money
	// CommissionBps is the rate of an EARNING's line; nil for a REVERSAL.
	CommissionBps *int
	CreatedAt     time.Time
}

// Balance is a vendor's money in one currency: Earned (net of commission) on paid lines,
// Reversed by refunds, and Net = Earned − Reversed.
type Balance struct {
	Earned   money.Money
	Reversed money.Money
	Net      money.Money
}

// Ledger records and reads the vendor ledger.
type Ledger struct {
	db *postgres.DB
}

// NewLedger returns the vendor ledger on d.
func NewLedger(d *postgres.DB) *Ledger { return &Ledger{db: d} }

// OrderMoved records what an order's move means for its vendors, in the move's transaction
// (order.Ledger): earnings when it is PAID, reversals when a refund moves it.
func (l *Ledger) OrderMoved(ctx context.Context, q *db.Queries, c order.StatusChange) error {
	switch c.Status {
	case order.Paid:
		return recordEarnings(ctx, q, c.OrderID)
	case order.Refunded, order.PartiallyRefunded:
		if c.RefundedAmount <= 0 || c.RefundedTotal <= 0 {
			return nil
		}
		return recordReversals(ctx, q, c)
	}
	return nil
}

// Commission is a line's commission at bps basis points: rounded half up on minor units.
func Commission(lineTotal money.Money, bps int) (money.Money, error) {
	return lineTotal.Part(int64(bps), 10_000, money.HalfUp)
}

func recordEarnings(ctx context.Context, q *db.Queries, orderID int64) error {
	lines, err := q.VendorLedgerOrderLines(ctx, orderID)
	if err != nil {
		return fmt.Errorf("vendor ledger: lines: %w", err)
	}
	for _, ln := range lines {
		gross := money.New(ln.LineTotal, ln.Currency)
		commission, err := Commission(gross, int(ln.CommissionBps))
		if err != nil {
			return fmt.Errorf("vendor ledger: commission of line %d: %w", ln.ID, err)
		}
		net, err := gross.Sub(commission)
		if err != nil {
			return fmt.Errorf("vendor ledger: net of line %d: %w", ln.ID, err)
		}
		bps := ln.CommissionBps
		if _, err := q.VendorLedgerEarningInsert(ctx, db.VendorLedgerEarningInsertParams{
			VendorID: ln.VendorID, OrderID: orderID, OrderLineID: &ln.ID, Currency: ln.Currency,
			GrossAmount: gross.Amount, CommissionAmount: commission.Amount, NetAmount: net.Amount, CommissionBps: &bps,
		}); err != nil {
			return fmt.Errorf("vendor ledger: earning of line %d: %w", ln.ID, err)
		}
	}
	return nil
}

func recordReversals(ctx context.Context, q *db.Queries, c order.StatusChange) error {
	done, err := q.VendorLedgerStepRecorded(ctx, db.VendorLedgerStepRecordedParams{OrderID: c.OrderID, RefundedThrough: &c.RefundedTotal})
	if err != nil {
		return fmt.Errorf("vendor ledger: step: %w", err)
	}
	if done {
		return nil
	}
	totals, err := q.VendorLedgerOrderTotals(ctx, c.OrderID)
	if err != nil {
		return fmt.Errorf("vendor ledger: order totals: %w", err)
	}
	if len(totals) == 0 {
		return nil // no vendor earned anything on this order (never paid, or no vendor lines)
	}
	o, err := q.OrderGetByID(ctx, c.OrderID)
	if err != nil {
		return fmt.Errorf("vendor ledger: order: %w", err)
	}
	total, cur := o.TotalAmount, o.Currency
	// The step: what the order's refunded total went from and to, within the order's total.
	through := min(c.RefundedTotal, total)
	from := min(max(c.RefundedTotal-c.RefundedAmount, 0), total)
	amount := through - from
	if amount <= 0 || total <= 0 {
		return nil
	}
	targets, err := q.VendorLedgerRefundTargets(ctx, db.VendorLedgerRefundTargetsParams{OrderID: c.OrderID, Refunded: c.RefundedTotal})
	if err != nil {
		return fmt.Errorf("vendor ledger: refund split: %w", err)
	}
	target := make(map[int64]int64, len(targets))
	for _, t := range targets {
		target[t.VendorID] = t.Target
	}
	for _, t := range totals {
		if t.Currency != cur {
			return fmt.Errorf("vendor ledger: order %d in %s has entries in %s", c.OrderID, cur, t.Currency)
		}
	}
	for _, t := range totals {
		// The vendor's part of the refunded total by the one rule (queries/refund_split.sql, as
		// the analytics count it), less what it gave back before: never more than it earned.
		gross := min(target[t.VendorID], t.EarnedGross) - t.ReversedGross
		if gross <= 0 {
			continue
		}
		// The commission taken back follows the gross taken back, cumulatively: all of it
		// once all the gross is, never more.
		reversedGross := t.ReversedGross + gross
		commissionTarget, err := money.New(t.EarnedCommission, cur).Part(reversedGross, t.EarnedGross, money.HalfUp)
		if err != nil {
			return fmt.Errorf("vendor ledger: commission reversed: %w", err)
		}
		commission := max(commissionTarget.Amount-t.ReversedCommission, 0)
		net, err := money.New(gross, cur).Sub(money.New(commission, cur))
		if err != nil {
			return err
		}
		if _, err := q.VendorLedgerReversalInsert(ctx, db.VendorLedgerReversalInsertParams{
			VendorID: t.VendorID, OrderID: c.OrderID, RefundID: c.RefundID, RefundedThrough: &through, Currency: cur,
			GrossAmount: gross, CommissionAmount: commission, NetAmount: net.Amount,
		}); err != nil {
			return fmt.Errorf("vendor ledger: reversal: %w", err)
		}
	}
	return nil
}

// maySeeMoney says whether v may see vendor id's balance and ledger: its members acting for it
// and admins. Anyone else is told the vendor does not exist (NOT_FOUND), as for a missing one.
func maySeeMoney(v *auth.Viewer, id int64) error {
	if v == nil || !(v.IsAdmin() || v.ActsFor(id)) {
		return apperr.New(apperr.NotFound, "vendor not found")
	}
	return nil
}

// SeesMoney reports whether v (nil when anonymous) may see vendor id's balance and ledger.
func SeesMoney(v *auth.Viewer, id int64) bool { return maySeeMoney(v, id) == nil }

// Balance returns vendor id's balance per currency (sorted by currency; empty when it has
// earned nothing) for its members and admins. Errors: NOT_FOUND (also for anyone else).
func (l *Ledger) Balance(ctx context.Context, v *auth.Viewer, id int64) ([]Balance, error) {
	if err := maySeeMoney(v, id); err != nil {
		return nil, err
	}
	if _, err := l.db.VendorGetByID(ctx, id); postgres.IsNotFound(err) {
		return nil, apperr.New(apperr.NotFound, "vendor not found")
	} else if err != nil {
		return nil, fmt.Errorf("get vendor: %w", err)
	}
	rows, err := l.db.VendorLedgerBalance(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("vendor balance: %w", err)
	}
	out := make([]Balance, len(rows))
	for i, r := range rows {
		earned, reversed := money.New(r.Earned, r.Currency), money.New(r.Reversed, r.Currency)
		net, err := earned.Sub(reversed)
		if err != nil {
			return nil, fmt.Errorf("vendor balance: %w", err)
		}
		out[i] = Balance{Earned: earned, Reversed: reversed, Net: net}
	}
	return out, nil
}

// EntryPage is one page of a vendor's ledger, newest first, with a cursor per entry.
type EntryPage struct {
	Entries     []LedgerEntry
	Cursors     []string
	HasNextPage bool
}

func entryCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("l" + strconv.FormatInt(id, 10)))
}

func decodeEntryCursor(s string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || len(b) > 24 || b[0] != 'l' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return id, err == nil && id > 0
}

// Entries returns one page (first: 1 to 100, default 20) of vendor id's ledger, newest first,
// for its members and admins. Errors: NOT_FOUND (anyone else), BAD_USER_INPUT (page size,
// cursor).
func (l *Ledger) Entries(ctx context.Context, v *auth.Viewer, id int64, first *int, after string) (EntryPage, error) {
	if err := maySeeMoney(v, id); err != nil {
		return EntryPage{}, err
	}
	n := 20
	if first != nil {
		n = *first
	}
	if n < 1 || n > 100 {
		return EntryPage{}, apperr.FieldError(apperr.BadUserInput, "first must be 1 to 100.", "first")
	}
	var afterID int64
	if after != "" {
		var ok bool
		if afterID, ok = decodeEntryCursor(after); !ok {
			return EntryPage{}, apperr.FieldError(apperr.BadUserInput, "The cursor is not valid.", "after")
		}
	}
	rows, err := l.db.VendorLedgerList(ctx, db.VendorLedgerListParams{VendorID: id, AfterID: afterID, MaxRows: int32(n + 1)})
	if err != nil {
		return EntryPage{}, fmt.Errorf("vendor ledger: %w", err)
	}
	page := EntryPage{HasNextPage: len(rows) > n}
	if page.HasNextPage {
		rows = rows[:n]
	}
	for _, r := range rows {
		page.Entries = append(page.Entries, entryFromRow(r))
		page.Cursors = append(page.Cursors, entryCursor(r.ID))
	}
	return page, nil
}

// Count is how many entries vendor id's ledger holds (for its members and admins).
// Errors: NOT_FOUND.
func (l *Ledger) Count(ctx context.Context, v *auth.Viewer, id int64) (int, error) {
	if err := maySeeMoney(v, id); err != nil {
		return 0, err
	}
	n, err := l.db.VendorLedgerCount(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("count vendor ledger: %w", err)
	}
	return int(n), nil
}

func entryFromRow(r db.VendorLedgerEntry) LedgerEntry {
	e := LedgerEntry{
		ID: r.ID, VendorID: r.VendorID, OrderID: r.OrderID, OrderLineID: r.OrderLineID, RefundID: r.RefundID,
		Kind: Kind(r.Kind), Gross: money.New(r.GrossAmount, r.Currency), Commission: money.New(r.CommissionAmount, r.Currency),
		Net: money.New(r.NetAmount, r.Currency), CreatedAt: r.CreatedAt,
	}
	if r.CommissionBps != nil {
		bps := int(*r.CommissionBps)
		e.CommissionBps = &bps
	}
	return e
}
