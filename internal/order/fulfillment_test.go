package order_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// fulfilSnap is what a refused fulfilment must leave unchanged.
type fulfilSnap struct {
	order        snapshot
	fulfillments int
	units        int
}

func fsnap(t *testing.T, d *postgres.DB, orderID int64) fulfilSnap {
	return fulfilSnap{
		order:        snap(t, d, orderID),
		fulfillments: tf.Count(t, d, "fulfillments", "order_id = $1", orderID),
		units:        fulfilledUnits(t, d, orderID),
	}
}

func fulfilledUnits(t *testing.T, d *postgres.DB, orderID int64) int {
	var n int
	require.NoError(t, d.Pool.QueryRow(context.Background(), `
		SELECT COALESCE(sum(fl.quantity), 0) FROM fulfillment_lines fl JOIN fulfillments f ON f.id = fl.fulfillment_id
		WHERE f.order_id = $1`, orderID).Scan(&n))
	return n
}

func kinds(events []pubsub.OrderEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}

func in(orderID int64, tracking string, lines ...order.FulfillmentLineInput) order.FulfillmentInput {
	return order.FulfillmentInput{OrderID: orderID, Lines: lines, Tracking: order.Tracking{Carrier: "UPS", TrackingNumber: tracking}}
}

func TestFulfillmentCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)

	t.Run("partial, then full: the order moves to SHIPPED through the state machine", func(t *testing.T) {
		o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: p.owner.UserID, Status: "PAID",
			Lines: []tf.LineOpts{{VendorID: &p.vendor.VendorID, Quantity: 3}, {VendorID: &p.vendor.VendorID, Quantity: 1}}})
		url := "https://track.example.com/T1"
		first := in(o.ID, "T1", order.FulfillmentLineInput{OrderLineID: o.LineIDs[0], Quantity: 2})
		first.TrackingURL = &url
		f, err := b.svc.CreateFulfillment(ctx, p.vendor, first)
		require.NoError(t, err)
		require.Equal(t, &p.vendor.VendorID, f.VendorID)
		require.Equal(t, order.FulfillmentShipped, f.Status)
		require.Equal(t, &url, f.TrackingURL)
		require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID), "a partial fulfilment leaves the order PAID")

		got, err := b.svc.Get(ctx, p.owner, o.ID)
		require.NoError(t, err)
		lines, err := b.svc.LinesByOrderIDs(ctx, []int64{o.ID})
		require.NoError(t, err)
		fs, err := b.svc.FulfillmentsByOrderIDs(ctx, []int64{o.ID})
		require.NoError(t, err)
		require.Equal(t, order.PartiallyFulfilled, b.svc.FulfillmentSummaryFor(p.owner, got, lines[o.ID], fs[o.ID]))
		require.Equal(t, 2, order.FulfilledQuantity(o.LineIDs[0], fs[o.ID]))

		_, err = b.svc.CreateFulfillment(ctx, p.vendor, in(o.ID, "T2",
			order.FulfillmentLineInput{OrderLineID: o.LineIDs[0], Quantity: 1}, order.FulfillmentLineInput{OrderLineID: o.LineIDs[1], Quantity: 1}))
		require.NoError(t, err)
		require.Equal(t, "SHIPPED", tf.OrderStatus(t, b.d, o.ID))
		got, err = b.svc.Get(ctx, p.owner, o.ID)
		require.NoError(t, err)
		require.Equal(t, "T2", *got.TrackingNumber)
		fs, err = b.svc.FulfillmentsByOrderIDs(ctx, []int64{o.ID})
		require.NoError(t, err)
		require.Equal(t, order.Fulfilled, b.svc.FulfillmentSummaryFor(p.owner, got, lines[o.ID], fs[o.ID]))

		events, err := b.svc.EventsAfter(ctx, o.ID, 1, 10)
		require.NoError(t, err)
		require.Len(t, events, 3)
		require.Equal(t, order.KindFulfillmentCreated, events[0].Kind)
		require.Equal(t, order.Paid, events[0].Status)
		require.Equal(t, order.KindStatusChanged, events[1].Kind, "the move the last fulfilment causes comes first")
		require.Equal(t, order.Shipped, events[1].Status)
		require.Equal(t, &p.vendor.UserID, events[1].ActorID, "the history names the vendor's member")
		require.Equal(t, order.KindFulfillmentCreated, events[2].Kind)
		require.Equal(t, &fs[o.ID][1].ID, events[2].FulfillmentID)
		require.Equal(t, []string{"FULFILLMENT_CREATED", "STATUS_CHANGED", "FULFILLMENT_CREATED"}, kinds(b.rec.of(o.ID)), "each is published after commit")
		require.Equal(t, []int64{p.vendor.VendorID}, b.rec.of(o.ID)[0].VendorIDs)
	})

	t.Run("refusals change nothing", func(t *testing.T) {
		o := vendorOrder(t, b.d, p, "PAID") // a line of p.vendor (1 unit), one of the platform (2)
		vendorLine, platformLine := o.LineIDs[0], o.LineIDs[1]
		other := vendorOrder(t, b.d, p, "PAID")
		bad := "javascript:alert(1)"
		for _, tc := range []struct {
			name  string
			v     func() order.FulfillmentInput
			want  apperr.Code
			field string
		}{
			{"over-fulfilment", func() order.FulfillmentInput {
				return in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 2})
			}, apperr.OverFulfillment, "input.lines.0.quantity"},
			{"another vendor's line answers as missing", func() order.FulfillmentInput {
				return in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: platformLine, Quantity: 1})
			}, apperr.NotFound, "input.lines.0.orderLineId"},
			{"a line of another order", func() order.FulfillmentInput {
				return in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: other.LineIDs[0], Quantity: 1})
			}, apperr.NotFound, "input.lines.0.orderLineId"},
			{"no such order", func() order.FulfillmentInput {
				return in(1<<40, "T", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 1})
			}, apperr.NotFound, "input.orderId"},
			{"a tracking URL that is not http(s)", func() order.FulfillmentInput {
				i := in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 1})
				i.TrackingURL = &bad
				return i
			}, apperr.Invalid, "input.trackingUrl"},
			{"no tracking number", func() order.FulfillmentInput {
				return in(o.ID, " ", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 1})
			}, apperr.Invalid, "input.trackingNumber"},
			{"a zero quantity", func() order.FulfillmentInput {
				return in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 0})
			}, apperr.Invalid, "input.lines.0.quantity"},
			{"no lines", func() order.FulfillmentInput { return in(o.ID, "T") }, apperr.Invalid, "input.lines"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := fsnap(t, b.d, o.ID)
				_, err := b.svc.CreateFulfillment(ctx, p.vendor, tc.v())
				require.Equal(t, []apperr.Code{tc.want}, tf.Codes(err), "%v", err)
				require.Equal(t, []string{tc.field}, tf.Fields(err))
				require.Equal(t, before, fsnap(t, b.d, o.ID))
			})
		}
		t.Run("another vendor: the order answers as missing", func(t *testing.T) {
			before := fsnap(t, b.d, o.ID)
			_, err := b.svc.CreateFulfillment(ctx, p.otherVendor, in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 1}))
			require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "%v", err)
			require.Equal(t, before, fsnap(t, b.d, o.ID))
		})
		t.Run("a customer, even the owner: FORBIDDEN", func(t *testing.T) {
			_, err := b.svc.CreateFulfillment(ctx, p.owner, in(o.ID, "T", order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 1}))
			require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), "%v", err)
		})
		t.Run("an admin: lines of two vendors in one fulfilment", func(t *testing.T) {
			before := fsnap(t, b.d, o.ID)
			_, err := b.svc.CreateFulfillment(ctx, p.admin, in(o.ID, "T",
				order.FulfillmentLineInput{OrderLineID: vendorLine, Quantity: 1}, order.FulfillmentLineInput{OrderLineID: platformLine, Quantity: 1}))
			require.Equal(t, []apperr.Code{apperr.Invalid}, tf.Codes(err), "%v", err)
			require.Equal(t, []string{"input.lines.1.orderLineId"}, tf.Fields(err))
			require.Equal(t, before, fsnap(t, b.d, o.ID))
		})
		for _, status := range []string{"PENDING", "CANCELLED", "SHIPPED"} {
			t.Run("a "+status+" order: INVALID_TRANSITION", func(t *testing.T) {
				x := vendorOrder(t, b.d, p, status)
				before := fsnap(t, b.d, x.ID)
				_, err := b.svc.CreateFulfillment(ctx, p.vendor, in(x.ID, "T", order.FulfillmentLineInput{OrderLineID: x.LineIDs[0], Quantity: 1}))
				require.Equal(t, []apperr.Code{apperr.InvalidTransition}, tf.Codes(err), "%v", err)
				require.Equal(t, before, fsnap(t, b.d, x.ID))
			})
		}
	})

	t.Run("an admin ships the platform's lines; vendors see only their own fulfilments", func(t *testing.T) {
		o := vendorOrder(t, b.d, p, "PAID")
		pf, err := b.svc.CreateFulfillment(ctx, p.admin, in(o.ID, "P", order.FulfillmentLineInput{OrderLineID: o.LineIDs[1], Quantity: 2}))
		require.NoError(t, err)
		require.Nil(t, pf.VendorID)
		vf, err := b.svc.CreateFulfillment(ctx, p.vendor, in(o.ID, "V", order.FulfillmentLineInput{OrderLineID: o.LineIDs[0], Quantity: 1}))
		require.NoError(t, err)
		require.Equal(t, "SHIPPED", tf.OrderStatus(t, b.d, o.ID))
		got, err := b.svc.Get(ctx, p.admin, o.ID)
		require.NoError(t, err)
		fs, err := b.svc.FulfillmentsByOrderIDs(ctx, []int64{o.ID})
		require.NoError(t, err)
		require.Len(t, b.svc.VisibleFulfillments(p.owner, got, fs[o.ID]), 2)
		require.Len(t, b.svc.VisibleFulfillments(p.admin, got, fs[o.ID]), 2)
		own := b.svc.VisibleFulfillments(p.vendor, got, fs[o.ID])
		require.Len(t, own, 1)
		require.Equal(t, vf.ID, own[0].ID)
		require.Empty(t, b.svc.VisibleFulfillments(p.otherVendor, got, fs[o.ID]))

		_, err = b.svc.GetFulfillment(ctx, p.vendor, pf.ID)
		require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
		_, err = b.svc.GetFulfillment(ctx, p.otherVendor, vf.ID)
		require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
		_, err = b.svc.GetFulfillment(ctx, p.other, vf.ID)
		require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
		seen, err := b.svc.GetFulfillment(ctx, p.owner, vf.ID)
		require.NoError(t, err)
		require.Equal(t, "V", seen.TrackingNumber)
	})
}

func TestFulfillmentTrackingAndDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	o := vendorOrder(t, b.d, p, "PAID")
	vf, err := b.svc.CreateFulfillment(ctx, p.vendor, in(o.ID, "V1", order.FulfillmentLineInput{OrderLineID: o.LineIDs[0], Quantity: 1}))
	require.NoError(t, err)

	url := "http://carrier.example/V2"
	up, err := b.svc.UpdateTracking(ctx, p.vendor, vf.ID, order.Tracking{Carrier: "DHL", TrackingNumber: "V2", TrackingURL: &url})
	require.NoError(t, err)
	require.Equal(t, "DHL", up.Carrier)
	require.Equal(t, "V2", up.TrackingNumber)
	require.Equal(t, &url, up.TrackingURL)
	require.Len(t, up.Lines, 1)

	before := fsnap(t, b.d, o.ID)
	_, err = b.svc.UpdateTracking(ctx, p.otherVendor, vf.ID, order.Tracking{TrackingNumber: "X"})
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "%v", err)
	_, err = b.svc.MarkDelivered(ctx, p.otherVendor, vf.ID)
	require.Equal(t, []apperr.Code{apperr.NotFound}, tf.Codes(err), "%v", err)
	_, err = b.svc.MarkDelivered(ctx, p.owner, vf.ID)
	require.Equal(t, []apperr.Code{apperr.Forbidden}, tf.Codes(err), "%v", err)
	require.Equal(t, before, fsnap(t, b.d, o.ID))

	// The platform's line ships (admin) and the order is SHIPPED; the vendor's delivery alone
	// does not make it DELIVERED, the last one does.
	pf, err := b.svc.CreateFulfillment(ctx, p.admin, in(o.ID, "P1", order.FulfillmentLineInput{OrderLineID: o.LineIDs[1], Quantity: 2}))
	require.NoError(t, err)
	require.Equal(t, "SHIPPED", tf.OrderStatus(t, b.d, o.ID))
	d, err := b.svc.MarkDelivered(ctx, p.vendor, vf.ID)
	require.NoError(t, err)
	require.Equal(t, order.FulfillmentDelivered, d.Status)
	require.NotNil(t, d.DeliveredAt)
	require.Equal(t, "SHIPPED", tf.OrderStatus(t, b.d, o.ID))
	_, err = b.svc.MarkDelivered(ctx, p.admin, pf.ID)
	require.NoError(t, err)
	require.Equal(t, "DELIVERED", tf.OrderStatus(t, b.d, o.ID))

	before = fsnap(t, b.d, o.ID)
	_, err = b.svc.MarkDelivered(ctx, p.vendor, vf.ID)
	require.Equal(t, []apperr.Code{apperr.InvalidTransition}, tf.Codes(err), "%v", err)
	_, err = b.svc.UpdateTracking(ctx, p.vendor, vf.ID, order.Tracking{TrackingNumber: "late"})
	require.Equal(t, []apperr.Code{apperr.InvalidTransition}, tf.Codes(err), "%v", err)
	require.Equal(t, before, fsnap(t, b.d, o.ID))

	require.Equal(t, []string{"FULFILLMENT_CREATED", "FULFILLMENT_TRACKING_UPDATED", "STATUS_CHANGED", "FULFILLMENT_CREATED",
		"FULFILLMENT_DELIVERED", "STATUS_CHANGED", "FULFILLMENT_DELIVERED"}, kinds(b.rec.of(o.ID)))
	last := b.rec.of(o.ID)
	require.Equal(t, "DELIVERED", last[len(last)-2].Status)
}

// An admin's orderStatusUpdate(SHIPPED) fulfils what is left, per vendor; DELIVERED delivers
// every fulfilment.
func TestStatusUpdateFulfilsWhatIsLeft(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: p.owner.UserID, Status: "PAID", Lines: []tf.LineOpts{
		{VendorID: &p.vendor.VendorID, Quantity: 3}, {VendorID: &p.otherVendor.VendorID, Quantity: 2}, {Quantity: 1},
	}})
	_, err := b.svc.CreateFulfillment(ctx, p.vendor, in(o.ID, "V", order.FulfillmentLineInput{OrderLineID: o.LineIDs[0], Quantity: 1}))
	require.NoError(t, err)
	tracking := "ALL-1"
	_, err = b.svc.StatusUpdate(ctx, p.admin, o.ID, order.Shipped, &tracking, "ship it")
	require.NoError(t, err)
	require.Equal(t, "SHIPPED", tf.OrderStatus(t, b.d, o.ID))
	fs, err := b.svc.FulfillmentsByOrderIDs(ctx, []int64{o.ID})
	require.NoError(t, err)
	require.Len(t, fs[o.ID], 4, "the vendor's first, then one per vendor and one for the platform")
	require.Equal(t, 2, order.FulfilledQuantity(o.LineIDs[0], fs[o.ID][1:]), "only what was left")
	require.Equal(t, 3, order.FulfilledQuantity(o.LineIDs[0], fs[o.ID]))
	require.Equal(t, 2, order.FulfilledQuantity(o.LineIDs[1], fs[o.ID]))
	require.Equal(t, 1, order.FulfilledQuantity(o.LineIDs[2], fs[o.ID]))
	require.Equal(t, &p.vendor.VendorID, fs[o.ID][1].VendorID)
	require.Equal(t, &p.otherVendor.VendorID, fs[o.ID][2].VendorID)
	require.Nil(t, fs[o.ID][3].VendorID)
	for _, f := range fs[o.ID][1:] {
		require.Equal(t, "ALL-1", f.TrackingNumber)
	}

	_, err = b.svc.StatusUpdate(ctx, p.admin, o.ID, order.Delivered, nil, "")
	require.NoError(t, err)
	require.Equal(t, 0, tf.Count(t, b.d, "fulfillments", "order_id = $1 AND status <> 'DELIVERED'", o.ID))
	require.Equal(t, []string{"FULFILLMENT_CREATED", "STATUS_CHANGED", "FULFILLMENT_CREATED", "FULFILLMENT_CREATED", "FULFILLMENT_CREATED",
		"STATUS_CHANGED", "FULFILLMENT_DELIVERED", "FULFILLMENT_DELIVERED", "FULFILLMENT_DELIVERED", "FULFILLMENT_DELIVERED"}, kinds(b.rec.of(o.ID)))
}

// Racing fulfilments of the same line never over-ship: the order row lock serialises them.
func TestFulfillmentConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: p.owner.UserID, Status: "PAID", Lines: []tf.LineOpts{
		{VendorID: &p.vendor.VendorID, Quantity: 5}, {VendorID: &p.vendor.VendorID, Quantity: 1},
	}})
	const racers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		ok   int
		over int
	)
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := b.svc.CreateFulfillment(ctx, p.vendor, in(o.ID, "R", order.FulfillmentLineInput{OrderLineID: o.LineIDs[0], Quantity: 2}))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case slices.Equal(tf.Codes(err), []apperr.Code{apperr.OverFulfillment}):
				over++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	require.Equal(t, 2, ok, "5 units ship in at most two fulfilments of 2")
	require.Equal(t, racers-2, over)
	require.Equal(t, 4, fulfilledUnits(t, b.d, o.ID))
	require.Equal(t, "PAID", tf.OrderStatus(t, b.d, o.ID))
}
