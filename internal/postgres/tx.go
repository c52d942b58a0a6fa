package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// tx is a transaction that begins with its first statement: BEGIN and that statement go to
// PostgreSQL as one pipeline (pgx's Batch.BeginTx), one round trip instead of two. Until then
// it holds no connection; a transaction that runs no statement sends nothing. From the first
// statement on it is pgx's own pool transaction.
type tx struct {
	pool *pgxpool.Pool
	tx   pgx.Tx // nil until begun
	done bool   // committed or rolled back before it began
}

var _ pgx.Tx = (*tx)(nil)

// begin starts the transaction on its own, for the operations that cannot carry BEGIN.
func (t *tx) begin(ctx context.Context) (pgx.Tx, error) {
	if t.done {
		return nil, pgx.ErrTxClosed
	}
	if t.tx == nil {
		real, err := t.pool.Begin(ctx)
		if err != nil {
			return nil, err
		}
		t.tx = real
	}
	return t.tx, nil
}

// canPipeline: a statement given pgx options other than a rewriter (an execution mode,
// result formats) cannot go in a batch; it runs after a BEGIN of its own.
func canPipeline(args []any) bool {
	if len(args) == 0 {
		return true
	}
	switch args[0].(type) {
	case pgx.QueryExecMode, pgx.QueryResultFormats, pgx.QueryResultFormatsByOID:
		return false
	}
	return true
}

// pipelined sends BEGIN and one statement; the caller reads the statement's result from the
// returned batch and closes it before using the transaction again.
func (t *tx) pipelined(ctx context.Context, sql string, args []any) (pgx.BatchResults, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	return t.beginWith(ctx, b)
}

// beginWith begins the transaction with b's statements: BEGIN and them go as one pipeline.
// The returned results have the BEGIN read; the caller reads b's and closes them.
func (t *tx) beginWith(ctx context.Context, b *pgx.Batch) (pgx.BatchResults, error) {
	withBegin := &pgx.Batch{}
	withBegin.BeginTx(pgx.TxOptions{})
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	br := t.pool.SendBatch(ctx, withBegin)
	t.tx = br.Tx()
	if _, err := br.Exec(); err != nil { // the BEGIN
		return nil, errors.Join(err, br.Close())
	}
	return br, nil
}

func (t *tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if t.tx != nil || t.done || !canPipeline(args) {
		real, err := t.begin(ctx)
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		return real.Exec(ctx, sql, args...)
	}
	br, err := t.pipelined(ctx, sql, args)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	return tag, errors.Join(err, br.Close())
}

func (t *tx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if t.tx != nil || t.done || !canPipeline(args) {
		real, err := t.begin(ctx)
		if err != nil {
			return nil, err
		}
		return real.Query(ctx, sql, args...)
	}
	br, err := t.pipelined(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, errors.Join(err, br.Close())
	}
	return &pipelinedRows{Rows: rows, batch: br}, nil
}

func (t *tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := t.Query(ctx, sql, args...)
	return &firstRow{rows: rows, err: err}
}

// SendBatch sends b; as the transaction's first statements, after a BEGIN in the same
// pipeline.
func (t *tx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.tx != nil || t.done || b.Len() == 0 {
		real, err := t.begin(ctx)
		if err != nil {
			return pgx.FailedBatchResults(b, err)
		}
		return real.SendBatch(ctx, b)
	}
	br, err := t.beginWith(ctx, b)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

func (t *tx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	real, err := t.begin(ctx)
	if err != nil {
		return 0, err
	}
	return real.CopyFrom(ctx, table, columns, src)
}

func (t *tx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	real, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	return real.Prepare(ctx, name, sql)
}

// Begin starts a pseudo nested transaction (a savepoint).
func (t *tx) Begin(ctx context.Context) (pgx.Tx, error) {
	real, err := t.begin(ctx)
	if err != nil {
		return nil, err
	}
	return real.Begin(ctx)
}

// LargeObjects and Conn need the transaction begun, and have no context to begin it with: a
// job queue's insert, say, asks for Conn before its first statement.
func (t *tx) LargeObjects() pgx.LargeObjects { return t.begunWithoutContext().LargeObjects() }

func (t *tx) Conn() *pgx.Conn { return t.begunWithoutContext().Conn() }

func (t *tx) begunWithoutContext() pgx.Tx {
	real, err := t.begin(context.Background())
	if err != nil {
		// pgx's own transactions cannot fail here; this one could only on a dead pool.
		panic(fmt.Sprintf("postgres: begin transaction: %v", err))
	}
	return real
}

// Commit commits and returns the connection to the pool; before the first statement there is
// nothing to commit.
func (t *tx) Commit(ctx context.Context) error {
	if t.tx == nil {
		return t.finishUnbegun()
	}
	err := t.tx.Commit(ctx)
	noteWrite(ctx, err)
	return err
}

// Rollback rolls back and returns the connection to the pool; safe to call after Commit.
func (t *tx) Rollback(ctx context.Context) error {
	if t.tx == nil {
		return t.finishUnbegun()
	}
	return t.tx.Rollback(ctx)
}

func (t *tx) finishUnbegun() error {
	if t.done {
		return pgx.ErrTxClosed
	}
	t.done = true
	return nil
}

// pipelinedRows are the rows of a pipelined statement: closing them also ends the pipeline.
type pipelinedRows struct {
	pgx.Rows
	batch pgx.BatchResults
}

func (r *pipelinedRows) Close() {
	r.Rows.Close()
	if r.batch != nil {
		// A failure here broke the connection: the transaction's next statement or its
		// commit reports it.
		_ = r.batch.Close()
		r.batch = nil
	}
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
