package account_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// TestRevocationWatcher: the watcher fills the set from PostgreSQL — at Load the revocations
// whose tokens may still be in use, then on each poll the new ones, including one committed
// late by a transaction that started before a revocation already read — and the service's own
// revocations join the set at commit, before any poll.
func TestRevocationWatcher(t *testing.T) {
	t.Parallel()
	b := setup(t, account.LoginLimits{})
	ctx := context.Background()
	set := auth.NewRevokedSessions(nil)
	b.tokens.Revoked = set
	w := account.NewRevocationWatcher(b.d, set, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Interval = 50 * time.Millisecond

	sessionOf := func(s account.Session) uuid.UUID { return b.viewer(t, s).SessionID }
	revokeAt := func(id uuid.UUID, ago time.Duration) {
		t.Helper()
		_, err := b.d.Pool.Exec(ctx, `UPDATE sessions SET revoked_at = now() - $2::interval, revoke_reason = 'test' WHERE id = $1`,
			id, ago.String())
		require.NoError(t, err)
	}
	recent, old := sessionOf(b.register(t, "recent@example.com")), sessionOf(b.register(t, "old@example.com"))
	revokeAt(recent, 10*time.Minute)
	revokeAt(old, auth.AccessTokenTTL+auth.RevocationSkew+time.Minute)

	require.NoError(t, w.Load(ctx))
	require.True(t, set.Has(recent), "revoked 10 minutes ago: its tokens may still be in use")
	require.False(t, set.Has(old), "revoked longer ago than any token lives")

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go w.Run(runCtx)

	t.Run("a revocation made elsewhere is read by the next poll", func(t *testing.T) {
		s := sessionOf(b.register(t, "elsewhere@example.com"))
		revokeAt(s, 0)
		require.Eventually(t, func() bool { return set.Has(s) }, 2*time.Second, 10*time.Millisecond)
	})

	t.Run("a revocation that commits late with an older time is still read", func(t *testing.T) {
		newer, late := sessionOf(b.register(t, "newer@example.com")), sessionOf(b.register(t, "late@example.com"))
		revokeAt(newer, 0)
		require.Eventually(t, func() bool { return set.Has(newer) }, 2*time.Second, 10*time.Millisecond)
		revokeAt(late, 30*time.Second) // its transaction began half a minute ago
		require.Eventually(t, func() bool { return set.Has(late) }, 2*time.Second, 10*time.Millisecond)
	})

	t.Run("the service's own revocations are refused at commit, before a poll", func(t *testing.T) {
		stop() // the running watcher's set is not the one checked here anyway
		own := auth.NewRevokedSessions(nil)
		b.tokens.Revoked = own
		// Never run: only AnnounceAfterCommit can fill own.
		b.svc.Revocations = account.NewRevocationWatcher(b.d, own, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s := b.register(t, "own@example.com")
		v := b.viewer(t, s)
		_, err := b.svc.Logout(ctx, v)
		require.NoError(t, err)
		require.True(t, own.Has(v.SessionID))
		_, err = b.tokens.Verify(s.AccessToken)
		require.ErrorIs(t, err, auth.ErrSessionRevoked)
	})
}
