package payment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// The saved-methods policy, case by case (pure).

func TestOwnsMethod(t *testing.T) {
	t.Parallel()
	alice := Customer{UserID: 1, Provider: "stripe", CustomerID: "cus_alice"}
	for _, tc := range []struct {
		name string
		c    Customer
		m    Method
		want apperr.Code
	}{
		{"attached to the viewer's customer", alice, Method{ID: "pm_1", CustomerID: "cus_alice"}, ""},
		{"attached to another customer", alice, Method{ID: "pm_1", CustomerID: "cus_bob"}, apperr.NotFound},
		{"attached to nobody", alice, Method{ID: "pm_1"}, apperr.NotFound},
		{"a viewer without a customer owns nothing, not even an unattached card", Customer{UserID: 1}, Method{ID: "pm_1"}, apperr.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, codeOf(ownsMethod(tc.c, tc.m)))
		})
	}
}

func TestSeesMethods(t *testing.T) {
	t.Parallel()
	self := auth.Viewer{UserID: 7, Role: auth.RoleCustomer}
	admin := auth.Viewer{UserID: 8, Role: auth.RoleAdmin}
	require.NoError(t, seesMethods(&self, 7), "the account itself")
	require.Equal(t, apperr.NotFound, codeOf(seesMethods(&self, 9)), "another account")
	require.Equal(t, apperr.NotFound, codeOf(seesMethods(&admin, 7)), "admins neither")
	require.Equal(t, apperr.NotFound, codeOf(seesMethods(nil, 7)), "anonymous")
	require.Equal(t, apperr.Unauthenticated, codeOf(mayKeepMethods(auth.Viewer{})))
	require.NoError(t, mayKeepMethods(self))
}

func TestMethodIDPattern(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"pm_1Pgc75B7WZ01zgkWlHVgdEGJ", "card_123"} {
		require.True(t, methodIDPattern.MatchString(ok), ok)
	}
	for _, bad := range []string{"", "../customers/cus_1", "pm_1?expand[]=customer", "pm 1", "pm_1/detach"} {
		require.False(t, methodIDPattern.MatchString(bad), bad)
	}
}
