package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopgraph/shopgraph/internal/auth"
)

// Directives returns the implementations of the schema's directives, the coarse role gate
// applied before a field resolves: @auth needs a viewer, @hasRole a role (auth.RequireRole).
// Everything finer (ownership, visibility, what a vendor may change) is decided by each
// domain's policy.go, which the services call.
func Directives() DirectiveRoot {
	return DirectiveRoot{
		Auth: func(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
			if _, err := auth.RequireViewer(ctx); err != nil {
				return nil, err
			}
			return next(ctx)
		},
		HasRole: func(ctx context.Context, _ any, next graphql.Resolver, role auth.Role) (any, error) {
			if _, err := auth.RequireRole(ctx, role); err != nil {
				return nil, err
			}
			return next(ctx)
		},
	}
}
