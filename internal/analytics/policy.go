package analytics

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// This file is the analytics policy: who may read whose sales. A vendor's members (VENDOR
// role, acting for it: auth.Viewer.ActsFor) read their own vendor's; admins read any vendor's
// and the whole platform's. Another vendor's analytics answer like a missing vendor.

// mayRead says whether v may read the report of vendorID (nil: the whole platform).
// Errors: UNAUTHENTICATED, FORBIDDEN (neither a vendor's member nor an admin; the platform for
// a non-admin), NOT_FOUND (another vendor's, like a missing one).
func mayRead(v *auth.Viewer, vendorID *int64) error {
	if v == nil {
		return apperr.New(apperr.Unauthenticated, "Sign in to see analytics.")
	}
	if v.IsAdmin() {
		return nil
	}
	own, ok := v.ActingVendor()
	if !ok {
		return apperr.New(apperr.Forbidden, "Only a vendor's members and admins can see analytics.")
	}
	if vendorID == nil {
		return apperr.FieldError(apperr.Forbidden, "Only admins can see the whole platform's analytics; give your vendor's ID.", "input", "vendorId")
	}
	if *vendorID != own {
		return apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "vendorId")
	}
	return nil
}
