package graph

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
)

// FieldBudget is a stricter budget for one root field (e.g. "Mutation.checkout"): N calls per
// Period, per client IP or per signed-in user.
type FieldBudget struct {
	N      int
	Period time.Duration
	PerIP  bool
}

// budgetRootFields refuses calls of budgeted root fields beyond their budget with a
// RATE_LIMITED error carrying retryAfterSeconds. Other fields of the operation still run.
func budgetRootFields(buckets ratelimit.Buckets, budgets map[string]FieldBudget) graphql.RootFieldMiddleware {
	return func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		fc := graphql.GetRootFieldContext(ctx)
		// gqlgen fills RootFieldContext.Object with the field's name; the root type comes from
		// the operation.
		root := "Query"
		if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Mutation {
			root = "Mutation"
		}
		b, ok := budgets[root+"."+fc.Field.Name]
		if !ok || b.N <= 0 {
			return next(ctx)
		}
		who := "ip:" + auth.RequestFrom(ctx).ClientIP
		if v, signed := auth.ViewerFrom(ctx); signed && !b.PerIP {
			who = "user:" + strconv.FormatInt(v.UserID, 10)
		}
		allowed, retry, err := buckets.Take(ctx, "field:"+fc.Field.Name+":"+who, b.N, b.Period)
		if err == nil && !allowed {
			secs := ratelimit.RetrySeconds(retry)
			graphql.AddError(ctx, &apperr.Error{Code: apperr.RateLimited, RetryAfterSeconds: secs,
				Message: fmt.Sprintf("Too many %s requests; retry after %d seconds.", fc.Field.Name, secs)})
			return graphql.Null
		}
		return next(ctx)
	}
}

// PersistedQueryStore keeps automatic persisted queries (hash → query text) in the cache
// store: Redis, shared by every instance, or process memory.
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
