package payment

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
)

// The payment policy, case by case: every test here is pure (no database).

func codeOf(err error) apperr.Code {
	if err == nil {
		return ""
	}
	return apperr.CodeOf(err)
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	o := order.Order{ID: 1, UserID: 10, Status: order.Pending}
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		retry  apperr.Code // mayRetry
		refund apperr.Code // mayRefund
		secret bool        // seesClientSecret
	}{
		{"the owner", auth.Viewer{UserID: 10, Role: auth.RoleCustomer}, "", apperr.Forbidden, true},
		{"another customer", auth.Viewer{UserID: 11, Role: auth.RoleCustomer}, apperr.NotFound, apperr.Forbidden, false},
		{"a vendor with a line", auth.Viewer{UserID: 20, Role: auth.RoleVendor}, apperr.NotFound, apperr.Forbidden, false},
		{"an admin", auth.Viewer{UserID: 30, Role: auth.RoleAdmin}, "", "", false},
		{"an admin who placed it", auth.Viewer{UserID: 10, Role: auth.RoleAdmin}, "", "", true},
		{"zero viewer", auth.Viewer{}, apperr.NotFound, apperr.Forbidden, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.retry, codeOf(mayRetry(tc.viewer, o)), "mayRetry")
			require.Equal(t, tc.refund, codeOf(mayRefund(tc.viewer)), "mayRefund")
			require.Equal(t, tc.secret, seesClientSecret(tc.viewer, o), "seesClientSecret")
		})
	}
}

func TestClientSecretWithoutViewerOrSecret(t *testing.T) {
	t.Parallel()
	// Neither case reads the order: a Service without a database answers.
	s := &Service{}
	owner := auth.Viewer{UserID: 10, Role: auth.RoleCustomer}
	require.Nil(t, s.ClientSecret(t.Context(), nil, Payment{OrderID: 1, ClientSecret: "pi_secret"}))
	require.Nil(t, s.ClientSecret(t.Context(), &owner, Payment{OrderID: 1}))
}
