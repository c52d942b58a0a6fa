package httpapi

import (
	"net/http"
	"time"

	"github.com/shopgraph/shopgraph/internal/auth"
)

const (
	// cartCookieTTL keeps an anonymous cart across visits for a month.
	cartCookieTTL = 30 * 24 * time.Hour
	// refreshCookiePath limits the refresh cookie to the API endpoint, where it is needed.
	refreshCookiePath = "/graphql"
)

// cookieJar sets the credential cookies (auth.AccessCookie, auth.RefreshCookie,
// auth.CartCookie) on a response. All are HttpOnly and SameSite=Lax; Secure outside
// development. It is the auth.Cookies of a request.
type cookieJar struct {
	w      http.ResponseWriter
	secure bool
}

var _ auth.Cookies = cookieJar{}

// SetSession sets the access and refresh cookies.
func (j cookieJar) SetSession(access string, accessExp time.Time, refresh string, refreshExp time.Time) {
	http.SetCookie(j.w, j.cookie(auth.AccessCookie, access, "/", accessExp))
	http.SetCookie(j.w, j.cookie(auth.RefreshCookie, refresh, refreshCookiePath, refreshExp))
}

// ClearSession expires both session cookies.
func (j cookieJar) ClearSession() {
	for _, c := range []*http.Cookie{j.cookie(auth.AccessCookie, "", "/", time.Time{}), j.cookie(auth.RefreshCookie, "", refreshCookiePath, time.Time{})} {
		c.MaxAge = -1
		http.SetCookie(j.w, c)
	}
}

// SetCart stores an anonymous cart's token for a month.
func (j cookieJar) SetCart(token string) {
	http.SetCookie(j.w, j.cookie(auth.CartCookie, token, "/", time.Now().Add(cartCookieTTL)))
}

// ClearCart expires the cart cookie.
func (j cookieJar) ClearCart() {
	c := j.cookie(auth.CartCookie, "", "/", time.Time{})
	c.MaxAge = -1
	http.SetCookie(j.w, c)
}

func (j cookieJar) cookie(name, value, path string, expires time.Time) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: path,
		HttpOnly: true, Secure: j.secure, SameSite: http.SameSiteLaxMode,
	}
	if !expires.IsZero() {
		c.Expires = expires.UTC()
		c.MaxAge = int(time.Until(expires).Seconds())
	}
	return c
}
