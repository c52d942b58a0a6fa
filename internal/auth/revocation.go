package auth

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// RevocationSkew is how much longer than AccessTokenTTL a revoked session is remembered: it
// covers clocks of the instances and of PostgreSQL that disagree a little, and a refresh that
// issued a token while the revoking transaction waited for the session's row lock.
const RevocationSkew = time.Minute

// RevokedSessions is one instance's set of the sessions revoked too recently for all their
// access tokens to have expired. An access token is a signed JWT checked without a database
// read; Tokens.Verify refuses the ones whose session is in this set, so that a logout or a
// revocation ends its tokens within seconds instead of at their expiry. A session is kept
// until AccessTokenTTL (plus RevocationSkew) after it was revoked: by then every token it had
// has expired anyway, and no new one is issued for a revoked session (refresh checks it in
// PostgreSQL). Who fills the set, on every instance, is internal/account's RevocationWatcher.
// The zero value is not ready: use NewRevokedSessions. Safe for concurrent use.
type RevokedSessions struct {
	now func() time.Time

	mu sync.RWMutex
	// forgetAt is, per revoked session, when its last access token has surely expired.
	forgetAt map[uuid.UUID]time.Time
}

// NewRevokedSessions returns an empty set. now may be nil (time.Now).
func NewRevokedSessions(now func() time.Time) *RevokedSessions {
	if now == nil {
		now = time.Now
	}
	return &RevokedSessions{now: now, forgetAt: map[uuid.UUID]time.Time{}}
}

// Add records that session id was revoked at revokedAt. Adding one again never shortens how
// long it is remembered; one whose tokens have all expired already is not added.
func (r *RevokedSessions) Add(id uuid.UUID, revokedAt time.Time) {
	until := revokedAt.Add(AccessTokenTTL + RevocationSkew)
	if !r.now().Before(until) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.forgetAt[id]; !ok || cur.Before(until) {
		r.forgetAt[id] = until
	}
}

// Has reports whether session id was revoked and may still have access tokens in use. A nil
// set holds nothing.
func (r *RevokedSessions) Has(id uuid.UUID) bool {
	if r == nil {
		return false
	}
	r.mu.RLock()
	until, ok := r.forgetAt[id]
	r.mu.RUnlock()
	return ok && r.now().Before(until)
}

// Forget drops the sessions whose access tokens have all expired, and returns how many are
// left. The watcher calls it as it polls, so the set stays as small as the revocations of the
// last quarter of an hour.
func (r *RevokedSessions) Forget() int {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, until := range r.forgetAt {
		if !now.Before(until) {
			delete(r.forgetAt, id)
		}
	}
	return len(r.forgetAt)
}

// Len is the number of sessions remembered (for metrics and tests), expired ones included
// until the next Forget.
func (r *RevokedSessions) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.forgetAt)
}
