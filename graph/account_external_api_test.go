package graph_test

import (
	"context"
	"crypto/rsa"
	"maps"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/identityprovider/idptest"
	"github.com/shopgraph/shopgraph/internal/testutil/smtptest"
)

// Social login through the API: a real OpenID Connect provider (mockoidc) and a Facebook
// stand-in, both in-process.

const externalRedirectURI = "https://shop.example.com/auth/callback"

const externalAuthURLMutation = `mutation AuthURL($input: AccountExternalAuthUrlInput!) {
  accountExternalAuthUrl(input: $input) { authorizationUrl userErrors { field message code } }
}`

const externalLoginMutation = `mutation ExternalLogin($input: AccountExternalLoginInput!) {
  accountExternalLogin(input: $input) {
    user { id email role }
    tokens { accessToken refreshToken }
    userErrors { field message code }
  }
}`

const externalUnlinkMutation = `mutation Unlink($input: AccountExternalAccountUnlinkInput!) {
  accountExternalAccountUnlink(input: $input) { user { id } userErrors { field message code } }
}`

const externalMeQuery = `query { me { id email externalAccounts { provider email createdAt } } }`

type externalAccount struct {
	Provider  string `json:"provider"`
	Email     string `json:"email"`
	CreatedAt string `json:"createdAt"`
}

type externalAPI struct {
	env  *apitest.Env
	oidc *idptest.OIDC
	fb   *idptest.Facebook
}

func newExternalAPI(t *testing.T) externalAPI {
	t.Helper()
	return newExternalAPIWith(t, nil)
}

// newExternalAPIWith is newExternalAPI with more settings (extra).
func newExternalAPIWith(t *testing.T, extra map[string]string) externalAPI {
	t.Helper()
	o, fb := idptest.StartOIDC(t), idptest.StartFacebook(t)
	vars := map[string]string{"OIDC_PROVIDERS": o.Setting("keycloak"), "EXTERNAL_AUTH_REDIRECT_URIS": externalRedirectURI}
	maps.Copy(vars, fb.Env())
	maps.Copy(vars, extra)
	return externalAPI{env: apitest.NewEnv(t, apitest.EnvOptions{Env: vars}), oidc: o, fb: fb}
}

func authURL(t *testing.T, c *apitest.Client, provider, redirect string) (string, []apitest.UserError) {
	t.Helper()
	var out struct {
		P struct {
			URL        *string             `json:"authorizationUrl"`
			UserErrors []apitest.UserError `json:"userErrors"`
		} `json:"accountExternalAuthUrl"`
	}
	c.Do(externalAuthURLMutation, map[string]any{"input": map[string]any{"provider": provider, "redirectUri": redirect}}).Decode(t, &out)
	if out.P.URL == nil {
		return "", out.P.UserErrors
	}
	return *out.P.URL, out.P.UserErrors
}

func externalLogin(t *testing.T, c *apitest.Client, provider, code, state string) apitest.Session {
	t.Helper()
	var out struct {
		P apitest.Session `json:"accountExternalLogin"`
	}
	c.Do(externalLoginMutation, map[string]any{"input": map[string]any{"provider": provider, "code": code, "state": state}}).Decode(t, &out)
	return out.P
}

func externalAccounts(t *testing.T, c *apitest.Client) []externalAccount {
	t.Helper()
	var out struct {
		Me struct {
			ExternalAccounts []externalAccount `json:"externalAccounts"`
		} `json:"me"`
	}
	c.Do(externalMeQuery, nil).Decode(t, &out)
	return out.Me.ExternalAccounts
}

// signIn is a whole sign-in in a browser: the authorization URL, the provider, the login.
func (x externalAPI) signIn(t *testing.T, c *apitest.Client, provider string) apitest.Session {
	t.Helper()
	u, ue := authURL(t, c, provider, externalRedirectURI)
	require.Empty(t, ue)
	code, state := idptest.Browser(t, u, nil)
	return externalLogin(t, c, provider, code, state)
}

func TestAccountExternalLoginOIDC(t *testing.T) {
	t.Parallel()
	x := newExternalAPI(t)

	t.Run("the full round trip creates a customer, signs it in, and me shows the identity", func(t *testing.T) {
		c := x.env.Anon(t)
		x.oidc.QueueUser("kc-1", "kc.user@example.com", true)
		u, ue := authURL(t, c, "keycloak", externalRedirectURI)
		require.Empty(t, ue)
		q := mustQuery(t, u)
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		require.NotEmpty(t, q.Get("nonce"))
		require.NotEmpty(t, q.Get("state"))
		code, state := idptest.Browser(t, u, nil)
		s := externalLogin(t, c, "keycloak", code, state)
		require.Empty(t, s.UserErrors)
		require.Equal(t, "kc.user@example.com", s.User.Email)
		require.Equal(t, "CUSTOMER", s.User.Role)
		require.NotEmpty(t, s.Tokens.AccessToken)
		require.Equal(t, "kc.user@example.com", c.Me().Email, "the session cookies are set, as by accountLogin")
		require.True(t, me(t, c).EmailVerified, "the provider vouched for the address")
		accts := externalAccounts(t, c)
		require.Len(t, accts, 1)
		require.Equal(t, "keycloak", accts[0].Provider)
		require.Equal(t, "kc.user@example.com", accts[0].Email)
		require.NotEmpty(t, accts[0].CreatedAt)

		// The same code and state again: refused, nothing new.
		again := externalLogin(t, x.env.Anon(t), "keycloak", code, state)
		require.Nil(t, again.User)
		require.Equal(t, []string{"INVALID_STATE:input.state"}, codes(again.UserErrors))

		// Password sign-in fails for an account without a password, as for a wrong one.
		p := x.env.Anon(t).Login("kc.user@example.com", "")
		require.Equal(t, []string{"INVALID_CREDENTIALS:"}, codes(p.UserErrors))
	})

	t.Run("links to the existing account when the email is verified", func(t *testing.T) {
		c := x.env.Anon(t)
		email := apitest.UniqueEmail()
		reg := c.Register(email, apitest.Password)
		require.Empty(t, reg.UserErrors)
		x.oidc.QueueUser("kc-link", email, true)
		s := x.signIn(t, x.env.Anon(t), "keycloak")
		require.Empty(t, s.UserErrors)
		require.Equal(t, reg.User.ID, s.User.ID)
		require.Len(t, externalAccounts(t, c), 1, "the password session sees the linked identity too")
	})

	t.Run("refuses to link without a verified email", func(t *testing.T) {
		c := x.env.Anon(t)
		email := apitest.UniqueEmail()
		require.Empty(t, c.Register(email, apitest.Password).UserErrors)
		x.oidc.QueueUser("kc-unverified", email, false)
		s := x.signIn(t, x.env.Anon(t), "keycloak")
		require.Nil(t, s.User)
		require.Equal(t, []string{"EMAIL_NOT_VERIFIED:"}, codes(s.UserErrors))
		require.Empty(t, externalAccounts(t, c))
	})

	t.Run("an account created with an email the provider did not verify is not verified", func(t *testing.T) {
		c := x.env.Anon(t)
		x.oidc.QueueUser("kc-new-unverified", apitest.UniqueEmail(), false)
		s := x.signIn(t, c, "keycloak")
		require.Empty(t, s.UserErrors)
		require.False(t, me(t, c).EmailVerified)
	})

	t.Run("a forged state is refused", func(t *testing.T) {
		c := x.env.Anon(t)
		x.oidc.QueueUser("kc-forged", apitest.UniqueEmail(), true)
		u, _ := authURL(t, c, "keycloak", externalRedirectURI)
		code, _ := idptest.Browser(t, u, nil)
		s := externalLogin(t, c, "keycloak", code, "not-a-state-we-issued")
		require.Equal(t, []string{"INVALID_STATE:input.state"}, codes(s.UserErrors))
		require.Nil(t, c.Me())
	})

	t.Run("a code issued for another nonce is refused", func(t *testing.T) {
		c := x.env.Anon(t)
		email := apitest.UniqueEmail()
		x.oidc.QueueUser("kc-nonce", email, true)
		u, _ := authURL(t, c, "keycloak", externalRedirectURI)
		code, state := idptest.Browser(t, u, func(q url.Values) { q.Set("nonce", "another") })
		s := externalLogin(t, c, "keycloak", code, state)
		require.Equal(t, []string{"INVALID_ID_TOKEN:"}, codes(s.UserErrors))
		var n int
		require.NoError(t, x.env.Server.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE email = $1", email).Scan(&n))
		require.Zero(t, n, "no account created")
	})

	t.Run("forged ID tokens are refused", func(t *testing.T) {
		for name, edit := range map[string]func(jwt.MapClaims) *rsa.PrivateKey{
			"wrongly signed": func(jwt.MapClaims) *rsa.PrivateKey { return idptest.OtherKey(t) },
			"expired":        func(c jwt.MapClaims) *rsa.PrivateKey { c["exp"] = time.Now().Add(-time.Minute).Unix(); return nil },
			"wrong audience": func(c jwt.MapClaims) *rsa.PrivateKey { c["aud"] = "another-client"; return nil },
			"wrong issuer":   func(c jwt.MapClaims) *rsa.PrivateKey { c["iss"] = "https://evil.example.com"; return nil },
		} {
			c := x.env.Anon(t)
			email := apitest.UniqueEmail()
			x.oidc.QueueUser("kc-forged-"+name, email, true)
			u, _ := authURL(t, c, "keycloak", externalRedirectURI)
			code, state := idptest.Browser(t, u, nil)
			x.oidc.ForgeNextIDToken(edit)
			s := externalLogin(t, c, "keycloak", code, state)
			require.Equal(t, []string{"INVALID_ID_TOKEN:"}, codes(s.UserErrors), name)
			require.Nil(t, c.Me(), name)
			var n int
			require.NoError(t, x.env.Server.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE email = $1", email).Scan(&n))
			require.Zero(t, n, "%s: no account created", name)
		}
	})

	t.Run("unknown providers and redirect URIs off the allow-list", func(t *testing.T) {
		c := x.env.Anon(t)
		_, ue := authURL(t, c, "google", externalRedirectURI)
		require.Equal(t, []string{"PROVIDER_NOT_CONFIGURED:input.provider"}, codes(ue))
		_, ue = authURL(t, c, "keycloak", "https://evil.example.com/cb")
		require.Equal(t, []string{"INVALID_REDIRECT_URI:input.redirectUri"}, codes(ue))
		var out struct {
			P []string `json:"externalAuthProviders"`
		}
		c.Do(`{ externalAuthProviders }`, nil).Decode(t, &out)
		require.Equal(t, []string{"facebook", "keycloak"}, out.P)
	})
}

func TestAccountExternalLoginFacebook(t *testing.T) {
	t.Parallel()
	x := newExternalAPI(t)
	c := x.env.Anon(t)
	email := apitest.UniqueEmail()
	x.fb.QueueUser(idptest.FacebookUser{ID: "10150000000000042", Name: "Fb Person", Email: email})
	s := x.signIn(t, c, "facebook")
	require.Empty(t, s.UserErrors)
	require.Equal(t, email, s.User.Email)
	accts := externalAccounts(t, c)
	require.Len(t, accts, 1)
	require.Equal(t, "facebook", accts[0].Provider)
	require.False(t, me(t, c).EmailVerified, "Facebook does not vouch for the address")

	// Facebook does not vouch for emails: no joining an existing account.
	other := apitest.UniqueEmail()
	require.Empty(t, x.env.Anon(t).Register(other, apitest.Password).UserErrors)
	x.fb.QueueUser(idptest.FacebookUser{ID: "10150000000000043", Email: other})
	refused := x.signIn(t, x.env.Anon(t), "facebook")
	require.Equal(t, []string{"EMAIL_NOT_VERIFIED:"}, codes(refused.UserErrors))
}

func TestAccountExternalAccounts(t *testing.T) {
	t.Parallel()
	x := newExternalAPI(t)

	t.Run("unlinking the last way to sign in is refused", func(t *testing.T) {
		c := x.env.Anon(t)
		x.oidc.QueueUser("kc-last", apitest.UniqueEmail(), true)
		require.Empty(t, x.signIn(t, c, "keycloak").UserErrors)
		var out struct {
			P struct {
				User       *struct{ ID string } `json:"user"`
				UserErrors []apitest.UserError  `json:"userErrors"`
			} `json:"accountExternalAccountUnlink"`
		}
		c.Do(externalUnlinkMutation, map[string]any{"input": map[string]any{"provider": "keycloak"}}).Decode(t, &out)
		require.Equal(t, []string{"LAST_SIGN_IN_METHOD:input.provider"}, codes(out.P.UserErrors))
		require.Len(t, externalAccounts(t, c), 1)
	})

	t.Run("an account with a password may unlink", func(t *testing.T) {
		c := x.env.Anon(t)
		email := apitest.UniqueEmail()
		require.Empty(t, c.Register(email, apitest.Password).UserErrors)
		x.oidc.QueueUser("kc-unlink", email, true)
		require.Empty(t, x.signIn(t, x.env.Anon(t), "keycloak").UserErrors)
		var out struct {
			P struct {
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"accountExternalAccountUnlink"`
		}
		c.Do(externalUnlinkMutation, map[string]any{"input": map[string]any{"provider": "keycloak"}}).Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Empty(t, externalAccounts(t, c))
	})

	t.Run("only the account itself sees its identities", func(t *testing.T) {
		c := x.env.Anon(t)
		x.oidc.QueueUser("kc-private", apitest.UniqueEmail(), true)
		s := x.signIn(t, c, "keycloak")
		require.Empty(t, s.UserErrors)
		var out struct {
			User *struct {
				ExternalAccounts []externalAccount `json:"externalAccounts"`
			} `json:"user"`
		}
		x.env.Admin.Do(`query($id: ID!) { user(id: $id) { externalAccounts { provider } } }`, map[string]any{"id": s.User.ID}).Decode(t, &out)
		require.NotNil(t, out.User, "the admin sees the account")
		require.Nil(t, out.User.ExternalAccounts, "but not its identities")
	})

	t.Run("unlink needs a signed-in viewer", func(t *testing.T) {
		r := x.env.Anon(t).Do(externalUnlinkMutation, map[string]any{"input": map[string]any{"provider": "keycloak"}})
		require.Equal(t, "UNAUTHENTICATED", r.Code())
	})
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Query()
}

// TestAccountExternalTakeoverGuard: whoever signs up at a provider that does not vouch for
// emails (Facebook; an OpenID provider saying email_verified=false) with someone else's
// address makes an account of that address; when its owner takes it over with a password
// reset (the link went to the mailbox), those identities are unlinked: their sign-in no
// longer reaches the account. Identities whose provider vouched for the address stay.
func TestAccountExternalTakeoverGuard(t *testing.T) {
	t.Parallel()
	mails := smtptest.New(t)
	x := newExternalAPIWith(t, map[string]string{"SMTP_URL": mails.URL, "STOREFRONT_URL": storefront})

	// resetByMail has the mailbox's owner reset the password through the emailed link and sign
	// in with it.
	resetByMail := func(t *testing.T, email string) *apitest.Client {
		t.Helper()
		resp := x.env.Anon(t).Do(resetRequestMutation, map[string]any{"input": map[string]any{"email": email}})
		require.Empty(t, resp.Errors)
		var link mail
		require.Eventually(t, func() bool {
			for _, m := range mailsTo(t, mails, email) {
				if m.Link == "/account/reset-password" {
					link = m
					return true
				}
			}
			return false
		}, 30*time.Second, 50*time.Millisecond, "the reset email to %s", email)
		p := profileMutate(t, x.env.Anon(t), resetMutation, "accountPasswordReset", map[string]any{"token": link.Token, "newPassword": "the-owners-own-password"})
		require.Empty(t, p.UserErrors)
		require.True(t, p.User.EmailVerified)
		owner := x.env.Anon(t)
		s := owner.Login(email, "the-owners-own-password")
		require.Empty(t, s.UserErrors)
		owner.Bearer = s.Tokens.AccessToken
		return owner
	}

	for name, attack := range map[string]func(t *testing.T, c *apitest.Client, email string) apitest.Session{
		"facebook": func(t *testing.T, c *apitest.Client, email string) apitest.Session {
			x.fb.QueueUser(idptest.FacebookUser{ID: "10150000000000777", Name: "Not The Owner", Email: email})
			return x.signIn(t, c, "facebook")
		},
		"OpenID Connect, email_verified=false": func(t *testing.T, c *apitest.Client, email string) apitest.Session {
			x.oidc.QueueUser("kc-attacker", email, false)
			return x.signIn(t, c, "keycloak")
		},
	} {
		t.Run(name+": the owner's password reset unlinks the attacker's identity", func(t *testing.T) {
			victim := apitest.UniqueEmail()
			attacker := x.env.Anon(t)
			made := attack(t, attacker, victim)
			require.Empty(t, made.UserErrors)
			require.Equal(t, victim, made.User.Email)
			require.Len(t, externalAccounts(t, attacker), 1)

			owner := resetByMail(t, victim)
			require.Equal(t, made.User.ID, owner.Me().ID, "the owner took over the account the attacker made")
			accts := externalAccounts(t, owner)
			require.NotNil(t, accts)
			require.Empty(t, accts, "the unverified identity is unlinked")

			again := attack(t, x.env.Anon(t), victim)
			require.Nil(t, again.User, "the attacker's sign-in no longer reaches the account")
			require.Equal(t, []string{"EMAIL_NOT_VERIFIED:"}, codes(again.UserErrors))
			require.False(t, tokenAccepted(t, x.env.Server, made.Tokens.AccessToken), "nor does the attacker's old session")
			require.Empty(t, externalAccounts(t, owner))
		})
	}

	t.Run("identities whose provider vouched for the email stay linked", func(t *testing.T) {
		victim := apitest.UniqueEmail()
		x.fb.QueueUser(idptest.FacebookUser{ID: "10150000000000888", Email: victim})
		made := x.signIn(t, x.env.Anon(t), "facebook")
		require.Empty(t, made.UserErrors)
		// The owner signs in with a provider that vouches for the address: it joins the account.
		x.oidc.QueueUser("kc-owner", victim, true)
		ownerSSO := x.env.Anon(t)
		joined := x.signIn(t, ownerSSO, "keycloak")
		require.Empty(t, joined.UserErrors)
		require.Equal(t, made.User.ID, joined.User.ID)
		require.Len(t, externalAccounts(t, ownerSSO), 2)

		owner := resetByMail(t, victim)
		accts := externalAccounts(t, owner)
		require.Len(t, accts, 1)
		require.Equal(t, "keycloak", accts[0].Provider)

		x.oidc.QueueUser("kc-owner", victim, true)
		back := x.signIn(t, x.env.Anon(t), "keycloak")
		require.Empty(t, back.UserErrors)
		require.Equal(t, made.User.ID, back.User.ID, "the verified identity still signs in to the account")
	})
}
