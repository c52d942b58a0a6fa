package graph

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/internal/requestlog"
)

// HandlerOptions configures the GraphQL handler.
type HandlerOptions struct {
	Log *slog.Logger
	// Introspection enables schema introspection (GraphiQL needs it).
	Introspection bool
	// AllowedOrigins are extra browser origins (besides the server's own) allowed to open
	// WebSocket connections, e.g. https://shop.example.com.
	AllowedOrigins []string
	// WebsocketInit authenticates a WebSocket connection from its connection_init payload.
	WebsocketInit transport.WebsocketInitFunc
}

// NewHandler returns the GraphQL HTTP handler with explicit transports (gqlgen's
// NewDefaultServer is deprecated and enables things we set ourselves).
func NewHandler(r *Resolver, opts HandlerOptions) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Directives: Directives()}))

	srv.AddTransport(transport.SSE{})
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		// gqlgen waits forever for connection_init by default; a silent socket is closed.
		InitTimeout: 10 * time.Second,
		InitFunc:    opts.WebsocketInit,
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: coderws.AcceptOptions{
			// Same-origin connections are always allowed; others only from configured origins.
			OriginPatterns: originHosts(opts.AllowedOrigins),
		}},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})

	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.SetErrorPresenter(ErrorPresenter(opts.Log))
	srv.SetRecoverFunc(RecoverFunc)
	// Loaders live for one response: a WebSocket subscription gets fresh ones per event.
	services := loader.Services{Accounts: r.Accounts, Catalog: r.Catalog, Orders: r.OrderService}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(loader.With(ctx, loader.New(services)))
	})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if err := checkText(oc); err != nil {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message: err.Error(), Extensions: map[string]any{"code": "BAD_USER_INPUT"},
			}}})
		}
		name := oc.OperationName
		if name == "" && oc.Operation != nil {
			name = oc.Operation.Name
		}
		if name == "" {
			name = "anonymous"
		}
		requestlog.SetOperation(ctx, name)
		return next(ctx)
	})
	return srv
}

func originHosts(origins []string) []string {
	var hosts []string
	for _, o := range origins {
		if u, err := url.Parse(strings.TrimSpace(o)); err == nil && u.Host != "" {
			hosts = append(hosts, u.Host)
		}
	}
	return hosts
}
