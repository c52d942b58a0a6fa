package webhook

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/internal/jobs"
)

// DeliverWorker makes one attempt at a delivery per run, on the webhooks queue (its own
// workers: a slow receiver holds one of them for at most the timeout, and nothing else).
// River retries a failed attempt on Backoff's schedule; the last attempt marks the delivery
// FAILED.
type DeliverWorker struct {
	river.WorkerDefaults[jobs.DeliverWebhookArgs]
	Webhooks *Service
}

// Work implements river.Worker.
func (w *DeliverWorker) Work(ctx context.Context, job *river.Job[jobs.DeliverWebhookArgs]) error {
	last := job.Args.Manual || job.Attempt >= job.MaxAttempts
	_, err := w.Webhooks.Deliver(ctx, job.Args.DeliveryID, last)
	switch {
	case errors.Is(err, ErrGone):
		return river.JobCancel(err)
	case err != nil && last:
		w.Webhooks.log.WarnContext(ctx, "webhook delivery failed for good", "delivery_id", job.Args.DeliveryID, "attempts", job.Attempt, "err", err)
		return river.JobCancel(err)
	}
	return err
}

// NextRetry is Backoff's schedule rather than River's default.
func (w *DeliverWorker) NextRetry(job *river.Job[jobs.DeliverWebhookArgs]) time.Time {
	return time.Now().Add(w.Webhooks.opts.Backoff(job.Attempt))
}

// Timeout bounds a run: the attempt's own timeout and the time to record it.
func (w *DeliverWorker) Timeout(*river.Job[jobs.DeliverWebhookArgs]) time.Duration {
	return w.Webhooks.opts.Timeout + 15*time.Second
}
