package notify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// DeliveryStatus is where one email to one recipient is (email_deliveries.status).
type DeliveryStatus string

// Delivery statuses.
const (
	// DeliveryPending: claimed, not sent yet; a transient failure leaves it pending (LastError)
	// while its job retries.
	DeliveryPending DeliveryStatus = statusPending
	// DeliverySent: the mail server accepted it; it is never sent again.
	DeliverySent DeliveryStatus = statusSent
	// DeliveryFailed: the mail server refused it for good (LastError); it is not tried again.
	DeliveryFailed DeliveryStatus = statusFailed
)

// Kind is which email a delivery is, the part of its event key before the first colon.
type Kind string

// Kinds of email.
const (
	KindOrderPlaced Kind = "order_placed" // an order's confirmation
	KindOrderStatus Kind = "order_status" // the email of an order's move
	// KindVendorOrder is a vendor's notice of a paid order holding its lines.
	KindVendorOrder Kind = "vendor_order"
	// KindLowStock is a vendor's notice of a variant's stock crossing its threshold.
	KindLowStock Kind = "low_stock"
	// KindVendorApplication is the admins' notice of an application to sell.
	KindVendorApplication Kind = "vendor_application"
)

// Delivery is the record of one email owed to one recipient for one event.
type Delivery struct {
	ID        int64
	EventKey  string // "order_placed:42", "order_status:42:3", "vendor_order:42:1000001"…
	Kind      Kind
	Recipient string
	Status    DeliveryStatus
	Attempts  int     // sends tried: at most one after it is sent or failed
	LastError *string // the mail server's last refusal or the last transient error
	CreatedAt time.Time
	UpdatedAt time.Time
	SentAt    *time.Time
}

// GlobalID is the delivery's node ID.
func (d Delivery) GlobalID() string { return gid.Encode(gid.EmailDelivery, d.ID) }

func deliveryFromRow(r db.EmailDelivery) Delivery {
	kind, _, _ := strings.Cut(r.EventKey, ":")
	return Delivery{ID: r.ID, EventKey: r.EventKey, Kind: Kind(kind), Recipient: r.Recipient,
		Status: DeliveryStatus(r.Status), Attempts: int(r.Attempts), LastError: r.LastError,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, SentAt: r.SentAt}
}

// DeliveryFilter narrows a list of deliveries; nil fields do not filter.
type DeliveryFilter struct {
	Status    *DeliveryStatus
	Recipient *string // the exact address
}

// DeliveryPage is one page of deliveries, newest first, with each one's cursor.
type DeliveryPage struct {
	Deliveries  []Delivery
	Cursors     []string
	HasNextPage bool
}

// ListDeliveries returns a page of at most first (1–100) deliveries matching f, newest first,
// after the cursor `after` ("" for the first page). Errors: FORBIDDEN for anyone but an admin,
// BAD_USER_INPUT for a page size out of range or a cursor that is not one.
func (s *Service) ListDeliveries(ctx context.Context, v auth.Viewer, first int, after string, f DeliveryFilter) (DeliveryPage, error) {
	if !CanSeeDeliveries(v) {
		return DeliveryPage{}, errDeliveriesForbidden
	}
	if first < 1 || first > 100 {
		return DeliveryPage{}, apperr.FieldError(apperr.BadUserInput, "Page size must be between 1 and 100.", "first")
	}
	params := db.EmailDeliveryListParams{Lim: int32(first + 1), Recipient: f.Recipient}
	if f.Status != nil {
		st := string(*f.Status)
		params.Status = &st
	}
	if after != "" {
		at, id, err := decodeDeliveryCursor(after)
		if err != nil {
			return DeliveryPage{}, err
		}
		params.AfterCreatedAt, params.AfterID = &at, &id
	}
	rows, err := db.New(s.db.Pool).EmailDeliveryList(ctx, params)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list email deliveries: %w", err)
	}
	page := DeliveryPage{HasNextPage: len(rows) > first}
	if page.HasNextPage {
		rows = rows[:first]
	}
	for _, r := range rows {
		page.Deliveries = append(page.Deliveries, deliveryFromRow(r))
		page.Cursors = append(page.Cursors, encodeDeliveryCursor(r.CreatedAt, r.ID))
	}
	return page, nil
}

// CountDeliveries returns how many deliveries match f (admins only, as ListDeliveries).
func (s *Service) CountDeliveries(ctx context.Context, v auth.Viewer, f DeliveryFilter) (int, error) {
	if !CanSeeDeliveries(v) {
		return 0, errDeliveriesForbidden
	}
	params := db.EmailDeliveryCountParams{Recipient: f.Recipient}
	if f.Status != nil {
		st := string(*f.Status)
		params.Status = &st
	}
	n, err := db.New(s.db.Pool).EmailDeliveryCount(ctx, params)
	if err != nil {
		return 0, fmt.Errorf("count email deliveries: %w", err)
	}
	return int(n), nil
}

// Delivery returns delivery id (admins only; NOT_FOUND when there is none).
func (s *Service) Delivery(ctx context.Context, v auth.Viewer, id int64) (Delivery, error) {
	if !CanSeeDeliveries(v) {
		return Delivery{}, errDeliveriesForbidden
	}
	r, err := db.New(s.db.Pool).EmailDeliveryGetByID(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Delivery{}, apperr.New(apperr.NotFound, "email delivery not found")
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("get email delivery %d: %w", id, err)
	}
	return deliveryFromRow(r), nil
}

// A cursor is the row's creation time and id, exactly (no float on the way).
func encodeDeliveryCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "," + strconv.FormatInt(id, 10)))
}

func decodeDeliveryCursor(c string) (time.Time, int64, error) {
	invalid := apperr.FieldError(apperr.BadUserInput, "The after cursor is not valid.", "after")
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, invalid
	}
	ts, num, ok := strings.Cut(string(raw), ",")
	if !ok {
		return time.Time{}, 0, invalid
	}
	at, err1 := time.Parse(time.RFC3339Nano, ts)
	id, err2 := strconv.ParseInt(num, 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, invalid
	}
	return at, id, nil
}
