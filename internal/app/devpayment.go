package app

import (
	"context"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/payment"
)

// devPaymentIntent is httpapi.DevPayment's lookup: the Stripe intent of an order the viewer
// placed. Only its owner may pay it, as only the owner holds its client secret; an order the
// viewer may not see is NOT_FOUND, as everywhere.
func (a *App) devPaymentIntent(ctx context.Context, v auth.Viewer, orderID string) (payment.EventSpec, error) {
	typ, id, ok := gid.Decode(orderID)
	if !ok || typ != gid.Order {
		return payment.EventSpec{}, apperr.New(apperr.NotFound, "order not found")
	}
	o, err := a.Orders.Get(ctx, v, id)
	if err != nil {
		return payment.EventSpec{}, err
	}
	if o.UserID != v.UserID {
		return payment.EventSpec{}, apperr.New(apperr.Forbidden, "only the order's customer may pay it")
	}
	p, err := a.Payments.ForOrder(ctx, id)
	if err != nil {
		return payment.EventSpec{}, err
	}
	if p.Provider != payment.ProviderStripe {
		return payment.EventSpec{}, apperr.New(apperr.Invalid, "the order is paid through "+p.Provider+", not Stripe")
	}
	return payment.EventSpec{IntentID: p.IntentID, Amount: p.Amount.Amount, Currency: p.Amount.Currency}, nil
}
