package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/jobs"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Options configure the service.
type Options struct {
	// Timeout bounds one delivery attempt: connecting, TLS, the request and the response
	// headers (WEBHOOK_TIMEOUT); 0: 5 s.
	Timeout time.Duration
	// Guard keeps deliveries off internal addresses.
	Guard Guard
	// MaxAttempts of an event's delivery; 0: MaxAttempts.
	MaxAttempts int
	// Backoff is the wait after failed attempt n; nil: Backoff.
	Backoff func(attempt int) time.Duration
}

// Service manages subscriptions, owes events (Emitter's methods) and sends deliveries.
type Service struct {
	db     *postgres.DB
	jobs   *jobs.Queue
	log    *slog.Logger
	opts   Options
	client *http.Client
}

// NewService returns the webhook service.
func NewService(d *postgres.DB, q *jobs.Queue, log *slog.Logger, opts Options) *Service {
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = MaxAttempts
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, Control: opts.Guard.Control}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, past the guard
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   opts.Timeout,
		// A redirect is not followed (it could point anywhere); a 3xx is a failed attempt.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Service{db: d, jobs: q, log: log, opts: opts, client: client}
}

// Timeout is one attempt's bound.
func (s *Service) Timeout() time.Duration { return s.opts.Timeout }

// CreateInput is a new subscription.
type CreateInput struct {
	URL         string
	EventTypes  []EventType
	Description string
}

// UpdateInput changes a subscription; nil fields keep their value.
type UpdateInput struct {
	ID          int64
	URL         *string
	EventTypes  []EventType // nil: unchanged
	Description *string
	Active      *bool
}

// checkURL validates a target: its shape, then its addresses.
// Errors: INVALID, WEBHOOK_TARGET_FORBIDDEN (on input.url).
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	u, err := ParseURL(raw)
	if err != nil {
		return "", err
	}
	if err := s.opts.Guard.Check(ctx, u); err != nil {
		if errors.Is(err, ErrForbiddenTarget) {
			return "", &apperr.Error{Code: apperr.WebhookTargetForbidden, Field: []string{"input", "url"}, Err: err,
				Message: "The URL points at a private, loopback, link-local or otherwise internal address; webhooks only go to public addresses."}
		}
		return "", &apperr.Error{Code: apperr.Invalid, Field: []string{"input", "url"}, Err: err,
			Message: "The URL's host name does not resolve."}
	}
	return u.String(), nil
}

// checkTypes validates and de-duplicates the event types of a subscription.
func checkTypes(types []EventType) ([]string, error) {
	if len(types) == 0 {
		return nil, apperr.FieldError(apperr.Invalid, "Choose at least one event type.", "input", "eventTypes")
	}
	out := make([]string, 0, len(types))
	for _, t := range types {
		if !t.Valid() {
			return nil, apperr.FieldError(apperr.Invalid, fmt.Sprintf("%s cannot be subscribed to.", t), "input", "eventTypes")
		}
		if !slices.Contains(out, string(t)) {
			out = append(out, string(t))
		}
	}
	slices.Sort(out)
	return out, nil
}

func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > 500 {
		return "", apperr.FieldError(apperr.Invalid, "The description is longer than 500 characters.", "input", "description")
	}
	return d, nil
}

// NewSecret is a subscription's signing secret: whsec_ and 32 random bytes, base64url.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// Create subscribes a URL to event types and returns the subscription with its secret, which
// is shown this once and never again. An admin's subscription gets every event; a vendor's,
// those about its own products and lines.
// Errors: FORBIDDEN (customers), INVALID, WEBHOOK_TARGET_FORBIDDEN; nothing is saved on any.
func (s *Service) Create(ctx context.Context, v auth.Viewer, in CreateInput) (Subscription, string, error) {
	scope, err := ScopeFor(v)
	if err != nil {
		return Subscription{}, "", err
	}
	var list apperr.List
	types, err := checkTypes(in.EventTypes)
	list = appendErr(list, err)
	desc, err := checkDescription(in.Description)
	list = appendErr(list, err)
	target, err := s.checkURL(ctx, in.URL)
	list = appendErr(list, err)
	if len(list) > 0 {
		return Subscription{}, "", list
	}
	secret, err := NewSecret()
	if err != nil {
		return Subscription{}, "", err
	}
	creator := v.UserID
	row, err := s.db.WebhookSubscriptionInsert(ctx, db.WebhookSubscriptionInsertParams{
		Url: target, Secret: secret, EventTypes: types, Description: desc, VendorID: scope, CreatedBy: &creator,
	})
	if err != nil {
		return Subscription{}, "", fmt.Errorf("insert webhook subscription: %w", err)
	}
	return subscriptionFromRow(row), secret, nil
}

func appendErr(list apperr.List, err error) apperr.List {
	if err == nil {
		return list
	}
	var l apperr.List
	if errors.As(err, &l) {
		return append(list, l...)
	}
	if e := apperr.As(err); e != nil {
		return append(list, e)
	}
	return append(list, &apperr.Error{Code: apperr.Internal, Err: err})
}

// notFound is the error for a subscription v may not see: it does not exist for v.
func notFound(field ...string) error {
	return apperr.FieldError(apperr.NotFound, "No webhook has this ID.", field...)
}

// Get returns a subscription v may manage. Errors: NOT_FOUND.
func (s *Service) Get(ctx context.Context, v auth.Viewer, id int64) (Subscription, error) {
	row, err := s.db.WebhookSubscriptionGet(ctx, id)
	if postgres.IsNotFound(err) {
		return Subscription{}, notFound("id")
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("get webhook: %w", err)
	}
	sub := subscriptionFromRow(row)
	if !CanManage(v, sub) {
		return Subscription{}, notFound("id")
	}
	return sub, nil
}

// Update changes a subscription's URL, event types, description or active flag (the secret
// never changes). Errors: NOT_FOUND, INVALID, WEBHOOK_TARGET_FORBIDDEN.
func (s *Service) Update(ctx context.Context, v auth.Viewer, in UpdateInput) (Subscription, error) {
	var list apperr.List
	var types []string
	if in.EventTypes != nil {
		t, err := checkTypes(in.EventTypes)
		list, types = appendErr(list, err), t
	}
	var desc *string
	if in.Description != nil {
		d, err := checkDescription(*in.Description)
		list, desc = appendErr(list, err), &d
	}
	var target *string
	if in.URL != nil {
		u, err := s.checkURL(ctx, *in.URL)
		list, target = appendErr(list, err), &u
	}
	var updated Subscription
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.WebhookSubscriptionGetForUpdate(ctx, in.ID)
		if postgres.IsNotFound(err) || (err == nil && !CanManage(v, subscriptionFromRow(row))) {
			return notFound("input", "id")
		}
		if err != nil {
			return fmt.Errorf("lock webhook: %w", err)
		}
		if len(list) > 0 {
			return list
		}
		p := db.WebhookSubscriptionUpdateParams{ID: row.ID, Url: row.Url, EventTypes: row.EventTypes, Description: row.Description, Active: row.Active}
		if target != nil {
			p.Url = *target
		}
		if types != nil {
			p.EventTypes = types
		}
		if desc != nil {
			p.Description = *desc
		}
		if in.Active != nil {
			p.Active = *in.Active
		}
		row, err = q.WebhookSubscriptionUpdate(ctx, p)
		if err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		updated = subscriptionFromRow(row)
		return nil
	})
	return updated, err
}

// Delete removes a subscription and its delivery log; deliveries not yet sent are dropped.
// Errors: NOT_FOUND.
func (s *Service) Delete(ctx context.Context, v auth.Viewer, id int64) (Subscription, error) {
	var deleted Subscription
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.WebhookSubscriptionGetForUpdate(ctx, id)
		if postgres.IsNotFound(err) || (err == nil && !CanManage(v, subscriptionFromRow(row))) {
			return notFound("input", "id")
		}
		if err != nil {
			return fmt.Errorf("lock webhook: %w", err)
		}
		deleted = subscriptionFromRow(row)
		return q.WebhookSubscriptionDelete(ctx, id)
	})
	return deleted, err
}

// Page is one page of subscriptions, newest first.
type Page struct {
	Subscriptions []Subscription
	Cursors       []string
	HasNextPage   bool
	TotalCount    int
}

// MaxPage is the most items a page holds.
const MaxPage = 100

// cursor encodes a keyset position (an id) for `after`.
func cursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("wh:" + strconv.FormatInt(id, 10)))
}

// afterID decodes a cursor; "" is the start. Errors: INVALID on after.
func afterID(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(after)
	rest, ok := strings.CutPrefix(string(b), "wh:")
	id, perr := strconv.ParseInt(rest, 10, 64)
	if err != nil || !ok || perr != nil || id <= 0 {
		return 0, apperr.FieldError(apperr.BadUserInput, "Invalid cursor.", "after")
	}
	return id, nil
}

func pageSize(first int) (int, error) {
	if first < 0 || first > MaxPage {
		return 0, apperr.FieldError(apperr.BadUserInput, "first must be between 0 and 100.", "first")
	}
	return first, nil
}

// List returns a page of the subscriptions v manages: every one for an admin, its own for a
// vendor. Errors: FORBIDDEN (customers), BAD_USER_INPUT (first, after).
func (s *Service) List(ctx context.Context, v auth.Viewer, first int, after string) (Page, error) {
	every, vendor, err := ListScope(v)
	if err != nil {
		return Page{}, err
	}
	n, err := pageSize(first)
	if err != nil {
		return Page{}, err
	}
	from, err := afterID(after)
	if err != nil {
		return Page{}, err
	}
	rows, err := s.db.WebhookSubscriptionList(ctx, db.WebhookSubscriptionListParams{Every: every, VendorID: vendor, AfterID: from, Lim: int32(n + 1)})
	if err != nil {
		return Page{}, fmt.Errorf("list webhooks: %w", err)
	}
	total, err := s.db.WebhookSubscriptionCount(ctx, db.WebhookSubscriptionCountParams{Every: every, VendorID: vendor})
	if err != nil {
		return Page{}, fmt.Errorf("count webhooks: %w", err)
	}
	p := Page{TotalCount: int(total), HasNextPage: len(rows) > n}
	for _, r := range rows[:min(n, len(rows))] {
		p.Subscriptions = append(p.Subscriptions, subscriptionFromRow(r))
		p.Cursors = append(p.Cursors, cursor(r.ID))
	}
	return p, nil
}

// DeliveryPage is one page of a subscription's delivery log, newest first.
type DeliveryPage struct {
	Deliveries  []Delivery
	Cursors     []string
	HasNextPage bool
	TotalCount  int
}

// Deliveries returns a page of the delivery log of subscription id, which v must manage.
// Errors: NOT_FOUND, BAD_USER_INPUT.
func (s *Service) Deliveries(ctx context.Context, v auth.Viewer, id int64, first int, after string) (DeliveryPage, error) {
	if _, err := s.Get(ctx, v, id); err != nil {
		return DeliveryPage{}, err
	}
	n, err := pageSize(first)
	if err != nil {
		return DeliveryPage{}, err
	}
	from, err := afterID(after)
	if err != nil {
		return DeliveryPage{}, err
	}
	rows, err := s.db.WebhookDeliveryList(ctx, db.WebhookDeliveryListParams{SubscriptionID: id, AfterID: from, Lim: int32(n + 1)})
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	total, err := s.db.WebhookDeliveryCount(ctx, id)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("count webhook deliveries: %w", err)
	}
	p := DeliveryPage{TotalCount: int(total), HasNextPage: len(rows) > n}
	for _, r := range rows[:min(n, len(rows))] {
		p.Deliveries = append(p.Deliveries, deliveryFromRow(r))
		p.Cursors = append(p.Cursors, cursor(r.ID))
	}
	return p, nil
}

// Attempts are a delivery's attempts, oldest first (the caller has read the delivery through
// Deliveries, which checked who may see it).
func (s *Service) Attempts(ctx context.Context, deliveryID int64) ([]Attempt, error) {
	rows, err := s.db.WebhookDeliveryAttempts(ctx, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("list webhook delivery attempts: %w", err)
	}
	out := make([]Attempt, len(rows))
	for i, r := range rows {
		out[i] = Attempt{ResponseCode: intPtr(r.ResponseCode), Error: r.Error, Duration: time.Duration(r.DurationMs) * time.Millisecond, At: r.CreatedAt}
	}
	return out, nil
}

// Test owes subscription id a WEBHOOK_TEST event, sent once by the worker like any other
// (signed, logged), whatever the event types it subscribes to. Errors: NOT_FOUND.
func (s *Service) Test(ctx context.Context, v auth.Viewer, id int64) (Delivery, error) {
	var d Delivery
	err := s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		row, err := q.WebhookSubscriptionGetForUpdate(ctx, id)
		if postgres.IsNotFound(err) || (err == nil && !CanManage(v, subscriptionFromRow(row))) {
			return notFound("input", "id")
		}
		if err != nil {
			return fmt.Errorf("lock webhook: %w", err)
		}
		sub := subscriptionFromRow(row)
		seq, err := q.WebhookSequenceNext(ctx, db.WebhookSequenceNextParams{ResourceType: "webhook", ResourceID: id})
		if err != nil {
			return fmt.Errorf("number test event: %w", err)
		}
		eventID, err := newEventID()
		if err != nil {
			return err
		}
		body, err := envelope(eventID, Test, time.Now(), Resource{Type: "webhook", ID: sub.GlobalID()}, seq,
			map[string]any{"message": "This is a test event from shopgraph.", "webhookId": sub.GlobalID()})
		if err != nil {
			return err
		}
		ids, err := q.WebhookDeliveryInsert(ctx, db.WebhookDeliveryInsertParams{
			SubscriptionIds: []int64{id}, EventIds: []string{eventID}, EventTypes: []string{string(Test)},
			ResourceTypes: []string{"webhook"}, ResourceIds: []int64{id}, Sequences: []int64{seq}, Bodies: [][]byte{body},
		})
		if err != nil {
			return fmt.Errorf("insert test delivery: %w", err)
		}
		if err := s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{s.jobParams(ids[0], true)}); err != nil {
			return err
		}
		got, err := q.WebhookDeliveryGet(ctx, ids[0])
		d = deliveryFromGetRow(got)
		return err
	})
	return d, err
}

// Retry redelivers delivery id now, once (a manual redelivery), whatever became of it: the
// same event id and body, a new signature. Errors: NOT_FOUND.
func (s *Service) Retry(ctx context.Context, v auth.Viewer, id int64) (Delivery, error) {
	var d Delivery
	err := s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
		cur, err := q.WebhookDeliveryGet(ctx, id)
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "No webhook delivery has this ID.", "input", "id")
		}
		if err != nil {
			return fmt.Errorf("get webhook delivery: %w", err)
		}
		sub, err := q.WebhookSubscriptionGetForUpdate(ctx, cur.SubscriptionID)
		if err != nil || !CanManage(v, subscriptionFromRow(sub)) {
			return apperr.FieldError(apperr.NotFound, "No webhook delivery has this ID.", "input", "id")
		}
		row, err := q.WebhookDeliveryReset(ctx, id)
		if err != nil {
			return fmt.Errorf("reset webhook delivery: %w", err)
		}
		d = deliveryFromRow(row)
		return s.jobs.InsertManyTx(ctx, tx, []river.InsertManyParams{s.jobParams(id, true)})
	})
	return d, err
}

// jobParams is the delivery job of delivery id: manual ones (tests, redeliveries) are tried
// once, events' up to MaxAttempts times.
func (s *Service) jobParams(id int64, manual bool) river.InsertManyParams {
	attempts := s.opts.MaxAttempts
	if manual {
		attempts = 1
	}
	return river.InsertManyParams{Args: jobs.DeliverWebhookArgs{DeliveryID: id, Manual: manual},
		InsertOpts: &river.InsertOpts{Queue: jobs.QueueWebhooks, MaxAttempts: attempts}}
}

// ErrGone is a delivery whose row (or subscription) was deleted: nothing to send.
var ErrGone = errors.New("webhook delivery gone")

// Deliver makes one attempt at delivery id and records it: SUCCEEDED on a 2xx answer;
// otherwise PENDING, or FAILED when last (the job's last attempt). It returns an error when
// the attempt failed (for the job to retry), ErrGone when the delivery no longer exists; a
// delivery already SUCCEEDED is not sent again.
func (s *Service) Deliver(ctx context.Context, id int64, last bool) (Delivery, error) {
	row, err := s.db.WebhookDeliveryGet(ctx, id)
	if postgres.IsNotFound(err) {
		return Delivery{}, ErrGone
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("get webhook delivery %d: %w", id, err)
	}
	if Status(row.Status) == Succeeded {
		return deliveryFromGetRow(row), nil
	}
	code, took, sendErr := s.post(ctx, row)
	status := Succeeded
	var errText *string
	if sendErr != nil {
		status = Pending
		if last {
			status = Failed
		}
		t := sendErr.Error()
		if len(t) > 1000 {
			t = t[:1000]
		}
		errText = &t
	}
	var codePtr *int32
	if code != 0 {
		c := int32(code)
		codePtr = &c
	}
	rec, err := s.db.WebhookDeliveryRecordAttempt(context.WithoutCancel(ctx), db.WebhookDeliveryRecordAttemptParams{
		ID: id, Status: string(status), ResponseCode: codePtr, Error: errText, DurationMs: int32(took.Milliseconds()),
	})
	if postgres.IsNotFound(err) {
		return Delivery{}, ErrGone
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("record webhook attempt %d: %w", id, err)
	}
	if sendErr != nil {
		return deliveryFromRow(rec), fmt.Errorf("deliver webhook %d: %w", id, sendErr)
	}
	return deliveryFromRow(rec), nil
}

// post sends a delivery's body, signed now, and returns the response code (0: none) and what
// went wrong (nil on 2xx).
func (s *Service) post(ctx context.Context, d db.WebhookDeliveryGetRow) (int, time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Url, strings.NewReader(string(d.Body)))
	if err != nil {
		return 0, time.Since(start), fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shopgraph-webhooks/1")
	req.Header.Set(SignatureHeader, Sign(d.Secret, time.Now(), d.Body))
	req.Header.Set(EventIDHeader, d.EventID)
	req.Header.Set(EventTypeHeader, d.EventType)
	resp, err := s.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return 0, time.Since(start), fmt.Errorf("no answer within %s: %w", s.opts.Timeout, err)
		}
		return 0, time.Since(start), err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, time.Since(start), fmt.Errorf("receiver answered HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, time.Since(start), nil
}

// newEventID is an event's stable id: evt_ and 16 random bytes, hex.
func newEventID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("event id: %w", err)
	}
	return "evt_" + hex.EncodeToString(b), nil
}

// GetDelivery returns a delivery of a subscription v manages. Errors: NOT_FOUND.
func (s *Service) GetDelivery(ctx context.Context, v auth.Viewer, id int64) (Delivery, error) {
	row, err := s.db.WebhookDeliveryGet(ctx, id)
	if postgres.IsNotFound(err) {
		return Delivery{}, apperr.FieldError(apperr.NotFound, "No webhook delivery has this ID.", "id")
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("get webhook delivery: %w", err)
	}
	if _, err := s.Get(ctx, v, row.SubscriptionID); err != nil {
		return Delivery{}, apperr.FieldError(apperr.NotFound, "No webhook delivery has this ID.", "id")
	}
	return deliveryFromGetRow(row), nil
}
