package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// Vendor access (issue 16, "Access"): a vendor never learns of another vendor's objects. This
// file checks, as vendor B's member, that vendor A's objects answer exactly like missing ones.

// accessEvent is an order event as Order.events, orderStatusChanged and orderEvents give it.
type accessEvent struct {
	Sequence      int     `json:"sequence"`
	Kind          string  `json:"kind"`
	Status        string  `json:"status"`
	Note          string  `json:"note"`
	FulfillmentID *string `json:"fulfillmentId"`
}

const (
	accessTrackQuery = `subscription T($id: ID!, $after: Int) {
  orderStatusChanged(orderId: $id, after: $after) { sequence kind status note fulfillmentId } }`
	accessFeedQuery = `subscription F($after: Int64) {
  orderEvents(after: $after) { sequence kind status note fulfillmentId } }`
	accessEventsQuery = `query O($id: ID!) { order(id: $id) { events { sequence kind status note fulfillmentId actorId } } }`
)

// nextAccessEvent is the next event of a subscription, decoded with kind and fulfillmentId.
func nextAccessEvent(t *testing.T, s trackSub) accessEvent {
	t.Helper()
	it, ok := s.next(trackWait)
	require.True(t, ok, "no event within %s", trackWait)
	require.Empty(t, it.Errors, "unexpected errors: %s", it.Raw)
	var res struct {
		Data map[string]*accessEvent `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(it.Raw), &res), it.Raw)
	for _, ev := range res.Data {
		require.NotNil(t, ev, it.Raw)
		return *ev
	}
	t.Fatalf("no event in %s", it.Raw)
	return accessEvent{}
}

// TestVendorAccessFulfillmentEvents: vendor B, following an order it shares with vendor A
// (orderStatusChanged, orderEvents, Order.events), is told that something changed when A
// ships, tracks or delivers, never what: ORDER_UPDATED without fulfilment, actor or note, at
// the same gap-free sequence. Its own fulfilments' events it sees whole; so does A, and the
// customer sees everything.
func TestVendorAccessFulfillmentEvents(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	s := newTwoVendorShop(t, e)
	srv := e.Server.Server

	trackB := openTrack(t, srv, protoTransportWS, s.vendorB.Bearer, accessTrackQuery, trackVars(s.orderID, 0))
	feedB := openTrack(t, srv, protoTransportWS, s.vendorB.Bearer, accessFeedQuery, map[string]any{"after": 0})
	trackA := openTrack(t, srv, protoTransportWS, s.vendorA.Bearer, accessTrackQuery, trackVars(s.orderID, 0))
	for _, sub := range []trackSub{trackB, feedB, trackA} {
		for seq := 1; seq <= 2; seq++ { // placed, paid: replayed
			ev := nextAccessEvent(t, sub)
			require.Equal(t, seq, ev.Sequence)
			require.Equal(t, "STATUS_CHANGED", ev.Kind)
		}
	}

	// A ships, retracks and delivers (live events); then B ships its own.
	p := fulfilCreate(t, s.vendorA, s.orderID, "SECRET-A", fline(s.lineA, 1))
	require.Empty(t, p.UserErrors)
	a1 := p.Fulfillment.ID
	require.Empty(t, fulfil(t, s.vendorA, fulfillmentTrackingMutation, "fulfillmentUpdateTracking",
		map[string]any{"id": a1, "trackingNumber": "SECRET-A2"}).UserErrors)
	require.Empty(t, fulfil(t, s.vendorA, fulfillmentDeliveredMutation, "fulfillmentMarkDelivered",
		map[string]any{"id": a1}).UserErrors)
	p = fulfilCreate(t, s.vendorB, s.orderID, "B-OWN", fline(s.lineB, 1))
	require.Empty(t, p.UserErrors)
	b1 := p.Fulfillment.ID

	wantB := []accessEvent{
		{Sequence: 3, Kind: "ORDER_UPDATED", Status: "PAID"},
		{Sequence: 4, Kind: "ORDER_UPDATED", Status: "PAID"},
		{Sequence: 5, Kind: "ORDER_UPDATED", Status: "PAID"},
	}
	for name, sub := range map[string]trackSub{"orderStatusChanged": trackB, "orderEvents": feedB} {
		for _, want := range wantB {
			require.Equal(t, want, nextAccessEvent(t, sub), "%s: A's fulfilment is redacted for B", name)
		}
		own := nextAccessEvent(t, sub)
		require.Equal(t, 6, own.Sequence, name)
		require.Equal(t, "FULFILLMENT_CREATED", own.Kind, "%s: B's own fulfilment, whole", name)
		require.Equal(t, b1, *own.FulfillmentID, name)
	}
	kindsA := []string{"FULFILLMENT_CREATED", "FULFILLMENT_TRACKING_UPDATED", "FULFILLMENT_DELIVERED"}
	for i, kind := range kindsA {
		ev := nextAccessEvent(t, trackA)
		require.Equal(t, 3+i, ev.Sequence)
		require.Equal(t, kind, ev.Kind, "A sees its own fulfilment's events")
		require.Equal(t, a1, *ev.FulfillmentID)
	}
	ev := nextAccessEvent(t, trackA)
	require.Equal(t, accessEvent{Sequence: 6, Kind: "ORDER_UPDATED", Status: "PAID"}, ev, "and B's redacted")

	// Order.events answers the same.
	type eventsOut struct {
		Order struct {
			Events []struct {
				accessEvent
				ActorID *string `json:"actorId"`
			} `json:"events"`
		} `json:"order"`
	}
	var asB, asCustomer eventsOut
	s.vendorB.As(t).Do(accessEventsQuery, map[string]any{"id": s.orderID}).Decode(t, &asB)
	require.Len(t, asB.Order.Events, 6)
	for i, want := range wantB {
		got := asB.Order.Events[2+i]
		require.Equal(t, want, got.accessEvent)
		require.Nil(t, got.ActorID, "A's member is not named to B")
	}
	require.Equal(t, "FULFILLMENT_CREATED", asB.Order.Events[5].Kind)
	s.customer.As(t).Do(accessEventsQuery, map[string]any{"id": s.orderID}).Decode(t, &asCustomer)
	var kinds []string
	for _, ev := range asCustomer.Order.Events {
		kinds = append(kinds, ev.Kind)
	}
	require.Equal(t, []string{"STATUS_CHANGED", "STATUS_CHANGED", "FULFILLMENT_CREATED", "FULFILLMENT_TRACKING_UPDATED",
		"FULFILLMENT_DELIVERED", "FULFILLMENT_CREATED"}, kinds, "the customer sees every fulfilment")
	require.Equal(t, a1, *asCustomer.Order.Events[2].FulfillmentID)
	_ = apitest.GlobalID
}
