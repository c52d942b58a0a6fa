package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
)

// TestOrderPlacedEmail: a checkout through the API sends its customer one confirmation email
// over SMTP, with both parts and the amounts formatted; a job run again sends nothing more;
// without SMTP_URL no email job is queued.
func TestOrderPlacedEmail(t *testing.T) {
	t.Parallel()

	t.Run("a checkout sends one confirmation", func(t *testing.T) {
		t.Parallel()
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
		msgs := srv.Messages()
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
		require.Len(t, srv.Messages(), 1)
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM email_deliveries WHERE status = 'sent'`))
	})

	t.Run("without SMTP_URL no email job is queued", func(t *testing.T) {
		t.Parallel()
		e := apitest.NewEnv(t, apitest.EnvOptions{})
		o := e.Order(t, apitest.OrderOptions{})
		require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'expire_order' AND (args->>'order_id')::bigint = $1`, o.ID),
			"the order's own job is there")
		require.Zero(t, e.Count(t, `SELECT count(*) FROM river_job WHERE kind = 'email_order_placed'`))
	})
}
