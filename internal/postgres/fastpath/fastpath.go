// Package fastpath is where shopgraph trades the plainest code for round trips to PostgreSQL,
// on its two hottest paths only (a signed-in customer's cartItemAdd, and checkout), and only
// because bench/checkout.sh measured the difference.
//
// The one trick: sqlc's batch queries (:batchexec, :batchone, :batchmany) of different
// kinds sent together as one pgx pipeline, one round trip, with BEGIN in front of them where
// the pipeline opens a transaction (pgx's own Batch.BeginTx; postgres.DB.InTxBegunWith). sqlc
// sends each batch query's batch on its own; a Pipeline collects them instead, and sends them
// all at once. Arguments and rows stay sqlc's generated, typed code: no SQL is written here,
// and nothing is passed by position. Everything else on those paths is plain: pgx
// transactions, River's InsertTx.
//
// What it is worth (issue 15; DURATION=5 WARMUP=2 RUNS=3 bench/checkout.sh on a shared 2-core
// machine): an iteration of two cartItemAdd and a checkout makes 7 round trips with these
// pipelines and 18 without. Without them the server and PostgreSQL spent 13% more CPU per
// order (5.18 ms against 4.58) and the API made 12% fewer orders/s (218 against 247), in
// interleaved runs of 4 to 5 each. With them, the API makes as many orders/s as the earlier
// fast path did (median of 6 runs 399, against 398 for 9 runs of the code before issue 15,
// interleaved), which wrote into River's table and wrapped pgx.Tx by hand to send BEGIN with
// the first statement: both are gone.
package fastpath

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shopgraph/shopgraph/db"
)

// Pipeline is statements sent to PostgreSQL together, in one round trip. Queue them by calling
// sqlc's batch queries on Queries; Run sends them and then reads each query's results with
// sqlc's methods (QueryRow, Query, Exec), in the order the queries were queued.
//
// Sent on the pool (postgres.DB.RunPipeline), the statements are one implicit transaction:
// they take effect together or, when one fails, none does; each sees what the ones before it
// did. Sent in a transaction (the pgx.Tx of postgres.InTxWithTx), they are part of it.
type Pipeline struct {
	batch pgx.Batch
	br    pgx.BatchResults
}

// errNotBatch: only sqlc's batch queries can be queued in a pipeline.
var errNotBatch = errors.New("fastpath: only sqlc batch queries (:batchexec, :batchone, :batchmany) can be queued in a pipeline")

// errNotSent: results are read in Run's read.
var errNotSent = errors.New("fastpath: pipeline read before it was sent")

// Queries are sqlc's queries queuing in p: a batch query returns its results at once, to be
// read in Run's read. Any other query fails.
func (p *Pipeline) Queries() *db.Queries { return db.New(queue{p}) }

// Sender is what a pipeline is sent on: the pool, or a transaction.
type Sender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Run sends the queued statements on s, calls read to read their results, and ends the
// pipeline (the connection or transaction can then be used again). It returns read's error,
// or else the first error of the statements. A pipeline runs once.
func (p *Pipeline) Run(ctx context.Context, s Sender, read func() error) error {
	if p.batch.Len() == 0 {
		return read()
	}
	p.br = s.SendBatch(ctx, &p.batch)
	err := read()
	if closeErr := p.br.Close(); err == nil {
		err = closeErr
	}
	return err
}

// BeginTx makes the pipeline begin a transaction: BEGIN is its first statement, sent in the
// same round trip (pgx's Batch.BeginTx). Call it before queueing anything, then RunBegun.
func (p *Pipeline) BeginTx() { p.batch.BeginTx(pgx.TxOptions{}) }

// RunBegun is Run for a pipeline that begins a transaction (BeginTx), sent on the pool or a
// connection: it returns the transaction the pipeline began, to go on with and end (Commit or
// Rollback, which also gives its connection back) whatever the error.
func (p *Pipeline) RunBegun(ctx context.Context, s Sender, read func() error) (pgx.Tx, error) {
	p.br = s.SendBatch(ctx, &p.batch)
	tx := p.br.Tx()
	_, err := p.br.Exec() // the BEGIN
	if err == nil {
		err = read()
	}
	if closeErr := p.br.Close(); err == nil {
		err = closeErr
	}
	return tx, err
}

// queue is the db.DBTX of Queries.
type queue struct{ p *Pipeline }

func (q queue) SendBatch(_ context.Context, b *pgx.Batch) pgx.BatchResults {
	q.p.batch.QueuedQueries = append(q.p.batch.QueuedQueries, b.QueuedQueries...)
	return results(q)
}

func (queue) Exec(context.Context, string, ...any) (pgconn.CommandTag, error) {
	return pgconn.CommandTag{}, errNotBatch
}

func (queue) Query(context.Context, string, ...any) (pgx.Rows, error) { return nil, errNotBatch }

func (queue) QueryRow(context.Context, string, ...any) pgx.Row { return errRow{errNotBatch} }

// results are one batch query's results within the pipeline's: read in turn from the
// pipeline's, which Close ends (sqlc's code closes each query's results once read).
type results struct{ p *Pipeline }

func (r results) Exec() (pgconn.CommandTag, error) {
	if r.p.br == nil {
		return pgconn.CommandTag{}, errNotSent
	}
	return r.p.br.Exec()
}

func (r results) Query() (pgx.Rows, error) {
	if r.p.br == nil {
		return nil, errNotSent
	}
	return r.p.br.Query()
}

func (r results) QueryRow() pgx.Row {
	if r.p.br == nil {
		return errRow{errNotSent}
	}
	return r.p.br.QueryRow()
}

func (results) Close() error { return nil }

func (results) Tx() pgx.Tx { return nil }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
