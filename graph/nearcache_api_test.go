package graph_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// TestNearCacheCoherentAcrossInstances: two instances share PostgreSQL and Redis, each with its
// near cache in front of Redis. A write through A is seen by a read through B sent as soon as
// the mutation has answered, although B had the page in its near cache a moment before.
func TestNearCacheCoherentAcrossInstances(t *testing.T) {
	t.Parallel()
	redisURL := apitest.RedisURL(t)
	if redisURL == "" {
		t.Skip("TEST_REDIS_URL is not set: two instances need a shared Redis")
	}
	a, b := newTwinServers(t, redisURL)
	env := shopEnvOn(t, a)
	p := seedOne(t, a, "Near Lamp", "NEAR-LAMP", 1200)
	id := apitest.GlobalID("Product", p.ID)
	const page = `query Page($n: Int) { products(first: $n) { nodes { name } } }`
	const one = `query One($id: ID!) { product(id: $id) { name } }`
	vars := map[string]any{"n": 5}

	for i := range 5 {
		rawPost(t, b.URL, page, vars, nil)
		rawPost(t, b.URL, one, map[string]any{"id": id}, nil)
		before := b.App.Cache.Stats().NearHits
		_, state := rawPost(t, b.URL, page, vars, nil)
		require.Equal(t, "HIT", state)
		_, state = rawPost(t, b.URL, one, map[string]any{"id": id}, nil)
		require.Equal(t, "HIT", state)
		require.Equal(t, before+2, b.App.Cache.Stats().NearHits, "B answers both from its near cache")

		name := fmt.Sprintf("Near Lamp %d", i)
		var upd struct {
			P struct {
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"productUpdate"`
		}
		env.Admin.Do(`mutation U($id: ID!, $name: String!) { productUpdate(input: {id: $id, name: $name}) { userErrors { code } } }`,
			map[string]any{"id": id, "name": name}).Decode(t, &upd)
		require.Empty(t, upd.P.UserErrors)

		body, _ := rawPost(t, b.URL, page, vars, nil)
		require.Contains(t, body, `"`+name+`"`, "list page on B right after the write on A")
		body, _ = rawPost(t, b.URL, one, map[string]any{"id": id}, nil)
		require.Contains(t, body, `"`+name+`"`, "product on B right after the write on A")
	}
}
