package tracing

import (
	"context"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
)

// PgxTracer returns a pgx tracer (otelpgx) that opens a span per statement, batch, prepare,
// connect and pool acquire. Statements are named after their sqlc query ("OrderGetByID") when
// they carry sqlc's "-- name:" comment, after their SQL verb otherwise. The SQL text is
// recorded, its arguments never are. It is nil when tracing is off (newConfig). Combine it
// with the statement counter:
//
//	postgres.Options{Tracer: tracing.MultiTracer(counter, tracing.PgxTracer())}
func PgxTracer(opts ...Option) pgx.QueryTracer {
	c := newConfig(opts)
	if c.off {
		return nil // MultiTracer leaves it out
	}
	return otelpgx.NewTracer(
		otelpgx.WithTracerProvider(c.provider),
		otelpgx.WithSpanNameCtxFunc(func(ctx context.Context, sql string) string {
			if name := sqlcName(sql); name != "" {
				return name
			}
			return otelpgx.SQLOperationName(ctx, sql)
		}),
	)
}

// sqlcName returns the query name of sqlc-generated SQL ("-- name: OrderGetByID :one").
func sqlcName(sql string) string {
	rest, ok := strings.CutPrefix(strings.TrimLeft(sql, " \t\r\n"), "-- name: ")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, " ")
	if i := strings.IndexAny(name, "\r\n"); i >= 0 {
		name = name[:i]
	}
	return name
}

// MultiTracer fans every pgx trace event out to tracers, in order; nil tracers are skipped.
// Each tracer also receives the batch, copy, prepare, connect and pool events it implements.
func MultiTracer(tracers ...pgx.QueryTracer) pgx.QueryTracer {
	var live []pgx.QueryTracer
	for _, t := range tracers {
		if t != nil {
			live = append(live, t)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	return multitracer.New(live...)
}

// InstrumentRedis adds a span per Redis command (and pipeline) of client. Command arguments,
// which hold cached values and keys, are not recorded.
func InstrumentRedis(client redis.UniversalClient, opts ...Option) error {
	c := newConfig(opts)
	if c.off {
		return nil
	}
	return redisotel.InstrumentTracing(client,
		redisotel.WithTracerProvider(c.provider),
		redisotel.WithDBStatement(false),
	)
}
