package order

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

var allStatuses = []Status{Pending, Paid, Shipped, Delivered, Cancelled, Refunded, PartiallyRefunded}

// legal is the state machine as the issue describes it: PENDING → PAID → SHIPPED → DELIVERED,
// PENDING → CANCELLED, PAID → CANCELLED, and refunds (full or partial, partial ones repeatable)
// of anything that was paid, including a paid order an admin cancelled.
var legal = map[[2]Status]bool{
	{Pending, Paid}:                        true,
	{Pending, Cancelled}:                   true,
	{Paid, Shipped}:                        true,
	{Paid, Cancelled}:                      true,
	{Paid, Refunded}:                       true,
	{Paid, PartiallyRefunded}:              true,
	{Shipped, Delivered}:                   true,
	{Shipped, Refunded}:                    true,
	{Shipped, PartiallyRefunded}:           true,
	{Delivered, Refunded}:                  true,
	{Delivered, PartiallyRefunded}:         true,
	{PartiallyRefunded, PartiallyRefunded}: true,
	{PartiallyRefunded, Refunded}:          true,
	{Cancelled, Refunded}:                  true,
}

func TestCanTransition(t *testing.T) {
	t.Parallel()
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			want := legal[[2]Status{from, to}]
			t.Run(fmt.Sprintf("%s to %s", from, to), func(t *testing.T) {
				require.Equal(t, want, CanTransition(from, to))
			})
		}
	}

	t.Run("named illegal moves", func(t *testing.T) {
		for _, tc := range []struct{ from, to Status }{
			{Delivered, Pending}, {Shipped, Cancelled}, {Delivered, Cancelled}, {Cancelled, Pending},
			{Cancelled, Paid}, {Refunded, Pending}, {Refunded, Refunded}, {Pending, Shipped},
			{Pending, Delivered}, {Pending, Refunded}, {Paid, Pending}, {Shipped, Paid},
		} {
			require.False(t, CanTransition(tc.from, tc.to), "%s → %s", tc.from, tc.to)
		}
	})

	t.Run("REFUNDED is final", func(t *testing.T) {
		for _, to := range allStatuses {
			require.False(t, CanTransition(Refunded, to), to)
		}
	})

	t.Run("unknown statuses move nowhere and nothing moves to them", func(t *testing.T) {
		for _, bogus := range []Status{"", "pending", "LOST", "Paid"} {
			for _, s := range allStatuses {
				require.False(t, CanTransition(bogus, s), "%q → %s", bogus, s)
				require.False(t, CanTransition(s, bogus), "%s → %q", s, bogus)
			}
		}
	})
}

func TestStatusValid(t *testing.T) {
	t.Parallel()
	for _, s := range allStatuses {
		require.True(t, s.Valid(), s)
	}
	for _, s := range []Status{"", "pending", "LOST", " PAID", "PAID "} {
		require.False(t, s.Valid(), "%q", s)
	}
}

func TestActorUserID(t *testing.T) {
	t.Parallel()
	require.Nil(t, SystemActor.userID(), "the system has no account")
	require.Nil(t, Actor{}.userID())
	id := ViewerActor(admin).userID()
	require.NotNil(t, id)
	require.Equal(t, adminID, *id)

	// ViewerActor copies the viewer: changing the caller's variable later does not change it.
	v := owner
	a := ViewerActor(v)
	v.UserID = 999
	require.Equal(t, ownerID, *a.userID())
}
