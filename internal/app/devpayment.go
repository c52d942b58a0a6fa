package app

import (
	"context"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/payment"
)

// devPaymentIntent is httpapi.DevPayment's lookup: the event that pays the order with global
// ID orderID, if v may pay it (payment.Service.SimulatedSuccess); an order v may not see is
// NOT_FOUND, as everywhere.
func (a *App) devPaymentIntent(ctx context.Context, v auth.Viewer, orderID string) (payment.EventSpec, error) {
	typ, id, ok := gid.Decode(orderID)
	if !ok || typ != gid.Order {
		return payment.EventSpec{}, apperr.New(apperr.NotFound, "order not found")
	}
	o, err := a.Orders.Get(ctx, v, id)
	if err != nil {
		return payment.EventSpec{}, err
	}
	return a.Payments.SimulatedSuccess(ctx, v, o)
}
