// Package webhook sends shopgraph's outbound webhooks. Admins, and vendors for the events about
// their own products and order lines, subscribe a URL to event types. The change an event
// tells of writes the event's deliveries (one per matching subscription, with the exact body)
// and their River jobs in its own transaction (Emitter): a rolled-back change sends nothing, a
// committed one is never lost. The worker POSTs the body signed in Stripe's scheme
// (Shopgraph-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">), with a short timeout and on
// a queue of its own, retries with exponential backoff for about 24 hours (Backoff), then marks
// the delivery FAILED; every attempt is logged. Targets on private, loopback, link-local and
// other internal addresses are refused when a subscription is saved and again when the worker
// dials (Guard), unless the operator allows them (WEBHOOK_ALLOW_PRIVATE_TARGETS).
//
// It is the one domain besides payment that speaks HTTP outward (internal/archtest's
// exception): it posts to the receivers.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopgraph/shopgraph/internal/gid"
)

// EventType is what an event tells of.
type EventType string

// Event types. Test is only sent by webhookTest; nobody subscribes to it.
const (
	OrderCreated   EventType = "ORDER_CREATED"
	OrderPaid      EventType = "ORDER_PAID"
	OrderFulfilled EventType = "ORDER_FULFILLED"
	OrderCancelled EventType = "ORDER_CANCELLED"
	OrderRefunded  EventType = "ORDER_REFUNDED"
	ProductCreated EventType = "PRODUCT_CREATED"
	ProductUpdated EventType = "PRODUCT_UPDATED"
	StockChanged   EventType = "STOCK_CHANGED"
	// The fulfilment events: a vendor's subscription receives its own fulfilments' only.
	FulfillmentCreated         EventType = "FULFILLMENT_CREATED"
	FulfillmentTrackingUpdated EventType = "FULFILLMENT_TRACKING_UPDATED"
	FulfillmentDelivered       EventType = "FULFILLMENT_DELIVERED"
	Test                       EventType = "WEBHOOK_TEST"
)

// Subscribable are the types a subscription may name.
var Subscribable = []EventType{OrderCreated, OrderPaid, OrderFulfilled, OrderCancelled, OrderRefunded,
	ProductCreated, ProductUpdated, StockChanged, FulfillmentCreated, FulfillmentTrackingUpdated, FulfillmentDelivered}

// Valid reports whether t may be subscribed to.
func (t EventType) Valid() bool {
	for _, s := range Subscribable {
		if s == t {
			return true
		}
	}
	return false
}

// Subscription is a URL subscribed to event types.
type Subscription struct {
	ID          int64
	URL         string
	EventTypes  []EventType
	Active      bool
	Description string
	// VendorID scopes the subscription to one vendor's products and lines; nil: everything.
	VendorID  *int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GlobalID is the subscription's opaque API ID.
func (s Subscription) GlobalID() string { return gid.Encode(TypeWebhook, s.ID) }

// TypeWebhook is the global ID type of subscriptions.
const TypeWebhook = "Webhook"

// TypeDelivery is the global ID type of deliveries.
const TypeDelivery = "WebhookDelivery"

// Status is where a delivery stands.
type Status string

// Delivery statuses.
const (
	Pending   Status = "PENDING"
	Succeeded Status = "SUCCEEDED"
	Failed    Status = "FAILED"
)

// Delivery is one event owed to one subscription, and how its sending went.
type Delivery struct {
	ID               int64
	SubscriptionID   int64
	EventID          string
	EventType        EventType
	ResourceType     string
	ResourceID       int64
	Sequence         int64
	Body             []byte
	Status           Status
	Attempts         int
	LastResponseCode *int
	LastError        *string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	LastAttemptAt    *time.Time
	CompletedAt      *time.Time
}

// GlobalID is the delivery's opaque API ID.
func (d Delivery) GlobalID() string { return gid.Encode(TypeDelivery, d.ID) }

// Attempt is one POST of a delivery.
type Attempt struct {
	ResponseCode *int
	Error        *string
	Duration     time.Duration
	At           time.Time
}

// Envelope is the JSON body of every delivery.
type Envelope struct {
	// ID is the event's stable id: the same on every attempt, redelivery and subscriber.
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	CreatedAt time.Time `json:"createdAt"`
	// Resource names what the event is about; Sequence numbers that resource's events,
	// monotonic in commit order, so a receiver can drop one older than what it has.
	Resource Resource        `json:"resource"`
	Sequence int64           `json:"sequence"`
	Data     json.RawMessage `json:"data"`
}

// Resource is what an event is about: its kind ("order", "product", "variant", "webhook") and
// global ID.
type Resource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Headers of a delivery.
const (
	SignatureHeader = "Shopgraph-Signature"
	EventIDHeader   = "Shopgraph-Event-Id"
	EventTypeHeader = "Shopgraph-Event-Type"
)

// Sign is the Shopgraph-Signature header of body sent at t: Stripe's scheme,
// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>" keyed with the secret>.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a Shopgraph-Signature header against body, as a receiver does (docs/webhooks.md
// has the snippet for receivers): one of its v1 signatures must match and its time be within
// tolerance of now.
func Verify(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature too old")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("no signature matches")
}

// MaxAttempts is how many times a delivery is tried before it is marked FAILED: the first
// attempt and the retries of Backoff's schedule, which together span about 23 h 48 min.
const MaxAttempts = 12 // len(backoffSchedule) + 1; TestBackoffSchedule holds them together

// backoffSchedule is the wait after each failed attempt: exponential-ish, capped at 8 h,
// summing to 23 h 48.5 min ("up to 24 hours").
var backoffSchedule = []time.Duration{
	30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 4 * time.Hour, 8 * time.Hour, 8 * time.Hour,
}

// Backoff is the wait after failed attempt number attempt (1-based) before the next one.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > len(backoffSchedule) {
		return backoffSchedule[len(backoffSchedule)-1]
	}
	return backoffSchedule[attempt-1]
}

// VendorScoped reports whether the subscription gets only one vendor's events.
func (s Subscription) VendorScoped() bool { return s.VendorID != nil }

// Payload is the exact JSON body sent.
func (d Delivery) Payload() string { return string(d.Body) }

// DurationMs is how long the attempt took, in milliseconds.
func (a Attempt) DurationMs() int { return int(a.Duration.Milliseconds()) }
