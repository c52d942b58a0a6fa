package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/ws"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/requestlog"
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

// forgetResponse drops the upgrade request's cookie setter, which holds its ResponseWriter:
// a WebSocket has no response to set cookies on once upgraded, and the writer would keep
// net/http's request and connection buffers for the socket's life (ws.Transport.Upgraded).
// The request's log info is frozen: its line is written as the upgrade returns, and the
// socket's operations would otherwise add their names to it for the socket's life.
func forgetResponse(ctx context.Context) {
	auth.RequestFrom(ctx).Cookies = nil
	requestlog.Freeze(ctx)
}
