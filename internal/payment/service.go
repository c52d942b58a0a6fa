package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Service is the payment use cases.
type Service struct {
	db *postgres.DB
	// gateway is the default provider's (Stripe); gateways holds every provider's by name,
	// so that a payment's refunds and cancellation go to the provider that took it.
	gateway  Gateway
	gateways map[string]Gateway
	paypal   *PayPal
	orders   *order.Service
	log      *slog.Logger
	// ExpireAfter is how long an order may stay unpaid.
	ExpireAfter time.Duration
	// Jobs makes follow-ups that must not be lost (refunds) durable.
	Jobs *jobs.Queue
	// Observer counts webhook events by type and outcome (metrics); may be nil.
	Observer interface {
		ObserveWebhook(eventType, outcome string)
	}
}

// NewService returns a payment service.
func NewService(d *postgres.DB, g Gateway, orders *order.Service, expireAfter time.Duration, log *slog.Logger) *Service {
	return &Service{db: d, gateway: g, gateways: map[string]Gateway{g.Provider(): g}, orders: orders, ExpireAfter: expireAfter, log: log}
}

// UsePayPal adds PayPal as a provider checkout may choose.
func (s *Service) UsePayPal(p *PayPal) {
	s.paypal = p
	s.gateways[p.Provider()] = p
}

// gatewayFor is the gateway of provider; an unknown one (a row of a provider since removed
// from the configuration) is an error rather than a call to the wrong provider.
func (s *Service) gatewayFor(provider string) (Gateway, error) {
	if g, ok := s.gateways[provider]; ok {
		return g, nil
	}
	return nil, fmt.Errorf("payment provider %q is not configured: %w", provider, ErrUnavailable)
}

// Provider names the gateway's provider.
func (s *Service) Provider() string { return s.gateway.Provider() }

// EnsureIntent returns the order's payment, creating the provider intent when it has none.
// The provider call happens outside any transaction, with an idempotency key derived from the
// order, so concurrent or repeated calls (a checkout replay, orderPaymentRetry) converge on
// one intent. Errors: PAYMENT_PROVIDER_UNAVAILABLE, INVALID_TRANSITION (not PENDING).
func (s *Service) EnsureIntent(ctx context.Context, o order.Order) (Payment, error) {
	row, err := s.db.PaymentGetByOrderID(ctx, o.ID)
	if err == nil {
		return paymentFromRow(row), nil
	}
	if !postgres.IsNotFound(err) {
		return Payment{}, err
	}
	// An order checked out with a saved method is charged to it again, with the same
	// parameters under the same key (methods_charge.go).
	if choice, saved, err := s.savedChoice(ctx, o.ID); err != nil || saved {
		if err != nil {
			return Payment{}, err
		}
		return s.IntentWithMethod(ctx, o, choice)
	}
	return s.NewIntent(ctx, o)
}

// HasProvider reports whether provider (e.g. "paypal") is configured.
func (s *Service) HasProvider(provider string) bool {
	_, ok := s.gateways[provider]
	return ok
}

// ChooseProviderTx records, in the checkout's transaction q, that order orderID is to be paid
// with provider, when it is not the default: NewIntent, and every retry of it, then asks that
// provider.
func (s *Service) ChooseProviderTx(ctx context.Context, q *db.Queries, orderID int64, provider string) error {
	if provider == "" || provider == s.gateway.Provider() {
		return nil
	}
	return q.OrderPaymentProviderInsert(ctx, db.OrderPaymentProviderInsertParams{OrderID: orderID, Provider: provider})
}

// NewIntent creates the intent of an order that has none, such as one placed just now, with
// the provider checkout chose for it (ChooseProviderTx; Stripe by default). A racing EnsureIntent for the same order gets the same intent: the provider's idempotency key
// is derived from the order, and PaymentInsert keeps the first row.
func (s *Service) NewIntent(ctx context.Context, o order.Order) (Payment, error) {
	if o.Status != order.Pending {
		return Payment{}, apperr.FieldError(apperr.InvalidTransition, "Only a PENDING order can be paid.", "input", "id")
	}
	provider, err := s.db.OrderPaymentProviderGet(ctx, o.ID)
	if postgres.IsNotFound(err) {
		provider, err = s.gateway.Provider(), nil
	}
	if err != nil {
		return Payment{}, fmt.Errorf("read payment provider of order: %w", err)
	}
	return s.NewIntentAt(ctx, o, provider)
}

// NewIntentAt is NewIntent with the provider the caller knows was chosen (checkout, which
// just recorded it; "" is the default), sparing the statement that reads it.
func (s *Service) NewIntentAt(ctx context.Context, o order.Order, provider string) (Payment, error) {
	if o.Status != order.Pending {
		return Payment{}, apperr.FieldError(apperr.InvalidTransition, "Only a PENDING order can be paid.", "input", "id")
	}
	if provider == "" {
		provider = s.gateway.Provider()
	}
	g, err := s.gatewayFor(provider)
	if err != nil {
		return Payment{}, unavailable(err)
	}
	in, err := g.CreateIntent(ctx, IntentParams{
		OrderID: o.ID, Amount: o.Total.Amount, Currency: o.Total.Currency, IdempotencyKey: intentKey(o.ID),
	})
	if err != nil {
		s.log.WarnContext(ctx, "create payment intent failed", "order_id", o.ID, "err", err)
		return Payment{}, unavailable(err)
	}
	row, err := s.db.PaymentInsert(ctx, db.PaymentInsertParams{
		OrderID: o.ID, Provider: g.Provider(), IntentID: in.ID, ClientSecret: in.ClientSecret,
		Status: db.PaymentStatusREQUIRESPAYMENT, Amount: o.Total.Amount, Currency: o.Total.Currency,
	})
	if postgres.IsUniqueViolation(err, "payments_intent_key") {
		// A racing request for this order recorded the same intent (its idempotency key is
		// the order's) a moment earlier: ON CONFLICT (order_id) arbitrates only the order's
		// index, so the intent's own unique index refuses this insert. Keep the first row.
		row, err = s.db.PaymentGetByOrderID(ctx, o.ID)
	}
	if err != nil {
		return Payment{}, fmt.Errorf("record payment: %w", err)
	}
	return paymentFromRow(row), nil
}

// Retry is orderPaymentRetry: the owner asks again for the intent of a PENDING order (after
// the provider was unreachable at checkout). Errors: NOT_FOUND, PAYMENT_PROVIDER_UNAVAILABLE,
// INVALID_TRANSITION.
func (s *Service) Retry(ctx context.Context, v auth.Viewer, orderID int64) (order.Order, Payment, error) {
	o, err := s.orders.Get(ctx, v, orderID)
	if err == nil {
		err = mayRetry(v, o)
	}
	if err != nil {
		return order.Order{}, Payment{}, orderNotFound()
	}
	p, err := s.EnsureIntent(ctx, o)
	return o, p, err
}

// ForOrder returns an order's payment. Errors: NOT_FOUND.
func (s *Service) ForOrder(ctx context.Context, orderID int64) (Payment, error) {
	row, err := s.db.PaymentGetByOrderID(ctx, orderID)
	if err != nil {
		return Payment{}, postgres.MapError(err, "payment")
	}
	return paymentFromRow(row), nil
}

// ClientSecret is p's client secret if v is given it (the paying customer), else nil. A PayPal
// payment has none: its column holds the approval URL (ApprovalURL).
func (s *Service) ClientSecret(ctx context.Context, v *auth.Viewer, p Payment) *string {
	if p.Provider == ProviderPayPal {
		return nil
	}
	return s.ownerSees(ctx, v, p)
}

// ApprovalURL is where the buyer approves p at PayPal, if v is the paying customer; nil for
// another provider's payment.
func (s *Service) ApprovalURL(ctx context.Context, v *auth.Viewer, p Payment) *string {
	if p.Provider != ProviderPayPal {
		return nil
	}
	return s.ownerSees(ctx, v, p)
}

// ownerSees is p's client secret column if v is given it (the paying customer), else nil.
func (s *Service) ownerSees(ctx context.Context, v *auth.Viewer, p Payment) *string {
	if v == nil || p.ClientSecret == "" {
		return nil
	}
	o, err := s.orders.Get(ctx, *v, p.OrderID)
	if err != nil || !seesClientSecret(*v, o) {
		return nil
	}
	return &p.ClientSecret
}

// ForOrders returns the payments of orders (for loaders; callers ask the order service
// whether the viewer sees them).
func (s *Service) ForOrders(ctx context.Context, orderIDs []int64) (map[int64]Payment, error) {
	rows, err := s.db.PaymentListByOrderIDs(ctx, orderIDs)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	out := make(map[int64]Payment, len(rows))
	for _, r := range rows {
		out[r.OrderID] = paymentFromRow(r)
	}
	return out, nil
}

// CancelOrder is the order-cancel use case (orderCancel): it cancels an order for its owner
// (PENDING) or an admin (PENDING or PAID), with what the cancellation means for its payment. It
// lives here, not in package order, because the payment side must commit with the
// cancellation and order must not import payment (order.Service.CancelTx is the order side,
// in the caller's transaction). A PENDING
// order's intent is cancelled at the provider after the order is; a PAID order is refunded in
// full. That refund must not be lost, so its job is committed with the cancellation: a crash
// or an outage after the commit leaves the job to refund it. The refund is still tried at
// once, for the answer; the job, which runs only after that attempt has had its chance, then
// finds nothing left to refund, or the attempt's refund still PENDING (and waits for its
// settlement), so the two never refund twice.
// Errors: NOT_FOUND, FORBIDDEN, INVALID_TRANSITION, PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) CancelOrder(ctx context.Context, v auth.Viewer, orderID int64) (order.Order, error) {
	var (
		o      order.Order
		refund bool
	)
	err := s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		var err error
		if o, err = s.orders.CancelTx(ctx, q, v, orderID); err != nil {
			return err
		}
		p, err := q.PaymentGetByOrderID(ctx, o.ID)
		if postgres.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		// A PAID order cancelled by an admin is refunded in full; a PENDING one had nothing paid.
		if refund = p.AmountReceived > p.AmountRefunded; refund {
			return s.Jobs.ScheduleRefund(ctx, tx, o.ID, cancelReason, time.Now().Add(settleAfter))
		}
		return nil
	})
	if err != nil {
		return order.Order{}, err
	}
	s.afterCancel(ctx, o)
	if !refund {
		return o, nil
	}
	res, err := s.refund(ctx, o.ID, nil, cancelReason)
	switch {
	case err == nil, apperr.Is(err, apperr.PaymentProviderUnavailable):
		// Refunded, or the provider's outage or refusal, which the admin should know of; the
		// refund's settlement job, or the refund job, gives the money back later.
		return res, err
	}
	// An earlier refund still awaits the provider's answer (REFUND_PENDING), or the attempt
	// failed before reaching the provider: the refund job gives the money back.
	s.log.WarnContext(ctx, "refund of a cancelled order left to its job", "order_id", o.ID, "err", err)
	return o, nil
}

// cancelReason is the reason of the refund of a cancelled PAID order.
const cancelReason = "order cancelled"

// afterCancel cancels the intent of a cancelled, unpaid order at the provider. It is best
// effort: if the customer still pays, the succeeded event finds the order cancelled and
// refunds it.
func (s *Service) afterCancel(ctx context.Context, o order.Order) {
	row, err := s.db.PaymentGetByOrderID(ctx, o.ID)
	if err != nil || row.Status == db.PaymentStatusSUCCEEDED || row.Status == db.PaymentStatusCANCELED {
		return
	}
	g, err := s.gatewayFor(row.Provider)
	if err != nil {
		s.log.WarnContext(ctx, "cancel payment intent failed", "order_id", o.ID, "err", err)
		return
	}
	if _, err := g.CancelIntent(ctx, row.IntentID, cancelKey(o.ID)); err != nil {
		s.log.WarnContext(ctx, "cancel payment intent failed", "order_id", o.ID, "intent", row.IntentID, "err", err)
		return
	}
	if _, err := s.db.PaymentUpdate(ctx, db.PaymentUpdateParams{ID: row.ID, Status: db.PaymentStatusCANCELED, AmountReceived: row.AmountReceived, LastError: row.LastError}); err != nil {
		s.log.WarnContext(ctx, "record cancelled intent failed", "order_id", o.ID, "err", err)
	}
}

// Refund refunds amount (nil: everything not yet refunded) of an order's payment (ADMIN).
// Partial refunds accumulate and can never exceed what was paid.
// Errors: FORBIDDEN, NOT_FOUND, REFUND_EXCEEDS_PAYMENT, REFUND_PENDING, INVALID,
// PAYMENT_PROVIDER_UNAVAILABLE.
func (s *Service) Refund(ctx context.Context, v auth.Viewer, orderID int64, amount *int64) (order.Order, error) {
	if err := mayRefund(v); err != nil {
		return order.Order{}, err
	}
	if amount != nil && *amount <= 0 {
		return order.Order{}, apperr.FieldError(apperr.Invalid, "A refund must be more than zero.", "input", "amount")
	}
	return s.refund(ctx, orderID, amount, "refund")
}

func (s *Service) refund(ctx context.Context, orderID int64, amount *int64, reason string) (order.Order, error) {
	// Phase 1: reserve the amount on the locked payment row and record a pending refund with
	// its idempotency key, and its settlement job: should this process stop before the
	// provider's answer is recorded, the job asks again. The guard keeps concurrent refunds
	// from exceeding what was paid.
	var (
		pay   db.Payment
		st    db.RefundGetForSettlementRow
		jobID int64
	)
	err := s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		var err error
		pay, err = q.PaymentGetByOrderIDForUpdate(ctx, orderID)
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.RefundExceedsPayment, "This order has no payment to refund.", "input", "id")
		}
		if err != nil {
			return err
		}
		// A refund whose request got no answer may have gone through; only its own key may
		// ask again (its job does). A new refund now, under a new key, could give the same
		// money back twice, typically when an admin retries after PAYMENT_PROVIDER_UNAVAILABLE.
		counts, err := q.RefundCounts(ctx, pay.ID)
		if err != nil {
			return err
		}
		if counts.Pending > 0 {
			return apperr.FieldError(apperr.RefundPending,
				"An earlier refund of this order is still being confirmed with the payment provider; it will be settled on its own. Refund again, if anything remains, once it is.", "input", "id")
		}
		remaining := pay.AmountReceived - pay.AmountRefunded
		n := remaining
		if amount != nil {
			n = *amount
		}
		if remaining <= 0 || n > remaining {
			return apperr.FieldError(apperr.RefundExceedsPayment,
				fmt.Sprintf("At most %d %s can still be refunded.", max(remaining, 0), pay.Currency), "input", "amount")
		}
		if pay, err = q.PaymentAddRefunded(ctx, db.PaymentAddRefundedParams{ID: pay.ID, Amount: n}); err != nil {
			return fmt.Errorf("reserve refund: %w", err)
		}
		refund, err := q.RefundInsert(ctx, db.RefundInsertParams{PaymentID: pay.ID, Amount: n, IdempotencyKey: refundKey(orderID, counts.Total+1), Reason: reason})
		if err != nil {
			return err
		}
		st = db.RefundGetForSettlementRow{Refund: refund, OrderID: orderID, IntentID: pay.IntentID, AmountReceived: pay.AmountReceived,
			Provider: pay.Provider, CaptureID: pay.CaptureID, Currency: pay.Currency}
		jobID, err = s.Jobs.ScheduleRefundSettlement(ctx, tx, refund.ID, time.Now().Add(settleAfter))
		return err
	})
	if err != nil {
		return order.Order{}, err
	}
	res, err := s.settle(ctx, st)
	if IsUnavailable(err) {
		// No answer: the job asks again now rather than at its time.
		if retryErr := s.Jobs.SettleSoon(ctx, jobID); retryErr != nil {
			s.log.WarnContext(ctx, "refund settlement stays at its time", "refund_id", st.Refund.ID, "err", retryErr)
		}
	}
	return res, err
}

// settleAfter is when a refund's settlement job first runs: after its own request has had
// every chance to get the provider's answer (the gateway's timeout is 20 s), so that the two
// never ask at once. A request that gets no answer brings the job forward.
const settleAfter = time.Minute

// settle asks the provider for a PENDING refund under the refund's own idempotency key,
// outside any transaction, then records the answer and moves the order when the money went
// back. A refusal releases the reserved amount (FAILED). No answer (the provider unreachable,
// or a timeout after which it may well have refunded) leaves the refund PENDING with its amount
// reserved, and its settlement job asks again under the same key until the provider answers:
// a refund is never made twice, and nothing else can be refunded in its place meanwhile.
func (s *Service) settle(ctx context.Context, st db.RefundGetForSettlementRow) (order.Order, error) {
	// The refund goes to the provider that took the payment.
	g, gwErr := s.gatewayFor(st.Provider)
	var res RefundResult
	if gwErr == nil {
		params := RefundParams{IntentID: st.IntentID, Amount: st.Refund.Amount, IdempotencyKey: st.Refund.IdempotencyKey, Currency: st.Currency}
		if st.CaptureID != nil {
			params.CaptureID = *st.CaptureID
		}
		res, gwErr = g.Refund(ctx, params)
	}
	if IsUnavailable(gwErr) {
		// The refund stays PENDING, its amount reserved; its job asks again.
		s.log.WarnContext(ctx, "refund got no answer", "order_id", st.OrderID, "refund_id", st.Refund.ID, "err", gwErr)
		return order.Order{}, &apperr.Error{Code: apperr.PaymentProviderUnavailable, Err: gwErr,
			Message: "The payment provider did not answer. The refund is recorded and will be sent again until it does; do not refund it again."}
	}
	var o order.Order
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		// The payment is locked first, as a webhook locks it, so that a charge.refunded
		// report and this answer move the order one after the other, each from what the
		// other left: the refunded total before this answer decides whether it is news.
		pay, err := q.PaymentGetByOrderIDForUpdate(ctx, st.OrderID)
		if err != nil {
			return err
		}
		before, err := refundedTotal(ctx, q, pay)
		if err != nil {
			return err
		}
		status, providerID := refundSucceeded, &res.ID
		if gwErr != nil {
			status, providerID = refundFailed, nil
		}
		_, err = q.RefundFinish(ctx, db.RefundFinishParams{ID: st.Refund.ID, Status: status, ProviderRefundID: providerID})
		if postgres.IsNotFound(err) {
			return nil // another attempt recorded the answer first
		}
		if err != nil {
			return err
		}
		if gwErr != nil {
			return q.PaymentUnreserveRefund(ctx, db.PaymentUnreserveRefundParams{ID: st.Refund.PaymentID, Amount: st.Refund.Amount})
		}
		o, err = s.moveForRefund(ctx, q, pay, before, &st.Refund.ID)
		return err
	})
	if err != nil {
		return order.Order{}, err
	}
	if gwErr != nil {
		s.log.WarnContext(ctx, "refund refused", "order_id", st.OrderID, "refund_id", st.Refund.ID, "err", gwErr)
		return order.Order{}, unavailable(gwErr)
	}
	return o, nil
}

// SettleRefund asks the provider again about refund id, if it is still PENDING (the job of
// settle). It fails while the provider does not answer, and river retries it.
func (s *Service) SettleRefund(ctx context.Context, id int64) error {
	row, err := s.db.RefundGetForSettlement(ctx, id)
	if postgres.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if row.Refund.Status != refundPending {
		return nil
	}
	_, err = s.settle(ctx, row)
	switch {
	case IsUnavailable(err):
		return err // still no answer: river asks again later
	case apperr.Is(err, apperr.PaymentProviderUnavailable):
		return nil // the provider refused it: recorded as FAILED, nothing to retry
	}
	return err
}

// refundedTotal is what is known to have gone back of a payment: the largest of what the
// provider reported refunded (which includes refunds made outside shopgraph, e.g. in the
// Stripe dashboard) and the sum of our refunds it confirmed, at most what was received (the
// rule's one home is the payment_refunded SQL function). It leaves out amount_refunded's
// reservations for refunds still PENDING, which may yet be refused, so an order is never
// marked REFUNDED for money that may not go back. It reads pay's row as the transaction of q
// sees it.
func refundedTotal(ctx context.Context, q *db.Queries, pay db.Payment) (int64, error) {
	return q.PaymentRefundedTotal(ctx, pay.ID)
}

// moveForRefund moves a payment's order to REFUNDED or PARTIALLY_REFUNDED for its refunded
// total (refundedTotal): the one place, for our refunds and for the provider's reports alike,
// that decides it. before is the total before the caller's change, read under the payment's
// lock: a further partial refund is then a new event, while Stripe's charge.refunded report of
// a refund already counted (before or after ours is recorded) is not. A move is published
// after commit (order.Service.TransitionTx).
// refundID is our refund whose settlement is the change (nil for the provider's reports).
func (s *Service) moveForRefund(ctx context.Context, q *db.Queries, pay db.Payment, before int64, refundID *int64) (order.Order, error) {
	row, err := q.OrderGetByID(ctx, pay.OrderID)
	if err != nil {
		return order.Order{}, err
	}
	cur := order.FromRow(row)
	refunded, err := refundedTotal(ctx, q, pay)
	if err != nil || refunded <= 0 || pay.AmountReceived <= 0 {
		return cur, err
	}
	changed := refunded > before
	to := order.PartiallyRefunded
	if refunded >= pay.AmountReceived {
		to = order.Refunded
	}
	if (cur.Status == to && !changed) || !order.CanTransition(cur.Status, to) {
		return cur, nil
	}
	return s.orders.TransitionTx(ctx, q, order.SystemActor, pay.OrderID, to,
		order.TransitionOptions{Note: fmt.Sprintf("refunded %d of %d %s", refunded, pay.AmountReceived, row.Currency), RefundedAmount: refunded - before,
			RefundedTotal: refunded, RefundID: refundID})
}

// unavailable is the user-facing form of a provider failure.
func unavailable(err error) error {
	return &apperr.Error{Code: apperr.PaymentProviderUnavailable, Err: err,
		Message: "The payment provider could not be reached. Your order is saved; try paying again shortly."}
}

// IsUnavailable reports whether err is a provider outage.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }
