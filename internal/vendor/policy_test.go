package vendor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// The vendor policy, case by case: every test here is pure (no database).

const (
	vendorID    int64 = 7
	otherVendor int64 = 8
	applicantID int64 = 40
)

var (
	anonymous  *auth.Viewer
	customer   = auth.Viewer{UserID: 10, Role: auth.RoleCustomer}
	applicant  = auth.Viewer{UserID: applicantID, Role: auth.RoleCustomer}
	member     = auth.Viewer{UserID: 20, Role: auth.RoleVendor, VendorID: vendorID}
	rival      = auth.Viewer{UserID: 21, Role: auth.RoleVendor, VendorID: otherVendor}
	noVendor   = auth.Viewer{UserID: vendorID, Role: auth.RoleVendor} // its user id is the vendor's id, by chance
	admin      = auth.Viewer{UserID: 30, Role: auth.RoleAdmin}
	adminOwner = auth.Viewer{UserID: 31, Role: auth.RoleAdmin, VendorID: vendorID}
)

func vendorIn(s Status) Vendor {
	a := applicantID
	return Vendor{ID: vendorID, Status: s, ApplicantID: &a}
}

func code(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestSee(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		v       *auth.Viewer
		status  Status
		see     bool
		private bool
	}{
		{"anonymous, active", anonymous, Active, true, false},
		{"customer, active", &customer, Active, true, false},
		{"another vendor, active", &rival, Active, true, false},
		{"a VENDOR of no vendor, active", &noVendor, Active, true, false},
		{"member, active", &member, Active, true, true},
		{"admin, active", &admin, Active, true, true},
		{"an admin that is a member", &adminOwner, Suspended, true, true},
		{"applicant, pending", &applicant, Pending, true, true},
		{"applicant, rejected", &applicant, Rejected, true, true},
		{"customer, pending", &customer, Pending, false, false},
		{"anonymous, suspended", anonymous, Suspended, false, false},
		{"customer, suspended", &customer, Suspended, false, false},
		{"another vendor, suspended", &rival, Suspended, false, false},
		{"a VENDOR of no vendor, suspended", &noVendor, Suspended, false, false},
		{"member, suspended", &member, Suspended, true, true},
		{"admin, rejected", &admin, Rejected, true, true},
		{"a member demoted to CUSTOMER, suspended", &auth.Viewer{UserID: 22, Role: auth.RoleCustomer, VendorID: vendorID}, Suspended, false, false},
		{"a member demoted to CUSTOMER, active", &auth.Viewer{UserID: 22, Role: auth.RoleCustomer, VendorID: vendorID}, Active, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vd := vendorIn(tc.status)
			require.Equal(t, tc.see, CanSee(tc.v, vd), "CanSee")
			require.Equal(t, tc.private, SeesPrivate(tc.v, vd), "SeesPrivate")
			_, err := visible(tc.v, vd)
			if tc.see {
				require.NoError(t, err)
			} else {
				require.Equal(t, apperr.NotFound, code(err), "a hidden vendor answers like a missing one")
			}
			if tc.private {
				require.NoError(t, mayReadPrivate(tc.v, vd))
			} else {
				require.Equal(t, apperr.Forbidden, code(mayReadPrivate(tc.v, vd)))
			}
		})
	}
}

func TestListStatuses(t *testing.T) {
	t.Parallel()
	s := Suspended
	a := Active
	require.Equal(t, []Status{Active}, listStatuses(nil, nil))
	require.Equal(t, []Status{Active}, listStatuses(&member, nil), "members list ACTIVE vendors like everyone")
	require.Equal(t, []Status{}, listStatuses(&customer, &s), "a customer asking for SUSPENDED lists nothing")
	require.Equal(t, []Status{Active}, listStatuses(&customer, &a))
	require.Equal(t, []Status{Pending, Active, Suspended, Rejected}, listStatuses(&admin, nil))
	require.Equal(t, []Status{Suspended}, listStatuses(&admin, &s))
}

func TestMayApply(t *testing.T) {
	t.Parallel()
	other := otherVendor
	require.NoError(t, mayApply(customer, nil))
	require.NoError(t, mayApply(noVendor, nil), "a VENDOR account of no vendor may apply")
	require.Equal(t, apperr.Forbidden, code(mayApply(admin, nil)))
	require.Equal(t, apperr.Forbidden, code(mayApply(member, nil)), "its token says it is a member")
	require.Equal(t, apperr.Forbidden, code(mayApply(customer, &other)), "the database says it is a member")
}

func TestMayEdit(t *testing.T) {
	t.Parallel()
	vd := vendorIn(Active)
	for _, tc := range []struct {
		name string
		v    auth.Viewer
		want apperr.Code
	}{
		{"member", member, ""},
		{"admin", admin, ""},
		{"another vendor's member: NOT_FOUND, like a missing vendor", rival, apperr.NotFound},
		{"a VENDOR of no vendor with the vendor's id as user id", noVendor, apperr.NotFound},
		{"customer", customer, apperr.NotFound},
		{"the applicant (not a member)", applicant, apperr.NotFound},
	} {
		require.Equal(t, tc.want, code(mayEdit(tc.v, vd)), tc.name)
	}
	require.NoError(t, maySetCommission(admin))
	require.Equal(t, apperr.Forbidden, code(maySetCommission(member)))
	require.NoError(t, mayDecide(admin))
	require.Equal(t, apperr.Forbidden, code(mayDecide(member)))
	require.Equal(t, apperr.Forbidden, code(mayDecide(customer)))
}

func TestDecisionTransitions(t *testing.T) {
	t.Parallel()
	valid := map[Action]map[Status]bool{
		ActionApproved:   {Pending: true},
		ActionRejected:   {Pending: true},
		ActionSuspended:  {Active: true},
		ActionReinstated: {Suspended: true},
	}
	for _, d := range []Decision{Approve, Reject, Suspend, Reinstate} {
		for _, from := range []Status{Pending, Active, Suspended, Rejected} {
			err := checkDecision(d, from)
			if valid[d.Action][from] {
				require.NoError(t, err, "%s from %s", d.Action, from)
			} else {
				require.Equal(t, apperr.InvalidTransition, code(err), "%s from %s", d.Action, from)
			}
		}
	}
	require.Equal(t, Active, Approve.To)
	require.Equal(t, Rejected, Reject.To)
	require.Equal(t, Suspended, Suspend.To)
	require.Equal(t, Active, Reinstate.To)
	require.True(t, Reject.ReasonRequired && Suspend.ReasonRequired)
	require.False(t, Approve.ReasonRequired || Reinstate.ReasonRequired)
}
