package config

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExternalAuthSettings(t *testing.T) {
	t.Parallel()
	load := func(env map[string]string) (Config, error) {
		return Load(func(k string) string { return env[k] })
	}

	c, err := load(map[string]string{})
	require.NoError(t, err)
	require.Empty(t, c.ExternalAuth.OIDC, "unconfigured providers are simply absent")
	require.Nil(t, c.ExternalAuth.Facebook)

	c, err = load(map[string]string{
		"GOOGLE_CLIENT_ID": "g-id", "GOOGLE_CLIENT_SECRET": "g-secret",
		"OIDC_PROVIDERS":              " keycloak, https://kc.example.com/realms/shop ,kc-id,kc-secret ; okta,https://x.okta.com,o-id,o-secret",
		"FACEBOOK_CLIENT_ID":          "fb-id",
		"FACEBOOK_CLIENT_SECRET":      "fb-secret",
		"FACEBOOK_GRAPH_URL":          "http://127.0.0.1:9999",
		"EXTERNAL_AUTH_REDIRECT_URIS": "https://shop.example.com/cb, http://localhost:3000/cb",
	})
	require.NoError(t, err)
	require.Equal(t, []OIDCProvider{
		{Name: "google", Issuer: "https://accounts.google.com", ClientID: "g-id", ClientSecret: "g-secret"},
		{Name: "keycloak", Issuer: "https://kc.example.com/realms/shop", ClientID: "kc-id", ClientSecret: "kc-secret"},
		{Name: "okta", Issuer: "https://x.okta.com", ClientID: "o-id", ClientSecret: "o-secret"},
	}, c.ExternalAuth.OIDC)
	require.Equal(t, &FacebookLogin{ClientID: "fb-id", ClientSecret: "fb-secret", GraphURL: "http://127.0.0.1:9999"}, c.ExternalAuth.Facebook)
	require.Equal(t, []string{"https://shop.example.com/cb", "http://localhost:3000/cb"}, c.ExternalAuth.RedirectURIs)

	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "config", c)
	for _, secret := range []string{"g-secret", "kc-secret", "o-secret", "fb-secret"} {
		require.NotContains(t, logged.String(), secret)
	}
	require.Contains(t, logged.String(), "keycloak=https://kc.example.com/realms/shop")

	for name, env := range map[string]map[string]string{
		"an entry without a secret":     {"OIDC_PROVIDERS": "kc,https://kc.example.com,id"},
		"an empty secret":               {"OIDC_PROVIDERS": "kc,https://kc.example.com,id,"},
		"a bad name":                    {"OIDC_PROVIDERS": "Key Cloak,https://kc.example.com,id,s"},
		"a name twice":                  {"OIDC_PROVIDERS": "kc,https://a.example.com,id,s;kc,https://b.example.com,id,s"},
		"facebook as an OIDC name":      {"OIDC_PROVIDERS": "facebook,https://a.example.com,id,s"},
		"google twice":                  {"GOOGLE_CLIENT_ID": "a", "GOOGLE_CLIENT_SECRET": "b", "OIDC_PROVIDERS": "google,https://a.example.com,id,s"},
		"an issuer that is no URL":      {"OIDC_PROVIDERS": "kc,kc.example.com,id,s"},
		"a Google id without a secret":  {"GOOGLE_CLIENT_ID": "a"},
		"a Facebook id without secret":  {"FACEBOOK_CLIENT_ID": "a"},
		"a bad Facebook API version":    {"FACEBOOK_CLIENT_ID": "a", "FACEBOOK_CLIENT_SECRET": "b", "FACEBOOK_API_VERSION": "23"},
		"a redirect URI that is no URL": {"EXTERNAL_AUTH_REDIRECT_URIS": "/callback"},
	} {
		_, err := load(env)
		require.Error(t, err, name)
	}
	_, err = load(map[string]string{"APP_ENV": "production", "OIDC_PROVIDERS": "kc,http://kc.example.com,id,s"})
	require.ErrorContains(t, err, fmt.Sprintf("%q must be https in production", "http://kc.example.com"))
}
