package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/ws"
	"github.com/shopgraph/shopgraph/internal/tracking"
)

// announced lets a tracking stream tell the WebSocket transport of each update it sends, so
// that no goroutine of the transport waits on the stream's channel between updates (an idle
// subscription holds none). Under SSE nothing changes.
func announced(ctx context.Context) context.Context {
	if take := ws.Waker(ctx); take != nil {
		return tracking.WithAnnounce(ctx, take)
	}
	return ctx
}
