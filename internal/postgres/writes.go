package postgres

import (
	"context"
	"sync/atomic"
)

// writesKey marks the context of an operation whose writes are noted (a GraphQL mutation).
type writesKey struct{}

// TrackWrites returns a context in which every write that may have reached PostgreSQL is
// noted: a COMMIT sent, a pipeline sent, a statement other than a plain SELECT sent outside a
// transaction. An error can then tell whether its whole operation changed nothing (Wrote is
// false and the failing statement itself was not applied), which is when a client may safely
// send the operation again.
func TrackWrites(ctx context.Context) context.Context {
	return context.WithValue(ctx, writesKey{}, new(atomic.Bool))
}

// Wrote reports whether a write may have reached PostgreSQL in ctx's tracked operation; false
// when nothing is tracked.
func Wrote(ctx context.Context) bool {
	w, ok := ctx.Value(writesKey{}).(*atomic.Bool)
	return ok && w.Load()
}

// noteWrite is called once a write was tried, with its error: unless the error shows it was
// never applied, the write happened or its outcome is unknown.
func noteWrite(ctx context.Context, err error) {
	if w, ok := ctx.Value(writesKey{}).(*atomic.Bool); ok && (err == nil || !notApplied(err)) {
		w.Store(true)
	}
}
