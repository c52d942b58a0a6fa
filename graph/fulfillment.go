package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/order"
)

// Global ID type names of fulfilments and order lines.
const (
	typeFulfillment = gid.Fulfillment
	typeOrderLine   = gid.OrderLine
)

func fulfillmentPayload(f order.Fulfillment, err error) (*model.FulfillmentPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.FulfillmentPayload{UserErrors: ue}, err
	}
	return &model.FulfillmentPayload{Fulfillment: &f, UserErrors: ue}, nil
}

func trackingOf(carrier *string, number string, url *string) order.Tracking {
	t := order.Tracking{TrackingNumber: number, TrackingURL: url}
	if carrier != nil {
		t.Carrier = *carrier
	}
	return t
}

// orderFulfillments are the fulfilments of the order orderID, read by the loader.
func orderFulfillments(ctx context.Context, orderID int64) ([]order.Fulfillment, error) {
	return loader.From(ctx).FulfillmentsByOrderID.Load(ctx, orderID)()
}

// visibleFulfillments are the fulfilments of o the viewer may see.
func (r *Resolver) visibleFulfillments(ctx context.Context, v auth.Viewer, o order.Order) ([]order.Fulfillment, error) {
	all, err := orderFulfillments(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	return r.OrderService.VisibleFulfillments(v, o, all), nil
}
