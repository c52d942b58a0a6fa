package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// rawPost sends a GraphQL POST and returns the body and the X-Cache header.
func rawPost(t *testing.T, url string, query string, vars map[string]any, header http.Header) (string, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
	return string(out), resp.Header.Get("X-Cache")
}

func TestPublicResponseCache(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	ctx := context.Background()
	admin := auth.Viewer{Role: auth.RoleAdmin}
	p := seedOne(t, srv, "Public Lamp", "PUB-LAMP", 1200)
	const page = `query Page($n: Int) { products(first: $n) { nodes { name variants { sku price { amount } } } } }`

	t.Run("an anonymous catalog query is answered from the cache the second time, without SQL", func(t *testing.T) {
		first, state := rawPost(t, srv.URL, page, map[string]any{"n": 5}, nil)
		require.Equal(t, "MISS", state)
		before := srv.Statements.Total()
		second, state := rawPost(t, srv.URL, page, map[string]any{"n": 5}, nil)
		require.Equal(t, "HIT", state)
		require.Equal(t, first, second)
		require.Zero(t, srv.Statements.Total()-before)
		_, state = rawPost(t, srv.URL, page, map[string]any{"n": 6}, nil)
		require.Equal(t, "MISS", state, "other variables, other entry")
	})

	t.Run("a catalog write invalidates every cached response", func(t *testing.T) {
		rawPost(t, srv.URL, page, map[string]any{"n": 5}, nil)
		_, err := srv.App.Catalog.Update(ctx, admin, catalog.UpdateInput{ID: p.ID, Name: ptrTo("Renamed Public Lamp")})
		require.NoError(t, err)
		body, state := rawPost(t, srv.URL, page, map[string]any{"n": 5}, nil)
		require.Equal(t, "MISS", state)
		require.Contains(t, body, "Renamed Public Lamp")
	})

	t.Run("requests with credentials, carts or viewer fields are never cached", func(t *testing.T) {
		c := srv.Client(t)
		reg := c.Register(apitest.UniqueEmail(), "password-123")
		for _, h := range []http.Header{
			{"Authorization": {"Bearer " + reg.Tokens.AccessToken}},
			{"Cookie": {"sg_access=" + reg.Tokens.AccessToken}},
		} {
			_, state := rawPost(t, srv.URL, page, map[string]any{"n": 5}, h)
			require.Empty(t, state, h)
		}
		// A guest's cart token changes nothing in a catalog answer: a storefront showing a
		// cart badge (whose query issues the token) is still served from the cache.
		for _, h := range []http.Header{{"X-Cart-Token": {"whatever"}}, {"Cookie": {"sg_cart=abc"}}} {
			_, state := rawPost(t, srv.URL, page, map[string]any{"n": 5}, h)
			require.Equal(t, "HIT", state, h)
		}
		for _, q := range []string{`{ me { id } products(first: 1) { nodes { name } } }`, `{ cart { totalQuantity } }`,
			`mutation { cartClear { userErrors { code } } }`, `{ ...F } fragment F on Query { products(first: 1) { nodes { name } } }`} {
			_, state := rawPost(t, srv.URL, q, nil, nil)
			require.Empty(t, state, q)
		}
	})

	t.Run("whether a document is public depends on the operation run", func(t *testing.T) {
		const doc = `query Pub { products(first: 1) { nodes { name } } } mutation Clear { cartClear { userErrors { code } } }`
		post := func(op string) string {
			body, err := json.Marshal(map[string]any{"query": doc, "operationName": op})
			require.NoError(t, err)
			resp, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.Header.Get("X-Cache")
		}
		require.Equal(t, "MISS", post("Pub"))
		require.Empty(t, post("Clear"), "the mutation of a document whose query is public is not cached")
	})

	t.Run("responses with errors are not cached", func(t *testing.T) {
		for range 2 {
			body, state := rawPost(t, srv.URL, `{ products(first: 1000) { nodes { name } } }`, nil, nil)
			require.Contains(t, body, "BAD_USER_INPUT")
			require.Empty(t, state)
		}
	})
}

// TestPublicResponseCacheConcurrentMediaTypes sends the same anonymous request error (a
// variable that does not coerce) at once with Accept: application/json and Accept:
// application/graphql-response+json, as graphql-http's audit does (audits 7B9B and 86EE run
// concurrently). Each must get its own status and media type: 200 application/json and 400
// application/graphql-response+json. Concurrent misses of one cache key share one load, so an
// answer that is not cached must not be handed to a request that asked for another media type.
func TestPublicResponseCacheConcurrentMediaTypes(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	want := map[string]int{"application/json": http.StatusOK, "application/graphql-response+json": http.StatusBadRequest}

	type answer struct {
		accept, contentType string
		status              int
		err                 error
	}
	const rounds, perMedia = 20, 4
	for round := range rounds {
		// A query text of each round's own: nothing of an earlier round is shared.
		body, err := json.Marshal(map[string]any{
			"query":     fmt.Sprintf("query CoerceFailure%d($id: ID!) { __typename }", round),
			"variables": map[string]any{"id": nil},
		})
		require.NoError(t, err)
		answers := make(chan answer, 2*perMedia)
		start := make(chan struct{})
		for i := range 2 * perMedia {
			accept := "application/json"
			if i%2 == 1 {
				accept = "application/graphql-response+json"
			}
			go func() {
				<-start
				req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
				if err != nil {
					answers <- answer{accept: accept, err: err}
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					answers <- answer{accept: accept, err: err}
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				answers <- answer{accept: accept, contentType: resp.Header.Get("Content-Type"), status: resp.StatusCode}
			}()
		}
		close(start)
		for range 2 * perMedia {
			a := <-answers
			require.NoError(t, a.err)
			require.Equal(t, want[a.accept], a.status, "round %d, Accept %s: another request's status", round, a.accept)
			require.Equal(t, a.accept, a.contentType, "round %d, Accept %s: another request's media type", round, a.accept)
		}
	}
}
