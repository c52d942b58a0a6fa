package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTokensVerify(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	tokens := NewTokens("test-secret-of-some-length-0123456789", func() time.Time { return now })
	want := Viewer{UserID: 42, Role: RoleCustomer, SessionID: uuid.New()}
	token, exp, err := tokens.Issue(want)
	if err != nil {
		t.Fatal(err)
	}
	want.ExpiresAt = exp.Truncate(time.Second)

	t.Run("a token is accepted, the second time from memory, with the same viewer", func(t *testing.T) {
		for range 2 {
			got, err := tokens.Verify(token)
			if err == nil && got.ExpiresAt.Equal(want.ExpiresAt) {
				got.ExpiresAt = want.ExpiresAt // the same instant, perhaps in another location
			}
			if err != nil || got != want {
				t.Fatalf("Verify = %+v, %v; want %+v", got, err, want)
			}
		}
	})

	t.Run("a remembered token is refused once it expired", func(t *testing.T) {
		if _, err := tokens.Verify(token); err != nil {
			t.Fatal(err)
		}
		now = exp
		defer func() { now = exp.Add(-AccessTokenTTL) }()
		if _, err := tokens.Verify(token); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("an expired remembered token: err = %v, want ErrInvalidToken", err)
		}
	})

	t.Run("a token with another signature is refused, however like a remembered one", func(t *testing.T) {
		head, _, _ := strings.Cut(token, ".")
		_, rest, _ := strings.Cut(token, ".")
		payload, sig, _ := strings.Cut(rest, ".")
		forged := head + "." + payload + "." + strings.Repeat("A", len(sig))
		if _, err := tokens.Verify(forged); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged token: err = %v, want ErrInvalidToken", err)
		}
	})

	t.Run("memory stays bounded", func(t *testing.T) {
		for i := range maxVerified + 10 {
			tok, _, err := tokens.Issue(Viewer{UserID: int64(i + 1), Role: RoleCustomer, SessionID: uuid.New()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.Verify(tok); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(tokens.verified); n > maxVerified {
			t.Fatalf("%d tokens remembered, at most %d", n, maxVerified)
		}
	})
}

// The viewer's vendor travels in the access token: a member's token gives it back, a token
// without one gives 0 (no vendor).
func TestTokensCarryTheVendor(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	tokens := NewTokens("test-secret-of-some-length-0123456789", func() time.Time { return now })
	for _, want := range []Viewer{
		{UserID: 42, Role: RoleVendor, VendorID: 7, SessionID: uuid.New()},
		{UserID: 43, Role: RoleCustomer, SessionID: uuid.New()},
		{UserID: 44, Role: RoleAdmin, VendorID: 9, SessionID: uuid.New()},
	} {
		token, _, err := tokens.Issue(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := NewTokens("test-secret-of-some-length-0123456789", func() time.Time { return now }).Verify(token)
		if err != nil {
			t.Fatal(err)
		}
		if got.VendorID != want.VendorID || got.UserID != want.UserID || got.Role != want.Role {
			t.Fatalf("Verify = %+v; want %+v", got, want)
		}
	}
}

func TestActingVendor(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Viewer
		id   int64
		ok   bool
	}{
		{"a VENDOR member acts for its vendor", Viewer{UserID: 1, Role: RoleVendor, VendorID: 7}, 7, true},
		{"a VENDOR of no vendor acts for none", Viewer{UserID: 7, Role: RoleVendor}, 0, false},
		{"a customer does not act for a vendor", Viewer{UserID: 1, Role: RoleCustomer, VendorID: 7}, 0, false},
		{"an admin member acts as an admin, not as the vendor", Viewer{UserID: 1, Role: RoleAdmin, VendorID: 7}, 0, false},
	} {
		id, ok := tc.v.ActingVendor()
		if id != tc.id || ok != tc.ok || tc.v.ActsFor(7) != tc.ok {
			t.Errorf("%s: ActingVendor = %d, %v", tc.name, id, ok)
		}
	}
	if !(Viewer{Role: RoleAdmin, VendorID: 7}).MemberOf(7) || (Viewer{Role: RoleVendor}).MemberOf(0) {
		t.Error("MemberOf is the stored membership, whatever the role; no vendor is no membership")
	}
}
