package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/httpapi/mediatype"
	"github.com/shopgraph/shopgraph/internal/requestlog"
)

// publicTTL bounds how long an anonymous catalog response is reused.
const publicTTL = 30 * time.Second

// publicRootFields are the root fields whose answers are the same for every anonymous
// visitor: the catalog. Anything else (me, cart, orders…) makes a request uncacheable.
var publicRootFields = map[string]bool{
	"products": true, "product": true, "categories": true, "category": true, "__typename": true,
}

// maxPublicBody bounds what the response cache reads of a request body.
const maxPublicBody = 64 << 10

// PublicResponseCache serves anonymous catalog queries from the cache: the whole GraphQL
// response, keyed by query, operation name and variables, under the catalog's generation
// (catalog.ListNamespace, bumped by every catalog write, so no write is followed by a stale
// page). It wraps the GraphQL handler, inside the router's /graphql middleware. A
// storefront's hottest pages then skip parsing, validation and execution entirely. Requests
// carrying credentials (not a cart token: catalog answers do not depend on it), a mutation or
// any non-catalog field pass through untouched.
// persisted resolves automatic persisted queries sent by hash alone (nil: none), so that they
// are cached like the same query sent in full.
func PublicResponseCache(c *cache.Cache, persisted graphql.Cache[string], next http.Handler) http.Handler {
	cacheable := lru.New[bool](1000)
	// isPublic is isPublicQuery, remembered for the documents storefronts send over and over.
	isPublic := func(ctx context.Context, query, operationName string) bool {
		key := query + "\x00" + operationName
		ok, seen := cacheable.Get(ctx, key)
		if !seen {
			ok = isPublicQuery(query, operationName)
			cacheable.Add(ctx, key, ok)
		}
		return ok
	}
	// queryOf is the request's query text: as sent, or the persisted query its hash names
	// ("" when that hash is unknown, whose answer, PERSISTED_QUERY_NOT_FOUND, must not be
	// kept). A query found by hash rides in the returned context, where PersistedQueryStore
	// finds it instead of reading the store again for gqlgen's persisted-query extension.
	queryOf := func(ctx context.Context, query string, extensions func() map[string]any) (string, context.Context) {
		if query != "" || persisted == nil {
			return query, ctx
		}
		pq, _ := extensions()["persistedQuery"].(map[string]any)
		hash, _ := pq["sha256Hash"].(string)
		if hash == "" {
			return "", ctx
		}
		if query, _ = persisted.Get(ctx, hash); query == "" {
			return "", ctx
		}
		return query, withPersistedQuery(ctx, hash, query)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !hasCredentials(r) {
			// A CDN may keep anonymous catalog GETs: they are the same for every visitor.
			// A response with errors is marked no-store by the transport, which knows.
			params := r.URL.Query()
			extensions := func() (ext map[string]any) {
				_ = json.Unmarshal([]byte(params.Get("extensions")), &ext)
				return ext
			}
			q, ctx := queryOf(r.Context(), params.Get("query"), extensions)
			if q != "" && isPublic(ctx, q, params.Get("operationName")) {
				w.Header().Set("Cache-Control", "public, max-age=30, stale-while-revalidate=30")
				w.Header().Add("Vary", "Accept, Authorization, Cookie")
			}
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		if r.Method != http.MethodPost || hasCredentials(r) || r.Header.Get("Upgrade") != "" ||
			!mediatype.IsJSONBody(r) || mediatype.Negotiate(r).OnlyEventStream {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxPublicBody+1))
		// The transport reads the body again, whole: what was read, then whatever is left.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
		if err != nil || len(body) > maxPublicBody {
			next.ServeHTTP(w, r)
			return
		}
		var req struct {
			Query         string          `json:"query"`
			OperationName string          `json:"operationName"`
			Variables     json.RawMessage `json:"variables"`
			Extensions    map[string]any  `json:"extensions"`
		}
		if json.Unmarshal(body, &req) != nil {
			next.ServeHTTP(w, r)
			return
		}
		query, ctx := queryOf(r.Context(), req.Query, func() map[string]any { return req.Extensions })
		r = r.WithContext(ctx)
		if query == "" || !isPublic(ctx, query, req.OperationName) {
			next.ServeHTTP(w, r)
			return
		}
		key := responseKey(query, req.OperationName, req.Variables)
		hit := true
		resp, err := cache.GetOrLoadVersioned(r.Context(), c, catalog.ListNamespace, key, publicTTL, func(ctx context.Context) (json.RawMessage, error) {
			hit = false
			rec := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
			next.ServeHTTP(rec, r.Clone(ctx))
			if rec.status != http.StatusOK || bytes.Contains(rec.body.Bytes(), []byte(`"errors"`)) {
				// Errors may be transient: answer them, but never cache them.
				return nil, &uncachedResponse{rec}
			}
			return json.RawMessage(rec.body.Bytes()), nil
		})
		var unc *uncachedResponse
		switch {
		case errors.As(err, &unc) && hit:
			// Another request's answer, not cached (an error): its status and media type
			// followed that request's Accept, so this one runs on its own.
			next.ServeHTTP(w, r)
			return
		case errors.As(err, &unc):
			unc.writeTo(w)
			return
		case err != nil:
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if hit {
			requestlog.SetOperation(r.Context(), req.OperationName+" (cached)")
			w.Header().Set("X-Cache", "HIT")
		} else {
			w.Header().Set("X-Cache", "MISS")
		}
		// A cached answer has data and no errors: the same bytes and status (200) suit both
		// media types, so only the header follows the client's Accept.
		w.Header().Set("Content-Type", mediatype.Negotiate(r).Media)
		_, _ = w.Write(resp)
	})
}

// hasCredentials reports whether the response could depend on who asks.
// A cart token is not a credential here: catalog answers are the same whatever cart the
// visitor holds, and every visitor whose storefront shows a cart badge holds one (the cart
// query issues it), so counting it would leave almost no one served from the cache.
func hasCredentials(r *http.Request) bool {
	return r.Header.Get("Authorization") != "" || hasSessionCookie(r)
}

// isPublicQuery reports whether the operation is a query whose root selections are all
// catalog fields. Fragments at the root are not followed: such queries are simply not cached.
func isPublicQuery(query, operationName string) bool {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false
	}
	var op *ast.OperationDefinition
	for _, o := range doc.Operations {
		if o.Name == operationName || (operationName == "" && len(doc.Operations) == 1) {
			op = o
		}
	}
	if op == nil || op.Operation != ast.Query {
		return false
	}
	for _, sel := range op.SelectionSet {
		f, ok := sel.(*ast.Field)
		if !ok || !publicRootFields[f.Name] || len(f.Directives) > 0 {
			return false
		}
	}
	return true
}

func responseKey(query, operationName string, variables json.RawMessage) string {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(query), {0}, []byte(operationName), {0}, variables} {
		h.Write(part)
	}
	return "response:" + hex.EncodeToString(h.Sum(nil)[:16])
}

// bufferedResponse records a response instead of sending it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }

// uncachedResponse carries a response that must reach the client but not the cache.
type uncachedResponse struct{ rec *bufferedResponse }

func (u *uncachedResponse) Error() string { return "response not cacheable" }

func (u *uncachedResponse) writeTo(w http.ResponseWriter) {
	for k, v := range u.rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(u.rec.status)
	_, _ = w.Write(u.rec.body.Bytes())
}
