// Package notify sends shopgraph's transactional emails. A state change that owes an email
// inserts its River job in the change's own transaction (a rolled-back change sends nothing, a
// committed one is never lost); the job's worker renders the message from templates embedded
// in the binary (an HTML and a plain-text part) and delivers it over SMTP (SMTP_URL). Each
// send is recorded per (event, recipient) in email_deliveries, so a retried job never sends
// twice once the send is marked; a permanent refusal (5xx) is recorded as failed and not
// retried, a transient failure is retried by River with backoff.
//
// It sends the "order placed" confirmation (checkout's transaction) and the email of each move
// of an order (paid, shipped, delivered, cancelled, refunded in full or in part), owed in the
// move's transaction by order.Service.TransitionTx through its Notifier hook, keyed by the
// order and the move's event sequence: once per move, two partial refunds two emails.
//
// It also sends the vendors' and admins' notices (notices.go): each vendor of a paid order its
// own lines, a vendor's low-stock crossings, and every admin a new application to sell.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
)

// Message is one email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer delivers a message. An error that wraps ErrPermanent will not succeed on a retry.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrPermanent marks a delivery the server refused for good (an SMTP 5xx reply).
var ErrPermanent = errors.New("permanent delivery failure")

// Service owes and sends emails.
type Service struct {
	db        *postgres.DB
	jobs      *jobs.Queue
	mailer    Mailer
	log       *slog.Logger
	templates *Templates
	rate      RateLimit
	// storefrontURL is where account emails' links point (Options.StorefrontURL).
	storefrontURL string
}

// Options are the service's settings beyond its dependencies.
type Options struct {
	// Templates render the emails (LoadTemplates); nil: the embedded ones.
	Templates *Templates
	// Rate bounds how fast emails are sent.
	Rate RateLimit
	// StorefrontURL is the base of the account emails' links (STOREFRONT_URL);
	// "" means DefaultStorefrontURL.
	StorefrontURL string
}

// RateLimit bounds the sends of every instance that shares Buckets (Redis: all of them) to
// PerSecond. A send over it waits for its turn, up to MaxWait; past that its job is snoozed
// (River's JobSnooze), to be tried again later without using up an attempt. No email is
// dropped. A nil Buckets or PerSecond 0 sends as fast as the workers go.
type RateLimit struct {
	Buckets   ratelimit.Buckets
	PerSecond int
	// MaxWait is the longest a send waits in its worker; 0 means DefaultMaxWait.
	MaxWait time.Duration
}

// DefaultMaxWait is how long a send waits for its turn before its job is snoozed.
const DefaultMaxWait = 5 * time.Second

// RateLimitedError is a send whose turn is further off than RateLimit.MaxWait: its job is
// snoozed for RetryAfter.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("email rate limit reached; next turn in %s", e.RetryAfter)
}

// Configure sets the service's options; call it before the service is used.
func (s *Service) Configure(o Options) {
	s.templates = o.Templates
	s.rate = o.Rate
	s.storefrontURL = o.StorefrontURL
}

func (s *Service) tmpl() *Templates {
	if s.templates == nil {
		return defaultTemplates
	}
	return s.templates
}

// rateKey is the bucket of every send, whichever the email.
const rateKey = "smtp"

// waitTurn takes a send's turn under the rate limit, waiting for it up to MaxWait; further
// off, it returns a *RateLimitedError. When the limiter itself fails (Redis is down) the
// email is sent: holding every email back would be worse than a burst at the provider.
func (s *Service) waitTurn(ctx context.Context) error {
	r := s.rate
	if r.Buckets == nil || r.PerSecond <= 0 {
		return nil
	}
	maxWait := r.MaxWait
	if maxWait == 0 {
		maxWait = DefaultMaxWait
	}
	var waited time.Duration
	for {
		ok, retry, err := r.Buckets.Take(ctx, rateKey, r.PerSecond, time.Second)
		if err != nil {
			s.log.WarnContext(ctx, "email rate limit unavailable; sending", "err", err)
			return nil
		}
		if ok {
			return nil
		}
		retry = max(retry, time.Millisecond)
		if waited+retry > maxWait {
			return &RateLimitedError{RetryAfter: retry}
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		waited += retry
	}
}

// NewService returns the email service. A nil mailer (no SMTP_URL) turns emails off: no job
// is inserted.
func NewService(d *postgres.DB, q *jobs.Queue, mailer Mailer, log *slog.Logger) *Service {
	return &Service{db: d, jobs: q, mailer: mailer, log: log}
}

// Enabled reports whether emails are sent.
func (s *Service) Enabled() bool { return s != nil && s.mailer != nil }

// OrderPlaced owes order orderID's confirmation email: it inserts its job in tx, the
// transaction that places the order. It does nothing when emails are off.
func (s *Service) OrderPlaced(ctx context.Context, tx pgx.Tx, orderID int64) error {
	if !s.Enabled() {
		return nil
	}
	return s.jobs.ScheduleOrderPlacedEmail(ctx, tx, orderID)
}

// Outcome is what one run of an email job did.
type Outcome string

// Outcomes.
const (
	Sent        Outcome = "sent"
	AlreadySent Outcome = "already_sent"
	Failed      Outcome = "failed" // refused for good, recorded; not retried
)

// SendOrderPlaced sends order orderID's confirmation to its customer, unless it was sent (or
// refused for good) before. A transient failure is returned, for the job to retry; a
// permanent one is recorded and returned wrapping ErrPermanent, with the Failed outcome.
func (s *Service) SendOrderPlaced(ctx context.Context, orderID int64) (Outcome, error) {
	if !s.Enabled() {
		return "", fmt.Errorf("order %d's email: %w: SMTP_URL is not set", orderID, ErrPermanent)
	}
	q := db.New(s.db.Pool)
	o, email, err := orderAndCustomer(ctx, q, orderID)
	if err != nil {
		return "", err
	}
	lineRows, err := q.OrderLineListByOrderIDs(ctx, []int64{orderID})
	if err != nil {
		return "", fmt.Errorf("get order %d's lines: %w", orderID, err)
	}
	lines := make([]order.Line, len(lineRows))
	for i, r := range lineRows {
		lines[i] = order.LineOf(r)
	}
	msg, err := s.tmpl().OrderPlacedMessage(email, o, lines)
	if err != nil {
		return "", err
	}
	return s.deliver(ctx, fmt.Sprintf("order_placed:%d", orderID), msg)
}

// orderAndCustomer reads an order and its customer's email address, the recipient of every
// email about it.
func orderAndCustomer(ctx context.Context, q *db.Queries, orderID int64) (order.Order, string, error) {
	row, err := q.OrderGetByID(ctx, orderID)
	if err != nil {
		return order.Order{}, "", fmt.Errorf("get order %d: %w", orderID, err)
	}
	if row.UserID == nil {
		return order.Order{}, "", fmt.Errorf("order %d's customer deleted the account: %w", orderID, ErrPermanent)
	}
	customer, err := q.UserGetByID(ctx, *row.UserID)
	if err != nil {
		return order.Order{}, "", fmt.Errorf("get order %d's customer: %w", orderID, err)
	}
	return order.FromRow(row), customer.Email, nil
}

// deliver sends msg once per (eventKey, recipient): it claims the delivery's row, skips one
// already sent or failed, sends, and marks it sent. A crash between the send and the mark
// sends it again on the retry (at least once); once marked, never again. It first waits for
// its turn under the rate limit (waitTurn).
func (s *Service) deliver(ctx context.Context, eventKey string, msg Message) (Outcome, error) {
	if err := s.waitTurn(ctx); err != nil {
		return "", err
	}
	q := db.New(s.db.Pool)
	d, err := q.EmailDeliveryClaim(ctx, db.EmailDeliveryClaimParams{EventKey: eventKey, Recipient: msg.To})
	if err != nil {
		return "", fmt.Errorf("claim email delivery %s: %w", eventKey, err)
	}
	switch d.Status {
	case statusSent:
		return AlreadySent, nil
	case statusFailed:
		return Failed, nil
	}
	sendErr := s.mailer.Send(ctx, msg)
	if sendErr == nil {
		if err := q.EmailDeliveryMarkSent(ctx, d.ID); err != nil {
			return "", fmt.Errorf("mark email delivery %s sent: %w", eventKey, err)
		}
		return Sent, nil
	}
	status, outcome := statusPending, Outcome("")
	if errors.Is(sendErr, ErrPermanent) {
		status, outcome = statusFailed, Failed
	}
	text := sendErr.Error()
	if err := q.EmailDeliveryRecordError(ctx, db.EmailDeliveryRecordErrorParams{ID: d.ID, Status: status, LastError: &text}); err != nil {
		s.log.ErrorContext(ctx, "record email delivery error", "event_key", eventKey, "err", err)
	}
	return outcome, fmt.Errorf("send email %s: %w", eventKey, sendErr)
}

// A delivery's statuses (email_deliveries.status).
const (
	statusPending = "pending"
	statusSent    = "sent"
	statusFailed  = "failed"
)

// emailedStatuses are the moves the customer is told of.
var emailedStatuses = map[order.Status]bool{
	order.Paid: true, order.Shipped: true, order.Delivered: true, order.Cancelled: true,
	order.Refunded: true, order.PartiallyRefunded: true,
}

// StatusChanged owes the customer the email of an order's move (paid, shipped, delivered,
// cancelled, refunded): it inserts its job in tx, the move's transaction; a move to PAID also
// owes each vendor of the order's lines its notice (SendVendorOrders), whose job goes in the
// same statement. It does nothing when emails are off or the move has no email.
func (s *Service) StatusChanged(ctx context.Context, tx pgx.Tx, c order.StatusChange) error {
	if !s.Enabled() || !emailedStatuses[c.Status] {
		return nil
	}
	args := jobs.SendOrderStatusEmailArgs{
		OrderID: c.OrderID, Sequence: c.Sequence, Status: string(c.Status), RefundedAmount: c.RefundedAmount}
	if c.Status == order.Paid {
		// A paid order is the vendors' cue to fulfil their lines: their notices' job goes with
		// the customer's email, in the same statement (SendVendorOrders finds the vendors).
		return s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{{Args: args}, {Args: jobs.SendVendorOrderEmailsArgs{OrderID: c.OrderID}}})
	}
	return s.jobs.ScheduleOrderStatusEmail(ctx, tx, args)
}

// StatusEventKey is the delivery key of the email of an order's move: one per move.
func StatusEventKey(orderID int64, sequence int) string {
	return fmt.Sprintf("order_status:%d:%d", orderID, sequence)
}

// SendOrderStatus sends the email of order orderID's move number sequence (to status), unless
// it was sent (or refused for good) before; errors as SendOrderPlaced's.
func (s *Service) SendOrderStatus(ctx context.Context, c order.StatusChange) (Outcome, error) {
	if !s.Enabled() {
		return "", fmt.Errorf("order %d's email: %w: SMTP_URL is not set", c.OrderID, ErrPermanent)
	}
	o, email, err := orderAndCustomer(ctx, db.New(s.db.Pool), c.OrderID)
	if err != nil {
		return "", err
	}
	var shipments []Shipment
	if c.Status == order.Shipped {
		// The fulfilments as they are when the email goes out: each carrier and tracking link.
		fs, err := db.New(s.db.Pool).FulfillmentListByOrderIDs(ctx, []int64{o.ID})
		if err != nil {
			return "", fmt.Errorf("order %d's fulfilments: %w", o.ID, err)
		}
		for _, f := range fs {
			sh := Shipment{Carrier: f.Carrier, TrackingNumber: f.TrackingNumber}
			if f.TrackingUrl != nil {
				sh.TrackingURL = *f.TrackingUrl
			}
			shipments = append(shipments, sh)
		}
	}
	msg, err := s.tmpl().OrderStatusMessageWith(email, o, c, shipments)
	if err != nil {
		return "", err
	}
	return s.deliver(ctx, StatusEventKey(c.OrderID, c.Sequence), msg)
}
