package idptest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// FacebookVersion is the Graph API version the stand-in answers under.
const FacebookVersion = "v23.0"

// FacebookUser is a person at the Facebook stand-in.
type FacebookUser struct {
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
}

type facebookGrant struct {
	user          FacebookUser
	redirectURI   string
	codeChallenge string
}

// Facebook stands in for Facebook Login: the login dialog (/vX/dialog/oauth), the code
// exchange (/vX/oauth/access_token) and /vX/me?fields=id,name,email with appsecret_proof,
// answering with the shapes Facebook documents, errors included.
type Facebook struct {
	*httptest.Server
	AppID, AppSecret string

	mu     sync.Mutex
	next   FacebookUser
	codes  map[string]facebookGrant
	tokens map[string]FacebookUser
}

// StartFacebook starts the stand-in for the test.
func StartFacebook(t testing.TB) *Facebook {
	f := &Facebook{AppID: "1234567890", AppSecret: randomString(), codes: map[string]facebookGrant{}, tokens: map[string]FacebookUser{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+FacebookVersion+"/dialog/oauth", f.dialog)
	mux.HandleFunc("/"+FacebookVersion+"/oauth/access_token", f.accessToken)
	mux.HandleFunc("GET /"+FacebookVersion+"/me", f.me)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// Env is the settings that point the server at the stand-in.
func (f *Facebook) Env() map[string]string {
	return map[string]string{
		"FACEBOOK_CLIENT_ID": f.AppID, "FACEBOOK_CLIENT_SECRET": f.AppSecret,
		"FACEBOOK_DIALOG_URL": f.URL, "FACEBOOK_GRAPH_URL": f.URL, "FACEBOOK_API_VERSION": FacebookVersion,
	}
}

// QueueUser makes the next login dialog that of u.
func (f *Facebook) QueueUser(u FacebookUser) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next = u
}

func (f *Facebook) dialog(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != f.AppID || q.Get("redirect_uri") == "" {
		graphError(w, http.StatusBadRequest, "Invalid App ID", 101)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		graphError(w, http.StatusBadRequest, "Invalid redirect_uri", 191)
		return
	}
	code := randomString()
	f.mu.Lock()
	f.codes[code] = facebookGrant{user: f.next, redirectURI: q.Get("redirect_uri"), codeChallenge: q.Get("code_challenge")}
	f.mu.Unlock()
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (f *Facebook) accessToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		graphError(w, http.StatusBadRequest, err.Error(), 100)
		return
	}
	if r.Form.Get("client_id") != f.AppID || r.Form.Get("client_secret") != f.AppSecret {
		graphError(w, http.StatusBadRequest, "Error validating client secret.", 1)
		return
	}
	f.mu.Lock()
	grant, ok := f.codes[r.Form.Get("code")]
	delete(f.codes, r.Form.Get("code")) // a code works once
	f.mu.Unlock()
	if !ok {
		graphError(w, http.StatusBadRequest, "This authorization code has been used.", 100)
		return
	}
	if grant.redirectURI != r.Form.Get("redirect_uri") {
		graphError(w, http.StatusBadRequest, "Can't load URL: redirect_uri is not identical to the one used in the OAuth dialog request", 191)
		return
	}
	sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
	if grant.codeChallenge != "" && base64.RawURLEncoding.EncodeToString(sum[:]) != grant.codeChallenge {
		graphError(w, http.StatusBadRequest, "Invalid code verifier", 100)
		return
	}
	token := randomString()
	f.mu.Lock()
	f.tokens[token] = grant.user
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": token, "token_type": "bearer", "expires_in": 5183944})
}

func (f *Facebook) me(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	u, ok := f.tokens[q.Get("access_token")]
	f.mu.Unlock()
	if !ok {
		graphError(w, http.StatusBadRequest, "Invalid OAuth access token.", 190)
		return
	}
	mac := hmac.New(sha256.New, []byte(f.AppSecret))
	mac.Write([]byte(q.Get("access_token")))
	if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(q.Get("appsecret_proof"))) {
		graphError(w, http.StatusBadRequest, "Invalid appsecret_proof provided in the API argument", 100)
		return
	}
	if q.Get("fields") != "id,name,email" {
		graphError(w, http.StatusBadRequest, "unexpected fields", 100)
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// graphError is the Graph API's error shape.
func graphError(w http.ResponseWriter, status int, message string, code int) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf123",
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
