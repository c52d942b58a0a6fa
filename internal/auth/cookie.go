package auth

import (
	"context"
	"net/http"
	"time"
)

// Session cookie names. Both are HttpOnly and SameSite=Lax; Secure outside development.
const (
	AccessCookie  = "sg_access"
	RefreshCookie = "sg_refresh"
	// CartCookie holds an anonymous cart's token.
	CartCookie = "sg_cart"
	// cartCookieTTL keeps an anonymous cart across visits for a month.
	cartCookieTTL = 30 * 24 * time.Hour
	// refreshCookiePath limits the refresh cookie to the API endpoint, where it is needed.
	refreshCookiePath = "/graphql"
)

// Request is what the HTTP layer tells the GraphQL layer about the request, so that resolvers
// can set session cookies and record the client, without depending on net/http themselves.
type Request struct {
	Writer        http.ResponseWriter
	SecureCookies bool
	ClientIP      string
	UserAgent     string
	// RefreshToken is the refresh cookie's value, if any.
	RefreshToken string
	// CartToken is the anonymous cart token, from the X-Cart-Token header or the cart cookie.
	CartToken string
	// IdempotencyKey is the Idempotency-Key header, if any.
	IdempotencyKey string
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
	r := RequestFrom(ctx)
	if r.Writer == nil {
		return
	}
	http.SetCookie(r.Writer, r.cookie(AccessCookie, access, "/", accessExp))
	http.SetCookie(r.Writer, r.cookie(RefreshCookie, refresh, refreshCookiePath, refreshExp))
}

// ClearSessionCookies expires both session cookies.
func ClearSessionCookies(ctx context.Context) {
	r := RequestFrom(ctx)
	if r.Writer == nil {
		return
	}
	for _, c := range []*http.Cookie{r.cookie(AccessCookie, "", "/", time.Time{}), r.cookie(RefreshCookie, "", refreshCookiePath, time.Time{})} {
		c.MaxAge = -1
		http.SetCookie(r.Writer, c)
	}
}

func (r *Request) cookie(name, value, path string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: path,
		HttpOnly: true, Secure: r.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
	if !expires.IsZero() {
		c.Expires = expires.UTC()
		c.MaxAge = int(time.Until(expires).Seconds())
	}
	return c
}

// SetCartCookie stores a newly issued anonymous cart token in the browser.
func SetCartCookie(ctx context.Context, token string) {
	r := RequestFrom(ctx)
	if r.Writer == nil {
		return
	}
	http.SetCookie(r.Writer, r.cookie(CartCookie, token, "/", time.Now().Add(cartCookieTTL)))
}

// ClearCartCookie forgets the anonymous cart token (after it merged into a customer's cart).
func ClearCartCookie(ctx context.Context) {
	r := RequestFrom(ctx)
	if r.Writer == nil || r.CartToken == "" {
		return
	}
	c := r.cookie(CartCookie, "", "/", time.Time{})
	c.MaxAge = -1
	http.SetCookie(r.Writer, c)
}
