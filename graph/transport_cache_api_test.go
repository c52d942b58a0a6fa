package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/pubsub"
	"github.com/shopgraph/shopgraph/internal/seed"
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
func seedOne(t *testing.T, srv *apitest.Server, name, sku string, price int64) catalog.Product {
	t.Helper()
	p, err := srv.App.Catalog.Create(context.Background(), auth.Viewer{Role: auth.RoleAdmin}, catalog.CreateInput{
		Name: name, Currency: "USD", Variants: []catalog.VariantInput{{SKU: sku, Price: price, Stock: 5}},
	})
	require.NoError(t, err)
	return p
}

func probe(t *testing.T, c *apitest.Client, id string) cacheProbe {
	t.Helper()
	var out cacheProbe
	c.Do(cacheProbeQuery, map[string]any{"id": id}).Decode(t, &out)
	return out
}

// TestCacheReadsSeeWrites: after a successful mutation the very next read, through the same
// caches that served the previous read, shows the change.
func TestCacheReadsSeeWrites(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, redisURL string) {
		srv := apitest.NewServer(t, map[string]string{"REDIS_URL": redisURL})
		admin := srv.Client(t)
		a, err := srv.App.Accounts.EnsureAdmin(context.Background(), apitest.UniqueEmail(), "admin-password")
		require.NoError(t, err)
		admin.Bearer = admin.Login(a.Email, "admin-password").Tokens.AccessToken
		shopper := srv.Client(t)

		p := seedOne(t, srv, "Cached Kettle", "KETTLE-1", 3000)
		id := apitest.GlobalID("Product", p.ID)
		first := probe(t, shopper, id)
		require.Equal(t, "Cached Kettle", first.Product.Name)
		require.Equal(t, "Cached Kettle", first.Products.Nodes[0].Name)
		// A second read is served from the cache: it runs fewer statements.
		before := srv.Statements.Total()
		probe(t, shopper, id)
		cachedStatements := srv.Statements.Total() - before

		var upd struct {
			P struct {
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"productUpdate"`
		}
		admin.Do(`mutation U($id: ID!) { productUpdate(input: {id: $id, name: "Renamed Kettle"}) { userErrors { code } } }`,
			map[string]any{"id": id}).Decode(t, &upd)
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
		shopper.Do(`query V($id: ID!) { product(id: $id) { variants { id } } }`, map[string]any{"id": id}).Decode(t, &vars)
		admin.Do(`mutation P($id: ID!) { productVariantUpdate(input: {id: $id, price: 4500}) { userErrors { code } } }`,
			map[string]any{"id": vars.Product.Variants[0].ID})
		require.EqualValues(t, 4500, probe(t, shopper, id).Product.Variants[0].Price.Amount, "variant price")

		newer := seedOne(t, srv, "Newest Teapot", "TEAPOT-1", 2000)
		require.Equal(t, "Newest Teapot", probe(t, shopper, id).Products.Nodes[0].Name, "new product tops the cached list")
		_ = newer

		_, err = srv.App.Catalog.Archive(context.Background(), auth.Viewer{Role: auth.RoleAdmin}, p.ID)
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
		if apitest.RedisURL(t) == "" {
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
		srv := apitest.NewServer(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"})
		p := seedOne(t, srv, "Offline Lamp", "LAMP-1", 1500)
		c := srv.Client(t)
		for range 20 {
			require.Equal(t, "Offline Lamp", probe(t, c, apitest.GlobalID("Product", p.ID)).Product.Name)
		}
	})

	t.Run("stopped mid-run and restarted", func(t *testing.T) {
		redisSrv := redistest.Start(t)
		srv := apitest.NewServer(t, map[string]string{"REDIS_URL": redisSrv.URL()})
		p := seedOne(t, srv, "Flaky Fan", "FAN-1", 1500)
		id := apitest.GlobalID("Product", p.ID)
		c := srv.Client(t)
		require.Equal(t, "Flaky Fan", probe(t, c, id).Product.Name)

		redisSrv.Stop()
		for range 20 {
			require.Equal(t, "Flaky Fan", probe(t, c, id).Product.Name)
		}
		// A write while Redis is down must still be visible right away.
		_, err := srv.App.Catalog.Update(context.Background(), auth.Viewer{Role: auth.RoleAdmin},
			catalog.UpdateInput{ID: p.ID, Name: ptrTo("Steady Fan")})
		require.NoError(t, err)
		require.Equal(t, "Steady Fan", probe(t, c, id).Product.Name)

		redisSrv.Restart()
		require.Eventually(t, func() bool {
			return probe(t, c, id).Product.Name == "Steady Fan" && srv.App.Cache.Stats().Hits > 0
		}, 10*time.Second, 100*time.Millisecond)
		// Once the breaker closes, reads are served from Redis again, and still fresh.
		hits := srv.App.Cache.Stats().Hits
		require.Eventually(t, func() bool {
			return probe(t, c, id).Product.Name == "Steady Fan" && srv.App.Cache.Stats().Hits > hits
		}, 10*time.Second, 100*time.Millisecond)
	})
}

func ptrTo[T any](v T) *T { return &v }

// TestTwoShopsOnOneRedis: two shops on their own databases but one Redis and the default
// REDIS_KEY_PREFIX never see each other's cached categories and catalog, nor order events.
func TestTwoShopsOnOneRedis(t *testing.T) {
	t.Parallel()
	redisURL := apitest.RedisURL(t)
	if redisURL == "" {
		t.Skip("TEST_REDIS_URL is not set: the shops need a shared Redis")
	}
	ctx := context.Background()
	env := map[string]string{"REDIS_URL": redisURL, "REDIS_KEY_PREFIX": ""} // "": the default
	shopA, shopB := apitest.NewServer(t, env), apitest.NewServer(t, env)
	require.Equal(t, "shopgraph:", shopA.App.Config.RedisKeyPrefix)
	require.Equal(t, shopA.App.Config.RedisKeyPrefix, shopB.App.Config.RedisKeyPrefix)
	const categoriesQuery = `{ categories { name } }`
	type categoriesResult struct {
		Categories []struct {
			Name string `json:"name"`
		} `json:"categories"`
	}
	categoryNames := func(srv *apitest.Server) []string {
		var out categoriesResult
		srv.Client(t).Do(categoriesQuery, nil).Decode(t, &out)
		names := make([]string, len(out.Categories))
		for i, c := range out.Categories {
			names[i] = c.Name
		}
		return names
	}

	t.Run("both seed at start-up and serve their own categories and catalog", func(t *testing.T) {
		seeded, err := seed.IfEmpty(ctx, shopA.App.Accounts, shopA.App.Vendors, shopA.App.Catalog, 3)
		require.NoError(t, err)
		require.True(t, seeded)
		// A serves its categories, so that its cache holds them while B starts.
		require.NotEmpty(t, categoryNames(shopA))
		seeded, err = seed.IfEmpty(ctx, shopB.App.Accounts, shopB.App.Vendors, shopB.App.Catalog, 3)
		require.NoError(t, err, "B's seeding must use B's own categories")
		require.True(t, seeded)

		admin := auth.Viewer{Role: auth.RoleAdmin}
		name := "Only In Shop B"
		_, err = shopB.App.Catalog.CategoryCreate(ctx, admin, catalog.CategoryInput{Name: &name})
		require.NoError(t, err)
		require.Contains(t, categoryNames(shopB), name)
		require.NotContains(t, categoryNames(shopA), name)

		seedOne(t, shopA, "Shop A Kettle", "A-KETTLE", 3000)
		seedOne(t, shopB, "Shop B Kettle", "B-KETTLE", 3000)
		const newest = `{ products(first: 1) { nodes { name } } }`
		for _, c := range []struct {
			srv  *apitest.Server
			want string
		}{{shopA, "Shop A Kettle"}, {shopB, "Shop B Kettle"}, {shopA, "Shop A Kettle"}} {
			var out struct {
				Products struct {
					Nodes []struct {
						Name string `json:"name"`
					} `json:"nodes"`
				} `json:"products"`
			}
			c.srv.Client(t).Do(newest, nil).Decode(t, &out)
			require.Len(t, out.Products.Nodes, 1)
			require.Equal(t, c.want, out.Products.Nodes[0].Name)
		}
	})

	t.Run("an order event published on one shop reaches only its own subscribers", func(t *testing.T) {
		waitRedisSubscribers(t, shopA, 1)
		waitRedisSubscribers(t, shopB, 1)
		all := func(pubsub.OrderEvent) bool { return true }
		onA := shopA.App.Bus.Hub.Subscribe(all, 8)
		defer onA.Close()
		onB := shopB.App.Bus.Hub.Subscribe(all, 8)
		defer onB.Close()
		shopA.App.Bus.Publish(ctx, pubsub.OrderEvent{OrderID: 1, Sequence: 2, Status: "PAID", At: time.Now()})
		select {
		case e := <-onA.C:
			require.EqualValues(t, 1, e.OrderID)
		case <-time.After(5 * time.Second):
			require.Fail(t, "shop A's own subscriber got nothing")
		}
		select {
		case e := <-onB.C:
			require.Failf(t, "shop B received shop A's order event", "%+v", e)
		case <-time.After(300 * time.Millisecond):
		}
	})
}
