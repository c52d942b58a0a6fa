package graph_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
)

// pgProxy stands between a test server and PostgreSQL, so that a test can take "the database"
// away and bring it back without touching the PostgreSQL server that others share.
type pgProxy struct {
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// startPGProxy forwards a free local port to the PostgreSQL of target (a database URL) and
// returns target's URL through it.
func startPGProxy(t *testing.T, target string) (*pgProxy, string) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &pgProxy{target: u.Host, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.down)
	u.Host = p.addr
	return p, u.String()
}

func (p *pgProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = client.Close()
				continue
			}
			p.mu.Lock()
			p.conns[client], p.conns[server] = struct{}{}, struct{}{}
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				_, _ = io.Copy(dst, src)
				_ = dst.Close()
				_ = src.Close()
			}
			go pipe(client, server)
			go pipe(server, client)
		}
	}()
}

// down refuses new connections and cuts the open ones, as a stopped server would.
func (p *pgProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// up accepts connections again, on the same address.
func (p *pgProxy) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	require.NoError(t, err)
	p.serve(ln)
}

// terminateBackends ends every session on the database of dbURL, as a restart of PostgreSQL
// does, and waits until they are gone.
func terminateBackends(t *testing.T, dbURL string) int {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, pgtest.AdminURL())
	require.NoError(t, err)
	defer admin.Close(ctx)
	var n int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
		FROM pg_stat_activity WHERE datname = $1`, strings.TrimPrefix(u.Path, "/")).Scan(&n))
	return n
}

// TestDatabaseOutage: while PostgreSQL restarts, a read whose connection was lost is answered
// all the same, and a request that cannot be served answers SERVICE_UNAVAILABLE, marked
// retryable, never INTERNAL, and is not logged as an internal error.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	proxy, dbURL := startPGProxy(t, pgtest.NewURL(t))
	// No cache: every read below must reach PostgreSQL.
	srv := apitest.NewServer(t, map[string]string{"DATABASE_URL": dbURL, "CACHE": "off"})
	id := apitest.GlobalID("Product", seedOne(t, srv, "Outage Kettle", "OUTAGE-1", 3000).ID)
	const query = `query P($id: ID!) { product(id: $id) { name } }`
	read := func() *apitest.Response { return srv.Client(t).Do(query, map[string]any{"id": id}) }
	var ok struct {
		Product struct {
			Name string `json:"name"`
		} `json:"product"`
	}
	read().Decode(t, &ok)
	require.Equal(t, "Outage Kettle", ok.Product.Name)

	t.Run("a read whose connection the server ended is answered", func(t *testing.T) {
		// Several idle connections in the pool, all of them ended: running the read again on
		// the next idle one would fail again.
		var conns []*pgxpool.Conn
		for range 4 {
			c, err := srv.App.DB.Pool.Acquire(context.Background())
			require.NoError(t, err)
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Release()
		}
		require.GreaterOrEqual(t, terminateBackends(t, dbURL), 4)
		read().Decode(t, &ok)
		require.Equal(t, "Outage Kettle", ok.Product.Name)
	})

	mug := seedOne(t, srv, "Outage Mug", "OUTAGE-2", 900)
	variants, err := srv.App.Catalog.VariantsByProductIDs(context.Background(), []int64{mug.ID})
	require.NoError(t, err)
	variantID := apitest.GlobalID("ProductVariant", variants[mug.ID][0].ID)
	const add = `mutation A($input: CartItemAddInput!) { cartItemAdd(input: $input) { cart { totalQuantity } userErrors { code } } }`
	write := func() *apitest.Response {
		return srv.Client(t).Do(add, map[string]any{"input": map[string]any{"variantId": variantID, "quantity": 1}})
	}
	// fillPool leaves n idle connections in the pool, used a moment ago (so not pinged first).
	fillPool := func(t *testing.T, n int) {
		var conns []*pgxpool.Conn
		for range n {
			c, err := srv.App.DB.Pool.Acquire(context.Background())
			require.NoError(t, err)
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Release()
		}
	}

	t.Run("a write whose session the server ended is not marked retryable", func(t *testing.T) {
		// The server may end a session while it acknowledges a COMMIT: the write may have
		// happened, and sending it again could apply it twice.
		fillPool(t, 4)
		require.GreaterOrEqual(t, terminateBackends(t, dbURL), 4)
		resp := write()
		require.Equal(t, "SERVICE_UNAVAILABLE", resp.Code(), "%+v", resp.Errors)
		require.Equal(t, false, resp.Errors[0].Extensions["retryable"])
		require.Contains(t, resp.Errors[0].Message, "may or may not have been made")
		srv.App.DB.Pool.Reset()
	})

	t.Run("a write that never reached the database is retryable", func(t *testing.T) {
		srv.App.DB.Pool.Reset() // no idle connection: the write must connect, and cannot
		proxy.down()
		resp := write()
		require.Equal(t, "SERVICE_UNAVAILABLE", resp.Code(), "%+v", resp.Errors)
		require.Equal(t, true, resp.Errors[0].Extensions["retryable"])
		proxy.up(t)
		var added struct {
			CartItemAdd struct {
				Cart struct{ TotalQuantity int } `json:"cart"`
			} `json:"cartItemAdd"`
		}
		write().Decode(t, &added)
		require.Equal(t, 1, added.CartItemAdd.Cart.TotalQuantity)
	})

	t.Run("while the database is down, a request answers SERVICE_UNAVAILABLE, retryable", func(t *testing.T) {
		proxy.down()
		resp := read()
		require.Len(t, resp.Errors, 1)
		require.Equal(t, "SERVICE_UNAVAILABLE", resp.Code(), "%+v", resp.Errors)
		require.Equal(t, true, resp.Errors[0].Extensions["retryable"])
		require.NotContains(t, resp.Errors[0].Message, "127.0.0.1", "the cause stays in the log")
		logs := srv.Logs.String()
		require.NotContains(t, logs, `"msg":"internal error"`)
		require.Contains(t, logs, `"msg":"service unavailable"`)

		proxy.up(t)
		read().Decode(t, &ok)
		require.Equal(t, "Outage Kettle", ok.Product.Name, "answered again once the database is back")
	})
}
