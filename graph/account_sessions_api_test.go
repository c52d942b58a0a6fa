package graph_test

// The sessions a person can see and end (me.sessions, accountSessionRevoke, accountLogoutAll),
// and that a revoked session's access tokens stop working within seconds on every instance.

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/app"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

const (
	sessionsQuery    = `query { me { id sessions { id createdAt lastUsedAt userAgent ip current } } }`
	sessionRevokeMut = `mutation R($input: AccountSessionRevokeInput!) {
	  accountSessionRevoke(input: $input) { session { id userAgent current } userErrors { field message code } } }`
	logoutAllMut = `mutation { accountLogoutAll { user { email } sessionsRevoked userErrors { code } } }`
	// ordersProbe needs a viewer: a refused token answers UNAUTHENTICATED.
	ordersProbe = `orders(first: 1) { edges { node { id } } }`
)

type sessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"createdAt"`
	LastUsedAt time.Time `json:"lastUsedAt"`
	UserAgent  string    `json:"userAgent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// deviceSession is one sign-in of a test's: the client signed in with its own User-Agent
// (cookies and bearer), and its tokens.
type deviceSession struct {
	client  *apitest.Client
	access  string
	refresh string
}

// signInOn signs email in on srv as a device named agent.
func signInOn(t *testing.T, srv *apitest.Server, email, agent string) deviceSession {
	t.Helper()
	c := srv.Client(t)
	c.Header.Set("User-Agent", agent)
	s := c.Login(email, apitest.Password)
	require.Empty(t, s.UserErrors)
	c.Bearer = s.Tokens.AccessToken
	return deviceSession{client: c, access: s.Tokens.AccessToken, refresh: s.Tokens.RefreshToken}
}

// registerOn registers a new account on srv as a device named agent.
func registerOn(t *testing.T, srv *apitest.Server, agent string) (deviceSession, string) {
	t.Helper()
	c := srv.Client(t)
	c.Header.Set("User-Agent", agent)
	email := apitest.UniqueEmail()
	s := c.Register(email, apitest.Password)
	require.Empty(t, s.UserErrors)
	c.Bearer = s.Tokens.AccessToken
	return deviceSession{client: c, access: s.Tokens.AccessToken, refresh: s.Tokens.RefreshToken}, email
}

// mySessions is the viewer's sessions by user agent.
func mySessions(t *testing.T, c *apitest.Client) map[string]sessionView {
	t.Helper()
	var out struct {
		Me *struct {
			Sessions []sessionView `json:"sessions"`
		} `json:"me"`
	}
	c.As(t).Do(sessionsQuery, nil).Decode(t, &out)
	require.NotNil(t, out.Me)
	require.NotNil(t, out.Me.Sessions, "the viewer's own sessions are never null")
	byAgent := map[string]sessionView{}
	for _, s := range out.Me.Sessions {
		byAgent[s.UserAgent] = s
	}
	require.Len(t, byAgent, len(out.Me.Sessions))
	return byAgent
}

type sessionRevokeView struct {
	Session *struct {
		ID        string `json:"id"`
		UserAgent string `json:"userAgent"`
		Current   bool   `json:"current"`
	} `json:"session"`
	UserErrors []apitest.UserError `json:"userErrors"`
}

func revokeSession(t *testing.T, c *apitest.Client, id string) (sessionRevokeView, *apitest.Response) {
	t.Helper()
	var out struct {
		P sessionRevokeView `json:"accountSessionRevoke"`
	}
	resp := c.As(t).Do(sessionRevokeMut, map[string]any{"input": map[string]any{"id": id}})
	resp.Decode(t, &out)
	require.NotNil(t, out.P.UserErrors, "userErrors is never null")
	return out.P, resp
}

// tokenWorks reports whether srv accepts access token alone (no cookies): in one request, a
// field that needs a viewer answers and me is the viewer; a refused token is UNAUTHENTICATED,
// as an expired one is.
func tokenWorks(t *testing.T, srv *apitest.Server, token string) bool {
	t.Helper()
	c := srv.Client(t)
	c.Bearer = token
	resp := c.Do(`query { me { id } `+ordersProbe+` }`, nil)
	if resp.Code() == "UNAUTHENTICATED" {
		return false
	}
	var out struct {
		Me *struct {
			ID string `json:"id"`
		} `json:"me"`
	}
	resp.Decode(t, &out)
	require.NotNil(t, out.Me)
	return true
}

// tokenAccepted reports whether srv accepts access token alone: a field that needs a viewer
// answers rather than UNAUTHENTICATED. Unlike tokenWorks it needs no account behind the token
// (a deleted account's token, if accepted, has a viewer but no me).
func tokenAccepted(t *testing.T, srv *apitest.Server, token string) bool {
	t.Helper()
	c := srv.Client(t)
	c.Bearer = token
	resp := c.Do(`query { `+ordersProbe+` }`, nil)
	if resp.Code() == "UNAUTHENTICATED" {
		return false
	}
	require.Empty(t, resp.Errors)
	return true
}

// requireUnauthenticatedWithin is requireRefusedWithin by tokenAccepted.
func requireUnauthenticatedWithin(t *testing.T, srv *apitest.Server, token string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for tokenAccepted(t, srv, token) {
		require.Less(t, time.Since(start), within, "the deleted account's access token still works")
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// requireRefusedWithin waits until srv refuses token, failing after within; it returns how
// long that took.
func requireRefusedWithin(t *testing.T, srv *apitest.Server, token string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for tokenWorks(t, srv, token) {
		require.Less(t, time.Since(start), within, "the revoked session's access token still works")
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func TestAccountSessions(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)

	phone, email := registerOn(t, srv, "phone")
	laptop := signInOn(t, srv, email, "laptop")
	tablet := signInOn(t, srv, email, "tablet")
	stranger, _ := registerOn(t, srv, "stranger's browser")

	t.Run("the viewer lists its own live sessions, the current one marked", func(t *testing.T) {
		got := mySessions(t, laptop.client)
		require.ElementsMatch(t, []string{"phone", "laptop", "tablet"}, sessionAgents(got))
		for agent, s := range got {
			require.Equal(t, agent == "laptop", s.Current, agent)
			require.Equal(t, "127.0.0.1", s.IP, agent)
			require.NotEmpty(t, s.ID, agent)
			require.False(t, s.CreatedAt.IsZero(), agent)
			require.False(t, s.LastUsedAt.Before(s.CreatedAt), agent)
		}
		require.True(t, mySessions(t, phone.client)["phone"].Current)
	})

	t.Run("another account's sessions are never visible", func(t *testing.T) {
		require.Equal(t, []string{"stranger's browser"}, sessionAgents(mySessions(t, stranger.client)))

		// Not to an admin through user(id), and not through node(id).
		var me struct {
			Me struct {
				ID string `json:"id"`
			} `json:"me"`
		}
		laptop.client.As(t).Do(apitest.MeQuery, nil).Decode(t, &me)
		e := apitest.EnvOn(t, srv)
		var byAdmin struct {
			User *struct {
				Sessions []sessionView `json:"sessions"`
			} `json:"user"`
		}
		e.Admin.Do(`query U($id: ID!) { user(id: $id) { sessions { id } } }`, map[string]any{"id": me.Me.ID}).Decode(t, &byAdmin)
		require.NotNil(t, byAdmin.User)
		require.Nil(t, byAdmin.User.Sessions, "an admin does not see another account's sessions")

		const nodeQuery = `query N($id: ID!) { node(id: $id) { id ... on AccountSession { userAgent current } } }`
		phoneID := mySessions(t, laptop.client)["phone"].ID
		var node struct {
			Node *struct {
				ID        string `json:"id"`
				UserAgent string `json:"userAgent"`
				Current   bool   `json:"current"`
			} `json:"node"`
		}
		laptop.client.As(t).Do(nodeQuery, map[string]any{"id": phoneID}).Decode(t, &node)
		require.NotNil(t, node.Node, "its owner fetches a session by node(id)")
		require.Equal(t, "phone", node.Node.UserAgent)
		require.False(t, node.Node.Current)
		for name, c := range map[string]*apitest.Client{"stranger": stranger.client, "admin": e.Admin, "anonymous": srv.Client(t)} {
			node.Node = nil
			c.As(t).Do(nodeQuery, map[string]any{"id": phoneID}).Decode(t, &node)
			require.Nil(t, node.Node, name)
		}
	})

	t.Run("lastUsedAt moves on a refresh", func(t *testing.T) {
		_, err := srv.App.DB.Pool.Exec(context.Background(),
			`UPDATE sessions SET last_used_at = now() - interval '1 hour' WHERE user_agent = 'tablet' AND user_id = (SELECT id FROM users WHERE email = $1)`, email)
		require.NoError(t, err)
		before := mySessions(t, laptop.client)["tablet"].LastUsedAt
		require.WithinDuration(t, time.Now().Add(-time.Hour), before, time.Minute)
		s := tablet.client.Refresh(tablet.refresh)
		require.Empty(t, s.UserErrors)
		tablet.access, tablet.refresh, tablet.client.Bearer = s.Tokens.AccessToken, s.Tokens.RefreshToken, s.Tokens.AccessToken
		require.WithinDuration(t, time.Now(), mySessions(t, laptop.client)["tablet"].LastUsedAt, time.Minute)
	})

	t.Run("someone else's session: NOT_FOUND, and nothing changes", func(t *testing.T) {
		strangerID := mySessions(t, stranger.client)["stranger's browser"].ID
		p, _ := revokeSession(t, laptop.client, strangerID)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, vendorCodes(p.UserErrors))
		require.Nil(t, p.Session)
		require.Contains(t, mySessions(t, stranger.client), "stranger's browser")
		require.True(t, tokenWorks(t, srv, stranger.access))
		require.Empty(t, srv.Client(t).Refresh(stranger.refresh).UserErrors, "its refresh token still works")

		for _, bad := range []string{"nope", apitest.MeQuery, mySessions(t, laptop.client)["phone"].ID + "x"} {
			p, _ := revokeSession(t, laptop.client, bad)
			require.Equal(t, []string{"NOT_FOUND:input.id"}, vendorCodes(p.UserErrors), bad)
		}
	})

	t.Run("revoking one of its own ends it: refresh at once, access token at once here", func(t *testing.T) {
		phoneID := mySessions(t, laptop.client)["phone"].ID
		require.True(t, tokenWorks(t, srv, phone.access))
		p, resp := revokeSession(t, laptop.client, phoneID)
		require.Empty(t, p.UserErrors)
		require.NotNil(t, p.Session)
		require.Equal(t, phoneID, p.Session.ID)
		require.Equal(t, "phone", p.Session.UserAgent)
		require.False(t, p.Session.Current)
		require.Nil(t, cookieNamed(resp.HTTP, "sg_access"), "another session's revocation leaves the viewer's cookies")

		require.False(t, tokenWorks(t, srv, phone.access), "the revoking instance refuses it immediately")
		require.Equal(t, "INVALID_TOKEN", srv.Client(t).Refresh(phone.refresh).UserErrors[0].Code)
		require.ElementsMatch(t, []string{"laptop", "tablet"}, sessionAgents(mySessions(t, laptop.client)))
		require.True(t, tokenWorks(t, srv, laptop.access))

		again, _ := revokeSession(t, laptop.client, phoneID)
		require.Equal(t, []string{"NOT_FOUND:input.id"}, vendorCodes(again.UserErrors), "an ended session is not found")
	})

	t.Run("revoking the current session clears the cookies", func(t *testing.T) {
		tabletID := mySessions(t, tablet.client)["tablet"].ID
		p, resp := revokeSession(t, tablet.client, tabletID)
		require.Empty(t, p.UserErrors)
		require.True(t, p.Session.Current)
		for _, name := range []string{"sg_access", "sg_refresh"} {
			ck := cookieNamed(resp.HTTP, name)
			require.NotNil(t, ck, name)
			require.Negative(t, ck.MaxAge, name)
		}
		require.False(t, tokenWorks(t, srv, tablet.access))
	})

	t.Run("accountLogoutAll ends every session, the current one included", func(t *testing.T) {
		desk := signInOn(t, srv, email, "desk")
		require.ElementsMatch(t, []string{"laptop", "desk"}, sessionAgents(mySessions(t, laptop.client)))
		var out struct {
			P struct {
				User *struct {
					Email string `json:"email"`
				} `json:"user"`
				SessionsRevoked int                 `json:"sessionsRevoked"`
				UserErrors      []apitest.UserError `json:"userErrors"`
			} `json:"accountLogoutAll"`
		}
		resp := laptop.client.As(t).Do(logoutAllMut, nil)
		resp.Decode(t, &out)
		require.Empty(t, out.P.UserErrors)
		require.NotNil(t, out.P.UserErrors)
		require.Equal(t, email, out.P.User.Email)
		require.Equal(t, 2, out.P.SessionsRevoked)
		for _, name := range []string{"sg_access", "sg_refresh"} {
			ck := cookieNamed(resp.HTTP, name)
			require.NotNil(t, ck, name)
			require.Negative(t, ck.MaxAge, name)
		}
		for name, d := range map[string]deviceSession{"laptop": laptop, "desk": desk} {
			require.False(t, tokenWorks(t, srv, d.access), name)
			require.Equal(t, "INVALID_TOKEN", srv.Client(t).Refresh(d.refresh).UserErrors[0].Code, name)
		}
		require.True(t, tokenWorks(t, srv, stranger.access), "another account's sessions are untouched")
		fresh := signInOn(t, srv, email, "fresh")
		require.Equal(t, []string{"fresh"}, sessionAgents(mySessions(t, fresh.client)))
	})

	t.Run("needs a viewer", func(t *testing.T) {
		anon := srv.Client(t)
		require.Equal(t, "UNAUTHENTICATED", anon.Do(logoutAllMut, nil).Code())
		require.Equal(t, "UNAUTHENTICATED", anon.Do(sessionRevokeMut, map[string]any{"input": map[string]any{"id": "x"}}).Code())
		require.Equal(t, "UNAUTHENTICATED", srv.Client(t).As(t).Do(logoutAllMut, nil).Code())
	})
}

func sessionAgents[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// newInstanceSharing starts another instance on first's database, with Redis at redisURL
// ("": none, polling only).
func newInstanceSharing(t *testing.T, first *apitest.Server, redisURL string) *apitest.Server {
	t.Helper()
	vars := map[string]string{
		"APP_ENV":          "test",
		"DATABASE_URL":     first.App.Config.DatabaseURL,
		"REDIS_URL":        redisURL,
		"REDIS_KEY_PREFIX": first.App.Config.RedisKeyPrefix,
		"LOG_LEVEL":        "warn",
		"STRIPE_API_BASE":  apitest.StripeURL(),
		"REQUEST_TIMEOUT":  "2m",
		// These instances answer a few requests each; a small pool keeps the test, which runs
		// up to five instances at once, under the suite's cap of PostgreSQL connections.
		"DB_MAX_CONNS": "2",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)
	logs := &apitest.LockedWriter{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	counter := &postgres.StatementCounter{}
	a, err := app.Open(context.Background(), cfg, log, app.Options{Tracer: counter, PollOnly: true})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		if t.Failed() {
			t.Logf("second instance's log:\n%s", logs.String())
		}
	})
	return &apitest.Server{Server: srv, App: a, Statements: counter, Logs: logs}
}

// TestSessionRevocationAcrossInstances: a logout, a revocation or a removal from a vendor on
// one instance makes the session's access token fail on another within seconds: at once
// through Redis, within the poll interval when the message is lost (an instance without
// Redis), and at the start of an instance started after it.
//
// Not parallel: with its instances' pools it holds more PostgreSQL connections than any other
// test, so it runs while no other test of the package does.
func TestSessionRevocationAcrossInstances(t *testing.T) {
	redisURL := apitest.RedisURL(t)
	if redisURL == "" {
		t.Skip("TEST_REDIS_URL is not set: two instances need a shared Redis")
	}
	a, b := newTwinServers(t, redisURL)
	withoutRedis := newInstanceSharing(t, a, "")
	waitRedisSubscribers(t, a, 2)

	t.Run("logout on A: the token fails on B within a second (Redis), and on an instance without Redis within the poll", func(t *testing.T) {
		dev, _ := registerOn(t, a, "phone")
		// Verified (and remembered) on every instance first: the remembered token is refused too.
		for name, srv := range map[string]*apitest.Server{"A": a, "B": b, "without Redis": withoutRedis} {
			require.True(t, tokenWorks(t, srv, dev.access), name)
		}
		resp := dev.client.As(t).Do(`mutation { accountLogout { userErrors { code } } }`, nil)
		require.Empty(t, resp.Errors)
		onB := requireRefusedWithin(t, b, dev.access, time.Second)
		polled := requireRefusedWithin(t, withoutRedis, dev.access, 2*time.Second+time.Second)
		require.False(t, tokenWorks(t, a, dev.access))
		t.Logf("refused on B after %s, on the instance without Redis after %s more", onB.Round(time.Millisecond), polled.Round(time.Millisecond))
	})

	t.Run("revocation on the instance without Redis: A and B learn it by polling", func(t *testing.T) {
		phone, email := registerOn(t, a, "phone")
		laptop := signInOn(t, withoutRedis, email, "laptop")
		require.True(t, tokenWorks(t, b, phone.access))
		p, _ := revokeSession(t, laptop.client, mySessions(t, laptop.client)["phone"].ID)
		require.Empty(t, p.UserErrors)
		require.False(t, tokenWorks(t, withoutRedis, phone.access), "at once where it was revoked")
		requireRefusedWithin(t, a, phone.access, 3*time.Second)
		requireRefusedWithin(t, b, phone.access, 3*time.Second)
		require.True(t, tokenWorks(t, b, laptop.access), "the other session keeps working")
	})

	t.Run("accountLogoutAll on B ends every session's tokens on A", func(t *testing.T) {
		phone, email := registerOn(t, a, "phone")
		laptop := signInOn(t, b, email, "laptop")
		require.True(t, tokenWorks(t, a, phone.access))
		require.True(t, tokenWorks(t, a, laptop.access))
		laptop.client.As(t).Do(logoutAllMut, nil).Decode(t, &struct{}{})
		requireRefusedWithin(t, a, phone.access, time.Second)
		requireRefusedWithin(t, a, laptop.access, time.Second)
	})

	t.Run("a vendor member removed on A: its token fails on B within seconds", func(t *testing.T) {
		e := apitest.EnvOn(t, a)
		member, u := e.RegisterVendor(t, "Sessions Vendor")
		require.True(t, tokenWorks(t, b, member.Bearer))
		p := memberMutate(t, e.Admin, vendorMemberRmMut, "vendorMemberRemove", map[string]any{"vendorId": u.VendorID, "userId": u.ID})
		require.Empty(t, p.UserErrors)
		took := requireRefusedWithin(t, b, member.Bearer, time.Second)
		requireRefusedWithin(t, withoutRedis, member.Bearer, 3*time.Second)
		require.False(t, tokenWorks(t, a, member.Bearer))
		t.Logf("the removed member's token refused on B after %s", took.Round(time.Millisecond))
	})

	t.Run("a password change on A ends the other sessions' tokens on B", func(t *testing.T) {
		phone, email := registerOn(t, a, "phone")
		laptop := signInOn(t, a, email, "laptop")
		require.True(t, tokenWorks(t, b, phone.access))
		resp := laptop.client.As(t).Do(`mutation C($input: AccountPasswordChangeInput!) { accountPasswordChange(input: $input) { userErrors { code } } }`,
			map[string]any{"input": map[string]any{"currentPassword": apitest.Password, "newPassword": "another-password"}})
		require.Empty(t, resp.Errors)
		requireRefusedWithin(t, b, phone.access, time.Second)
		require.True(t, tokenWorks(t, b, laptop.access), "the changing session keeps working")
	})

	t.Run("accountDelete on A: the account's tokens fail on B within a second, and on an instance without Redis within the poll", func(t *testing.T) {
		phone, email := registerOn(t, a, "phone")
		laptop := signInOn(t, b, email, "laptop")
		for name, srv := range map[string]*apitest.Server{"A": a, "B": b, "without Redis": withoutRedis} {
			require.True(t, tokenWorks(t, srv, phone.access), name)
			require.True(t, tokenWorks(t, srv, laptop.access), name)
		}
		p := profileMutate(t, phone.client, deleteMutation, "accountDelete", map[string]any{"password": apitest.Password})
		require.Empty(t, p.UserErrors)
		require.NotNil(t, p.DeletedUserID)
		// The sessions went with the users row (ON DELETE CASCADE): no revoked_at to poll for.
		var left int
		require.NoError(t, a.App.DB.Pool.QueryRow(context.Background(),
			`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1`, email).Scan(&left))
		require.Zero(t, left)
		for name, d := range map[string]deviceSession{"phone": phone, "laptop": laptop} {
			require.False(t, tokenAccepted(t, a, d.access), "%s: at once on the deleting instance", name)
			onB := requireUnauthenticatedWithin(t, b, d.access, time.Second)
			polled := requireUnauthenticatedWithin(t, withoutRedis, d.access, 2*time.Second+time.Second)
			t.Logf("%s's token refused on B after %s, on the instance without Redis after %s more", name, onB.Round(time.Millisecond), polled.Round(time.Millisecond))
		}
		require.False(t, tokenAccepted(t, newInstanceSharing(t, a, ""), phone.access), "an instance started after the deletion refuses it from the start")
	})

	t.Run("a password reset on A ends the account's tokens on B", func(t *testing.T) {
		phone, email := registerOn(t, a, "phone")
		laptop := signInOn(t, b, email, "laptop")
		require.True(t, tokenWorks(t, b, phone.access))
		require.True(t, tokenWorks(t, b, laptop.access))
		// The link's token, as the reset email would carry it (these instances send no email;
		// account_tokens keeps its SHA-256).
		resetToken := "reset-" + uuid.NewString()
		_, err := a.App.DB.Pool.Exec(context.Background(), `INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at)
			SELECT id, 'reset_password', sha256($2::bytea), now() + interval '1 hour' FROM users WHERE email = $1`, email, []byte(resetToken))
		require.NoError(t, err)
		p := profileMutate(t, a.Client(t), resetMutation, "accountPasswordReset", map[string]any{"token": resetToken, "newPassword": "a-brand-new-password"})
		require.Empty(t, p.UserErrors)
		took := requireRefusedWithin(t, b, phone.access, time.Second)
		requireRefusedWithin(t, b, laptop.access, time.Second)
		requireRefusedWithin(t, withoutRedis, laptop.access, 3*time.Second)
		t.Logf("refused on B after %s", took.Round(time.Millisecond))
	})

	t.Run("an instance started after a revocation refuses its token from the start", func(t *testing.T) {
		dev, _ := registerOn(t, a, "phone")
		dev.client.As(t).Do(`mutation { accountLogout { userErrors { code } } }`, nil).Decode(t, &struct{}{})
		late := newInstanceSharing(t, a, "")
		require.False(t, tokenWorks(t, late, dev.access))
	})
}
