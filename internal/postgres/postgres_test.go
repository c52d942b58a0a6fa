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
