// This file builds the HTTP handler of an App: the GraphQL endpoint with its limits and
// extensions, the webhooks, health and metrics. Tests drive this same handler (internal/apitest).

package app

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/shopgraph/shopgraph/graph"
	"github.com/shopgraph/shopgraph/graph/ws"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/httpapi"
	"github.com/shopgraph/shopgraph/internal/httpapi/playground"
	"github.com/shopgraph/shopgraph/internal/tracing"
	"github.com/shopgraph/shopgraph/internal/tracking"
)

// Handler builds the whole HTTP handler; tests build the same one.
func (a *App) Handler() http.Handler {
	resolver := &graph.Resolver{
		Accounts: a.Accounts, Catalog: a.Catalog, Carts: a.Carts,
		CheckoutService: a.Checkout, OrderService: a.Orders, Payments: a.Payments, VendorService: a.Vendors, VendorLedger: a.Ledger,
		AnalyticsService: a.Analytics, Log: a.Log,
		AddressBook: a.AddressBook, ReviewService: a.Reviews,
		WebhookService: a.Webhooks, Notify: a.Notify,
		Tracking: tracking.NewService(a.Bus.Hub, a.Orders, a.Accounts), Inventory: a.Imports,
		ExternalAuth: a.ExternalAuth,
	}
	persisted := httpapi.PersistedQueryStore{Store: a.Store, TTL: 24 * time.Hour}
	beginOperation, afterWrite := a.replicaHooks()
	gql := graph.NewHandler(resolver, graph.HandlerOptions{
		Log:            a.Log,
		Extensions:     []graphql.HandlerExtension{a.Metrics.GraphQLMiddleware(), tracing.GraphQLExtension()},
		Introspection:  a.Config.Introspection,
		AllowedOrigins: a.Config.CORSOrigins,
		WebsocketInit:  websocketAuth(a.Tokens),
		Limits: graph.Limits{
			Complexity: a.Config.QueryComplexityLimit, Depth: a.Config.QueryDepthLimit, Fields: a.Config.QueryFieldLimit,
			Aliases: a.Config.QueryAliasLimit, ParserTokens: graph.DefaultParserTokens,
		},
		HideSuggestions:  a.Config.IsProduction(),
		RequestTimeout:   a.Config.RequestTimeout,
		PersistedQueries: persisted,
		ReportStatements: a.Config.IsDevelopment(),
		Buckets:          a.Buckets,
		BeginOperation:   beginOperation,
		AfterWrite:       afterWrite,
		FieldBudgets: map[string]graph.FieldBudget{
			"Mutation.accountRegister": {N: a.Config.RegisterPerIPPerHour, Period: time.Hour, PerIP: true},
			"Mutation.checkout":        {N: a.Config.CheckoutPerUser, Period: time.Minute},
		},
	})
	stripeWebhook := httpapi.StripeWebhook(a.Config.StripeWebhookSecret, a.Payments.HandleStripeEvent, a.Log)
	deps := httpapi.Deps{
		Log:            a.Log,
		Tokens:         a.Tokens,
		GraphQL:        a.Metrics.Instrument("/graphql", httpapi.PublicResponseCache(a.Cache, persisted, gql)),
		Ready:          a.ready,
		SecureCookies:  !a.Config.IsDevelopment(),
		CORSOrigins:    a.Config.CORSOrigins,
		MaxBodyBytes:   int64(a.Config.MaxBodyBytes),
		MaxUploadBytes: int64(a.Config.MaxUploadBytes),
		Budget:         httpapi.RequestBudget{Buckets: a.Buckets, PerIP: a.Config.RateLimitPerIP, PerUser: a.Config.RateLimitPerUser},
		Admin:          map[string]http.Handler{JobsUIPath + "/": a.JobsUI},
		Extra: map[string]http.Handler{
			"POST /webhooks/stripe": a.Metrics.Instrument("/webhooks/stripe", stripeWebhook),
			"POST /webhooks/paypal": a.Metrics.Instrument("/webhooks/paypal",
				httpapi.PayPalWebhook(a.Payments.VerifyPayPalWebhook, a.Payments.HandlePayPalEvent, a.Log)),
			"GET /metrics": a.Metrics.Handler(),
		},
	}
	if a.Config.IsDevelopment() {
		deps.Dev = map[string]http.Handler{
			"POST " + httpapi.DevPaymentPath: httpapi.DevPayment(a.devPaymentIntent, a.Config.StripeWebhookSecret, stripeWebhook),
		}
	}
	if a.Config.Playground {
		// The examples are embedded and checked by their test: an error here is a build defect,
		// and the playground without its tabs is still a playground.
		tabs, err := playgroundTabs()
		if err != nil {
			a.Log.Error("playground tabs", "err", err)
		}
		deps.Playground = playground.Page("/graphql", tabs...)
		deps.PlaygroundAssets = playground.Handler("/graphql", tabs...)
	}
	// Outermost, so the request log line already runs inside the request's span.
	return tracing.Middleware(httpapi.NewRouter(deps))
}

func (a *App) ready(ctx context.Context) map[string]error {
	checks := map[string]error{"postgres": a.DB.Pool.Ping(ctx)}
	if a.Redis != nil {
		checks["redis"] = a.Redis.Ping(ctx).Err()
	}
	return checks
}

// websocketAuth authenticates a WebSocket from the connection_init payload's token, for
// clients that cannot set headers on the upgrade request. The cookie or header of the upgrade
// request already authenticated it otherwise.
func websocketAuth(tokens *auth.Tokens) ws.InitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token := payload.Authorization()
		if token == "" {
			if s, ok := payload["authToken"].(string); ok {
				token = s
			}
		}
		ctx = tracking.WithSubscriptionCounter(ctx)
		token = strings.TrimSpace(strings.TrimPrefix(token, "Bearer "))
		if token == "" {
			return ctx, nil, nil
		}
		v, err := tokens.Verify(token)
		if err != nil {
			// graphql-ws's "Forbidden" close code, rather than a normal closure.
			return ws.WithCloseCode(ctx, 4403), nil,
				apperr.Wrap(err, apperr.Unauthenticated, "the access token is invalid or expired")
		}
		return auth.WithViewer(ctx, v), nil, nil
	}
}
