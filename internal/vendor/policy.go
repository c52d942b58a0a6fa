package vendor

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// This file is the vendor policy: who may see a vendor and its private part (contact email,
// commission, history), who may apply, decide and edit. It is the one place that decides; the
// service calls it, resolvers ask the service. Membership is the viewer's vendor
// (auth.Viewer.VendorID, from the access token); the user id never stands for a vendor.

// SeesPrivate reports whether v (nil when anonymous) sees vendor's private part and any
// status: its members acting for it (a member whose VENDOR role was taken away no longer
// does), its applicant (their application and its history), and admins.
func SeesPrivate(v *auth.Viewer, vendor Vendor) bool {
	if v == nil {
		return false
	}
	return v.IsAdmin() || v.ActsFor(vendor.ID) || (vendor.ApplicantID != nil && *vendor.ApplicantID == v.UserID)
}

// CanSee reports whether v (nil when anonymous) may see vendor at all: everyone sees ACTIVE
// vendors; the others only those who see its private part. A vendor one may not see answers
// like a missing one.
func CanSee(v *auth.Viewer, vendor Vendor) bool {
	return vendor.Status == Active || SeesPrivate(v, vendor)
}

// visible returns vendor when v may see it, NOT_FOUND otherwise.
func visible(v *auth.Viewer, vendor Vendor) (Vendor, error) {
	if !CanSee(v, vendor) {
		return Vendor{}, apperr.New(apperr.NotFound, "vendor not found")
	}
	return vendor, nil
}

// mayReadPrivate says whether v may read vendor's contact email, commission and history.
// Errors: FORBIDDEN.
func mayReadPrivate(v *auth.Viewer, vendor Vendor) error {
	if !SeesPrivate(v, vendor) {
		return apperr.New(apperr.Forbidden, "Only the vendor's members and admins can see this.")
	}
	return nil
}

// listStatuses are the statuses of the vendors v (nil when anonymous) lists, narrowed to want
// when given: admins any, everyone else ACTIVE only (a filter on another status lists nothing).
func listStatuses(v *auth.Viewer, want *Status) []Status {
	all := []Status{Pending, Active, Suspended, Rejected}
	if v == nil || !v.IsAdmin() {
		all = []Status{Active}
	}
	if want == nil {
		return all
	}
	for _, s := range all {
		if s == *want {
			return []Status{s}
		}
	}
	return []Status{}
}

// mayApply says whether v may apply for a vendor: a signed-in account that is not a member of
// one (admins create vendors directly). memberOf is the account's membership as stored, which
// may be newer than the token's. Errors: FORBIDDEN.
func mayApply(v auth.Viewer, memberOf *int64) error {
	switch {
	case v.IsAdmin():
		return apperr.New(apperr.Forbidden, "Admins create vendors with vendorCreate.")
	case memberOf != nil || v.VendorID != 0:
		return apperr.New(apperr.Forbidden, "This account is already a member of a vendor.")
	}
	return nil
}

// mayDecide says whether v may approve, reject, suspend, reinstate or create vendors: admins.
// Errors: FORBIDDEN.
func mayDecide(v auth.Viewer) error {
	if !v.IsAdmin() {
		return apperr.New(apperr.Forbidden, "Only admins decide on vendors.")
	}
	return nil
}

// mayEdit says whether v may edit vendor's profile: admins, and the members acting for it
// (auth.Viewer.ActsFor). Anyone else is told NOT_FOUND, as for a missing vendor, so that a
// vendor learns nothing of another. Errors: NOT_FOUND.
func mayEdit(v auth.Viewer, vendor Vendor) error {
	if v.IsAdmin() || v.ActsFor(vendor.ID) {
		return nil
	}
	return apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "id")
}

// maySetCommission says whether v may change a vendor's commission: admins.
// Errors: FORBIDDEN.
func maySetCommission(v auth.Viewer) error {
	if !v.IsAdmin() {
		return apperr.FieldError(apperr.Forbidden, "Only admins set the commission.", "input", "commissionRateBps")
	}
	return nil
}

// checkDecision says whether d may move a vendor in status from. Errors: INVALID_TRANSITION.
func checkDecision(d Decision, from Status) error {
	if from != d.From {
		return apperr.FieldError(apperr.InvalidTransition,
			"A "+string(from)+" vendor cannot be "+humanAction(d.Action)+"; only a "+string(d.From)+" one can.", "input", "id")
	}
	return nil
}

func humanAction(a Action) string {
	switch a {
	case ActionApproved:
		return "approved"
	case ActionRejected:
		return "rejected"
	case ActionSuspended:
		return "suspended"
	case ActionReinstated:
		return "reinstated"
	}
	return string(a)
}

// mayManageMembers says whether v may add and remove vendor's members: admins, and the members
// acting for it. Anyone else is told NOT_FOUND, as for a missing vendor. Errors: NOT_FOUND.
func mayManageMembers(v auth.Viewer, vendor Vendor) error {
	if v.IsAdmin() || v.ActsFor(vendor.ID) {
		return nil
	}
	return apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "vendorId")
}

// mayRemoveLast says whether v may remove a member of a vendor that has members of them: a
// member may not leave its vendor with no one acting for it; an admin may.
// Errors: INVALID.
func mayRemoveLast(v auth.Viewer, members int) error {
	if members <= 1 && !v.IsAdmin() {
		return apperr.FieldError(apperr.Invalid, "A vendor's last member cannot be removed; ask an admin.", "input", "userId")
	}
	return nil
}
