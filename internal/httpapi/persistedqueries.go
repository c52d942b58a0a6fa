package httpapi

import (
	"context"
	"time"

	"github.com/shopgraph/shopgraph/internal/cache"
)

// PersistedQueryStore keeps automatic persisted queries (hash → query text) in the cache
// store: Redis, shared by every instance, or process memory. It is gqlgen's graphql.Cache
// for graph.HandlerOptions.PersistedQueries, and PublicResponseCache reads it too.
type PersistedQueryStore struct {
	Store cache.Store
	TTL   time.Duration
}

// Get implements graphql.Cache.
func (p PersistedQueryStore) Get(ctx context.Context, hash string) (string, bool) {
	if pq, ok := ctx.Value(persistedQueryKey{}).(persistedQuery); ok && pq.hash == hash {
		return pq.query, true // read a moment ago by the public response cache
	}
	found, err := p.Store.Get(ctx, "apq:"+hash)
	if err != nil {
		return "", false
	}
	q, ok := found["apq:"+hash]
	return string(q), ok
}

// Add implements graphql.Cache.
func (p PersistedQueryStore) Add(ctx context.Context, hash string, query string) {
	_ = p.Store.Set(ctx, map[string][]byte{"apq:" + hash: []byte(query)}, p.TTL)
}

// persistedQueryKey carries a persisted query that the response cache already read by its hash.
type persistedQueryKey struct{}

type persistedQuery struct{ hash, query string }

func withPersistedQuery(ctx context.Context, hash, query string) context.Context {
	return context.WithValue(ctx, persistedQueryKey{}, persistedQuery{hash, query})
}
