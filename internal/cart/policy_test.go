package cart

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The cart policy, case by case (pure, no database): a cart ID is owned by the customer whose
// cart it is, or by whoever holds its guest token; anyone else is told it does not exist.
func TestOwns(t *testing.T) {
	t.Parallel()
	token, err := newToken()
	require.NoError(t, err)
	other, err := newToken()
	require.NoError(t, err)
	one, two := int64(1), int64(2)
	customerCart, guestCart := idOf(Owner{UserID: &one}), idOf(Owner{Token: token})

	for _, tc := range []struct {
		name   string
		holder Owner
		id     string
		want   Owner
		ok     bool
	}{
		{"the customer, its cart", Owner{UserID: &one}, customerCart, Owner{UserID: &one}, true},
		{"the customer holding a token, its cart", Owner{UserID: &one, Token: token}, customerCart, Owner{UserID: &one}, true},
		{"the customer holding the token, the guest cart", Owner{UserID: &one, Token: token}, guestCart, Owner{Token: token}, true},
		{"the token's holder, the guest cart", Owner{Token: token}, guestCart, Owner{Token: token}, true},
		{"another customer, the customer's cart", Owner{UserID: &two}, customerCart, Owner{}, false},
		{"another token, the guest cart", Owner{Token: other}, guestCart, Owner{}, false},
		{"the token's holder, the customer's cart", Owner{Token: token}, customerCart, Owner{}, false},
		{"a malformed token", Owner{Token: "not-a-token"}, idOf(Owner{Token: "not-a-token"}), Owner{}, false},
		{"no one", Owner{}, guestCart, Owner{}, false},
		{"no one, an empty ID", Owner{}, "", Owner{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.holder.owns(tc.id)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}
