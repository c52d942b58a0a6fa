package order_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/order"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// A cancellation gives each line's units back with a CANCELLATION movement naming the order
// and who cancelled (none for the system, e.g. an expired order), in the move's transaction.
func TestCancelWritesCancellationMovements(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := newPeople(t, b.d)

	type mv struct {
		Kind            string
		Delta, Quantity int
		ActorID         *int64
		OrderID         int64
	}
	movementsOf := func(orderID int64) map[int64]mv {
		rows, err := b.d.Pool.Query(ctx, `SELECT variant_id, kind::text, delta, quantity, actor_id, order_id FROM stock_movements WHERE order_id = $1`, orderID)
		require.NoError(t, err)
		defer rows.Close()
		out := map[int64]mv{}
		for rows.Next() {
			var id int64
			var m mv
			require.NoError(t, rows.Scan(&id, &m.Kind, &m.Delta, &m.Quantity, &m.ActorID, &m.OrderID))
			out[id] = m
		}
		require.NoError(t, rows.Err())
		return out
	}

	o := vendorOrder(t, b.d, p, "PENDING")
	variants := variantsOf(t, b.d, o.ID)
	before := []int{tf.Stock(t, b.d, variants[0]), tf.Stock(t, b.d, variants[1])}
	_, err := b.svc.Cancel(ctx, p.owner, o.ID)
	require.NoError(t, err)
	owner := p.owner.UserID
	require.Equal(t, map[int64]mv{
		variants[0]: {Kind: "CANCELLATION", Delta: 1, Quantity: before[0] + 1, ActorID: &owner, OrderID: o.ID},
		variants[1]: {Kind: "CANCELLATION", Delta: 2, Quantity: before[1] + 2, ActorID: &owner, OrderID: o.ID},
	}, movementsOf(o.ID))

	expired := vendorOrder(t, b.d, p, "PENDING")
	_, err = b.svc.Transition(ctx, order.SystemActor, expired.ID, order.Cancelled, order.TransitionOptions{Note: "expired"})
	require.NoError(t, err)
	for _, m := range movementsOf(expired.ID) {
		require.Equal(t, "CANCELLATION", m.Kind)
		require.Nil(t, m.ActorID, "the system")
	}
	require.Len(t, movementsOf(expired.ID), 2)
}
