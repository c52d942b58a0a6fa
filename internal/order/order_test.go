package order

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/money"
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
				t.Parallel()
				require.Equal(t, want, CanTransition(from, to))
			})
		}
	}

	t.Run("named illegal moves", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ from, to Status }{
			{Delivered, Pending}, {Shipped, Cancelled}, {Delivered, Cancelled}, {Cancelled, Pending},
			{Cancelled, Paid}, {Refunded, Pending}, {Refunded, Refunded}, {Pending, Shipped},
			{Pending, Delivered}, {Pending, Refunded}, {Paid, Pending}, {Shipped, Paid},
		} {
			require.False(t, CanTransition(tc.from, tc.to), "%s → %s", tc.from, tc.to)
		}
	})

	t.Run("REFUNDED is final", func(t *testing.T) {
		t.Parallel()
		for _, to := range allStatuses {
			require.False(t, CanTransition(Refunded, to), to)
		}
	})

	t.Run("unknown statuses move nowhere and nothing moves to them", func(t *testing.T) {
		t.Parallel()
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

func TestStatusGraphQL(t *testing.T) {
	t.Parallel()
	for _, s := range allStatuses {
		var buf bytes.Buffer
		s.MarshalGQL(&buf)
		require.Equal(t, `"`+string(s)+`"`, buf.String())
		var got Status
		require.NoError(t, got.UnmarshalGQL(string(s)))
		require.Equal(t, s, got)
	}
	for _, bad := range []any{"LOST", "", 3, nil, "paid"} {
		var got Status
		require.Error(t, got.UnmarshalGQL(bad), "%v", bad)
		require.Empty(t, got, "a refused value leaves the status alone")
	}
}

const (
	ownerID  int64 = 10
	otherID  int64 = 11
	vendorID int64 = 20
	rivalID  int64 = 21
	adminID  int64 = 30
)

var (
	owner    = auth.Viewer{UserID: ownerID, Role: auth.RoleCustomer, SessionID: uuid.New()}
	stranger = auth.Viewer{UserID: otherID, Role: auth.RoleCustomer, SessionID: uuid.New()}
	vendor   = auth.Viewer{UserID: vendorID, Role: auth.RoleVendor, SessionID: uuid.New()}
	rival    = auth.Viewer{UserID: rivalID, Role: auth.RoleVendor, SessionID: uuid.New()}
	admin    = auth.Viewer{UserID: adminID, Role: auth.RoleAdmin, SessionID: uuid.New()}
)

func orderIn(s Status) Order {
	return Order{ID: 1, UserID: ownerID, Status: s, Total: money.New(3700, "USD")}
}

func TestMayRequest(t *testing.T) {
	t.Parallel()
	// Every (actor, from, to) is checked: mayRequest answers who may ask; CanTransition then
	// decides whether the move exists.
	for _, from := range allStatuses {
		for _, to := range allStatuses {
			o := orderIn(from)
			ownerMay := from == Pending && to == Cancelled
			for _, tc := range []struct {
				name  string
				actor Actor
				want  bool
			}{
				{"system", SystemActor, true},
				{"admin", ViewerActor(admin), true},
				{"owner", ViewerActor(owner), ownerMay},
				{"another customer", ViewerActor(stranger), false},
				{"a vendor", ViewerActor(vendor), false},
				{"no one", Actor{}, false},
			} {
				t.Run(fmt.Sprintf("%s asks %s to %s", tc.name, from, to), func(t *testing.T) {
					t.Parallel()
					require.Equal(t, tc.want, mayRequest(tc.actor, o, to))
				})
			}
		}
	}

	t.Run("a vendor who owns the order is treated as its owner", func(t *testing.T) {
		t.Parallel()
		o := orderIn(Pending)
		o.UserID = vendorID
		require.True(t, mayRequest(ViewerActor(vendor), o, Cancelled))
		require.False(t, mayRequest(ViewerActor(vendor), o, Paid))
	})

	t.Run("an admin's own order follows the admin rules", func(t *testing.T) {
		t.Parallel()
		o := orderIn(Paid)
		o.UserID = adminID
		require.True(t, mayRequest(ViewerActor(admin), o, Cancelled))
	})
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

func TestCanView(t *testing.T) {
	t.Parallel()
	o := orderIn(Pending)
	for _, tc := range []struct {
		name          string
		viewer        auth.Viewer
		vendorHasLine bool
		want          bool
	}{
		{"owner", owner, false, true},
		{"admin", admin, false, true},
		{"admin, vendor flag irrelevant", admin, true, true},
		{"another customer", stranger, false, false},
		{"another customer even if told it has a line", stranger, true, false},
		{"vendor with a line", vendor, true, true},
		{"vendor without a line", vendor, false, false},
		{"zero viewer", auth.Viewer{}, false, false},
		{"zero viewer told it has a line", auth.Viewer{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, CanView(tc.viewer, o, tc.vendorHasLine))
		})
	}
}

func line(id int64, vendor *int64, total int64) Line {
	return Line{ID: id, OrderID: 1, VendorID: vendor, UnitPrice: money.New(total, "USD"), Quantity: 1, LineTotal: money.New(total, "USD")}
}

func ptr[T any](v T) *T { return &v }

func visibleTotal(t *testing.T, v auth.Viewer, o Order, lines []Line) money.Money {
	t.Helper()
	total, err := VisibleTotal(v, o, lines)
	require.NoError(t, err)
	return total
}

func TestVisibleLinesAndTotal(t *testing.T) {
	t.Parallel()
	o := orderIn(Paid)
	lines := []Line{
		line(1, ptr(vendorID), 1000),
		line(2, ptr(rivalID), 1500),
		line(3, nil, 200), // a house product: no vendor
		line(4, ptr(vendorID), 1000),
	}
	for _, tc := range []struct {
		name      string
		viewer    auth.Viewer
		wantLines []int64
		wantTotal int64
	}{
		{"owner sees every line and the order total", owner, []int64{1, 2, 3, 4}, 3700},
		{"admin sees every line and the order total", admin, []int64{1, 2, 3, 4}, 3700},
		{"vendor sees its own lines and their total", vendor, []int64{1, 4}, 2000},
		{"the other vendor sees its own line", rival, []int64{2}, 1500},
		{"a vendor without lines sees none and zero", auth.Viewer{UserID: 99, Role: auth.RoleVendor}, nil, 0},
		{"another customer sees no line and zero", stranger, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []int64
			for _, l := range VisibleLines(tc.viewer, o, lines) {
				got = append(got, l.ID)
			}
			require.Equal(t, tc.wantLines, got)
			require.Equal(t, money.New(tc.wantTotal, "USD"), visibleTotal(t, tc.viewer, o, lines))
		})
	}

	t.Run("the owner's total is the order's, not a recomputation", func(t *testing.T) {
		t.Parallel()
		odd := orderIn(Paid)
		odd.Total = money.New(1, "EUR")
		require.Equal(t, money.New(1, "EUR"), visibleTotal(t, owner, odd, lines))
		require.Equal(t, money.New(1, "EUR"), visibleTotal(t, admin, odd, lines))
		require.Equal(t, money.New(2000, "EUR"), visibleTotal(t, vendor, odd, lines), "a vendor's total is in the order's currency")
	})

	t.Run("no lines", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, VisibleLines(vendor, o, nil))
		require.Equal(t, money.New(0, "USD"), visibleTotal(t, vendor, o, nil))
		require.Empty(t, VisibleLines(owner, o, nil))
	})

	// A vendor's share was summed unchecked: lines beyond the bounds wrapped it negative.
	t.Run("a vendor's total at the bound, and beyond it an error, never a wrap", func(t *testing.T) {
		t.Parallel()
		atBound := []Line{line(1, ptr(vendorID), money.MaxAmount-1), line(2, ptr(vendorID), 1)}
		require.Equal(t, money.New(money.MaxAmount, "USD"), visibleTotal(t, vendor, o, atBound))
		for _, lines := range [][]Line{
			{line(1, ptr(vendorID), money.MaxAmount), line(2, ptr(vendorID), 1)},
			{line(1, ptr(vendorID), math.MaxInt64), line(2, ptr(vendorID), math.MaxInt64)},
		} {
			_, err := VisibleTotal(vendor, o, lines)
			require.ErrorIs(t, err, money.ErrOverflow)
		}
	})
}
