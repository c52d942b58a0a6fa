package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/order"
)

// fulfillmentTypes are the fulfilment events' types by the order event that tells of them.
var fulfillmentTypes = map[order.EventKind]EventType{
	order.KindFulfillmentCreated:         FulfillmentCreated,
	order.KindFulfillmentTrackingUpdated: FulfillmentTrackingUpdated,
	order.KindFulfillmentDelivered:       FulfillmentDelivered,
}

// FulfillmentChanged owes the event of fulfilment f (order.FulfillmentWebhooks), in tx, the
// transaction of the change. A fulfilment is all of one vendor's lines (or the platform's), so
// admins' subscriptions and that vendor's receive it whole; no other vendor's does.
func (s *Service) FulfillmentChanged(ctx context.Context, tx pgx.Tx, kind order.EventKind, f order.Fulfillment) error {
	typ, ok := fulfillmentTypes[kind]
	if !ok {
		return nil
	}
	return s.emit(ctx, tx, []event{{typ: typ, resourceType: "fulfillment", resourceID: f.ID, resourceGID: f.GlobalID(),
		load: func(ctx context.Context, q *db.Queries) ([]int64, func(*int64) any, error) {
			lines, err := q.FulfillmentLineListByOrderIDs(ctx, []int64{f.OrderID})
			if err != nil {
				return nil, nil, fmt.Errorf("read fulfilment %d's lines for its webhook: %w", f.ID, err)
			}
			d := FulfillmentData{ID: f.GlobalID(), OrderID: gid.Encode(gid.Order, f.OrderID), Status: string(f.Status),
				Carrier: f.Carrier, TrackingNumber: f.TrackingNumber, TrackingURL: f.TrackingURL,
				CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, DeliveredAt: f.DeliveredAt, Lines: []FulfillmentLineData{}}
			for _, l := range lines {
				if l.FulfillmentID == f.ID {
					d.Lines = append(d.Lines, FulfillmentLineData{OrderLineID: gid.Encode(gid.OrderLine, l.OrderLineID), Quantity: int(l.Quantity)})
				}
			}
			var vendors []int64
			if f.VendorID != nil {
				vendors = []int64{*f.VendorID}
			}
			return vendors, func(*int64) any { return d }, nil
		}}})
}

// FulfillmentData is the data of a fulfilment event.
type FulfillmentData struct {
	ID             string                `json:"id"`
	OrderID        string                `json:"orderId"`
	Status         string                `json:"status"`
	Carrier        string                `json:"carrier"`
	TrackingNumber string                `json:"trackingNumber"`
	TrackingURL    *string               `json:"trackingUrl"`
	Lines          []FulfillmentLineData `json:"lines"`
	CreatedAt      time.Time             `json:"createdAt"`
	UpdatedAt      time.Time             `json:"updatedAt"`
	DeliveredAt    *time.Time            `json:"deliveredAt"`
}

// FulfillmentLineData is the units of one order line a fulfilment ships.
type FulfillmentLineData struct {
	OrderLineID string `json:"orderLineId"`
	Quantity    int    `json:"quantity"`
}
