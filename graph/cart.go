package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cart"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// Global ID type names of carts (a customer's and a guest's: both are a Cart).
const (
	typeCustomerCart = gid.CustomerCart
	typeGuestCart    = gid.GuestCart
)

// cartOwner is the request's cart owner: the signed-in customer and/or the anonymous token.
func cartOwner(ctx context.Context) cart.Owner {
	o := cart.Owner{Token: auth.RequestFrom(ctx).CartToken}
	if v, ok := auth.ViewerFrom(ctx); ok {
		o.UserID = &v.UserID
	}
	return o
}

// cartPayload turns a cart service result into a payload, keeping the browser's cart cookie in
// step: set for a newly issued token, cleared once merged into a customer's.
func cartPayload(ctx context.Context, c cart.Cart, err error) (*model.CartPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.CartPayload{UserErrors: ue}, err
	}
	syncCartCookie(ctx, c)
	return &model.CartPayload{Cart: &c, UserErrors: ue}, nil
}

func syncCartCookie(ctx context.Context, c cart.Cart) {
	switch {
	case c.Token != "":
		auth.SetCartCookie(ctx, c.Token)
	case c.Merged:
		auth.ClearCartCookie(ctx)
	}
}
