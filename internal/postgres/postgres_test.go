package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
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

// A test database's pool closes idle connections within seconds (pgtest writes that into the
// URL), so tests that wait for their subtests hold no connections; a URL without pool
// settings gets the production defaults.
func TestOpenPoolSettings(t *testing.T) {
	t.Parallel()
	raw := pgtest.NewURL(t)
	open := func(t *testing.T, u string) *pgxpool.Config {
		t.Helper()
		d, err := postgres.Open(context.Background(), u, postgres.Options{MaxConns: 1})
		require.NoError(t, err)
		t.Cleanup(d.Close)
		return d.Pool.Config()
	}

	t.Run("settings in the URL win over the defaults", func(t *testing.T) {
		cfg := open(t, raw)
		require.Equal(t, 3*time.Second, cfg.MaxConnIdleTime)
		require.Equal(t, time.Second, cfg.HealthCheckPeriod)
		require.Equal(t, time.Hour, cfg.MaxConnLifetime)
	})

	t.Run("without them the pool keeps the production defaults", func(t *testing.T) {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		q := u.Query()
		q.Del("pool_max_conn_idle_time")
		q.Del("pool_health_check_period")
		u.RawQuery = q.Encode()
		cfg := open(t, u.String())
		require.Equal(t, 5*time.Minute, cfg.MaxConnIdleTime)
		require.Equal(t, 30*time.Second, cfg.HealthCheckPeriod)
	})

	// The settings are read as the driver reads the connection string, not found as text: a
	// password may contain what looks like one ('&' and '=' need no escaping in a URL's
	// userinfo; anything goes inside a quoted key=value). The test server trusts local
	// connections, so the password is sent but not checked.
	const lookalike = "x&pool_max_conn_idle_time=7s pool_health_check_period=7s ?pool_max_conn_lifetime=7s"
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	q.Del("pool_max_conn_idle_time")
	q.Del("pool_health_check_period")
	u.RawQuery = q.Encode()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	keyValue := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable", u.Hostname(), port, u.User.Username(), strings.TrimPrefix(u.Path, "/"))
	quoted := "'" + strings.ReplaceAll(lookalike, "'", `\'`) + "'"

	t.Run("a password that looks like a setting is not one, in a URL", func(t *testing.T) {
		withPassword := *u
		withPassword.User = url.UserPassword(u.User.Username(), lookalike)
		require.Contains(t, withPassword.String(), "&pool_max_conn_idle_time=7s", "the URL carries the text unescaped")
		cfg := open(t, withPassword.String())
		require.Equal(t, 5*time.Minute, cfg.MaxConnIdleTime)
		require.Equal(t, 30*time.Second, cfg.HealthCheckPeriod)
		require.Equal(t, time.Hour, cfg.MaxConnLifetime)
	})

	t.Run("a password that looks like a setting is not one, in key=value form", func(t *testing.T) {
		cfg := open(t, keyValue+" password="+quoted)
		require.Equal(t, 5*time.Minute, cfg.MaxConnIdleTime)
		require.Equal(t, 30*time.Second, cfg.HealthCheckPeriod)
		require.Equal(t, time.Hour, cfg.MaxConnLifetime)
	})

	t.Run("settings in key=value form win over the defaults", func(t *testing.T) {
		cfg := open(t, keyValue+" password="+quoted+" pool_max_conn_idle_time=3s pool_health_check_period=2s pool_max_conn_lifetime=4m")
		require.Equal(t, 3*time.Second, cfg.MaxConnIdleTime)
		require.Equal(t, 2*time.Second, cfg.HealthCheckPeriod)
		require.Equal(t, 4*time.Minute, cfg.MaxConnLifetime)
	})
}
