package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// killIdleConns leaves d's pool with n idle connections whose backends are gone, as a restart
// of PostgreSQL leaves a pool in the second after it: the pool only sees it when it uses them.
func killIdleConns(t *testing.T, d *postgres.DB, n int) {
	t.Helper()
	ctx := context.Background()
	conns := make([]*pgxpool.Conn, n)
	for i := range conns {
		c, err := d.Pool.Acquire(ctx)
		require.NoError(t, err)
		conns[i] = c
	}
	for _, c := range conns {
		c.Release()
	}
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	var killed int
	// pg_terminate_backend's timeout: wait until each backend has exited.
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
		FROM pg_stat_activity WHERE datname = $1`, d.Pool.Config().ConnConfig.Database).Scan(&killed))
	require.Equal(t, n, killed)
}

// A read whose pooled connection turns out dead runs again, once, on a live connection;
// a write or a transaction is never sent twice and answers SERVICE_UNAVAILABLE.
func TestLostConnection(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	ctx := context.Background()
	installation, err := d.InstallationID(ctx)
	require.NoError(t, err)

	for name, read := range map[string]func() error{
		"one row (QueryRow)": func() error { _, err := d.InstallationID(ctx); return err },
		"many rows (Query)":  func() error { _, err := d.CategoryListAll(ctx); return err },
		"custom plans":       func() error { _, err := d.CustomPlans.OrderCount(ctx, db.OrderCountParams{}); return err },
	} {
		t.Run("a read of "+name+" runs again on a live connection", func(t *testing.T) {
			// Three dead connections: running again on the next idle one would fail again.
			killIdleConns(t, d, 3)
			require.NoError(t, read())
		})
	}

	t.Run("a write is not sent again and answers SERVICE_UNAVAILABLE", func(t *testing.T) {
		killIdleConns(t, d, 1)
		_, err := d.InstallationRenew(ctx)
		require.Error(t, err)
		require.Equal(t, apperr.Unavailable, apperr.CodeOf(err), "%v", err)
		after, err := d.InstallationID(ctx)
		require.NoError(t, err)
		require.Equal(t, installation, after, "the write did not run")
	})

	t.Run("a transaction answers SERVICE_UNAVAILABLE", func(t *testing.T) {
		killIdleConns(t, d, 1)
		err := d.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
			_, err := q.InstallationRenew(ctx)
			return err
		})
		require.Equal(t, apperr.Unavailable, apperr.CodeOf(err), "%v", err)
	})

	t.Run("a closed pool answers SERVICE_UNAVAILABLE", func(t *testing.T) {
		closed := pgtest.New(t, postgres.Options{MaxConns: 1})
		closed.Close()
		_, err := closed.InstallationID(ctx)
		require.Equal(t, apperr.Unavailable, apperr.CodeOf(err), "%v", err)
	})

	t.Run("a server that refuses connections is unavailable", func(t *testing.T) {
		_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/shopgraph?sslmode=disable&connect_timeout=2", postgres.Options{})
		require.Error(t, err)
		require.True(t, postgres.IsUnavailable(err), "%v", err)
	})
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true}, // admin_shutdown
		{&pgconn.PgError{Code: "57P02"}, true}, // crash_shutdown
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot_connect_now
		{&pgconn.PgError{Code: "53300"}, true}, // too_many_connections
		{fmt.Errorf("list: %w", &pgconn.PgError{Code: "57P03"}), true},
		{io.ErrUnexpectedEOF, true},
		{pgconn.ErrConnClosed, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "28P01"}, false}, // a wrong password is not an outage
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{errors.New("something else"), false},
		{nil, false},
	} {
		require.Equal(t, c.want, postgres.IsUnavailable(c.err), "%v", c.err)
	}
	err := postgres.MapError(&pgconn.PgError{Code: "57P03"}, "product")
	require.Equal(t, apperr.Unavailable, apperr.CodeOf(err))
}

// TestUnavailableNotApplied: only an error that proves the database did nothing lets a write
// be sent again; a session lost after sending leaves its outcome unknown.
func TestUnavailableNotApplied(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P03"}, true}, // refused at connection time
		{&pgconn.PgError{Code: "53300"}, true},
		{&pgconn.PgError{Code: "57P01"}, false}, // ended, maybe while acknowledging a COMMIT
		{io.ErrUnexpectedEOF, false},
		{pgconn.ErrConnClosed, false},
	} {
		e := apperr.As(postgres.MapError(c.err, "order"))
		require.NotNil(t, e, "%v", c.err)
		require.Equal(t, apperr.Unavailable, e.Code, "%v", c.err)
		require.Equal(t, c.want, e.NotApplied, "%v", c.err)
	}
	d, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=2", postgres.Options{MaxConns: 1})
	if err == nil {
		defer d.Close()
		_, err = d.Queries.InstallationID(context.Background())
	}
	e := apperr.As(postgres.MapError(err, "installation"))
	require.NotNil(t, e, "%v", err)
	require.True(t, e.NotApplied, "a connection that could not be made sent nothing: %v", err)
}
