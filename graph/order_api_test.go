package graph_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// TestOrderBOLA: an order is visible to its owner, admins, and vendors with a line in it (their
// lines only); to anyone else it does not exist, through every field and mutation.
func TestOrderBOLA(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	vendor1, vendor1ID := e.Vendor(t)
	vendor2, vendor2ID := e.Vendor(t)
	own1 := e.Product(t, apitest.ProductOptions{Name: "Vendor One Vase", VendorID: &vendor1ID, Variants: []catalog.VariantInput{{Name: "Tall", Price: 1000, Stock: 10}}})[0]
	own2 := e.Product(t, apitest.ProductOptions{Name: "Vendor Two Bowl", VendorID: &vendor2ID, Variants: []catalog.VariantInput{{Name: "Deep", Price: 700, Stock: 10}}})[0]
	house := e.Product(t, apitest.ProductOptions{Name: "House Candle", Variants: []catalog.VariantInput{{Name: "Small", Price: 300, Stock: 10}}})[0]

	alice, _ := e.Customer(t)
	bob, _ := e.Customer(t)
	mustAdd(t, alice, own1.GID, 2)
	mustAdd(t, alice, house.GID, 1)
	aliceOrder := placeOrder(t, alice)
	require.Equal(t, moneyJSON{2300, "USD"}, aliceOrder.Total)
	bobOrder := buy(t, bob, own2, 1)

	lineOf := func(o orderView, v apitest.Variant) orderLineView {
		for _, l := range o.Lines {
			if l.VariantID == v.GID {
				return l
			}
		}
		t.Fatalf("no line of %s in %+v", v.GID, o.Lines)
		return orderLineView{}
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		o := orderAs(t, alice, aliceOrder.ID)
		require.NotNil(t, o)
		require.Equal(t, "PENDING", o.Status)
		require.Len(t, o.Events, 1)
		require.Equal(t, 8, e.Stock(t, own1))
	}

	t.Run("the owner and admins see the whole order through order and node", func(t *testing.T) {
		for _, c := range []*apitest.Client{alice, e.Admin} {
			o := orderAs(t, c, aliceOrder.ID)
			require.NotNil(t, o)
			require.Equal(t, aliceOrder, *o)
			require.Equal(t, aliceOrder, *nodeOrderAs(t, c, aliceOrder.ID))
		}
	})

	t.Run("another customer gets null from order and node", func(t *testing.T) {
		require.Nil(t, orderAs(t, bob, aliceOrder.ID))
		require.Nil(t, nodeOrderAs(t, bob, aliceOrder.ID))
		require.NotNil(t, orderAs(t, bob, bobOrder.ID), "but sees their own")
	})

	t.Run("another customer's orderCancel is NOT_FOUND and changes nothing", func(t *testing.T) {
		p := cancelOrder(t, bob, aliceOrder.ID)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))
		unchanged(t)
	})

	t.Run("another customer's orders list leaves it out", func(t *testing.T) {
		require.Equal(t, []string{bobOrder.ID}, walkOrders(t, bob, 10, nil))
		require.Equal(t, 1, listOrders(t, bob, 10, "", nil).TotalCount)
		require.Equal(t, []string{bobOrder.ID}, walkOrders(t, bob, 10, map[string]any{"status": "PENDING"}))
		// A cursor taken from Alice's list does not widen Bob's.
		aliceFirst := listOrders(t, alice, 1, "", nil)
		require.NotNil(t, aliceFirst.PageInfo.EndCursor)
		after := listOrders(t, bob, 10, *aliceFirst.PageInfo.EndCursor, nil)
		require.NotContains(t, after.ids(), aliceOrder.ID)
	})

	t.Run("customers cannot use orderStatusUpdate, not even on their own order", func(t *testing.T) {
		for _, c := range []*apitest.Client{bob, alice} {
			resp := c.Do(orderStatusMutation, map[string]any{"input": map[string]any{"id": aliceOrder.ID, "status": "PAID"}})
			requireTopLevelCode(t, resp, "FORBIDDEN")
		}
		unchanged(t)
	})

	t.Run("a vendor sees orders holding its products, with only its lines and their total", func(t *testing.T) {
		o := orderAs(t, vendor1, aliceOrder.ID)
		require.NotNil(t, o)
		require.Equal(t, []orderLineView{lineOf(aliceOrder, own1)}, o.Lines)
		require.Equal(t, moneyJSON{2000, "USD"}, o.Total, "a vendor's total is its own lines'")
		require.Equal(t, aliceOrder.Status, o.Status)
		node := nodeOrderAs(t, vendor1, aliceOrder.ID)
		require.NotNil(t, node)
		require.Equal(t, o.Lines, node.Lines)
		require.Equal(t, o.Total, node.Total)
		require.Equal(t, []string{aliceOrder.ID}, walkOrders(t, vendor1, 10, nil))
		require.Equal(t, 1, listOrders(t, vendor1, 10, "", nil).TotalCount)

		require.Nil(t, orderAs(t, vendor2, aliceOrder.ID), "a vendor without a line in it")
		require.Nil(t, nodeOrderAs(t, vendor2, aliceOrder.ID))
		require.Equal(t, []string{bobOrder.ID}, walkOrders(t, vendor2, 10, nil))
		theirs := orderAs(t, vendor2, bobOrder.ID)
		require.NotNil(t, theirs)
		require.Equal(t, bobOrder.Lines, theirs.Lines)
	})

	t.Run("vendors cannot cancel a customer's order", func(t *testing.T) {
		p := cancelOrder(t, vendor1, aliceOrder.ID)
		require.Len(t, p.UserErrors, 1)
		require.Contains(t, []string{"NOT_FOUND", "FORBIDDEN"}, p.UserErrors[0].Code)
		p = cancelOrder(t, vendor2, aliceOrder.ID)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))
		unchanged(t)
	})

	t.Run("the payment mutations do not reveal another customer's order either", func(t *testing.T) {
		const retry = `mutation R($input: OrderPaymentRetryInput!) { orderPaymentRetry(input: $input) { order { id } payment { intentId } ` + commerceErrorFields + ` } }`
		for _, c := range []*apitest.Client{bob, vendor1, vendor2} {
			var out struct {
				P struct {
					Order      *struct{ ID string }       `json:"order"`
					Payment    *struct{ IntentID string } `json:"payment"`
					UserErrors []commerceError            `json:"userErrors"`
				} `json:"orderPaymentRetry"`
			}
			c.Do(retry, map[string]any{"input": map[string]any{"id": aliceOrder.ID}}).Decode(t, &out)
			require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(out.P.UserErrors))
			require.Nil(t, out.P.Order)
			require.Nil(t, out.P.Payment)
		}
		const refund = `mutation F($input: OrderRefundInput!) { orderRefund(input: $input) { order { id } ` + commerceErrorFields + ` } }`
		for _, c := range []*apitest.Client{bob, alice, vendor1} {
			requireTopLevelCode(t, c.Do(refund, map[string]any{"input": map[string]any{"id": aliceOrder.ID}}), "FORBIDDEN")
		}
		unchanged(t)
	})

	t.Run("anonymous callers get nothing", func(t *testing.T) {
		anon := e.Server.Client(t)
		requireTopLevelCode(t, anon.Do(orderQuery, map[string]any{"id": aliceOrder.ID}), "UNAUTHENTICATED")
		requireTopLevelCode(t, anon.Do(ordersQuery, map[string]any{"first": 10}), "UNAUTHENTICATED")
		requireTopLevelCode(t, anon.Do(orderCancelMutation, map[string]any{"input": map[string]any{"id": aliceOrder.ID}}), "UNAUTHENTICATED")
		require.Nil(t, nodeOrderAs(t, anon, aliceOrder.ID))
		unchanged(t)
	})

	t.Run("unknown, malformed and other types' ids are null", func(t *testing.T) {
		for _, id := range []string{apitest.GlobalID("Order", 1<<40), "garbage", own1.ProductGID, apitest.GlobalID("User", 1), ""} {
			require.Nil(t, orderAs(t, alice, id), id)
			require.Nil(t, orderAs(t, e.Admin, id), id)
		}
		p := cancelOrder(t, alice, apitest.GlobalID("Order", 1<<40))
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))
		p = cancelOrder(t, alice, own1.ProductGID)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))
	})
}

// TestOrderList: newest first, keyset pages that visit every order exactly once, filters, and
// scoping to the caller.
func TestOrderList(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	v := e.Variant(t, 1000, 100)
	alice, _ := e.Customer(t)
	bob, _ := e.Customer(t)
	var created []orderView // Alice's, oldest first
	for range 7 {
		created = append(created, buy(t, alice, v, 1))
	}
	var bobs []string
	for range 2 {
		bobs = append(bobs, buy(t, bob, v, 1).ID)
	}
	newestFirst := func(os []orderView) []string {
		ids := make([]string, len(os))
		for i, o := range os {
			ids[len(os)-1-i] = o.ID
		}
		return ids
	}
	pick := func(idx ...int) []orderView {
		out := make([]orderView, len(idx))
		for i, k := range idx {
			out[i] = created[k]
		}
		return out
	}

	t.Run("pages walk every order exactly once, newest first", func(t *testing.T) {
		want := newestFirst(created)
		for _, size := range []int{1, 2, 3, 7, 100} {
			require.Equal(t, want, walkOrders(t, alice, size, nil), "page size %d", size)
		}
		first := listOrders(t, alice, 3, "", nil)
		require.Equal(t, 7, first.TotalCount)
		require.True(t, first.PageInfo.HasNextPage)
		require.False(t, first.PageInfo.HasPreviousPage)
		require.Equal(t, first.ids(), func() []string {
			ids := make([]string, len(first.Nodes))
			for i, n := range first.Nodes {
				ids[i] = n.ID
			}
			return ids
		}(), "nodes and edges agree")
		second := listOrders(t, alice, 3, *first.PageInfo.EndCursor, nil)
		require.True(t, second.PageInfo.HasPreviousPage)
		require.Equal(t, 7, second.TotalCount)
		for i := 1; i < len(first.Edges); i++ {
			require.False(t, first.Edges[i].Node.CreatedAt.After(first.Edges[i-1].Node.CreatedAt))
		}
	})

	t.Run("createdAfter and createdBefore bound the list", func(t *testing.T) {
		at := func(i int) string { return created[i].CreatedAt.Format(time.RFC3339Nano) }
		require.Equal(t, newestFirst(pick(3, 4, 5, 6)), walkOrders(t, alice, 2, map[string]any{"createdAfter": at(3)}), "createdAfter is inclusive")
		require.Equal(t, newestFirst(pick(0, 1, 2)), walkOrders(t, alice, 2, map[string]any{"createdBefore": at(3)}), "createdBefore is exclusive")
		require.Equal(t, newestFirst(pick(2, 3, 4)), walkOrders(t, alice, 2, map[string]any{"createdAfter": at(2), "createdBefore": at(5)}))
		require.Equal(t, 3, listOrders(t, alice, 2, "", map[string]any{"createdAfter": at(2), "createdBefore": at(5)}).TotalCount)
		require.Empty(t, walkOrders(t, alice, 2, map[string]any{"createdAfter": time.Now().Add(time.Hour).Format(time.RFC3339)}))
	})

	t.Run("an admin sees every customer's orders", func(t *testing.T) {
		all := walkOrders(t, e.Admin, 4, nil)
		require.Len(t, all, 9)
		require.Equal(t, append(slices.Clone(bobs[1:]), bobs[0]), []string{all[0], all[1]}, "Bob ordered last")
		require.Equal(t, newestFirst(created), all[2:])
		require.Equal(t, 9, listOrders(t, e.Admin, 4, "", nil).TotalCount)
	})

	t.Run("bad page arguments are BAD_USER_INPUT", func(t *testing.T) {
		for _, vars := range []map[string]any{{"first": 0}, {"first": 101}, {"first": -1}, {"first": 5, "after": "garbage"}, {"first": 5, "after": apitest.EncodeID(`["x", 1]`)}} {
			requireTopLevelCode(t, alice.Do(ordersQuery, vars), "BAD_USER_INPUT")
		}
	})

	// Last: it changes statuses.
	t.Run("the status filter", func(t *testing.T) {
		for _, i := range []int{1, 4} {
			require.Empty(t, cancelOrder(t, alice, created[i].ID).UserErrors)
		}
		require.Empty(t, setStatus(t, e.Admin, created[6].ID, "PAID", "").UserErrors)
		require.Equal(t, newestFirst(pick(1, 4)), walkOrders(t, alice, 1, map[string]any{"status": "CANCELLED"}))
		require.Equal(t, newestFirst(pick(0, 2, 3, 5)), walkOrders(t, alice, 3, map[string]any{"status": "PENDING"}))
		require.Equal(t, newestFirst(pick(6)), walkOrders(t, alice, 3, map[string]any{"status": "PAID"}))
		require.Equal(t, 2, listOrders(t, alice, 1, "", map[string]any{"status": "CANCELLED"}).TotalCount)
		require.Empty(t, walkOrders(t, bob, 3, map[string]any{"status": "CANCELLED"}))
		require.Len(t, walkOrders(t, e.Admin, 3, map[string]any{"status": "PENDING"}), 6)
	})
}

// TestOrderStateMachine drives orders through every move the API allows, and some it refuses.
func TestOrderStateMachine(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	adminGID := apitest.GlobalID("User", e.AdminID)

	t.Run("the owner cancels a PENDING order once and its stock comes back once", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, id := e.Customer(t)
		o := buy(t, c, v, 3)
		require.Equal(t, 7, e.Stock(t, v))

		p := cancelOrder(t, c, o.ID)
		require.Empty(t, p.UserErrors)
		require.Equal(t, "CANCELLED", p.Order.Status)
		require.Len(t, p.Order.Events, 2)
		ev := p.Order.Events[1]
		require.Equal(t, 2, ev.Sequence)
		require.Equal(t, "CANCELLED", ev.Status)
		require.Equal(t, ptrTo("PENDING"), ev.PreviousStatus)
		require.Equal(t, ptrTo(apitest.GlobalID("User", id)), ev.ActorID)
		require.Equal(t, 10, e.Stock(t, v))

		p = cancelOrder(t, c, o.ID)
		require.Len(t, p.UserErrors, 1)
		require.Equal(t, "INVALID_TRANSITION", p.UserErrors[0].Code)
		require.Equal(t, 10, e.Stock(t, v), "stock is restored once")
		again := orderAs(t, c, o.ID)
		require.Equal(t, "CANCELLED", again.Status)
		require.Len(t, again.Events, 2)
		require.Equal(t, o.Lines, again.Lines, "cancelling never edits lines")
		require.Equal(t, o.Total, again.Total)
	})

	t.Run("the owner cannot cancel a PAID order; an admin can, and stock comes back", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, _ := e.Customer(t)
		o := buy(t, c, v, 2)
		p := setStatus(t, e.Admin, o.ID, "PAID", "")
		require.Empty(t, p.UserErrors)
		require.Equal(t, "PAID", p.Order.Status)

		p = cancelOrder(t, c, o.ID)
		require.Len(t, p.UserErrors, 1)
		require.Contains(t, []string{"FORBIDDEN", "INVALID_TRANSITION"}, p.UserErrors[0].Code)
		require.Equal(t, "PAID", orderAs(t, c, o.ID).Status)
		require.Equal(t, 8, e.Stock(t, v))

		p = cancelOrder(t, e.Admin, o.ID)
		require.Empty(t, p.UserErrors)
		require.Equal(t, "CANCELLED", p.Order.Status)
		require.Equal(t, 10, e.Stock(t, v))
		require.Equal(t, []string{"PENDING", "PAID", "CANCELLED"}, eventStatuses(p.Order.Events))
	})

	t.Run("PAID to SHIPPED needs a tracking number, then DELIVERED; later moves are refused", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, id := e.Customer(t)
		o := buy(t, c, v, 1)
		require.Empty(t, setStatus(t, e.Admin, o.ID, "PAID", "").UserErrors)

		p := setStatus(t, e.Admin, o.ID, "SHIPPED", "")
		require.Equal(t, []string{"INVALID:input.trackingNumber"}, errorCodesOf(p.UserErrors))
		p = setStatus(t, e.Admin, o.ID, "SHIPPED", "   ")
		require.Equal(t, []string{"INVALID:input.trackingNumber"}, errorCodesOf(p.UserErrors))
		cur := orderAs(t, c, o.ID)
		require.Equal(t, "PAID", cur.Status)
		require.Nil(t, cur.TrackingNumber)
		require.Len(t, cur.Events, 2)

		var out struct {
			P orderPayloadView `json:"orderStatusUpdate"`
		}
		e.Admin.Do(orderStatusMutation, map[string]any{"input": map[string]any{
			"id": o.ID, "status": "SHIPPED", "trackingNumber": "1Z999AA10123456784", "note": "handed to UPS",
		}}).Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Equal(t, "SHIPPED", out.P.Order.Status)
		require.Equal(t, ptrTo("1Z999AA10123456784"), out.P.Order.TrackingNumber)

		p = setStatus(t, e.Admin, o.ID, "DELIVERED", "")
		require.Empty(t, p.UserErrors)
		require.Equal(t, "DELIVERED", p.Order.Status)
		require.Equal(t, ptrTo("1Z999AA10123456784"), p.Order.TrackingNumber, "the tracking number stays")
		delivered := *p.Order

		for _, to := range []string{"PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"} {
			p = setStatus(t, e.Admin, o.ID, to, "TRACK-2")
			require.Len(t, p.UserErrors, 1, "DELIVERED → %s", to)
			require.Equal(t, "INVALID_TRANSITION", p.UserErrors[0].Code, "DELIVERED → %s", to)
		}
		p = cancelOrder(t, e.Admin, o.ID)
		require.Equal(t, "INVALID_TRANSITION", p.UserErrors[0].Code)
		p = cancelOrder(t, c, o.ID)
		require.Len(t, p.UserErrors, 1)
		require.Contains(t, []string{"FORBIDDEN", "INVALID_TRANSITION"}, p.UserErrors[0].Code)

		final := orderAs(t, c, o.ID)
		require.Equal(t, delivered, *final, "refused moves change nothing")
		require.Equal(t, 9, e.Stock(t, v))
		// SHIPPED fulfilled the order's line and DELIVERED delivered that fulfilment: each is an
		// event of its own after the move (issue 16); the moves are the STATUS_CHANGED ones.
		require.Equal(t, []string{"STATUS_CHANGED", "STATUS_CHANGED", "STATUS_CHANGED", "FULFILLMENT_CREATED", "STATUS_CHANGED", "FULFILLMENT_DELIVERED"},
			eventKinds(final.Events))
		moves := statusMoves(final.Events)
		require.Equal(t, []string{"PENDING", "PAID", "SHIPPED", "DELIVERED"}, eventStatuses(moves))
		prev := []*string{nil, ptrTo("PENDING"), ptrTo("PAID"), ptrTo("SHIPPED")}
		actors := []*string{ptrTo(apitest.GlobalID("User", id)), &adminGID, &adminGID, &adminGID}
		for i, ev := range final.Events {
			require.Equal(t, i+1, ev.Sequence)
			if i > 0 {
				require.False(t, ev.At.Before(final.Events[i-1].At), "events are in time order")
			}
		}
		for i, ev := range moves {
			require.Equal(t, prev[i], ev.PreviousStatus, "move %d", i+1)
			require.Equal(t, actors[i], ev.ActorID, "move %d", i+1)
		}
		require.Equal(t, "handed to UPS", moves[2].Note)
		require.True(t, final.UpdatedAt.After(final.CreatedAt))
	})

	t.Run("illegal moves are INVALID_TRANSITION and change nothing", func(t *testing.T) {
		v := e.Variant(t, 1000, 10)
		c, _ := e.Customer(t)
		pending := buy(t, c, v, 1)
		for _, to := range []string{"PENDING", "SHIPPED", "DELIVERED", "REFUNDED", "PARTIALLY_REFUNDED"} {
			p := setStatus(t, e.Admin, pending.ID, to, "TRACK-1")
			require.Len(t, p.UserErrors, 1, "PENDING → %s", to)
			require.Equal(t, "INVALID_TRANSITION", p.UserErrors[0].Code, "PENDING → %s", to)
		}
		require.Equal(t, pending, *orderAs(t, c, pending.ID))

		cancelled := buy(t, c, v, 1)
		require.Empty(t, cancelOrder(t, c, cancelled.ID).UserErrors)
		stock := e.Stock(t, v)
		for _, to := range []string{"PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"} {
			p := setStatus(t, e.Admin, cancelled.ID, to, "TRACK-1")
			require.Len(t, p.UserErrors, 1, "CANCELLED → %s", to)
			require.Equal(t, "INVALID_TRANSITION", p.UserErrors[0].Code, "CANCELLED → %s", to)
		}
		got := orderAs(t, c, cancelled.ID)
		require.Equal(t, "CANCELLED", got.Status)
		require.Len(t, got.Events, 2)
		require.Equal(t, stock, e.Stock(t, v), "a cancelled order never takes or gives stock again")
	})

	t.Run("an unknown order is NOT_FOUND for admins too", func(t *testing.T) {
		p := setStatus(t, e.Admin, apitest.GlobalID("Order", 1<<40), "PAID", "")
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))
		p = cancelOrder(t, e.Admin, apitest.GlobalID("Order", 1<<40))
		require.Equal(t, []string{"NOT_FOUND:input.id"}, errorCodesOf(p.UserErrors))
	})
}

// statusMoves are the status changes among evs (not fulfilments' events).
func statusMoves(evs []orderEventView) []orderEventView {
	var out []orderEventView
	for _, ev := range evs {
		if ev.Kind == "STATUS_CHANGED" {
			out = append(out, ev)
		}
	}
	return out
}

func eventKinds(evs []orderEventView) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Kind
	}
	return out
}

func eventStatuses(evs []orderEventView) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Status
	}
	return out
}

// TestOrderConcurrentTransitions: racing moves of one order are serialised; exactly one wins,
// one event is appended, and stock comes back at most once.
func TestOrderConcurrentTransitions(t *testing.T) {
	t.Parallel()
	const racers, rounds = 10, 3

	type result struct {
		kind string // "cancel", "ship", "pay", "owner-cancel"
		ok   bool
		code string
		err  error
	}
	// race runs the moves at once against order id and returns what each got.
	race := func(e *apitest.Env, owner *apitest.Client, id string, kinds []string) []result {
		out := make([]result, len(kinds))
		together(len(kinds), func(i int) {
			var (
				p     orderPayloadView
				err   error
				input = map[string]any{"id": id}
			)
			switch kinds[i] {
			case "cancel":
				err = e.Admin.TryPayload(orderCancelMutation, map[string]any{"input": input}, "orderCancel", &p)
			case "owner-cancel":
				err = owner.TryPayload(orderCancelMutation, map[string]any{"input": input}, "orderCancel", &p)
			case "ship":
				input["status"], input["trackingNumber"] = "SHIPPED", "TRACK-"+uuid.NewString()[:8]
				err = e.Admin.TryPayload(orderStatusMutation, map[string]any{"input": input}, "orderStatusUpdate", &p)
			case "pay":
				input["status"] = "PAID"
				err = e.Admin.TryPayload(orderStatusMutation, map[string]any{"input": input}, "orderStatusUpdate", &p)
			}
			out[i] = result{kind: kinds[i], ok: err == nil && len(p.UserErrors) == 0 && p.Order != nil, err: err}
			if len(p.UserErrors) > 0 {
				out[i].code = p.UserErrors[0].Code
			}
		})
		return out
	}
	winner := func(t *testing.T, results []result, losers ...string) result {
		t.Helper()
		var won []result
		for _, r := range results {
			require.NoError(t, r.err)
			if r.ok {
				won = append(won, r)
				continue
			}
			require.Contains(t, losers, r.code, "a loser of kind %s", r.kind)
		}
		require.Len(t, won, 1, "exactly one move wins: %+v", results)
		return won[0]
	}

	t.Run("ten admins cancelling one PAID order", func(t *testing.T) {
		e := newShopEnv(t)
		v := e.Variant(t, 1000, 100)
		c, _ := e.Customer(t)
		for round := range rounds {
			o := buy(t, c, v, 4)
			require.Empty(t, setStatus(t, e.Admin, o.ID, "PAID", "").UserErrors)
			before := e.Stock(t, v)
			kinds := slices.Repeat([]string{"cancel"}, racers)
			winner(t, race(e, c, o.ID, kinds), "INVALID_TRANSITION")
			got := orderAs(t, e.Admin, o.ID)
			require.Equal(t, "CANCELLED", got.Status, "round %d", round)
			require.Equal(t, []string{"PENDING", "PAID", "CANCELLED"}, eventStatuses(got.Events), "one new event")
			require.Equal(t, before+4, e.Stock(t, v), "stock restored exactly once")
		}
		require.Equal(t, 100, e.Stock(t, v))
	})

	t.Run("cancel racing ship", func(t *testing.T) {
		e := newShopEnv(t)
		v := e.Variant(t, 1000, 100)
		c, _ := e.Customer(t)
		for round := range rounds {
			o := buy(t, c, v, 2)
			require.Empty(t, setStatus(t, e.Admin, o.ID, "PAID", "").UserErrors)
			before := e.Stock(t, v)
			kinds := make([]string, racers)
			for i := range kinds {
				kinds[i] = []string{"cancel", "ship"}[i%2]
			}
			w := winner(t, race(e, c, o.ID, kinds), "INVALID_TRANSITION")
			got := orderAs(t, e.Admin, o.ID)
			// A ship also fulfils the order's line: that fulfilment is an event of its own.
			require.Len(t, statusMoves(got.Events), 3, "round %d: one new move", round)
			if w.kind == "cancel" {
				require.Equal(t, "CANCELLED", got.Status)
				require.Nil(t, got.TrackingNumber)
				require.Equal(t, before+2, e.Stock(t, v))
			} else {
				require.Equal(t, "SHIPPED", got.Status)
				require.NotNil(t, got.TrackingNumber)
				require.Equal(t, before, e.Stock(t, v))
			}
		}
	})

	t.Run("the owner cancelling while an admin marks it PAID", func(t *testing.T) {
		e := newShopEnv(t)
		v := e.Variant(t, 1000, 100)
		c, _ := e.Customer(t)
		for round := range rounds {
			o := buy(t, c, v, 3)
			before := e.Stock(t, v)
			kinds := make([]string, racers)
			for i := range kinds {
				kinds[i] = []string{"owner-cancel", "pay"}[i%2]
			}
			w := winner(t, race(e, c, o.ID, kinds), "INVALID_TRANSITION", "FORBIDDEN")
			got := orderAs(t, e.Admin, o.ID)
			require.Len(t, got.Events, 2, "round %d: one new event", round)
			if w.kind == "owner-cancel" {
				require.Equal(t, "CANCELLED", got.Status)
				require.Equal(t, before+3, e.Stock(t, v))
			} else {
				require.Equal(t, "PAID", got.Status)
				require.Equal(t, before, e.Stock(t, v))
			}
		}
	})
}

// TestOrderListPaymentStatements: orders { payment } reads every payment of the page in one
// statement (a loader), not one per order.
func TestOrderListPaymentStatements(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	v := e.Variant(t, 1000, 100)
	alice, _ := e.Customer(t)
	for range 6 {
		buy(t, alice, v, 1)
	}
	const q = `query O($n: Int) { orders(first: $n) { nodes { id payment { intentId status amount { amount } } } } }`
	statements := func(t *testing.T, c *apitest.Client, n int) int64 {
		t.Helper()
		var out struct {
			Orders struct {
				Nodes []struct {
					ID      string `json:"id"`
					Payment *struct {
						IntentID string `json:"intentId"`
						Status   string `json:"status"`
					} `json:"payment"`
				} `json:"nodes"`
			} `json:"orders"`
		}
		resp := c.As(t).Do(q, map[string]any{"n": n})
		resp.Decode(t, &out)
		require.Len(t, out.Orders.Nodes, n)
		for _, o := range out.Orders.Nodes {
			require.NotNil(t, o.Payment, o.ID)
			require.NotEmpty(t, o.Payment.IntentID, o.ID)
		}
		return resp.SQLStatements(t)
	}
	for name, c := range map[string]*apitest.Client{"the customer": alice, "an admin": e.Admin} {
		t.Run(name+": the same statements for 1 order as for 6", func(t *testing.T) {
			one, six := statements(t, c, 1), statements(t, c, 6)
			t.Logf("statements: %d for 1 order, %d for 6", one, six)
			require.Equal(t, one, six)
			require.LessOrEqual(t, six, int64(2), "the page, then its payments")
		})
	}
}
