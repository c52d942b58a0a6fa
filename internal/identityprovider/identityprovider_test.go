package identityprovider

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/identityprovider/idptest"
)

func TestOIDCDiscoveryRecovers(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	down.Store(true)
	o := idptest.StartOIDCWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	cfg := o.Config()
	p := NewOIDC(OIDCConfig{Name: "kc", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	p.retryAfter = 0
	req := account.ExternalAuthRequest{State: "s", Nonce: "n", CodeVerifier: "v-0123456789012345678901234567890123456789", RedirectURI: "https://shop.example.com/cb"}

	_, err := p.AuthURL(context.Background(), req)
	require.Equal(t, apperr.ProviderUnavailable, apperr.CodeOf(err), "a provider that is down")
	down.Store(false)
	u, err := p.AuthURL(context.Background(), req)
	require.NoError(t, err, "discovered on the next use once it is back")
	require.Contains(t, u, o.AuthorizationEndpoint())
}

func TestOIDCDiscoveryWaitsBeforeRetrying(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	o := idptest.StartOIDCWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			http.Error(w, "down", http.StatusServiceUnavailable)
		})
	})
	p := NewOIDC(OIDCConfig{Name: "kc", Issuer: o.Issuer(), ClientID: "c", ClientSecret: "s"}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 5 {
		_, err := p.AuthURL(context.Background(), account.ExternalAuthRequest{})
		require.Equal(t, apperr.ProviderUnavailable, apperr.CodeOf(err))
	}
	require.EqualValues(t, 1, calls.Load(), "a provider that is down is asked again only after a pause")
}

func TestEmailVerifiedClaim(t *testing.T) {
	t.Parallel()
	for v, want := range map[any]bool{true: true, "true": true, false: false, "false": false, nil: false, 1.0: false} {
		require.Equal(t, want, isTrue(v), "%v", v)
	}
}

func TestFacebookErrors(t *testing.T) {
	t.Parallel()
	fb := idptest.StartFacebook(t)
	p := NewFacebook(FacebookConfig{ClientID: fb.AppID, ClientSecret: fb.AppSecret, DialogBase: fb.URL, GraphBase: fb.URL, APIVersion: idptest.FacebookVersion}, nil)
	req := account.ExternalAuthRequest{State: "s", CodeVerifier: "v-0123456789012345678901234567890123456789", RedirectURI: "https://shop.example.com/cb"}
	_, err := p.Exchange(context.Background(), "a-code-facebook-never-issued", req)
	require.Equal(t, apperr.ExternalAuthFailed, apperr.CodeOf(err))

	wrongSecret := NewFacebook(FacebookConfig{ClientID: fb.AppID, ClientSecret: "wrong", DialogBase: fb.URL, GraphBase: fb.URL, APIVersion: idptest.FacebookVersion}, nil)
	fb.QueueUser(idptest.FacebookUser{ID: "1", Email: "a@example.com"})
	u, err := wrongSecret.AuthURL(context.Background(), req)
	require.NoError(t, err)
	code, _ := idptest.Browser(t, u, nil)
	_, err = wrongSecret.Exchange(context.Background(), code, req)
	require.Equal(t, apperr.ExternalAuthFailed, apperr.CodeOf(err))

	fb.Close()
	_, err = p.Exchange(context.Background(), "any", req)
	require.Equal(t, apperr.ProviderUnavailable, apperr.CodeOf(err), "Facebook cannot be reached")
}
