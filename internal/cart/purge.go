package cart

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/jobs"
)

// purgeBatch is how many guest carts one statement deletes.
const purgeBatch = 1000

// PurgeGuests deletes the guest carts not changed since untouchedSince (a guest who did not
// come back: nobody else can reach their cart) and returns how many. Customers' carts stay.
// It deletes in batches, each its own statement and implicit transaction, so that a large
// backlog never holds many locks at once.
func (s *Service) PurgeGuests(ctx context.Context, untouchedSince time.Time) (int64, error) {
	var total int64
	for {
		n, err := s.db.CartPurgeGuests(ctx, db.CartPurgeGuestsParams{UntouchedSince: untouchedSince, Max: purgeBatch})
		total += n
		if err != nil {
			return total, fmt.Errorf("purge guest carts: %w", err)
		}
		if n < purgeBatch {
			return total, nil
		}
	}
}

// PurgeWorker runs the periodic purge of guest carts left unchanged for After.
type PurgeWorker struct {
	river.WorkerDefaults[jobs.PurgeGuestCartsArgs]
	Carts *Service
	After time.Duration
}

// Work implements river.Worker.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[jobs.PurgeGuestCartsArgs]) error {
	_, err := w.Carts.PurgeGuests(ctx, time.Now().Add(-w.After))
	return err
}
