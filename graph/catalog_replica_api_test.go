package graph_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/testutil/replicatest"
)

// TestCatalogReplicaAPI runs two instances as `shopgraph serve` does with DATABASE_REPLICA_URL
// set, on one Redis when `make test` found one: the mutation's write on one instance marks its
// viewer, whose next request reads the primary on either instance, while other viewers read
// the (paused) replica.
func TestCatalogReplicaAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pair := replicatest.Start(t)
	env := map[string]string{
		"DATABASE_URL": pair.PrimaryURL, "DATABASE_REPLICA_URL": pair.ReplicaURL, "DATABASE_REPLICA_MAX_LAG": "5s",
		"REDIS_KEY_PREFIX": "sgtest:" + uuid.NewString() + ":",
	}
	redisURL := apitest.RedisURL(t)
	if redisURL != "" {
		env["REDIS_URL"] = redisURL
	}
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: env})
	r := e.Server.App.Replica
	require.NotNil(t, r)
	vendor, _ := e.Vendor(t)
	customer, _ := e.Customer(t)
	anon := e.Anon(t)
	// The same viewer on a second instance, which sees the mark only through Redis.
	var vendorElsewhere *apitest.Client
	if redisURL != "" {
		other := apitest.NewServer(t, env)
		vendorElsewhere = other.Client(t)
		vendorElsewhere.Bearer = vendor.Bearer
	}
	caughtUp := func() {
		t.Helper()
		lsn, err := e.Server.App.DB.WalInsertLSN(ctx)
		require.NoError(t, err)
		require.Eventually(t, func() bool { s := r.Stats(); return s.Usable && s.Replayed >= lsn },
			10*time.Second, 20*time.Millisecond, "the replica does not catch up: %+v", r.Stats())
	}
	const listQ = `{ products(first: 10) { edges { node { name } } } }`
	names := func(c *apitest.Client) []string {
		t.Helper()
		var out struct {
			Products struct {
				Edges []struct{ Node struct{ Name string } }
			}
		}
		c.Do(listQ, nil).Decode(t, &out)
		list := []string{}
		for _, e := range out.Products.Edges {
			list = append(list, e.Node.Name)
		}
		return list
	}
	caughtUp()
	require.Empty(t, names(customer))

	pair.PauseReplay(ctx)
	var created struct {
		ProductCreate struct {
			Product    *struct{ ID string }
			UserErrors []struct{ Code string }
		}
	}
	vendor.Do(`mutation { productCreate(input: {name: "Lamp", currency: "USD",
		variants: [{sku: "LAMP-1", name: "One", price: 1000, stock: 2}]}) { product { id } userErrors { code } } }`, nil).Decode(t, &created)
	require.Empty(t, created.ProductCreate.UserErrors)
	require.NotNil(t, created.ProductCreate.Product)

	require.Equal(t, []string{"Lamp"}, names(vendor), "the writer's next request reads its write")
	if vendorElsewhere != nil {
		require.Equal(t, []string{"Lamp"}, names(vendorElsewhere), "on another instance too")
	}
	require.Empty(t, names(customer), "another viewer reads the paused replica")
	require.Empty(t, names(anon))

	pair.ResumeReplay(ctx)
	caughtUp()
	require.Eventually(t, func() bool { return len(names(customer)) == 1 && len(names(anon)) == 1 },
		5*time.Second, 20*time.Millisecond, "every viewer sees the write once the replica has it")

	// /metrics shows where the reads went and the probe's verdict.
	scrape, err := http.Get(e.Server.URL + "/metrics")
	require.NoError(t, err)
	defer scrape.Body.Close()
	body, err := io.ReadAll(scrape.Body)
	require.NoError(t, err)
	for _, series := range []string{`shopgraph_db_replica_reads_total{target="replica"}`, `shopgraph_db_replica_reads_total{target="primary"}`} {
		m := regexp.MustCompile(regexp.QuoteMeta(series) + ` (\d+)`).FindStringSubmatch(string(body))
		require.NotNil(t, m, series)
		require.NotEqual(t, "0", m[1], series)
	}
	require.Contains(t, string(body), "shopgraph_db_replica_usable 1")
	require.Contains(t, string(body), "shopgraph_db_replica_lag_seconds ")
	require.Contains(t, string(body), "shopgraph_db_replica_fallbacks_total 0")
}
