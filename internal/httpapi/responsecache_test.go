package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/httpapi/mediatype"
)

func TestIsPublicQuery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query, op string
		public    bool
	}{
		{`{ products(first: 2) { nodes { name } } }`, "", true},
		{`query P { product(id: "x") { name } __typename }`, "P", true},
		{`query A { categories { name } } query B { me { email } }`, "A", true},
		{`query A { categories { name } } query B { me { email } }`, "B", false},
		{`query A { categories { name } } query B { me { email } }`, "", false},
		{`{ products { nodes { name } } me { email } }`, "", false},
		{`{ cart { id } }`, "", false},
		{`mutation { cartCreate { cart { id } } }`, "", false},
		{`subscription { orderEvents { sequence } }`, "", false},
		{`{ ...F } fragment F on Query { products { nodes { name } } }`, "", false},
		{`{ products @include(if: true) { nodes { name } } }`, "", false},
		{`{ products(`, "", false},
	} {
		require.Equal(t, tc.public, isPublicQuery(tc.query, tc.op), "%s (%s)", tc.query, tc.op)
	}
}

// countingGraphQL stands for the GraphQL handler: it answers body, counting its calls.
func countingGraphQL(calls *atomic.Int64, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", mediatype.Negotiate(r).Media)
		_, _ = w.Write([]byte(body))
	})
}

func post(h http.Handler, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPublicResponseCacheUnit(t *testing.T) {
	t.Parallel()
	c := cache.New(cache.NewMemory(0))
	store := PersistedQueryStore{Store: cache.NewMemory(0), TTL: time.Hour}
	var calls atomic.Int64
	h := PublicResponseCache(c, store, countingGraphQL(&calls, `{"data":{"products":{"nodes":[]}}}`))
	productsQuery := `{"query":"{ products { nodes { name } } }"}`

	w := post(h, productsQuery)
	require.Equal(t, "MISS", w.Header().Get("X-Cache"))
	w = post(h, productsQuery, "Accept", mediatype.GraphQLResponse)
	require.Equal(t, "HIT", w.Header().Get("X-Cache"))
	require.Equal(t, mediatype.GraphQLResponse, w.Header().Get("Content-Type"), "a hit follows the client's Accept")
	require.JSONEq(t, `{"data":{"products":{"nodes":[]}}}`, w.Body.String())
	require.Equal(t, int64(1), calls.Load())

	// Credentials, other fields, other variables: not served from the cache.
	for _, tc := range []struct{ body, name, value string }{
		{productsQuery, "Authorization", "Bearer x"},
		{productsQuery, "Cookie", auth.AccessCookie + "=x"},
		{`{"query":"{ me { email } }"}`, "", ""},
		{`{"query":"{ products { nodes { name } } }","variables":{"a":1}}`, "", ""},
	} {
		before := calls.Load()
		w := post(h, tc.body, tc.name, tc.value)
		require.Equal(t, before+1, calls.Load(), "%s %s", tc.body, tc.name)
		if tc.name != "" || strings.Contains(tc.body, "me {") {
			require.Empty(t, w.Header().Get("X-Cache"), "%s %s", tc.body, tc.name)
		}
	}

	// A catalog write bumps the generation: the next request misses.
	c.Bump(t.Context(), catalog.ListNamespace)
	require.Equal(t, "MISS", post(h, productsQuery).Header().Get("X-Cache"))

	// A persisted query sent by hash alone is cached like the same query sent in full.
	store.Add(t.Context(), "abc", `{ categories { name } }`)
	byHash := `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`
	require.Equal(t, "MISS", post(h, byHash).Header().Get("X-Cache"))
	require.Equal(t, "HIT", post(h, byHash).Header().Get("X-Cache"))
	unknown := `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"nope"}}}`
	require.Empty(t, post(h, unknown).Header().Get("X-Cache"), "an unknown hash is never cached")
}

func TestPublicResponseCacheKeepsNoErrors(t *testing.T) {
	t.Parallel()
	c := cache.New(cache.NewMemory(0))
	var calls atomic.Int64
	h := PublicResponseCache(c, nil, countingGraphQL(&calls, `{"errors":[{"message":"down"}]}`))
	categoriesQuery := `{"query":"{ categories { name } }"}`
	for range 2 {
		w := post(h, categoriesQuery)
		require.Empty(t, w.Header().Get("X-Cache"))
		require.Contains(t, w.Body.String(), "down")
	}
	require.Equal(t, int64(2), calls.Load(), "an answer with errors is not kept")
}
