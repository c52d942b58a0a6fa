// Package httpapi is shopgraph's HTTP surface outside GraphQL resolvers: routing, the
// middleware every request passes (request id and log line, security headers, CORS,
// authentication, the CSRF guard), the public response cache and persisted-query store in
// front of /graphql, and the health endpoints.
package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/httpapi/playground"
)

// Deps is what the router serves.
type Deps struct {
	Log    *slog.Logger
	Tokens *auth.Tokens
	// GraphQL executes operations (POST, GET, WebSocket, SSE).
	GraphQL http.Handler
	// Playground, when set, serves GraphiQL to browsers that GET /graphql, and its assets.
	Playground       http.Handler
	PlaygroundAssets http.Handler
	// Ready reports whether the dependencies answer (GET /readyz).
	Ready ReadyFunc
	// SecureCookies sets the Secure flag on session cookies (everywhere but development).
	SecureCookies bool
	// CORSOrigins are the browser origins allowed to call the API cross-origin.
	CORSOrigins []string
	// Extra routes, mounted as given (e.g. the Stripe webhook).
	Extra map[string]http.Handler
	// Admin routes, mounted as given behind authentication (the session cookie or a bearer
	// token) and for admins only: 401 without a viewer, 403 for any other role.
	Admin map[string]http.Handler
	// MaxBodyBytes bounds a /graphql request body; MaxUploadBytes a multipart one (a file
	// upload), when larger.
	MaxBodyBytes, MaxUploadBytes int64
	// Budget limits how often one client may call /graphql.
	Budget RequestBudget
	// Dev routes, mounted as given behind authentication and the CSRF guard; the app gives
	// some only in development and tests (DevPayment).
	Dev map[string]http.Handler
}

// NewRouter returns the whole HTTP handler.
func NewRouter(d Deps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz(d.Ready, d.Log))

	gql := limitBody(d.MaxBodyBytes, d.MaxUploadBytes, authenticate(d.Tokens, d.SecureCookies, limitRate(d.Budget, csrfGuard(noStore(d.GraphQL)))))
	if d.Playground != nil {
		page := d.Playground
		mux.Handle("/graphql", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if playground.WantsPage(r) {
				page.ServeHTTP(w, r)
				return
			}
			gql.ServeHTTP(w, r)
		}))
		if d.PlaygroundAssets != nil {
			mux.Handle("GET "+playground.AssetsPrefix("/graphql"), d.PlaygroundAssets)
		}
	} else {
		mux.Handle("/graphql", gql)
	}
	for pattern, h := range d.Extra {
		mux.Handle(pattern, h)
	}
	for pattern, h := range d.Dev {
		mux.Handle(pattern, authenticate(d.Tokens, d.SecureCookies, csrfGuard(noStore(h))))
	}
	for pattern, h := range d.Admin {
		mux.Handle(pattern, authenticate(d.Tokens, d.SecureCookies, csrfGuard(noStore(adminOnly(h)))))
	}
	return recoverPanics(d.Log, requestLog(d.Log, securityHeaders(cors(d.CORSOrigins, mux))))
}
