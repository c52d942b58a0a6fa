package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

// crashWorkerEnv makes TestEmailWorkerProcess, in a child process, run an instance that works
// the job queue until it is killed.
const crashWorkerEnv = "SHOPGRAPH_TEST_CRASH_WORKER"

// TestEmailWorkerProcess is not a test: run by TestOrderEmailSurvivesWorkerCrash as a child
// process (the test binary run again), it opens the app from the environment and works its
// jobs until it is killed. Run on its own, it returns at once.
func TestEmailWorkerProcess(t *testing.T) {
	if os.Getenv(crashWorkerEnv) == "" {
		return
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if _, err := app.Open(context.Background(), cfg, log, app.Options{Work: true, PollOnly: true}); err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	select {} // until SIGKILL
}

// TestOrderEmailSurvivesWorkerCrash: the worker process is killed (SIGKILL) while it sends an
// order's confirmation, after the order's commit and before the mail server accepted the
// email; a fresh instance sends it, and the customer gets it exactly once.
func TestOrderEmailSurvivesWorkerCrash(t *testing.T) {
	if os.Getenv(crashWorkerEnv) != "" {
		t.Skip("in the crash worker process")
	}
	t.Parallel()
	ctx := context.Background()
	srv := smtptest.New(t)
	stalled, release := srv.Stall()
	t.Cleanup(release)
	vars := map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     pgtest.NewURL(t),
		"REDIS_KEY_PREFIX": "sgtest:" + uuid.NewString() + ":",
		"LOG_LEVEL":        "warn",
		"STRIPE_API_BASE":  apitest.StripeURL(),
		"DB_MAX_CONNS":     "4",
		"SMTP_URL":         srv.URL,
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	logs := &apitest.LockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The order and its email job are committed by an instance that does not work jobs.
	placer, err := app.Open(ctx, cfg, log, app.Options{Migrate: true, PollOnly: true})
	require.NoError(t, err)
	customer := tf.NewUser(t, placer.DB, tf.UserOpts{})
	o := tf.NewOrder(t, placer.DB, tf.OrderOpts{UserID: customer.ID})
	tx, err := placer.DB.Pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, placer.Notify.OrderPlaced(ctx, tx, o.ID))
	require.NoError(t, tx.Commit(ctx))
	placer.Close()

	// A worker process takes the job and starts sending; the mail server holds the message.
	var childOut bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^TestEmailWorkerProcess$", "-test.count=1")
	child.Env = append(os.Environ(), crashWorkerEnv+"=1")
	for k, v := range vars {
		child.Env = append(child.Env, k+"="+v)
	}
	child.Stdout, child.Stderr = &childOut, &childOut
	require.NoError(t, child.Start())
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = child.Process.Kill()
			_ = child.Wait()
		}
		if t.Failed() {
			t.Logf("worker process output:\n%s\nserver log:\n%s", childOut.String(), logs.String())
		}
	})
	select {
	case <-stalled:
	case <-time.After(90 * time.Second):
		t.Fatal("the worker process never started sending")
	}

	// Killed mid-send: no goodbye, the job left running, the delivery claimed but not sent.
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()
	killed = true
	release() // the held send is refused (its sender is gone); the server accepts from now on

	fresh, err := app.Open(ctx, cfg, log, app.Options{Work: true, PollOnly: true, RescueJobsAfter: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(fresh.Close)
	q := func(query string, args ...any) (n int) {
		require.NoError(t, fresh.DB.Pool.QueryRow(ctx, query, args...).Scan(&n))
		return n
	}
	require.Equal(t, 1, q(`SELECT count(*) FROM email_deliveries WHERE status = 'pending' AND attempts = 1`), "claimed, not sent")
	require.Equal(t, 1, q(`SELECT count(*) FROM river_job WHERE kind = 'email_order_placed' AND state = 'running'`), "left running by the dead worker")

	// Eventually polls from a goroutine of its own: no require in there.
	require.Eventually(t, func() bool { return len(srv.Messages()) > 0 }, 2*time.Minute, 100*time.Millisecond,
		"the fresh instance rescues the job and sends the email")
	require.Eventually(t, func() bool {
		var n int
		err := fresh.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'email_order_placed' AND state = 'completed'`).Scan(&n)
		return err == nil && n == 1
	}, 30*time.Second, 50*time.Millisecond)
	msgs := srv.Messages()
	require.Len(t, msgs, 1, "exactly once")
	require.Equal(t, []string{customer.Email}, msgs[0].To)
	require.Equal(t, 1, q(`SELECT count(*) FROM email_deliveries WHERE status = 'sent' AND attempts = 2`))
}
