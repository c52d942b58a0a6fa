package graph_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment/paymenttest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
)

// TestOrderPlacedEmail: a checkout through the API sends its customer one confirmation email
// over SMTP, with both parts and the amounts formatted; a job run again sends nothing more;
// without SMTP_URL no email job is queued.
func TestOrderPlacedEmail(t *testing.T) {
	t.Parallel()

	t.Run("a checkout sends one confirmation", func(t *testing.T) {
		srv := smtptest.New(t)
		e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL}})
		o := e.Order(t, apitest.OrderOptions{Price: 500, Quantity: 2})
		var email string
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = $1`, o.ID).Scan(&email))

		// Eventually polls from a goroutine of its own: no require in there.
		sent := func() bool {
			var n int
			err := e.Server.App.DB.Pool.QueryRow(context.Background(),
				`SELECT count(*) FROM river_job WHERE kind = 'email_order_placed' AND state = 'completed'`).Scan(&n)
			return err == nil && n == 1
		}
		require.Eventually(t, sent, 30*time.Second, 50*time.Millisecond, "the email job completes")
		// The account emails (the vendor's registration) are not order emails.
		msgs := withoutAccountEmails(t, srv.Messages())
		require.Len(t, msgs, 1)
		require.Equal(t, []string{email}, msgs[0].To)
		subject, parts, err := msgs[0].Parts()
		require.NoError(t, err)
		require.Equal(t, notify.OrderPlacedSubject(o.ID), subject)
		for _, typ := range []string{"text/plain", "text/html"} {
			require.Contains(t, parts[typ], "$ 10.00", "the total in the %s part", typ)
			require.Contains(t, parts[typ], "$ 5.00", "the unit price in the %s part", typ)
			require.Contains(t, parts[typ], "Analytical Row", "the shipping address in the %s part", typ)
		}

		// The job run again (as a retry would) sends nothing more.
		w := &notify.OrderPlacedWorker{Notify: e.Server.App.Notify}
		require.NoError(t, w.Work(context.Background(), &river.Job[jobs.SendOrderPlacedEmailArgs]{
			JobRow: &rivertype.JobRow{ID: 1, Attempt: 2, MaxAttempts: 17},
			Args:   jobs.SendOrderPlacedEmailArgs{OrderID: o.ID},
		}))
		require.Len(t, withoutAccountEmails(t, srv.Messages()), 1)
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM email_deliveries WHERE status = 'sent' AND event_key NOT LIKE 'account:%'`))
	})

	t.Run("without SMTP_URL no email job is queued", func(t *testing.T) {
		e := apitest.NewEnv(t, apitest.EnvOptions{})
		o := e.Order(t, apitest.OrderOptions{})
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'expire_order' AND (args->>'order_id')::bigint = $1`, o.ID),
			"the order's own job is there")
		require.Zero(t, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'email_order_placed'`))
	})
}

// TestOrderLifecycleEmails: an order paid, then cancelled (and so refunded), or refunded in
// two parts then in full, emails its customer once per move, in the moves' order, after the
// confirmation; the jobs run again send nothing more.
func TestOrderLifecycleEmails(t *testing.T) {
	t.Parallel()
	srv := smtptest.New(t)
	fake := paymenttest.New()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"SMTP_URL": srv.URL}, Gateway: fake})
	ctx := context.Background()
	sentTo := func(email string) int {
		n := 0
		for _, m := range srv.Messages() {
			if len(m.To) == 1 && m.To[0] == email {
				n++
			}
		}
		return n
	}

	// emailsOf waits for order id's n email jobs to complete and returns its messages, each as
	// "subject | the refunded amount or -", in the order of the moves.
	emailsOf := func(t *testing.T, o apitest.Order, want []string) {
		t.Helper()
		// Eventually polls from a goroutine of its own: no require in there.
		done := func() bool {
			var n int
			err := e.Server.App.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job
				WHERE kind IN ('email_order_placed', 'email_order_status') AND state = 'completed'
				AND (args->>'order_id')::bigint = $1`, o.ID).Scan(&n)
			return err == nil && n == len(want)
		}
		require.Eventually(t, done, 30*time.Second, 50*time.Millisecond, "the email jobs complete")
		// The status jobs, in the order of their moves.
		rows, err := e.Server.App.DB.Pool.Query(ctx, `SELECT args FROM river_job WHERE kind = 'email_order_status'
			AND (args->>'order_id')::bigint = $1 ORDER BY (args->>'sequence')::int`, o.ID)
		require.NoError(t, err)
		var moves []jobs.SendOrderStatusEmailArgs
		for rows.Next() {
			var a jobs.SendOrderStatusEmailArgs
			require.NoError(t, rows.Scan(&a))
			moves = append(moves, a)
		}
		require.NoError(t, rows.Err())
		bySubject := map[string][]string{} // subject → text parts
		var email string
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(ctx,
			`SELECT u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = $1`, o.ID).Scan(&email))
		for _, m := range srv.Messages() {
			subject, parts, err := m.Parts()
			require.NoError(t, err)
			if !strings.Contains(subject, fmt.Sprintf("#%d", o.ID)) {
				continue
			}
			require.Equal(t, []string{email}, m.To)
			bySubject[subject] = append(bySubject[subject], parts["text/plain"])
		}
		got := []string{notify.OrderPlacedSubject(o.ID) + " | -"}
		require.Len(t, bySubject[notify.OrderPlacedSubject(o.ID)], 1)
		for _, a := range moves {
			subject := notify.OrderStatusSubject(o.ID, order.Status(a.Status))
			amount := "-"
			if a.RefundedAmount > 0 {
				amount = notify.FormatMoney(money.Money{Amount: a.RefundedAmount, Currency: "USD"})
			}
			got = append(got, subject+" | "+amount)
			found := 0
			for _, text := range bySubject[subject] {
				if amount == "-" || strings.Contains(text, amount) {
					found++
				}
			}
			require.Equal(t, 1, found, "one email for %s | %s", subject, amount)
		}
		require.Equal(t, want, got)
		require.Equal(t, len(want), sentTo(email), "each email exactly once")

		// The jobs run again (as retries would) send nothing more.
		w := &notify.OrderStatusWorker{Notify: e.Server.App.Notify}
		for _, a := range moves {
			require.NoError(t, w.Work(ctx, &river.Job[jobs.SendOrderStatusEmailArgs]{
				JobRow: &rivertype.JobRow{ID: 1, Attempt: 2, MaxAttempts: 17}, Args: a}))
		}
		require.Equal(t, len(want), sentTo(email))
	}

	t.Run("paid then cancelled", func(t *testing.T) {
		o := e.Order(t, apitest.OrderOptions{Price: 1500, Quantity: 2})
		apitest.PayWithFake(t, e, fake, o)
		r := payMutation(t, e.Admin, payCancelMutation, "orderCancel", map[string]any{"id": o.GID})
		require.Empty(t, r.UserErrors)
		require.Equal(t, "REFUNDED", r.Order.Status)
		emailsOf(t, o, []string{
			notify.OrderPlacedSubject(o.ID) + " | -",
			notify.OrderStatusSubject(o.ID, order.Paid) + " | -",
			notify.OrderStatusSubject(o.ID, order.Cancelled) + " | -",
			notify.OrderStatusSubject(o.ID, order.Refunded) + " | $ 30.00",
		})
	})

	t.Run("paid then refunded in parts", func(t *testing.T) {
		o := e.Order(t, apitest.OrderOptions{Price: 2000, Quantity: 1})
		apitest.PayWithFake(t, e, fake, o)
		require.Empty(t, payRefund(t, e.Admin, o.GID, int64p(500)).UserErrors)
		require.Empty(t, payRefund(t, e.Admin, o.GID, int64p(700)).UserErrors)
		require.Empty(t, payRefund(t, e.Admin, o.GID, nil).UserErrors)
		emailsOf(t, o, []string{
			notify.OrderPlacedSubject(o.ID) + " | -",
			notify.OrderStatusSubject(o.ID, order.Paid) + " | -",
			notify.OrderStatusSubject(o.ID, order.PartiallyRefunded) + " | $ 5.00",
			notify.OrderStatusSubject(o.ID, order.PartiallyRefunded) + " | $ 7.00",
			notify.OrderStatusSubject(o.ID, order.Refunded) + " | $ 8.00",
		})
	})
}
