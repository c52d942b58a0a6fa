package identityprovider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
)

// GoogleIssuer is Google's OpenID Connect issuer: Google is an OIDC provider like any other.
const GoogleIssuer = "https://accounts.google.com"

// discoveryRetryAfter spaces the attempts to fetch the discovery document of a provider that
// did not answer, so that a provider that is down costs each request little.
const discoveryRetryAfter = 5 * time.Second

// OIDCConfig is one OpenID Connect provider's settings.
type OIDCConfig struct {
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
}

// OIDC is an OpenID Connect provider. Its discovery document (endpoints, signing keys) is
// fetched on first need, and again after a failure: a provider that is down at start-up
// neither stops the start nor stays broken once it is back.
type OIDC struct {
	cfg    OIDCConfig
	client *http.Client
	log    *slog.Logger
	// retryAfter is discoveryRetryAfter (tests shorten it).
	retryAfter time.Duration

	mu         sync.Mutex
	provider   *oidc.Provider
	lastFailed time.Time
}

// NewOIDC returns the provider of cfg; client makes its HTTP calls (nil: one with a 10 s
// timeout).
func NewOIDC(cfg OIDCConfig, client *http.Client, log *slog.Logger) *OIDC {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &OIDC{cfg: cfg, client: client, log: log, retryAfter: discoveryRetryAfter}
}

// Name is the provider's configured name.
func (o *OIDC) Name() string { return o.cfg.Name }

// Discover fetches the discovery document now, in the background (at start-up): it never
// blocks, and a failure only means the first sign-in tries again.
func (o *OIDC) Discover(ctx context.Context) {
	go func() {
		if _, err := o.discovered(ctx); err != nil {
			o.log.WarnContext(ctx, "oidc discovery failed; will try again on use", "provider", o.cfg.Name, "err", err)
		}
	}()
}

func (o *OIDC) discovered(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	if !o.lastFailed.IsZero() && time.Since(o.lastFailed) < o.retryAfter {
		return nil, apperr.New(apperr.ProviderUnavailable, "The sign-in provider cannot be reached. Try again shortly.")
	}
	// The provider keeps the context for fetching signing keys later: it must outlive ctx.
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), o.client), o.cfg.Issuer)
	if err != nil {
		o.lastFailed = time.Now()
		return nil, apperr.Wrap(fmt.Errorf("discover %s: %w", o.cfg.Issuer, err), apperr.ProviderUnavailable,
			"The sign-in provider cannot be reached. Try again shortly.")
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth2Config(p *oidc.Provider, redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

// AuthURL is the authorization URL with state, nonce and the S256 PKCE challenge.
func (o *OIDC) AuthURL(ctx context.Context, req account.ExternalAuthRequest) (string, error) {
	p, err := o.discovered(ctx)
	if err != nil {
		return "", err
	}
	return o.oauth2Config(p, req.RedirectURI).AuthCodeURL(req.State,
		oidc.Nonce(req.Nonce), oauth2.S256ChallengeOption(req.CodeVerifier)), nil
}

// Exchange redeems code with the PKCE verifier and verifies the ID token: its signature
// against the provider's keys, issuer, audience (our client id), expiry, and nonce.
func (o *OIDC) Exchange(ctx context.Context, code string, req account.ExternalAuthRequest) (account.ExternalProfile, error) {
	p, err := o.discovered(ctx)
	if err != nil {
		return account.ExternalProfile{}, err
	}
	ctx = oidc.ClientContext(ctx, o.client)
	token, err := o.oauth2Config(p, req.RedirectURI).Exchange(ctx, code, oauth2.VerifierOption(req.CodeVerifier))
	if err != nil {
		return account.ExternalProfile{}, exchangeError(err)
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return account.ExternalProfile{}, invalidIDToken(errors.New("no id_token in the token response"))
	}
	idToken, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return account.ExternalProfile{}, invalidIDToken(err)
	}
	if idToken.Nonce == "" || idToken.Nonce != req.Nonce {
		return account.ExternalProfile{}, invalidIDToken(errors.New("nonce mismatch"))
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idToken.Claims(&claims); err != nil {
		return account.ExternalProfile{}, invalidIDToken(err)
	}
	return account.ExternalProfile{
		Subject: idToken.Subject, Email: claims.Email, EmailVerified: isTrue(claims.EmailVerified), Name: claims.Name,
	}, nil
}

// isTrue reads email_verified, which some providers send as the string "true".
func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

func invalidIDToken(err error) error {
	return apperr.Wrap(err, apperr.InvalidIDToken, "The provider's answer could not be verified. Start again.")
}

// exchangeError tells a provider that refused the code (EXTERNAL_AUTH_FAILED) from one that
// could not be reached (PROVIDER_UNAVAILABLE).
func exchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return apperr.Wrap(err, apperr.ExternalAuthFailed, "The provider did not accept this sign-in. Start again.")
	}
	return apperr.Wrap(err, apperr.ProviderUnavailable, "The sign-in provider cannot be reached. Try again shortly.")
}
