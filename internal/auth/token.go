package auth

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// AccessTokenTTL is how long an access token is accepted. Short, because a revoked session's
// tokens are refused by each instance's in-memory RevokedSessions, which must remember a
// revocation this long; refresh tokens are checked in PostgreSQL.
const AccessTokenTTL = 15 * time.Minute

const issuer = "shopgraph"

// Tokens signs and verifies access tokens (JWT, HS256 only).
type Tokens struct {
	// Revoked, when set, is the set of revoked sessions whose tokens Verify refuses.
	Revoked *RevokedSessions

	secret []byte
	now    func() time.Time

	// verified remembers the tokens whose signature and claims were checked: a signed token
	// never changes, and a storefront sends the same one with every request for 15 minutes,
	// so only its validity window is checked again. Parsing and checking cost about a tenth of
	// a checkout request's CPU.
	mu       sync.RWMutex
	verified map[string]verifiedToken
}

type verifiedToken struct {
	viewer    Viewer
	notBefore time.Time
}

// maxVerified bounds the tokens remembered, about a megabyte of them.
const maxVerified = 4096

// NewTokens returns a Tokens that signs with secret. now may be nil (time.Now).
func NewTokens(secret string, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{secret: []byte(secret), now: now, verified: make(map[string]verifiedToken)}
}

type claims struct {
	Role Role   `json:"role"`
	SID  string `json:"sid"`
	// Vendor is the vendor the account is a member of (Viewer.VendorID), omitted for none.
	Vendor int64 `json:"vnd,omitempty"`
	jwt.RegisteredClaims
}

// Issue returns a signed access token for v and its expiry.
func (t *Tokens) Issue(v Viewer) (string, time.Time, error) {
	now := t.now()
	exp := now.Add(AccessTokenTTL)
	c := claims{
		Role:   v.Role,
		SID:    v.SessionID.String(),
		Vendor: v.VendorID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   strconv.FormatInt(v.UserID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// ErrInvalidToken is returned for any token that fails verification.
var ErrInvalidToken = errors.New("invalid access token")

// ErrSessionRevoked is why Verify refuses a token of a revoked session; it is an
// ErrInvalidToken, answered exactly like an expired token.
var ErrSessionRevoked = fmt.Errorf("%w: its session was revoked", ErrInvalidToken)

// Verify checks the token's algorithm (HS256 only: "none" and RS/HS confusion are refused),
// signature, issuer and validity window, and that its session is not among the revoked ones
// (Revoked), and returns its viewer.
func (t *Tokens) Verify(token string) (Viewer, error) {
	v, err := t.verify(token)
	if err != nil {
		return Viewer{}, err
	}
	if t.Revoked.Has(v.SessionID) {
		return Viewer{}, ErrSessionRevoked
	}
	return v, nil
}

func (t *Tokens) verify(token string) (Viewer, error) {
	now := t.now()
	t.mu.RLock()
	known, ok := t.verified[token]
	t.mu.RUnlock()
	if ok {
		if now.Before(known.notBefore) || !now.Before(known.viewer.ExpiresAt) {
			return Viewer{}, fmt.Errorf("%w: outside its validity window", ErrInvalidToken)
		}
		return known.viewer, nil
	}
	v, notBefore, err := t.parse(token)
	if err != nil {
		return Viewer{}, err
	}
	t.remember(token, verifiedToken{viewer: v, notBefore: notBefore}, now)
	return v, nil
}

// remember adds a verified token, first forgetting the expired ones when full, or all of
// them if none has expired.
func (t *Tokens) remember(token string, v verifiedToken, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.verified) >= maxVerified {
		for k, old := range t.verified {
			if !now.Before(old.viewer.ExpiresAt) {
				delete(t.verified, k)
			}
		}
		if len(t.verified) >= maxVerified {
			clear(t.verified)
		}
	}
	t.verified[token] = v
}

// parse checks a token's signature and claims.
func (t *Tokens) parse(token string) (Viewer, time.Time, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		return Viewer{}, time.Time{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil || id <= 0 {
		return Viewer{}, time.Time{}, fmt.Errorf("%w: bad subject", ErrInvalidToken)
	}
	sid, err := uuid.Parse(c.SID)
	if err != nil {
		return Viewer{}, time.Time{}, fmt.Errorf("%w: bad session id", ErrInvalidToken)
	}
	if !c.Role.Valid() {
		return Viewer{}, time.Time{}, fmt.Errorf("%w: bad role", ErrInvalidToken)
	}
	if c.Vendor < 0 {
		return Viewer{}, time.Time{}, fmt.Errorf("%w: bad vendor", ErrInvalidToken)
	}
	var notBefore time.Time
	if c.NotBefore != nil {
		notBefore = c.NotBefore.Time
	}
	return Viewer{UserID: id, Role: c.Role, VendorID: c.Vendor, SessionID: sid, ExpiresAt: c.ExpiresAt.Time}, notBefore, nil
}
