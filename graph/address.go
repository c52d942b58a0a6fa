package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/address"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// typeAddress is the global ID type of a saved address.
const typeAddress = gid.Address

func postalOf(in model.AddressCreateInput) address.Postal {
	return address.Postal{
		Name: in.Name, Line1: in.Line1, Line2: deref(in.Line2), City: in.City, Region: deref(in.Region),
		PostalCode: in.PostalCode, Country: in.Country, Phone: deref(in.Phone),
	}
}

func patchOf(in model.AddressUpdateInput) address.Patch {
	return address.Patch{
		Name: in.Name, Line1: in.Line1, Line2: in.Line2, City: in.City, Region: in.Region,
		PostalCode: in.PostalCode, Country: in.Country, Phone: in.Phone,
	}
}

// addressBookOf is account userID's address book, oldest first, or nil when the viewer may not
// see it (the address policy).
func (r *Resolver) addressBookOf(ctx context.Context, userID int64) (address.Book, error) {
	v, ok := auth.ViewerFrom(ctx)
	if !ok || !r.AddressBook.Shows(v, userID) {
		return nil, nil
	}
	return loader.From(ctx).AddressBookByUserID.Load(ctx, userID)()
}

// defaultAddressOf is account userID's default address for use, or nil when it has none or
// the viewer may not see it.
func (r *Resolver) defaultAddressOf(ctx context.Context, userID int64, use address.Use) (*address.Address, error) {
	book, err := r.addressBookOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	if a, ok := book.DefaultFor(use); ok {
		return &a, nil
	}
	return nil, nil
}
