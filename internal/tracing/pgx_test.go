package tracing_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	"github.com/shopgraph/shopgraph/internal/tracing"
)

var pgxStart = pgx.TraceQueryStartData{SQL: "SELECT 1"}

type countingTracer struct{ n int }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n++
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func TestPgxTracer(t *testing.T) {
	t.Parallel()
	tp, exp := newProvider(t)
	counter := &postgres.StatementCounter{}
	db := pgtest.New(t, postgres.Options{Tracer: tracing.MultiTracer(counter, tracing.PgxTracer(tracing.WithTracerProvider(tp)))})

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	_, err := db.OrderGetByID(ctx, 424242)
	require.Error(t, err, "no such order")
	var one int
	require.NoError(t, db.Pool.QueryRow(ctx, "select $1::int", 1).Scan(&one))
	parent.End()

	require.GreaterOrEqual(t, counter.Total(), int64(2), "the statement counter still sees every statement")
	spans := exp.GetSpans()
	sqlc := findSpan(t, spans, "OrderGetByID")
	require.Equal(t, parent.SpanContext().TraceID(), sqlc.SpanContext.TraceID())
	findSpan(t, spans, "SELECT")
	for _, s := range spans {
		for _, a := range s.Attributes {
			require.NotEqual(t, "424242", a.Value.String(), "arguments are not recorded (%s.%s)", s.Name, a.Key)
		}
	}
}
