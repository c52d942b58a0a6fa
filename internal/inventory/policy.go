package inventory

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// This file is the inventory's policy: who may import stock levels, for which variants, and
// who may see an import. The schema's @hasRole(role: VENDOR) gates the API coarsely; these
// rules hold for every caller.

// mayImport says whether v may upload an inventory import at all: admins and vendors.
// Errors: FORBIDDEN.
func mayImport(v auth.Viewer) error {
	if _, isVendor := v.ActingVendor(); v.IsAdmin() || isVendor {
		return nil
	}
	return apperr.New(apperr.Forbidden, "Only admins and vendors can import stock levels.")
}

// importableBy is the code of a row whose variant v may not set the stock of, or "" when v
// may: admins any variant, vendors the variants of their own products. As the catalog says
// (catalog.CanSee), another vendor's product that customers see is FORBIDDEN, and one they do
// not (archived, or its vendor not ACTIVE) NOT_FOUND, so that an import never reveals a hidden
// product's SKU.
func importableBy(v auth.Viewer, vendorID *int64, status catalog.Status, vendorActive bool) apperr.Code {
	switch {
	case v.IsAdmin(), vendorID != nil && v.ActsFor(*vendorID):
		return ""
	case status == catalog.StatusActive && vendorActive:
		return apperr.Forbidden
	}
	return apperr.NotFound
}

// canSeeImport says whether v may read import imp and follow its progress: admins every
// import, anyone else their own.
func canSeeImport(v auth.Viewer, imp Import) bool {
	return v.IsAdmin() || imp.CreatedBy == v.UserID
}
