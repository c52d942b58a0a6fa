package auth

import (
	"context"
	"time"
)

// The names of the cookies a browser carries its credentials in: the access and refresh tokens
// (see Tokens) and an anonymous cart's token. The HTTP layer (internal/httpapi) reads, sets and
// clears them; nothing here depends on net/http, so that the domains, which hold a Viewer,
// do not either.
const (
	AccessCookie  = "sg_access"
	RefreshCookie = "sg_refresh"
	// CartCookie holds an anonymous cart's token.
	CartCookie = "sg_cart"
)

// Request is what the HTTP layer tells the GraphQL layer about the request, so that resolvers
// can set session cookies and record the client, without depending on net/http themselves.
type Request struct {
	// Cookies sets and clears the response's cookies; nil outside an HTTP request.
	Cookies   Cookies
	ClientIP  string
	UserAgent string
	// RefreshToken is the refresh cookie's value, if any.
	RefreshToken string
	// CartToken is the anonymous cart token, from the X-Cart-Token header or the cart cookie.
	CartToken string
	// IdempotencyKey is the Idempotency-Key header, if any.
	IdempotencyKey string
}

// Cookies sets the credential cookies on a response (internal/httpapi implements it).
type Cookies interface {
	// SetSession sets the access and refresh cookies, each expiring with its token.
	SetSession(access string, accessExp time.Time, refresh string, refreshExp time.Time)
	// ClearSession expires both session cookies.
	ClearSession()
	// SetCart stores an anonymous cart's token.
	SetCart(token string)
	// ClearCart expires the cart cookie.
	ClearCart()
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request details, or an empty Request outside an HTTP request.
func RequestFrom(ctx context.Context) *Request {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return r
	}
	return &Request{}
}

// SetSessionCookies sets the access and refresh cookies on the response.
func SetSessionCookies(ctx context.Context, access string, accessExp time.Time, refresh string, refreshExp time.Time) {
	if c := RequestFrom(ctx).Cookies; c != nil {
		c.SetSession(access, accessExp, refresh, refreshExp)
	}
}

// ClearSessionCookies expires both session cookies.
func ClearSessionCookies(ctx context.Context) {
	if c := RequestFrom(ctx).Cookies; c != nil {
		c.ClearSession()
	}
}

// SetCartCookie stores a newly issued anonymous cart token in the browser.
func SetCartCookie(ctx context.Context, token string) {
	if c := RequestFrom(ctx).Cookies; c != nil {
		c.SetCart(token)
	}
}

// ClearCartCookie forgets the anonymous cart token (after it merged into a customer's cart).
func ClearCartCookie(ctx context.Context) {
	if r := RequestFrom(ctx); r.Cookies != nil && r.CartToken != "" {
		r.Cookies.ClearCart()
	}
}
