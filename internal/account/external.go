package account

import (
	"context"
	"time"
)

// This file is social login's vocabulary: the providers an account may sign in with
// (Google, Facebook, any OpenID Connect provider) and what they say about a person. The
// providers themselves speak HTTP and live in internal/identityprovider, below no domain: the
// account domain sees them only through ExternalProvider.

// ExternalStateTTL is how long a sign-in may take between accountExternalAuthUrl and
// accountExternalLogin.
const ExternalStateTTL = 10 * time.Minute

// ExternalProvider is one configured sign-in provider.
type ExternalProvider interface {
	// Name is how the API names the provider: "google", "facebook", or a configured name.
	Name() string
	// AuthURL is the provider's authorization URL for one sign-in. It may fetch the
	// provider's discovery document the first time. Errors: PROVIDER_UNAVAILABLE.
	AuthURL(ctx context.Context, req ExternalAuthRequest) (string, error)
	// Exchange redeems an authorization code (with req's PKCE verifier) and returns the
	// identity, verified as the provider's protocol requires (an OpenID Connect ID token's
	// signature, issuer, audience, expiry and req's nonce).
	// Errors: EXTERNAL_AUTH_FAILED, INVALID_ID_TOKEN, PROVIDER_UNAVAILABLE.
	Exchange(ctx context.Context, code string, req ExternalAuthRequest) (ExternalProfile, error)
}

// ExternalAuthRequest is what one sign-in carries from its start to its end.
type ExternalAuthRequest struct {
	State        string
	Nonce        string
	CodeVerifier string
	RedirectURI  string
}

// ExternalProfile is a person as a provider vouches for them.
type ExternalProfile struct {
	// Subject is the provider's stable, unique id of the person.
	Subject string
	// Email is normalised by the account service; it may be empty.
	Email string
	// EmailVerified is whether the provider vouches that the person controls Email.
	EmailVerified bool
	Name          string
}

// ExternalAccount is an identity at a provider linked to an account.
type ExternalAccount struct {
	Provider  string
	Email     string
	CreatedAt time.Time
}
