// Package requestlog carries per-request facts (request id, GraphQL operation name) from the
// layer that learns them to the HTTP middleware that writes one log line per request.
package requestlog

import (
	"context"
	"sync"
)

// Info is filled in while a request is served.
type Info struct {
	RequestID string

	mu        sync.Mutex
	operation string
	frozen    bool
}

type infoKey struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, info)
}

// From returns the request's Info, or nil outside a request.
func From(ctx context.Context) *Info {
	info, _ := ctx.Value(infoKey{}).(*Info)
	return info
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	if info := From(ctx); info != nil {
		return info.RequestID
	}
	return ""
}

// SetOperation records the GraphQL operation name (batched requests join names with commas).
func SetOperation(ctx context.Context, name string) {
	info := From(ctx)
	if info == nil || name == "" {
		return
	}
	info.mu.Lock()
	defer info.mu.Unlock()
	if info.frozen {
		return
	}
	if info.operation == "" {
		info.operation = name
	} else {
		info.operation += "," + name
	}
}

// Operation returns the recorded operation name.
func (i *Info) Operation() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.operation
}

// Freeze ends the recording of operations for ctx's request: an upgraded WebSocket's
// operations run under its request's context for the socket's life, long after the
// request's line was logged, and would grow its list without bound.
func Freeze(ctx context.Context) {
	if info := From(ctx); info != nil {
		info.mu.Lock()
		info.frozen = true
		info.mu.Unlock()
	}
}
