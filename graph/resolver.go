// Package graph is shopgraph's GraphQL transport: gqlgen's generated executor, thin resolvers
// that call domain services, the @auth/@hasRole directives, and error mapping. It holds no
// business rules and never touches the database directly.
package graph

import (
	"log/slog"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/product"
)

// Resolver holds the services the resolvers call.
type Resolver struct {
	Accounts *account.Service
	Catalog  *product.Service
	Log      *slog.Logger
}
