package order

// Fulfilment: a vendor (or an admin, for any lines) ships some units of an order's lines with
// a carrier and a tracking number. A fulfilment is part of the order aggregate: every change
// of one locks the order row, appends an order event (so live tracking carries it) and, when
// it completes the order's shipping or delivery, moves the order through TransitionTx, the one
// state machine (with its email and webhooks). Who may see and do what is in policy.go.

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// FulfillmentStatus is where a fulfilment is.
type FulfillmentStatus string

// Fulfilment statuses.
const (
	FulfillmentShipped   FulfillmentStatus = "SHIPPED"
	FulfillmentDelivered FulfillmentStatus = "DELIVERED"
)

// FulfillmentSummary is how much of an order (or of a vendor's part of it) has shipped.
type FulfillmentSummary string

// Fulfilment summaries.
const (
	Unfulfilled        FulfillmentSummary = "UNFULFILLED"
	PartiallyFulfilled FulfillmentSummary = "PARTIALLY_FULFILLED"
	Fulfilled          FulfillmentSummary = "FULFILLED"
)

// Bounds of a fulfilment's input.
const (
	maxFulfillmentLines = 100
	maxCarrier          = 100
	maxTrackingNumber   = 100
	maxTrackingURL      = 2048
)

// Fulfillment is a shipment of some units of an order's lines, all of one vendor (VendorID)
// or of the platform (nil).
type Fulfillment struct {
	ID             int64
	OrderID        int64
	VendorID       *int64
	Carrier        string
	TrackingNumber string
	TrackingURL    *string
	Status         FulfillmentStatus
	CreatedBy      *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeliveredAt    *time.Time
	Lines          []FulfillmentLine
}

// GlobalID is the fulfilment's opaque API ID.
func (f Fulfillment) GlobalID() string { return gid.Encode(gid.Fulfillment, f.ID) }

// FulfillmentLine is the units of one order line a fulfilment ships.
type FulfillmentLine struct {
	OrderID     int64
	OrderLineID int64
	Quantity    int
}

// FulfillmentLineInput is one line of fulfillmentCreate.
type FulfillmentLineInput struct {
	OrderLineID int64
	Quantity    int
}

// Tracking is how the customer follows a fulfilment.
type Tracking struct {
	Carrier        string
	TrackingNumber string
	TrackingURL    *string
}

// FulfillmentInput is fulfillmentCreate's input.
type FulfillmentInput struct {
	OrderID int64
	Lines   []FulfillmentLineInput
	Tracking
}

// validate checks t's fields, naming them under prefix ("input"). Errors: INVALID.
func (t *Tracking) validate() apperr.List {
	var errs apperr.List
	t.Carrier = strings.TrimSpace(t.Carrier)
	t.TrackingNumber = strings.TrimSpace(t.TrackingNumber)
	if len(t.Carrier) > maxCarrier {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Carriers are at most 100 characters.", "input", "carrier"))
	}
	switch {
	case t.TrackingNumber == "":
		errs = append(errs, apperr.FieldError(apperr.Invalid, "A fulfilment needs a tracking number.", "input", "trackingNumber"))
	case len(t.TrackingNumber) > maxTrackingNumber:
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Tracking numbers are at most 100 characters.", "input", "trackingNumber"))
	}
	if t.TrackingURL != nil {
		raw := strings.TrimSpace(*t.TrackingURL)
		if raw == "" {
			t.TrackingURL = nil
		} else if !validTrackingURL(raw) {
			errs = append(errs, apperr.FieldError(apperr.Invalid, "The tracking URL must be an absolute http or https URL of at most 2048 characters.", "input", "trackingUrl"))
		} else {
			t.TrackingURL = &raw
		}
	}
	return errs
}

// validTrackingURL: an absolute http(s) URL with a host, no credentials, bounded.
func validTrackingURL(raw string) bool {
	if len(raw) > maxTrackingURL {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

func fulfillmentFromRow(r db.Fulfillment) Fulfillment {
	return Fulfillment{
		ID: r.ID, OrderID: r.OrderID, VendorID: r.VendorID, Carrier: r.Carrier, TrackingNumber: r.TrackingNumber,
		TrackingURL: r.TrackingUrl, Status: FulfillmentStatus(r.Status), CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DeliveredAt: r.DeliveredAt,
	}
}

// FulfillmentsByOrderIDs returns every fulfilment of each order with its lines, oldest first
// (for loaders; callers apply VisibleFulfillments).
func (s *Service) FulfillmentsByOrderIDs(ctx context.Context, ids []int64) (map[int64][]Fulfillment, error) {
	return fulfillmentsOf(ctx, s.db.Queries, ids)
}

func fulfillmentsOf(ctx context.Context, q *db.Queries, ids []int64) (map[int64][]Fulfillment, error) {
	rows, err := q.FulfillmentListByOrderIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list fulfillments: %w", err)
	}
	lines, err := q.FulfillmentLineListByOrderIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list fulfillment lines: %w", err)
	}
	byID := map[int64][]FulfillmentLine{}
	for _, l := range lines {
		byID[l.FulfillmentID] = append(byID[l.FulfillmentID], FulfillmentLine{OrderID: l.OrderID, OrderLineID: l.OrderLineID, Quantity: int(l.Quantity)})
	}
	out := make(map[int64][]Fulfillment, len(ids))
	for _, r := range rows {
		f := fulfillmentFromRow(r)
		f.Lines = byID[f.ID]
		out[f.OrderID] = append(out[f.OrderID], f)
	}
	return out, nil
}

// FulfilledQuantity is how many units of line the fulfilments fs ship.
func FulfilledQuantity(lineID int64, fs []Fulfillment) int {
	n := 0
	for _, f := range fs {
		for _, l := range f.Lines {
			if l.OrderLineID == lineID {
				n += l.Quantity
			}
		}
	}
	return n
}

// Summarize is how much of lines the fulfilments fs ship.
func Summarize(lines []Line, fs []Fulfillment) FulfillmentSummary {
	shipped, complete := 0, len(lines) > 0
	for _, l := range lines {
		n := FulfilledQuantity(l.ID, fs)
		shipped += n
		if n < l.Quantity {
			complete = false
		}
	}
	switch {
	case complete:
		return Fulfilled
	case shipped > 0:
		return PartiallyFulfilled
	}
	return Unfulfilled
}

// FulfillmentSummaryFor is the fulfilment status of o as v sees it: of the whole order for
// its owner and admins, of the vendor's own lines for a vendor's member.
func (s *Service) FulfillmentSummaryFor(v auth.Viewer, o Order, lines []Line, fs []Fulfillment) FulfillmentSummary {
	return Summarize(VisibleLines(v, o, lines), fs)
}

// VisibleFulfillments are the fulfilments of o, read by a loader, that v may see.
func (s *Service) VisibleFulfillments(v auth.Viewer, o Order, fs []Fulfillment) []Fulfillment {
	return VisibleFulfillments(v, o, fs)
}

// EventFor is e (read for a live follower) as v may see it (EventFor): a fulfilment's event
// costs a read of that fulfilment, only when v does not see the whole order.
func (s *Service) EventFor(ctx context.Context, v auth.Viewer, e Event) (Event, error) {
	if e.FulfillmentID == nil || v.IsAdmin() {
		return e, nil
	}
	_, err := s.GetFulfillment(ctx, v, *e.FulfillmentID)
	if apperr.Is(err, apperr.NotFound) {
		return redactedEvent(e), nil
	}
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

// GetFulfillment returns a fulfilment v may see. Errors: NOT_FOUND (also when v may not see it).
func (s *Service) GetFulfillment(ctx context.Context, v auth.Viewer, id int64) (Fulfillment, error) {
	row, err := s.db.FulfillmentGetByID(ctx, id)
	if postgres.IsNotFound(err) {
		return Fulfillment{}, apperr.New(apperr.NotFound, "fulfillment not found")
	}
	if err != nil {
		return Fulfillment{}, fmt.Errorf("get fulfillment: %w", err)
	}
	o, err := s.db.OrderGetByID(ctx, row.OrderID)
	if err != nil {
		return Fulfillment{}, postgres.MapError(err, "order")
	}
	f := fulfillmentFromRow(row)
	if !CanSeeFulfillment(v, orderFromRow(o), f) {
		return Fulfillment{}, apperr.New(apperr.NotFound, "fulfillment not found")
	}
	all, err := fulfillmentsOf(ctx, s.db.Queries, []int64{f.OrderID})
	if err != nil {
		return Fulfillment{}, err
	}
	for _, x := range all[f.OrderID] {
		if x.ID == f.ID {
			return x, nil
		}
	}
	return f, nil
}

// CreateFulfillment ships units of an order's lines, all of one vendor: a member of that
// vendor or an admin (the platform's lines: admins only). The order must be PAID; each
// quantity at most what was ordered and not yet fulfilled. It locks the order row, so
// concurrent fulfilments of one order serialise and never over-ship. When every line is
// fulfilled, the order moves to SHIPPED (TransitionTx, with the customer's email and the
// webhooks), then the fulfilment's event follows.
// Errors: FORBIDDEN (not an admin nor a vendor's member), INVALID, NOT_FOUND (the order or a
// line the viewer may not act on, as if missing), INVALID_TRANSITION (the order is not PAID),
// OVER_FULFILLMENT.
func (s *Service) CreateFulfillment(ctx context.Context, v auth.Viewer, in FulfillmentInput) (Fulfillment, error) {
	if err := mayFulfil(v); err != nil {
		return Fulfillment{}, err
	}
	errs := in.Tracking.validate()
	switch {
	case len(in.Lines) == 0:
		errs = append(errs, apperr.FieldError(apperr.Invalid, "A fulfilment ships at least one line.", "input", "lines"))
	case len(in.Lines) > maxFulfillmentLines:
		errs = append(errs, apperr.FieldError(apperr.Invalid, "A fulfilment ships at most 100 lines.", "input", "lines"))
	}
	seen := map[int64]bool{}
	for i, l := range in.Lines {
		if l.Quantity < 1 {
			errs = append(errs, apperr.FieldError(apperr.Invalid, "Quantities are at least 1.", "input", "lines", fmt.Sprint(i), "quantity"))
		}
		if seen[l.OrderLineID] {
			errs = append(errs, apperr.FieldError(apperr.Invalid, "Each order line appears once.", "input", "lines", fmt.Sprint(i), "orderLineId"))
		}
		seen[l.OrderLineID] = true
	}
	if len(errs) > 0 {
		return Fulfillment{}, errs
	}
	var out Fulfillment
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.OrderGetByIDForUpdate(ctx, in.OrderID)
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "No order has this ID.", "input", "orderId")
		}
		if err != nil {
			return fmt.Errorf("lock order: %w", err)
		}
		o := orderFromRow(row)
		lines, err := q.OrderLineListByOrderIDs(ctx, []int64{o.ID})
		if err != nil {
			return fmt.Errorf("list order lines: %w", err)
		}
		all := make([]Line, len(lines))
		for i, r := range lines {
			all[i] = lineFromRow(r)
		}
		own := ActsOnLines(v, all)
		if len(own) == 0 {
			return apperr.FieldError(apperr.NotFound, "No order has this ID.", "input", "orderId")
		}
		fs, err := fulfillmentsOf(ctx, q, []int64{o.ID})
		if err != nil {
			return err
		}
		done := fs[o.ID]
		var (
			lineErrs apperr.List
			vendor   *int64
			ids      []int64
			qtys     []int32
		)
		for i, in := range in.Lines {
			l, ok := own[in.OrderLineID]
			if !ok {
				lineErrs = append(lineErrs, apperr.FieldError(apperr.NotFound, "No order line of this order has this ID.", "input", "lines", fmt.Sprint(i), "orderLineId"))
				continue
			}
			if i == 0 {
				vendor = l.VendorID
			} else if !sameVendor(vendor, l.VendorID) {
				lineErrs = append(lineErrs, apperr.FieldError(apperr.Invalid, "All lines of a fulfilment belong to one vendor.", "input", "lines", fmt.Sprint(i), "orderLineId"))
				continue
			}
			if left := l.Quantity - FulfilledQuantity(l.ID, done); in.Quantity > left {
				lineErrs = append(lineErrs, apperr.FieldError(apperr.OverFulfillment,
					fmt.Sprintf("Only %d of this line's %d units remain to fulfil.", left, l.Quantity), "input", "lines", fmt.Sprint(i), "quantity"))
				continue
			}
			ids, qtys = append(ids, l.ID), append(qtys, int32(in.Quantity))
		}
		if len(lineErrs) > 0 {
			return lineErrs
		}
		if o.Status != Paid {
			return apperr.FieldError(apperr.InvalidTransition, fmt.Sprintf("A %s order cannot be fulfilled: only PAID orders ship.", o.Status), "input", "orderId")
		}
		f, err := s.insertFulfillment(ctx, q, v, o.ID, vendor, in.Tracking, ids, qtys)
		if err != nil {
			return err
		}
		done = append(done, f)
		if Summarize(all, done) == Fulfilled {
			if o, err = s.TransitionTx(ctx, q, causedBy(v), o.ID, Shipped, TransitionOptions{
				TrackingNumber: &f.TrackingNumber, Note: "every line fulfilled",
			}); err != nil {
				return err
			}
		}
		if err := s.fulfillmentEvent(ctx, q, o, v.UserID, KindFulfillmentCreated, f, "fulfilment created"); err != nil {
			return err
		}
		out = f
		return nil
	})
	if err != nil {
		return Fulfillment{}, err
	}
	return out, nil
}

func sameVendor(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// insertFulfillment writes a fulfilment and its lines (the order row locked by the caller).
func (s *Service) insertFulfillment(ctx context.Context, q *db.Queries, v auth.Viewer, orderID int64, vendor *int64, t Tracking, ids []int64, qtys []int32) (Fulfillment, error) {
	row, err := q.FulfillmentInsert(ctx, db.FulfillmentInsertParams{
		OrderID: orderID, VendorID: vendor, Carrier: t.Carrier, TrackingNumber: t.TrackingNumber,
		TrackingUrl: t.TrackingURL, CreatedBy: &v.UserID,
	})
	if err != nil {
		return Fulfillment{}, fmt.Errorf("insert fulfillment: %w", err)
	}
	if err := q.FulfillmentLinesInsert(ctx, db.FulfillmentLinesInsertParams{FulfillmentID: row.ID, OrderLineIds: ids, Quantities: qtys}); err != nil {
		return Fulfillment{}, fmt.Errorf("insert fulfillment lines: %w", err)
	}
	f := fulfillmentFromRow(row)
	for i := range ids {
		f.Lines = append(f.Lines, FulfillmentLine{OrderID: orderID, OrderLineID: ids[i], Quantity: int(qtys[i])})
	}
	return f, nil
}

// fulfillmentEvent appends f's event to o (locked) and publishes it after the commit. The note
// never holds the tracking details: every vendor of the order follows its events.
func (s *Service) fulfillmentEvent(ctx context.Context, q *db.Queries, o Order, actor int64, kind EventKind, f Fulfillment, note string) error {
	row, err := q.OrderFulfillmentEventInsert(ctx, db.OrderFulfillmentEventInsertParams{
		OrderID: o.ID, Status: db.OrderStatus(o.Status), ActorID: &actor, Note: note, Kind: string(kind), FulfillmentID: &f.ID,
	})
	if err != nil {
		return fmt.Errorf("insert fulfillment event: %w", err)
	}
	if err := s.oweFulfillmentWebhooks(ctx, kind, f); err != nil {
		return err
	}
	e := eventFromRow(row)
	postgres.AfterCommit(ctx, func(ctx context.Context) { s.publish(ctx, o, e) })
	return nil
}

// lockFulfillment locks the order of fulfilment id, then the fulfilment, and checks that v may
// act on it. Errors: NOT_FOUND (also when v may not act on it).
func (s *Service) lockFulfillment(ctx context.Context, q *db.Queries, v auth.Viewer, id int64) (Order, Fulfillment, error) {
	notFound := apperr.FieldError(apperr.NotFound, "No fulfillment has this ID.", "input", "id")
	peek, err := q.FulfillmentGetByID(ctx, id)
	if postgres.IsNotFound(err) {
		return Order{}, Fulfillment{}, notFound
	}
	if err != nil {
		return Order{}, Fulfillment{}, fmt.Errorf("get fulfillment: %w", err)
	}
	// The order first, as every change of the order aggregate does: no deadlock with a
	// fulfilment being created or a status move.
	orow, err := q.OrderGetByIDForUpdate(ctx, peek.OrderID)
	if err != nil {
		return Order{}, Fulfillment{}, fmt.Errorf("lock order: %w", err)
	}
	row, err := q.FulfillmentGetByIDForUpdate(ctx, id)
	if err != nil {
		return Order{}, Fulfillment{}, fmt.Errorf("lock fulfillment: %w", err)
	}
	f := fulfillmentFromRow(row)
	if !MayActOnFulfillment(v, f) {
		return Order{}, Fulfillment{}, notFound
	}
	return orderFromRow(orow), f, nil
}

// UpdateTracking changes the carrier, tracking number and URL of a fulfilment not yet
// delivered: the member of its vendor or an admin.
// Errors: FORBIDDEN, INVALID, NOT_FOUND, INVALID_TRANSITION (delivered).
func (s *Service) UpdateTracking(ctx context.Context, v auth.Viewer, id int64, t Tracking) (Fulfillment, error) {
	if err := mayFulfil(v); err != nil {
		return Fulfillment{}, err
	}
	if errs := t.validate(); len(errs) > 0 {
		return Fulfillment{}, errs
	}
	var out Fulfillment
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		o, f, err := s.lockFulfillment(ctx, q, v, id)
		if err != nil {
			return err
		}
		if f.Status != FulfillmentShipped {
			return apperr.FieldError(apperr.InvalidTransition, "A delivered fulfilment's tracking cannot change.", "input", "id")
		}
		row, err := q.FulfillmentSetTracking(ctx, db.FulfillmentSetTrackingParams{
			ID: id, Carrier: t.Carrier, TrackingNumber: t.TrackingNumber, TrackingUrl: t.TrackingURL,
		})
		if err != nil {
			return fmt.Errorf("set tracking: %w", err)
		}
		out = fulfillmentFromRow(row)
		out.Lines = f.Lines
		return s.fulfillmentEvent(ctx, q, o, v.UserID, KindFulfillmentTrackingUpdated, out, "fulfilment tracking updated")
	})
	if err != nil {
		return Fulfillment{}, err
	}
	return s.withLines(ctx, out)
}

// MarkDelivered records that a fulfilment reached the customer: the member of its vendor or an
// admin. When the order is SHIPPED and every fulfilment is delivered, the order moves to
// DELIVERED (TransitionTx), then the fulfilment's event follows.
// Errors: FORBIDDEN, NOT_FOUND, INVALID_TRANSITION (already delivered).
func (s *Service) MarkDelivered(ctx context.Context, v auth.Viewer, id int64) (Fulfillment, error) {
	if err := mayFulfil(v); err != nil {
		return Fulfillment{}, err
	}
	var out Fulfillment
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		o, f, err := s.lockFulfillment(ctx, q, v, id)
		if err != nil {
			return err
		}
		if f.Status != FulfillmentShipped {
			return apperr.FieldError(apperr.InvalidTransition, "This fulfilment was already delivered.", "input", "id")
		}
		row, err := q.FulfillmentSetDelivered(ctx, id)
		if err != nil {
			return fmt.Errorf("set delivered: %w", err)
		}
		out = fulfillmentFromRow(row)
		all, err := q.FulfillmentAllDelivered(ctx, o.ID)
		if err != nil {
			return fmt.Errorf("all delivered: %w", err)
		}
		if o.Status == Shipped && all != nil && *all {
			if o, err = s.TransitionTx(ctx, q, causedBy(v), o.ID, Delivered, TransitionOptions{Note: "every fulfilment delivered"}); err != nil {
				return err
			}
		}
		return s.fulfillmentEvent(ctx, q, o, v.UserID, KindFulfillmentDelivered, out, "fulfilment delivered")
	})
	if err != nil {
		return Fulfillment{}, err
	}
	return s.withLines(ctx, out)
}

func (s *Service) withLines(ctx context.Context, f Fulfillment) (Fulfillment, error) {
	all, err := fulfillmentsOf(ctx, s.db.Queries, []int64{f.OrderID})
	if err != nil {
		return Fulfillment{}, err
	}
	for _, x := range all[f.OrderID] {
		if x.ID == f.ID {
			return x, nil
		}
	}
	return f, nil
}

// fulfilRemaining is an admin's orderStatusUpdate(SHIPPED) of a PAID order: it fulfils every
// unit not yet fulfilled, one fulfilment per vendor (and one for the platform's lines), with
// the tracking number given, in the caller's transaction with the order row locked. It
// returns the fulfilments made, whose events the caller appends after the move.
func (s *Service) fulfilRemaining(ctx context.Context, q *db.Queries, v auth.Viewer, orderID int64, tracking string) ([]Fulfillment, error) {
	rows, err := q.OrderLineListByOrderIDs(ctx, []int64{orderID})
	if err != nil {
		return nil, fmt.Errorf("list order lines: %w", err)
	}
	fs, err := fulfillmentsOf(ctx, q, []int64{orderID})
	if err != nil {
		return nil, err
	}
	type group struct {
		vendor *int64
		ids    []int64
		qtys   []int32
	}
	var groups []*group
	byVendor := map[int64]*group{}
	var platform *group
	for _, r := range rows {
		l := lineFromRow(r)
		left := l.Quantity - FulfilledQuantity(l.ID, fs[orderID])
		if left <= 0 {
			continue
		}
		var g *group
		if l.VendorID == nil {
			if platform == nil {
				platform = &group{}
				groups = append(groups, platform)
			}
			g = platform
		} else {
			if g = byVendor[*l.VendorID]; g == nil {
				g = &group{vendor: l.VendorID}
				byVendor[*l.VendorID] = g
				groups = append(groups, g)
			}
		}
		g.ids, g.qtys = append(g.ids, l.ID), append(g.qtys, int32(left))
	}
	var made []Fulfillment
	for _, g := range groups {
		f, err := s.insertFulfillment(ctx, q, v, orderID, g.vendor, Tracking{TrackingNumber: strings.TrimSpace(tracking)}, g.ids, g.qtys)
		if err != nil {
			return nil, err
		}
		made = append(made, f)
	}
	return made, nil
}
