package checkout

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/payment"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// chooseMethod checks the saved method a checkout asks to be charged to, before the order's
// transaction (no network call inside it): the provider must say it is attached to the
// viewer's customer, else NOT_FOUND and nothing changes. A key this viewer already committed
// a checkout under is not checked again: its fingerprint holds the method, so the replay
// either is the very request checked then (and must answer the same order even if the card
// has since been detached) or is refused as IDEMPOTENCY_KEY_REUSED in the transaction.
func (s *Service) chooseMethod(ctx context.Context, v auth.Viewer, in Input) (payment.MethodChoice, error) {
	if in.PaymentMethodID == "" {
		return payment.MethodChoice{}, nil
	}
	_, err := s.db.CheckoutRequestGet(ctx, db.CheckoutRequestGetParams{UserID: v.UserID, IdempotencyKey: in.IdempotencyKey})
	claimed := err == nil
	if err != nil && !postgres.IsNotFound(err) {
		return payment.MethodChoice{}, fmt.Errorf("get idempotency key: %w", err)
	}
	return s.payments.ChooseMethod(ctx, v, in.PaymentMethodID, claimed)
}
