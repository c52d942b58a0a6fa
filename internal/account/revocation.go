package account

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/pubsub"
)

// RevocationPollInterval is how often each instance reads the sessions revoked since it last
// looked: the longest a revoked session's access token keeps working on an instance that
// missed the ring (Redis down, a message lost, an instance without Redis).
const RevocationPollInterval = 2 * time.Second

// revocationOverlap is how far back each poll reads again before the newest revocation it
// saw. revoked_at is its transaction's start, so a revocation committed after a later one was
// read carries an older time; any revoking transaction shorter than this is still found.
const revocationOverlap = time.Minute

// revocationTopic is the Bell topic rung after every revocation commits.
const revocationTopic = "sessions-revoked"

// RevocationWatcher keeps one instance's auth.RevokedSessions (the set Tokens.Verify refuses)
// true to PostgreSQL, without a query per request:
//
//   - every change that sets sessions.revoked_at calls AnnounceAfterCommit in its transaction:
//     after the commit, the sessions it knows are added to this instance's set at once and the
//     Bell rings revocationTopic on every instance (through Redis), each of which reads the
//     new revocations from PostgreSQL then;
//   - every RevocationPollInterval each instance reads them anyway (sessions_revoked_at_idx),
//     so a lost ring, a Redis outage or a revocation that forgot to ring delays it by seconds,
//     never by the access token's 15 minutes;
//   - Load, at start, reads the revocations of the last AccessTokenTTL.
//
// A nil watcher announces nothing (services built without one, in tests).
type RevocationWatcher struct {
	// Interval overrides RevocationPollInterval when set before Run.
	Interval time.Duration

	db   *postgres.DB
	set  *auth.RevokedSessions
	bell *pubsub.Bell
	log  *slog.Logger
	now  func() time.Time

	// mu makes polls take turns, so newest only grows.
	mu sync.Mutex
	// newest is the latest revoked_at read (PostgreSQL's clock).
	newest time.Time
	// failing is whether the last poll failed, so that an outage logs once, not every poll.
	failing bool
}

// NewRevocationWatcher returns a watcher that fills set. bell may be nil (polling only).
func NewRevocationWatcher(d *postgres.DB, set *auth.RevokedSessions, bell *pubsub.Bell, log *slog.Logger) *RevocationWatcher {
	return &RevocationWatcher{db: d, set: set, bell: bell, log: log, now: time.Now}
}

// AnnounceAfterCommit registers, in the revoking transaction of ctx, what happens once it
// commits: sessions (those the caller knows; may be none) join this instance's set at once,
// and every instance is rung to read the revocations from PostgreSQL.
func (w *RevocationWatcher) AnnounceAfterCommit(ctx context.Context, sessions ...uuid.UUID) {
	if w == nil {
		return
	}
	postgres.AfterCommit(ctx, func(ctx context.Context) {
		now := w.now()
		for _, id := range sessions {
			w.set.Add(id, now)
		}
		if w.bell != nil {
			w.bell.Ring(ctx, revocationTopic)
		} else {
			go w.pollLogged(context.WithoutCancel(ctx))
		}
	})
}

// Load reads the revocations whose access tokens may still be in use (those of the last
// AccessTokenTTL); the server calls it once before it serves.
func (w *RevocationWatcher) Load(ctx context.Context) error { return w.poll(ctx) }

// Run reads new revocations when the bell rings and every Interval, until ctx ends.
func (w *RevocationWatcher) Run(ctx context.Context) {
	var rings <-chan struct{}
	if w.bell != nil {
		c, stop := w.bell.Listen(revocationTopic)
		defer stop()
		rings = c
	}
	interval := w.Interval
	if interval <= 0 {
		interval = RevocationPollInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-rings:
		case <-tick.C:
		}
		w.pollLogged(ctx)
	}
}

// pollLogged polls and logs a failure once per outage: the set stays as it was, and the next
// poll catches up.
func (w *RevocationWatcher) pollLogged(ctx context.Context) {
	err := w.poll(ctx)
	if ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil && !w.failing:
		w.log.WarnContext(ctx, "read revoked sessions failed; access tokens of sessions revoked meanwhile work until PostgreSQL answers", "err", err)
	case err == nil && w.failing:
		w.log.InfoContext(ctx, "read revoked sessions again")
	}
	w.failing = err != nil
}

// poll adds the sessions revoked since shortly before the newest one seen (at the first poll:
// in the last AccessTokenTTL) to the set, and forgets those whose tokens have expired.
func (w *RevocationWatcher) poll(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	since := w.now().Add(-(auth.AccessTokenTTL + auth.RevocationSkew))
	if again := w.newest.Add(-revocationOverlap); again.After(since) {
		since = again
	}
	rows, err := w.db.SessionListRevokedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, r := range rows {
		w.set.Add(r.ID, r.RevokedAt)
		if r.RevokedAt.After(w.newest) {
			w.newest = r.RevokedAt
		}
	}
	w.set.Forget()
	return nil
}
