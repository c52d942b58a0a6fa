package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/notify"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type bundle struct {
	d      *postgres.DB
	queue  *jobs.Queue
	smtp   *smtptest.Server
	svc    *notify.Service
	worker *notify.OrderPlacedWorker
}

func setup(t *testing.T) *bundle {
	t.Helper()
	return setupOn(t, pgtest.New(t, postgres.Options{MaxConns: 2}))
}

func setupOn(t *testing.T, d *postgres.DB) *bundle {
	t.Helper()
	q := &jobs.Queue{} // insert-only: the tests run the worker themselves
	require.NoError(t, q.Start(context.Background(), d.Pool, nil, jobs.Options{}))
	srv := smtptest.New(t)
	mailer, err := notify.NewSMTP(srv.URL, "shopgraph <shop@shopgraph.local>")
	require.NoError(t, err)
	svc := notify.NewService(d, q, mailer, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &bundle{d: d, queue: q, smtp: srv, svc: svc, worker: &notify.OrderPlacedWorker{Notify: svc}}
}

func (b *bundle) work(orderID int64) error {
	return b.worker.Work(context.Background(), &river.Job[jobs.SendOrderPlacedEmailArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: 1, MaxAttempts: 17},
		Args:   jobs.SendOrderPlacedEmailArgs{OrderID: orderID},
	})
}

type delivery struct {
	Status    string
	Attempts  int
	LastError *string
}

func (b *bundle) delivery(t *testing.T, orderID int64) delivery {
	t.Helper()
	var d delivery
	require.NoError(t, b.d.Pool.QueryRow(context.Background(),
		`SELECT status, attempts, last_error FROM email_deliveries WHERE event_key = 'order_placed:' || $1::bigint`,
		orderID).Scan(&d.Status, &d.Attempts, &d.LastError))
	return d
}

func TestOrderPlacedEmailIsSentOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	customer := tf.NewUser(t, b.d, tf.UserOpts{})
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: customer.ID, Lines: []tf.LineOpts{
		{Quantity: 2, UnitPrice: 1000}, {Quantity: 1, UnitPrice: 250},
	}})

	require.NoError(t, b.work(o.ID))
	msgs := b.smtp.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, []string{customer.Email}, msgs[0].To)
	require.Equal(t, "shop@shopgraph.local", msgs[0].From)
	subject, parts, err := msgs[0].Parts()
	require.NoError(t, err)
	require.Equal(t, notify.OrderPlacedSubject(o.ID), subject)
	for _, typ := range []string{"text/plain", "text/html"} {
		body := parts[typ]
		require.NotEmpty(t, body, typ)
		require.Contains(t, body, "$ 22.50", "the total, %s", typ)
		require.Contains(t, body, "$ 20.00", "a line's total, %s", typ)
		require.Contains(t, body, "$ 2.50", "a unit price, %s", typ)
		require.Contains(t, body, "1 Main St", "the shipping address, %s", typ)
	}
	require.Equal(t, delivery{Status: "sent", Attempts: 1}, b.delivery(t, o.ID))

	// The job run again (a retry after a crash past the mark) sends nothing more.
	require.NoError(t, b.work(o.ID))
	require.Len(t, b.smtp.Messages(), 1)
	require.Equal(t, "sent", b.delivery(t, o.ID).Status)
}

func TestOrderPlacedEmailRefusedForGoodIsRecordedAndCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID})
	b.smtp.Refuse(550)

	err := b.work(o.ID)
	var cancel *river.JobCancelError
	require.ErrorAs(t, err, &cancel, "a permanent refusal cancels the job")
	d := b.delivery(t, o.ID)
	require.Equal(t, "failed", d.Status)
	require.NotNil(t, d.LastError)
	require.Contains(t, *d.LastError, "550")

	// Not tried again, even once the server would accept it.
	b.smtp.Refuse(0)
	require.NoError(t, b.work(o.ID))
	require.Empty(t, b.smtp.Messages())
	require.Equal(t, "failed", b.delivery(t, o.ID).Status)
}

func TestOrderPlacedEmailTransientFailureRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID})
	b.smtp.Refuse(451)

	err := b.work(o.ID)
	require.Error(t, err)
	var cancel *river.JobCancelError
	require.False(t, errors.As(err, &cancel), "a transient failure is retried: %v", err)
	d := b.delivery(t, o.ID)
	require.Equal(t, "pending", d.Status)
	require.NotNil(t, d.LastError)

	b.smtp.Refuse(0)
	require.NoError(t, b.work(o.ID))
	require.Len(t, b.smtp.Messages(), 1)
	d = b.delivery(t, o.ID)
	require.Equal(t, "sent", d.Status)
	require.Equal(t, 2, d.Attempts)
	require.Nil(t, d.LastError)
}

func TestOrderPlacedInsertsTheJobOnlyWhenEmailsAreOn(t *testing.T) {
	t.Parallel()
	b := setup(t)
	off := notify.NewService(b.d, b.queue, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.False(t, off.Enabled())
	require.True(t, b.svc.Enabled())
	ctx := context.Background()
	insert := func(svc *notify.Service, orderID int64, commit bool) {
		t.Helper()
		tx, err := b.d.Pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		require.NoError(t, svc.OrderPlaced(ctx, tx, orderID))
		if commit {
			require.NoError(t, tx.Commit(ctx))
		}
	}
	jobsOf := func(orderID int64) int {
		return tf.Count(t, b.d, "river_job", "kind = 'email_order_placed' AND (args->>'order_id')::bigint = $1", orderID)
	}
	insert(off, 1, true)
	require.Zero(t, jobsOf(1), "no SMTP_URL: no job")
	insert(b.svc, 2, false)
	require.Zero(t, jobsOf(2), "a rolled-back change owes no email")
	insert(b.svc, 3, true)
	require.Equal(t, 1, jobsOf(3))
}

func TestSMTPAuthenticatesAfterSTARTTLS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := notify.Message{To: "ada@example.com", Subject: "hello", Text: "plain", HTML: "<p>html</p>"}
	srv := smtptest.NewStartTLS(t, "mailer", "s3cret/pa$$")
	m, err := notify.NewSMTP(srv.URL, "shopgraph <shop@shopgraph.local>")
	require.NoError(t, err)
	m.TrustRoots(srv.RootCAs)
	require.NoError(t, m.Send(ctx, msg), "STARTTLS, then AUTH with the URL's credentials")
	require.Len(t, srv.Messages(), 1)

	wrong, err := notify.NewSMTP(strings.Replace(srv.URL, "mailer:", "mailer:x", 1), "shop@shopgraph.local")
	require.NoError(t, err)
	wrong.TrustRoots(srv.RootCAs)
	require.Error(t, wrong.Send(ctx, msg), "a wrong password is refused")

	untrusted, err := notify.NewSMTP(srv.URL, "shop@shopgraph.local")
	require.NoError(t, err)
	require.Error(t, untrusted.Send(ctx, msg), "a certificate the system does not trust is refused")

	// A server that offers no TLS never sees the password in the clear.
	plain := smtptest.NewWithAuth(t, "mailer", "s3cret/pa$$")
	cleartext, err := notify.NewSMTP(plain.URL, "shop@shopgraph.local")
	require.NoError(t, err)
	require.Error(t, cleartext.Send(ctx, msg))
	require.Empty(t, plain.Messages())
	require.Len(t, srv.Messages(), 1)
}

func TestNewSMTPRejectsBadURLs(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://mail.example.com", "smtp://", "smtp://host:port", "mail.example.com"} {
		_, err := notify.NewSMTP(u, "shop@shopgraph.local")
		require.Error(t, err, u)
	}
	for _, u := range []string{"smtp://mail.example.com", "smtps://user:pass@mail.example.com:465", "smtp://127.0.0.1:2525"} {
		_, err := notify.NewSMTP(u, "shop@shopgraph.local")
		require.NoError(t, err, u)
	}
}

// TestCommittedEmailJobIsWorkedAfterARestart: the job committed with the change outlives the
// process that wrote it (here an insert-only queue, as an instance that stopped before working
// it): a queue started later on the same database delivers the email, once.
func TestCommittedEmailJobIsWorkedAfterARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	d, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	b := setupOn(t, d)
	o := tf.NewOrder(t, b.d, tf.OrderOpts{UserID: tf.NewUser(t, b.d, tf.UserOpts{}).ID})
	tx, err := b.d.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, b.svc.OrderPlaced(ctx, tx, o.ID))
	require.NoError(t, tx.Commit(ctx))
	require.Empty(t, b.smtp.Messages(), "nothing works the jobs yet")

	// The restarted instance: a working queue on a pool of its own, as internal/app runs it.
	jobsDB, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(jobsDB.Close)
	workers := river.NewWorkers()
	river.AddWorker(workers, b.worker)
	restarted := &jobs.Queue{}
	require.NoError(t, restarted.Start(ctx, jobsDB.Pool, workers, jobs.Options{Work: true, MaxWorkers: 1, PollOnly: true,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	t.Cleanup(func() { _ = restarted.Stop(context.Background()) })

	require.Eventually(t, func() bool { return len(b.smtp.Messages()) == 1 }, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "sent", b.delivery(t, o.ID).Status)
}
