// Package pubsub fans order events out to the subscribers of every server instance. Postgres
// holds the truth (order_events); this is only the doorbell. With Redis, each instance keeps
// one Redis subscription that feeds an in-process hub; without, the hub alone serves one
// instance. Redis pub/sub is at-most-once, so after a Redis reconnect the hub tells every
// subscriber to resynchronise from Postgres (Resync), and subscribers that see a gap in
// sequence numbers do the same.
package pubsub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// OrderEvent is a committed order status change.
type OrderEvent struct {
	OrderID        int64     `json:"order_id"`
	Sequence       int       `json:"sequence"`
	FeedPosition   int64     `json:"feed_position"`
	Status         string    `json:"status"`
	PreviousStatus string    `json:"previous_status,omitempty"`
	At             time.Time `json:"at"`
	Note           string    `json:"note,omitempty"`
	UserID         int64     `json:"user_id"`
	VendorIDs      []int64   `json:"vendor_ids,omitempty"`
	// Kind is what the event records (order.EventKind); empty means a status change.
	Kind string `json:"kind,omitempty"`
	// FulfillmentID is the fulfilment of a fulfilment's event.
	FulfillmentID *int64 `json:"fulfillment_id,omitempty"`
	// Resync, set only by the hub itself, means events may have been missed (Redis
	// reconnected): re-read Postgres from the last position delivered.
	Resync bool `json:"-"`
}

// HasVendor reports whether the order holds a line of vendor id.
func (e OrderEvent) HasVendor(id int64) bool { return slices.Contains(e.VendorIDs, id) }

// ErrSlowConsumer ends a subscription whose buffer filled up: it must resume from its last
// position instead of holding publishers back.
var ErrSlowConsumer = errors.New("subscriber too slow: resume from the last event received")

// Subscription receives the events that pass its filter on C, until C is closed (by Close, or
// by the hub when the subscriber fell behind: then Err is ErrSlowConsumer). Every subscriber
// of one delivery receives the same *OrderEvent: it must not change it.
type Subscription struct {
	C      <-chan *OrderEvent
	c      chan *OrderEvent
	filter func(OrderEvent) bool
	hub    *Hub

	mu     sync.Mutex
	closed bool
	err    error
	// notify, when set, is called after each event put on C and after the hub closes C.
	notify func()
}

// OnDeliver makes the hub call fn after each event it puts on C and after it closes C (the
// subscriber fell behind), outside every lock, so that a subscriber needs no goroutine parked
// on C while nothing happens. fn must not block.
func (s *Subscription) OnDeliver(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify = fn
}

// Err is why the hub closed C, or nil.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.hub.remove(s)
	s.end(nil)
}

func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed, s.err = true, err
		close(s.c)
	}
}

// offer hands e to the subscriber without ever blocking: a full buffer ends the subscription.
func (s *Subscription) offer(e *OrderEvent) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	delivered := true
	select {
	case s.c <- e:
	default:
		s.closed, s.err = true, ErrSlowConsumer
		close(s.c)
		delivered = false
	}
	notify := s.notify
	s.mu.Unlock()
	if notify != nil {
		notify()
	}
	return delivered
}

// Hub is the in-process fan-out.
type Hub struct {
	mu    sync.RWMutex
	subs  map[*Subscription]struct{}
	count atomic.Int64
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[*Subscription]struct{}{}} }

// Subscribe registers a subscriber that may lag buffer events behind before it is cut off.
// The buffer holds pointers to events shared by every subscriber (8 bytes a slot, not an
// event's ~180): a server holds one per live subscription, tens of thousands of them, and
// most are idle.
func (h *Hub) Subscribe(filter func(OrderEvent) bool, buffer int) *Subscription {
	c := make(chan *OrderEvent, buffer)
	s := &Subscription{C: c, c: c, filter: filter, hub: h}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	h.count.Add(1)
	return s
}

// Subscribers is the number of live subscriptions (for metrics and tests).
func (h *Hub) Subscribers() int64 { return h.count.Load() }

func (h *Hub) remove(s *Subscription) {
	h.mu.Lock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		h.count.Add(-1)
	}
	h.mu.Unlock()
}

// Deliver hands e to every matching subscriber. The hub lock is held only to copy the
// subscriber list, never while sending: one slow subscriber cannot block the others.
func (h *Hub) Deliver(e OrderEvent) {
	h.mu.RLock()
	targets := make([]*Subscription, 0, len(h.subs))
	for s := range h.subs {
		if e.Resync || s.filter == nil || s.filter(e) {
			targets = append(targets, s)
		}
	}
	h.mu.RUnlock()
	shared := &e // one copy for every subscriber
	for _, s := range targets {
		if !s.offer(shared) {
			h.remove(s)
		}
	}
}

// Bus publishes events to every instance's hub: through Redis when configured, directly to
// this instance's hub otherwise.
type Bus struct {
	Hub     *Hub
	redis   *redis.Client
	channel string
	log     *slog.Logger
}

// NewBus returns a bus; client may be nil (one instance, no Redis).
func NewBus(client *redis.Client, channel string, log *slog.Logger) *Bus {
	return &Bus{Hub: NewHub(), redis: client, channel: channel, log: log}
}

// Channel is the Redis channel the bus publishes and subscribes on, where an operator or a test
// looks for its subscribers (PUBSUB NUMSUB).
func (b *Bus) Channel() string { return b.channel }

// Publish sends e to all instances. If Redis cannot take it, this instance's subscribers still
// get it, and the other instances' subscribers resynchronise from Postgres when their Redis
// subscription comes back.
func (b *Bus) Publish(ctx context.Context, e OrderEvent) {
	if b.redis == nil {
		b.Hub.Deliver(e)
		return
	}
	payload, _ := json.Marshal(e)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := b.redis.Publish(ctx, b.channel, payload).Err(); err != nil {
		b.log.WarnContext(ctx, "publish order event to Redis failed; delivering locally", "order_id", e.OrderID, "err", err)
		b.Hub.Deliver(e)
	}
}

// Run feeds the hub from Redis until ctx ends. go-redis reconnects by itself; every
// (re)subscription after the first tells subscribers to resynchronise, since messages sent
// while the connection was down are gone.
func (b *Bus) Run(ctx context.Context) {
	if b.redis == nil {
		return
	}
	listen(ctx, b.redis, b.channel, b.log, func() {
		b.log.InfoContext(ctx, "redis subscription restored; subscribers resynchronise")
		b.Hub.Deliver(OrderEvent{Resync: true})
	}, func(payload string) {
		var e OrderEvent
		if err := json.Unmarshal([]byte(payload), &e); err != nil {
			b.log.WarnContext(ctx, "undecodable order event", "err", err)
			return
		}
		b.Hub.Deliver(e)
	})
}
