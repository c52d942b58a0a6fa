package postgres

import (
	"context"
	"reflect"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
)

// Pipeline is statements sent to PostgreSQL together, in one round trip, for the hot paths
// where a round trip per statement would cost more than the statements themselves. Queue
// sqlc's exported statements (db.CartView, ...) with their arguments in the order of their
// generated parameter structs; rows are scanned by position into sqlc's row types, as its
// generated code does (models embedded with sqlc.embed included).
//
// Sent on the pool (DB.Run), the statements are one implicit transaction: they take effect
// together or, when one fails, none does; each statement sees what the ones before it did.
// Sent in a transaction (Send with InTxWithTx's pgx.Tx), they are part of it.
type Pipeline struct {
	batch pgx.Batch
}

// ForceGenericPlans queues a setting that makes the statements after it, to the end of the
// transaction, run on their cached generic plans: for a statement the planner would plan
// afresh on every call although its generic plan is as good. Only inside a transaction.
func (p *Pipeline) ForceGenericPlans() {
	p.batch.Queue("SET LOCAL plan_cache_mode = force_generic_plan")
}

// Exec queues a statement whose result is not needed.
func (p *Pipeline) Exec(sql string, args ...any) {
	p.batch.Queue(sql, args...)
}

// QueueOne queues a statement returning exactly one row, scanned into *dst by position; no
// row is pgx.ErrNoRows when the pipeline runs.
func QueueOne[T any](p *Pipeline, dst *T, sql string, args ...any) {
	p.batch.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		row, err := pgx.CollectExactlyOneRow(rows, scanRow[T])
		*dst = row
		return err
	})
}

// QueueAll queues a statement returning rows, scanned into *dst by position.
func QueueAll[T any](p *Pipeline, dst *[]T, sql string, args ...any) {
	p.batch.Queue(sql, args...).Query(func(rows pgx.Rows) error {
		all, err := pgx.CollectRows(rows, scanRow[T])
		*dst = all
		return err
	})
}

// Sender is what a pipeline can be sent on: the pool, a connection or a transaction.
type Sender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Send runs the queued statements on s and fills their destinations. It returns the first
// error: a failed statement (in a transaction, the transaction is then aborted) or a failed
// scan. A pipeline is sent once.
func (p *Pipeline) Send(ctx context.Context, s Sender) error {
	if p.batch.Len() == 0 {
		return nil
	}
	return s.SendBatch(ctx, &p.batch).Close()
}

// Run sends p on the pool, as one implicit transaction.
func (d *DB) Run(ctx context.Context, p *Pipeline) error {
	err := p.Send(ctx, d.Pool)
	noteWrite(ctx, err) // a pipeline may hold writes, and commits them as it runs
	return unavailable(err)
}

// scanRow scans a row into a T field by field, in order, descending into the models sqlc
// embeds (struct fields whose type is declared in package db), as sqlc's own code does.
func scanRow[T any](row pgx.CollectableRow) (T, error) {
	var out T
	return out, row.Scan(scanTargets(reflect.ValueOf(&out).Elem(), nil)...)
}

var generatedPackage = reflect.TypeFor[db.Cart]().PkgPath()

func scanTargets(v reflect.Value, targets []any) []any {
	if v.Kind() != reflect.Struct || v.Type().PkgPath() != generatedPackage {
		return append(targets, v.Addr().Interface()) // one column: a scalar, time.Time...
	}
	for i := range v.NumField() {
		targets = scanTargets(v.Field(i), targets)
	}
	return targets
}

// Args is a sqlc parameter struct's fields in order: the arguments of its statement, as sqlc
// passes them (it declares the fields in the order of the statement's parameters;
// TestArgsFollowGeneratedCalls checks every generated call against it).
func Args(params any) []any {
	v := reflect.ValueOf(params)
	args := make([]any, v.NumField())
	for i := range args {
		args[i] = v.Field(i).Interface()
	}
	return args
}
