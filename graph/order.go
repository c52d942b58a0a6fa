package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/order"
)

// Global ID type name of orders.
const typeOrder = gid.Order

func orderPayload(o order.Order, err error) (*model.OrderPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.OrderPayload{UserErrors: ue}, err
	}
	return &model.OrderPayload{Order: &o, UserErrors: ue}, nil
}

func orderFilter(f *model.OrderFilter) order.ListFilter {
	if f == nil {
		return order.ListFilter{}
	}
	return order.ListFilter{Status: f.Status, CreatedAfter: f.CreatedAfter, CreatedBefore: f.CreatedBefore, FulfillmentStatus: f.FulfillmentStatus}
}

// primeOrderPayments loads the payments of a page of orders in one statement when the
// selection asks for them, and primes the loader with each, nil for an order without one. The
// loader's short wait batches only the field resolvers that arrive within it, so on a busy
// machine a page could cost a statement more; primed, a page costs the same statements however
// many orders it holds. Who may see a payment is the field resolver's business, not this one's.
func (r *Resolver) primeOrderPayments(ctx context.Context, orders []order.Order) error {
	if len(orders) == 0 || (!selects(ctx, "nodes", "payment") && !selects(ctx, "edges", "node", "payment")) {
		return nil
	}
	ids := make([]int64, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	payments, err := r.Payments.ForOrders(ctx, ids)
	if err != nil {
		return err
	}
	loaders := loader.From(ctx)
	for _, id := range ids {
		if p, ok := payments[id]; ok {
			loaders.PaymentByOrderID.Prime(ctx, id, &p)
		} else {
			loaders.PaymentByOrderID.Prime(ctx, id, nil)
		}
	}
	return nil
}
