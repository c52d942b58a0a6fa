package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// statusJobs are the committed status-email jobs of an order, in insertion order.
func (b *bundle) statusJobs(t *testing.T, orderID int64) []jobs.SendOrderStatusEmailArgs {
	t.Helper()
	rows, err := b.d.Pool.Query(context.Background(),
		`SELECT args FROM river_job WHERE kind = 'email_order_status' AND (args->>'order_id')::bigint = $1 ORDER BY id`, orderID)
	require.NoError(t, err)
	defer rows.Close()
	var out []jobs.SendOrderStatusEmailArgs
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var a jobs.SendOrderStatusEmailArgs
		require.NoError(t, json.Unmarshal(raw, &a))
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func (b *bundle) workStatus(a jobs.SendOrderStatusEmailArgs) error {
	w := &notify.OrderStatusWorker{Notify: b.svc}
	return w.Work(context.Background(), &river.Job[jobs.SendOrderStatusEmailArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 17}, Args: a,
	})
}

func (b *bundle) orders(svc *notify.Service) *order.Service {
	o := order.NewService(b.d, nil, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	o.Notifier = svc
	return o
}

func TestOrderLifecycleEmailsAreEachSentOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Lines: []tf.LineOpts{{Quantity: 2, UnitPrice: 1000}}})
	orders := b.orders(b.svc)
	tracking := "1Z999AA10123456784"
	moves := []struct {
		to   order.Status
		opts order.TransitionOptions
	}{
		{order.Paid, order.TransitionOptions{}},
		{order.Shipped, order.TransitionOptions{TrackingNumber: &tracking}},
		{order.Delivered, order.TransitionOptions{}},
		{order.PartiallyRefunded, order.TransitionOptions{RefundedAmount: 500}},
		{order.PartiallyRefunded, order.TransitionOptions{RefundedAmount: 300}},
		{order.Refunded, order.TransitionOptions{RefundedAmount: 1200}},
	}
	for _, m := range moves {
		_, err := orders.Transition(ctx, order.SystemActor, o.ID, m.to, m.opts)
		require.NoError(t, err, m.to)
	}
	args := b.statusJobs(t, o.ID)
	require.Len(t, args, len(moves), "one job per move")
	for _, a := range args {
		require.NoError(t, b.workStatus(a))
		require.NoError(t, b.workStatus(a), "a retry sends nothing more")
	}
	msgs := b.smtp.Messages()
	require.Len(t, msgs, len(moves), "each move's email once, the two partial refunds included")
	want := []struct {
		status order.Status
		body   []string
	}{
		{order.Paid, []string{"received your payment", "$ 20.00"}},
		{order.Shipped, []string{"on its way", tracking}},
		{order.Delivered, []string{"delivered"}},
		{order.PartiallyRefunded, []string{"refunded", "$ 5.00", "$ 20.00"}},
		{order.PartiallyRefunded, []string{"refunded", "$ 3.00"}},
		{order.Refunded, []string{"refunded", "$ 12.00"}},
	}
	for i, m := range msgs {
		require.Equal(t, []string{customer.Email}, m.To)
		subject, parts, err := m.Parts()
		require.NoError(t, err)
		require.Equal(t, notify.OrderStatusSubject(o.ID, want[i].status), subject)
		for _, typ := range []string{"text/plain", "text/html"} {
			require.NotEmpty(t, parts[typ], typ)
			for _, s := range want[i].body {
				require.Contains(t, parts[typ], s, "%s email, %s", want[i].status, typ)
			}
		}
	}
	var sent int
	require.NoError(t, b.d.Pool.QueryRow(ctx,
		`SELECT count(*) FROM email_deliveries WHERE event_key LIKE 'order_status:' || $1::bigint || ':%' AND status = 'sent'`, o.ID).Scan(&sent))
	require.Equal(t, len(moves), sent)
}

func TestOrderCancelledEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Lines: []tf.LineOpts{{Quantity: 1, UnitPrice: 990}}})
	_, err := b.orders(b.svc).Transition(context.Background(), order.SystemActor, o.ID, order.Cancelled, order.TransitionOptions{})
	require.NoError(t, err)
	args := b.statusJobs(t, o.ID)
	require.Len(t, args, 1)
	require.NoError(t, b.workStatus(args[0]))
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	subject, parts, err := msgs[0].Parts()
	require.NoError(t, err)
	require.Equal(t, notify.OrderStatusSubject(o.ID, order.Cancelled), subject)
	require.Contains(t, parts["text/plain"], "cancelled")
	require.Contains(t, parts["text/html"], "cancelled")
}

func TestOrderStatusEmailJobOnlyWithCommittedMoveAndSMTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	newOrder := func() int64 {
		return tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Lines: []tf.LineOpts{{Quantity: 1, UnitPrice: 100}}}).ID
	}
	// Emails off (no SMTP_URL): no job.
	off := notify.NewService(b.d, b.queue, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	id := newOrder()
	_, err := b.orders(off).Transition(ctx, order.SystemActor, id, order.Paid, order.TransitionOptions{})
	require.NoError(t, err)
	require.Empty(t, b.statusJobs(t, id))
	// A rolled-back move owes no email.
	id = newOrder()
	orders := b.orders(b.svc)
	rollback := errors.New("roll back")
	err = b.d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if _, err := orders.TransitionTx(ctx, q, order.SystemActor, id, order.Paid, order.TransitionOptions{}); err != nil {
			return err
		}
		return rollback
	})
	require.ErrorIs(t, err, rollback)
	require.Empty(t, b.statusJobs(t, id))
}

// TestShippedEmailNamesEachFulfilment: an order shipped by its vendors' fulfilments emails its
// customer once, with each fulfilment's carrier and tracking link.
func TestShippedEmailNamesEachFulfilment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	seller := tf.NewUser(t, b.d, tf.UserOpts{Role: auth.RoleVendor})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Status: "PAID",
		Lines: []tf.LineOpts{{VendorID: &seller.VendorID, Quantity: 2}}})
	orders := b.orders(b.svc)
	url := "https://track.example.com/A1"
	for i, tracking := range []order.Tracking{{Carrier: "UPS", TrackingNumber: "A1", TrackingURL: &url}, {Carrier: "DHL", TrackingNumber: "B2"}} {
		_, err := orders.CreateFulfillment(ctx, seller.Viewer(), order.FulfillmentInput{OrderID: o.ID, Tracking: tracking,
			Lines: []order.FulfillmentLineInput{{OrderLineID: o.LineIDs[0], Quantity: 1}}})
		require.NoError(t, err, "fulfilment %d", i)
	}
	args := b.statusJobs(t, o.ID)
	require.Len(t, args, 1, "one email: the move to SHIPPED")
	require.NoError(t, b.workStatus(args[0]))
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	subject, parts, err := msgs[0].Parts()
	require.NoError(t, err)
	require.Equal(t, notify.OrderStatusSubject(o.ID, order.Shipped), subject)
	require.Contains(t, parts["text/plain"], "UPS: tracking number A1 (https://track.example.com/A1)")
	require.Contains(t, parts["text/plain"], "DHL: tracking number B2")
	require.Contains(t, parts["text/html"], `href="https://track.example.com/A1"`)
}
