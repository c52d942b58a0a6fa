package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// Statements through DB.Queries are prepared once per connection (their plans are cached);
// those through DB.CustomPlans never are, so Postgres plans each call for its own values.
func TestCustomPlans(t *testing.T) {
	d := pgtest.New(t, postgres.Options{MaxConns: 1}) // one connection: the one inspected below
	ctx := context.Background()
	prepared := func(t *testing.T, name string) int {
		t.Helper()
		var n int
		require.NoError(t, d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE $1`,
			pgx.QueryExecModeSimpleProtocol, "%name: "+name+" %").Scan(&n))
		return n
	}
	for range 3 {
		_, err := d.CustomPlans.OrderCount(ctx, db.OrderCountParams{})
		require.NoError(t, err)
		_, err = d.OrderGetByID(ctx, 1)
		require.True(t, postgres.IsNotFound(err), "%v", err)
	}
	require.Equal(t, 0, prepared(t, "OrderCount"), "a CustomPlans statement is not prepared")
	require.Equal(t, 1, prepared(t, "OrderGetByID"), "a Queries statement is prepared once")
}

// Every checkout updates its variants' stock. PostgreSQL can do that as a HOT update (the row
// alone is rewritten, no index touched) only when no index of the table uses the column, in
// its keys, expressions or predicate, and the page has room.
func TestStockUpdatesCanBeHOT(t *testing.T) {
	d := pgtest.New(t, postgres.Options{})
	ctx := context.Background()
	rows, err := d.Pool.Query(ctx, `
		SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid = 'product_variants'::regclass
		  AND (pg_get_indexdef(i.indexrelid) ~ '\mstock\M'
		       OR coalesce(pg_get_expr(i.indpred, i.indrelid), '') ~ '\mstock\M')`)
	require.NoError(t, err)
	indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Empty(t, indexes, "an index using stock makes every stock update write every index")

	var options []string
	require.NoError(t, d.Pool.QueryRow(ctx, `SELECT coalesce(reloptions, '{}') FROM pg_class WHERE oid = 'product_variants'::regclass`).Scan(&options))
	require.Contains(t, options, "fillfactor=80", "room on each page for the updated row")
}
