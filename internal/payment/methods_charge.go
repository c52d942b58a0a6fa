package payment

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// IntentWithMethod is checkout's payment with a saved method, after the order's transaction
// committed: the order's intent, created for the method's customer and confirmed at once. It
// is safe to run again (a replayed checkout, a concurrent one): the choice is recorded before
// the provider is asked, the first recorded choice is the one charged, and the provider's
// idempotency key is the order's, so every run ends with the same intent.
//
// The payment is recorded PROCESSING when the provider took the money (the
// payment_intent.succeeded webhook marks the order PAID, as for any payment), REQUIRES_PAYMENT
// with NextAction when the bank asks the customer to authenticate, and FAILED with the bank's
// message on a decline, whose intent stays payable with another card through Stripe.js.
// Errors: CARD_DECLINED (with the recorded payment), PAYMENT_PROVIDER_UNAVAILABLE,
// INVALID_TRANSITION.
func (s *Service) IntentWithMethod(ctx context.Context, o order.Order, choice MethodChoice) (Payment, error) {
	if row, err := s.db.PaymentGetByOrderID(ctx, o.ID); err == nil {
		return s.methodPaymentAgain(ctx, paymentFromRow(row))
	} else if !postgres.IsNotFound(err) {
		return Payment{}, err
	}
	if o.Status != order.Pending {
		return Payment{}, apperr.FieldError(apperr.InvalidTransition, "Only a PENDING order can be paid.", "input", "id")
	}
	g, err := s.methodGateway()
	if err != nil {
		return Payment{}, err
	}
	chosen, err := s.db.OrderPaymentMethodInsert(ctx, db.OrderPaymentMethodInsertParams{
		OrderID: o.ID, CustomerID: choice.CustomerID, PaymentMethodID: choice.PaymentMethodID,
	})
	if postgres.IsNotFound(err) {
		// A racing run recorded its choice while this statement waited on it.
		var row db.OrderPaymentMethod
		row, err = s.db.OrderPaymentMethodGet(ctx, o.ID)
		chosen = db.OrderPaymentMethodInsertRow(row)
	}
	if err != nil {
		return Payment{}, fmt.Errorf("record payment method of order: %w", err)
	}
	return s.chargeMethod(ctx, g, o, MethodChoice{CustomerID: chosen.CustomerID, PaymentMethodID: chosen.PaymentMethodID})
}

// chargeMethod asks the provider to charge the order's recorded choice and records the intent.
func (s *Service) chargeMethod(ctx context.Context, g MethodGateway, o order.Order, choice MethodChoice) (Payment, error) {
	in, err := g.ChargeMethod(ctx, MethodIntentParams{
		IntentParams:    IntentParams{OrderID: o.ID, Amount: o.Total.Amount, Currency: o.Total.Currency, IdempotencyKey: intentKey(o.ID)},
		CustomerID:      choice.CustomerID,
		PaymentMethodID: choice.PaymentMethodID,
	})
	var declined *DeclinedError
	switch {
	case errors.As(err, &declined) && declined.Intent.ID != "":
		p, recErr := s.recordIntent(ctx, o, declined.Intent, db.PaymentStatusFAILED, &declined.Message)
		if recErr != nil {
			return Payment{}, recErr
		}
		return p, cardDeclined(declined.Message)
	case errors.As(err, &declined):
		return Payment{}, cardDeclined(declined.Message)
	case err != nil:
		s.log.WarnContext(ctx, "charge saved payment method failed", "order_id", o.ID, "err", err)
		return Payment{}, unavailable(err)
	}
	status := db.PaymentStatusREQUIRESPAYMENT
	if in.Status == IntentSucceeded || in.Status == IntentProcessing {
		// The money is taken (or on its way); the order becomes PAID when the provider's
		// payment_intent.succeeded event arrives, through the one path every payment takes.
		status = db.PaymentStatusPROCESSING
	}
	p, err := s.recordIntent(ctx, o, in, status, nil)
	if p.IntentID == in.ID {
		p.NextAction = in.NextAction // not when a racing run's intent was recorded first
	}
	return p, err
}

// recordIntent records the order's intent with status; a racing run's row stands.
func (s *Service) recordIntent(ctx context.Context, o order.Order, in Intent, status db.PaymentStatus, lastError *string) (Payment, error) {
	row, err := s.db.PaymentInsert(ctx, db.PaymentInsertParams{
		OrderID: o.ID, Provider: s.gateway.Provider(), IntentID: in.ID, ClientSecret: in.ClientSecret,
		Status: status, Amount: o.Total.Amount, Currency: o.Total.Currency,
	})
	if postgres.IsUniqueViolation(err, "payments_intent_key") {
		return s.ForOrder(ctx, o.ID) // a racing run recorded the same intent (NewIntent's case)
	}
	if err != nil {
		return Payment{}, fmt.Errorf("record payment: %w", err)
	}
	if lastError != nil && row.IntentID == in.ID && row.LastError == nil {
		if err := s.db.PaymentSetError(ctx, db.PaymentSetErrorParams{ID: row.ID, LastError: lastError}); err != nil {
			return Payment{}, fmt.Errorf("record payment error: %w", err)
		}
		row.LastError = lastError
	}
	return paymentFromRow(row), nil
}

// methodPaymentAgain answers a replayed checkout with a saved method as the first run did: a
// declined payment is CARD_DECLINED again, one awaiting authentication carries its next
// action again (read from the provider: the customer may have authenticated since).
func (s *Service) methodPaymentAgain(ctx context.Context, p Payment) (Payment, error) {
	switch p.Status {
	case Failed:
		msg := "Your card was declined."
		if p.LastError != nil {
			msg = *p.LastError
		}
		return p, cardDeclined(msg)
	case RequiresPayment:
		in, err := s.gateway.RetrieveIntent(ctx, p.IntentID)
		if err != nil {
			s.log.WarnContext(ctx, "retrieve payment intent failed", "order_id", p.OrderID, "err", err)
			return p, nil // the payment stands; Stripe.js can still read the intent itself
		}
		p.NextAction = in.NextAction
	}
	return p, nil
}

// savedChoice is the saved method recorded for order id, if any (orderPaymentRetry after an
// outage at checkout must send the provider what the checkout sent).
func (s *Service) savedChoice(ctx context.Context, orderID int64) (MethodChoice, bool, error) {
	row, err := s.db.OrderPaymentMethodGet(ctx, orderID)
	if postgres.IsNotFound(err) {
		return MethodChoice{}, false, nil
	}
	if err != nil {
		return MethodChoice{}, false, fmt.Errorf("get payment method of order: %w", err)
	}
	return MethodChoice{CustomerID: row.CustomerID, PaymentMethodID: row.PaymentMethodID}, true, nil
}

// cardDeclined is the userError of a declined card, with the provider's customer-facing reason.
func cardDeclined(msg string) error {
	if msg == "" {
		msg = "Your card was declined."
	}
	return apperr.FieldError(CodeCardDeclined, msg, "input", "paymentMethodId")
}
