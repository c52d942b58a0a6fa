package order

import (
	"fmt"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// This file is the order policy: who may see an order, which of its lines, its total and its
// payment, who may follow its events, and who may move it. It is the one place that decides;
// the service calls it, resolvers ask the service. The schema's @auth and @hasRole gate the
// fields coarsely at the API; the rules below are the domain's own, for every caller.

// mayRequest reports whether actor may ask for o to move to `to`: the system and admins may
// make any legal move; the owner may only cancel a PENDING order.
func mayRequest(a Actor, o Order, to Status) bool {
	switch {
	case a.System:
		return true
	case a.Viewer == nil:
		return false
	case a.Viewer.IsAdmin():
		return true
	case o.OwnedBy(*a.Viewer):
		return o.Status == Pending && to == Cancelled
	}
	return false
}

// OwnedBy reports whether v placed o.
func (o Order) OwnedBy(v auth.Viewer) bool { return v.UserID == o.UserID }

// SeesWhole reports whether v sees all of o (its lines, total and payment): its owner and
// admins. Vendors see only their own lines.
func SeesWhole(v auth.Viewer, o Order) bool { return v.IsAdmin() || o.OwnedBy(v) }

// CanView reports whether v may see o: its owner, admins, and the members of a vendor with a
// line in it (vendorHasLine: a line of v's acting vendor, auth.Viewer.ActingVendor).
func CanView(v auth.Viewer, o Order, vendorHasLine bool) bool {
	_, vendor := v.ActingVendor()
	return SeesWhole(v, o) || (vendor && vendorHasLine)
}

// VisibleLines are the lines v may see: all for the owner and admins, a vendor's own for its
// members.
func VisibleLines(v auth.Viewer, o Order, lines []Line) []Line {
	if SeesWhole(v, o) {
		return lines
	}
	var own []Line
	for _, l := range lines {
		if l.VendorID != nil && v.ActsFor(*l.VendorID) {
			own = append(own, l)
		}
	}
	return own
}

// VisibleTotal is the order total for the owner and admins, and the total of its own lines
// for a vendor. Those lines are a part of the order, whose total is bounded, so the sum fails
// only on rows that break that rule; it never wraps.
func VisibleTotal(v auth.Viewer, o Order, lines []Line) (money.Money, error) {
	if SeesWhole(v, o) {
		return o.Total, nil
	}
	total := money.New(0, o.Total.Currency)
	for _, l := range VisibleLines(v, o, lines) {
		var err error
		// In the order's currency: every line of an order is.
		if total, err = total.Add(money.New(l.LineTotal.Amount, total.Currency)); err != nil {
			return money.Money{}, fmt.Errorf("order %d: vendor total: %w", o.ID, err)
		}
	}
	return total, nil
}

// scope narrows a list to what v may see.
func scope(v auth.Viewer, userID, vendorID **int64) {
	switch {
	case v.IsAdmin():
	default:
		if id, ok := v.ActingVendor(); ok {
			*vendorID = &id
			return
		}
		*userID = &v.UserID
	}
}

// needsVendorLine reports whether deciding that v may see o needs to know whether v's vendor
// has a line in it (CanView), and which vendor: for a vendor's member that did not place it.
func needsVendorLine(v auth.Viewer, o Order) (int64, bool) {
	id, ok := v.ActingVendor()
	return id, ok && !o.OwnedBy(v)
}

// FeedScope is which orders v may follow on the all-orders feed: every order for an admin
// (nil), those holding its vendor's products for a vendor's member (the vendor's id).
// Errors: FORBIDDEN (customers, and VENDOR accounts of no vendor, follow their orders one by
// one).
func FeedScope(v auth.Viewer) (vendorID *int64, err error) {
	if v.IsAdmin() {
		return nil, nil
	}
	if id, ok := v.ActingVendor(); ok {
		return &id, nil
	}
	return nil, apperr.New(apperr.Forbidden, "Only admins and vendors can follow every order.")
}

// CanFollow reports whether v may receive e on the all-orders feed.
func CanFollow(v auth.Viewer, e pubsub.OrderEvent) bool {
	vendorID, err := FeedScope(v)
	return err == nil && (vendorID == nil || e.HasVendor(*vendorID))
}

// mayUpdateStatus says whether v may move orders through the state machine at will: admins.
// Errors: FORBIDDEN.
func mayUpdateStatus(v auth.Viewer) error {
	if !v.IsAdmin() {
		return apperr.New(apperr.Forbidden, "Only admins can change an order's status.")
	}
	return nil
}

// Fulfilment policy: who may see and ship an order's fulfilments.
//
// A fulfilment ships lines of one vendor (or of the platform). Its vendor's members and admins
// act on it; the order's owner sees every fulfilment of its order with the tracking; a vendor's
// member sees only its own vendor's, and any other is, to it, missing.

// mayFulfil says whether v may fulfil at all: admins and the members of a vendor.
// Errors: FORBIDDEN.
func mayFulfil(v auth.Viewer) error {
	if _, ok := v.ActingVendor(); ok || v.IsAdmin() {
		return nil
	}
	return apperr.New(apperr.Forbidden, "Only a vendor's members and admins can fulfil orders.")
}

// ActsOnLines are the lines v may fulfil, by id: all for an admin, its vendor's own for a
// vendor's member (ActsFor), none for anyone else.
func ActsOnLines(v auth.Viewer, lines []Line) map[int64]Line {
	out := map[int64]Line{}
	for _, l := range lines {
		if v.IsAdmin() || (l.VendorID != nil && v.ActsFor(*l.VendorID)) {
			out[l.ID] = l
		}
	}
	return out
}

// MayActOnFulfillment reports whether v may update or deliver f: an admin, or a member of f's
// vendor (the platform's fulfilments: admins only).
func MayActOnFulfillment(v auth.Viewer, f Fulfillment) bool {
	return v.IsAdmin() || (f.VendorID != nil && v.ActsFor(*f.VendorID))
}

// CanSeeFulfillment reports whether v may see f of order o: those who see the whole order
// (its owner, with the tracking, and admins), and the members of f's vendor.
func CanSeeFulfillment(v auth.Viewer, o Order, f Fulfillment) bool {
	return SeesWhole(v, o) || MayActOnFulfillment(v, f)
}

// VisibleFulfillments are the fulfilments of o that v may see (CanSeeFulfillment).
func VisibleFulfillments(v auth.Viewer, o Order, fs []Fulfillment) []Fulfillment {
	out := make([]Fulfillment, 0, len(fs))
	for _, f := range fs {
		if CanSeeFulfillment(v, o, f) {
			out = append(out, f)
		}
	}
	return out
}

// EventFor is e as v may see it on o, whose fulfilments (all of them) are fs. The event of a
// fulfilment v may not see (CanSeeFulfillment: another vendor's, or the platform's, for a
// vendor's members) keeps its place (sequences stay gap-free, so followers do not resync) and
// its time and status, but becomes KindOrderUpdated without its fulfilment, actor or note:
// nothing says a fulfilment exists, whose it is, or who made it.
func EventFor(v auth.Viewer, o Order, e Event, fs []Fulfillment) Event {
	if e.FulfillmentID == nil || SeesWhole(v, o) {
		return e
	}
	for _, f := range fs {
		if f.ID == *e.FulfillmentID && CanSeeFulfillment(v, o, f) {
			return e
		}
	}
	return redactedEvent(e)
}

// EventsFor are events of o as v may see them (EventFor).
func EventsFor(v auth.Viewer, o Order, events []Event, fs []Fulfillment) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = EventFor(v, o, e, fs)
	}
	return out
}

func redactedEvent(e Event) Event {
	return Event{OrderID: e.OrderID, Sequence: e.Sequence, FeedPosition: e.FeedPosition, Kind: KindOrderUpdated,
		Status: e.Status, PreviousStatus: e.PreviousStatus, At: e.At}
}

// TrackingNumberFor is o's tracking number as v may see it, fs being all of o's fulfilments:
// whole for its owner and admins; for a vendor's members only when it is that of one of the
// fulfilments they may see (the order takes the last fulfilment's), never another vendor's.
func TrackingNumberFor(v auth.Viewer, o Order, fs []Fulfillment) *string {
	if o.TrackingNumber == nil || SeesWhole(v, o) {
		return o.TrackingNumber
	}
	for _, f := range VisibleFulfillments(v, o, fs) {
		if f.TrackingNumber == *o.TrackingNumber {
			return o.TrackingNumber
		}
	}
	return nil
}
