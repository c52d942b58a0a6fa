package app

import (
	"context"
	"log/slog"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/config"
	"github.com/shopgraph/shopgraph/internal/identityprovider"
)

// newExternalAuth builds social login from its settings. OpenID Connect discovery starts in
// the background: a provider that is down at start-up does not delay the start, and is
// discovered again on first use.
func newExternalAuth(ctx context.Context, cfg config.ExternalAuth, accounts *account.Service, log *slog.Logger) *account.ExternalAuth {
	var providers []account.ExternalProvider
	for _, p := range cfg.OIDC {
		o := identityprovider.NewOIDC(identityprovider.OIDCConfig{
			Name: p.Name, Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		}, nil, log)
		o.Discover(context.WithoutCancel(ctx))
		providers = append(providers, o)
	}
	if fb := cfg.Facebook; fb != nil {
		providers = append(providers, identityprovider.NewFacebook(identityprovider.FacebookConfig{
			ClientID: fb.ClientID, ClientSecret: fb.ClientSecret, DialogBase: fb.DialogURL, GraphBase: fb.GraphURL, APIVersion: fb.APIVersion,
		}, nil))
	}
	return account.NewExternalAuth(accounts, providers, cfg.RedirectURIs)
}
