package order

import (
	"encoding/json"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

func orderFromRow(r db.Order) Order {
	var addr Address
	_ = json.Unmarshal(r.ShippingAddress, &addr) // written by this package from an Address
	return Order{
		ID: r.ID, UserID: customerID(r.UserID), Status: Status(r.Status), Total: money.New(r.TotalAmount, r.Currency),
		ShippingAddress: addr, TrackingNumber: r.TrackingNumber, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

func lineFromRow(r db.OrderLine) Line {
	return Line{
		ID: r.ID, OrderID: r.OrderID, ProductID: r.ProductID, VariantID: r.VariantID, VendorID: r.VendorID,
		ProductName: r.ProductName, VariantName: r.VariantName, SKU: r.SKU,
		UnitPrice: money.New(r.UnitPrice, r.Currency), Quantity: int(r.Quantity), LineTotal: money.New(r.LineTotal, r.Currency),
	}
}

func eventFromRow(r db.OrderEvent) Event {
	e := Event{OrderID: r.OrderID, Sequence: int(r.Sequence), FeedPosition: r.FeedPosition, Kind: EventKind(r.Kind), Status: Status(r.Status),
		ActorID: r.ActorID, Note: r.Note, At: r.CreatedAt, FulfillmentID: r.FulfillmentID}
	if e.Kind == "" {
		e.Kind = KindStatusChanged // checkout's first event, built from its own columns
	}
	if r.PreviousStatus != nil {
		prev := Status(*r.PreviousStatus)
		e.PreviousStatus = &prev
	}
	return e
}

// FromRow converts an order row (for checkout, which writes orders in its own transaction).
func FromRow(r db.Order) Order { return orderFromRow(r) }

// LineOf converts an order line row.
func LineOf(r db.OrderLine) Line { return lineFromRow(r) }

// EventOf converts an event row.
func EventOf(r db.OrderEvent) Event { return eventFromRow(r) }

// message is the event as published to live subscribers.
func (e Event) message(o Order, vendorIDs []int64) pubsub.OrderEvent {
	m := pubsub.OrderEvent{
		OrderID: e.OrderID, Sequence: e.Sequence, FeedPosition: e.FeedPosition, Status: string(e.Status),
		At: e.At, Note: e.Note, UserID: o.UserID, VendorIDs: vendorIDs, Kind: string(e.Kind), FulfillmentID: e.FulfillmentID,
	}
	if e.PreviousStatus != nil {
		m.PreviousStatus = string(*e.PreviousStatus)
	}
	return m
}

// FromMessage converts a published event back into an Event.
func FromMessage(m pubsub.OrderEvent) Event {
	e := Event{OrderID: m.OrderID, Sequence: m.Sequence, FeedPosition: m.FeedPosition, Kind: EventKind(m.Kind), Status: Status(m.Status),
		Note: m.Note, At: m.At, FulfillmentID: m.FulfillmentID}
	if e.Kind == "" {
		e.Kind = KindStatusChanged // published before kinds existed
	}
	if m.PreviousStatus != "" {
		prev := Status(m.PreviousStatus)
		e.PreviousStatus = &prev
	}
	return e
}

// customerID is an order's customer, or 0 for an order whose customer deleted the account
// (kept for the books, detached from the person).
func customerID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
