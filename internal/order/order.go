// Package order is placed orders: their immutable lines, their status history, who may see
// them, and the one state machine every caller (resolvers, the payment webhook, jobs) moves
// them through.
package order

import (
	"fmt"
	"time"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/money"
)

// Status is where an order is in its life.
type Status string

// Statuses.
const (
	Pending           Status = "PENDING"
	Paid              Status = "PAID"
	Shipped           Status = "SHIPPED"
	Delivered         Status = "DELIVERED"
	Cancelled         Status = "CANCELLED"
	Refunded          Status = "REFUNDED"
	PartiallyRefunded Status = "PARTIALLY_REFUNDED"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// transitions is the state machine: the statuses each status may move to.
var transitions = map[Status][]Status{
	Pending:           {Paid, Cancelled},
	Paid:              {Shipped, Cancelled, Refunded, PartiallyRefunded},
	Shipped:           {Delivered, Refunded, PartiallyRefunded},
	Delivered:         {Refunded, PartiallyRefunded},
	PartiallyRefunded: {PartiallyRefunded, Refunded},
	Cancelled:         {Refunded},
	Refunded:          {},
}

// CanTransition reports whether the state machine allows from → to.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Actor is who asks for a transition: a viewer, or the system (payment webhook, jobs).
type Actor struct {
	Viewer *auth.Viewer
	System bool
}

// SystemActor is the actor of webhooks and background jobs.
var SystemActor = Actor{System: true}

// ViewerActor is a viewer acting through the API.
func ViewerActor(v auth.Viewer) Actor { return Actor{Viewer: &v} }

// userID is the acting account, for the event history; nil for the system.
func (a Actor) userID() *int64 {
	if a.Viewer == nil {
		return nil
	}
	return &a.Viewer.UserID
}

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

// Address is a shipping address snapshot.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode"`
	Country    string `json:"country"`
	Phone      string `json:"phone,omitempty"`
}

// Order is a placed order.
type Order struct {
	ID              int64
	UserID          int64
	Status          Status
	Total           money.Money
	ShippingAddress Address
	TrackingNumber  *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// GlobalID is the order's opaque API ID.
func (o Order) GlobalID() string { return gid.Encode(gid.Order, o.ID) }

// Line is one item of an order, as it was at checkout.
type Line struct {
	ID          int64
	OrderID     int64
	ProductID   int64
	VariantID   int64
	VendorID    *int64
	ProductName string
	VariantName string
	SKU         string
	UnitPrice   money.Money
	Quantity    int
	LineTotal   money.Money
}

// Event is one status change.
type Event struct {
	OrderID        int64
	Sequence       int
	FeedPosition   int64
	Status         Status
	PreviousStatus *Status
	ActorID        *int64
	Note           string
	At             time.Time
}

// OwnedBy reports whether v placed o.
func (o Order) OwnedBy(v auth.Viewer) bool { return v.UserID == o.UserID }

// SeesWhole reports whether v sees all of o (its lines, total and payment): its owner and
// admins. Vendors see only their own lines.
func SeesWhole(v auth.Viewer, o Order) bool { return v.IsAdmin() || o.OwnedBy(v) }

// CanView reports whether v may see o: its owner, admins, and vendors with a line in it
// (vendorHasLine).
func CanView(v auth.Viewer, o Order, vendorHasLine bool) bool {
	return SeesWhole(v, o) || (v.Role == auth.RoleVendor && vendorHasLine)
}

// VisibleLines are the lines v may see: all for the owner and admins, a vendor's own for a
// vendor.
func VisibleLines(v auth.Viewer, o Order, lines []Line) []Line {
	if SeesWhole(v, o) {
		return lines
	}
	var own []Line
	for _, l := range lines {
		if l.VendorID != nil && *l.VendorID == v.UserID {
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
