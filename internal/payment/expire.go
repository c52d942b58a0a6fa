package payment

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/order"
)

// ExpireWorker cancels orders still unpaid when their expiry job runs: the order first (which
// restores its stock, once, under the order's row lock), then the intent at the provider.
type ExpireWorker struct {
	river.WorkerDefaults[jobs.ExpireOrderArgs]
	Payments *Service
}

// Work implements river.Worker.
func (w *ExpireWorker) Work(ctx context.Context, job *river.Job[jobs.ExpireOrderArgs]) error {
	return w.Payments.Expire(ctx, job.Args.OrderID)
}

// Expire cancels order id if it is still PENDING. Running it twice, or on two instances at
// once, cancels once: the state machine refuses the second move.
func (s *Service) Expire(ctx context.Context, orderID int64) error {
	o, err := s.orders.Transition(ctx, order.SystemActor, orderID, order.Cancelled,
		order.TransitionOptions{Note: "expired unpaid", OnlyFrom: order.Pending})
	switch {
	case apperr.Is(err, apperr.InvalidTransition), apperr.Is(err, apperr.NotFound):
		return nil // paid, already cancelled, or gone: nothing to expire
	case err != nil:
		return fmt.Errorf("expire order %d: %w", orderID, err)
	}
	s.afterCancel(ctx, o)
	return nil
}

// RefundWorker gives back a payment received for a cancelled order. A refund the provider
// did not answer is left to its settlement job; one it refused fails the job, and river
// retries it with backoff. While an earlier refund awaits its answer (REFUND_PENDING) the job
// waits for it to be settled, snoozed rather than failed: waiting spends none of its attempts,
// which a long outage would otherwise exhaust, dropping the refund.
type RefundWorker struct {
	river.WorkerDefaults[jobs.RefundOrderArgs]
	Payments *Service
}

// refundWait is how long a refund job waits for an earlier refund's settlement.
const refundWait = time.Minute

// Work implements river.Worker.
func (w *RefundWorker) Work(ctx context.Context, job *river.Job[jobs.RefundOrderArgs]) error {
	_, err := w.Payments.refund(ctx, job.Args.OrderID, nil, job.Args.Reason)
	switch {
	case apperr.Is(err, apperr.RefundExceedsPayment):
		return nil // already refunded in full
	case IsUnavailable(err):
		return nil // recorded as PENDING: SettleRefundWorker asks the provider again
	case apperr.Is(err, apperr.RefundPending):
		return river.JobSnooze(refundWait)
	}
	return err
}

// SettleRefundWorker asks the provider again about a refund whose request got no answer, under
// the same idempotency key, until it answers. Its attempts (SettleRefundArgs) last weeks; should
// they run out, the refund stays PENDING with its amount reserved, blocking every later refund
// of the payment, so giving up is logged as an error for an admin to act on.
type SettleRefundWorker struct {
	river.WorkerDefaults[jobs.SettleRefundArgs]
	Payments *Service
}

// Work implements river.Worker.
func (w *SettleRefundWorker) Work(ctx context.Context, job *river.Job[jobs.SettleRefundArgs]) error {
	err := w.Payments.SettleRefund(ctx, job.Args.RefundID)
	if err != nil && job.Attempt >= job.MaxAttempts {
		w.Payments.log.ErrorContext(ctx, "refund settlement gave up: the refund stays PENDING and blocks further refunds of its payment until its job is retried",
			"refund_id", job.Args.RefundID, "job_id", job.ID, "attempts", job.Attempt, "err", err)
	}
	return err
}
