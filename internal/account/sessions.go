package account

// This file is the sessions a person can see and end: the list of their own live sessions,
// revoking one, and signing out everywhere.

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// MaxListedSessions bounds the sessions Sessions returns: the most recently used ones.
const MaxListedSessions = 100

// SignedInSession is one live session of an account as its owner sees it: a sign-in on some
// device, until it is revoked or expires.
type SignedInSession struct {
	ID        uuid.UUID
	CreatedAt time.Time
	// LastUsedAt is when the session last refreshed its tokens (or signed in): true to within
	// an access token's lifetime, without a write per request.
	LastUsedAt time.Time
	UserAgent  string
	IP         string
	// Current is whether the viewer's own access token belongs to it.
	Current bool
}

// GlobalID is the session's opaque API ID.
func (s SignedInSession) GlobalID() string { return gid.EncodeUUID(gid.AccountSession, s.ID) }

// Sessions returns account userID's live sessions, the most recently used first (at most
// MaxListedSessions), for v: only the account itself sees them.
// Errors: NOT_FOUND (for anyone else).
func (s *Service) Sessions(ctx context.Context, v auth.Viewer, userID int64) ([]SignedInSession, error) {
	if err := maySeeSessions(v, userID); err != nil {
		return nil, err
	}
	rows, err := s.db.SessionListActiveByUser(ctx, db.SessionListActiveByUserParams{UserID: userID, MaxCount: MaxListedSessions})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	out := make([]SignedInSession, len(rows))
	for i, r := range rows {
		out[i] = signedInSessionFromRow(r, v)
	}
	return out, nil
}

// Session returns one live session of the viewer's own. Errors: NOT_FOUND (also for another
// account's session, a revoked or an expired one).
func (s *Service) Session(ctx context.Context, v auth.Viewer, id uuid.UUID) (SignedInSession, error) {
	notFound := apperr.New(apperr.NotFound, "session not found")
	row, err := s.db.SessionGetByID(ctx, id)
	if postgres.IsNotFound(err) {
		return SignedInSession{}, notFound
	}
	if err != nil {
		return SignedInSession{}, fmt.Errorf("get session: %w", err)
	}
	if row.RevokedAt != nil || !s.now().Before(row.ExpiresAt) || maySeeSessions(v, row.UserID) != nil {
		return SignedInSession{}, notFound
	}
	return signedInSessionFromRow(row, v), nil
}

// RevokeSession ends one of the viewer's own live sessions (the current one too): its refresh
// token stops working at once, its access tokens within seconds on every instance.
// Errors: NOT_FOUND (another account's session, one revoked or expired already: nothing changes).
func (s *Service) RevokeSession(ctx context.Context, v auth.Viewer, id uuid.UUID) (SignedInSession, error) {
	var out SignedInSession
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.SessionRevokeOwn(ctx, db.SessionRevokeOwnParams{ID: id, UserID: v.UserID, Reason: ptr("revoked by its owner")})
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "You have no active session with this ID.", "input", "id")
		}
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		s.Revocations.AnnounceAfterCommit(ctx, row.ID)
		out = signedInSessionFromRow(row, v)
		return nil
	})
	return out, err
}

// LogoutAll ends every session of the viewer's account, the current one included, and
// returns the account and how many sessions ended.
func (s *Service) LogoutAll(ctx context.Context, v auth.Viewer) (User, int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		var err error
		ended, err := q.SessionRevokeAllForUser(ctx, db.SessionRevokeAllForUserParams{UserID: v.UserID, Reason: ptr("signed out everywhere")})
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		n = int64(len(ended))
		s.Revocations.AnnounceAfterCommit(ctx, ended...)
		return nil
	})
	if err != nil {
		return User{}, 0, err
	}
	u, err := s.Get(ctx, v.UserID)
	return u, n, err
}

func signedInSessionFromRow(r db.Session, v auth.Viewer) SignedInSession {
	return SignedInSession{
		ID: r.ID, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, UserAgent: r.UserAgent, IP: r.IP,
		Current: r.ID == v.SessionID,
	}
}
