package payment

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// captureKey is the PayPal-Request-Id of an order's capture: the CHECKOUT.ORDER.APPROVED
// webhook and orderPaymentCapture send the same one, so PayPal captures once whichever asks
// first, and answers the other with the same capture.
func captureKey(orderID int64) string {
	return "shopgraph-order-" + strconv.FormatInt(orderID, 10) + "-capture"
}

// VerifyPayPalWebhook asks PayPal (outside any transaction) whether a delivery is genuine.
func (s *Service) VerifyPayPalWebhook(ctx context.Context, h http.Header, body []byte) (bool, error) {
	if s.paypal == nil {
		return false, nil
	}
	return s.paypal.VerifyWebhook(ctx, h, body)
}

// CapturePayment is orderPaymentCapture: after the buyer approved the order's PayPal payment and
// came back, the owner asks shopgraph to capture it. The CHECKOUT.ORDER.APPROVED webhook does
// the same; whichever comes first captures, the other finds it done (same PayPal-Request-Id).
// Errors: NOT_FOUND, INVALID (not a PayPal payment), INVALID_TRANSITION (not approved yet, or
// the order is no longer PENDING), PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) CapturePayment(ctx context.Context, v auth.Viewer, orderID int64) (order.Order, Payment, error) {
	o, err := s.orders.Get(ctx, v, orderID)
	if err == nil {
		err = mayRetry(v, o)
	}
	if err != nil {
		return order.Order{}, Payment{}, orderNotFound()
	}
	row, err := s.db.PaymentGetByOrderID(ctx, orderID)
	if postgres.IsNotFound(err) {
		return order.Order{}, Payment{}, apperr.FieldError(apperr.InvalidTransition, "This order has no payment to capture yet.", "input", "orderId")
	}
	if err != nil {
		return order.Order{}, Payment{}, err
	}
	if row.Provider != ProviderPayPal {
		return order.Order{}, Payment{}, apperr.FieldError(apperr.Invalid, "Only a PayPal payment is captured; this order's provider charges on its own.", "input", "orderId")
	}
	if _, err := s.capturePayPal(ctx, row, nil); err != nil {
		return order.Order{}, Payment{}, err
	}
	if o, err = s.orders.Get(ctx, v, orderID); err != nil {
		return order.Order{}, Payment{}, err
	}
	p, err := s.ForOrder(ctx, orderID)
	return o, p, err
}

// capturePayPal captures the PayPal order of pay, if its order is still PENDING and unpaid,
// outside any transaction under the order's capture key, and records what it took (with
// event e, when an event asked). A cancelled (or expired) order's PayPal order is never
// captured: that is how a PayPal payment is cancelled.
func (s *Service) capturePayPal(ctx context.Context, pay db.Payment, e *PayPalEvent) (string, error) {
	if s.paypal == nil {
		return "", unavailable(fmt.Errorf("paypal is not configured: %w", ErrUnavailable))
	}
	orow, err := s.db.OrderGetByID(ctx, pay.OrderID)
	if err != nil {
		return "", err
	}
	// Read the payment again after the order: the capture that moved the order on (a racing
	// webhook or mutation) committed both, so a PAID order is seen with its SUCCEEDED payment,
	// and this call is the no-op second one rather than a refusal.
	if pay, err = s.db.PaymentGetByOrderID(ctx, pay.OrderID); err != nil {
		return "", err
	}
	if pay.Status == db.PaymentStatusSUCCEEDED || pay.Status == db.PaymentStatusCANCELED || order.Status(orow.Status) != order.Pending {
		if e != nil {
			return outcomeStale, s.recordPayPal(ctx, *e, outcomeStale)
		}
		if pay.Status == db.PaymentStatusSUCCEEDED {
			return outcomeStale, nil // captured already: the second of the webhook and the mutation
		}
		return "", apperr.FieldError(apperr.InvalidTransition, "Only a PENDING order's payment can be captured.", "input", "orderId")
	}
	c, err := s.paypal.Capture(ctx, pay.IntentID, captureKey(pay.OrderID))
	switch issue := PayPalIssue(err); {
	case err == nil:
	case issue == "ORDER_NOT_APPROVED" || issue == "PAYER_ACTION_REQUIRED":
		if e != nil {
			return outcomeIgnored, s.recordPayPal(ctx, *e, outcomeIgnored)
		}
		return "", apperr.FieldError(apperr.InvalidTransition, "The buyer has not approved this PayPal payment yet.", "input", "orderId")
	default:
		s.log.WarnContext(ctx, "paypal capture failed", "order_id", pay.OrderID, "paypal_order", pay.IntentID, "err", err)
		return "", unavailable(err)
	}
	return s.applyCapture(ctx, c, e)
}

// applyCapture records a capture (from capture's answer or a PAYMENT.CAPTURE.* event) in one
// transaction with event e, once.
func (s *Service) applyCapture(ctx context.Context, c Captured, e *PayPalEvent) (string, error) {
	var outcome string
	err := s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		if e != nil {
			n, err := q.PaymentEventInsert(ctx, db.PaymentEventInsertParams{Provider: ProviderPayPal, EventID: e.ID, Type: e.EventType, Outcome: "pending"})
			if err != nil {
				return fmt.Errorf("record event: %w", err)
			}
			if n == 0 {
				outcome = "duplicate"
				return nil
			}
		}
		pay, err := q.PaymentGetByIntentForUpdate(ctx, db.PaymentGetByIntentForUpdateParams{Provider: ProviderPayPal, IntentID: c.OrderID})
		if postgres.IsNotFound(err) {
			outcome = outcomeUnknown
			return s.setPayPalOutcome(ctx, q, e, outcome)
		}
		if err != nil {
			return err
		}
		if c.CaptureID != "" {
			if err := q.PaymentSetCapture(ctx, db.PaymentSetCaptureParams{ID: pay.ID, CaptureID: &c.CaptureID}); err != nil {
				return err
			}
		}
		switch c.Status {
		case "COMPLETED":
			outcome, err = s.applyPaid(ctx, q, pay, "paypal capture "+c.CaptureID, c.Amount, c.Amount, c.Currency)
		case "DECLINED", "FAILED":
			outcome, err = s.applyFailed(ctx, q, pay, "PayPal declined the payment")
		default: // PENDING: PayPal holds the money for review; PAYMENT.CAPTURE.COMPLETED follows
			outcome = outcomeStale
			if pay.Status == db.PaymentStatusREQUIRESPAYMENT || pay.Status == db.PaymentStatusFAILED {
				outcome = outcomeApplied
				_, err = q.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: pay.ID, Status: db.PaymentStatusPROCESSING, AmountReceived: pay.AmountReceived, LastError: pay.LastError})
			}
		}
		if err != nil {
			return err
		}
		if outcome == outcomeRefunding {
			// Paid after the order was cancelled: refunded through a durable job (webhook.go).
			if err := s.Jobs.ScheduleRefund(ctx, tx, pay.OrderID, "paid after the order was cancelled", time.Time{}); err != nil {
				return err
			}
		}
		return s.setPayPalOutcome(ctx, q, e, outcome)
	})
	if err != nil {
		return "", err
	}
	s.log.InfoContext(ctx, "paypal capture", "paypal_order", c.OrderID, "capture", c.CaptureID, "status", c.Status, "outcome", outcome)
	return outcome, nil
}

// HandlePayPalEvent applies a verified PayPal webhook event exactly once, recorded by its id
// in the transaction of its effect. Like Stripe's, PayPal's events may come in any order and
// more than once; their effects commute (see HandleStripeEvent): a capture's completion and
// denial, and refund reports carrying the capture's refunded total to date. A returned error
// is transient (PayPal retries the delivery).
func (s *Service) HandlePayPalEvent(ctx context.Context, body []byte) error {
	var e PayPalEvent
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		s.log.WarnContext(ctx, "paypal event without id ignored")
		return nil
	}
	outcome, err := s.handlePayPal(ctx, e)
	if err != nil {
		s.observe(e.EventType, "error")
		return err
	}
	s.observe(e.EventType, outcome)
	s.log.InfoContext(ctx, "paypal event", "event_id", e.ID, "type", e.EventType, "outcome", outcome)
	return nil
}

func (s *Service) handlePayPal(ctx context.Context, e PayPalEvent) (string, error) {
	switch e.EventType {
	case PayPalOrderApproved:
		var o PayPalOrder
		if err := json.Unmarshal(e.Resource, &o); err != nil || o.ID == "" {
			return outcomeIgnored, s.recordPayPal(ctx, e, outcomeIgnored)
		}
		pay, err := s.db.PaymentGetByIntent(ctx, db.PaymentGetByIntentParams{Provider: ProviderPayPal, IntentID: o.ID})
		if postgres.IsNotFound(err) {
			return outcomeUnknown, s.recordPayPal(ctx, e, outcomeUnknown)
		}
		if err != nil {
			return "", err
		}
		outcome, err := s.capturePayPal(ctx, pay, &e)
		if apperr.Is(err, apperr.PaymentProviderUnavailable) {
			return "", err // PayPal redelivers; the capture's request id makes the next try safe
		}
		return outcome, err
	case PayPalCaptureCompleted, PayPalCaptureDenied:
		var pc PayPalCapture
		if err := json.Unmarshal(e.Resource, &pc); err != nil || pc.SupplementaryData == nil || pc.SupplementaryData.RelatedIDs.OrderID == "" {
			return outcomeIgnored, s.recordPayPal(ctx, e, outcomeIgnored)
		}
		if e.EventType == PayPalCaptureDenied && pc.Status == "" {
			pc.Status = "DECLINED"
		}
		c, err := capturedOf(pc.SupplementaryData.RelatedIDs.OrderID, pc)
		if err != nil {
			return outcomeIgnored, s.recordPayPal(ctx, e, outcomeIgnored)
		}
		return s.applyCapture(ctx, c, &e)
	case PayPalCaptureRefunded, PayPalCaptureReversed:
		var r PayPalRefund
		if err := json.Unmarshal(e.Resource, &r); err != nil || r.CaptureID() == "" {
			return outcomeIgnored, s.recordPayPal(ctx, e, outcomeIgnored)
		}
		total := r.Amount
		if r.SellerPayableBreakdown != nil && r.SellerPayableBreakdown.TotalRefundedAmount != nil {
			total = *r.SellerPayableBreakdown.TotalRefundedAmount
		}
		n, err := PayPalMinor(total)
		if err != nil {
			return outcomeIgnored, s.recordPayPal(ctx, e, outcomeIgnored)
		}
		return s.applyPayPalRefund(ctx, e, r.CaptureID(), n, total.CurrencyCode)
	}
	return outcomeIgnored, s.recordPayPal(ctx, e, outcomeIgnored)
}

// applyPayPalRefund records a capture's refunded total to date (cumulative: reports commute,
// the largest wins), in one transaction with its event.
func (s *Service) applyPayPalRefund(ctx context.Context, e PayPalEvent, captureID string, total int64, currency string) (string, error) {
	var outcome string
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		n, err := q.PaymentEventInsert(ctx, db.PaymentEventInsertParams{Provider: ProviderPayPal, EventID: e.ID, Type: e.EventType, Outcome: "pending"})
		if err != nil {
			return fmt.Errorf("record event: %w", err)
		}
		if n == 0 {
			outcome = "duplicate"
			return nil
		}
		pay, err := q.PaymentGetByCaptureForUpdate(ctx, db.PaymentGetByCaptureForUpdateParams{Provider: ProviderPayPal, CaptureID: &captureID})
		if postgres.IsNotFound(err) {
			outcome = outcomeUnknown
			return s.setPayPalOutcome(ctx, q, &e, outcome)
		}
		if err != nil {
			return err
		}
		if !strings.EqualFold(currency, pay.Currency) {
			s.log.ErrorContext(ctx, "paypal refund in another currency ignored", "order_id", pay.OrderID, "currency", currency)
			outcome = outcomeMismatch
			return s.setPayPalOutcome(ctx, q, &e, outcome)
		}
		if outcome, err = s.applyRefunded(ctx, q, pay, total); err != nil {
			return err
		}
		return s.setPayPalOutcome(ctx, q, &e, outcome)
	})
	return outcome, err
}

// recordPayPal stores an event that needs no payment change, once.
func (s *Service) recordPayPal(ctx context.Context, e PayPalEvent, outcome string) error {
	_, err := s.db.PaymentEventInsert(ctx, db.PaymentEventInsertParams{Provider: ProviderPayPal, EventID: e.ID, Type: e.EventType, Outcome: outcome})
	if err != nil {
		return fmt.Errorf("record event: %w", err)
	}
	return nil
}

func (s *Service) setPayPalOutcome(ctx context.Context, q *db.Queries, e *PayPalEvent, outcome string) error {
	if e == nil {
		return nil
	}
	return q.PaymentEventSetOutcome(ctx, db.PaymentEventSetOutcomeParams{Outcome: outcome, Provider: ProviderPayPal, EventID: e.ID})
}
