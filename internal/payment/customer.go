package payment

import (
	"context"
	"fmt"
	"strconv"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Customer is an account's customer at the provider, the holder of its saved methods.
type Customer struct {
	UserID     int64
	Provider   string
	CustomerID string
}

// customerKey is the idempotency key of an account's provider customer: concurrent first uses
// (two tabs adding a card) send the same key and get the same customer from the provider.
func customerKey(userID int64) string {
	return "shopgraph-user-" + strconv.FormatInt(userID, 10) + "-customer"
}

// customerOf reads the account's customer; found is false when it has none yet.
func (s *Service) customerOf(ctx context.Context, userID int64) (Customer, bool, error) {
	row, err := s.db.PaymentCustomerGet(ctx, userID)
	if postgres.IsNotFound(err) {
		return Customer{}, false, nil
	}
	if err != nil {
		return Customer{}, false, fmt.Errorf("get payment customer: %w", err)
	}
	return Customer{UserID: row.UserID, Provider: row.Provider, CustomerID: row.CustomerID}, true, nil
}

// ensureCustomer returns the account's customer, creating it at the provider when it has none.
// No transaction spans the provider call: it comes first, under the key derived from the user
// id, then one INSERT … ON CONFLICT DO NOTHING, so a racing first use that recorded the same
// customer a moment earlier wins and both answer with its row. (Stripe keeps a key 24 hours; a
// customer created and then lost to a failed insert is re-created later under the same key
// only within them, else a second, unused customer is left at Stripe, harmless.)
func (s *Service) ensureCustomer(ctx context.Context, g MethodGateway, userID int64) (Customer, error) {
	c, found, err := s.customerOf(ctx, userID)
	if err != nil || found {
		return c, err
	}
	id, err := g.CreateCustomer(ctx, userID, customerKey(userID))
	if err != nil {
		s.log.WarnContext(ctx, "create payment customer failed", "user_id", userID, "err", err)
		return Customer{}, methodsUnavailable(err)
	}
	row, err := s.db.PaymentCustomerInsert(ctx, db.PaymentCustomerInsertParams{UserID: userID, Provider: s.gateway.Provider(), CustomerID: id})
	if postgres.IsNotFound(err) {
		// The racing insert committed while this statement waited on it: its row is not in
		// this statement's snapshot, but is in the next one's.
		c, found, err = s.customerOf(ctx, userID)
		if err == nil && !found {
			err = fmt.Errorf("payment customer of user %d vanished", userID)
		}
		return c, err
	}
	if err != nil {
		return Customer{}, fmt.Errorf("record payment customer: %w", err)
	}
	return Customer{UserID: row.UserID, Provider: row.Provider, CustomerID: row.CustomerID}, nil
}

// methodsUnavailable is the user-facing form of a provider failure about saved methods.
func methodsUnavailable(err error) error {
	return &apperr.Error{Code: apperr.PaymentProviderUnavailable, Err: err,
		Message: "The payment provider could not be reached; try again shortly."}
}
