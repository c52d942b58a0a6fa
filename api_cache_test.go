package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/product"
	"github.com/shopgraph/shopgraph/internal/testutil/redistest"
)

const cacheProbeQuery = `query Probe($id: ID!) {
  product(id: $id) { name variants { price { amount } } }
  products(first: 5) { nodes { name } }
}`

type cacheProbe struct {
	Product *struct {
		Name     string `json:"name"`
		Variants []struct {
			Price struct {
				Amount int64 `json:"amount"`
			} `json:"price"`
		} `json:"variants"`
	} `json:"product"`
	Products struct {
		Nodes []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	} `json:"products"`
}

// seedOne creates a product directly through the service, as an admin.
func seedOne(t *testing.T, srv *testServer, name, sku string, price int64) product.Product {
	t.Helper()
	p, err := srv.app.catalog.Create(context.Background(), auth.Viewer{Role: auth.RoleAdmin}, product.CreateInput{
		Name: name, Currency: "USD", Variants: []product.VariantInput{{SKU: sku, Price: price, Stock: 5}},
	})
	require.NoError(t, err)
	return p
}

func probe(t *testing.T, c *gqlClient, id string) cacheProbe {
	t.Helper()
	var out cacheProbe
	c.do(cacheProbeQuery, map[string]any{"id": id}).decode(t, &out)
	return out
}

// TestCacheReadsSeeWrites: after a successful mutation the very next read, through the same
// caches that served the previous read, shows the change.
func TestCacheReadsSeeWrites(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, redisURL string) {
		srv := newTestServer(t, map[string]string{"REDIS_URL": redisURL})
		admin := srv.client(t)
		a, err := srv.app.accounts.EnsureAdmin(context.Background(), uniqueEmail(), "admin-password")
		require.NoError(t, err)
		admin.bearer = admin.login(a.Email, "admin-password").Tokens.AccessToken
		shopper := srv.client(t)

		p := seedOne(t, srv, "Cached Kettle", "KETTLE-1", 3000)
		id := globalID("Product", p.ID)
		first := probe(t, shopper, id)
		require.Equal(t, "Cached Kettle", first.Product.Name)
		require.Equal(t, "Cached Kettle", first.Products.Nodes[0].Name)
		// A second read is served from the cache: it runs fewer statements.
		before := srv.statements.Total()
		probe(t, shopper, id)
		cachedStatements := srv.statements.Total() - before

		var upd struct {
			P struct {
				UserErrors []userErrorJSON `json:"userErrors"`
			} `json:"productUpdate"`
		}
		admin.do(`mutation U($id: ID!) { productUpdate(input: {id: $id, name: "Renamed Kettle"}) { userErrors { code } } }`,
			map[string]any{"id": id}).decode(t, &upd)
		require.Empty(t, upd.P.UserErrors)
		after := probe(t, shopper, id)
		require.Equal(t, "Renamed Kettle", after.Product.Name, "product by id")
		require.Equal(t, "Renamed Kettle", after.Products.Nodes[0].Name, "list page")

		var vars struct {
			Product struct {
				Variants []struct {
					ID string `json:"id"`
				} `json:"variants"`
			} `json:"product"`
		}
		shopper.do(`query V($id: ID!) { product(id: $id) { variants { id } } }`, map[string]any{"id": id}).decode(t, &vars)
		admin.do(`mutation P($id: ID!) { productVariantUpdate(input: {id: $id, price: 4500}) { userErrors { code } } }`,
			map[string]any{"id": vars.Product.Variants[0].ID})
		require.EqualValues(t, 4500, probe(t, shopper, id).Product.Variants[0].Price.Amount, "variant price")

		newer := seedOne(t, srv, "Newest Teapot", "TEAPOT-1", 2000)
		require.Equal(t, "Newest Teapot", probe(t, shopper, id).Products.Nodes[0].Name, "new product tops the cached list")
		_ = newer

		_, err = srv.app.catalog.Archive(context.Background(), auth.Viewer{Role: auth.RoleAdmin}, p.ID)
		require.NoError(t, err)
		gone := probe(t, shopper, id)
		require.Nil(t, gone.Product, "archived product hidden at once")
		for _, n := range gone.Products.Nodes {
			require.NotEqual(t, "Renamed Kettle", n.Name)
		}
		require.Less(t, cachedStatements, int64(3), "a repeated read should come from the cache")
	}
	t.Run("in-process cache", func(t *testing.T) { run(t, "") })
	t.Run("Redis cache", func(t *testing.T) {
		if testRedisURL(t) == "" {
			t.Skip("no TEST_REDIS_URL")
		}
		run(t, redistest.Start(t).URL())
	})
}

// TestCacheDeadRedisDegradesToPostgres: a Redis that is unreachable from the start, or that
// stops mid-run and comes back, never turns into an error for clients.
func TestCacheDeadRedisDegradesToPostgres(t *testing.T) {
	t.Parallel()

	t.Run("closed port", func(t *testing.T) {
		srv := newTestServer(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"})
		p := seedOne(t, srv, "Offline Lamp", "LAMP-1", 1500)
		c := srv.client(t)
		for range 20 {
			require.Equal(t, "Offline Lamp", probe(t, c, globalID("Product", p.ID)).Product.Name)
		}
	})

	t.Run("stopped mid-run and restarted", func(t *testing.T) {
		redisSrv := redistest.Start(t)
		srv := newTestServer(t, map[string]string{"REDIS_URL": redisSrv.URL()})
		p := seedOne(t, srv, "Flaky Fan", "FAN-1", 1500)
		id := globalID("Product", p.ID)
		c := srv.client(t)
		require.Equal(t, "Flaky Fan", probe(t, c, id).Product.Name)

		redisSrv.Stop()
		for range 20 {
			require.Equal(t, "Flaky Fan", probe(t, c, id).Product.Name)
		}
		// A write while Redis is down must still be visible right away.
		_, err := srv.app.catalog.Update(context.Background(), auth.Viewer{Role: auth.RoleAdmin},
			product.UpdateInput{ID: p.ID, Name: ptrTo("Steady Fan")})
		require.NoError(t, err)
		require.Equal(t, "Steady Fan", probe(t, c, id).Product.Name)

		redisSrv.Restart()
		require.Eventually(t, func() bool {
			return probe(t, c, id).Product.Name == "Steady Fan" && srv.app.cache.Stats().Hits > 0
		}, 10*time.Second, 100*time.Millisecond)
		// Once the breaker closes, reads are served from Redis again, and still fresh.
		hits := srv.app.cache.Stats().Hits
		require.Eventually(t, func() bool {
			return probe(t, c, id).Product.Name == "Steady Fan" && srv.app.cache.Stats().Hits > hits
		}, 10*time.Second, 100*time.Millisecond)
	})
}

func ptrTo[T any](v T) *T { return &v }
