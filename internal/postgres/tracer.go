package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// StatementCounter is a pgx tracer that counts statements, globally and per request context.
// API tests assert on it to keep N+1 queries out.
type StatementCounter struct {
	total atomic.Int64
}

type counterKey struct{}

// WithCounter returns ctx whose statements are also counted in n.
func WithCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

// TraceQueryStart counts one statement.
func (s *StatementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	s.total.Add(1)
	if n, ok := ctx.Value(counterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	return ctx
}

// TraceQueryEnd does nothing.
func (s *StatementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Total is the number of statements seen so far.
func (s *StatementCounter) Total() int64 { return s.total.Load() }
