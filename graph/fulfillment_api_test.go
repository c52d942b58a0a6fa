package graph_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// Fulfilment (issue 16): vendors ship their own lines; the order follows.

const (
	fulfillmentFields = `fulfillment { id status carrier trackingNumber trackingUrl deliveredAt vendor { id }
    lines { quantity orderLine { id sku } } order { id status fulfillmentStatus } }
  userErrors { field message code }`
	fulfillmentCreateMutation    = `mutation F($input: FulfillmentCreateInput!) { fulfillmentCreate(input: $input) { ` + fulfillmentFields + ` } }`
	fulfillmentTrackingMutation  = `mutation F($input: FulfillmentUpdateTrackingInput!) { fulfillmentUpdateTracking(input: $input) { ` + fulfillmentFields + ` } }`
	fulfillmentDeliveredMutation = `mutation F($input: FulfillmentMarkDeliveredInput!) { fulfillmentMarkDelivered(input: $input) { ` + fulfillmentFields + ` } }`
	fulfilOrderQuery             = `query O($id: ID!) { order(id: $id) { id status fulfillmentStatus
    lines { id sku quantity fulfilledQuantity }
    fulfillments { id status carrier trackingNumber trackingUrl vendor { id } lines { quantity orderLine { id } } }
    events { sequence kind status fulfillmentId } } }`
	fulfilNodeQuery = `query N($id: ID!) { node(id: $id) { id ... on Fulfillment { trackingNumber } } }`
)

type fulfilView struct {
	ID             string  `json:"id"`
	Status         string  `json:"status"`
	Carrier        string  `json:"carrier"`
	TrackingNumber string  `json:"trackingNumber"`
	TrackingURL    *string `json:"trackingUrl"`
	DeliveredAt    *string `json:"deliveredAt"`
	Vendor         *struct {
		ID string `json:"id"`
	} `json:"vendor"`
	Lines []struct {
		Quantity  int `json:"quantity"`
		OrderLine struct {
			ID string `json:"id"`
		} `json:"orderLine"`
	} `json:"lines"`
	Order *struct {
		ID                string `json:"id"`
		Status            string `json:"status"`
		FulfillmentStatus string `json:"fulfillmentStatus"`
	} `json:"order"`
}

type fulfilPayload struct {
	Fulfillment *fulfilView         `json:"fulfillment"`
	UserErrors  []apitest.UserError `json:"userErrors"`
}

type fulfilOrder struct {
	ID                string `json:"id"`
	Status            string `json:"status"`
	FulfillmentStatus string `json:"fulfillmentStatus"`
	Lines             []struct {
		ID                string `json:"id"`
		SKU               string `json:"sku"`
		Quantity          int    `json:"quantity"`
		FulfilledQuantity int    `json:"fulfilledQuantity"`
	} `json:"lines"`
	Fulfillments []fulfilView `json:"fulfillments"`
	Events       []struct {
		Sequence      int     `json:"sequence"`
		Kind          string  `json:"kind"`
		Status        string  `json:"status"`
		FulfillmentID *string `json:"fulfillmentId"`
	} `json:"events"`
}

func fulfilOrderAs(t *testing.T, c *apitest.Client, id string) *fulfilOrder {
	t.Helper()
	var out struct {
		Order *fulfilOrder `json:"order"`
	}
	c.As(t).Do(fulfilOrderQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Order
}

func fulfil(t *testing.T, c *apitest.Client, mutation, field string, input map[string]any) fulfilPayload {
	t.Helper()
	var p fulfilPayload
	require.NoError(t, c.TryPayload(mutation, map[string]any{"input": input}, field, &p))
	require.NotNil(t, p.UserErrors, "userErrors is never null")
	return p
}

func fulfilCreate(t *testing.T, c *apitest.Client, orderID, tracking string, lines ...map[string]any) fulfilPayload {
	t.Helper()
	return fulfil(t, c, fulfillmentCreateMutation, "fulfillmentCreate", map[string]any{
		"orderId": orderID, "lines": lines, "carrier": "UPS", "trackingNumber": tracking,
		"trackingUrl": "https://track.example.com/" + tracking,
	})
}

func fline(id string, qty int) map[string]any {
	return map[string]any{"orderLineId": id, "quantity": qty}
}

// twoVendorShop is a PAID order of a customer holding 3 units of vendor A's product and 2 of
// vendor B's.
type twoVendorShop struct {
	customer, vendorA, vendorB *apitest.Client
	vendorAID, vendorBID       int64
	orderID                    string
	lineA, lineB               string
}

func newTwoVendorShop(t *testing.T, e *apitest.Env) twoVendorShop {
	t.Helper()
	s := twoVendorShop{}
	s.vendorA, s.vendorAID = e.Vendor(t)
	s.vendorB, s.vendorBID = e.Vendor(t)
	va := e.Product(t, apitest.ProductOptions{VendorID: &s.vendorAID, Variants: []catalog.VariantInput{{Name: "A", SKU: apitest.UniqueSKU("A"), Price: 1000, Stock: 100}}})[0]
	vb := e.Product(t, apitest.ProductOptions{VendorID: &s.vendorBID, Variants: []catalog.VariantInput{{Name: "B", SKU: apitest.UniqueSKU("B"), Price: 500, Stock: 100}}})[0]
	s.customer, _ = e.Customer(t)
	mustAdd(t, s.customer, va.GID, 3)
	mustAdd(t, s.customer, vb.GID, 2)
	o := placeOrder(t, s.customer)
	s.orderID = o.ID
	require.Empty(t, setStatus(t, e.Admin, o.ID, "PAID", "").UserErrors)
	for _, l := range fulfilOrderAs(t, e.Admin, o.ID).Lines {
		switch l.SKU {
		case va.SKU:
			s.lineA = l.ID
		case vb.SKU:
			s.lineB = l.ID
		}
	}
	require.NotEmpty(t, s.lineA)
	require.NotEmpty(t, s.lineB)
	return s
}

func TestFulfillmentAPI(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)

	t.Run("partial, then full: SHIPPED; delivered: DELIVERED; each vendor sees its own", func(t *testing.T) {
		s := newTwoVendorShop(t, e)
		p := fulfilCreate(t, s.vendorA, s.orderID, "A1", fline(s.lineA, 2))
		require.Empty(t, p.UserErrors)
		require.Equal(t, "SHIPPED", p.Fulfillment.Status)
		require.Equal(t, "UPS", p.Fulfillment.Carrier)
		require.Equal(t, apitest.GlobalID("Vendor", s.vendorAID), p.Fulfillment.Vendor.ID)
		require.Equal(t, "PAID", p.Fulfillment.Order.Status)
		require.Equal(t, "PARTIALLY_FULFILLED", p.Fulfillment.Order.FulfillmentStatus)
		a1 := p.Fulfillment.ID

		p = fulfilCreate(t, s.vendorA, s.orderID, "A2", fline(s.lineA, 1))
		require.Empty(t, p.UserErrors)
		require.Equal(t, "FULFILLED", p.Fulfillment.Order.FulfillmentStatus, "vendor A's own lines are all shipped")
		require.Equal(t, "PAID", p.Fulfillment.Order.Status, "vendor B's are not")
		a2 := p.Fulfillment.ID

		p = fulfilCreate(t, s.vendorB, s.orderID, "B1", fline(s.lineB, 2))
		require.Empty(t, p.UserErrors)
		require.Equal(t, "SHIPPED", p.Fulfillment.Order.Status)
		b1 := p.Fulfillment.ID

		whole := fulfilOrderAs(t, s.customer, s.orderID)
		require.Equal(t, "FULFILLED", whole.FulfillmentStatus)
		require.Len(t, whole.Fulfillments, 3, "the customer sees every fulfilment")
		require.Equal(t, "https://track.example.com/A1", *whole.Fulfillments[0].TrackingURL)
		for _, l := range whole.Lines {
			require.Equal(t, l.Quantity, l.FulfilledQuantity)
		}
		var kinds []string
		for _, ev := range whole.Events {
			kinds = append(kinds, ev.Kind)
		}
		require.Equal(t, []string{"STATUS_CHANGED", "STATUS_CHANGED", "FULFILLMENT_CREATED", "FULFILLMENT_CREATED",
			"STATUS_CHANGED", "FULFILLMENT_CREATED"}, kinds)
		require.Equal(t, b1, *whole.Events[5].FulfillmentID)

		asA := fulfilOrderAs(t, s.vendorA, s.orderID)
		require.Len(t, asA.Fulfillments, 2, "vendor A sees only its own fulfilments")
		require.Equal(t, []string{a1, a2}, []string{asA.Fulfillments[0].ID, asA.Fulfillments[1].ID})
		asB := fulfilOrderAs(t, s.vendorB, s.orderID)
		require.Len(t, asB.Fulfillments, 1)
		require.Equal(t, b1, asB.Fulfillments[0].ID)

		// Another vendor's fulfilment answers exactly like a missing one.
		var n struct {
			Node *struct {
				ID string `json:"id"`
			} `json:"node"`
		}
		s.vendorB.As(t).Do(fulfilNodeQuery, map[string]any{"id": a1}).Decode(t, &n)
		require.Nil(t, n.Node)
		s.vendorA.As(t).Do(fulfilNodeQuery, map[string]any{"id": a1}).Decode(t, &n)
		require.NotNil(t, n.Node)
		up := fulfil(t, s.vendorB, fulfillmentTrackingMutation, "fulfillmentUpdateTracking", map[string]any{"id": a1, "trackingNumber": "X"})
		missing := fulfil(t, s.vendorB, fulfillmentTrackingMutation, "fulfillmentUpdateTracking", map[string]any{"id": apitest.GlobalID("Fulfillment", 1<<40), "trackingNumber": "X"})
		require.Equal(t, missing.UserErrors[0].Code, up.UserErrors[0].Code)
		require.Equal(t, "NOT_FOUND", up.UserErrors[0].Code)
		require.Equal(t, missing.UserErrors[0].Message, up.UserErrors[0].Message)

		up = fulfil(t, s.vendorA, fulfillmentTrackingMutation, "fulfillmentUpdateTracking", map[string]any{
			"id": a1, "carrier": "DHL", "trackingNumber": "A1b", "trackingUrl": "ftp://nope"})
		require.Equal(t, "INVALID", up.UserErrors[0].Code)
		require.Equal(t, []string{"input", "trackingUrl"}, up.UserErrors[0].Field)
		up = fulfil(t, s.vendorA, fulfillmentTrackingMutation, "fulfillmentUpdateTracking", map[string]any{
			"id": a1, "carrier": "DHL", "trackingNumber": "A1b", "trackingUrl": "http://dhl.example/A1b"})
		require.Empty(t, up.UserErrors)
		require.Equal(t, "A1b", up.Fulfillment.TrackingNumber)

		for i, id := range []string{a1, a2, b1} {
			c := s.vendorA
			if id == b1 {
				c = s.vendorB
			}
			d := fulfil(t, c, fulfillmentDeliveredMutation, "fulfillmentMarkDelivered", map[string]any{"id": id})
			require.Empty(t, d.UserErrors)
			require.Equal(t, "DELIVERED", d.Fulfillment.Status)
			require.NotNil(t, d.Fulfillment.DeliveredAt)
			if i < 2 {
				require.Equal(t, "SHIPPED", d.Fulfillment.Order.Status)
			} else {
				require.Equal(t, "DELIVERED", d.Fulfillment.Order.Status, "every fulfilment delivered")
			}
		}
		again := fulfil(t, s.vendorA, fulfillmentDeliveredMutation, "fulfillmentMarkDelivered", map[string]any{"id": a1})
		require.Equal(t, "INVALID_TRANSITION", again.UserErrors[0].Code)
	})

	t.Run("refusals: codes, and nothing changes", func(t *testing.T) {
		s := newTwoVendorShop(t, e)
		before := fulfilOrderAs(t, e.Admin, s.orderID)
		for _, tc := range []struct {
			name  string
			c     *apitest.Client
			lines []map[string]any
			code  string
			field []string
		}{
			{"over-fulfilment", s.vendorA, []map[string]any{fline(s.lineA, 4)}, "OVER_FULFILLMENT", []string{"input", "lines", "0", "quantity"}},
			{"another vendor's line, as if missing", s.vendorB, []map[string]any{fline(s.lineA, 1)}, "NOT_FOUND", []string{"input", "lines", "0", "orderLineId"}},
			{"the customer", s.customer, []map[string]any{fline(s.lineA, 1)}, "FORBIDDEN", nil},
			{"a malformed line ID", s.vendorA, []map[string]any{fline(s.orderID, 1)}, "NOT_FOUND", []string{"input", "lines", "0", "orderLineId"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := fulfilCreate(t, tc.c, s.orderID, "T", tc.lines...)
				require.Nil(t, p.Fulfillment)
				require.Len(t, p.UserErrors, 1)
				require.Equal(t, tc.code, p.UserErrors[0].Code)
				if tc.field != nil {
					require.Equal(t, tc.field, p.UserErrors[0].Field)
				}
				require.Equal(t, before, fulfilOrderAs(t, e.Admin, s.orderID))
			})
		}
		t.Run("an unpaid order: INVALID_TRANSITION", func(t *testing.T) {
			va := e.Product(t, apitest.ProductOptions{VendorID: &s.vendorAID, Variants: []catalog.VariantInput{{Name: "A", Price: 1000, Stock: 10}}})[0]
			c, _ := e.Customer(t)
			o := buy(t, c, va, 1)
			lines := fulfilOrderAs(t, e.Admin, o.ID).Lines
			p := fulfilCreate(t, s.vendorA, o.ID, "T", fline(lines[0].ID, 1))
			require.Equal(t, "INVALID_TRANSITION", p.UserErrors[0].Code)
			require.Empty(t, fulfilOrderAs(t, e.Admin, o.ID).Fulfillments)
		})
	})

	t.Run("orderStatusUpdate(SHIPPED) fulfils what is left, per vendor", func(t *testing.T) {
		s := newTwoVendorShop(t, e)
		require.Empty(t, fulfilCreate(t, s.vendorA, s.orderID, "A1", fline(s.lineA, 1)).UserErrors)
		require.Empty(t, setStatus(t, e.Admin, s.orderID, "SHIPPED", "ALL-1").UserErrors)
		o := fulfilOrderAs(t, s.customer, s.orderID)
		require.Equal(t, "SHIPPED", o.Status)
		require.Equal(t, "FULFILLED", o.FulfillmentStatus)
		require.Len(t, o.Fulfillments, 3)
		require.Equal(t, "ALL-1", o.Fulfillments[1].TrackingNumber)
		require.Equal(t, 2, o.Fulfillments[1].Lines[0].Quantity, "only what was left of vendor A's line")
		require.Equal(t, apitest.GlobalID("Vendor", s.vendorBID), o.Fulfillments[2].Vendor.ID)
		require.Len(t, fulfilOrderAs(t, s.vendorB, s.orderID).Fulfillments, 1)
	})

	t.Run("a subscriber of the order sees each fulfilment", func(t *testing.T) {
		s := newTwoVendorShop(t, e)
		sub := openTrack(t, e.Server.Server, protoTransportWS, s.customer.Bearer, trackQuery, trackVars(s.orderID, 2))
		require.Empty(t, fulfilCreate(t, s.vendorA, s.orderID, "A1", fline(s.lineA, 3)).UserErrors)
		ev := nextEvent(t, sub)
		require.Equal(t, 3, ev.Sequence)
		require.Equal(t, "PAID", ev.Status)
		require.Equal(t, "PAID", *ev.PreviousStatus)
		require.Equal(t, "fulfilment created", ev.Note)
		require.Empty(t, fulfilCreate(t, s.vendorB, s.orderID, "B1", fline(s.lineB, 2)).UserErrors)
		ev = nextEvent(t, sub)
		require.Equal(t, 4, ev.Sequence)
		require.Equal(t, "SHIPPED", ev.Status)
		require.Equal(t, "B1", *ev.Order.TrackingNumber)
		ev = nextEvent(t, sub)
		require.Equal(t, 5, ev.Sequence)
		require.Equal(t, "fulfilment created", ev.Note)
	})

	t.Run("racing requests never over-ship", func(t *testing.T) {
		s := newTwoVendorShop(t, e) // vendor A's line: 3 units
		const racers = 6
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
				var p fulfilPayload
				err := s.vendorA.TryPayload(fulfillmentCreateMutation, map[string]any{"input": map[string]any{
					"orderId": s.orderID, "lines": []map[string]any{fline(s.lineA, 1)}, "trackingNumber": "R",
				}}, "fulfillmentCreate", &p)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil:
					t.Errorf("request: %v", err)
				case len(p.UserErrors) == 0:
					ok++
				case p.UserErrors[0].Code == "OVER_FULFILLMENT":
					over++
				default:
					t.Errorf("unexpected userErrors: %+v", p.UserErrors)
				}
			}()
		}
		close(start)
		wg.Wait()
		require.Equal(t, 3, ok)
		require.Equal(t, racers-3, over)
		o := fulfilOrderAs(t, e.Admin, s.orderID)
		for _, l := range o.Lines {
			if l.ID == s.lineA {
				require.Equal(t, 3, l.FulfilledQuantity)
			}
		}
	})
}
