package graph

import (
	"context"
	"testing"

	"github.com/shopgraph/shopgraph/internal/requestlog"
)

// TestUpgradeFreezesTheRequestLog: the operations of an upgraded socket, which run under its
// request's context for the socket's life, are not appended to the request's log info.
func TestUpgradeFreezesTheRequestLog(t *testing.T) {
	info := &requestlog.Info{RequestID: "r"}
	ctx := requestlog.With(context.Background(), info)
	forgetResponse(ctx) // ws.Transport.Upgraded
	for range 3 {
		requestlog.SetOperation(ctx, "OrderTracking")
	}
	if got := info.Operation(); got != "" {
		t.Fatalf("the upgraded request's operation grew to %q", got)
	}
}
