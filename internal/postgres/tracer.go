package postgres

import (
	"context"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
)

// StatementCounter is a pgx tracer that counts statements and round trips, globally and per
// request context. API tests assert on it to keep N+1 queries out.
type StatementCounter struct {
	total atomic.Int64
}

// Counts are one request's statements and round trips to PostgreSQL (a pipeline of several
// statements is one round trip).
type Counts struct {
	Statements, RoundTrips atomic.Int64
}

type counterKey struct{}

// WithCounter returns ctx whose statements are also counted in n.
func WithCounter(ctx context.Context, n *Counts) context.Context {
	return context.WithValue(ctx, counterKey{}, n)
}

func countIn(ctx context.Context, statements, roundTrips int64) {
	if n, ok := ctx.Value(counterKey{}).(*Counts); ok {
		n.Statements.Add(statements)
		n.RoundTrips.Add(roundTrips)
	}
}

// TraceQueryStart counts one statement, one round trip.
func (s *StatementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	s.total.Add(1)
	countIn(ctx, 1, 1)
	return ctx
}

// TraceQueryEnd does nothing.
func (s *StatementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts one round trip for a pipeline.
func (s *StatementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	countIn(ctx, 0, 1)
	return ctx
}

// TraceBatchQuery counts one statement of a pipeline.
func (s *StatementCounter) TraceBatchQuery(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchQueryData) {
	s.total.Add(1)
	countIn(ctx, 1, 0)
}

// TraceBatchEnd does nothing.
func (s *StatementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// Total is the number of statements seen so far.
func (s *StatementCounter) Total() int64 { return s.total.Load() }
