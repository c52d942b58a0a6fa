package playground

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// This file holds a headless-Chromium smoke test of the real bundle. It
// needs Debian's chromium package (apt-get install chromium) and is skipped
// when no chromium binary is installed.
//
// Set PLAYGROUND_SCREENSHOT=/some/file.png to also save a screenshot of the
// rendered playground.

const sessionCookie = "sg_session"

// findChromium returns the Chromium binary, or "" if there is none.
func findChromium() string {
	if fi, err := os.Stat("/usr/bin/chromium"); err == nil && !fi.IsDir() {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// gqlRequest is what the fake GraphQL endpoint saw.
type gqlRequest struct {
	ContentType   string
	Cookie        string
	OperationName string
	Query         string
}

// fakeGraphQL answers the introspection query with a canned schema and
// records every request.
type fakeGraphQL struct {
	introspection []byte

	mu   sync.Mutex
	seen []gqlRequest
}

func (f *fakeGraphQL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var params struct {
		Query         string `json:"query"`
		OperationName string `json:"operationName"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err := json.Unmarshal(body, &params); err != nil {
		http.Error(w, `{"errors":[{"message":"bad JSON"}]}`, http.StatusBadRequest)
		return
	}
	cookie := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		cookie = c.Value
	}
	f.mu.Lock()
	f.seen = append(f.seen, gqlRequest{
		ContentType:   r.Header.Get("Content-Type"),
		Cookie:        cookie,
		OperationName: params.OperationName,
		Query:         params.Query,
	})
	f.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(params.Query, "__schema") {
		_, _ = w.Write(f.introspection)
		return
	}
	_, _ = io.WriteString(w, `{"data":{"__typename":"Query"}}`)
}

func (f *fakeGraphQL) requests() []gqlRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]gqlRequest(nil), f.seen...)
}

// newBrowserTestServer serves the playground at GET /graphql (setting an
// HttpOnly session cookie, as accountLogin would), its assets, the fake
// GraphQL endpoint at POST /graphql, and at GET /csp-probe a deliberately
// non-compliant page used to prove that violations are detected.
func newBrowserTestServer(t *testing.T) (*httptest.Server, *fakeGraphQL) {
	t.Helper()
	introspection, err := os.ReadFile(filepath.Join("testdata", "introspection.json"))
	require.NoError(t, err)
	fake := &fakeGraphQL{introspection: introspection}

	page := Page("/graphql")
	js := loadAssets()["playground.js"]
	require.NotNil(t, js)

	mux := http.NewServeMux()
	mux.Handle("POST /graphql", fake)
	mux.Handle("GET "+AssetsPrefix("/graphql"), Handler("/graphql"))
	mux.HandleFunc("GET /graphql", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{
			Name: sessionCookie, Value: "s3cr3t", Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		page.ServeHTTP(w, r)
	})
	// The bundle is loaded synchronously before the offending markup, so its
	// securitypolicyviolation listener is in place when the violations occur.
	mux.HandleFunc("GET /csp-probe", func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8">
<script src="/graphql/assets/playground.js?v=%s"></script></head>
<body><div id="graphiql" data-endpoint="/graphql"></div>
<p style="color: red">inline style</p><script>document.body.dataset.inlineScript = "ran";</script>
</body></html>`, js.version)
	})

	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, fake
}

// runChromium runs headless Chromium on url with the given extra flags and
// returns its standard output.
func runChromium(t *testing.T, chromium, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--disable-dev-shm-usage",
		"--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=10000",
		"--window-size=1400,900",
	}, flags...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium failed: %s", stderr.String())
	return string(out)
}

var bodyTagRe = regexp.MustCompile(`(?s)<body\b([^>]*)>`)

// bodyAttr returns the (unescaped) value of attribute name on <body>.
func bodyAttr(t *testing.T, dom, name string) (string, bool) {
	t.Helper()
	m := bodyTagRe.FindStringSubmatch(dom)
	require.NotNil(t, m, "no <body> in dumped DOM")
	am := regexp.MustCompile(`\s` + regexp.QuoteMeta(name) + `="([^"]*)"`).FindStringSubmatch(m[1])
	if am == nil {
		return "", false
	}
	return html.UnescapeString(am[1]), true
}

func TestBrowserRendersGraphiQL(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no chromium binary (/usr/bin/chromium); install Debian's chromium package to run the browser smoke test")
	}
	srv, fake := newBrowserTestServer(t)

	dom := runChromium(t, chromium, srv.URL+"/graphql", "--dump-dom")

	details, _ := bodyAttr(t, dom, "data-csp-violation-details")
	violations, ok := bodyAttr(t, dom, "data-csp-violations")
	require.True(t, ok, "bundle did not run: no data-csp-violations on <body>; DOM:\n%.2000s", dom)
	require.Equal(t, "0", violations, "CSP violations: %s", details)

	state, _ := bodyAttr(t, dom, "data-playground-state")
	playgroundErr, _ := bodyAttr(t, dom, "data-playground-error")
	require.Equal(t, "schema-loaded", state, "playground error: %q", playgroundErr)

	for _, want := range []string{
		`class="graphiql-container"`,               // GraphiQL rendered
		`class="graphiql-query-editor"`,            // query editor
		`class="CodeMirror cm-s-graphiql"`,         // CodeMirror editors
		`data-name="headers">Headers</button>`,     // header editor enabled
		`aria-label="Show Documentation Explorer"`, // doc explorer
		`aria-label="Show GraphiQL Explorer"`,      // explorer plugin
		`aria-label="Execute query (Ctrl-Enter)"`,  // run button
	} {
		require.True(t, strings.Contains(dom, want), "rendered DOM lacks %s", want)
	}
	require.False(t, strings.Contains(dom, "Loading the GraphQL playground"), "loading placeholder still shown")

	// The introspection request was a same-origin JSON POST carrying the
	// HttpOnly session cookie.
	reqs := fake.requests()
	require.NotEmpty(t, reqs, "no request reached the fake GraphQL endpoint")
	var sawIntrospection bool
	for _, r := range reqs {
		require.Equal(t, "application/json", r.ContentType)
		require.Equal(t, "s3cr3t", r.Cookie, "session cookie not sent")
		if strings.Contains(r.Query, "__schema") {
			sawIntrospection = true
		}
	}
	require.True(t, sawIntrospection)

	if path := os.Getenv("PLAYGROUND_SCREENSHOT"); path != "" {
		runChromium(t, chromium, srv.URL+"/graphql", "--screenshot="+path, "--hide-scrollbars")
		t.Logf("screenshot written to %s", path)
	}
}

// TestBrowserReportsCSPViolations is the control for the test above: on a
// page with inline style and script the bundle's reporter must count
// violations, so a "0" there means something.
func TestBrowserReportsCSPViolations(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no chromium binary (/usr/bin/chromium); install Debian's chromium package to run the browser smoke test")
	}
	srv, _ := newBrowserTestServer(t)

	dom := runChromium(t, chromium, srv.URL+"/csp-probe", "--dump-dom")

	_, ran := bodyAttr(t, dom, "data-inline-script")
	require.False(t, ran, "inline script was not blocked")
	violations, ok := bodyAttr(t, dom, "data-csp-violations")
	require.True(t, ok, "bundle did not run; DOM:\n%.2000s", dom)
	n, err := strconv.Atoi(violations)
	require.NoError(t, err)
	details, _ := bodyAttr(t, dom, "data-csp-violation-details")
	require.GreaterOrEqual(t, n, 2, "expected the inline style and script to be reported: %s", details)
	require.Contains(t, details, "style-src")
	require.Contains(t, details, "script-src")
}
