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
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/ws"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/postgres"
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
	WebsocketInit ws.InitFunc
	// Limits bound each operation.
	Limits Limits
	// HideSuggestions turns off "Did you mean …" hints, which leak the schema (production).
	HideSuggestions bool
	// RequestTimeout bounds a query or mutation (not subscriptions); 0 means none.
	RequestTimeout time.Duration
	// PersistedQueries, when set, enables automatic persisted queries (clients send a hash
	// instead of the query text).
	PersistedQueries graphql.Cache[string]
	// ReportStatements adds the request's SQL statement and round-trip counts to the response
	// extensions, sqlStatements and sqlRoundTrips (development).
	ReportStatements bool
	// Extensions are installed first (metrics, tracing), so they also see refused operations;
	// nil ones (tracing when it is off) are left out.
	Extensions []graphql.HandlerExtension
	// Buckets and FieldBudgets rate-limit expensive root fields (registration, checkout).
	Buckets      Buckets
	FieldBudgets map[string]FieldBudget
	// BeginOperation, when set, prepares each operation's context (the read replica's
	// session: internal/app). AfterWrite, when set, runs after a mutation that wrote, before
	// its response leaves (the replica's read-your-writes mark).
	BeginOperation func(ctx context.Context) context.Context
	AfterWrite     func(ctx context.Context)
}

// NewHandler returns the GraphQL HTTP handler with explicit transports (gqlgen's
// NewDefaultServer is deprecated and enables things we set ourselves).
func NewHandler(r *Resolver, opts HandlerOptions) *handler.Server {
	srv := handler.New(NewExecutableSchema(Config{Resolvers: r, Directives: Directives(), Complexity: complexityRoot()}))

	// SSE only for clients that accept nothing else; subscriptions posted by clients that
	// also accept JSON reach it through httpTransport.
	srv.AddTransport(sseOnly{})
	srv.AddTransport(ws.Transport{
		InitFunc: opts.WebsocketInit,
		// A silent socket is closed with graphql-transport-ws's 4408.
		InitTimeout: 10 * time.Second,
		KeepAlive:   10 * time.Second,
		// Same-origin connections are always allowed; others only from configured origins.
		AllowedOrigins: originHosts(opts.AllowedOrigins),
		Log:            opts.Log,
		Upgraded:       forgetResponse,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(httpTransport{})

	for _, ext := range opts.Extensions {
		if ext != nil {
			srv.Use(ext)
		}
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if opts.Introspection {
		srv.Use(extension.Introspection{})
	}
	if opts.PersistedQueries != nil {
		srv.Use(extension.AutomaticPersistedQuery{Cache: opts.PersistedQueries})
	}
	srv.SetParserTokenLimit(opts.Limits.ParserTokens)
	srv.SetDisableSuggestion(opts.HideSuggestions)
	srv.Use(&limitExtension{limits: opts.Limits})
	if !opts.Introspection {
		srv.AroundRootFields(refuseIntrospection)
	}
	if opts.Buckets != nil && len(opts.FieldBudgets) > 0 {
		srv.AroundRootFields(budgetRootFields(opts.Buckets, opts.FieldBudgets))
	}
	srv.SetErrorPresenter(ErrorPresenter(opts.Log))
	srv.SetRecoverFunc(RecoverFunc)
	// Loaders live for one response: a WebSocket subscription gets fresh ones per event, made
	// only when the event's resolvers first need them (an idle subscription holds none).
	services := &loader.Services{Accounts: r.Accounts, Catalog: r.Catalog, Orders: r.OrderService, Payments: r.Payments, Vendors: r.VendorService,
		Addresses: r.AddressBook, Reviews: r.ReviewService}
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(loader.WithLazy(ctx, services))
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
		if opts.BeginOperation != nil && oc.Operation != nil && oc.Operation.Operation != ast.Subscription {
			ctx = opts.BeginOperation(ctx)
		}
		if oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
			// So that an outage's error can say whether the mutation already wrote.
			ctx = postgres.TrackWrites(ctx)
			if opts.AfterWrite != nil {
				opCtx, respond := ctx, next(ctx)
				return func(ctx context.Context) *graphql.Response {
					resp := respond(ctx)
					if postgres.Wrote(opCtx) {
						opts.AfterWrite(opCtx)
					}
					return resp
				}
			}
		}
		return next(ctx)
	})
	srv.AroundResponses(dedupeErrors)
	// Every response says what it cost and the limit, so clients can budget; in development
	// also how many SQL statements it ran, in how many round trips.
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if opts.RequestTimeout > 0 && graphql.HasOperationContext(ctx) {
			if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation != ast.Subscription {
				// Resolvers run inside next: the deadline bounds them (and their SQL).
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, opts.RequestTimeout)
				defer cancel()
			}
		}
		var sql postgres.Counts
		if opts.ReportStatements {
			ctx = postgres.WithCounter(ctx, &sql)
		}
		resp := next(ctx)
		if resp == nil {
			return nil
		}
		if c, ok := costOf(ctx); ok {
			if resp.Extensions == nil {
				resp.Extensions = map[string]any{}
			}
			resp.Extensions["cost"] = map[string]int{"requested": c.requested, "limit": c.limit}
			if opts.ReportStatements {
				resp.Extensions["sqlStatements"] = sql.Statements.Load()
				resp.Extensions["sqlRoundTrips"] = sql.RoundTrips.Load()
			}
		}
		return resp
	})
	return srv
}

// refuseIntrospection answers __schema and __type with INTROSPECTION_DISABLED where
// introspection is off (production), instead of gqlgen's uncoded error, which the presenter
// would report as INTERNAL.
func refuseIntrospection(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc != nil && (fc.Field.Name == "__schema" || fc.Field.Name == "__type") {
		graphql.AddError(ctx, apperr.New(apperr.IntrospectionDisabled, "Introspection is disabled on this server."))
		return graphql.Null
	}
	return next(ctx)
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
