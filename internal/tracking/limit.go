package tracking

import (
	"context"
	"sync/atomic"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// MaxSubscriptionsPerConnection bounds one WebSocket's concurrent subscriptions.
const MaxSubscriptionsPerConnection = 20

type connCounterKey struct{}

// WithSubscriptionCounter returns ctx counting the subscriptions of one connection: the
// WebSocket transport's init function calls it, and every stream started under the returned
// context counts until its own context ends.
func WithSubscriptionCounter(ctx context.Context) context.Context {
	return context.WithValue(ctx, connCounterKey{}, new(atomic.Int64))
}

// admit counts one more subscription on ctx's connection until ctx ends, or refuses it with
// BAD_USER_INPUT beyond MaxSubscriptionsPerConnection. A context without a counter (SSE: one
// subscription per request) is always admitted.
func admit(ctx context.Context) error {
	n, ok := ctx.Value(connCounterKey{}).(*atomic.Int64)
	if !ok {
		return nil
	}
	if n.Add(1) > MaxSubscriptionsPerConnection {
		n.Add(-1)
		return apperr.Newf(apperr.BadUserInput, "At most %d subscriptions per connection.", MaxSubscriptionsPerConnection)
	}
	context.AfterFunc(ctx, func() { n.Add(-1) }) // no goroutine parked per subscription
	return nil
}
