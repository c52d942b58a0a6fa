package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// unavailableMessage is what a client is told while PostgreSQL cannot be reached.
const unavailableMessage = "The service is briefly unavailable. Try again in a moment."

// IsUnavailable reports whether err means PostgreSQL could not be reached or ended the session
// (a restart, a failover, a terminated backend), rather than refusing the statement: the same
// request may well succeed a moment later. A context that ended (a timeout, a client that went
// away) is not unavailability.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "57P01", // admin_shutdown: a restart, or pg_terminate_backend
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up or shutting down
			"53300": // too_many_connections
			return true
		}
		// Any other answer from the server (a failed password, a missing database) is not a
		// passing outage.
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), // refused, unreachable, timed out dialling
		pgconn.SafeToRetry(err), // the connection failed before anything was sent
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, puddle.ErrClosedPool), // the pool closed, e.g. while connecting at shutdown
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNREFUSED),
		errors.As(err, &netErr):
		return true
	}
	return false
}

// unavailable gives err the SERVICE_UNAVAILABLE code when it means PostgreSQL could not be
// reached; any other error is returned as it is.
func unavailable(err error) error {
	if !IsUnavailable(err) || apperr.As(err) != nil {
		return err
	}
	e := apperr.Wrap(err, apperr.Unavailable, unavailableMessage)
	e.NotApplied = notApplied(err)
	return e
}

// notApplied reports whether an unavailability error is known to have changed nothing: no
// connection could be made, or nothing was sent on it. A connection lost after a statement
// was sent, a COMMIT above all, leaves the outcome unknown, so a write must not be assumed
// undone; a session the server ended (57P01) counts as unknown too, since the server may end
// it while a COMMIT is being acknowledged.
func notApplied(err error) bool {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &connectErr), pgconn.SafeToRetry(err), errors.Is(err, puddle.ErrClosedPool):
		return true
	case errors.As(err, &pgErr):
		return pgErr.Code == "57P03" || pgErr.Code == "53300" // refused at connection time
	}
	return false
}

// pingBeforeUse marks a context whose statement must run on a connection checked first.
type pingBeforeUse struct{}

// shouldPing is pgx's default (ping a connection idle for over a second), and always for a
// statement that runs again after a lost connection: after a restart, the pool's other idle
// connections are as dead as the one that failed.
func shouldPing(ctx context.Context, p pgxpool.ShouldPingParams) bool {
	return p.IdleDuration > time.Second || ctx.Value(pingBeforeUse{}) != nil
}

// poolDBTX is where every generated query that runs outside a transaction passes (DB.Queries,
// DB.CustomPlans), and so the one place that handles a lost connection for them: a read runs
// once more, on a connection known to be alive, and an error that means PostgreSQL cannot be
// reached becomes SERVICE_UNAVAILABLE.
type poolDBTX struct{ pool *pgxpool.Pool }

// canRetry: a read whose connection was lost may run again. A read has no effect, so it does
// not matter whether the lost connection had already run it; that is why reads, and only
// they, are retried also after the server ended the session (57P01 on a connection that a
// restart or pg_terminate_backend killed while idle in the pool, which is how a lost
// connection usually shows: pgconn.SafeToRetry is false for it). A write is never sent
// twice; its client gets SERVICE_UNAVAILABLE, marked retryable, and decides.
// A connection that could not be made is not retried: the server is down or starting, and
// would refuse a second attempt as well.
func canRetry(ctx context.Context, sql string, err error) bool {
	var connectErr *pgconn.ConnectError
	if err == nil || ctx.Err() != nil || !isRead(sql) ||
		errors.As(err, &connectErr) || errors.Is(err, puddle.ErrClosedPool) {
		return false
	}
	return pgconn.SafeToRetry(err) || IsUnavailable(err)
}

// isRead reports whether sql is a plain SELECT (after sqlc's "-- name:" comment lines). A
// WITH counts as a write: it may hold one.
func isRead(sql string) bool {
	sql = sqlBody(sql)
	return len(sql) >= 6 && strings.EqualFold(sql[:6], "SELECT")
}

// sqlBody is sql without the comment lines in front of it (sqlc's "-- name:" line).
func sqlBody(sql string) string {
	for {
		sql = strings.TrimLeft(sql, " \t\r\n")
		if !strings.HasPrefix(sql, "--") {
			break
		}
		_, rest, ok := strings.Cut(sql, "\n")
		if !ok {
			return ""
		}
		sql = rest
	}
	return sql
}

func (p poolDBTX) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := p.pool.Exec(ctx, sql, args...)
	if canRetry(ctx, sql, err) {
		tag, err = p.pool.Exec(context.WithValue(ctx, pingBeforeUse{}, true), sql, args...)
	}
	if !isRead(sql) {
		noteWrite(ctx, err)
	}
	return tag, unavailable(err)
}

func (p poolDBTX) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	again := func(err error) (pgx.Rows, bool, error) {
		if !canRetry(ctx, sql, err) {
			return nil, false, err
		}
		rows, err := p.pool.Query(context.WithValue(ctx, pingBeforeUse{}, true), sql, args...)
		return rows, true, err
	}
	rows, err := p.pool.Query(ctx, sql, args...)
	if !isRead(sql) {
		noteWrite(ctx, err)
	}
	if err != nil {
		rows, _, err = again(err)
		if err != nil {
			return nil, unavailable(err)
		}
		return &retryRows{Rows: rows}, nil
	}
	return &retryRows{Rows: rows, again: again}, nil
}

func (p poolDBTX) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := p.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// retryRows are a statement's rows. A statement whose connection was lost shows it only when
// its first row is read (pgx sends it from Query, and reads the answer in Next): that is where
// it runs again, once, if it may.
type retryRows struct {
	pgx.Rows
	// again runs the statement again when err allows it; nil once a row was read or the
	// statement ran again.
	again func(err error) (pgx.Rows, bool, error)
	err   error // the error of running it again
}

func (r *retryRows) Next() bool {
	if r.Rows.Next() {
		r.again = nil
		return true
	}
	again := r.again
	r.again = nil
	if again == nil || r.Rows.Err() == nil {
		return false
	}
	r.Rows.Close()
	rows, retried, err := again(r.Rows.Err())
	if !retried {
		return false
	}
	if err != nil {
		r.err = err
		return false
	}
	r.Rows = rows
	return r.Rows.Next()
}

func (r *retryRows) Err() error {
	if r.err != nil {
		return unavailable(r.err)
	}
	return unavailable(r.Rows.Err())
}

// firstRow is QueryRow over Query, with pgx's QueryRow semantics.
type firstRow struct {
	rows pgx.Rows
	err  error
}

func (r *firstRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

// SendBatch sends sqlc's batch queries (:batchexec, :batchone, :batchmany) on the pool, as
// one implicit transaction. A batch may hold writes: it is noted as one, whatever its
// outcome, which its results tell only as they are read.
func (p poolDBTX) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	noteWrite(ctx, nil)
	return p.pool.SendBatch(ctx, b)
}
