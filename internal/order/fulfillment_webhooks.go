package order

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/internal/postgres"
)

// FulfillmentWebhooks is the part of the Webhooks hook told of every fulfilment event
// (created, tracking updated, delivered) in its transaction, after the order's own move (if
// any). The hook set in internal/app (webhook.Service) implements it; a Webhooks hook that
// does not is simply not told.
type FulfillmentWebhooks interface {
	FulfillmentChanged(ctx context.Context, tx pgx.Tx, kind EventKind, f Fulfillment) error
}

// oweFulfillmentWebhooks tells the Webhooks hook, when it listens to fulfilments, of f's event.
func (s *Service) oweFulfillmentWebhooks(ctx context.Context, kind EventKind, f Fulfillment) error {
	hook, ok := s.Webhooks.(FulfillmentWebhooks)
	if !ok || hook == nil {
		return nil
	}
	tx, ok := postgres.TxOf(ctx)
	if !ok {
		return fmt.Errorf("fulfilment %d changed outside postgres.InTx: no transaction for its webhooks", f.ID)
	}
	return hook.FulfillmentChanged(ctx, tx, kind, f)
}
