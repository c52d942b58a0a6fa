package graph_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

func codes(errs []apitest.UserError) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Code + ":" + strings.Join(e.Field, ".")
	}
	sort.Strings(out)
	return out
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestAccountRegister(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)

	t.Run("creates a customer, signs it in and normalises the email", func(t *testing.T) {
		c := srv.Client(t)
		email := apitest.UniqueEmail()
		p := c.Register("  "+strings.ToUpper(email)+" ", "correct horse battery")
		require.Empty(t, p.UserErrors)
		require.Equal(t, email, p.User.Email)
		require.Equal(t, "CUSTOMER", p.User.Role)
		require.NotEmpty(t, p.Tokens.AccessToken)
		require.NotEmpty(t, p.Tokens.RefreshToken)
		// The cookie jar now authenticates, as in a browser.
		require.Equal(t, email, c.Me().Email)
	})

	t.Run("reports every invalid field at once and creates nothing", func(t *testing.T) {
		c := srv.Client(t)
		var out struct {
			P apitest.Session `json:"accountRegister"`
		}
		c.Do(apitest.RegisterMutation, map[string]any{"input": map[string]any{
			"email": "not-an-email", "password": "short", "name": strings.Repeat("x", 101),
		}}).Decode(t, &out)
		require.Nil(t, out.P.User)
		require.Equal(t, []string{"INVALID:input.email", "INVALID:input.name", "PASSWORD_TOO_SHORT:input.password"}, codes(out.P.UserErrors))
		for _, e := range out.P.UserErrors {
			require.NotEmpty(t, e.Message)
		}
		var n int
		require.NoError(t, srv.App.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE email = 'not-an-email'").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("refuses an email that is taken, whatever its case", func(t *testing.T) {
		c := srv.Client(t)
		email := apitest.UniqueEmail()
		require.Empty(t, c.Register(email, "password-one").UserErrors)
		p := srv.Client(t).Register(strings.ToUpper(email), "password-two")
		require.Equal(t, []string{"EMAIL_TAKEN:input.email"}, codes(p.UserErrors))
		require.Nil(t, p.Tokens)
		// The first password still works: nothing was overwritten.
		require.Empty(t, srv.Client(t).Login(email, "password-one").UserErrors)
	})

	t.Run("rejects passwords longer than 128 characters", func(t *testing.T) {
		p := srv.Client(t).Register(apitest.UniqueEmail(), strings.Repeat("p", 129))
		require.Equal(t, []string{"INVALID:input.password"}, codes(p.UserErrors))
	})
}

func TestAccountLogin(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	email := apitest.UniqueEmail()
	require.Empty(t, srv.Client(t).Register(email, "the-right-password").UserErrors)

	t.Run("succeeds with the right password, case-insensitively on email", func(t *testing.T) {
		p := srv.Client(t).Login(strings.ToUpper(email), "the-right-password")
		require.Empty(t, p.UserErrors)
		require.Equal(t, email, p.User.Email)
	})

	t.Run("says the same thing for a wrong password and an unknown email", func(t *testing.T) {
		wrong := srv.Client(t).Login(email, "the-wrong-password")
		unknown := srv.Client(t).Login(apitest.UniqueEmail(), "the-right-password")
		require.Nil(t, wrong.User)
		require.Nil(t, wrong.Tokens)
		require.Equal(t, wrong.UserErrors, unknown.UserErrors)
		require.Equal(t, "INVALID_CREDENTIALS", wrong.UserErrors[0].Code)
		require.Empty(t, wrong.UserErrors[0].Field, "must not say which field was wrong")
	})

	t.Run("takes similar time for an unknown email as for a wrong password", func(t *testing.T) {
		// Not a speed target: without the dummy hash an unknown email answers ~50x faster.
		median := func(email string) time.Duration {
			var ds []time.Duration
			for range 5 {
				start := time.Now()
				srv.Client(t).Login(email, "the-wrong-password")
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		known, unknown := median(email), median(apitest.UniqueEmail())
		require.Greater(t, float64(unknown), 0.3*float64(known), "unknown %v vs known %v", unknown, known)
	})

	t.Run("sets HttpOnly SameSite=Lax cookies without Secure in development", func(t *testing.T) {
		c := srv.Client(t)
		resp := c.Do(apitest.LoginMutation, map[string]any{"input": map[string]any{"email": email, "password": "the-right-password"}})
		for _, name := range []string{"sg_access", "sg_refresh"} {
			ck := cookieNamed(resp.HTTP, name)
			require.NotNil(t, ck, name)
			require.True(t, ck.HttpOnly, name)
			require.Equal(t, http.SameSiteLaxMode, ck.SameSite, name)
			require.False(t, ck.Secure, name)
			require.Positive(t, ck.MaxAge, name)
		}
		require.Equal(t, "/graphql", cookieNamed(resp.HTTP, "sg_refresh").Path)
	})
}

func TestAccountCookiesSecureOutsideDevelopment(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{
		"APP_ENV":               "production",
		"JWT_SECRET":            strings.Repeat("s", 40),
		"STRIPE_SECRET_KEY":     "sk_test_123",
		"STRIPE_WEBHOOK_SECRET": "whsec_test_123",
	})
	c := srv.Client(t)
	var out struct {
		P apitest.Session `json:"accountRegister"`
	}
	resp := c.Do(apitest.RegisterMutation, map[string]any{"input": map[string]any{"email": apitest.UniqueEmail(), "password": "password-123"}})
	resp.Decode(t, &out)
	require.Empty(t, out.P.UserErrors)
	for _, name := range []string{"sg_access", "sg_refresh"} {
		ck := cookieNamed(resp.HTTP, name)
		require.NotNil(t, ck, name)
		require.True(t, ck.Secure, name)
		require.True(t, ck.HttpOnly, name)
	}
}

func TestAccountLoginRateLimit(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, redisURL string) {
		srv := apitest.NewServer(t, map[string]string{
			"REDIS_URL": redisURL, "LOGIN_ATTEMPTS_PER_EMAIL": "3", "LOGIN_ATTEMPTS_PER_IP": "8",
		})
		email := apitest.UniqueEmail()
		require.Empty(t, srv.Client(t).Register(email, "the-right-password").UserErrors)

		t.Run("per email: even the right password is refused after the limit", func(t *testing.T) {
			for range 3 {
				require.Equal(t, "INVALID_CREDENTIALS", srv.Client(t).Login(email, "wrong-password").UserErrors[0].Code)
			}
			p := srv.Client(t).Login(email, "the-right-password")
			require.Len(t, p.UserErrors, 1)
			require.Equal(t, "RATE_LIMITED", p.UserErrors[0].Code)
			require.Contains(t, p.UserErrors[0].Message, "seconds")
			require.Nil(t, p.Tokens)
		})

		t.Run("per IP: many emails from one address are refused after the limit", func(t *testing.T) {
			// 4 attempts were already made from this IP above; 4 more reach the limit of 8.
			for range 4 {
				require.Equal(t, "INVALID_CREDENTIALS", srv.Client(t).Login(apitest.UniqueEmail(), "x-password").UserErrors[0].Code)
			}
			require.Equal(t, "RATE_LIMITED", srv.Client(t).Login(apitest.UniqueEmail(), "x-password").UserErrors[0].Code)
		})
	}
	t.Run("in process", func(t *testing.T) { run(t, "") })
	t.Run("in Redis", func(t *testing.T) {
		url := apitest.RedisURL(t)
		if url == "" {
			t.Skip("no TEST_REDIS_URL: `make test` sets it when Redis answers on 127.0.0.1:6379")
		}
		run(t, url)
	})
}

// TestAccountLoginLockoutPerAddress: a guesser on one address spends the budget of its own
// (email, address) pair, not the owner's, so the owner still signs in from elsewhere; only
// guessing from many addresses reaches the per-email ceiling.
func TestAccountLoginLockoutPerAddress(t *testing.T) {
	t.Parallel()
	code := func(p apitest.Session) string {
		if len(p.UserErrors) == 0 {
			return ""
		}
		return p.UserErrors[0].Code
	}

	t.Run("defaults: ten wrong passwords from one address do not lock the owner out", func(t *testing.T) {
		srv := apitest.NewServer(t, nil)
		victim := apitest.UniqueEmail()
		require.Empty(t, srv.Client(t).Register(victim, "the-right-password").UserErrors)
		attacker := srv.ClientFrom(t, "127.0.0.2")
		for i := range 10 {
			require.Equal(t, "INVALID_CREDENTIALS", code(attacker.Login(victim, "guess-"+strconv.Itoa(i))), "attempt %d", i)
		}
		for range 20 {
			p := attacker.Login(victim, "the-right-password")
			require.Equal(t, "RATE_LIMITED", code(p), "the attacker's pair is spent, even for the right password")
			require.Nil(t, p.Tokens)
		}
		owner := srv.Client(t).Login(victim, "the-right-password")
		require.Empty(t, owner.UserErrors)
		require.NotNil(t, owner.Tokens)
	})

	run := func(t *testing.T, redisURL string) {
		srv := apitest.NewServer(t, map[string]string{
			"REDIS_URL":                   redisURL,
			"LOGIN_ATTEMPTS_PER_EMAIL_IP": "2",
			"LOGIN_ATTEMPTS_PER_EMAIL":    "5",
			"LOGIN_ATTEMPTS_PER_IP":       "4",
		})
		victim := apitest.UniqueEmail()
		require.Empty(t, srv.Client(t).Register(victim, "the-right-password").UserErrors)

		t.Run("an attacker's address exhausts its attempts; the owner on another still signs in", func(t *testing.T) {
			attacker := srv.ClientFrom(t, "127.0.0.2")
			for range 2 {
				require.Equal(t, "INVALID_CREDENTIALS", code(attacker.Login(victim, "wrong-password")))
			}
			for range 3 {
				require.Equal(t, "RATE_LIMITED", code(attacker.Login(victim, "wrong-password")))
			}
			require.Equal(t, "RATE_LIMITED", code(attacker.Login(victim, "the-right-password")))
			owner := srv.Client(t).Login(victim, "the-right-password")
			require.Empty(t, owner.UserErrors)
			require.NotNil(t, owner.Tokens)
		})

		t.Run("the per-email ceiling still stops guessing from many addresses", func(t *testing.T) {
			// Three attempts counted so far for the victim (two guesses and the owner's); the
			// ceiling is five, so the attackers' third guess is refused, however fresh its address.
			require.Equal(t, "INVALID_CREDENTIALS", code(srv.ClientFrom(t, "127.0.0.3").Login(victim, "wrong-password")))
			require.Equal(t, "INVALID_CREDENTIALS", code(srv.ClientFrom(t, "127.0.0.4").Login(victim, "wrong-password")))
			p := srv.ClientFrom(t, "127.0.0.5").Login(victim, "wrong-password")
			require.Equal(t, "RATE_LIMITED", code(p))
			require.Contains(t, p.UserErrors[0].Message, "seconds")
			require.Equal(t, "RATE_LIMITED", code(srv.Client(t).Login(victim, "the-right-password")), "the ceiling holds for everyone")
			require.Equal(t, "INVALID_CREDENTIALS", code(srv.Client(t).Login(apitest.UniqueEmail(), "wrong-password")), "other emails are untouched")
		})

		t.Run("the per-IP limit stays: many emails from one address are refused after it", func(t *testing.T) {
			sprayer := srv.ClientFrom(t, "127.0.0.6")
			for range 4 {
				require.Equal(t, "INVALID_CREDENTIALS", code(sprayer.Login(apitest.UniqueEmail(), "x-password")))
			}
			require.Equal(t, "RATE_LIMITED", code(sprayer.Login(apitest.UniqueEmail(), "x-password")))
			require.Equal(t, "INVALID_CREDENTIALS", code(srv.ClientFrom(t, "127.0.0.7").Login(apitest.UniqueEmail(), "x-password")), "another address is untouched")
		})
	}
	t.Run("in process", func(t *testing.T) { run(t, "") })
	t.Run("in Redis", func(t *testing.T) {
		url := apitest.RedisURL(t)
		if url == "" {
			t.Skip("no TEST_REDIS_URL: `make test` sets it when Redis answers on 127.0.0.1:6379")
		}
		run(t, url)
	})
}

func TestAccountTokenRefresh(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)

	t.Run("rotates: a new pair each time, the old token spent", func(t *testing.T) {
		c := srv.Client(t)
		first := c.Register(apitest.UniqueEmail(), "password-123")
		second := c.Refresh(first.Tokens.RefreshToken)
		require.Empty(t, second.UserErrors)
		require.NotEqual(t, first.Tokens.RefreshToken, second.Tokens.RefreshToken)
		third := c.Refresh(second.Tokens.RefreshToken)
		require.Empty(t, third.UserErrors)
		require.Equal(t, first.User.Email, third.User.Email)
	})

	t.Run("reuse of a spent token revokes the whole family", func(t *testing.T) {
		c := srv.Client(t)
		first := c.Register(apitest.UniqueEmail(), "password-123")
		second := c.Refresh(first.Tokens.RefreshToken)
		require.Empty(t, second.UserErrors)

		// An attacker replays the first token: refused, and the legitimate newer one dies too.
		replay := srv.Client(t).Refresh(first.Tokens.RefreshToken)
		require.Equal(t, []string{"INVALID_TOKEN:input.refreshToken"}, codes(replay.UserErrors))
		require.Nil(t, replay.Tokens)
		after := srv.Client(t).Refresh(second.Tokens.RefreshToken)
		require.Equal(t, "INVALID_TOKEN", after.UserErrors[0].Code)
	})

	t.Run("uses the refresh cookie when no token is given", func(t *testing.T) {
		c := srv.Client(t)
		c.Register(apitest.UniqueEmail(), "password-123")
		p := c.Refresh("")
		require.Empty(t, p.UserErrors)
		// The cookie was rotated too: refreshing again from the jar works.
		require.Empty(t, c.Refresh("").UserErrors)
	})

	t.Run("refuses unknown, empty and oversized tokens", func(t *testing.T) {
		for _, tok := range []string{"nope", strings.Repeat("a", 500)} {
			require.Equal(t, "INVALID_TOKEN", srv.Client(t).Refresh(tok).UserErrors[0].Code, tok)
		}
		require.Equal(t, "INVALID_TOKEN", srv.Client(t).Refresh("").UserErrors[0].Code)
	})

	t.Run("concurrent use of one token yields at most one new pair", func(t *testing.T) {
		c := srv.Client(t)
		first := c.Register(apitest.UniqueEmail(), "password-123")
		// The goroutines only report: a require there would end the goroutine, not the test,
		// and the loop below would wait for its result forever.
		type result struct {
			p   apitest.Session
			err error
		}
		results := make(chan result, 8)
		vars := map[string]any{"input": map[string]any{"refreshToken": first.Tokens.RefreshToken}}
		for range 8 {
			cl := srv.Client(t)
			go func() {
				var r result
				r.err = cl.TryPayload(apitest.RefreshMutation, vars, "accountTokenRefresh", &r.p)
				results <- r
			}()
		}
		ok := 0
		for range 8 {
			r := <-results
			require.NoError(t, r.err)
			if len(r.p.UserErrors) == 0 {
				ok++
			}
		}
		require.LessOrEqual(t, ok, 1)
	})
}

func TestAccountLogout(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	const logout = `mutation { accountLogout { user { email } userErrors { code } } }`

	t.Run("ends the session and clears the cookies", func(t *testing.T) {
		c := srv.Client(t)
		p := c.Register(apitest.UniqueEmail(), "password-123")
		resp := c.Do(logout, nil)
		require.Empty(t, resp.Errors)
		for _, name := range []string{"sg_access", "sg_refresh"} {
			ck := cookieNamed(resp.HTTP, name)
			require.NotNil(t, ck, name)
			require.Negative(t, ck.MaxAge, name)
		}
		require.Nil(t, c.Me(), "cookies are gone")
		require.Equal(t, "INVALID_TOKEN", srv.Client(t).Refresh(p.Tokens.RefreshToken).UserErrors[0].Code)
	})

	t.Run("needs a viewer", func(t *testing.T) {
		resp := srv.Client(t).Do(logout, nil)
		require.Equal(t, "UNAUTHENTICATED", resp.Code())
	})
}

func TestAccountPasswordChange(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	const change = `mutation Change($input: AccountPasswordChangeInput!) {
	  accountPasswordChange(input: $input) { user { email } userErrors { field code } } }`
	type payload struct {
		P struct {
			User       *apitest.User       `json:"user"`
			UserErrors []apitest.UserError `json:"userErrors"`
		} `json:"accountPasswordChange"`
	}
	email := apitest.UniqueEmail()
	phone := srv.Client(t)
	phoneSession := phone.Register(email, "old-password")
	laptop := srv.Client(t)
	laptopSession := laptop.Login(email, "old-password")
	laptop.Bearer = laptopSession.Tokens.AccessToken

	t.Run("refuses a wrong current password and changes nothing", func(t *testing.T) {
		var out payload
		laptop.Do(change, map[string]any{"input": map[string]any{"currentPassword": "nope-nope", "newPassword": "new-password"}}).Decode(t, &out)
		require.Equal(t, []string{"WRONG_PASSWORD:input.currentPassword"}, codes(out.P.UserErrors))
		require.Empty(t, srv.Client(t).Login(email, "old-password").UserErrors)
	})

	t.Run("refuses an invalid or unchanged new password", func(t *testing.T) {
		var out payload
		laptop.Do(change, map[string]any{"input": map[string]any{"currentPassword": "old-password", "newPassword": "short"}}).Decode(t, &out)
		require.Equal(t, []string{"PASSWORD_TOO_SHORT:input.newPassword"}, codes(out.P.UserErrors))
		laptop.Do(change, map[string]any{"input": map[string]any{"currentPassword": "old-password", "newPassword": "old-password"}}).Decode(t, &out)
		require.Equal(t, []string{"UNCHANGED:input.newPassword"}, codes(out.P.UserErrors))
	})

	t.Run("changes it and revokes every other session", func(t *testing.T) {
		var out payload
		laptop.Do(change, map[string]any{"input": map[string]any{"currentPassword": "old-password", "newPassword": "new-password"}}).Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.Equal(t, email, out.P.User.Email)

		require.Equal(t, "INVALID_TOKEN", srv.Client(t).Refresh(phoneSession.Tokens.RefreshToken).UserErrors[0].Code, "other session revoked")
		require.Empty(t, srv.Client(t).Refresh(laptopSession.Tokens.RefreshToken).UserErrors, "own session kept")
		require.Equal(t, "INVALID_CREDENTIALS", srv.Client(t).Login(email, "old-password").UserErrors[0].Code)
		require.Empty(t, srv.Client(t).Login(email, "new-password").UserErrors)
	})

	t.Run("needs a viewer", func(t *testing.T) {
		resp := srv.Client(t).Do(change, map[string]any{"input": map[string]any{"currentPassword": "a", "newPassword": "b"}})
		require.Equal(t, "UNAUTHENTICATED", resp.Code())
	})
}

func TestDirectives(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	ctx := context.Background()
	admin, err := srv.App.Accounts.EnsureAdmin(ctx, apitest.UniqueEmail(), "admin-password")
	require.NoError(t, err)
	adminClient := srv.Client(t)
	adminClient.Bearer = adminClient.Login(admin.Email, "admin-password").Tokens.AccessToken
	customer := srv.Client(t)
	cust := customer.Register(apitest.UniqueEmail(), "password-123")
	const userQuery = `query U($id: ID!) { user(id: $id) { email role } }`
	const roleUpdate = `mutation R($input: AccountRoleUpdateInput!) { accountRoleUpdate(input: $input) { user { email role } userErrors { field code } } }`

	t.Run("anonymous: UNAUTHENTICATED", func(t *testing.T) {
		resp := srv.Client(t).Do(userQuery, map[string]any{"id": cust.User.ID})
		require.Equal(t, "UNAUTHENTICATED", resp.Code())
		require.JSONEq(t, `{"user": null}`, string(resp.Data))
	})

	t.Run("a bad or forged token: UNAUTHENTICATED", func(t *testing.T) {
		forged := srv.Client(t)
		// Same claims, signed with another secret.
		parts := strings.Split(cust.Tokens.AccessToken, ".")
		forged.Bearer = parts[0] + "." + parts[1] + ".c2lnbmF0dXJl"
		require.Equal(t, "UNAUTHENTICATED", forged.Do(userQuery, map[string]any{"id": cust.User.ID}).Code())
		// alg=none is refused.
		forged.Bearer = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."
		require.Equal(t, "UNAUTHENTICATED", forged.Do(userQuery, map[string]any{"id": cust.User.ID}).Code())
		require.Nil(t, forged.Me(), "public fields still answer, anonymously")
	})

	t.Run("wrong role: FORBIDDEN", func(t *testing.T) {
		resp := customer.Do(userQuery, map[string]any{"id": cust.User.ID})
		require.Equal(t, "FORBIDDEN", resp.Code())
		resp = customer.Do(roleUpdate, map[string]any{"input": map[string]any{"id": cust.User.ID, "role": "ADMIN"}})
		require.Equal(t, "FORBIDDEN", resp.Code())
		require.Equal(t, "CUSTOMER", customer.Me().Role, "nothing changed")
	})

	t.Run("right role: allowed", func(t *testing.T) {
		var out struct {
			User apitest.User `json:"user"`
		}
		adminClient.Do(userQuery, map[string]any{"id": cust.User.ID}).Decode(t, &out)
		require.Equal(t, cust.User.Email, out.User.Email)

		var upd struct {
			P struct {
				User       apitest.User        `json:"user"`
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"accountRoleUpdate"`
		}
		adminClient.Do(roleUpdate, map[string]any{"input": map[string]any{"id": cust.User.ID, "role": "VENDOR"}}).Decode(t, &upd)
		require.Empty(t, upd.P.UserErrors)
		require.Equal(t, "VENDOR", upd.P.User.Role)
	})

	t.Run("admin input errors are userErrors", func(t *testing.T) {
		var upd struct {
			P struct {
				UserErrors []apitest.UserError `json:"userErrors"`
			} `json:"accountRoleUpdate"`
		}
		adminClient.Do(roleUpdate, map[string]any{"input": map[string]any{"id": "garbage", "role": "VENDOR"}}).Decode(t, &upd)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, codes(upd.P.UserErrors))
		adminClient.Do(roleUpdate, map[string]any{"input": map[string]any{"id": admin.ID, "role": "CUSTOMER"}})
		adminClient.Do(roleUpdate, map[string]any{"input": map[string]any{"id": apitest.GlobalID("User", admin.ID), "role": "CUSTOMER"}}).Decode(t, &upd)
		require.Equal(t, []string{"INVALID:input.id"}, codes(upd.P.UserErrors), "an admin cannot demote itself")
	})
}

func TestMeAndNode(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	a := srv.Client(t)
	pa := a.Register(apitest.UniqueEmail(), "password-123")
	b := srv.Client(t)
	pb := b.Register(apitest.UniqueEmail(), "password-123")
	const node = `query N($id: ID!) { node(id: $id) { id ... on User { email } } }`

	t.Run("me is null when anonymous, the account otherwise (cookie or bearer)", func(t *testing.T) {
		require.Nil(t, srv.Client(t).Me())
		require.Equal(t, pa.User.Email, a.Me().Email)
		mobile := srv.Client(t)
		mobile.Bearer = pa.Tokens.AccessToken
		require.Equal(t, pa.User.Email, mobile.Me().Email)
	})

	t.Run("node returns one's own account, null for another's or a malformed id", func(t *testing.T) {
		var out struct {
			Node *apitest.User `json:"node"`
		}
		a.Do(node, map[string]any{"id": pa.User.ID}).Decode(t, &out)
		require.Equal(t, pa.User.Email, out.Node.Email)
		for _, id := range []string{pb.User.ID, "!!!", "", apitest.EncodeID("User:abc"), apitest.EncodeID("Nope:1")} {
			out.Node = nil
			a.Do(node, map[string]any{"id": id}).Decode(t, &out)
			require.Nil(t, out.Node, id)
		}
	})
}

func TestCSRFGuard(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	c := srv.Client(t)
	c.Register(apitest.UniqueEmail(), "password-123")

	t.Run("a cookie-authenticated non-JSON POST is refused before anything runs", func(t *testing.T) {
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
			resp := c.Post(ct, []byte(`{"query":"mutation { accountLogout { userErrors { code } } }"}`))
			require.Equal(t, http.StatusForbidden, resp.HTTP.StatusCode, ct)
			require.Equal(t, "FORBIDDEN", resp.Code(), ct)
		}
		require.NotNil(t, c.Me(), "still signed in: the logout never ran")
	})

	t.Run("GET never runs a mutation", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/graphql?query="+
			"mutation%20%7B%20accountLogout%20%7B%20userErrors%20%7B%20code%20%7D%20%7D%20%7D", nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/json")
		resp, err := c.HTTP.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.NotEqual(t, http.StatusOK, resp.StatusCode)
		require.NotNil(t, c.Me(), "still signed in")
	})
}

func TestHealthEndpoints(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}
	broken := apitest.NewServer(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"})
	resp, err := http.Get(broken.URL + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "readyz names a dead Redis")
}
