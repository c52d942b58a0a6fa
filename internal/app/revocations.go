package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// startRevocations gives the instance its set of revoked sessions, read once now (the last
// quarter of an hour's revocations) and kept up to date until ctx ends, and tells every service
// that revokes sessions to announce it. Without PostgreSQL at start the set starts empty and
// the first poll that succeeds fills it: the server still starts.
func startRevocations(ctx context.Context, a *App, log *slog.Logger) {
	revoked := auth.NewRevokedSessions(nil)
	a.Revocations = account.NewRevocationWatcher(a.DB, revoked, a.Bell, log)
	loadCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Revocations.Load(loadCtx); err != nil {
		log.WarnContext(ctx, "read revoked sessions at start", "err", err)
	}
	a.Tokens.Revoked = revoked
	a.Accounts.Revocations = a.Revocations
	a.Vendors.Revocations = a.Revocations
	go a.Revocations.Run(ctx)
}
