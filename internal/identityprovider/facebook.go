package identityprovider

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/apperr"
)

// Facebook's defaults: where its login dialog and its Graph API are, and the API version.
const (
	FacebookDialogBase = "https://www.facebook.com"
	FacebookGraphBase  = "https://graph.facebook.com"
	FacebookAPIVersion = "v23.0"
)

// FacebookConfig is Facebook Login's settings. The base URLs are overridable for tests.
type FacebookConfig struct {
	ClientID     string
	ClientSecret string
	DialogBase   string
	GraphBase    string
	APIVersion   string
}

// Facebook is Facebook Login's OAuth 2.0 flow ("manually build a login flow"): the login
// dialog, the code exchanged at /oauth/access_token, then /me?fields=id,name,email with an
// appsecret_proof. Facebook issues no ID token here, so there is no nonce to check; the state
// and the PKCE verifier bind the code to the sign-in. Facebook's /me says nothing of whether
// the email was verified, so its email is never treated as verified: a Facebook identity may
// create an account, never join an existing one.
type Facebook struct {
	cfg    FacebookConfig
	client *http.Client
}

// NewFacebook returns Facebook Login; client makes its HTTP calls (nil: a 10 s timeout).
func NewFacebook(cfg FacebookConfig, client *http.Client) *Facebook {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.DialogBase == "" {
		cfg.DialogBase = FacebookDialogBase
	}
	if cfg.GraphBase == "" {
		cfg.GraphBase = FacebookGraphBase
	}
	if cfg.APIVersion == "" {
		cfg.APIVersion = FacebookAPIVersion
	}
	cfg.DialogBase, cfg.GraphBase = strings.TrimSuffix(cfg.DialogBase, "/"), strings.TrimSuffix(cfg.GraphBase, "/")
	return &Facebook{cfg: cfg, client: client}
}

// Name is "facebook".
func (f *Facebook) Name() string { return "facebook" }

func (f *Facebook) oauth2Config(redirectURI string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: f.cfg.ClientID, ClientSecret: f.cfg.ClientSecret, RedirectURL: redirectURI,
		Scopes: []string{"email", "public_profile"},
		Endpoint: oauth2.Endpoint{
			AuthURL:   f.cfg.DialogBase + "/" + f.cfg.APIVersion + "/dialog/oauth",
			TokenURL:  f.cfg.GraphBase + "/" + f.cfg.APIVersion + "/oauth/access_token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// AuthURL is the login dialog's URL with state and the S256 PKCE challenge.
func (f *Facebook) AuthURL(_ context.Context, req account.ExternalAuthRequest) (string, error) {
	return f.oauth2Config(req.RedirectURI).AuthCodeURL(req.State, oauth2.S256ChallengeOption(req.CodeVerifier)), nil
}

// Exchange redeems code for an access token and reads the person from /me.
func (f *Facebook) Exchange(ctx context.Context, code string, req account.ExternalAuthRequest) (account.ExternalProfile, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.client)
	token, err := f.oauth2Config(req.RedirectURI).Exchange(ctx, code, oauth2.VerifierOption(req.CodeVerifier))
	if err != nil {
		return account.ExternalProfile{}, exchangeError(err)
	}
	mac := hmac.New(sha256.New, []byte(f.cfg.ClientSecret))
	mac.Write([]byte(token.AccessToken))
	q := url.Values{
		"fields":          {"id,name,email"},
		"access_token":    {token.AccessToken},
		"appsecret_proof": {hex.EncodeToString(mac.Sum(nil))},
	}
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodGet, f.cfg.GraphBase+"/"+f.cfg.APIVersion+"/me?"+q.Encode(), nil)
	if err != nil {
		return account.ExternalProfile{}, err
	}
	resp, err := f.client.Do(httpReq)
	if err != nil {
		return account.ExternalProfile{}, apperr.Wrap(err, apperr.ProviderUnavailable, "Facebook cannot be reached. Try again shortly.")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return account.ExternalProfile{}, apperr.Wrap(err, apperr.ProviderUnavailable, "Facebook cannot be reached. Try again shortly.")
	}
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("facebook /me: %s: %s", resp.Status, body)
		if resp.StatusCode >= 500 {
			return account.ExternalProfile{}, apperr.Wrap(err, apperr.ProviderUnavailable, "Facebook cannot be reached. Try again shortly.")
		}
		return account.ExternalProfile{}, apperr.Wrap(err, apperr.ExternalAuthFailed, "Facebook did not accept this sign-in. Start again.")
	}
	var me struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := json.Unmarshal(body, &me); err != nil || me.ID == "" {
		return account.ExternalProfile{}, apperr.Wrap(fmt.Errorf("facebook /me: %q: %v", body, err), apperr.ExternalAuthFailed,
			"Facebook's answer was not understood. Start again.")
	}
	return account.ExternalProfile{Subject: me.ID, Email: me.Email, Name: me.Name}, nil
}
