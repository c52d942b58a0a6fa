// Package postgres opens shopgraph's PostgreSQL pool, runs transactions, applies migrations and
// maps driver errors to apperr codes in one place.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/db/migrations"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/postgres/fastpath"
)

// DB is the connection pool with the generated queries bound to it.
type DB struct {
	Pool *pgxpool.Pool
	*db.Queries
	// CustomPlans are the same queries planned for their parameter values on every call. Use
	// it for statements that switch filters off with "param IS NULL OR ...": one cached
	// generic plan would have to serve every combination of filters, and be poor for most.
	// Everything else runs as statements prepared once per connection, with cached plans.
	// It is bound to the pool: CustomPlans.WithTx(tx) would run prepared statements again
	// (none of these queries runs inside a transaction).
	CustomPlans *db.Queries
}

// customPlans runs each statement as an unnamed statement (pgx's QueryExecModeExec): still
// one round trip, but Postgres plans it afresh for the values it is given.
type customPlans struct{ db.DBTX }

func (c customPlans) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return c.DBTX.Exec(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
}

func (c customPlans) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return c.DBTX.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
}

func (c customPlans) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return c.DBTX.QueryRow(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
}

// Options tunes the pool.
type Options struct {
	MaxConns int32
	// Tracer, when set, sees every statement (tests count them).
	Tracer pgx.QueryTracer
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	pool, err := newPool(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return &DB{Pool: pool, Queries: db.New(poolDBTX{pool}), CustomPlans: db.New(customPlans{poolDBTX{pool}})}, nil
}

// newPool configures a pool of url without connecting yet.
func newPool(ctx context.Context, url string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MinConns = 0
	// Pool settings written in the URL win over these defaults: the tests shorten the idle
	// time, so that a test that waits for its subtests holds no idle connections, and an
	// operator can tune a deployment from DATABASE_URL alone. pgxpool's config does not say
	// which settings it was given, so the connection string is parsed once more by pgconn,
	// which keeps every setting it does not know, pool_* included, as a runtime parameter:
	// the driver's own reading of both forms (URL and key=value, quotes and escapes), never a
	// match on text that may sit inside a password.
	given, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if _, ok := given.RuntimeParams["pool_max_conn_idle_time"]; !ok {
		cfg.MaxConnIdleTime = 5 * time.Minute
	}
	if _, ok := given.RuntimeParams["pool_max_conn_lifetime"]; !ok {
		cfg.MaxConnLifetime = time.Hour
	}
	if _, ok := given.RuntimeParams["pool_health_check_period"]; !ok {
		cfg.HealthCheckPeriod = 30 * time.Second
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	// Typo tolerance of product search (pg_trgm's <% operator): "hoddie" finds "hoodie".
	cfg.ConnConfig.RuntimeParams["pg_trgm.word_similarity_threshold"] = "0.4"
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	cfg.ShouldPing = shouldPing
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	return pool, nil
}

// RunPipeline runs p on the pool, as one implicit transaction (fastpath.Pipeline.Run); a
// pipeline may hold writes, and commits them as it runs. Errors are as for any statement.
func (d *DB) RunPipeline(ctx context.Context, p *fastpath.Pipeline, read func() error) error {
	err := p.Run(ctx, d.Pool, read)
	noteWrite(ctx, err)
	return unavailable(err)
}

// Close closes the pool.
func (d *DB) Close() { d.Pool.Close() }

// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise. fn
// gets the transaction's context: side effects that must not happen for a rolled-back change
// (publishing, cache invalidation) are registered in it with AfterCommit, and run once the
// transaction has committed.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context, q *db.Queries) error) error {
	return d.InTxWithTx(ctx, func(ctx context.Context, _ pgx.Tx, q *db.Queries) error { return fn(ctx, q) })
}

// Migrate applies every embedded migration that the database lacks.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	return migrateSQL(ctx, sqlDB)
}

func migrateSQL(ctx context.Context, sqlDB *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS)
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// IsNotFound reports whether err means a query found no row.
func IsNotFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// IsUniqueViolation reports whether err is a unique violation, on constraint when it is not empty.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}

// MapError turns driver errors that have a meaning for clients into apperr values: no rows is
// NOT_FOUND, a unique violation CONFLICT, a check violation BAD_USER_INPUT, a database that
// cannot be reached SERVICE_UNAVAILABLE. Others pass through (INTERNAL).
func MapError(err error, what string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	switch {
	case IsNotFound(err):
		return apperr.Wrap(err, apperr.NotFound, what+" not found")
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return apperr.Wrap(err, apperr.Conflict, what+" already exists")
	case errors.As(err, &pgErr) && pgErr.Code == "23514":
		return apperr.Wrap(err, apperr.BadUserInput, what+" is not valid")
	}
	return unavailable(err)
}

// IsForeignKeyViolation reports whether err is a foreign-key violation.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23503"
}

// InTxWithTx is InTx for steps that need the pgx transaction itself, such as inserting a job
// into the river queue in the same transaction as the change that caused it.
//
// A transaction that fails with a deadlock or a serialisation failure (an order event that
// would come before its predecessor in the feed: migration 00008) runs again, up to
// txAttempts times in all: fn must be safe to run again, which InTx's rule (no side effect
// inside, only AfterCommit) makes it. The callbacks an attempt registered are dropped with it.
func (d *DB) InTxWithTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx, q *db.Queries) error) error {
	return retried(func() error { return d.inTx(ctx, fn) })
}

// InTxBegunWith is InTxWithTx for a transaction whose first statements are a fastpath
// pipeline: BEGIN goes to PostgreSQL with them, in the same round trip (pgx's Batch.BeginTx).
// first queues them on q and returns the function that reads their results, in the order they
// were queued; fn goes on in the transaction. Both run again with a retried attempt.
func (d *DB) InTxBegunWith(ctx context.Context, first func(ctx context.Context, q *db.Queries) (read func() error), fn func(ctx context.Context, tx pgx.Tx, q *db.Queries) error) error {
	return retried(func() error { return d.inTxBegunWith(ctx, first, fn) })
}

// retried runs attempt again after a deadlock or a serialisation failure, up to txAttempts
// times in all.
func retried(attempt func() error) error {
	var err error
	for range txAttempts {
		if err = attempt(); !isRetryable(err) {
			break
		}
	}
	return unavailable(err)
}

// txAttempts bounds how often a transaction runs.
const txAttempts = 3

// inTx is one attempt: pgx's own transaction (pgx.BeginFunc), committed when fn returns nil.
func (d *DB) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx, q *db.Queries) error) error {
	hooks := &afterCommit{}
	committing := false
	err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		if err := fn(context.WithValue(context.WithValue(ctx, afterCommitKey{}, hooks), txKey{}, tx), tx, d.Queries.WithTx(tx)); err != nil {
			return err
		}
		committing = true
		return nil
	})
	if committing {
		noteWrite(ctx, err) // the COMMIT was sent
	}
	if err != nil {
		return err
	}
	hooks.run(ctx)
	return nil
}

// inTxBegunWith is one attempt of InTxBegunWith.
func (d *DB) inTxBegunWith(ctx context.Context, first func(ctx context.Context, q *db.Queries) func() error, fn func(ctx context.Context, tx pgx.Tx, q *db.Queries) error) error {
	hooks := &afterCommit{}
	txCtx := context.WithValue(ctx, afterCommitKey{}, hooks)
	var p fastpath.Pipeline
	p.BeginTx()
	tx, err := p.RunBegun(ctx, d.Pool, first(txCtx, p.Queries()))
	txCtx = context.WithValue(txCtx, txKey{}, tx)
	// After a commit, or when BEGIN failed: pgx.ErrTxClosed, nothing sent; either way the
	// connection goes back to the pool.
	defer func() { _ = tx.Rollback(ctx) }()
	if err != nil {
		return err
	}
	if err := fn(txCtx, tx, d.Queries.WithTx(tx)); err != nil {
		return err
	}
	err = tx.Commit(ctx)
	noteWrite(ctx, err) // the COMMIT was sent
	if err != nil {
		return err
	}
	hooks.run(ctx)
	return nil
}

// isRetryable is a deadlock or serialisation failure: the transaction can simply run again.
func isRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

type txKey struct{}

// TxOf returns the pgx transaction of a transaction's context (InTx, InTxWithTx,
// InTxBegunWith), for a step deep in a use case that must insert a job in it.
func TxOf(ctx context.Context) (pgx.Tx, bool) {
	tx, ok := ctx.Value(txKey{}).(pgx.Tx)
	return tx, ok && tx != nil
}
