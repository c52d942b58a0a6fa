package order_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d   *postgres.DB
	svc *order.Service
	rec *recorder
}

// recorder records what the service publishes and invalidates after commit.
type recorder struct {
	mu          sync.Mutex
	published   []pubsub.OrderEvent
	invalidated []int64
}

func (r *recorder) Publish(_ context.Context, e pubsub.OrderEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.published = append(r.published, e)
}

func (r *recorder) InvalidateStock(_ context.Context, ids []int64, _ bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.invalidated = append(r.invalidated, ids...)
}

// of returns the events published for an order.
func (r *recorder) of(orderID int64) []pubsub.OrderEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []pubsub.OrderEvent
	for _, e := range r.published {
		if e.OrderID == orderID {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) invalidatedProduct(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.invalidated {
		if p == id {
			return true
		}
	}
	return false
}

func setup(t *testing.T) testBundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	rec := &recorder{}
	return testBundle{d: d, svc: order.NewService(d, rec, rec, slog.New(slog.NewTextHandler(io.Discard, nil))), rec: rec}
}

// people are one of each role, and a vendor whose product is in an order.
type people struct {
	owner, other, admin, vendor, otherVendor auth.Viewer
}

func newPeople(t *testing.T, d *postgres.DB) people {
	return people{
		owner:       tf.NewUser(t, d, tf.UserOpts{}).Viewer(),
		other:       tf.NewUser(t, d, tf.UserOpts{}).Viewer(),
		admin:       tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer(),
		vendor:      tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleVendor}).Viewer(),
		otherVendor: tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleVendor}).Viewer(),
	}
}

// vendorOrder is an order of p.owner with a line of p.vendor's and a line of the platform's.
func vendorOrder(t *testing.T, d *postgres.DB, p people, status string) tf.Order {
	return tf.NewOrder(t, d, tf.OrderOpts{UserID: p.owner.UserID, Status: status,
		Lines: []tf.LineOpts{{VendorID: &p.vendor.VendorID, Quantity: 1, UnitPrice: 500}, {Quantity: 2, UnitPrice: 1000}}})
}

func TestGet(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	o := vendorOrder(t, b.d, p, "PENDING")

	for _, tc := range []struct {
		name string
		v    auth.Viewer
		id   int64
		want apperr.Code
	}{
		{"its owner", p.owner, o.ID, ""},
		{"an admin", p.admin, o.ID, ""},
		{"a vendor with a line in it", p.vendor, o.ID, ""},
		{"another customer: NOT_FOUND, not FORBIDDEN", p.other, o.ID, apperr.NotFound},
		{"a vendor without a line in it", p.otherVendor, o.ID, apperr.NotFound},
		{"no such order", p.admin, o.ID + 1000, apperr.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := b.svc.Get(ctx, tc.v, tc.id)
			if tc.want != "" {
				require.True(t, apperr.Is(err, tc.want), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, o.ID, got.ID)
			require.Equal(t, order.Pending, got.Status)
			require.Equal(t, int64(2500), got.Total.Amount)
			require.Equal(t, "Ada", got.ShippingAddress.Name)
		})
	}

	lines, err := b.svc.LinesByOrderIDs(ctx, []int64{o.ID, o.ID + 1000})
	require.NoError(t, err)
	require.Len(t, lines[o.ID], 2)
	require.Empty(t, lines[o.ID+1000])
	require.Len(t, order.VisibleLines(p.vendor, order.Order{ID: o.ID, UserID: p.owner.UserID}, lines[o.ID]), 1)
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	var mine []int64 // newest first
	for _, st := range []string{"PENDING", "PAID", "PENDING"} {
		mine = append([]int64{vendorOrder(t, b.d, p, st).ID}, mine...)
	}
	theirs := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: p.other.UserID}).ID
	pending := order.Pending

	ids := func(page order.ListPage) []int64 {
		var out []int64
		for _, o := range page.Orders {
			out = append(out, o.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		v      auth.Viewer
		filter order.ListFilter
		want   []int64
	}{
		{"a customer sees its own", p.owner, order.ListFilter{}, mine},
		{"filtered by status", p.owner, order.ListFilter{Status: &pending}, []int64{mine[0], mine[2]}},
		{"a vendor those holding its products", p.vendor, order.ListFilter{}, mine},
		{"another vendor none", p.otherVendor, order.ListFilter{}, nil},
		{"an admin all", p.admin, order.ListFilter{}, append([]int64{theirs}, mine...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := b.svc.List(ctx, tc.v, 100, "", tc.filter)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(page))
			require.False(t, page.HasNextPage)
			n, err := b.svc.Count(ctx, tc.v, tc.filter)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), n)
		})
	}

	t.Run("pages follow cursors", func(t *testing.T) {
		var got []int64
		after := ""
		for {
			page, err := b.svc.List(ctx, p.owner, 2, after, order.ListFilter{})
			require.NoError(t, err)
			require.Len(t, page.Cursors, len(page.Orders))
			got = append(got, ids(page)...)
			if !page.HasNextPage {
				break
			}
			after = page.Cursors[len(page.Cursors)-1]
		}
		require.Equal(t, mine, got)
	})

	for _, tc := range []struct {
		name  string
		first int
		after string
	}{
		{"a page of none", 0, ""},
		{"a page of more than 100", 101, ""},
		{"a cursor that is not base64", 10, "!!"},
		{"a cursor of something else", 10, "WzFd"}, // [1]
	} {
		t.Run("BAD_USER_INPUT: "+tc.name, func(t *testing.T) {
			_, err := b.svc.List(ctx, p.owner, tc.first, tc.after, order.ListFilter{})
			require.True(t, apperr.Is(err, apperr.BadUserInput), "%v", err)
		})
	}
}

// snapshot is what a refused move must leave as it was.
type snapshot struct {
	status string
	events int
	stock  []int
}

func snap(t *testing.T, d *postgres.DB, orderID int64, variants ...int64) snapshot {
	s := snapshot{status: tf.OrderStatus(t, d, orderID), events: tf.Count(t, d, "order_events", "order_id = $1", orderID)}
	for _, v := range variants {
		s.stock = append(s.stock, tf.Stock(t, d, v))
	}
	return s
}

func variantsOf(t *testing.T, d *postgres.DB, orderID int64) []int64 {
	var ids []int64
	rows, err := d.Pool.Query(context.Background(), `SELECT variant_id FROM order_lines WHERE order_id = $1 ORDER BY id`, orderID)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

func TestCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)

	for _, tc := range []struct {
		name   string
		status string
		v      func(p people) auth.Viewer
		want   apperr.Code
	}{
		{"the owner, PENDING", "PENDING", func(p people) auth.Viewer { return p.owner }, ""},
		{"an admin, PENDING", "PENDING", func(p people) auth.Viewer { return p.admin }, ""},
		{"an admin, PAID", "PAID", func(p people) auth.Viewer { return p.admin }, ""},
		{"the owner, PAID: FORBIDDEN", "PAID", func(p people) auth.Viewer { return p.owner }, apperr.Forbidden},
		{"another customer: NOT_FOUND", "PENDING", func(p people) auth.Viewer { return p.other }, apperr.NotFound},
		{"a vendor with a line in it: NOT_FOUND", "PENDING", func(p people) auth.Viewer { return p.vendor }, apperr.NotFound},
		{"an admin, SHIPPED: INVALID_TRANSITION", "SHIPPED", func(p people) auth.Viewer { return p.admin }, apperr.InvalidTransition},
		{"an admin, CANCELLED: INVALID_TRANSITION", "CANCELLED", func(p people) auth.Viewer { return p.admin }, apperr.InvalidTransition},
		{"the owner, CANCELLED: INVALID_TRANSITION", "CANCELLED", func(p people) auth.Viewer { return p.owner }, apperr.InvalidTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := vendorOrder(t, b.d, p, tc.status)
			variants := variantsOf(t, b.d, o.ID)
			before := snap(t, b.d, o.ID, variants...)
			v := tc.v(p)
			got, err := b.svc.Cancel(ctx, v, o.ID)
			if tc.want != "" {
				require.True(t, apperr.Is(err, tc.want), "%v", err)
				require.Equal(t, before, snap(t, b.d, o.ID, variants...), "a refused cancel changes nothing")
				require.Empty(t, b.rec.of(o.ID), "and publishes nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, order.Cancelled, got.Status)
			after := snap(t, b.d, o.ID, variants...)
			require.Equal(t, "CANCELLED", after.status)
			require.Equal(t, before.events+1, after.events)
			require.Equal(t, []int{before.stock[0] + 1, before.stock[1] + 2}, after.stock, "the stock comes back")
			events, err := b.svc.EventsByOrderIDs(ctx, []int64{o.ID})
			require.NoError(t, err)
			last := events[o.ID][len(events[o.ID])-1]
			require.Equal(t, order.Cancelled, last.Status)
			require.Equal(t, order.Status(tc.status), *last.PreviousStatus)
			require.Equal(t, &v.UserID, last.ActorID)
			require.Equal(t, "cancelled by "+string(v.Role), last.Note)
			published := b.rec.of(o.ID)
			require.Len(t, published, 1, "published once, after commit")
			require.True(t, b.rec.invalidatedProduct(variantsProduct(t, b.d, variants[0])))
		})
	}

	t.Run("NOT_FOUND for no such order", func(t *testing.T) {
		_, err := b.svc.Cancel(ctx, p.admin, 1<<40)
		require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	})
}

func variantsProduct(t *testing.T, d *postgres.DB, variantID int64) int64 {
	var id int64
	require.NoError(t, d.Pool.QueryRow(context.Background(), `SELECT product_id FROM product_variants WHERE id = $1`, variantID).Scan(&id))
	return id
}

// Many concurrent cancellations of one order (its owner's and admins') cancel it once: one
// event, the stock back once, and INVALID_TRANSITION for the others.
func TestCancelConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	o := vendorOrder(t, b.d, p, "PENDING")
	variants := variantsOf(t, b.d, o.ID)
	before := snap(t, b.d, o.ID, variants...)

	const n = 8
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		v := p.owner
		if i%2 == 1 {
			v = p.admin
		}
		go func() {
			<-start
			_, err := b.svc.Cancel(ctx, v, o.ID)
			errs <- err
		}()
	}
	close(start)
	ok := 0
	for range n {
		err := <-errs
		if err == nil {
			ok++
			continue
		}
		require.True(t, apperr.Is(err, apperr.InvalidTransition), "%v", err)
	}
	require.Equal(t, 1, ok)
	after := snap(t, b.d, o.ID, variants...)
	require.Equal(t, before.events+1, after.events)
	require.Equal(t, []int{before.stock[0] + 1, before.stock[1] + 2}, after.stock)
}

func TestStatusUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	tracking := func(s string) *string { return &s }

	for _, tc := range []struct {
		name     string
		v        func(p people) auth.Viewer
		from     string
		to       order.Status
		tracking *string
		want     apperr.Code
		field    string
	}{
		{"PAID to SHIPPED with a tracking number", func(p people) auth.Viewer { return p.admin }, "PAID", order.Shipped, tracking("TRK1"), "", ""},
		{"SHIPPED to DELIVERED", func(p people) auth.Viewer { return p.admin }, "SHIPPED", order.Delivered, nil, "", ""},
		{"PAID to REFUNDED", func(p people) auth.Viewer { return p.admin }, "PAID", order.Refunded, nil, "", ""},
		{"not an admin: FORBIDDEN", func(p people) auth.Viewer { return p.owner }, "PAID", order.Shipped, tracking("T"), apperr.Forbidden, ""},
		{"a vendor: FORBIDDEN", func(p people) auth.Viewer { return p.vendor }, "PAID", order.Shipped, tracking("T"), apperr.Forbidden, ""},
		{"an unknown status", func(p people) auth.Viewer { return p.admin }, "PAID", order.Status("LOST"), nil, apperr.Invalid, "input.status"},
		{"a tracking number over 100 characters", func(p people) auth.Viewer { return p.admin }, "PAID", order.Shipped, tracking(strings.Repeat("T", 101)), apperr.Invalid, "input.trackingNumber"},
		{"SHIPPED without a tracking number", func(p people) auth.Viewer { return p.admin }, "PAID", order.Shipped, nil, apperr.Invalid, "input.trackingNumber"},
		{"SHIPPED with a blank tracking number", func(p people) auth.Viewer { return p.admin }, "PAID", order.Shipped, tracking("  "), apperr.Invalid, "input.trackingNumber"},
		{"PENDING to SHIPPED", func(p people) auth.Viewer { return p.admin }, "PENDING", order.Shipped, tracking("T"), apperr.InvalidTransition, "input.status"},
		{"DELIVERED back to PAID", func(p people) auth.Viewer { return p.admin }, "DELIVERED", order.Paid, nil, apperr.InvalidTransition, "input.status"},
		{"REFUNDED is final", func(p people) auth.Viewer { return p.admin }, "REFUNDED", order.Cancelled, nil, apperr.InvalidTransition, "input.status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := vendorOrder(t, b.d, p, tc.from)
			before := snap(t, b.d, o.ID, variantsOf(t, b.d, o.ID)...)
			got, err := b.svc.StatusUpdate(ctx, tc.v(p), o.ID, tc.to, tc.tracking, "by hand")
			if tc.want != "" {
				require.Equal(t, []apperr.Code{tc.want}, tf.Codes(err), "%v", err)
				if tc.field != "" {
					require.Equal(t, []string{tc.field}, tf.Fields(err))
				}
				require.Equal(t, before, snap(t, b.d, o.ID, variantsOf(t, b.d, o.ID)...), "a refused move changes nothing")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.to, got.Status)
			require.Equal(t, tc.tracking, got.TrackingNumber)
			require.Equal(t, string(tc.to), tf.OrderStatus(t, b.d, o.ID))
			require.Equal(t, before.stock, snap(t, b.d, o.ID, variantsOf(t, b.d, o.ID)...).stock, "only a cancellation moves stock")
			events, err := b.svc.EventsAfter(ctx, o.ID, 1, 10)
			require.NoError(t, err)
			// The move is the next event; SHIPPED's fulfilments (fulfillment.go: one per
			// vendor, here the vendor's and the platform's) follow it as events of their own.
			wantEvents := 1
			if tc.to == order.Shipped {
				wantEvents = 3
			}
			require.Len(t, events, wantEvents)
			require.Equal(t, order.KindStatusChanged, events[0].Kind)
			require.Equal(t, "by hand", events[0].Note)
			require.Equal(t, 2, events[0].Sequence)
		})
	}

	t.Run("NOT_FOUND for no such order", func(t *testing.T) {
		_, err := b.svc.StatusUpdate(ctx, p.admin, 1<<40, order.Paid, nil, "")
		require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "%v", err)
	})
}

// The system (webhooks, jobs) makes any legal move; OnlyFrom refuses moves from other states.
func TestTransitionSystem(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)

	paid := vendorOrder(t, b.d, p, "PENDING")
	got, err := b.svc.Transition(ctx, order.SystemActor, paid.ID, order.Paid, order.TransitionOptions{Note: "paid"})
	require.NoError(t, err)
	require.Equal(t, order.Paid, got.Status)
	events, err := b.svc.EventsByOrderIDs(ctx, []int64{paid.ID})
	require.NoError(t, err)
	require.Len(t, events[paid.ID], 2)
	require.Nil(t, events[paid.ID][1].ActorID, "the system has no account")

	before := snap(t, b.d, paid.ID)
	_, err = b.svc.Transition(ctx, order.SystemActor, paid.ID, order.Cancelled, order.TransitionOptions{OnlyFrom: order.Pending})
	require.True(t, apperr.Is(err, apperr.InvalidTransition), "expiry does not cancel a paid order: %v", err)
	require.Equal(t, before, snap(t, b.d, paid.ID))
}

func TestFeed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	_, err := b.svc.FeedStart(ctx)
	require.NoError(t, err)

	withVendor := vendorOrder(t, b.d, p, "PENDING")
	platform := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: p.other.UserID})
	_, err = b.svc.Cancel(ctx, p.owner, withVendor.ID)
	require.NoError(t, err)

	orders := func(events []order.Event) []int64 {
		var out []int64
		for _, e := range events {
			out = append(out, e.OrderID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		v    auth.Viewer
		want []int64
	}{
		{"an admin follows every order", p.admin, []int64{withVendor.ID, platform.ID, withVendor.ID}},
		{"a vendor those holding its products", p.vendor, []int64{withVendor.ID, withVendor.ID}},
		{"another vendor none", p.otherVendor, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Events are held back while any transaction on the server that started before
			// they committed still runs (another package's test, say): read until none is.
			var events []order.Event
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				got, heldBack, err := b.svc.FeedAfter(ctx, tc.v, 0, 100)
				require.NoError(t, err)
				require.LessOrEqual(t, len(got), len(tc.want), "%v", orders(got))
				require.True(t, slices.Equal(tc.want[:len(got)], orders(got)), "a held-back feed is a prefix of the whole: %v", orders(got))
				if events = got; !heldBack {
					break
				}
				require.True(t, time.Now().Before(deadline), "the feed is still held back")
			}
			require.Equal(t, tc.want, orders(events))
			if len(events) > 1 {
				rest, _, err := b.svc.FeedAfter(ctx, tc.v, events[0].FeedPosition, 100)
				require.NoError(t, err)
				require.Equal(t, tc.want[1:], orders(rest), "after a position, only later events")
			}
		})
	}
	t.Run("a customer: FORBIDDEN", func(t *testing.T) {
		_, _, err := b.svc.FeedAfter(ctx, p.owner, 0, 100)
		require.True(t, apperr.Is(err, apperr.Forbidden), "%v", err)
	})
}
