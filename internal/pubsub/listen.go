package pubsub

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// listen feeds onMessage with the payloads published on channel until ctx ends. go-redis
// reconnects by itself; every (re)subscription after the first calls onResubscribe, since
// messages sent while the connection was down are gone. The Bus and the Bell both listen so.
func listen(ctx context.Context, rdb *redis.Client, channel string, log *slog.Logger,
	onResubscribe func(), onMessage func(payload string)) {
	sub := rdb.Subscribe(ctx, channel)
	defer sub.Close()
	// Receive does not watch ctx; closing the subscription is what ends it.
	go func() {
		<-ctx.Done()
		_ = sub.Close()
	}()
	confirmations := 0
	for {
		msg, err := sub.Receive(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// Receive failing means the connection dropped; the next call reconnects.
			log.WarnContext(ctx, "redis subscription interrupted", "channel", channel, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			confirmations++
			if confirmations > 1 {
				onResubscribe()
			}
		case *redis.Message:
			onMessage(m.Payload)
		}
	}
}
