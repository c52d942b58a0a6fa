package account_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/ratelimit"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d      *postgres.DB
	svc    *account.Service
	tokens *auth.Tokens
}

const password = "correct horse battery"

func setup(t *testing.T, limits account.LoginLimits) testBundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 3})
	tokens := auth.NewTokens("test-secret-test-secret-test-secret", time.Now)
	svc := account.NewService(d, tokens, ratelimit.NewMemory(time.Now), limits, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return testBundle{d: d, svc: svc, tokens: tokens}
}

// register signs up a new customer with password.
func (b testBundle) register(t *testing.T, email string) account.Session {
	t.Helper()
	s, err := b.svc.Register(context.Background(), account.RegisterInput{Email: email, Password: password, Name: "Ada"}, account.ClientMeta{IP: "10.0.0.1"})
	require.NoError(t, err)
	return s
}

// viewer is the viewer of a session's access token.
func (b testBundle) viewer(t *testing.T, s account.Session) auth.Viewer {
	t.Helper()
	v, err := b.tokens.Verify(s.AccessToken)
	require.NoError(t, err)
	return v
}

func (b testBundle) active(t *testing.T, s account.Session) bool {
	t.Helper()
	ok, err := b.svc.SessionActive(context.Background(), b.viewer(t, s).SessionID)
	require.NoError(t, err)
	return ok
}

func TestRegister(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	ctx := context.Background()

	s, err := b.svc.Register(ctx, account.RegisterInput{Email: "  Ada@Example.COM ", Password: password, Name: "Ada"}, account.ClientMeta{IP: "10.0.0.1", UserAgent: "test"})
	require.NoError(t, err)
	require.Equal(t, "ada@example.com", s.User.Email, "emails are normalised")
	require.Equal(t, auth.RoleCustomer, s.User.Role)
	require.NotEmpty(t, s.RefreshToken)
	require.WithinDuration(t, time.Now().Add(account.SessionTTL), s.ExpiresAt, time.Minute)
	v := b.viewer(t, s)
	require.Equal(t, s.User.ID, v.UserID)
	require.Equal(t, auth.RoleCustomer, v.Role)
	require.True(t, b.active(t, s))
	got, err := b.svc.Get(ctx, s.User.ID)
	require.NoError(t, err)
	require.Equal(t, s.User, got)

	for _, tc := range []struct {
		name   string
		in     account.RegisterInput
		codes  []apperr.Code
		fields []string
	}{
		{"a taken email, in another case", account.RegisterInput{Email: "ADA@example.com", Password: password},
			[]apperr.Code{apperr.EmailTaken}, []string{"input.email"}},
		{"every field wrong at once", account.RegisterInput{Email: "not-an-email", Password: "short", Name: strings.Repeat("n", 101)},
			[]apperr.Code{apperr.Invalid, apperr.PasswordTooShort, apperr.Invalid}, []string{"input.email", "input.password", "input.name"}},
		{"no email", account.RegisterInput{Password: password}, []apperr.Code{apperr.Invalid}, []string{"input.email"}},
		{"an email with a display name", account.RegisterInput{Email: "Ada <ada2@example.com>", Password: password}, []apperr.Code{apperr.Invalid}, []string{"input.email"}},
		{"an email without a dotted domain", account.RegisterInput{Email: "ada@localhost", Password: password}, []apperr.Code{apperr.Invalid}, []string{"input.email"}},
		{"an email over 254 bytes", account.RegisterInput{Email: strings.Repeat("a", 250) + "@x.io", Password: password}, []apperr.Code{apperr.Invalid}, []string{"input.email"}},
		{"a password over 128 characters", account.RegisterInput{Email: "long@example.com", Password: strings.Repeat("p", 129)}, []apperr.Code{apperr.Invalid}, []string{"input.password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users := tf.Count(t, b.d, "users", "")
			sessions := tf.Count(t, b.d, "sessions", "")
			_, err := b.svc.Register(ctx, tc.in, account.ClientMeta{})
			require.Equal(t, tc.codes, tf.Codes(err), "%v", err)
			require.Equal(t, tc.fields, tf.Fields(err))
			require.Equal(t, users, tf.Count(t, b.d, "users", ""), "nothing is created")
			require.Equal(t, sessions, tf.Count(t, b.d, "sessions", ""))
		})
	}

	_, err = b.svc.Get(ctx, 1<<40)
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	found, err := b.svc.ListByIDs(ctx, []int64{s.User.ID, 1 << 40})
	require.NoError(t, err)
	require.Equal(t, map[int64]account.User{s.User.ID: s.User}, found)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{PerEmailIP: 3, PerIP: 100, PerEmail: 50, Window: time.Minute})
	ctx := context.Background()
	first := b.register(t, "grace@example.com")

	s, err := b.svc.Login(ctx, " GRACE@example.com", password, account.ClientMeta{IP: "10.0.0.2"})
	require.NoError(t, err)
	require.Equal(t, first.User.ID, s.User.ID)
	require.NotEqual(t, b.viewer(t, first).SessionID, b.viewer(t, s).SessionID, "every sign-in is a session of its own")

	for name, tc := range map[string]struct{ email, password string }{
		"a wrong password": {"grace@example.com", "wrong password"},
		"an unknown email": {"nobody@example.com", password},
	} {
		sessions := tf.Count(t, b.d, "sessions", "")
		_, err := b.svc.Login(ctx, tc.email, tc.password, account.ClientMeta{IP: "10.0.0.3"})
		require.Equal(t, []apperr.Code{apperr.InvalidCredentials}, tf.Codes(err), "%s: %v", name, err)
		require.Equal(t, sessions, tf.Count(t, b.d, "sessions", ""), name)
	}

	// 10.0.0.3 has spent two of its three attempts on grace's address and an unknown one:
	// one more on grace, then RATE_LIMITED, even with the right password.
	_, err = b.svc.Login(ctx, "grace@example.com", "wrong again", account.ClientMeta{IP: "10.0.0.3"})
	require.True(t, apperr.Is(err, apperr.InvalidCredentials), "%v", err)
	_, err = b.svc.Login(ctx, "grace@example.com", "wrong again", account.ClientMeta{IP: "10.0.0.3"})
	require.True(t, apperr.Is(err, apperr.InvalidCredentials), "%v", err)
	_, err = b.svc.Login(ctx, "grace@example.com", password, account.ClientMeta{IP: "10.0.0.3"})
	require.True(t, apperr.Is(err, apperr.RateLimited), "%v", err)
	require.Positive(t, apperr.As(err).RetryAfterSeconds)
	_, err = b.svc.Login(ctx, "grace@example.com", password, account.ClientMeta{IP: "10.0.0.4"})
	require.NoError(t, err, "another address is not limited")
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	ctx := context.Background()

	t.Run("a refresh token works once and rotates", func(t *testing.T) {
		s := b.register(t, "rot@example.com")
		next, err := b.svc.Refresh(ctx, s.RefreshToken)
		require.NoError(t, err)
		require.NotEqual(t, s.RefreshToken, next.RefreshToken)
		require.Equal(t, s.User.ID, next.User.ID)
		require.Equal(t, b.viewer(t, s).SessionID, b.viewer(t, next).SessionID, "the same session")
		require.Equal(t, s.ExpiresAt.Unix(), next.ExpiresAt.Unix(), "a session's life does not grow with use")
		third, err := b.svc.Refresh(ctx, next.RefreshToken)
		require.NoError(t, err)
		require.True(t, b.active(t, third))
	})

	t.Run("a spent token presented again revokes the whole session", func(t *testing.T) {
		s := b.register(t, "reuse@example.com")
		next, err := b.svc.Refresh(ctx, s.RefreshToken)
		require.NoError(t, err)
		_, err = b.svc.Refresh(ctx, s.RefreshToken)
		require.Equal(t, []apperr.Code{apperr.InvalidToken}, tf.Codes(err), "%v", err)
		require.False(t, b.active(t, s))
		_, err = b.svc.Refresh(ctx, next.RefreshToken)
		require.True(t, apperr.Is(err, apperr.InvalidToken), "the thief's or the owner's newer token dies with it: %v", err)
	})

	t.Run("one token used at once by many gets at most one new token", func(t *testing.T) {
		s := b.register(t, "race@example.com")
		const n = 4
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				_, err := b.svc.Refresh(ctx, s.RefreshToken)
				errs <- err
			}()
		}
		close(start)
		ok := 0
		for range n {
			err := <-errs
			if err == nil {
				ok++
				continue
			}
			require.True(t, apperr.Is(err, apperr.InvalidToken), "%v", err)
		}
		require.Equal(t, 1, ok)
		require.False(t, b.active(t, s), "the reuse revoked the session")
	})

	for name, token := range map[string]string{
		"empty":      "",
		"too long":   strings.Repeat("t", 129),
		"unknown":    "no-such-token",
		"an access ": "eyJhbGciOiJIUzI1NiJ9.e30.x",
	} {
		t.Run("INVALID_TOKEN: "+name, func(t *testing.T) {
			_, err := b.svc.Refresh(ctx, token)
			require.Equal(t, []apperr.Code{apperr.InvalidToken}, tf.Codes(err), "%v", err)
			require.Equal(t, []string{"input.refreshToken"}, tf.Fields(err))
		})
	}

	t.Run("INVALID_TOKEN for an expired or revoked session, which stays as it was", func(t *testing.T) {
		expired := b.register(t, "expired@example.com")
		_, err := b.d.Pool.Exec(ctx, `UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1`, b.viewer(t, expired).SessionID)
		require.NoError(t, err)
		_, err = b.svc.Refresh(ctx, expired.RefreshToken)
		require.True(t, apperr.Is(err, apperr.InvalidToken), "%v", err)
		require.Zero(t, tf.Count(t, b.d, "refresh_tokens", "session_id = $1 AND used_at IS NOT NULL", b.viewer(t, expired).SessionID))

		out := b.register(t, "out@example.com")
		_, err = b.svc.Logout(ctx, b.viewer(t, out))
		require.NoError(t, err)
		_, err = b.svc.Refresh(ctx, out.RefreshToken)
		require.True(t, apperr.Is(err, apperr.InvalidToken), "%v", err)
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	ctx := context.Background()
	s := b.register(t, "bye@example.com")
	other, err := b.svc.Login(ctx, "bye@example.com", password, account.ClientMeta{})
	require.NoError(t, err)

	u, err := b.svc.Logout(ctx, b.viewer(t, s))
	require.NoError(t, err)
	require.Equal(t, s.User.ID, u.ID)
	require.False(t, b.active(t, s))
	require.True(t, b.active(t, other), "only the viewer's session ends")

	require.NoError(t, b.svc.LogoutRefreshToken(ctx, other.RefreshToken))
	require.False(t, b.active(t, other))
	require.NoError(t, b.svc.LogoutRefreshToken(ctx, "no-such-token"), "an unknown token is not an error")
	active, err := b.svc.SessionActive(ctx, [16]byte{1})
	require.NoError(t, err)
	require.False(t, active, "an unknown session is not active")
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	ctx := context.Background()
	s := b.register(t, "change@example.com")
	elsewhere, err := b.svc.Login(ctx, "change@example.com", password, account.ClientMeta{})
	require.NoError(t, err)
	v := b.viewer(t, s)
	const next = "a brand new passphrase"

	for _, tc := range []struct {
		name          string
		current, next string
		code          apperr.Code
		field         string
	}{
		{"a new password too short", password, "short", apperr.PasswordTooShort, "input.newPassword"},
		{"a new password too common", password, "password123", apperr.PasswordTooCommon, "input.newPassword"},
		{"the same password", password, password, apperr.Unchanged, "input.newPassword"},
		{"a wrong current password", "not my password", next, apperr.WrongPassword, "input.currentPassword"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.svc.ChangePassword(ctx, v, tc.current, tc.next)
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), "%v", err)
			require.Equal(t, []string{tc.field}, tf.Fields(err))
			require.True(t, b.active(t, elsewhere), "nothing is revoked")
			_, err = b.svc.Login(ctx, "change@example.com", password, account.ClientMeta{})
			require.NoError(t, err, "the password is unchanged")
		})
	}

	u, err := b.svc.ChangePassword(ctx, v, password, next)
	require.NoError(t, err)
	require.Equal(t, s.User.ID, u.ID)
	require.True(t, b.active(t, s), "the viewer's session stays")
	require.False(t, b.active(t, elsewhere), "every other session is revoked")
	_, err = b.svc.Login(ctx, "change@example.com", password, account.ClientMeta{})
	require.True(t, apperr.Is(err, apperr.InvalidCredentials), "%v", err)
	_, err = b.svc.Login(ctx, "change@example.com", next, account.ClientMeta{})
	require.NoError(t, err)

	_, err = b.svc.ChangePassword(ctx, auth.Viewer{UserID: 1 << 40}, password, next+"!")
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}

func TestRoles(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	ctx := context.Background()

	exists, err := b.svc.AdminExists(ctx)
	require.NoError(t, err)
	require.False(t, exists)
	_, err = b.svc.EnsureAdmin(ctx, "not-an-email", "short")
	require.Equal(t, []apperr.Code{apperr.Invalid, apperr.PasswordTooShort}, tf.Codes(err), "%v", err)
	require.Equal(t, []string{"email", "password"}, tf.Fields(err))
	exists, err = b.svc.AdminExists(ctx)
	require.NoError(t, err)
	require.False(t, exists, "a refused EnsureAdmin creates nothing")

	admin, err := b.svc.EnsureAdmin(ctx, "Root@Example.com", password)
	require.NoError(t, err)
	require.Equal(t, auth.RoleAdmin, admin.Role)
	exists, err = b.svc.AdminExists(ctx)
	require.NoError(t, err)
	require.True(t, exists)

	customer := b.register(t, "promote@example.com")
	promoted, err := b.svc.EnsureAdmin(ctx, "promote@example.com", "another password")
	require.NoError(t, err, "an existing account is promoted")
	require.Equal(t, customer.User.ID, promoted.ID)
	require.Equal(t, auth.RoleAdmin, promoted.Role)
	_, err = b.svc.Login(ctx, "promote@example.com", "another password", account.ClientMeta{})
	require.NoError(t, err, "and its password set")

	vendor, err := b.svc.EnsureVendor(ctx, "shop@example.com", password, "Shop")
	require.NoError(t, err)
	require.Equal(t, auth.RoleVendor, vendor.Role)
	again, err := b.svc.EnsureVendor(ctx, "shop@example.com", password, "Shop")
	require.NoError(t, err)
	require.Equal(t, vendor.ID, again.ID)
	_, err = b.svc.EnsureVendor(ctx, "bad", password, "Shop")
	require.True(t, apperr.Is(err, apperr.Invalid), "%v", err)
	_, err = b.svc.EnsureVendor(ctx, "shop2@example.com", "short", "Shop")
	require.True(t, apperr.Is(err, apperr.PasswordTooShort), "%v", err)

	adminViewer := auth.Viewer{UserID: admin.ID, Role: auth.RoleAdmin}
	target := tf.NewUser(t, b.d, tf.UserOpts{})
	for _, tc := range []struct {
		name  string
		v     auth.Viewer
		id    int64
		role  auth.Role
		code  apperr.Code
		field string
	}{
		{"not an admin", auth.Viewer{UserID: vendor.ID, Role: auth.RoleVendor}, target.ID, auth.RoleVendor, apperr.Forbidden, ""},
		{"an unknown role", adminViewer, target.ID, auth.Role("OWNER"), apperr.Invalid, "input.role"},
		{"an admin demoting itself", adminViewer, admin.ID, auth.RoleCustomer, apperr.Invalid, "input.id"},
		{"no such account", adminViewer, 1 << 40, auth.RoleVendor, apperr.NotFound, "input.id"},
	} {
		t.Run("SetRole refused: "+tc.name, func(t *testing.T) {
			_, err := b.svc.SetRole(ctx, tc.v, tc.id, tc.role)
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), "%v", err)
			if tc.field != "" {
				require.Equal(t, []string{tc.field}, tf.Fields(err))
			}
			u, err := b.svc.Get(ctx, target.ID)
			require.NoError(t, err)
			require.Equal(t, auth.RoleCustomer, u.Role, "unchanged")
		})
	}
	u, err := b.svc.SetRole(ctx, adminViewer, target.ID, auth.RoleVendor)
	require.NoError(t, err)
	require.Equal(t, auth.RoleVendor, u.Role)
	u, err = b.svc.SetRole(ctx, adminViewer, admin.ID, auth.RoleAdmin)
	require.NoError(t, err, "an admin may keep its own role")
	require.Equal(t, auth.RoleAdmin, u.Role)
}

type brokenLimiter struct{}

func (brokenLimiter) Hit(context.Context, string, int, time.Duration) (bool, time.Duration, error) {
	return false, 0, errors.New("rate-limit store down")
}

// An outage of the rate-limit store must not lock every customer out: sign-in fails open.
func TestLoginRateLimitStoreDown(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t, postgres.Options{MaxConns: 2})
	svc := account.NewService(d, auth.NewTokens("test-secret-test-secret-test-secret", time.Now), brokenLimiter{},
		account.LoginLimits{PerEmailIP: 1, PerIP: 1, PerEmail: 1, Window: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	_, err := svc.Register(ctx, account.RegisterInput{Email: "open@example.com", Password: password}, account.ClientMeta{})
	require.NoError(t, err)
	for range 3 {
		_, err := svc.Login(ctx, "open@example.com", password, account.ClientMeta{IP: "10.0.0.9"})
		require.NoError(t, err)
	}
}

// The access token carries the account's vendor membership as stored, at sign-in and at every
// refresh (so a membership given after sign-in arrives with the next refresh).
func TestTokensCarryVendorMembership(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{PerEmailIP: 100, PerIP: 100, PerEmail: 100, Window: time.Minute})
	ctx := context.Background()
	first := b.register(t, "member@example.com")
	require.Zero(t, b.viewer(t, first).VendorID)
	require.Nil(t, first.User.VendorID)

	vendor := tf.NewVendor(t, b.d, tf.VendorOpts{MemberID: first.User.ID})
	refreshed, err := b.svc.Refresh(ctx, first.RefreshToken)
	require.NoError(t, err)
	require.Equal(t, vendor.ID, b.viewer(t, refreshed).VendorID, "refresh reads the membership")
	require.Equal(t, &vendor.ID, refreshed.User.VendorID)

	s, err := b.svc.Login(ctx, "member@example.com", password, account.ClientMeta{})
	require.NoError(t, err)
	require.Equal(t, vendor.ID, b.viewer(t, s).VendorID, "sign-in reads the membership")
}
