package graph_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
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
}

// accessAnswer is a response reduced to what a client can tell apart: its data and its
// errors' messages, paths and codes.
func accessAnswer(t *testing.T, r *apitest.Response) string {
	t.Helper()
	errs := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = fmt.Sprintf("%v %v %v", e.Extensions["code"], e.Path, e.Message)
	}
	return fmt.Sprintf("data=%s errors=%q", r.Data, errs)
}

// TestVendorAccessAPI: as vendor B's member, each of vendor A's objects answers exactly like
// a missing object of the same type (the same data and errors as for an ID that does not
// exist); on the order both share, B sees only its own lines, total and fulfilments.
func TestVendorAccessAPI(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Redis: true, Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}})
	s := newTwoVendorShop(t, e)

	// A's objects: an archived product, a fulfilment, a webhook; A's active variant has stock
	// movements (its sale).
	archived := e.Product(t, apitest.ProductOptions{VendorID: &s.vendorAID, Variants: []catalog.VariantInput{{Name: "X", Price: 100, Stock: 3}}})[0]
	require.Empty(t, mutate(t, s.vendorA, productArchiveMutation, map[string]any{"id": archived.ProductGID}).UserErrors)
	p := fulfilCreate(t, s.vendorA, s.orderID, "A1", fline(s.lineA, 1))
	require.Empty(t, p.UserErrors)
	fulfilA := p.Fulfillment.ID
	hookA := createWebhook(t, s.vendorA, newHookReceiver(t).URL, "ORDER_PAID")
	require.Empty(t, hookA.UserErrors)
	require.NotNil(t, hookA.Webhook)

	missing := func(typ string) string { return apitest.GlobalID(typ, 1<<40) }
	today := time.Now().UTC().Format(time.DateOnly)
	nodeQuery := `query N($id: ID!) { node(id: $id) { id } }`
	cases := []struct {
		name, query, typ, idOfA string
		vars                    func(id string) map[string]any
	}{
		{"node of an archived product", nodeQuery, "Product", archived.ProductGID, nil},
		{"product of an archived product", `query P($id: ID) { product(id: $id) { id name variants { id } } }`, "Product", archived.ProductGID, nil},
		{"node of an archived product's variant", nodeQuery, "ProductVariant", archived.GID, nil},
		{"node of a fulfilment", fulfilNodeQuery, "Fulfillment", fulfilA, nil},
		{"fulfillmentUpdateTracking", fulfillmentTrackingMutation, "Fulfillment", fulfilA,
			func(id string) map[string]any {
				return map[string]any{"input": map[string]any{"id": id, "trackingNumber": "X"}}
			}},
		{"fulfillmentMarkDelivered", fulfillmentDeliveredMutation, "Fulfillment", fulfilA,
			func(id string) map[string]any { return map[string]any{"input": map[string]any{"id": id}} }},
		{"vendorBalance", `query B($id: ID!) { vendorBalance(vendorId: $id) { currency earned { amount } } }`, "Vendor",
			apitest.GlobalID("Vendor", s.vendorAID), nil},
		{"vendorAnalytics", `query A($input: VendorAnalyticsInput!) { vendorAnalytics(input: $input) { from to } }`, "Vendor",
			apitest.GlobalID("Vendor", s.vendorAID), func(id string) map[string]any {
				return map[string]any{"input": map[string]any{"vendorId": id, "from": today, "to": today, "interval": "DAY", "timeZone": "UTC"}}
			}},
		// Documented: another vendor's low stock is FORBIDDEN, as is a vendor that does not exist.
		{"lowStockVariants", `query L($id: ID) { lowStockVariants(vendorId: $id) { totalCount } }`, "Vendor",
			apitest.GlobalID("Vendor", s.vendorAID), nil},
		{"node of a webhook", nodeQuery, "Webhook", hookA.Webhook.ID, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars := c.vars
			if vars == nil {
				vars = func(id string) map[string]any { return map[string]any{"id": id} }
			}
			got := accessAnswer(t, s.vendorB.As(t).Do(c.query, vars(c.idOfA)))
			want := accessAnswer(t, s.vendorB.As(t).Do(c.query, vars(missing(c.typ))))
			require.Equal(t, want, got, "A's %s answers B like a missing one", c.typ)
			own := accessAnswer(t, s.vendorA.As(t).Do(c.query, vars(c.idOfA)))
			require.NotEqual(t, want, own, "A itself sees it (the case tests something)")
		})
	}

	t.Run("Vendor.balance and ledgerEntries of another vendor are null", func(t *testing.T) {
		q := `query V($id: ID!) { node(id: $id) { ... on Vendor { id balance { currency } ledgerEntries { totalCount } } } }`
		var out struct {
			Node struct {
				ID            string            `json:"id"`
				Balance       []json.RawMessage `json:"balance"`
				LedgerEntries *json.RawMessage  `json:"ledgerEntries"`
			} `json:"node"`
		}
		s.vendorB.As(t).Do(q, map[string]any{"id": apitest.GlobalID("Vendor", s.vendorAID)}).Decode(t, &out)
		require.Nil(t, out.Node.Balance)
		require.Nil(t, out.Node.LedgerEntries)
		s.vendorA.As(t).Do(q, map[string]any{"id": apitest.GlobalID("Vendor", s.vendorAID)}).Decode(t, &out)
		require.NotNil(t, out.Node.Balance, "A sees its own")
		require.NotNil(t, out.Node.LedgerEntries)
	})

	t.Run("the shared order: B's lines, total and fulfilments only", func(t *testing.T) {
		q := `query O($id: ID!) { order(id: $id) { total { amount } lines { id } fulfillments { id } } }`
		var out struct {
			Order struct {
				Total struct {
					Amount int64 `json:"amount"`
				} `json:"total"`
				Lines        []struct{ ID string } `json:"lines"`
				Fulfillments []struct{ ID string } `json:"fulfillments"`
			} `json:"order"`
		}
		s.vendorB.As(t).Do(q, map[string]any{"id": s.orderID}).Decode(t, &out)
		require.Equal(t, int64(2*500), out.Order.Total.Amount, "B's two units")
		require.Len(t, out.Order.Lines, 1)
		require.Equal(t, s.lineB, out.Order.Lines[0].ID)
		require.Empty(t, out.Order.Fulfillments, "A's fulfilment is not listed")
	})

	t.Run("stockMovements of A's active variant: FORBIDDEN, as documented", func(t *testing.T) {
		// An ACTIVE product is public, so its variants are not "missing": the stock ledger
		// answers FORBIDDEN like quantityAvailable (schema/stock.graphqls).
		q := `query P($id: ID) { product(id: $id) { variants { stockMovements { totalCount } } } }`
		productA := e.Product(t, apitest.ProductOptions{VendorID: &s.vendorAID, Variants: []catalog.VariantInput{{Name: "S", Price: 100, Stock: 5}}})[0].ProductGID
		r := s.vendorB.As(t).Do(q, map[string]any{"id": productA})
		require.Equal(t, "FORBIDDEN", r.Code())
		require.JSONEq(t, `{"product":{"variants":[{"stockMovements":null}]}}`, string(r.Data))
		r = s.vendorA.As(t).Do(q, map[string]any{"id": productA})
		require.Empty(t, r.Errors)
	})
}

// TestVendorAccessOrderTrackingNumber: when vendor A's fulfilment ships an order's last
// units, the order takes A's tracking number; vendor B sees null, not A's number, while A and
// the customer see it.
func TestVendorAccessOrderTrackingNumber(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	s := newTwoVendorShop(t, e)
	require.Empty(t, fulfilCreate(t, s.vendorB, s.orderID, "B-ONLY", fline(s.lineB, 2)).UserErrors)
	require.Empty(t, fulfilCreate(t, s.vendorA, s.orderID, "SECRET-A", fline(s.lineA, 3)).UserErrors)

	q := `query O($id: ID!) { order(id: $id) { status trackingNumber } }`
	tracking := func(c *apitest.Client) *string {
		var out struct {
			Order struct {
				Status         string  `json:"status"`
				TrackingNumber *string `json:"trackingNumber"`
			} `json:"order"`
		}
		c.As(t).Do(q, map[string]any{"id": s.orderID}).Decode(t, &out)
		require.Equal(t, "SHIPPED", out.Order.Status)
		return out.Order.TrackingNumber
	}
	require.Nil(t, tracking(s.vendorB), "B never sees A's tracking number")
	require.Equal(t, "SECRET-A", *tracking(s.vendorA))
	require.Equal(t, "SECRET-A", *tracking(s.customer))
}
