package order

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/inventory"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// Publisher receives every committed status change (live order tracking fans them out).
type Publisher interface {
	Publish(ctx context.Context, e pubsub.OrderEvent)
}

// StockInvalidator is told which products' stock a committed change moved (catalog caches).
type StockInvalidator interface {
	InvalidateStock(ctx context.Context, productIDs []int64, statusChanged bool)
}

// StatusChange is one committed move of an order, as its customer's email tells it.
type StatusChange struct {
	OrderID  int64
	Sequence int // the move's event sequence: one email per move
	Status   Status
	// RefundedAmount is what this move gave back (REFUNDED, PARTIALLY_REFUNDED), in minor
	// units of the order's currency; 0 when unknown or not a refund.
	RefundedAmount int64
	// RefundedTotal is the order's refunded total after this move (a refund's move; 0
	// otherwise): it names the refund step, once, in the vendor ledger.
	RefundedTotal int64
	// RefundID is our refund whose settlement made this move; nil when the provider reported
	// it (charge.refunded) or it is not a refund.
	RefundID *int64
}

// Ledger records the vendors' money for an order's move in the move's transaction
// (vendor.Ledger): their earnings when it is PAID, reversals when a refund moves it; q is the
// transaction's queries.
type Ledger interface {
	OrderMoved(ctx context.Context, q *db.Queries, c StatusChange) error
}

// Notifier owes the customer an email for a status change, in the change's transaction
// (notify.Service); tx is that transaction.
type Notifier interface {
	StatusChanged(ctx context.Context, tx pgx.Tx, c StatusChange) error
}

// WebhookEmitter owes the outbound webhooks of an order's move, and of the stock a
// cancellation gave back, in the move's transaction (webhook.Service); tx is that transaction.
type WebhookEmitter interface {
	StatusChanged(ctx context.Context, tx pgx.Tx, c StatusChange) error
	StockChanged(ctx context.Context, tx pgx.Tx, moves []catalog.StockMovement) error
}

// SalesRecorder is told, in the move's transaction, of an order's payment and of each refund
// that completed (analytics.Service keeps its sales rollups so); tx is that transaction, at the
// time of the move's event.
type SalesRecorder interface {
	Paid(ctx context.Context, tx pgx.Tx, orderID int64, at time.Time) error
	Refunded(ctx context.Context, tx pgx.Tx, orderID int64, sequence int, amount int64, at time.Time) error
}

// Service is the order use cases.
type Service struct {
	db        *postgres.DB
	publisher Publisher
	stock     StockInvalidator
	log       *slog.Logger
	// Notifier, when set, is told every move in its transaction (internal/app sets it).
	Notifier Notifier
	// Webhooks, when set, is told every move, and the stock a cancellation gives back, in its
	// transaction (internal/app sets it).
	Webhooks WebhookEmitter
	// Ledger, when set, is told every move in its transaction, before the email and the
	// webhooks (internal/app sets it: the vendor ledger).
	Ledger Ledger
	// Sales, when set, is told every payment and every completed refund in its transaction
	// (internal/app sets it).
	Sales SalesRecorder

	eventReads eventReads // AtEvent's
}

// NewService returns an order service. publisher and stock may be nil.
func NewService(d *postgres.DB, publisher Publisher, stock StockInvalidator, log *slog.Logger) *Service {
	return &Service{db: d, publisher: publisher, stock: stock, log: log}
}

// Get returns an order v may see. Errors: NOT_FOUND (also when v may not see it, so that
// existence is not revealed).
func (s *Service) Get(ctx context.Context, v auth.Viewer, id int64) (Order, error) {
	row, err := s.db.OrderGetByID(ctx, id)
	if err != nil {
		return Order{}, postgres.MapError(err, "order")
	}
	o := orderFromRow(row)
	if err := s.checkView(ctx, v, o); err != nil {
		return Order{}, err
	}
	return o, nil
}

func (s *Service) checkView(ctx context.Context, v auth.Viewer, o Order) error {
	vendorHasLine := false
	if vendorID, ok := needsVendorLine(v, o); ok {
		has, err := s.db.OrderHasVendorLine(ctx, db.OrderHasVendorLineParams{OrderID: o.ID, VendorID: &vendorID})
		if err != nil {
			return fmt.Errorf("check vendor line: %w", err)
		}
		vendorHasLine = has
	}
	if !CanView(v, o, vendorHasLine) {
		return apperr.New(apperr.NotFound, "order not found")
	}
	return nil
}

// VisibleLines are the lines of o, read by a loader, that v may see (VisibleLines).
func (s *Service) VisibleLines(v auth.Viewer, o Order, lines []Line) []Line {
	return VisibleLines(v, o, lines)
}

// VisibleTotal is the total of o that v sees, from its lines read by a loader (VisibleTotal).
func (s *Service) VisibleTotal(v auth.Viewer, o Order, lines []Line) (money.Money, error) {
	return VisibleTotal(v, o, lines)
}

// ShowsPayment reports whether v sees the payment of o: those who see the whole order.
// Vendors see their lines, not the customer's payment.
func (s *Service) ShowsPayment(v auth.Viewer, o Order) bool { return SeesWhole(v, o) }

// FeedFilter tells which events of the all-orders feed v may receive. Errors: FORBIDDEN
// (customers follow their orders one by one).
func (s *Service) FeedFilter(v auth.Viewer) (func(pubsub.OrderEvent) bool, error) {
	if _, err := FeedScope(v); err != nil {
		return nil, err
	}
	return func(e pubsub.OrderEvent) bool { return CanFollow(v, e) }, nil
}

// ListFilter restricts an order list.
type ListFilter struct {
	Status        *Status
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
	// FulfillmentStatus keeps the orders whose lines the viewer sees (a vendor's member its
	// vendor's, anyone else all) are so fulfilled (FulfillmentSummaryFor).
	FulfillmentStatus *FulfillmentSummary
}

// ListPage is one page of orders, newest first.
type ListPage struct {
	Orders      []Order
	Cursors     []string
	HasNextPage bool
}

// List returns a page of the orders v may see: a customer its own, a vendor those holding its
// products, an admin all. Errors: BAD_USER_INPUT.
func (s *Service) List(ctx context.Context, v auth.Viewer, first int, after string, f ListFilter) (ListPage, error) {
	if first < 1 || first > 100 {
		return ListPage{}, apperr.New(apperr.BadUserInput, "Page size must be between 1 and 100.")
	}
	params := db.OrderListParams{Lim: int32(first + 1), CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore}
	scope(v, &params.UserID, &params.VendorID)
	if f.Status != nil {
		st := db.OrderStatus(*f.Status)
		params.Status = &st
	}
	params.FulfillmentStatus = fulfillmentFilter(f)
	if after != "" {
		at, id, err := decodeCursor(after)
		if err != nil {
			return ListPage{}, err
		}
		params.AfterCreatedAt, params.AfterID = &at, &id
	}
	rows, err := s.db.CustomPlans.OrderList(ctx, params)
	if err != nil {
		return ListPage{}, fmt.Errorf("list orders: %w", err)
	}
	page := ListPage{HasNextPage: len(rows) > first}
	if page.HasNextPage {
		rows = rows[:first]
	}
	for _, r := range rows {
		page.Orders = append(page.Orders, orderFromRow(r))
		page.Cursors = append(page.Cursors, encodeCursor(r.CreatedAt, r.ID))
	}
	return page, nil
}

// Count returns how many orders v may see match f.
func (s *Service) Count(ctx context.Context, v auth.Viewer, f ListFilter) (int, error) {
	params := db.OrderCountParams{CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore}
	scope(v, &params.UserID, &params.VendorID)
	if f.Status != nil {
		st := db.OrderStatus(*f.Status)
		params.Status = &st
	}
	params.FulfillmentStatus = fulfillmentFilter(f)
	n, err := s.db.CustomPlans.OrderCount(ctx, params)
	return int(n), err
}

func encodeCursor(at time.Time, id int64) string {
	b, _ := json.Marshal([]any{at.Format(time.RFC3339Nano), id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(c string) (time.Time, int64, error) {
	var parts []any
	invalid := apperr.FieldError(apperr.BadUserInput, "The after cursor is not valid.", "after")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, invalid
	}
	if err := json.Unmarshal(raw, &parts); err != nil || len(parts) != 2 {
		return time.Time{}, 0, invalid
	}
	s, ok1 := parts[0].(string)
	f, ok2 := parts[1].(float64)
	at, err := time.Parse(time.RFC3339Nano, s)
	if !ok1 || !ok2 || err != nil || f <= 0 {
		return time.Time{}, 0, invalid
	}
	return at, int64(f), nil
}

// LinesByOrderIDs returns every line of each order (for loaders; callers apply VisibleLines).
func (s *Service) LinesByOrderIDs(ctx context.Context, ids []int64) (map[int64][]Line, error) {
	rows, err := s.db.OrderLineListByOrderIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list order lines: %w", err)
	}
	out := make(map[int64][]Line, len(ids))
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], lineFromRow(r))
	}
	return out, nil
}

// EventsByOrderIDs returns each order's status history, oldest first (for loaders).
func (s *Service) EventsByOrderIDs(ctx context.Context, ids []int64) (map[int64][]Event, error) {
	rows, err := s.db.OrderEventListByOrderIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list order events: %w", err)
	}
	out := make(map[int64][]Event, len(ids))
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], eventFromRow(r))
	}
	return out, nil
}

// TransitionOptions carry what a move needs besides the status.
type TransitionOptions struct {
	TrackingNumber *string
	Note           string
	// RefundedAmount is what a refund move gave back (for the customer's email).
	RefundedAmount int64
	// RefundedTotal is the order's refunded total after a refund move (the vendor ledger's
	// refund step); RefundID the refund of ours whose settlement made it, if any.
	RefundedTotal int64
	RefundID      *int64
	// OnlyFrom, when set, refuses the move unless the order is in that status (expiry must
	// cancel only unpaid orders, though an admin may cancel paid ones).
	OnlyFrom Status
}

// Transition moves an order through the state machine in its own transaction; the change is
// published once it has committed.
// Errors: NOT_FOUND, INVALID_TRANSITION, INVALID (a missing tracking number).
func (s *Service) Transition(ctx context.Context, actor Actor, id int64, to Status, opts TransitionOptions) (Order, error) {
	var o Order
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		var err error
		o, err = s.TransitionTx(ctx, q, actor, id, to, opts)
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return o, nil
}

// TransitionTx is Transition inside the caller's transaction (the payment webhook records the
// event id in the same one); ctx is the transaction's (postgres.InTx). It locks the order row,
// so concurrent moves of one order serialise and the loser sees the winner's status. Its side
// effects (the event published, the stock it gave back invalidated in caches) are registered
// with postgres.AfterCommit: they happen only if the caller's transaction commits.
func (s *Service) TransitionTx(ctx context.Context, q *db.Queries, actor Actor, id int64, to Status, opts TransitionOptions) (Order, error) {
	row, err := q.OrderGetByIDForUpdate(ctx, id)
	if postgres.IsNotFound(err) {
		return Order{}, apperr.FieldError(apperr.NotFound, "No order has this ID.", "input", "id")
	}
	if err != nil {
		return Order{}, fmt.Errorf("lock order: %w", err)
	}
	cur := orderFromRow(row)
	// Only those who see the whole order may move it; to anyone else (a vendor with a line in
	// it included) it does not exist.
	if actor.Viewer != nil && !SeesWhole(*actor.Viewer, cur) {
		return Order{}, apperr.FieldError(apperr.NotFound, "No order has this ID.", "input", "id")
	}
	if !mayRequest(actor, cur, to) && CanTransition(cur.Status, to) {
		return Order{}, apperr.FieldError(apperr.Forbidden, fmt.Sprintf("You cannot move a %s order to %s.", cur.Status, to), "input", "status")
	}
	if !CanTransition(cur.Status, to) || (opts.OnlyFrom != "" && cur.Status != opts.OnlyFrom) {
		return Order{}, apperr.FieldError(apperr.InvalidTransition,
			fmt.Sprintf("An order cannot go from %s to %s.", cur.Status, to), "input", "status")
	}
	if to == Shipped && (opts.TrackingNumber == nil || strings.TrimSpace(*opts.TrackingNumber) == "") {
		return Order{}, apperr.FieldError(apperr.Invalid, "Shipping needs a tracking number.", "input", "trackingNumber")
	}
	updated, err := q.OrderSetStatus(ctx, db.OrderSetStatusParams{
		ID: id, Status: db.OrderStatus(to), FromStatus: row.Status, TrackingNumber: opts.TrackingNumber,
	})
	if err != nil {
		return Order{}, fmt.Errorf("set order status: %w", err)
	}
	prev := db.OrderStatus(cur.Status)
	ev, err := q.OrderEventInsert(ctx, db.OrderEventInsertParams{
		OrderID: id, Status: db.OrderStatus(to), PreviousStatus: &prev, ActorID: actor.userID(), Note: opts.Note,
	})
	if err != nil {
		return Order{}, fmt.Errorf("insert order event: %w", err)
	}
	var (
		touched  inventory.Change
		restocks []catalog.StockMovement
	)
	if to == Cancelled {
		// A cancelled order gives its stock back, exactly once: the row lock and the state
		// machine (nothing leaves CANCELLED but a refund) guarantee a single cancellation.
		lines, err := q.OrderLineListByOrderIDs(ctx, []int64{id})
		if err != nil {
			return Order{}, err
		}
		items := make([]inventory.Item, len(lines))
		for i, l := range lines {
			items[i] = inventory.Item{VariantID: l.VariantID, Quantity: int(l.Quantity)}
			restocks = append(restocks, catalog.StockMovement{VariantID: l.VariantID, Delta: int(l.Quantity), Reason: catalog.ReasonRestock})
			touched.ProductIDs = append(touched.ProductIDs, l.ProductID)
		}
		if err := inventory.Release(ctx, q, items, id, actor.userID()); err != nil {
			return Order{}, err
		}
		touched.StatusChanged = true // restocked variants may be back in stock
	}
	o := orderFromRow(updated)
	e := eventFromRow(ev)
	change := StatusChange{OrderID: id, Sequence: e.Sequence, Status: to, RefundedAmount: opts.RefundedAmount,
		RefundedTotal: opts.RefundedTotal, RefundID: opts.RefundID}
	if err := s.oweSideEffects(ctx, q, change, restocks, e.At); err != nil {
		return Order{}, err
	}
	postgres.AfterCommit(ctx, func(ctx context.Context) {
		s.invalidate(ctx, touched)
		s.publish(ctx, o, e)
	})
	return o, nil
}

// oweSideEffects tells the hooks of a move in its transaction, so that what they owe commits
// with it or not at all: the vendors' earnings and reversals (Ledger), the email and the
// webhooks' jobs (Notifier, Webhooks), and the sale or refund in the reports (Sales).
func (s *Service) oweSideEffects(ctx context.Context, q *db.Queries, change StatusChange, restocks []catalog.StockMovement, at time.Time) error {
	if s.Ledger != nil {
		if err := s.Ledger.OrderMoved(ctx, q, change); err != nil {
			return err
		}
	}
	counted := change.Status == Paid ||
		((change.Status == Refunded || change.Status == PartiallyRefunded) && change.RefundedAmount > 0)
	if s.Notifier == nil && s.Webhooks == nil && (s.Sales == nil || !counted) {
		return nil
	}
	tx, ok := postgres.TxOf(ctx)
	if !ok {
		return fmt.Errorf("order %d moved outside postgres.InTx: no transaction for its email, webhooks and sales", change.OrderID)
	}
	if s.Notifier != nil {
		if err := s.Notifier.StatusChanged(ctx, tx, change); err != nil {
			return err
		}
	}
	if s.Webhooks != nil {
		if err := s.Webhooks.StatusChanged(ctx, tx, change); err != nil {
			return err
		}
		if len(restocks) > 0 {
			if err := s.Webhooks.StockChanged(ctx, tx, restocks); err != nil {
				return err
			}
		}
	}
	if s.Sales != nil && counted {
		if change.Status == Paid {
			return s.Sales.Paid(ctx, tx, change.OrderID, at)
		}
		return s.Sales.Refunded(ctx, tx, change.OrderID, change.Sequence, change.RefundedAmount, at)
	}
	return nil
}

// Placed registers the side effects of a new order written in the transaction of ctx
// (checkout's): its first event published to subscribers, with the vendors of its lines, and
// the stock it took invalidated in caches, once the transaction has committed.
func (s *Service) Placed(ctx context.Context, o Order, lines []Line, e Event, stock inventory.Change) {
	vendors := vendorsOf(lines)
	postgres.AfterCommit(ctx, func(ctx context.Context) {
		s.invalidate(ctx, stock)
		if s.publisher != nil {
			s.publisher.Publish(ctx, e.message(o, vendors))
		}
	})
}

// publish sends a committed event of o to subscribers, with o's vendors.
func (s *Service) publish(ctx context.Context, o Order, e Event) {
	if s.publisher == nil {
		return
	}
	vendors, err := s.db.OrderVendorIDs(ctx, o.ID)
	if err != nil {
		s.log.WarnContext(ctx, "order event: vendor lookup failed", "order_id", o.ID, "err", err)
	}
	s.publisher.Publish(ctx, e.message(o, vendors))
}

func (s *Service) invalidate(ctx context.Context, stock inventory.Change) {
	if len(stock.ProductIDs) > 0 && s.stock != nil {
		s.stock.InvalidateStock(ctx, stock.ProductIDs, stock.StatusChanged)
	}
}

// vendorsOf are the distinct vendors of lines, in id order.
func vendorsOf(lines []Line) []int64 {
	var ids []int64
	for _, l := range lines {
		if l.VendorID != nil {
			ids = append(ids, *l.VendorID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// EventsAfter returns an order's events after sequence `after`, oldest first, at most limit
// (replays of live tracking; the caller has checked that the viewer may see the order).
func (s *Service) EventsAfter(ctx context.Context, orderID int64, after, limit int) ([]Event, error) {
	rows, err := s.db.OrderEventListAfter(ctx, db.OrderEventListAfterParams{OrderID: orderID, After: int32(after), Lim: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("replay order events: %w", err)
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = eventFromRow(r)
	}
	return out, nil
}

// FeedAfter returns the events of the orders v may follow — all for an admin, those holding
// its products for a vendor — after feed position `after`, oldest first, at most limit.
// heldBack says that later events have committed but cannot be delivered yet: a transaction
// still running may commit an event before them (read again soon).
// Errors: FORBIDDEN (customers follow their orders one by one).
func (s *Service) FeedAfter(ctx context.Context, v auth.Viewer, after int64, limit int) (events []Event, heldBack bool, err error) {
	vendorID, err := FeedScope(v)
	if err != nil {
		return nil, false, err
	}
	rows, err := s.db.CustomPlans.OrderEventFeedAfter(ctx, db.OrderEventFeedAfterParams{After: after, Lim: int32(limit), VendorID: vendorID})
	if err != nil {
		return nil, false, fmt.Errorf("replay order feed: %w", err)
	}
	events = make([]Event, 0, len(rows))
	for _, r := range rows {
		if r.HeldBack {
			return events, true, nil
		}
		events = append(events, eventFromRow(r.OrderEvent))
	}
	return events, false, nil
}

// FeedStart is where a feed subscription without `after` starts: only the events committed
// from then on. Positions follow transaction ids, not commits, so that is not a position:
// the stream starts below the oldest transaction then running and skips the events of the
// transactions that had committed (FeedFrom.IsHistory).
func (s *Service) FeedStart(ctx context.Context) (FeedFrom, error) {
	text, err := s.db.OrderEventFeedSnapshot(ctx)
	if err != nil {
		return FeedFrom{}, fmt.Errorf("read feed snapshot: %w", err)
	}
	return parseFeedFrom(text)
}

// Cancel cancels an order: its owner while PENDING, an admin while PENDING or PAID. It is the
// order side only (no refund, no intent cancelled): the API's orderCancel is
// payment.Service.CancelOrder, which cancels through CancelTx.
// Errors: NOT_FOUND, INVALID_TRANSITION, FORBIDDEN.
func (s *Service) Cancel(ctx context.Context, v auth.Viewer, id int64) (Order, error) {
	return s.Transition(ctx, ViewerActor(v), id, Cancelled, cancelOptions(v))
}

// CancelTx is Cancel inside the caller's transaction, for a caller that must commit more with
// the cancellation (the refund job of a paid order); its side effects wait for the commit, as
// TransitionTx's do.
func (s *Service) CancelTx(ctx context.Context, q *db.Queries, v auth.Viewer, id int64) (Order, error) {
	return s.TransitionTx(ctx, q, ViewerActor(v), id, Cancelled, cancelOptions(v))
}

func cancelOptions(v auth.Viewer) TransitionOptions {
	return TransitionOptions{Note: "cancelled by " + string(v.Role)}
}

// StatusUpdate is an admin moving an order (SHIPPED needs a tracking number). SHIPPED
// fulfils every unit not yet fulfilled, a fulfilment per vendor (and one for the platform's
// lines) with that tracking number; DELIVERED delivers every fulfilment not yet delivered.
// Errors: FORBIDDEN, NOT_FOUND, INVALID_TRANSITION, INVALID.
func (s *Service) StatusUpdate(ctx context.Context, v auth.Viewer, id int64, to Status, tracking *string, note string) (Order, error) {
	if err := mayUpdateStatus(v); err != nil {
		return Order{}, err
	}
	if !to.Valid() {
		return Order{}, apperr.FieldError(apperr.Invalid, "Unknown status.", "input", "status")
	}
	if tracking != nil && len(*tracking) > 100 {
		return Order{}, apperr.FieldError(apperr.Invalid, "Tracking numbers are at most 100 characters.", "input", "trackingNumber")
	}
	opts := TransitionOptions{TrackingNumber: tracking, Note: note}
	if to != Shipped && to != Delivered {
		return s.Transition(ctx, ViewerActor(v), id, to, opts)
	}
	// SHIPPED fulfils everything left (one fulfilment per vendor, with the tracking number
	// given); DELIVERED delivers every fulfilment still on its way. The move comes first, then
	// the events of the fulfilments it made or delivered, all in one transaction.
	var o Order
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.OrderGetByIDForUpdate(ctx, id)
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "No order has this ID.", "input", "id")
		}
		if err != nil {
			return fmt.Errorf("lock order: %w", err)
		}
		var made []Fulfillment
		if to == Shipped && Status(row.Status) == Paid && tracking != nil && strings.TrimSpace(*tracking) != "" {
			if made, err = s.fulfilRemaining(ctx, q, v, id, *tracking); err != nil {
				return err
			}
		}
		if o, err = s.TransitionTx(ctx, q, ViewerActor(v), id, to, opts); err != nil {
			return err
		}
		kind, what := KindFulfillmentCreated, "fulfilment created"
		if to == Delivered {
			kind, what = KindFulfillmentDelivered, "fulfilment delivered"
			rows, err := q.FulfillmentSetAllDelivered(ctx, id)
			if err != nil {
				return fmt.Errorf("deliver fulfillments: %w", err)
			}
			for _, r := range rows {
				made = append(made, fulfillmentFromRow(r))
			}
		}
		for _, f := range made {
			if err := s.fulfillmentEvent(ctx, q, o, v.UserID, kind, f, what); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Order{}, err
	}
	return o, nil
}
