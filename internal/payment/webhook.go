package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stripe/stripe-go/v76"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Event outcomes, recorded with each event id.
const (
	outcomeApplied   = "applied"
	outcomeIgnored   = "ignored"
	outcomeUnknown   = "unknown_intent"
	outcomeMismatch  = "amount_mismatch"
	outcomeStale     = "stale"
	outcomeRefunding = "paid_after_cancel"
	// outcomeKept is a refund reported before the payment is known to have succeeded: kept
	// in provider_refunded and applied when it does.
	outcomeKept = "refund_before_payment"
)

// HandleStripeEvent applies a verified Stripe event exactly once: the event id is recorded in
// the same transaction as its effect, so a duplicate delivery (or 100 concurrent ones) does
// nothing. Stripe does not promise the order of events, so their effects commute: each
// handler derives the state from what has been recorded, whichever arrived first (a late
// failure or cancellation never moves a PAID order back; a refund reported before the
// payment succeeded is kept and applied when it does). A returned error is transient (Stripe
// should retry); everything else, including unknown types, is done.
func (s *Service) HandleStripeEvent(ctx context.Context, e stripe.Event) error {
	var (
		intent   stripe.PaymentIntent
		charge   stripe.Charge
		intentID string
	)
	switch e.Type {
	case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled", "payment_intent.processing":
		if err := json.Unmarshal(e.Data.Raw, &intent); err != nil {
			return s.record(ctx, e, outcomeIgnored, "undecodable payment intent")
		}
		intentID = intent.ID
	case "charge.refunded":
		if err := json.Unmarshal(e.Data.Raw, &charge); err != nil || charge.PaymentIntent == nil {
			return s.record(ctx, e, outcomeIgnored, "charge without payment intent")
		}
		intentID = charge.PaymentIntent.ID
	default:
		return s.record(ctx, e, outcomeIgnored, "")
	}

	var outcome string
	err := s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		n, err := q.PaymentEventInsert(ctx, db.PaymentEventInsertParams{Provider: s.gateway.Provider(), EventID: e.ID, Type: string(e.Type), Outcome: "pending"})
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		if n == 0 {
			outcome = "duplicate"
			return nil
		}
		pay, err := q.PaymentGetByIntentForUpdate(ctx, db.PaymentGetByIntentForUpdateParams{Provider: s.gateway.Provider(), IntentID: intentID})
		if postgres.IsNotFound(err) {
			outcome = outcomeUnknown
			return s.setOutcome(ctx, q, e, outcome)
		}
		if err != nil {
			return err
		}
		switch e.Type {
		case "payment_intent.succeeded":
			outcome, err = s.applySucceeded(ctx, q, pay, intent)
		case "payment_intent.payment_failed":
			msg := "payment failed"
			if intent.LastPaymentError != nil && intent.LastPaymentError.Msg != "" {
				msg = intent.LastPaymentError.Msg
			}
			outcome, err = s.applyFailed(ctx, q, pay, msg)
		case "payment_intent.processing":
			outcome = outcomeStale
			if pay.Status == db.PaymentStatusREQUIRESPAYMENT || pay.Status == db.PaymentStatusFAILED {
				outcome = outcomeApplied
				_, err = q.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: pay.ID, Status: db.PaymentStatusPROCESSING, AmountReceived: pay.AmountReceived, LastError: pay.LastError})
			}
		case "payment_intent.canceled":
			outcome, err = s.applyCanceled(ctx, q, pay)
		case "charge.refunded":
			outcome, err = s.applyRefunded(ctx, q, pay, charge.AmountRefunded)
		}
		if err != nil {
			return err
		}
		if outcome == outcomeRefunding {
			// Paid after the order was cancelled (expired): the money goes back through a
			// durable job in this same transaction, so neither a crash nor a provider outage
			// can lose the refund; the job retries until the provider takes it.
			if err := s.Jobs.ScheduleRefund(ctx, tx, pay.OrderID, "paid after the order was cancelled", time.Time{}); err != nil {
				return err
			}
		}
		return s.setOutcome(ctx, q, e, outcome)
	})
	if err != nil {
		s.observe(string(e.Type), "error")
		return err
	}
	s.observe(string(e.Type), outcome)
	s.log.InfoContext(ctx, "stripe event", "event_id", e.ID, "type", e.Type, "intent", intentID, "outcome", outcome)
	return nil
}

func (s *Service) applySucceeded(ctx context.Context, q *db.Queries, pay db.Payment, pi stripe.PaymentIntent) (string, error) {
	received := pi.AmountReceived
	if received == 0 {
		received = pi.Amount
	}
	return s.applyPaid(ctx, q, pay, "payment "+pi.ID, pi.Amount, received, string(pi.Currency))
}

// applyPaid records a payment the provider took (Stripe's succeeded intent, PayPal's completed
// capture) and moves its order to PAID: what, of amount in currency, was received. Another
// amount or currency than the order's is AMOUNT_MISMATCH, and the order is not paid.
func (s *Service) applyPaid(ctx context.Context, q *db.Queries, pay db.Payment, what string, amount, received int64, currency string) (string, error) {
	orow, err := q.OrderGetByIDForUpdate(ctx, pay.OrderID)
	if err != nil {
		return "", err
	}
	if amount != orow.TotalAmount || !strings.EqualFold(currency, orow.Currency) {
		msg := fmt.Sprintf("paid %d %s for an order of %d %s", amount, strings.ToUpper(currency), orow.TotalAmount, orow.Currency)
		s.log.ErrorContext(ctx, "payment amount mismatch: order not paid", "order_id", pay.OrderID, "detail", msg)
		_, err := q.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: pay.ID, Status: db.PaymentStatusAMOUNTMISMATCH, AmountReceived: received, LastError: &msg})
		return outcomeMismatch, err
	}
	before, err := refundedTotal(ctx, q, pay)
	if err != nil {
		return "", err
	}
	// Refunds the provider reported before this event (charge.refunded may arrive first)
	// apply in the same statement, so the payment ends as if they had come after; the order
	// follows below, once it is PAID.
	if pay, err = q.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: pay.ID, Status: db.PaymentStatusSUCCEEDED, AmountReceived: received}); err != nil {
		return "", err
	}
	outcome := outcomeStale
	switch order.Status(orow.Status) {
	case order.Pending:
		if _, err := s.orders.TransitionTx(ctx, q, order.SystemActor, pay.OrderID, order.Paid, order.TransitionOptions{Note: what + " succeeded"}); err != nil {
			return "", err
		}
		outcome = outcomeApplied
	case order.Cancelled:
		outcome = outcomeRefunding
	}
	// Refunds reported before the payment move the order now that it is paid.
	if _, err := s.moveForRefund(ctx, q, pay, before, nil); err != nil {
		return "", err
	}
	if outcome == outcomeRefunding && pay.AmountRefunded >= pay.AmountReceived {
		outcome = outcomeApplied // paid after cancellation, but already given back in full
	}
	return outcome, nil
}

// applyFailed records a failed attempt to pay with the provider's message.
func (s *Service) applyFailed(ctx context.Context, q *db.Queries, pay db.Payment, msg string) (string, error) {
	if pay.Status == db.PaymentStatusSUCCEEDED {
		return outcomeStale, nil // a late failure never undoes a payment (and success clears the error)
	}
	if pay.Status == db.PaymentStatusCANCELED {
		// A failure that happened before the cancellation but arrived after it: the intent
		// stays CANCELED, and keeps the error as it would have, had the failure come first.
		if pay.LastError != nil {
			return outcomeStale, nil
		}
		return outcomeApplied, q.PaymentSetError(ctx, db.PaymentSetErrorParams{ID: pay.ID, LastError: &msg})
	}
	_, err := q.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: pay.ID, Status: db.PaymentStatusFAILED, AmountReceived: pay.AmountReceived, LastError: &msg})
	return outcomeApplied, err
}

func (s *Service) applyCanceled(ctx context.Context, q *db.Queries, pay db.Payment) (string, error) {
	if pay.Status == db.PaymentStatusSUCCEEDED {
		return outcomeStale, nil
	}
	if _, err := q.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: pay.ID, Status: db.PaymentStatusCANCELED, AmountReceived: pay.AmountReceived, LastError: pay.LastError}); err != nil {
		return "", err
	}
	_, err := s.orders.TransitionTx(ctx, q, order.SystemActor, pay.OrderID, order.Cancelled,
		order.TransitionOptions{Note: "payment intent canceled", OnlyFrom: order.Pending})
	if apperr.Is(err, apperr.InvalidTransition) {
		return outcomeStale, nil // no longer unpaid
	}
	if err != nil {
		return "", err
	}
	return outcomeApplied, nil
}

// applyRefunded records the refunded total the provider reports (cumulative, so reports
// commute: the largest wins). Before the payment is received there is nothing to refund yet;
// the report is kept and applySucceeded applies it.
func (s *Service) applyRefunded(ctx context.Context, q *db.Queries, pay db.Payment, refunded int64) (string, error) {
	before, err := refundedTotal(ctx, q, pay)
	if err != nil {
		return "", err
	}
	pay, err = q.PaymentSyncRefunded(ctx, db.PaymentSyncRefundedParams{ID: pay.ID, Amount: refunded})
	if err != nil {
		return "", err
	}
	if pay.AmountReceived == 0 {
		return outcomeKept, nil
	}
	if _, err := s.moveForRefund(ctx, q, pay, before, nil); err != nil {
		return "", err
	}
	return outcomeApplied, nil
}

// record stores an event that needs no payment change, once.
func (s *Service) record(ctx context.Context, e stripe.Event, outcome, why string) error {
	_, err := s.db.PaymentEventInsert(ctx, db.PaymentEventInsertParams{Provider: s.gateway.Provider(), EventID: e.ID, Type: string(e.Type), Outcome: outcome})
	if err != nil {
		s.observe(string(e.Type), "error")
		return fmt.Errorf("record event: %w", err)
	}
	s.observe(string(e.Type), outcome)
	s.log.InfoContext(ctx, "stripe event", "event_id", e.ID, "type", e.Type, "outcome", outcome, "why", why)
	return nil
}

func (s *Service) observe(eventType, outcome string) {
	if s.Observer != nil {
		s.Observer.ObserveWebhook(eventType, outcome)
	}
}

func (s *Service) setOutcome(ctx context.Context, q *db.Queries, e stripe.Event, outcome string) error {
	return q.PaymentEventSetOutcome(ctx, db.PaymentEventSetOutcomeParams{Outcome: outcome, Provider: s.gateway.Provider(), EventID: e.ID})
}
