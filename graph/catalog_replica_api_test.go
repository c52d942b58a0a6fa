package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/testutil/replicatest"
)

// TestCatalogReplicaAPI runs the server as `shopgraph serve` does with DATABASE_REPLICA_URL
// set: the mutation's write marks its viewer, whose next request reads the primary, while
// other viewers read the (paused) replica.
func TestCatalogReplicaAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pair := replicatest.Start(t)
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{
		"DATABASE_URL": pair.PrimaryURL, "DATABASE_REPLICA_URL": pair.ReplicaURL, "DATABASE_REPLICA_MAX_LAG": "5s",
	}})
	r := e.Server.App.Replica
	require.NotNil(t, r)
	vendor, _ := e.Vendor(t)
	customer, _ := e.Customer(t)
	anon := e.Anon(t)
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
	require.Empty(t, names(customer), "another viewer reads the paused replica")
	require.Empty(t, names(anon))

	pair.ResumeReplay(ctx)
	caughtUp()
	require.Eventually(t, func() bool { return len(names(customer)) == 1 && len(names(anon)) == 1 },
		5*time.Second, 20*time.Millisecond, "every viewer sees the write once the replica has it")
}
