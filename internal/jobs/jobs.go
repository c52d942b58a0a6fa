// Package jobs is shopgraph's durable background job queue (riverqueue/river on PostgreSQL):
// jobs that must never be lost, such as expiring an unpaid order, are inserted in the same
// transaction as the change that needs them, survive restarts, and run once across instances.
package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// ExpireOrderArgs asks to cancel order OrderID if it is still unpaid when the job runs.
type ExpireOrderArgs struct {
	OrderID int64 `json:"order_id"`
}

// Kind names the job in the queue table.
func (ExpireOrderArgs) Kind() string { return "expire_order" }

// InsertOpts: an order's expiry is inserted once, in the transaction that creates the order
// (a replay creates nothing), so it needs no uniqueness check.
func (ExpireOrderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10}
}

// PurgeGuestCartsArgs asks to delete the guest carts left unchanged for long (GUEST_CART_TTL).
// It runs periodically (GuestCartPurge), on one instance at a time: River's leader schedules
// periodic jobs.
type PurgeGuestCartsArgs struct{}

// Kind names the job in the queue table.
func (PurgeGuestCartsArgs) Kind() string { return "purge_guest_carts" }

// GuestCartPurge is the periodic job that purges guest carts: hourly, and at start.
func GuestCartPurge() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PurgeGuestCartsArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// RefundOrderArgs asks to refund everything received for order OrderID that was not refunded
// yet (a payment that succeeded after the order was cancelled). River retries it with backoff
// while the provider is unreachable.
type RefundOrderArgs struct {
	OrderID int64  `json:"order_id"`
	Reason  string `json:"reason"`
}

// Kind names the job in the queue table.
func (RefundOrderArgs) Kind() string { return "refund_order" }

// InsertOpts keeps the refund job unique per order while it is pending.
func (RefundOrderArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: 25}
}

// SettleRefundArgs asks the provider again, with the same idempotency key, for a refund whose
// first request got no answer (RefundID stays PENDING, its amount reserved, until it does).
type SettleRefundArgs struct {
	RefundID int64 `json:"refund_id"`
}

// Kind names the job in the queue table.
func (SettleRefundArgs) Kind() string { return "settle_refund" }

// SettleRefundAttempts bounds the settlement job: River's backoff (attempt⁴ seconds, ±10%)
// spends its retries within about 19 hours, inside the 24 hours for which Stripe keeps an
// idempotency key. Asked again later under the same key, Stripe would no longer recognise
// it and could make the refund a second time; a refund still unsettled then is left PENDING
// for an admin, with an ERROR line (payment.SettleRefundWorker).
const SettleRefundAttempts = 13

// InsertOpts keeps one settlement job per refund.
func (SettleRefundArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: SettleRefundAttempts}
}

// SendOrderPlacedEmailArgs asks to send order OrderID's confirmation email to its customer
// (internal/notify). It is inserted in the checkout's transaction, so a committed order's email
// is never lost and a rolled-back one sends nothing; the email_deliveries row makes a retried
// job send it at most once after it was marked sent.
type SendOrderPlacedEmailArgs struct {
	OrderID int64 `json:"order_id"`
}

// Kind names the job in the queue table.
func (SendOrderPlacedEmailArgs) Kind() string { return "email_order_placed" }

// InsertOpts: inserted once with its order, like the expiry; River's backoff (attempt⁴
// seconds) spreads its attempts over about three days while the mail server is unreachable.
// Emails have a queue of their own (QueueEmail): a storm of them, waiting for their turn under
// the mail rate limit, never holds up order expiry or refunds.
func (SendOrderPlacedEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 17, Queue: QueueEmail}
}

// QueueEmail is the queue of the email jobs, worked by Options.EmailWorkers workers.
const QueueEmail = "email"

// SendOrderStatusEmailArgs asks to send the customer's email about one move of order OrderID
// (internal/notify): the move with event sequence Sequence, to Status. It is inserted in the
// move's transaction (order.Service.TransitionTx); the email_deliveries row, keyed by order and
// sequence, sends each move's email at most once after it was marked sent.
type SendOrderStatusEmailArgs struct {
	OrderID        int64  `json:"order_id"`
	Sequence       int    `json:"sequence"`
	Status         string `json:"status"`
	RefundedAmount int64  `json:"refunded_amount,omitempty"`
}

// Kind names the job in the queue table.
func (SendOrderStatusEmailArgs) Kind() string { return "email_order_status" }

// InsertOpts: as SendOrderPlacedEmailArgs.
func (SendOrderStatusEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 17, Queue: QueueEmail}
}

// QueueWebhooks is the queue of outbound webhook deliveries: workers of their own
// (Options.WebhookWorkers, 50 by default), so that slow receivers never hold up expiry,
// refunds or emails.
const QueueWebhooks = "webhooks"

// DeliverWebhookArgs asks to POST webhook delivery DeliveryID (internal/webhook) to its
// subscription's URL. It is inserted in the transaction of the change the event tells of
// (InsertManyTx, one per matching subscription), or by a manual redelivery or a test event.
// Its worker sets the retry schedule (webhook.Backoff) and the attempts (webhook.MaxAttempts).
type DeliverWebhookArgs struct {
	DeliveryID int64 `json:"delivery_id"`
	// Manual marks a redelivery or a test: one attempt, no retries.
	Manual bool `json:"manual,omitempty"`
}

// Kind names the job in the queue table.
func (DeliverWebhookArgs) Kind() string { return "webhook_deliver" }

// InsertOpts puts deliveries on their own queue.
func (DeliverWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWebhooks}
}

// InsertManyTx inserts jobs in tx, all in one statement (River's InsertManyTx): the jobs an
// event owes commit with the change, or not at all.
func (q *Queue) InsertManyTx(ctx context.Context, tx pgx.Tx, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	if q.client == nil {
		return errors.New("jobs: queue not started")
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert %d jobs: %w", len(params), err)
	}
	return nil
}

// ApplyInventoryImportArgs asks to apply inventory import ImportID (internal/inventory): all of
// its rows in one transaction, or none. It is inserted in the upload's transaction, with the
// import and its rows; the import's status, committed with the stock it set, makes a job run
// again apply nothing twice.
type ApplyInventoryImportArgs struct {
	ImportID int64 `json:"import_id"`
}

// Kind names the job in the queue table.
func (ApplyInventoryImportArgs) Kind() string { return "apply_inventory_import" }

// InventoryImportAttempts bounds the apply job: a transient failure (the database restarting)
// is retried; after the last attempt the import is marked FAILED.
const InventoryImportAttempts = 5

// InsertOpts: inserted once with its import.
func (ApplyInventoryImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: InventoryImportAttempts}
}

// ScheduleInventoryImport inserts, in tx, the job that applies inventory import importID,
// committed with the import.
func (q *Queue) ScheduleInventoryImport(ctx context.Context, tx pgx.Tx, importID int64) error {
	_, err := q.insertTx(ctx, tx, ApplyInventoryImportArgs{ImportID: importID}, nil, "inventory import")
	return err
}

// Migrate creates or upgrades river's tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	return nil
}

// Queue inserts jobs, and, once started, works them. It is created before the services that
// enqueue (they get it at construction) and bound to a river client after the workers are
// registered.
type Queue struct {
	client *river.Client[pgx.Tx]
}

// Client is the queue's River client, for River's own admin UI (internal/app mounts it);
// nil before Start.
func (q *Queue) Client() *river.Client[pgx.Tx] { return q.client }

// Options configure the queue.
type Options struct {
	// Work starts workers; false makes an insert-only client (commands, some tests).
	Work       bool
	MaxWorkers int
	// EmailWorkers work QueueEmail (0: DefaultEmailWorkers).
	EmailWorkers int
	Log          *slog.Logger
	// PollOnly polls for new jobs instead of also listening for them, which holds a
	// connection of its own outside the pool: the test suite runs dozens of servers at once.
	PollOnly bool
	// Periodic are the jobs inserted on a schedule, when working.
	Periodic []*river.PeriodicJob
	// WebhookWorkers work the webhook deliveries (QueueWebhooks) at once; 0: 50. River
	// fetches a queue's jobs at most every 100 ms (its FetchCooldown), as many as it has idle
	// workers: short deliveries top out near 10 × workers a second (bench/webhooks).
	WebhookWorkers int
	// RescueAfter is how long a job may stay running before it is taken for the work of a
	// process that died (SIGKILL, a lost machine) and run again; the job timeout is cut to it
	// when longer. 0: DefaultRescueAfter. Tests shorten it.
	RescueAfter time.Duration
}

// DefaultRescueAfter is how long a job may stay running before River takes it for the work
// of a dead process and runs it again. River's own default is an hour: an order email whose
// worker was killed mid-send would go out an hour late. Every job here times out within a
// minute except the inventory import's apply (inventory.ImportWorker.Timeout, 10 minutes),
// and a rescue must come after the job's own timeout, or a live job would be run twice.
const DefaultRescueAfter = 15 * time.Minute

// DefaultEmailWorkers is how many email jobs an instance works at once: a send is one SMTP
// connection, mostly waiting on the network or on its turn under the mail rate limit.
const DefaultEmailWorkers = 10

// Start builds the river client with workers and, when opts.Work, starts working.
func (q *Queue) Start(ctx context.Context, pool *pgxpool.Pool, workers *river.Workers, opts Options) error {
	rescueAfter := cmp.Or(opts.RescueAfter, DefaultRescueAfter)
	cfg := &river.Config{
		Logger: opts.Log, PollOnly: opts.PollOnly,
		JobTimeout: min(time.Minute, rescueAfter), RescueStuckJobsAfter: rescueAfter,
	}
	if opts.Work {
		cfg.Workers = workers
		webhookWorkers := opts.WebhookWorkers
		if webhookWorkers <= 0 {
			webhookWorkers = 50
		}
		emailWorkers := opts.EmailWorkers
		if emailWorkers <= 0 {
			emailWorkers = DefaultEmailWorkers
		}
		cfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: max(1, opts.MaxWorkers)},
			QueueWebhooks:      {MaxWorkers: webhookWorkers},
			QueueEmail:         {MaxWorkers: emailWorkers},
		}
		cfg.FetchPollInterval = 200 * time.Millisecond
		cfg.PeriodicJobs = opts.Periodic
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	q.client = c
	if opts.Work {
		if err := c.Start(ctx); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
	}
	return nil
}

// Stop stops working, waiting for running jobs up to ctx's deadline.
func (q *Queue) Stop(ctx context.Context) error {
	if q.client == nil {
		return nil
	}
	err := q.client.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return q.client.StopAndCancel(context.Background())
	}
	return err
}

// ScheduleExpiry inserts, in tx, the job that cancels order orderID at `at` if it is still
// unpaid then: committed with the order, it can neither be lost nor outlive a rolled-back one.
func (q *Queue) ScheduleExpiry(ctx context.Context, tx pgx.Tx, orderID int64, at time.Time) error {
	_, err := q.insertTx(ctx, tx, ExpireOrderArgs{OrderID: orderID}, &river.InsertOpts{ScheduledAt: at}, "order expiry")
	return err
}

// ScheduleOrderPlacedEmail inserts, in tx, the job that sends order orderID's confirmation
// email, committed with the order.
func (q *Queue) ScheduleOrderPlacedEmail(ctx context.Context, tx pgx.Tx, orderID int64) error {
	_, err := q.insertTx(ctx, tx, SendOrderPlacedEmailArgs{OrderID: orderID}, nil, "order placed email")
	return err
}

// ScheduleOrderStatusEmail inserts, in tx, the job that sends the email of an order's move,
// committed with the move.
func (q *Queue) ScheduleOrderStatusEmail(ctx context.Context, tx pgx.Tx, a SendOrderStatusEmailArgs) error {
	_, err := q.insertTx(ctx, tx, a, nil, "order status email")
	return err
}

// ScheduleRefundSettlement inserts, in tx, the job that settles refund id, first at `at`, and
// returns the job's id (for SettleSoon).
func (q *Queue) ScheduleRefundSettlement(ctx context.Context, tx pgx.Tx, refundID int64, at time.Time) (int64, error) {
	return q.insertTx(ctx, tx, SettleRefundArgs{RefundID: refundID}, &river.InsertOpts{ScheduledAt: at}, "refund settlement")
}

// SettleSoon makes a scheduled settlement job run now rather than at its time.
func (q *Queue) SettleSoon(ctx context.Context, jobID int64) error {
	if q.client == nil {
		return errors.New("jobs: queue not started")
	}
	if _, err := q.client.JobRetry(ctx, jobID); err != nil {
		return fmt.Errorf("bring refund settlement forward: %w", err)
	}
	return nil
}

// ScheduleRefund inserts, in tx, the job that refunds an order, first at `at` (zero: now).
func (q *Queue) ScheduleRefund(ctx context.Context, tx pgx.Tx, orderID int64, reason string, at time.Time) error {
	_, err := q.insertTx(ctx, tx, RefundOrderArgs{OrderID: orderID, Reason: reason}, &river.InsertOpts{ScheduledAt: at}, "refund")
	return err
}

// insertTx inserts a job in tx and returns its id (that of the job already there, for a unique
// job inserted twice).
func (q *Queue) insertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts, what string) (int64, error) {
	if q.client == nil {
		return 0, errors.New("jobs: queue not started")
	}
	res, err := q.client.InsertTx(ctx, tx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("schedule %s: %w", what, err)
	}
	return res.Job.ID, nil
}
