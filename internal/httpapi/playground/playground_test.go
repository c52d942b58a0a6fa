package playground

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// newMux wires the playground the way the server does.
func newMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /graphql", Page("/graphql"))
	mux.Handle("GET "+AssetsPrefix("/graphql"), Handler("/graphql"))
	return mux
}

func get(t *testing.T, h http.Handler, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func requireSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	require.Equal(t, ContentSecurityPolicy, h.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
}

var (
	scriptRe      = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	styleAttrRe   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	styleElemRe   = regexp.MustCompile(`(?i)<style\b`)
	eventAttrRe   = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	assetLinkRe   = regexp.MustCompile(`(?:href|src)="(/graphql/assets/[^"]+)"`)
	dataEndpoint  = regexp.MustCompile(`<div id="graphiql" data-endpoint="([^"]*)"`)
	immutableHint = "immutable"
)

func TestPageHasCSPAndNoInlineCode(t *testing.T) {
	rec := get(t, newMux(), "/graphql", http.Header{"Accept": {"text/html"}})
	require.Equal(t, http.StatusOK, rec.Code)
	requireSecurityHeaders(t, rec.Header())
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	require.NotEmpty(t, rec.Header().Get("ETag"))

	body := rec.Body.String()
	scripts := scriptRe.FindAllStringSubmatch(body, -1)
	require.Len(t, scripts, 1, "exactly one (external) script")
	for _, s := range scripts {
		require.Contains(t, s[1], "src=", "script must be external")
		require.Empty(t, strings.TrimSpace(s[2]), "inline script body")
	}
	require.NotRegexp(t, styleAttrRe, body, "inline style attribute")
	require.NotRegexp(t, styleElemRe, body, "inline <style> element")
	require.NotRegexp(t, eventAttrRe, body, "inline event handler")
	require.NotContains(t, strings.ToLower(body), "javascript:")

	links := assetLinkRe.FindAllStringSubmatch(body, -1)
	require.Len(t, links, 3)
	require.Regexp(t, `^/graphql/assets/favicon\.svg\?v=[0-9a-f]{16}$`, links[0][1])
	require.Regexp(t, `^/graphql/assets/playground\.css\?v=[0-9a-f]{16}$`, links[1][1])
	require.Regexp(t, `^/graphql/assets/playground\.js\?v=[0-9a-f]{16}$`, links[2][1])

	m := dataEndpoint.FindStringSubmatch(body)
	require.NotNil(t, m)
	require.Equal(t, "/graphql", m[1])
}

func TestPageCarriesTabs(t *testing.T) {
	tabs := []Tab{
		{Query: "query A { a }", Variables: `{"q": "</div><script>alert(1)</script>\"'"}`},
		{Query: "subscription B { b }", Headers: `{"X-Cart-Token": "t"}`},
	}
	body := get(t, Page("/graphql", tabs...), "/graphql", nil).Body.String()
	m := regexp.MustCompile(`<div id="graphiql" data-endpoint="/graphql" data-tabs="([^"]*)">`).FindStringSubmatch(body)
	require.NotNil(t, m, body)
	var got []Tab
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(m[1])), &got))
	require.Equal(t, tabs, got)
	scripts := scriptRe.FindAllStringSubmatch(body, -1)
	require.Len(t, scripts, 1, "the tabs are data, escaped: no script gets in")
	require.Empty(t, strings.TrimSpace(scripts[0][2]))

	require.NotContains(t, get(t, Page("/graphql"), "/graphql", nil).Body.String(), "data-tabs", "no tabs, no attribute")
	require.Contains(t, get(t, Handler("/graphql", tabs...), "/playground", nil).Body.String(), "data-tabs=")
}

func TestPageConditionalAndHead(t *testing.T) {
	mux := newMux()
	first := get(t, mux, "/graphql", nil)
	require.Equal(t, http.StatusOK, first.Code)

	again := get(t, mux, "/graphql", http.Header{"If-None-Match": {first.Header().Get("ETag")}})
	require.Equal(t, http.StatusNotModified, again.Code)

	req := httptest.NewRequest(http.MethodHead, "/graphql", nil)
	rec := httptest.NewRecorder()
	Page("/graphql").ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.Bytes())
	requireSecurityHeaders(t, rec.Header())
}

func TestAssetsContentTypesAndCaching(t *testing.T) {
	all := loadAssets()
	for name, ctype := range map[string]string{
		"playground.js":  "text/javascript; charset=utf-8",
		"playground.css": "text/css; charset=utf-8",
		"licenses.txt":   "text/plain; charset=utf-8",
		"favicon.svg":    "image/svg+xml",
	} {
		t.Run(name, func(t *testing.T) {
			a := all[name]
			require.NotNil(t, a, "embedded asset missing; run web/playground/build.sh")

			// Versioned URL, as linked by the page: long-lived cache.
			rec := get(t, newMux(), "/graphql/assets/"+name+"?v="+a.version, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			requireSecurityHeaders(t, rec.Header())
			require.Equal(t, ctype, rec.Header().Get("Content-Type"))
			require.Contains(t, rec.Header().Get("Cache-Control"), immutableHint)
			require.Contains(t, rec.Header().Get("Cache-Control"), "max-age=31536000")
			require.Empty(t, rec.Header().Get("Content-Encoding"))
			require.Equal(t, a.body, rec.Body.Bytes())

			// Unversioned or stale version: revalidate with the ETag.
			for _, target := range []string{"/graphql/assets/" + name, "/graphql/assets/" + name + "?v=0000000000000000"} {
				rec = get(t, newMux(), target, nil)
				require.Equal(t, http.StatusOK, rec.Code)
				require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
				etag := rec.Header().Get("ETag")
				require.NotEmpty(t, etag)
				rec = get(t, newMux(), target, http.Header{"If-None-Match": {etag}})
				require.Equal(t, http.StatusNotModified, rec.Code)
			}

			// gzip when accepted.
			rec = get(t, newMux(), "/graphql/assets/"+name, http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
			require.Equal(t, http.StatusOK, rec.Code)
			require.Equal(t, "gzip", rec.Header().Get("Content-Encoding"))
			require.Equal(t, ctype, rec.Header().Get("Content-Type"))
			require.Contains(t, rec.Header().Values("Vary"), "Accept-Encoding")
			zr, err := gzip.NewReader(bytes.NewReader(rec.Body.Bytes()))
			require.NoError(t, err)
			plain, err := io.ReadAll(zr)
			require.NoError(t, err)
			require.Equal(t, a.body, plain)

			// gzip;q=0 refuses it.
			rec = get(t, newMux(), "/graphql/assets/"+name, http.Header{"Accept-Encoding": {"gzip;q=0"}})
			require.Empty(t, rec.Header().Get("Content-Encoding"))
			require.Equal(t, a.body, rec.Body.Bytes())
		})
	}
}

func TestUnknownAssetIs404(t *testing.T) {
	mux := newMux()
	h := Handler("/graphql")
	for _, target := range []string{
		"/graphql/assets/nope.js",
		"/graphql/assets/",
		"/graphql/assets/playground.js.map",
		"/graphql/assets/Playground.js",
		"/graphql/assets/sub/playground.js",
		"/graphql/assets/..%2fplayground.go",
		"/graphql/assets/%2e%2e/playground.go",
	} {
		for name, handler := range map[string]http.Handler{"mux": mux, "handler": h} {
			rec := get(t, handler, target, nil)
			require.Equal(t, http.StatusNotFound, rec.Code, "%s %s", name, target)
			require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			require.Equal(t, ContentSecurityPolicy, rec.Header().Get("Content-Security-Policy"))
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	for _, target := range []string{"/graphql/assets/playground.js", "/anything"} {
		req := httptest.NewRequest(http.MethodPost, target, strings.NewReader("{}"))
		rec := httptest.NewRecorder()
		Handler("/graphql").ServeHTTP(rec, req)
		require.Equal(t, http.StatusMethodNotAllowed, rec.Code, target)
		require.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	}
}

func TestHandlerServesPageOutsideAssets(t *testing.T) {
	rec := get(t, Handler("/graphql"), "/playground", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	requireSecurityHeaders(t, rec.Header())
	require.Contains(t, rec.Body.String(), `data-endpoint="/graphql"`)
}

func TestEndpointNormalization(t *testing.T) {
	require.Equal(t, "/graphql/assets/", AssetsPrefix("/graphql"))
	require.Equal(t, "/api/graphql/assets/", AssetsPrefix("/api/graphql/"))
	require.Equal(t, "/assets/", AssetsPrefix("/"))

	rec := get(t, Page("/api/graphql/"), "/", nil)
	require.Contains(t, rec.Body.String(), `data-endpoint="/api/graphql"`)
	require.Contains(t, rec.Body.String(), `src="/api/graphql/assets/playground.js?v=`)

	rec = get(t, Page("/"), "/", nil)
	require.Contains(t, rec.Body.String(), `data-endpoint="/"`)
	require.Contains(t, rec.Body.String(), `href="/assets/playground.css?v=`)

	rec = get(t, Page("/a&b"), "/", nil)
	require.Contains(t, rec.Body.String(), `data-endpoint="/a&amp;b"`)

	for _, bad := range []string{"", "graphql", "//evil.example/graphql", "http://x/graphql", `/g"ql`, "/g ql", "/g?x=1"} {
		require.Panics(t, func() { Page(bad) }, bad)
		require.Panics(t, func() { Handler(bad) }, bad)
		require.Panics(t, func() { AssetsPrefix(bad) }, bad)
	}
}

func TestWantsPage(t *testing.T) {
	browser := "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, tc := range []struct {
		method, target, accept, upgrade string
		want                            bool
	}{
		{http.MethodGet, "/graphql", browser, "", true},
		{http.MethodHead, "/graphql", "TEXT/HTML", "", true},
		{http.MethodGet, "/graphql", "application/json", "", false},
		{http.MethodGet, "/graphql", "", "", false},
		{http.MethodGet, "/graphql?query={__typename}", browser, "", false},
		{http.MethodGet, "/graphql", browser, "websocket", false},
		{http.MethodPost, "/graphql", browser, "", false},
	} {
		req := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		if tc.upgrade != "" {
			req.Header.Set("Upgrade", tc.upgrade)
		}
		require.Equal(t, tc.want, WantsPage(req), "%+v", tc)
	}
}

// TestMountedOnServer fetches the page and every asset it links from a real
// server, as a browser would.
func TestMountedOnServer(t *testing.T) {
	srv := httptest.NewServer(newMux())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/graphql")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	want := map[string]string{
		".js":  "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8",
		".svg": "image/svg+xml",
	}
	links := assetLinkRe.FindAllStringSubmatch(string(body), -1)
	require.Len(t, links, 3)
	for _, l := range links {
		resp, err := http.Get(srv.URL + l[1])
		require.NoError(t, err)
		n, err := io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode, l[1])
		require.Positive(t, n)
		path, _, _ := strings.Cut(l[1], "?")
		ext := path[strings.LastIndex(path, "."):]
		require.Equal(t, want[ext], resp.Header.Get("Content-Type"), l[1])
		require.Contains(t, resp.Header.Get("Cache-Control"), immutableHint)
	}
}

// TestBundle checks the committed bundle: it is there, it is minified, it
// has what the fetcher needs, and it is not huge.
func TestBundle(t *testing.T) {
	all := loadAssets()
	js, css := all["playground.js"], all["playground.css"]
	require.NotNil(t, js)
	require.NotNil(t, css)
	require.Contains(t, string(js.body), "graphql-transport-ws", "graphql-ws client is bundled")
	require.Contains(t, string(js.body), "same-origin", "fetcher sends same-origin credentials")
	require.Contains(t, string(js.body), "securitypolicyviolation", "CSP violation reporter")
	require.Contains(t, string(css.body), ".graphiql-container")
	require.NotContains(t, string(css.body), "@import", "no external stylesheet imports")
	require.NotRegexp(t, `url\(\s*["']?(https?:)?//`, string(css.body), "no external url() in CSS")
	// Minified: few, very long lines (newlines left are inside string literals).
	require.Greater(t, len(js.body)/(bytes.Count(js.body, []byte("\n"))+1), 1000)

	var total int
	for _, a := range all {
		total += len(a.body)
	}
	require.Less(t, total, 5<<20, "embedded assets must stay below 5 MiB")
}
