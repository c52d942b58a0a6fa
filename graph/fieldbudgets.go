package graph

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// Buckets are the token buckets that budgeted fields draw from (ratelimit.Buckets: Redis,
// shared by every instance, or process memory).
type Buckets interface {
	// Take takes one token from key's bucket; when empty, retryAfter says when one returns.
	Take(ctx context.Context, key string, ratePerPeriod int, period time.Duration) (allowed bool, retryAfter time.Duration, err error)
}

// FieldBudget is a stricter budget for one root field (e.g. "Mutation.checkout"): N calls per
// Period, per client IP or per signed-in user.
type FieldBudget struct {
	N      int
	Period time.Duration
	PerIP  bool
}

// budgetRootFields refuses calls of budgeted root fields beyond their budget with a
// RATE_LIMITED error carrying retryAfterSeconds. Other fields of the operation still run.
func budgetRootFields(buckets Buckets, budgets map[string]FieldBudget) graphql.RootFieldMiddleware {
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
			secs := retrySeconds(retry)
			graphql.AddError(ctx, &apperr.Error{Code: apperr.RateLimited, RetryAfterSeconds: secs,
				Message: fmt.Sprintf("Too many %s requests; retry after %d seconds.", fc.Field.Name, secs)})
			return graphql.Null
		}
		return next(ctx)
	}
}

// retrySeconds is a wait as the whole seconds a client is told to wait (retryAfterSeconds):
// rounded up, at least 1, as ratelimit.RetrySeconds and the HTTP layer's Retry-After say.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
