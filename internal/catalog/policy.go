package catalog

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// This file is the catalog's policy: who may see and change which product or category. It is
// the one place that decides; the service calls it, resolvers ask the service. The schema's
// @hasRole gates the mutations coarsely at the API; the rules below are the domain's own, and
// hold for every caller (the API, the seed command, jobs). For lists and counts the same
// visibility rule is the SQL function catalog_visible (migration 00013), whose arguments
// listScope decides.

// CanManage reports whether v may change p and read its exact stock: admins any product,
// a vendor's members (auth.Viewer.ActsFor) their vendor's.
func CanManage(v auth.Viewer, p Product) bool {
	return v.IsAdmin() || (p.VendorID != nil && v.ActsFor(*p.VendorID))
}

// CanSee reports whether a viewer (nil when anonymous) may see p: everyone sees ACTIVE
// products of an ACTIVE vendor (or of the platform); archived ones, and those of a vendor that
// is suspended or otherwise not ACTIVE, only those who can manage them.
func CanSee(v *auth.Viewer, p Product) bool {
	return (p.Status == StatusActive && p.VendorActive) || (v != nil && CanManage(*v, p))
}

// scope is what a viewer sees of the catalog's lists, as the arguments of catalog_visible.
type scope struct {
	// SeeArchived: every product, archived ones included (admins).
	SeeArchived bool
	// VendorID: this vendor's own products too, archived ones included.
	VendorID *int64
}

// listScope is the part of the catalog v (nil when anonymous) sees in lists and counts: the
// ACTIVE products, and what CanSee adds for admins and vendors.
func listScope(v *auth.Viewer) scope {
	switch {
	case v == nil:
		return scope{}
	case v.IsAdmin():
		return scope{SeeArchived: true}
	}
	if id, ok := v.ActingVendor(); ok {
		return scope{VendorID: &id}
	}
	return scope{}
}

// sharedLists reports whether s sees the lists everyone sees (only ACTIVE products), so that
// its pages may be cached and shared.
func (s scope) sharedLists() bool { return !s.SeeArchived && s.VendorID == nil }

// visible returns p when v may see it, and NOT_FOUND otherwise (not revealing that it exists).
func visible(v *auth.Viewer, p Product) (Product, error) {
	if !CanSee(v, p) {
		return Product{}, apperr.New(apperr.NotFound, "product not found")
	}
	return p, nil
}

// mayManage says NOT_FOUND for a product v cannot see (not revealing that it exists) and
// FORBIDDEN for one v sees but does not own.
func mayManage(v auth.Viewer, p Product, field ...string) error {
	if CanManage(v, p) {
		return nil
	}
	if !CanSee(&v, p) {
		return apperr.FieldError(apperr.NotFound, "No product has this ID.", field...)
	}
	return apperr.FieldError(apperr.Forbidden, "You can only change your own products.", field...)
}

// mayReadStock says whether v (nil when anonymous) may read a variant's exact stock: those who
// may manage its product. Errors: FORBIDDEN.
func mayReadStock(v *auth.Viewer, p Product) error {
	if v == nil || !CanManage(*v, p) {
		return apperr.New(apperr.Forbidden, "Only admins and the product's vendor can see exact stock.")
	}
	return nil
}

// createVendor is the vendor a new product of v belongs to: a vendor's member creates only its
// vendor's (requested, if given, must be that vendor); an admin creates for the platform (nil)
// or for the requested vendor, which check says must be verified to exist. A VENDOR account
// that is no vendor's member creates nothing. Errors: FORBIDDEN.
func createVendor(v auth.Viewer, requested *int64) (vendorID *int64, check bool, err error) {
	if v.IsAdmin() {
		return requested, requested != nil, nil
	}
	if id, ok := v.ActingVendor(); ok {
		if requested != nil && *requested != id {
			return nil, false, apperr.FieldError(apperr.Forbidden, "Vendors can only create their own products.", "input", "vendorId")
		}
		return &id, false, nil
	}
	if v.Role == auth.RoleVendor {
		return nil, false, apperr.New(apperr.Forbidden, "This account is not a member of a vendor.")
	}
	return nil, false, apperr.New(apperr.Forbidden, "Only vendors and admins can create products.")
}

// mayManageCategories says whether v may change the category tree: admins only.
// Errors: FORBIDDEN.
func mayManageCategories(v auth.Viewer) error {
	if !v.IsAdmin() {
		return apperr.New(apperr.Forbidden, "Only admins manage categories.")
	}
	return nil
}
