package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestRevokedSessions(t *testing.T) {
	start := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	now := start
	set := NewRevokedSessions(func() time.Time { return now })
	keep := AccessTokenTTL + RevocationSkew

	t.Run("a revoked session is held until its last token has expired, then forgotten", func(t *testing.T) {
		id := uuid.New()
		set.Add(id, start)
		if !set.Has(id) {
			t.Fatal("a session just revoked is not in the set")
		}
		now = start.Add(keep - time.Nanosecond)
		if !set.Has(id) {
			t.Fatal("forgotten before every access token of the session expired")
		}
		if n := set.Forget(); n != 1 {
			t.Fatalf("Forget kept %d sessions, want 1", n)
		}
		now = start.Add(keep)
		if set.Has(id) {
			t.Fatal("still held after the access-token lifetime")
		}
		if n := set.Forget(); n != 0 || set.Len() != 0 {
			t.Fatalf("Forget left %d (Len %d), want 0", n, set.Len())
		}
		now = start
	})

	t.Run("adding again never shortens how long it is held", func(t *testing.T) {
		id := uuid.New()
		set.Add(id, start.Add(time.Minute))
		set.Add(id, start) // the poll reading it again with an older time
		now = start.Add(keep + 30*time.Second)
		if !set.Has(id) {
			t.Fatal("an older revocation time shortened the hold")
		}
		now = start
	})

	t.Run("a revocation older than the token lifetime is not added", func(t *testing.T) {
		before := set.Len()
		set.Add(uuid.New(), start.Add(-keep))
		if set.Len() != before {
			t.Fatal("a revocation whose tokens have all expired was added")
		}
	})

	t.Run("other sessions and a nil set hold nothing", func(t *testing.T) {
		if set.Has(uuid.New()) {
			t.Fatal("an unknown session is held")
		}
		var none *RevokedSessions
		if none.Has(uuid.New()) {
			t.Fatal("a nil set holds something")
		}
	})
}

func TestTokensVerifyRefusesRevokedSessions(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := NewTokens("test-secret-of-some-length-0123456789", clock)
	tokens.Revoked = NewRevokedSessions(clock)
	revoked, kept := Viewer{UserID: 1, Role: RoleCustomer, SessionID: uuid.New()}, Viewer{UserID: 1, Role: RoleCustomer, SessionID: uuid.New()}
	revokedToken, _, err := tokens.Issue(revoked)
	if err != nil {
		t.Fatal(err)
	}
	keptToken, _, err := tokens.Issue(kept)
	if err != nil {
		t.Fatal(err)
	}
	// Verified once first: the remembered-token shortcut must not skip the check.
	if _, err := tokens.Verify(revokedToken); err != nil {
		t.Fatal(err)
	}
	tokens.Revoked.Add(revoked.SessionID, now)
	if _, err := tokens.Verify(revokedToken); !errors.Is(err, ErrInvalidToken) || !errors.Is(err, ErrSessionRevoked) {
		t.Fatalf("Verify of a revoked session's token = %v, want ErrSessionRevoked (an ErrInvalidToken)", err)
	}
	if v, err := tokens.Verify(keptToken); err != nil || v.SessionID != kept.SessionID {
		t.Fatalf("Verify of another session's token = %+v, %v", v, err)
	}
}
