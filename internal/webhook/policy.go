package webhook

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// Who may do what with webhooks:
//   - an ADMIN manages every subscription; the ones it creates see every event;
//   - a VENDOR manages its own, which see only the events about its products and its lines of
//     orders (an order's payload holds only those lines and their total);
//   - anyone else (customers) may not subscribe at all, and no subscription exists for them.

// CanSubscribe reports whether v may create subscriptions.
func CanSubscribe(v auth.Viewer) bool {
	_, isVendor := v.ActingVendor()
	return v.IsAdmin() || isVendor
}

// ScopeFor is the vendor a subscription created by v is scoped to: nil for an admin's (every
// event), the vendor v acts for for a vendor's. Errors: FORBIDDEN for anyone else.
func ScopeFor(v auth.Viewer) (*int64, error) {
	if v.IsAdmin() {
		return nil, nil
	}
	if id, ok := v.ActingVendor(); ok {
		return &id, nil
	}
	return nil, apperr.New(apperr.Forbidden, "Only admins and vendors may subscribe to webhooks.")
}

// CanManage reports whether v may see, change, test and delete s and its deliveries: an admin
// any, a vendor its own.
func CanManage(v auth.Viewer, s Subscription) bool {
	return v.IsAdmin() || (s.VendorID != nil && v.ActsFor(*s.VendorID))
}

// ListScope says which subscriptions v lists: every one (admin), or those of vendor *id.
// Errors: FORBIDDEN for customers.
func ListScope(v auth.Viewer) (every bool, vendorID *int64, err error) {
	if v.IsAdmin() {
		return true, nil, nil
	}
	if id, ok := v.ActingVendor(); ok {
		return false, &id, nil
	}
	return false, nil, apperr.New(apperr.Forbidden, "Only admins and vendors have webhooks.")
}

// Receives reports whether subscription scope (its vendor, nil for everything) receives an
// event about resources of vendors (an order's line vendors, a product's vendor).
func Receives(scope *int64, vendors []int64) bool {
	if scope == nil {
		return true
	}
	for _, v := range vendors {
		if v == *scope {
			return true
		}
	}
	return false
}
