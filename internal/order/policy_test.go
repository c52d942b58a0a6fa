package order

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// The order policy, case by case: every test here is pure (no database).

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
	vendor   = auth.Viewer{UserID: vendorID, Role: auth.RoleVendor, VendorID: vendorID, SessionID: uuid.New()}
	rival    = auth.Viewer{UserID: rivalID, Role: auth.RoleVendor, VendorID: rivalID, SessionID: uuid.New()}
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
					require.Equal(t, tc.want, mayRequest(tc.actor, o, to))
				})
			}
		}
	}

	t.Run("a vendor who owns the order is treated as its owner", func(t *testing.T) {
		o := orderIn(Pending)
		o.UserID = vendorID
		require.True(t, mayRequest(ViewerActor(vendor), o, Cancelled))
		require.False(t, mayRequest(ViewerActor(vendor), o, Paid))
	})

	t.Run("an admin's own order follows the admin rules", func(t *testing.T) {
		o := orderIn(Paid)
		o.UserID = adminID
		require.True(t, mayRequest(ViewerActor(admin), o, Cancelled))
	})
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
		{"a VENDOR account of no vendor, even if told it has a line", auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}, true, false},
		{"zero viewer", auth.Viewer{}, false, false},
		{"zero viewer told it has a line", auth.Viewer{}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			var got []int64
			for _, l := range VisibleLines(tc.viewer, o, lines) {
				got = append(got, l.ID)
			}
			require.Equal(t, tc.wantLines, got)
			require.Equal(t, money.New(tc.wantTotal, "USD"), visibleTotal(t, tc.viewer, o, lines))
		})
	}

	t.Run("the owner's total is the order's, not a recomputation", func(t *testing.T) {
		odd := orderIn(Paid)
		odd.Total = money.New(1, "EUR")
		require.Equal(t, money.New(1, "EUR"), visibleTotal(t, owner, odd, lines))
		require.Equal(t, money.New(1, "EUR"), visibleTotal(t, admin, odd, lines))
		require.Equal(t, money.New(2000, "EUR"), visibleTotal(t, vendor, odd, lines), "a vendor's total is in the order's currency")
	})

	t.Run("no lines", func(t *testing.T) {
		require.Empty(t, VisibleLines(vendor, o, nil))
		require.Equal(t, money.New(0, "USD"), visibleTotal(t, vendor, o, nil))
		require.Empty(t, VisibleLines(owner, o, nil))
	})

	// A vendor's share was summed unchecked: lines beyond the bounds wrapped it negative.
	t.Run("a vendor's total at the bound, and beyond it an error, never a wrap", func(t *testing.T) {
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

func TestSeesWhole(t *testing.T) {
	t.Parallel()
	o := orderIn(Paid)
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		want   bool
	}{
		{"owner", owner, true},
		{"admin", admin, true},
		{"another customer", stranger, false},
		{"a vendor with a line", vendor, false},
		{"a vendor who placed it", auth.Viewer{UserID: ownerID, Role: auth.RoleVendor}, true},
		{"zero viewer", auth.Viewer{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, SeesWhole(tc.viewer, o))
			require.Equal(t, tc.want, (&Service{}).ShowsPayment(tc.viewer, o), "the payment is shown to those who see the whole order")
		})
	}
}

func TestNeedsVendorLine(t *testing.T) {
	t.Parallel()
	o := orderIn(Paid)
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		want   bool
	}{
		{"a vendor that did not place it", vendor, true},
		{"a vendor that placed it", auth.Viewer{UserID: ownerID, Role: auth.RoleVendor, VendorID: vendorID}, false},
		{"a VENDOR account of no vendor", auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}, false},
		{"owner", owner, false},
		{"admin", admin, false},
		{"another customer", stranger, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, needs := needsVendorLine(tc.viewer, o)
			require.Equal(t, tc.want, needs)
			if needs {
				require.Equal(t, tc.viewer.VendorID, id, "the vendor asked about is the viewer's vendor")
			}
		})
	}
}

func TestListScope(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name               string
		viewer             auth.Viewer
		wantUser, wantVend *int64
	}{
		{"admin: every order", admin, nil, nil},
		{"vendor: orders holding its products", vendor, nil, ptr(vendorID)},
		{"customer: its own orders", owner, ptr(ownerID), nil},
		{"zero viewer: its own (none)", auth.Viewer{}, ptr(int64(0)), nil},
		{"a VENDOR account of no vendor: its own orders, as a customer", auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}, ptr(vendorID), nil},
		{"a vendor's member whose user id differs: its vendor's orders", auth.Viewer{UserID: 77, Role: auth.RoleVendor, VendorID: vendorID}, nil, ptr(vendorID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var userID, vendorID *int64
			scope(tc.viewer, &userID, &vendorID)
			require.Equal(t, tc.wantUser, userID)
			require.Equal(t, tc.wantVend, vendorID)
		})
	}
}

func TestFeed(t *testing.T) {
	t.Parallel()
	mine := pubsub.OrderEvent{OrderID: 1, UserID: ownerID, VendorIDs: []int64{vendorID}}
	theirs := pubsub.OrderEvent{OrderID: 2, UserID: ownerID, VendorIDs: []int64{rivalID}}
	house := pubsub.OrderEvent{OrderID: 3, UserID: ownerID}
	for _, tc := range []struct {
		name      string
		viewer    auth.Viewer
		forbidden bool
		scope     *int64
		follows   []bool // mine, theirs, house
	}{
		{"admin follows every order", admin, false, nil, []bool{true, true, true}},
		{"vendor follows the orders holding its products", vendor, false, ptr(vendorID), []bool{true, false, false}},
		{"customer follows its orders one by one", owner, true, nil, []bool{false, false, false}},
		{"zero viewer follows nothing", auth.Viewer{}, true, nil, []bool{false, false, false}},
		{"a VENDOR account of no vendor follows nothing, whatever its user id", auth.Viewer{UserID: vendorID, Role: auth.RoleVendor}, true, nil, []bool{false, false, false}},
		{"a member follows its vendor's orders, not its user id's", auth.Viewer{UserID: rivalID, Role: auth.RoleVendor, VendorID: vendorID}, false, ptr(vendorID), []bool{true, false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FeedScope(tc.viewer)
			filter, ferr := (&Service{}).FeedFilter(tc.viewer)
			if tc.forbidden {
				require.True(t, apperr.Is(err, apperr.Forbidden), "err = %v", err)
				require.True(t, apperr.Is(ferr, apperr.Forbidden), "err = %v", ferr)
			} else {
				require.NoError(t, err)
				require.NoError(t, ferr)
				require.Equal(t, tc.scope, got)
			}
			for i, e := range []pubsub.OrderEvent{mine, theirs, house} {
				require.Equal(t, tc.follows[i], CanFollow(tc.viewer, e), "event %d", e.OrderID)
				if filter != nil {
					require.Equal(t, tc.follows[i], filter(e), "filter, event %d", e.OrderID)
				}
			}
		})
	}
}

func TestMayUpdateStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		viewer auth.Viewer
		want   apperr.Code
	}{
		{"admin", admin, ""},
		{"vendor", vendor, apperr.Forbidden},
		{"owner", owner, apperr.Forbidden},
		{"zero viewer", auth.Viewer{}, apperr.Forbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := mayUpdateStatus(tc.viewer)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.True(t, apperr.Is(err, tc.want), "err = %v", err)
		})
	}
}
