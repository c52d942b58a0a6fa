package graph

import (
	"strings"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/order"
)

// checkoutInputOf converts checkout's input: a typed-in address, a saved one's ID (NOT_FOUND
// on input.shippingAddressId when it is no address's), or both for the service to refuse.
func checkoutInputOf(key string, input model.CheckoutInput) (checkout.Input, error) {
	in := checkout.Input{IdempotencyKey: key, PaymentMethodID: deref(input.PaymentMethodID)}
	if input.PaymentProvider != nil {
		in.PaymentProvider = strings.ToLower(string(*input.PaymentProvider))
	}
	if a := input.ShippingAddress; a != nil {
		in.ShippingAddress = order.Address{
			Name: a.Name, Line1: a.Line1, Line2: deref(a.Line2), City: a.City, Region: deref(a.Region),
			PostalCode: a.PostalCode, Country: a.Country, Phone: deref(a.Phone),
		}
	}
	if input.ShippingAddressID != nil {
		id, err := idOf(*input.ShippingAddressID, typeAddress, "input", "shippingAddressId")
		if err != nil {
			return in, err
		}
		in.ShippingAddressID = id
	}
	return in, nil
}
