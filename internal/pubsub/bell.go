package pubsub

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bell rings named topics (an inventory import's progress: "inventory-import:42") on every
// instance. A ring carries nothing: whoever listens re-reads the truth from PostgreSQL, so a
// ring lost (Redis is at-most-once) only delays a listener until its own fallback poll, and
// rings that pile up while a listener is busy count as one. With Redis, each instance keeps one
// subscription on the bell's channel; without, rings reach this instance's listeners only.
type Bell struct {
	redis   *redis.Client
	channel string
	log     *slog.Logger

	mu        sync.Mutex
	listeners map[string]map[chan struct{}]struct{}
}

// NewBell returns a bell on channel; client may be nil (one instance, no Redis).
func NewBell(client *redis.Client, channel string, log *slog.Logger) *Bell {
	return &Bell{redis: client, channel: channel, log: log, listeners: map[string]map[chan struct{}]struct{}{}}
}

// Listen returns a channel that receives a value after topic rings (several rings before it is
// read make one), and the function that stops listening.
func (b *Bell) Listen(topic string) (<-chan struct{}, func()) {
	c := make(chan struct{}, 1)
	b.mu.Lock()
	if b.listeners[topic] == nil {
		b.listeners[topic] = map[chan struct{}]struct{}{}
	}
	b.listeners[topic][c] = struct{}{}
	b.mu.Unlock()
	return c, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.listeners[topic], c)
		if len(b.listeners[topic]) == 0 {
			delete(b.listeners, topic)
		}
	}
}

// Ring rings topic on every instance. If Redis cannot take it, this instance's listeners still
// hear it; the others' fall back on their polling.
func (b *Bell) Ring(ctx context.Context, topic string) {
	if b.redis == nil {
		b.deliver(topic)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := b.redis.Publish(ctx, b.channel, topic).Err(); err != nil {
		b.log.WarnContext(ctx, "ring the bell through Redis failed; ringing locally", "topic", topic, "err", err)
		b.deliver(topic)
	}
}

// deliver rings topic's listeners on this instance, never blocking: a listener with a ring
// pending already knows.
func (b *Bell) deliver(topic string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for c := range b.listeners[topic] {
		select {
		case c <- struct{}{}:
		default:
		}
	}
}

// deliverAll rings every listener (rings may have been missed while Redis was away).
func (b *Bell) deliverAll() {
	b.mu.Lock()
	topics := make([]string, 0, len(b.listeners))
	for topic := range b.listeners {
		topics = append(topics, topic)
	}
	b.mu.Unlock()
	for _, topic := range topics {
		b.deliver(topic)
	}
}

// Run feeds this instance's listeners from Redis until ctx ends, as Bus.Run does.
func (b *Bell) Run(ctx context.Context) {
	if b.redis == nil {
		return
	}
	listen(ctx, b.redis, b.channel, b.log, b.deliverAll, b.deliver)
}
