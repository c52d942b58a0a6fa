package account_test

import (
	"context"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/identityprovider"
	"github.com/shopgraph/shopgraph/internal/identityprovider/idptest"
)

// Social login against a real OpenID Connect provider (mockoidc, in-process) and a Facebook
// stand-in, on a real database.

const redirectURI = "https://shop.example.com/auth/callback"

type externalBundle struct {
	testBundle
	ext  *account.ExternalAuth
	oidc *idptest.OIDC
	fb   *idptest.Facebook
}

func setupExternal(t *testing.T) externalBundle {
	t.Helper()
	b := externalBundle{testBundle: setup(t, account.LoginLimits{}), oidc: idptest.StartOIDC(t), fb: idptest.StartFacebook(t)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := b.oidc.Config()
	b.ext = account.NewExternalAuth(b.svc, []account.ExternalProvider{
		identityprovider.NewOIDC(identityprovider.OIDCConfig{Name: "mock", Issuer: cfg.Issuer, ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret}, nil, log),
		identityprovider.NewFacebook(identityprovider.FacebookConfig{
			ClientID: b.fb.AppID, ClientSecret: b.fb.AppSecret, DialogBase: b.fb.URL, GraphBase: b.fb.URL, APIVersion: idptest.FacebookVersion,
		}, nil),
	}, []string{redirectURI})
	return b
}

// signIn runs a whole sign-in at provider: the authorization URL, the provider's login page
// (with edit applied to the URL's parameters), and the login with what comes back.
func (b externalBundle) signIn(t *testing.T, provider string, edit func(url.Values)) (account.Session, error) {
	t.Helper()
	authURL, err := b.ext.AuthURL(context.Background(), provider, redirectURI)
	require.NoError(t, err)
	code, state := idptest.Browser(t, authURL, edit)
	return b.ext.Login(context.Background(), provider, code, state, account.ClientMeta{IP: "10.0.0.2"})
}

func (b externalBundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	require.NoError(t, b.d.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func TestExternalAuthURL(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	ctx := context.Background()

	raw, err := b.ext.AuthURL(ctx, "mock", redirectURI)
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, b.oidc.AuthorizationEndpoint(), u.Scheme+"://"+u.Host+u.Path)
	require.Equal(t, redirectURI, q.Get("redirect_uri"))
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.Len(t, q.Get("code_challenge"), 43)
	require.Len(t, q.Get("state"), 43)
	require.Len(t, q.Get("nonce"), 43)
	require.Contains(t, q.Get("scope"), "openid")

	var stored int
	require.NoError(t, b.d.Pool.QueryRow(ctx, "SELECT count(*) FROM external_auth_states WHERE state_hash = sha256($1::bytea) AND provider = 'mock' AND nonce = $2 AND expires_at > now()",
		[]byte(q.Get("state")), q.Get("nonce")).Scan(&stored))
	require.Equal(t, 1, stored, "the state is stored hashed, with its nonce, for about 10 minutes")
	var plain int
	require.NoError(t, b.d.Pool.QueryRow(ctx, "SELECT count(*) FROM external_auth_states WHERE encode(state_hash, 'escape') LIKE '%' || $1 || '%'", q.Get("state")).Scan(&plain))
	require.Zero(t, plain, "never in the clear")

	_, err = b.ext.AuthURL(ctx, "nope", redirectURI)
	require.Equal(t, apperr.ProviderNotConfigured, apperr.CodeOf(err))
	for _, bad := range []string{"https://evil.example.com/auth/callback", redirectURI + "/", redirectURI + "?x=1", "HTTPS://shop.example.com/auth/callback"} {
		_, err = b.ext.AuthURL(ctx, "mock", bad)
		require.Equal(t, apperr.InvalidRedirectURI, apperr.CodeOf(err), bad)
	}

	fb, err := b.ext.AuthURL(ctx, "facebook", redirectURI)
	require.NoError(t, err)
	fu, _ := url.Parse(fb)
	require.Equal(t, "/"+idptest.FacebookVersion+"/dialog/oauth", fu.Path)
	require.Equal(t, "S256", fu.Query().Get("code_challenge_method"))
	require.Equal(t, []string{"facebook", "mock"}, b.ext.Providers())
}

func TestExternalLoginCreatesAccount(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	ctx := context.Background()

	b.oidc.QueueUser("sub-1", "New.Person@Example.com", true)
	s, err := b.signIn(t, "mock", nil)
	require.NoError(t, err)
	require.Equal(t, "new.person@example.com", s.User.Email)
	require.True(t, s.User.EmailVerified, "the provider vouched for the address")
	require.Equal(t, auth.RoleCustomer, s.User.Role)
	require.True(t, b.active(t, s), "a session like accountLogin's")
	require.Equal(t, s.User.ID, b.viewer(t, s).UserID)

	list, err := b.ext.ExternalAccounts(ctx, b.viewer(t, s), s.User.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "mock", list[0].Provider)
	require.Equal(t, "new.person@example.com", list[0].Email)

	// The next sign-in of the same identity is the same account.
	b.oidc.QueueUser("sub-1", "new.person@example.com", true)
	again, err := b.signIn(t, "mock", nil)
	require.NoError(t, err)
	require.Equal(t, s.User.ID, again.User.ID)
	require.Equal(t, 1, b.count(t, "users"))

	// The account has no password: password sign-in fails as for a wrong password.
	for _, pw := range []string{"", "anything-at-all"} {
		_, err = b.svc.Login(ctx, s.User.Email, pw, account.ClientMeta{IP: "10.0.0.3"})
		require.Equal(t, apperr.InvalidCredentials, apperr.CodeOf(err), "%q", pw)
	}
	// Nor is there one to change: it is set by a password reset (emailflow.go).
	_, err = b.svc.ChangePassword(ctx, b.viewer(t, s), "", "a-new-password")
	require.Equal(t, apperr.PasswordNotSet, apperr.CodeOf(err))

	// Others never see an account's identities.
	_, err = b.ext.ExternalAccounts(ctx, auth.Viewer{UserID: s.User.ID + 1, Role: auth.RoleAdmin}, s.User.ID)
	require.Equal(t, apperr.NotFound, apperr.CodeOf(err))
}

func TestExternalLoginLinksVerifiedEmail(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	ctx := context.Background()
	existing := b.register(t, "ada@example.com")

	b.oidc.QueueUser("sub-ada", "ada@example.com", true)
	s, err := b.signIn(t, "mock", nil)
	require.NoError(t, err)
	require.Equal(t, existing.User.ID, s.User.ID, "linked to the account with the verified email")
	require.Equal(t, 1, b.count(t, "external_identities"))
	_, err = b.svc.Login(ctx, "ada@example.com", password, account.ClientMeta{IP: "10.0.0.3"})
	require.NoError(t, err, "the password still works")
}

func TestExternalLoginRefusesUnverifiedEmail(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	b.register(t, "ada@example.com")

	b.oidc.QueueUser("sub-mallory", "ada@example.com", false)
	_, err := b.signIn(t, "mock", nil)
	require.Equal(t, apperr.EmailNotVerified, apperr.CodeOf(err))
	require.Equal(t, 0, b.count(t, "external_identities"))
	require.Equal(t, 1, b.count(t, "users"))
	require.Equal(t, 1, b.count(t, "sessions"), "only the registration's")

	// Facebook never vouches for an email: it never joins an existing account either.
	b.fb.QueueUser(idptest.FacebookUser{ID: "fb-1", Name: "Ada", Email: "ada@example.com"})
	_, err = b.signIn(t, "facebook", nil)
	require.Equal(t, apperr.EmailNotVerified, apperr.CodeOf(err))
	require.Equal(t, 0, b.count(t, "external_identities"))
}

func TestExternalLoginFacebook(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	ctx := context.Background()

	b.fb.QueueUser(idptest.FacebookUser{ID: "10150000000000001", Name: "Grace Hopper", Email: "grace@example.com"})
	s, err := b.signIn(t, "facebook", nil)
	require.NoError(t, err)
	require.Equal(t, "grace@example.com", s.User.Email)
	require.Equal(t, "Grace Hopper", s.User.Name)
	require.False(t, s.User.EmailVerified, "Facebook does not vouch for the address")
	list, err := b.ext.ExternalAccounts(ctx, b.viewer(t, s), s.User.ID)
	require.NoError(t, err)
	require.Equal(t, "facebook", list[0].Provider)

	// A Facebook account without an email cannot make a new account.
	b.fb.QueueUser(idptest.FacebookUser{ID: "10150000000000002", Name: "No Mail"})
	_, err = b.signIn(t, "facebook", nil)
	require.Equal(t, apperr.ExternalEmailRequired, apperr.CodeOf(err))
	require.Equal(t, 1, b.count(t, "users"))
}

// TestExternalLoginRefusals: every way a sign-in can be tampered with is refused with its
// code, and creates nothing.
func TestExternalLoginRefusals(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	ctx := context.Background()
	meta := account.ClientMeta{IP: "10.0.0.2"}
	start := func(t *testing.T) (code, state string) {
		t.Helper()
		b.oidc.QueueUser("sub-x", "x@example.com", true)
		authURL, err := b.ext.AuthURL(ctx, "mock", redirectURI)
		require.NoError(t, err)
		return idptest.Browser(t, authURL, nil)
	}
	forge := func(edit func(jwt.MapClaims) *rsa.PrivateKey) func(t *testing.T) (string, string) {
		return func(t *testing.T) (string, string) {
			code, state := start(t)
			b.oidc.ForgeNextIDToken(edit)
			return code, state
		}
	}
	for _, tc := range []struct {
		name string
		run  func(t *testing.T) error
		want apperr.Code
	}{
		{"forged state", func(t *testing.T) error {
			code, _ := start(t)
			_, err := b.ext.Login(ctx, "mock", code, "forged-state-forged-state-forged-state-1234", meta)
			return err
		}, apperr.InvalidState},
		{"state of another provider", func(t *testing.T) error {
			code, state := start(t)
			_, err := b.ext.Login(ctx, "facebook", code, state, meta)
			return err
		}, apperr.InvalidState},
		{"expired state", func(t *testing.T) error {
			code, state := start(t)
			account.SetExternalNow(b.ext, func() time.Time { return time.Now().Add(account.ExternalStateTTL + time.Second) })
			defer account.SetExternalNow(b.ext, time.Now)
			_, err := b.ext.Login(ctx, "mock", code, state, meta)
			return err
		}, apperr.InvalidState},
		{"wrong nonce", func(t *testing.T) error {
			b.oidc.QueueUser("sub-x", "x@example.com", true)
			authURL, err := b.ext.AuthURL(ctx, "mock", redirectURI)
			require.NoError(t, err)
			// The code was issued for a sign-in with another nonce (an attacker's, injected).
			code, state := idptest.Browser(t, authURL, func(q url.Values) { q.Set("nonce", "attackers-nonce") })
			_, err = b.ext.Login(ctx, "mock", code, state, meta)
			return err
		}, apperr.InvalidIDToken},
		{"expired ID token", runForged(b, forge(func(c jwt.MapClaims) *rsa.PrivateKey {
			c["iat"], c["nbf"], c["exp"] = time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-time.Hour).Unix()
			return nil
		})), apperr.InvalidIDToken},
		{"wrongly signed ID token", runForged(b, forge(func(jwt.MapClaims) *rsa.PrivateKey { return idptest.OtherKey(t) })), apperr.InvalidIDToken},
		{"wrong audience", runForged(b, forge(func(c jwt.MapClaims) *rsa.PrivateKey { c["aud"] = "someone-else"; return nil })), apperr.InvalidIDToken},
		{"wrong issuer", runForged(b, forge(func(c jwt.MapClaims) *rsa.PrivateKey { c["iss"] = "https://evil.example.com"; return nil })), apperr.InvalidIDToken},
		{"the provider's own key, untouched claims", runForged(b, forge(func(jwt.MapClaims) *rsa.PrivateKey { return nil })), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, idents := b.count(t, "users"), b.count(t, "external_identities")
			err := tc.run(t)
			if tc.want == "" { // the forging itself changes nothing that matters
				require.NoError(t, err)
				_, err = b.d.Pool.Exec(ctx, "DELETE FROM users")
				require.NoError(t, err)
				return
			}
			require.Equal(t, tc.want, apperr.CodeOf(err), "%v", err)
			require.Equal(t, users, b.count(t, "users"), "no account created")
			require.Equal(t, idents, b.count(t, "external_identities"), "no identity linked")
		})
	}

	t.Run("replayed code and state", func(t *testing.T) {
		code, state := start(t)
		_, err := b.ext.Login(ctx, "mock", code, state, meta)
		require.NoError(t, err)
		sessions := b.count(t, "sessions")
		_, err = b.ext.Login(ctx, "mock", code, state, meta)
		require.Equal(t, apperr.InvalidState, apperr.CodeOf(err))
		require.Equal(t, sessions, b.count(t, "sessions"))
	})
	t.Run("replayed code with a fresh state", func(t *testing.T) {
		code, state := start(t)
		_, err := b.ext.Login(ctx, "mock", code, state, meta)
		require.NoError(t, err, "the first use of the code")
		sessions := b.count(t, "sessions")
		// Another sign-in's state: its PKCE verifier is not the code's, and the code is spent.
		_, state = start(t)
		_, err = b.ext.Login(ctx, "mock", code, state, meta)
		require.Equal(t, apperr.ExternalAuthFailed, apperr.CodeOf(err))
		require.Equal(t, sessions, b.count(t, "sessions"))
	})
}

func runForged(b externalBundle, start func(t *testing.T) (string, string)) func(t *testing.T) error {
	return func(t *testing.T) error {
		code, state := start(t)
		_, err := b.ext.Login(context.Background(), "mock", code, state, account.ClientMeta{IP: "10.0.0.2"})
		return err
	}
}

func TestExternalUnlink(t *testing.T) {
	t.Parallel()
	b := setupExternal(t)
	ctx := context.Background()

	b.oidc.QueueUser("sub-only", "only@example.com", true)
	s, err := b.signIn(t, "mock", nil)
	require.NoError(t, err)
	v := b.viewer(t, s)
	_, err = b.ext.Unlink(ctx, v, "mock")
	require.Equal(t, apperr.LastSignInMethod, apperr.CodeOf(err), "no password, no other identity")
	require.Equal(t, 1, b.count(t, "external_identities"))
	_, err = b.ext.Unlink(ctx, v, "facebook")
	require.Equal(t, apperr.NotFound, apperr.CodeOf(err))

	// With a password, the identity may go.
	withPassword := b.register(t, "pw@example.com")
	b.oidc.QueueUser("sub-pw", "pw@example.com", true)
	_, err = b.signIn(t, "mock", nil)
	require.NoError(t, err)
	_, err = b.ext.Unlink(ctx, b.viewer(t, withPassword), "mock")
	require.NoError(t, err)
	list, err := b.ext.ExternalAccounts(ctx, b.viewer(t, withPassword), withPassword.User.ID)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestExternalProviderDown(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	down := identityprovider.NewOIDC(identityprovider.OIDCConfig{Name: "down", Issuer: "http://127.0.0.1:1/realms/x", ClientID: "c", ClientSecret: "s"}, nil, log)
	started := time.Now()
	down.Discover(context.Background())
	require.Less(t, time.Since(started), time.Second, "discovery never blocks the start")
	ext := account.NewExternalAuth(b.svc, []account.ExternalProvider{down}, []string{redirectURI})
	_, err := ext.AuthURL(context.Background(), "down", redirectURI)
	require.Equal(t, apperr.ProviderUnavailable, apperr.CodeOf(err))
	var states int
	require.NoError(t, b.d.Pool.QueryRow(context.Background(), "SELECT count(*) FROM external_auth_states").Scan(&states))
	require.Zero(t, states)
}
