package payment

import (
	"context"
	"fmt"

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
// retries it with backoff, as it does while an earlier refund awaits its answer
// (REFUND_PENDING).
type RefundWorker struct {
	river.WorkerDefaults[jobs.RefundOrderArgs]
	Payments *Service
}

// Work implements river.Worker.
func (w *RefundWorker) Work(ctx context.Context, job *river.Job[jobs.RefundOrderArgs]) error {
	_, err := w.Payments.refund(ctx, job.Args.OrderID, nil, job.Args.Reason)
	switch {
	case apperr.Is(err, apperr.RefundExceedsPayment):
		return nil // already refunded in full
	case IsUnavailable(err):
		return nil // recorded as PENDING: SettleRefundWorker asks the provider again
	}
	return err
}

// SettleRefundWorker asks the provider again about a refund whose request got no answer, under
// the same idempotency key, until it answers.
type SettleRefundWorker struct {
	river.WorkerDefaults[jobs.SettleRefundArgs]
	Payments *Service
}

// Work implements river.Worker.
func (w *SettleRefundWorker) Work(ctx context.Context, job *river.Job[jobs.SettleRefundArgs]) error {
	return w.Payments.SettleRefund(ctx, job.Args.RefundID)
}
