// Package identityprovider is social login's adapters: OpenID Connect providers (Google,
// Auth0, Keycloak, Okta, ...) through golang.org/x/oauth2 and github.com/coreos/go-oidc, and
// Facebook's OAuth 2.0 flow and Graph API. Each implements account.ExternalProvider; they speak
// HTTP, which the account domain never does.
package identityprovider
