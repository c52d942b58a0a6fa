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
