package apperr

// Codes of social login (OAuth 2.0 / OpenID Connect sign-in; internal/account/external*.go).
// They mirror the GraphQL ErrorCode enum (schema/account_external.graphqls).
const (
	// ProviderNotConfigured names a sign-in provider this shop has no settings for.
	ProviderNotConfigured Code = "PROVIDER_NOT_CONFIGURED"
	// ProviderUnavailable is a provider that could not be reached (discovery, token exchange
	// network errors): trying again later may work.
	ProviderUnavailable Code = "PROVIDER_UNAVAILABLE"
	// InvalidRedirectURI is a redirect URI not on EXTERNAL_AUTH_REDIRECT_URIS.
	InvalidRedirectURI Code = "INVALID_REDIRECT_URI"
	// InvalidState is a state that was never issued, has expired, was already used, or was
	// issued for another provider.
	InvalidState Code = "INVALID_STATE"
	// InvalidIDToken is an ID token that fails verification: signature, issuer, audience,
	// expiry or nonce.
	InvalidIDToken Code = "INVALID_ID_TOKEN"
	// ExternalAuthFailed is a provider that refused the sign-in (a code it did not accept).
	ExternalAuthFailed Code = "EXTERNAL_AUTH_FAILED"
	// EmailNotVerified refuses to link a provider's identity to the existing account with the
	// same email, because the provider does not vouch for the email.
	EmailNotVerified Code = "EMAIL_NOT_VERIFIED"
	// ExternalEmailRequired is a first sign-in whose provider gave no email address.
	ExternalEmailRequired Code = "EXTERNAL_EMAIL_REQUIRED"
	// ExternalAccountConflict is an identity that cannot join the account of its email,
	// which is linked to another identity of the same provider already.
	ExternalAccountConflict Code = "EXTERNAL_ACCOUNT_CONFLICT"
	// LastSignInMethod refuses to unlink the only way left to sign in to an account.
	LastSignInMethod Code = "LAST_SIGN_IN_METHOD"
)
