package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopgraph/shopgraph/internal/auth"
)

// Directives returns the implementations of the schema's directives. The rules themselves live
// in internal/auth; these only apply them before a field resolves.
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
