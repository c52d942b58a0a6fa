package order_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// An order change is published only once its transaction has committed: a change rolled back publishes nothing, and a transaction run
// again publishes once.
func TestTransitionPublishesAfterCommit(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	ctx := context.Background()
	rec := &recorder{}
	orders := order.NewService(d, rec, rec, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var orderID int64
	require.NoError(t, d.Pool.QueryRow(ctx, `
		WITH u AS (INSERT INTO users (email, password_hash) VALUES ('after-commit@example.com', 'x') RETURNING id),
		o AS (INSERT INTO orders (user_id, currency, total_amount, shipping_address)
		      SELECT id, 'USD', 100, '{}' FROM u RETURNING id),
		e AS (INSERT INTO order_events (order_id, sequence, status, note) SELECT id, 1, 'PENDING', 'placed' FROM o)
		SELECT id FROM o`).Scan(&orderID))
	status := func() string {
		var s string
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT status FROM orders WHERE id = $1`, orderID).Scan(&s))
		return s
	}

	probe := errors.New("probe")
	err := d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		o, err := orders.TransitionTx(ctx, q, order.SystemActor, orderID, order.Cancelled, order.TransitionOptions{Note: "rolled back"})
		require.NoError(t, err)
		require.Equal(t, order.Cancelled, o.Status)
		return probe // something later in the transaction fails
	})
	require.ErrorIs(t, err, probe)
	require.Equal(t, "PENDING", status())
	require.Empty(t, rec.published, "a rolled-back change publishes nothing")

	attempts := 0
	err = d.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		attempts++
		if _, err := orders.TransitionTx(ctx, q, order.SystemActor, orderID, order.Cancelled, order.TransitionOptions{Note: "committed"}); err != nil {
			return err
		}
		if attempts == 1 {
			_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = '40001'; END $$`)
			return err
		}
		require.Empty(t, rec.published, "nothing is published before the commit")
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 2, attempts)
	require.Equal(t, "CANCELLED", status())
	require.Len(t, rec.published, 1, "published once, after the commit")
	require.Equal(t, "CANCELLED", rec.published[0].Status)
	require.Equal(t, 2, rec.published[0].Sequence)
}
