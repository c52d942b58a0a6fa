package notify

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/order"
)

// OrderPlacedWorker sends an order's confirmation email. A permanent failure cancels the job
// (recorded in email_deliveries); a transient one fails it, and River retries with backoff; a
// send whose turn under the rate limit is far off snoozes it.
type OrderPlacedWorker struct {
	river.WorkerDefaults[jobs.SendOrderPlacedEmailArgs]
	Notify *Service
}

// Work implements river.Worker.
func (w *OrderPlacedWorker) Work(ctx context.Context, job *river.Job[jobs.SendOrderPlacedEmailArgs]) error {
	_, err := w.Notify.SendOrderPlaced(ctx, job.Args.OrderID)
	if snooze := snoozed(err); snooze != nil {
		return snooze
	}
	if errors.Is(err, ErrPermanent) {
		w.Notify.log.WarnContext(ctx, "order email refused for good", "order_id", job.Args.OrderID, "err", err)
		return river.JobCancel(err)
	}
	return err
}

// OrderStatusWorker sends the email of an order's move; failures as OrderPlacedWorker's.
type OrderStatusWorker struct {
	river.WorkerDefaults[jobs.SendOrderStatusEmailArgs]
	Notify *Service
}

// Work implements river.Worker.
func (w *OrderStatusWorker) Work(ctx context.Context, job *river.Job[jobs.SendOrderStatusEmailArgs]) error {
	a := job.Args
	_, err := w.Notify.SendOrderStatus(ctx, order.StatusChange{OrderID: a.OrderID, Sequence: a.Sequence,
		Status: order.Status(a.Status), RefundedAmount: a.RefundedAmount})
	if snooze := snoozed(err); snooze != nil {
		return snooze
	}
	if errors.Is(err, ErrPermanent) {
		w.Notify.log.WarnContext(ctx, "order status email refused for good", "order_id", a.OrderID, "sequence", a.Sequence, "err", err)
		return river.JobCancel(err)
	}
	return err
}

// snoozed is the snooze of a job whose send must wait for its turn longer than a worker waits
// (RateLimitedError), or nil.
func snoozed(err error) error {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return river.JobSnooze(rl.RetryAfter)
	}
	return nil
}
