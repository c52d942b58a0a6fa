// Package order is placed orders: their immutable lines, their status history, who may see
// them (policy.go), and the one state machine every caller (resolvers, the payment webhook, jobs) moves
// them through.
package order

import (
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
	// by, for a system move caused by a viewer (a fulfilment completing the order), is that
	// viewer's account, for the event history.
	by *int64
}

// causedBy is the system moving an order because of what v did (a fulfilment by a vendor's
// member, who may not move the order itself): the history names v.
func causedBy(v auth.Viewer) Actor { return Actor{System: true, by: &v.UserID} }

// SystemActor is the actor of webhooks and background jobs.
var SystemActor = Actor{System: true}

// ViewerActor is a viewer acting through the API.
func ViewerActor(v auth.Viewer) Actor { return Actor{Viewer: &v} }

// userID is the acting account, for the event history; nil for the system.
func (a Actor) userID() *int64 {
	if a.Viewer == nil {
		return a.by
	}
	return &a.Viewer.UserID
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

// GlobalID is the line's opaque API ID.
func (l Line) GlobalID() string { return gid.Encode(gid.OrderLine, l.ID) }

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

// EventKind is what an order event records.
type EventKind string

// Event kinds: a status change, or a change of one of its fulfilments (the status stays).
const (
	KindStatusChanged              EventKind = "STATUS_CHANGED"
	KindFulfillmentCreated         EventKind = "FULFILLMENT_CREATED"
	KindFulfillmentTrackingUpdated EventKind = "FULFILLMENT_TRACKING_UPDATED"
	KindFulfillmentDelivered       EventKind = "FULFILLMENT_DELIVERED"
	// KindOrderUpdated is a fulfilment's event as a follower who may not see that fulfilment
	// (another vendor's) is told of it: that something changed, nothing of what (EventFor).
	KindOrderUpdated EventKind = "ORDER_UPDATED"
)

// Event is one change of an order: a status change or a fulfilment's.
type Event struct {
	OrderID        int64
	Sequence       int
	FeedPosition   int64
	Kind           EventKind
	Status         Status
	PreviousStatus *Status
	ActorID        *int64
	Note           string
	At             time.Time
	// FulfillmentID is the fulfilment of a FULFILLMENT_* event.
	FulfillmentID *int64
}
