package playground

import (
	"bufio"
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
	switch {
	case strings.Contains(params.Query, "__schema"):
		_, _ = w.Write(f.introspection)
	case strings.Contains(params.Query, "accountLogin"):
		// Like the real server: the session lives in an HttpOnly cookie.
		http.SetCookie(w, &http.Cookie{
			Name: sessionCookie, Value: "logged-in", Path: "/",
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
		})
		_, _ = io.WriteString(w, `{"data":{"accountLogin":{"errors":[]}}}`)
	case strings.Contains(params.Query, "me"):
		// Echo the cookie so the browser side can see what was sent.
		resp, _ := json.Marshal(map[string]any{"data": map[string]any{"me": map[string]any{"email": "session=" + cookie}}})
		_, _ = w.Write(resp)
	default:
		_, _ = io.WriteString(w, `{"data":{"__typename":"Query"}}`)
	}
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
func newBrowserTestServer(t *testing.T, tabs ...Tab) (*httptest.Server, *fakeGraphQL) {
	t.Helper()
	introspection, err := os.ReadFile(filepath.Join("testdata", "introspection.json"))
	require.NoError(t, err)
	fake := &fakeGraphQL{introspection: introspection}

	page := Page("/graphql", tabs...)
	js := loadAssets()["playground.js"]
	require.NotNil(t, js)

	mux := http.NewServeMux()
	mux.Handle("POST /graphql", fake)
	mux.Handle("GET "+AssetsPrefix("/graphql"), Handler("/graphql", tabs...))
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

// chromiumFlags are the flags every run uses.
func chromiumFlags(t *testing.T) []string {
	return []string{
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
		"--window-size=1400,900",
	}
}

// runChromium runs headless Chromium on url with the given extra flags and
// returns its standard output.
func runChromium(t *testing.T, chromium, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append(chromiumFlags(t), "--virtual-time-budget=10000")
	args = append(args, flags...)
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

// TestBrowserOpensExampleTabs checks that the page's example operations open as GraphiQL tabs,
// named after their operations, the first one in the editor.
func TestBrowserOpensExampleTabs(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no chromium binary (/usr/bin/chromium); install Debian's chromium package to run the browser smoke test")
	}
	srv, _ := newBrowserTestServer(t,
		Tab{Query: "mutation SignInExample { accountLogin { __typename } }", Variables: `{"input": {}}`},
		Tab{Query: "query BrowseExample { me { email } }"},
		Tab{Query: "query FollowExample { __typename }"},
	)

	dom := runChromium(t, chromium, srv.URL+"/graphql", "--dump-dom")

	state, _ := bodyAttr(t, dom, "data-playground-state")
	playgroundErr, _ := bodyAttr(t, dom, "data-playground-error")
	require.Equal(t, "schema-loaded", state, "playground error: %q", playgroundErr)
	tabs, _ := bodyAttr(t, dom, "data-playground-tabs")
	require.Equal(t, "3", tabs)
	violations, _ := bodyAttr(t, dom, "data-csp-violations")
	require.Equal(t, "0", violations)
	for _, name := range []string{"SignInExample", "BrowseExample", "FollowExample"} {
		require.Regexp(t, `graphiql-tab-button[^>]*>`+name+`<`, dom, "no tab %s", name)
	}
	require.Contains(t, dom, "SignInExample</span>", "the first tab's query is in the editor")
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

// cdpPipe speaks the Chrome DevTools Protocol over --remote-debugging-pipe
// (NUL-delimited JSON on file descriptors 3 and 4), which needs no
// WebSocket client.
type cdpPipe struct {
	w    io.Writer
	r    *bufio.Reader
	next int
}

// call sends one command and waits for its reply, skipping events.
func (c *cdpPipe) call(sessionID, method string, params any) (json.RawMessage, error) {
	c.next++
	msg := map[string]any{"id": c.next, "method": method, "params": params}
	if sessionID != "" {
		msg["sessionId"] = sessionID
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return nil, err
	}
	for {
		frame, err := c.r.ReadBytes(0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", method, err)
		}
		var reply struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(frame[:len(frame)-1], &reply); err != nil {
			return nil, err
		}
		if reply.ID != c.next {
			continue // an event or a stale reply
		}
		if reply.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, reply.Error.Message)
		}
		return reply.Result, nil
	}
}

// eval evaluates expression in the page (awaiting promises) and returns its
// value as JSON.
func (c *cdpPipe) eval(sessionID, expression string) (json.RawMessage, error) {
	res, err := c.call(sessionID, "Runtime.evaluate", map[string]any{
		"expression": expression, "awaitPromise": true, "returnByValue": true,
	})
	if err != nil {
		return nil, err
	}
	var out struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &out); err != nil {
		return nil, err
	}
	if e := out.ExceptionDetails; e != nil {
		return nil, fmt.Errorf("page exception: %s %s", e.Text, e.Exception.Description)
	}
	return out.Result.Value, nil
}

// interactionScript drives the playground like a user: log in with the
// accountLogin mutation, run a query that needs the session cookie, open a
// dialog (Radix dialogs lock scrolling with injected CSS, the classic
// style-src trap), and open the doc explorer and the explorer plugin.
const interactionScript = `(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const waitFor = async (fn, ms = 10000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
      const v = fn();
      if (v) return v;
    }
    return null;
  };
  const $ = (sel) => document.querySelector(sel);
  const response = () => $('.graphiql-response .CodeMirror')?.CodeMirror.getValue() || '';
  const run = async (query, marker) => {
    $('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(query);
    await sleep(100);
    $('.graphiql-execute-button').click();
    return (await waitFor(() => response().includes(marker) && response())) || response();
  };
  const out = {};
  out.login = await run('mutation Login { accountLogin(email: "a@example.com", password: "pw") { errors } }', 'accountLogin');
  out.me = await run('query Me { me { email } }', 'session=');

  $('button[aria-label="Open settings dialog"]').click();
  out.dialog = !!(await waitFor(() => $('[role="dialog"]')));
  await sleep(300);
  out.adoptedSheets = document.adoptedStyleSheets.length;
  document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
  out.dialogClosed = !!(await waitFor(() => !$('[role="dialog"]')));

  $('button[aria-label="Show Documentation Explorer"]').click();
  out.docs = !!(await waitFor(() => $('.graphiql-doc-explorer')?.textContent.includes('Root Types')));
  $('button[aria-label="Show GraphiQL Explorer"]').click();
  out.explorer = !!(await waitFor(() => $('.graphiql-explorer-root')?.textContent.includes('products')));

  await sleep(300);
  out.violations = document.body.dataset.cspViolations;
  out.details = document.body.dataset.cspViolationDetails || '';
  return out;
})()`

// TestBrowserInteraction logs in through the playground, checks that the
// HttpOnly cookie set by accountLogin authenticates the next request, and
// that opening dialogs and plugins causes no CSP violation.
func TestBrowserInteraction(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("no chromium binary (/usr/bin/chromium); install Debian's chromium package to run the browser smoke test")
	}
	srv, fake := newBrowserTestServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	toChrome, ourEnd, err := os.Pipe()
	require.NoError(t, err)
	fromChrome, chromeEnd, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.CommandContext(ctx, chromium, append(chromiumFlags(t), "--remote-debugging-pipe", "about:blank")...)
	cmd.ExtraFiles = []*os.File{toChrome, chromeEnd} // fd 3: commands in, fd 4: replies out
	stderr := &lockedBuilder{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	_ = toChrome.Close()
	_ = chromeEnd.Close()
	defer func() {
		_ = ourEnd.Close()
		_ = fromChrome.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	c := &cdpPipe{w: ourEnd, r: bufio.NewReader(fromChrome)}
	res, err := c.call("", "Target.createTarget", map[string]any{"url": srv.URL + "/graphql"})
	require.NoError(t, err, "chromium: %s", stderr.String())
	var target struct {
		TargetID string `json:"targetId"`
	}
	require.NoError(t, json.Unmarshal(res, &target))
	res, err = c.call("", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	require.NoError(t, err)
	var session struct {
		SessionID string `json:"sessionId"`
	}
	require.NoError(t, json.Unmarshal(res, &session))

	// Wait for the schema to load.
	state := ""
	for deadline := time.Now().Add(30 * time.Second); state != "schema-loaded" && time.Now().Before(deadline); {
		v, err := c.eval(session.SessionID, `document.body ? (document.body.dataset.playgroundState || "") : ""`)
		if err == nil {
			_ = json.Unmarshal(v, &state)
		}
		if state != "schema-loaded" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	require.Equal(t, "schema-loaded", state)

	v, err := c.eval(session.SessionID, interactionScript)
	require.NoError(t, err)
	var out struct {
		Login, Me, Violations, Details string
		Dialog, DialogClosed           bool
		AdoptedSheets                  int
		Docs, Explorer                 bool
	}
	require.NoError(t, json.Unmarshal(v, &out), "%s", v)
	t.Logf("interaction result: %s", v)

	require.Contains(t, out.Login, `"accountLogin"`)
	require.Contains(t, out.Me, `session=logged-in`, "cookie set by accountLogin not sent with the next request")
	require.True(t, out.Dialog, "settings dialog did not open")
	require.True(t, out.DialogClosed, "settings dialog did not close")
	require.True(t, out.Docs, "doc explorer did not show the schema")
	require.True(t, out.Explorer, "explorer plugin did not show the schema")
	require.Equal(t, "0", out.Violations, "CSP violations: %s", out.Details)
	require.Positive(t, out.AdoptedSheets, "scroll-lock CSS should be a constructable stylesheet (react-style-singleton shim)")

	// Every request was a JSON POST; the ones after login carried the new cookie.
	reqs := fake.requests()
	var afterLogin bool
	for _, r := range reqs {
		require.Equal(t, "application/json", r.ContentType)
		if afterLogin {
			require.Equal(t, "logged-in", r.Cookie)
		}
		if r.OperationName == "Login" {
			afterLogin = true
		}
	}
	require.True(t, afterLogin, "the Login mutation never reached the server")

	_, _ = c.call("", "Browser.close", map[string]any{})
}

// lockedBuilder is a strings.Builder safe for exec's copying goroutine and the test to share.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
