package account

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// ExternalAuth is social login's use cases: starting a sign-in at a provider, finishing it
// (which signs in, as Login does), and the viewer's linked identities. Calls to providers
// never happen inside a transaction.
type ExternalAuth struct {
	accounts  *Service
	providers map[string]ExternalProvider
	redirects map[string]bool
	now       func() time.Time
}

// NewExternalAuth returns social login over accounts, with the configured providers and the
// redirect URIs a sign-in may return to (compared exactly).
func NewExternalAuth(accounts *Service, providers []ExternalProvider, redirectURIs []string) *ExternalAuth {
	e := &ExternalAuth{accounts: accounts, providers: map[string]ExternalProvider{}, redirects: map[string]bool{}, now: time.Now}
	for _, p := range providers {
		e.providers[p.Name()] = p
	}
	for _, u := range redirectURIs {
		e.redirects[u] = true
	}
	return e
}

// Providers names the configured providers, sorted.
func (e *ExternalAuth) Providers() []string {
	names := make([]string, 0, len(e.providers))
	for n := range e.providers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (e *ExternalAuth) provider(name string) (ExternalProvider, error) {
	if p, ok := e.providers[name]; ok {
		return p, nil
	}
	return nil, apperr.FieldError(apperr.ProviderNotConfigured, "This sign-in provider is not available.", "input", "provider")
}

// AuthURL starts a sign-in at provider: it stores a fresh state, nonce and PKCE verifier
// (for ExternalStateTTL, one use) and returns the provider's authorization URL, to which the
// browser goes; the provider sends it back to redirectURI with a code and the state.
// Errors: PROVIDER_NOT_CONFIGURED, INVALID_REDIRECT_URI, PROVIDER_UNAVAILABLE.
func (e *ExternalAuth) AuthURL(ctx context.Context, provider, redirectURI string) (string, error) {
	p, err := e.provider(provider)
	if err != nil {
		return "", err
	}
	if !e.redirects[redirectURI] {
		return "", apperr.FieldError(apperr.InvalidRedirectURI, "This redirect URI is not allowed.", "input", "redirectUri")
	}
	var req ExternalAuthRequest
	for _, v := range []*string{&req.State, &req.Nonce, &req.CodeVerifier} {
		if *v, err = randomToken(); err != nil {
			return "", err
		}
	}
	req.RedirectURI = redirectURI
	// The URL first: a provider that cannot be reached leaves no state behind.
	authURL, err := p.AuthURL(ctx, req)
	if err != nil {
		return "", err
	}
	now := e.now()
	if _, err := e.accounts.db.ExternalAuthStateDeleteExpired(ctx, now); err != nil {
		return "", fmt.Errorf("delete expired sign-in states: %w", err)
	}
	if err := e.accounts.db.ExternalAuthStateInsert(ctx, db.ExternalAuthStateInsertParams{
		StateHash: hashToken(req.State), Provider: provider, RedirectUri: redirectURI,
		Nonce: req.Nonce, CodeVerifier: req.CodeVerifier, ExpiresAt: now.Add(ExternalStateTTL),
	}); err != nil {
		return "", fmt.Errorf("insert sign-in state: %w", err)
	}
	return authURL, nil
}

// Login finishes a sign-in: it spends the state (once, whatever follows), redeems the code at
// the provider, and signs in the account of the identity. On an identity's first use it is
// linked to the account with its email when the provider vouches for the email, or a new
// CUSTOMER account without a password is created when no account has that email.
// Errors: PROVIDER_NOT_CONFIGURED, INVALID_STATE, EXTERNAL_AUTH_FAILED, INVALID_ID_TOKEN,
// PROVIDER_UNAVAILABLE, EMAIL_NOT_VERIFIED, EXTERNAL_EMAIL_REQUIRED, EXTERNAL_ACCOUNT_CONFLICT.
func (e *ExternalAuth) Login(ctx context.Context, provider, code, state string, meta ClientMeta) (Session, error) {
	p, err := e.provider(provider)
	if err != nil {
		return Session{}, err
	}
	invalidState := apperr.FieldError(apperr.InvalidState, "This sign-in has expired or was already used. Start again.", "input", "state")
	if state == "" || len(state) > 128 {
		return Session{}, invalidState
	}
	row, err := e.accounts.db.ExternalAuthStateConsume(ctx, hashToken(state))
	if postgres.IsNotFound(err) {
		return Session{}, invalidState
	}
	if err != nil {
		return Session{}, fmt.Errorf("consume sign-in state: %w", err)
	}
	if row.Provider != provider || !e.now().Before(row.ExpiresAt) {
		return Session{}, invalidState
	}
	if code == "" || len(code) > 2048 {
		return Session{}, apperr.FieldError(apperr.ExternalAuthFailed, "The provider gave no valid authorization code.", "input", "code")
	}
	profile, err := p.Exchange(ctx, code, ExternalAuthRequest{
		State: state, Nonce: row.Nonce, CodeVerifier: row.CodeVerifier, RedirectURI: row.RedirectUri,
	})
	if err != nil {
		return Session{}, err
	}
	if profile.Subject == "" {
		return Session{}, apperr.New(apperr.ExternalAuthFailed, "The provider did not identify the account.")
	}
	profile.Email = NormalizeEmail(profile.Email)
	var sess Session
	err = e.accounts.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		user, err := e.accountOf(ctx, q, provider, profile)
		if err != nil {
			return err
		}
		sess, err = e.accounts.startSession(ctx, q, user, meta)
		return err
	})
	return sess, err
}

// accountOf is the account an identity signs in to, linked or created on its first use.
func (e *ExternalAuth) accountOf(ctx context.Context, q *db.Queries, provider string, p ExternalProfile) (User, error) {
	ident, err := q.ExternalIdentityGetByProviderSubject(ctx, db.ExternalIdentityGetByProviderSubjectParams{Provider: provider, Subject: p.Subject})
	if err == nil {
		row, err := q.UserGetByID(ctx, ident.UserID)
		if err != nil {
			return User{}, fmt.Errorf("get user of identity: %w", err)
		}
		return userFromRow(row), nil
	}
	if !postgres.IsNotFound(err) {
		return User{}, fmt.Errorf("get identity: %w", err)
	}
	if p.Email == "" || validateEmail(p.Email) != nil {
		return User{}, apperr.New(apperr.ExternalEmailRequired, "The provider did not share a valid email address; allow it to, or register with a password.")
	}
	row, err := q.UserGetByEmail(ctx, p.Email)
	switch {
	case err == nil:
		if err := mayLinkByEmail(p); err != nil {
			return User{}, err
		}
	case postgres.IsNotFound(err):
		row, err = q.UserInsert(ctx, db.UserInsertParams{
			Email: p.Email, PasswordHash: noPassword, Name: truncateRunes(p.Name, maxNameLen), Role: db.UserRoleCUSTOMER,
		})
		if postgres.IsUniqueViolation(err, "users_email_key") {
			return User{}, apperr.New(apperr.Conflict, "Another sign-in with this email is in progress. Try again.")
		}
		if err != nil {
			return User{}, fmt.Errorf("insert user: %w", err)
		}
		if p.EmailVerified {
			if row, err = q.UserMarkEmailVerified(ctx, row.ID); err != nil {
				return User{}, fmt.Errorf("mark email verified: %w", err)
			}
		}
	default:
		return User{}, fmt.Errorf("get user by email: %w", err)
	}
	_, err = q.ExternalIdentityInsert(ctx, db.ExternalIdentityInsertParams{
		UserID: row.ID, Provider: provider, Subject: p.Subject, Email: p.Email, EmailVerified: p.EmailVerified,
	})
	if postgres.IsUniqueViolation(err, "external_identities_user_provider_key") {
		return User{}, apperr.New(apperr.ExternalAccountConflict, "The account with this email is linked to another identity of this provider.")
	}
	if postgres.IsUniqueViolation(err, "external_identities_provider_subject_key") {
		return User{}, apperr.New(apperr.Conflict, "Another sign-in of this identity is in progress. Try again.")
	}
	if err != nil {
		return User{}, fmt.Errorf("insert identity: %w", err)
	}
	return userFromRow(row), nil
}

// ExternalAccounts lists the identities linked to account userID, to that account only.
// Errors: NOT_FOUND (for anyone else).
func (e *ExternalAuth) ExternalAccounts(ctx context.Context, v auth.Viewer, userID int64) ([]ExternalAccount, error) {
	if !canSeeExternalAccounts(v, userID) {
		return nil, apperr.New(apperr.NotFound, "user not found")
	}
	rows, err := e.accounts.db.ExternalIdentityListByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list identities: %w", err)
	}
	out := make([]ExternalAccount, len(rows))
	for i, r := range rows {
		out[i] = ExternalAccount{Provider: r.Provider, Email: r.Email, CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// Unlink removes the viewer's identity at provider, unless it is the account's last way to
// sign in (no password and no other identity).
// Errors: NOT_FOUND (no such identity), LAST_SIGN_IN_METHOD.
func (e *ExternalAuth) Unlink(ctx context.Context, v auth.Viewer, provider string) (User, error) {
	err := e.accounts.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		hasPassword, err := q.ExternalIdentityUserLock(ctx, v.UserID)
		if err != nil {
			return postgres.MapError(err, "user")
		}
		linked, err := q.ExternalIdentityListByUser(ctx, v.UserID)
		if err != nil {
			return fmt.Errorf("list identities: %w", err)
		}
		if !slices.ContainsFunc(linked, func(r db.ExternalIdentity) bool { return r.Provider == provider }) {
			return apperr.FieldError(apperr.NotFound, "No account of this provider is linked.", "input", "provider")
		}
		if err := mayUnlink(hasPassword, len(linked)); err != nil {
			return err
		}
		_, err = q.ExternalIdentityDelete(ctx, db.ExternalIdentityDeleteParams{UserID: v.UserID, Provider: provider})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return e.accounts.Get(ctx, v.UserID)
}

// randomToken is 256 random bits, URL-safe: a state, a nonce or a PKCE verifier (RFC 7636
// wants 43 to 128 characters; this is 43).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
