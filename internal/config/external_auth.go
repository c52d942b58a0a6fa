package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
)

// OIDCProvider is one OpenID Connect sign-in provider (OIDC_PROVIDERS, or Google's settings).
type OIDCProvider struct {
	Name         string
	Issuer       string
	ClientID     string
	ClientSecret string
}

// FacebookLogin is Facebook Login's settings; nil when FACEBOOK_CLIENT_ID is not set.
type FacebookLogin struct {
	ClientID     string
	ClientSecret string
	// DialogURL and GraphURL are the bases of Facebook's login dialog and Graph API
	// (FACEBOOK_DIALOG_URL, FACEBOOK_GRAPH_URL): tests point them at a stand-in.
	DialogURL  string
	GraphURL   string
	APIVersion string
}

// ExternalAuth is social login's settings. A provider without settings is simply not offered.
type ExternalAuth struct {
	// OIDC is Google (GOOGLE_CLIENT_ID/SECRET) then the OIDC_PROVIDERS, in order.
	OIDC     []OIDCProvider
	Facebook *FacebookLogin
	// RedirectURIs are the only URIs a sign-in may return to (EXTERNAL_AUTH_REDIRECT_URIS),
	// compared exactly.
	RedirectURIs []string
}

var providerName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// loadExternalAuth reads social login's settings:
//
//	OIDC_PROVIDERS              name,issuer,client id,client secret; entries separated by ';'
//	GOOGLE_CLIENT_ID/_SECRET    Google (OIDC at GOOGLE_ISSUER, default https://accounts.google.com)
//	FACEBOOK_CLIENT_ID/_SECRET  Facebook Login (FACEBOOK_DIALOG_URL, FACEBOOK_GRAPH_URL, FACEBOOK_API_VERSION)
//	EXTERNAL_AUTH_REDIRECT_URIS the redirect URIs allowed, separated by ','
func loadExternalAuth(getenv func(string) string, production bool) (ExternalAuth, []error) {
	var (
		ea   ExternalAuth
		errs []error
	)
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	checkURL := func(key, raw string) {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			errs = append(errs, fmt.Errorf("%s: %q is not an absolute http(s) URL", key, raw))
		case production && u.Scheme != "https":
			errs = append(errs, fmt.Errorf("%s: %q must be https in production", key, raw))
		}
	}
	names := map[string]bool{}
	add := func(key string, p OIDCProvider) {
		switch {
		case !providerName.MatchString(p.Name):
			errs = append(errs, fmt.Errorf("%s: provider name %q must be 1-32 of a-z, 0-9, '-', '_'", key, p.Name))
		case names[p.Name] || p.Name == "facebook":
			errs = append(errs, fmt.Errorf("%s: provider %q is configured twice", key, p.Name))
		case p.ClientID == "" || p.ClientSecret == "":
			errs = append(errs, fmt.Errorf("%s: provider %q needs a client id and a client secret", key, p.Name))
		}
		checkURL(key, p.Issuer)
		names[p.Name] = true
		ea.OIDC = append(ea.OIDC, p)
	}
	if id, secret := get("GOOGLE_CLIENT_ID"), get("GOOGLE_CLIENT_SECRET"); id != "" || secret != "" {
		issuer := get("GOOGLE_ISSUER")
		if issuer == "" {
			issuer = "https://accounts.google.com"
		}
		add("GOOGLE_CLIENT_ID", OIDCProvider{Name: "google", Issuer: issuer, ClientID: id, ClientSecret: secret})
	}
	for _, entry := range strings.Split(getenv("OIDC_PROVIDERS"), ";") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		f := strings.Split(entry, ",")
		if len(f) != 4 {
			errs = append(errs, errors.New("OIDC_PROVIDERS: each entry is name,issuer,client id,client secret (entries separated by ';')"))
			continue
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		add("OIDC_PROVIDERS", OIDCProvider{Name: f[0], Issuer: f[1], ClientID: f[2], ClientSecret: f[3]})
	}
	if id, secret := get("FACEBOOK_CLIENT_ID"), get("FACEBOOK_CLIENT_SECRET"); id != "" || secret != "" {
		if id == "" || secret == "" {
			errs = append(errs, errors.New("FACEBOOK_CLIENT_ID and FACEBOOK_CLIENT_SECRET go together"))
		}
		fb := &FacebookLogin{ClientID: id, ClientSecret: secret, DialogURL: get("FACEBOOK_DIALOG_URL"),
			GraphURL: get("FACEBOOK_GRAPH_URL"), APIVersion: get("FACEBOOK_API_VERSION")}
		for key, v := range map[string]string{"FACEBOOK_DIALOG_URL": fb.DialogURL, "FACEBOOK_GRAPH_URL": fb.GraphURL} {
			if v != "" {
				checkURL(key, v)
			}
		}
		if fb.APIVersion != "" && !regexp.MustCompile(`^v[0-9]+\.[0-9]+$`).MatchString(fb.APIVersion) {
			errs = append(errs, fmt.Errorf("FACEBOOK_API_VERSION must look like v23.0, got %q", fb.APIVersion))
		}
		ea.Facebook = fb
	}
	for _, u := range strings.Split(getenv("EXTERNAL_AUTH_REDIRECT_URIS"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			checkURL("EXTERNAL_AUTH_REDIRECT_URIS", u)
			ea.RedirectURIs = append(ea.RedirectURIs, u)
		}
	}
	return ea, errs
}

// LogValue names the providers and redirect URIs, never a secret.
func (ea ExternalAuth) LogValue() slog.Value {
	var providers []string
	for _, p := range ea.OIDC {
		providers = append(providers, p.Name+"="+p.Issuer)
	}
	if ea.Facebook != nil {
		providers = append(providers, "facebook")
	}
	return slog.GroupValue(slog.Any("providers", providers), slog.Any("redirect_uris", ea.RedirectURIs))
}
