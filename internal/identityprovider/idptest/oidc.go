// Package idptest is social login's test providers: a real OpenID Connect provider
// (github.com/oauth2-proxy/mockoidc) started in-process, able to forge the next ID token it
// issues, and a stand-in for Facebook Login with the shapes of Facebook's documented
// responses. Tests only.
package idptest

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/stretchr/testify/require"
)

// OIDC is a running OpenID Connect provider.
type OIDC struct {
	*mockoidc.MockOIDC

	mu    sync.Mutex
	forge func(claims jwt.MapClaims) *rsa.PrivateKey
}

// StartOIDC starts a provider for the test; it stops when the test ends.
func StartOIDC(t testing.TB) *OIDC {
	t.Helper()
	return StartOIDCWith(t)
}

// StartOIDCWith starts a provider whose every request goes through middleware first (an
// outage, say).
func StartOIDCWith(t testing.TB, middleware ...func(http.Handler) http.Handler) *OIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	require.NoError(t, err)
	o := &OIDC{MockOIDC: m}
	for _, mw := range middleware {
		require.NoError(t, m.AddMiddleware(mw))
	}
	require.NoError(t, m.AddMiddleware(o.forgeTokens))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, m.Start(ln, nil))
	t.Cleanup(func() { _ = m.Shutdown() })
	return o
}

// Setting is the provider's OIDC_PROVIDERS entry under name.
func (o *OIDC) Setting(name string) string {
	return strings.Join([]string{name, o.Issuer(), o.ClientID, o.ClientSecret}, ",")
}

// QueueUser makes the next sign-in at the provider's login page that of this person.
func (o *OIDC) QueueUser(subject, email string, emailVerified bool) {
	o.MockOIDC.QueueUser(&mockoidc.MockUser{Subject: subject, Email: email, EmailVerified: emailVerified})
}

// ForgeNextIDToken rewrites the next ID token the token endpoint issues: edit changes its
// claims and returns the key that signs it (nil: the provider's own key, under its key id).
func (o *OIDC) ForgeNextIDToken(edit func(claims jwt.MapClaims) *rsa.PrivateKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.forge = edit
}

// OtherKey is an RSA key the provider does not publish.
func OtherKey(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}

func (o *OIDC) forgeTokens(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		edit := o.forge
		o.mu.Unlock()
		if r.URL.Path != mockoidc.TokenEndpoint || edit == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body map[string]any
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["id_token"] == nil {
			// Not the response that issues the ID token (a client trying another way to
			// authenticate first, say): the forgery waits for it.
			copyResponse(w, rec)
			return
		}
		o.mu.Lock()
		o.forge = nil
		o.mu.Unlock()
		parts := strings.Split(body["id_token"].(string), ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		claims := jwt.MapClaims{}
		if err == nil {
			err = json.Unmarshal(payload, &claims)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		key := edit(claims)
		if key == nil {
			key = o.Keypair.PrivateKey
		}
		token := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		kid, _ := o.Keypair.KeyID()
		token.Header["kid"] = kid // the provider's key id, whatever key signs
		if body["id_token"], err = token.SignedString(key); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	})
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// Browser follows an authorization URL as a browser whose person signs in at once, and
// returns what the provider sends back to the redirect URI. edit, when not nil, changes the
// authorization URL's parameters first (an attacker's own sign-in).
func Browser(t testing.TB, authURL string, edit func(url.Values)) (code, state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	if edit != nil {
		q := u.Query()
		edit(q)
		u.RawQuery = q.Encode()
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(u.String())
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	require.Equal(t, http.StatusFound, resp.StatusCode, "the provider's login page: %s", buf.String())
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return back.Query().Get("code"), back.Query().Get("state")
}
