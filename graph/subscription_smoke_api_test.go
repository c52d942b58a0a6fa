package graph_test

import (
	"testing"

	"github.com/99designs/gqlgen/client"
	"github.com/stretchr/testify/require"
)

func TestSubscriptionSmoke(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	c, _ := e.Customer(t)
	v := e.Variant(t, 1000, 5)
	o := buy(t, c, v, 1)

	gql := client.New(e.Server.Config.Handler, client.Path("/graphql"))
	sub := gql.WebsocketWithPayload(`subscription S($id: ID!) { orderStatusChanged(orderId: $id, after: 0) { sequence status order { status } } }`,
		map[string]any{"Authorization": "Bearer " + c.Bearer}, client.Var("id", o.ID))
	defer sub.Close()
	var msg struct {
		OrderStatusChanged struct {
			Sequence int
			Status   string
			Order    struct{ Status string }
		}
	}
	require.NoError(t, sub.Next(&msg))
	require.Equal(t, 1, msg.OrderStatusChanged.Sequence)
	require.Equal(t, "PENDING", msg.OrderStatusChanged.Status)

	resp := e.Admin.Do(`mutation M($id: ID!) { orderStatusUpdate(input: {id: $id, status: PAID}) { userErrors { code } } }`, map[string]any{"id": o.ID})
	require.Empty(t, resp.Errors)
	require.NoError(t, sub.Next(&msg))
	require.Equal(t, 2, msg.OrderStatusChanged.Sequence)
	require.Equal(t, "PAID", msg.OrderStatusChanged.Status)
	require.Equal(t, "PAID", msg.OrderStatusChanged.Order.Status)
}
