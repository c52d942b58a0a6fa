package requestlog

import (
	"context"
	"testing"
)

func TestFreezeStopsRecordingOperations(t *testing.T) {
	info := &Info{RequestID: "r"}
	ctx := With(context.Background(), info)
	SetOperation(ctx, "a")
	SetOperation(ctx, "b")
	if got := info.Operation(); got != "a,b" {
		t.Fatalf("operation %q, want a,b", got)
	}
	Freeze(ctx)
	SetOperation(ctx, "c")
	if got := info.Operation(); got != "a,b" {
		t.Fatalf("after Freeze: operation %q, want a,b", got)
	}
	Freeze(context.Background()) // outside a request: nothing to freeze
}
