package account

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

func TestMayLinkByEmail(t *testing.T) {
	t.Parallel()
	require.NoError(t, mayLinkByEmail(ExternalProfile{Subject: "s", Email: "a@example.com", EmailVerified: true}))
	require.Equal(t, apperr.EmailNotVerified, codeOf(mayLinkByEmail(ExternalProfile{Subject: "s", Email: "a@example.com"})))
}

func TestCanSeeExternalAccounts(t *testing.T) {
	t.Parallel()
	require.True(t, canSeeExternalAccounts(customer, customer.UserID))
	require.False(t, canSeeExternalAccounts(customer, vendor.UserID), "another account")
	require.False(t, canSeeExternalAccounts(admin, customer.UserID), "admins included")
	require.False(t, canSeeExternalAccounts(auth.Viewer{}, 0), "anonymous")
}

func TestMayUnlink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hasPassword bool
		linked      int
		want        apperr.Code
	}{
		{true, 1, ""},
		{false, 2, ""},
		{false, 1, apperr.LastSignInMethod},
	} {
		require.Equal(t, tc.want, codeOf(mayUnlink(tc.hasPassword, tc.linked)), "%+v", tc)
	}
}
