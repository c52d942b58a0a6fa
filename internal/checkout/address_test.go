package checkout_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	addressbook "github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/checkout"
	"github.com/shopgraph/shopgraph/internal/order"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// TestCompleteShippingAddress: checkout ships to a typed-in address or to one of the
// customer's saved ones, and the order keeps its own copy either way.
func TestCompleteShippingAddress(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	book := addressbook.NewService(b.d)
	orderAddress := func(t *testing.T, orderID int64) order.Address {
		t.Helper()
		row, err := b.d.OrderGetByID(ctx, orderID)
		require.NoError(t, err)
		return order.FromRow(row).ShippingAddress
	}

	t.Run("a saved address is copied onto the order; editing or deleting it later does not change the order", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Price: 500, Stock: 5}}})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		saved, err := book.Create(ctx, v, addressbook.Postal{Name: "Grace Hopper", Line1: "2 Navy Yard", City: "Arlington",
			Region: "VA", PostalCode: "22202", Country: "US", Phone: "+1 555 0100"})
		require.NoError(t, err)

		res, err := b.svc.Complete(ctx, v, checkout.Input{IdempotencyKey: "saved-1", ShippingAddressID: saved.ID})
		require.NoError(t, err)
		want := order.Address{Name: "Grace Hopper", Line1: "2 Navy Yard", City: "Arlington", Region: "VA", PostalCode: "22202",
			Country: "US", Phone: "+1 555 0100"}
		require.Equal(t, want, res.Order.ShippingAddress)
		require.Equal(t, want, orderAddress(t, res.Order.ID))

		newName := "Someone Else"
		_, err = book.Update(ctx, v, saved.ID, addressbook.Patch{Name: &newName})
		require.NoError(t, err)
		require.Equal(t, want, orderAddress(t, res.Order.ID), "an edit of the address leaves the order alone")

		// The same key and address id again, after the edit: the same order, not a new one.
		again, err := b.svc.Complete(ctx, v, checkout.Input{IdempotencyKey: "saved-1", ShippingAddressID: saved.ID})
		require.NoError(t, err)
		require.True(t, again.Replayed)
		require.Equal(t, res.Order.ID, again.Order.ID)

		_, err = book.Delete(ctx, v, saved.ID)
		require.NoError(t, err)
		require.Equal(t, want, orderAddress(t, res.Order.ID), "deleting the address leaves the order alone")
		// A retry whose address has been deleted since still gets its order back.
		again, err = b.svc.Complete(ctx, v, checkout.Input{IdempotencyKey: "saved-1", ShippingAddressID: saved.ID})
		require.NoError(t, err)
		require.Equal(t, res.Order.ID, again.Order.ID)

		// A new checkout with the deleted address is NOT_FOUND.
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		before := stateOf(t, b.d, v, p.Variant())
		_, err = b.svc.Complete(ctx, v, checkout.Input{IdempotencyKey: "saved-2", ShippingAddressID: saved.ID})
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
		require.Equal(t, []string{"input.shippingAddressId"}, tf.Fields(err))
		require.Equal(t, before, stateOf(t, b.d, v, p.Variant()))
	})

	t.Run("another customer's saved address is NOT_FOUND and changes nothing", func(t *testing.T) {
		owner, thief := customer(t, b.d), customer(t, b.d)
		theirs, err := book.Create(ctx, owner, addressbook.Postal{Name: "Ada", Line1: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE"})
		require.NoError(t, err)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Price: 500, Stock: 5}}})
		tf.CartLine(t, b.d, thief.UserID, p.Variant(), 2)
		before := stateOf(t, b.d, thief, p.Variant())

		_, err = b.svc.Complete(ctx, thief, checkout.Input{IdempotencyKey: "bola", ShippingAddressID: theirs.ID})
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err))
		require.Equal(t, []string{"input.shippingAddressId"}, tf.Fields(err))
		require.Equal(t, before, stateOf(t, b.d, thief, p.Variant()))
	})

	t.Run("exactly one of the typed-in and the saved address", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Price: 500, Stock: 5}}})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		saved, err := book.Create(ctx, v, addressbook.Postal{Name: "Ada", Line1: "1 Main St", City: "Paris", PostalCode: "75001", Country: "FR"})
		require.NoError(t, err)
		before := stateOf(t, b.d, v, p.Variant())

		_, err = b.svc.Complete(ctx, v, checkout.Input{IdempotencyKey: "both", ShippingAddress: address(), ShippingAddressID: saved.ID})
		require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))
		require.Equal(t, []string{"input.shippingAddressId"}, tf.Fields(err))
		_, err = b.svc.Complete(ctx, v, checkout.Input{IdempotencyKey: "neither"})
		require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err))
		require.Equal(t, []string{"input.shippingAddress"}, tf.Fields(err))
		require.Equal(t, before, stateOf(t, b.d, v, p.Variant()))
	})

	t.Run("a typed-in address keeps to the address book's rules and is stored in its written form", func(t *testing.T) {
		v := customer(t, b.d)
		p := tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{Price: 500, Stock: 5}}})
		tf.CartLine(t, b.d, v.UserID, p.Variant(), 1)
		before := stateOf(t, b.d, v, p.Variant())
		for _, tc := range []struct {
			country, postalCode string
			code                apperr.Code
			field               string
		}{
			{"US", "1234", addressbook.InvalidPostalCode, "input.shippingAddress.postalCode"},
			{"NL", "AB 1234", addressbook.InvalidPostalCode, "input.shippingAddress.postalCode"},
			{"XX", "12345", addressbook.InvalidCountry, "input.shippingAddress.country"},
		} {
			in := input("rules")
			in.ShippingAddress.Country, in.ShippingAddress.PostalCode = tc.country, tc.postalCode
			_, err := b.svc.Complete(ctx, v, in)
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), tc.country)
			require.Equal(t, []string{tc.field}, tf.Fields(err), tc.country)
		}
		require.Equal(t, before, stateOf(t, b.d, v, p.Variant()))

		in := input("rules")
		in.ShippingAddress.Country, in.ShippingAddress.PostalCode = "GB", "sw1a1aa"
		res, err := b.svc.Complete(ctx, v, in)
		require.NoError(t, err)
		require.Equal(t, "SW1A 1AA", orderAddress(t, res.Order.ID).PostalCode)
	})
}
