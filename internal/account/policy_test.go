package account

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// The account policy, case by case: every test here is pure (no database).

var (
	customer = auth.Viewer{UserID: 10, Role: auth.RoleCustomer}
	vendor   = auth.Viewer{UserID: 20, Role: auth.RoleVendor}
	admin    = auth.Viewer{UserID: 30, Role: auth.RoleAdmin}
)

// codeOf is the error's code, "" for none.
func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestCanView(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		id     int64
		want   bool
	}{
		{"a customer itself", customer, 10, true},
		{"a customer, another account", customer, 20, false},
		{"a vendor itself", vendor, 20, true},
		{"a vendor, another account", vendor, 10, false},
		{"an admin, another account", admin, 10, true},
		{"an admin itself", admin, 30, true},
		{"zero viewer", auth.Viewer{}, 10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, CanView(tc.viewer, tc.id))
		})
	}
}

func TestGetVisibleHidesWithoutReading(t *testing.T) {
	t.Parallel()
	// A Service without a database: an account the viewer may not see is NOT_FOUND before
	// anything is read.
	s := &Service{}
	for _, v := range []*auth.Viewer{nil, &customer, &vendor} {
		_, err := s.GetVisible(t.Context(), v, 99)
		require.Equal(t, apperr.NotFound, codeOf(err))
	}
}

func TestRoleChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		userID int64
		role   auth.Role
		change apperr.Code // mayChangeRoles
		give   apperr.Code // mayGiveRole
	}{
		{"an admin promotes a customer", admin, 10, auth.RoleVendor, "", ""},
		{"an admin demotes another admin", admin, 31, auth.RoleCustomer, "", ""},
		{"an admin keeps its own role", admin, 30, auth.RoleAdmin, "", ""},
		{"an admin may not demote itself to vendor", admin, 30, auth.RoleVendor, "", apperr.Invalid},
		{"an admin may not demote itself to customer", admin, 30, auth.RoleCustomer, "", apperr.Invalid},
		{"a vendor may not change roles", vendor, 10, auth.RoleAdmin, apperr.Forbidden, ""},
		{"a customer may not promote itself", customer, 10, auth.RoleAdmin, apperr.Forbidden, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.change, codeOf(mayChangeRoles(tc.viewer)))
			if tc.change == "" {
				require.Equal(t, tc.give, codeOf(mayGiveRole(tc.viewer, tc.userID, tc.role)))
			}
		})
	}
}
