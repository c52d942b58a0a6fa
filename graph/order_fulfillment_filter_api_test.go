package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

type orderPage struct {
	Orders struct {
		Nodes []struct {
			ID string `json:"id"`
		} `json:"nodes"`
		PageInfo struct {
			HasNextPage bool    `json:"hasNextPage"`
			EndCursor   *string `json:"endCursor"`
		} `json:"pageInfo"`
		TotalCount int `json:"totalCount"`
	} `json:"orders"`
}

func ordersFulfilled(t *testing.T, c *apitest.Client, status string, first int, after *string) orderPage {
	t.Helper()
	var out orderPage
	c.As(t).Do(`query($first: Int, $after: String, $filter: OrderFilter) { orders(first: $first, after: $after, filter: $filter) {
	  nodes { id } pageInfo { hasNextPage endCursor } totalCount } }`,
		map[string]any{"first": first, "after": after, "filter": map[string]any{"fulfillmentStatus": status}}).Decode(t, &out)
	return out
}

func orderIDs(p orderPage) []string {
	ids := []string{}
	for _, n := range p.Orders.Nodes {
		ids = append(ids, n.ID)
	}
	return ids
}

// orders(filter: {fulfillmentStatus}) keeps the orders so fulfilled: of the vendor's own lines
// for a vendor's member, of the whole order for admins; pages stay keyset pages.
func TestOrdersFilterByFulfillmentStatus(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})

	// An order of two vendors, A's lines shipped: FULFILLED for A, UNFULFILLED for B,
	// PARTIALLY_FULFILLED for the admin.
	s := newTwoVendorShop(t, e)
	require.Empty(t, fulfilCreate(t, s.vendorA, s.orderID, "A1", fline(s.lineA, 3)).UserErrors)
	require.Equal(t, []string{s.orderID}, orderIDs(ordersFulfilled(t, s.vendorA, "FULFILLED", 10, nil)))
	require.Empty(t, orderIDs(ordersFulfilled(t, s.vendorA, "UNFULFILLED", 10, nil)))
	require.Equal(t, []string{s.orderID}, orderIDs(ordersFulfilled(t, s.vendorB, "UNFULFILLED", 10, nil)))
	require.Empty(t, orderIDs(ordersFulfilled(t, s.vendorB, "FULFILLED", 10, nil)))
	require.Contains(t, orderIDs(ordersFulfilled(t, e.Admin, "PARTIALLY_FULFILLED", 100, nil)), s.orderID)
	require.NotContains(t, orderIDs(ordersFulfilled(t, e.Admin, "FULFILLED", 100, nil)), s.orderID)
	require.NotContains(t, orderIDs(ordersFulfilled(t, e.Admin, "UNFULFILLED", 100, nil)), s.orderID)

	// Four paid orders of one vendor, the first and third shipped in full, one unit of the
	// fourth: pages of one, newest first, through the cursor.
	vc, vid := e.Vendor(t)
	variant := e.Product(t, apitest.ProductOptions{VendorID: &vid, Variants: []catalog.VariantInput{{Name: "V", Price: 700, Stock: 100}}})[0]
	customer, _ := e.Customer(t)
	var placed []string
	for i := range 4 {
		mustAdd(t, customer, variant.GID, 2)
		o := placeOrder(t, customer)
		require.Empty(t, setStatus(t, e.Admin, o.ID, "PAID", "").UserErrors)
		line := fulfilOrderAs(t, e.Admin, o.ID).Lines[0].ID
		switch i {
		case 0, 2:
			require.Empty(t, fulfilCreate(t, vc, o.ID, "T", fline(line, 2)).UserErrors)
		case 3:
			require.Empty(t, fulfilCreate(t, vc, o.ID, "T", fline(line, 1)).UserErrors)
		}
		placed = append(placed, o.ID)
	}
	first := ordersFulfilled(t, vc, "FULFILLED", 1, nil)
	require.Equal(t, []string{placed[2]}, orderIDs(first))
	require.True(t, first.Orders.PageInfo.HasNextPage)
	require.Equal(t, 2, first.Orders.TotalCount)
	second := ordersFulfilled(t, vc, "FULFILLED", 1, first.Orders.PageInfo.EndCursor)
	require.Equal(t, []string{placed[0]}, orderIDs(second))
	require.False(t, second.Orders.PageInfo.HasNextPage)
	require.Equal(t, []string{placed[1]}, orderIDs(ordersFulfilled(t, vc, "UNFULFILLED", 10, nil)))
	require.Equal(t, []string{placed[3]}, orderIDs(ordersFulfilled(t, vc, "PARTIALLY_FULFILLED", 10, nil)))
	require.Equal(t, []string{placed[1]}, orderIDs(ordersFulfilled(t, customer, "UNFULFILLED", 10, nil)), "a customer's own orders too")
}
