package order_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// TestAtEvent: the followers of one event share one read of the order (one statement for 200
// of them), each still checked as Get checks it; the next event reads afresh.
func TestAtEvent(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 4, Tracer: &postgres.StatementCounter{}})
	svc := order.NewService(d, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p := newPeople(t, d)
	o := vendorOrder(t, d, p, "PENDING")
	var counts postgres.Counts
	ctx := postgres.WithCounter(context.Background(), &counts)
	placed := order.Event{OrderID: o.ID, Sequence: 1, Status: order.Pending}

	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			got, err := svc.AtEvent(ctx, p.owner, placed)
			if assert.NoError(t, err) {
				assert.Equal(t, order.Pending, got.Status)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(1), counts.Statements.Load(), "one read for every follower")

	_, err := svc.AtEvent(ctx, p.other, placed)
	require.True(t, apperr.Is(err, apperr.NotFound), "another customer, the row already read: %v", err)
	_, err = svc.AtEvent(ctx, p.otherVendor, placed)
	require.True(t, apperr.Is(err, apperr.NotFound), "a vendor without a line: %v", err)
	got, err := svc.AtEvent(ctx, p.vendor, placed)
	require.NoError(t, err)
	require.Equal(t, o.ID, got.ID)

	_, err = svc.StatusUpdate(context.Background(), p.admin, o.ID, order.Paid, nil, "")
	require.NoError(t, err)
	got, err = svc.AtEvent(ctx, p.owner, order.Event{OrderID: o.ID, Sequence: 2, Status: order.Paid})
	require.NoError(t, err)
	require.Equal(t, order.Paid, got.Status, "the next event reads the order afresh")

	_, err = svc.AtEvent(ctx, p.admin, order.Event{OrderID: o.ID + 1000, Sequence: 1})
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}
