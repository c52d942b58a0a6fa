// Package playground serves an embedded, offline GraphiQL playground.
//
// Everything the playground needs (GraphiQL, React, graphql, graphql-ws and
// their styles and fonts) is bundled into assets/playground.js and
// assets/playground.css by web/playground/build.sh and embedded into the
// binary, so the page works without any CDN and the Go build never needs npm.
//
// The HTML page contains no inline script and no inline style; it loads the
// bundle from <endpoint>/assets/ and passes the GraphQL endpoint to it in a
// data-endpoint attribute. Every response carries the strict
// [ContentSecurityPolicy], X-Content-Type-Options: nosniff and related
// hardening headers.
//
// The bundle talks to the endpoint with same-origin fetch requests
// (credentials: "same-origin", Content-Type: application/json), so the
// HttpOnly session cookies set by the accountLogin mutation authenticate every
// later request, and runs subscriptions over a graphql-ws client
// (graphql-transport-ws subprotocol) on ws(s)://<host><endpoint>.
//
// Typical wiring with Go 1.22+ patterns:
//
//	mux.Handle("POST /graphql", api)
//	mux.Handle("GET /graphql", playground.Page("/graphql"))
//	mux.Handle("GET "+playground.AssetsPrefix("/graphql"), playground.Handler("/graphql"))
//
// If GET /graphql must also serve GraphQL-over-HTTP queries, dispatch with
// [WantsPage] instead of mounting Page directly.
package playground

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// ContentSecurityPolicy is the Content-Security-Policy header value sent with
// the playground page and its assets. It allows no inline script or style and
// no third-party origin; the bundle only needs same-origin scripts, styles and
// fetches, WebSocket connections for subscriptions, and data: URLs for the
// fonts and images inlined into playground.css.
//
// GraphiQL works under it without 'unsafe-inline': React and CodeMirror set
// styles through the CSSOM (element.style), which style-src does not govern,
// and the one library that injects <style> elements (react-style-singleton,
// used by Radix dialogs) is replaced at bundle time by a shim that uses
// constructable stylesheets instead (web/playground/src/shims).
const ContentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"connect-src 'self' ws: wss:; " +
	"img-src 'self' data:; " +
	"style-src 'self'; " +
	"font-src 'self' data:; " +
	"frame-ancestors 'none'; " +
	"base-uri 'none'; " +
	"form-action 'self'"

// Cache-Control values. Asset URLs that carry the content hash of the current
// build (?v=<hash>, as the page links them) never change and are cached for a
// year; anything else is revalidated with its ETag.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

//go:embed assets
var embedded embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	contentType string
	body        []byte
	version     string // hex prefix of the SHA-256 of body, used as ?v= and in the ETag
	compress    bool   // worth gzip-encoding (text formats)

	gzOnce sync.Once
	gz     []byte
}

// gzipped returns the gzip encoding of the asset, computed on first use.
func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		a.gz = buf.Bytes()
	})
	return a.gz
}

var (
	loadOnce sync.Once
	assets   map[string]*asset
)

// loadAssets indexes the embedded files once. Requests are only ever matched
// against this map, never used as file system paths.
func loadAssets() map[string]*asset {
	loadOnce.Do(func() {
		assets = make(map[string]*asset)
		root, err := fs.Sub(embedded, "assets")
		if err != nil {
			panic(fmt.Sprintf("playground: embedded assets: %v", err))
		}
		err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := fs.ReadFile(root, p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(body)
			ctype, compress := contentType(p)
			assets[p] = &asset{
				contentType: ctype,
				body:        body,
				version:     hex.EncodeToString(sum[:])[:16],
				compress:    compress,
			}
			return nil
		})
		if err != nil {
			panic(fmt.Sprintf("playground: embedded assets: %v", err))
		}
	})
	return assets
}

// contentType maps a file name to its Content-Type independently of the
// host's MIME database, and reports whether gzip is worthwhile.
func contentType(name string) (ctype string, compress bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8", true
	case ".css":
		return "text/css; charset=utf-8", true
	case ".txt":
		return "text/plain; charset=utf-8", true
	case ".map", ".json":
		return "application/json", true
	case ".svg":
		return "image/svg+xml", true
	case ".woff2":
		return "font/woff2", false
	case ".woff":
		return "font/woff", false
	case ".ttf":
		return "font/ttf", true
	case ".png":
		return "image/png", false
	default:
		return "application/octet-stream", false
	}
}

// normalizeEndpoint validates the GraphQL endpoint path and strips trailing
// slashes ("/" becomes ""). It panics on anything but an absolute path, like
// http.ServeMux does for invalid patterns: it is a wiring error.
func normalizeEndpoint(endpoint string) string {
	if !strings.HasPrefix(endpoint, "/") || strings.HasPrefix(endpoint, "//") ||
		strings.ContainsAny(endpoint, "?#\"'<> \t\r\n") {
		panic(fmt.Sprintf("playground: endpoint %q must be an absolute URL path such as \"/graphql\"", endpoint))
	}
	return strings.TrimRight(endpoint, "/")
}

// AssetsPrefix returns the URL path prefix under which the playground assets
// of endpoint are served, e.g. "/graphql/assets/" for "/graphql". Mount
// [Handler] on it: mux.Handle("GET "+AssetsPrefix(ep), Handler(ep)).
func AssetsPrefix(endpoint string) string {
	return normalizeEndpoint(endpoint) + "/assets/"
}

// Tab is an example operation the playground opens in a tab of its own (GraphiQL's
// defaultTabs), for a browser that has no tabs stored from an earlier visit.
type Tab struct {
	// Query is the GraphQL document; GraphiQL names the tab after its operation.
	Query string `json:"query"`
	// Variables is the variables editor's JSON.
	Variables string `json:"variables,omitempty"`
	// Headers is the headers editor's JSON.
	Headers string `json:"headers,omitempty"`
}

// Handler returns the complete playground for the GraphQL endpoint (an
// absolute URL path such as "/graphql"): requests whose path starts with
// [AssetsPrefix](endpoint) get the embedded asset of that name (404 if there
// is none), any other path gets the HTML page, as from [Page]. Only GET and
// HEAD are allowed. Mount it on the assets prefix, and on the page path too
// if you like:
//
//	mux.Handle("GET /graphql/assets/", playground.Handler("/graphql"))
//	mux.Handle("GET /playground", playground.Handler("/graphql"))
//
// The page opens with tabs, as [Page] does.
//
// Handler panics if endpoint is not an absolute path.
func Handler(endpoint string, tabs ...Tab) http.Handler {
	prefix := AssetsPrefix(endpoint)
	page := Page(endpoint, tabs...)
	all := loadAssets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			page.ServeHTTP(w, r)
			return
		}
		setSecurityHeaders(w.Header())
		if !allowMethod(w, r) {
			return
		}
		a := all[name]
		if a == nil {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		serveAsset(w, r, a)
	})
}

// Page returns a handler that renders the playground's HTML page for the
// GraphQL endpoint (an absolute URL path such as "/graphql") at whatever path
// it is mounted on. The page has no inline script or style: it links
// favicon.svg, playground.css and playground.js under
// [AssetsPrefix](endpoint), with the
// content hash as a cache-busting query, and passes the endpoint in the
// data-endpoint attribute of its #graphiql element, and tabs (if any) as JSON
// in its data-tabs attribute: GraphiQL opens them when the browser has no
// tabs of its own stored. The assets themselves must be served by [Handler].
// Only GET and HEAD are allowed.
//
// Page panics if endpoint is not an absolute path.
func Page(endpoint string, tabs ...Tab) http.Handler {
	endpoint = normalizeEndpoint(endpoint)
	prefix := endpoint + "/assets/"
	all := loadAssets()
	link := func(name string) string {
		a := all[name]
		if a == nil {
			panic("playground: embedded asset " + name + " is missing; run web/playground/build.sh")
		}
		return prefix + name + "?v=" + a.version
	}
	gqlEndpoint := endpoint
	if gqlEndpoint == "" {
		gqlEndpoint = "/"
	}
	var tabsJSON string
	if len(tabs) > 0 {
		b, err := json.Marshal(tabs)
		if err != nil {
			panic(fmt.Sprintf("playground: tabs: %v", err))
		}
		tabsJSON = string(b)
	}
	var buf bytes.Buffer
	err := pageTemplate.Execute(&buf, pageData{
		Endpoint:   gqlEndpoint,
		Tabs:       tabsJSON,
		Icon:       link("favicon.svg"),
		Stylesheet: link("playground.css"),
		Script:     link("playground.js"),
	})
	if err != nil {
		panic(fmt.Sprintf("playground: render page: %v", err))
	}
	body := buf.Bytes()
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:])[:16] + `"`

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		setSecurityHeaders(h)
		if !allowMethod(w, r) {
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", cacheRevalidate)
		h.Set("ETag", etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// WantsPage reports whether r looks like a browser navigating to the GraphQL
// endpoint (GET or HEAD, Accept includes text/html, no "query" parameter, no
// WebSocket upgrade), so a single GET route can serve both the playground and
// GraphQL-over-HTTP GET requests:
//
//	if playground.WantsPage(r) { page.ServeHTTP(w, r); return }
//	api.ServeHTTP(w, r)
func WantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.URL.Query().Has("query") {
		return false
	}
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	for _, accept := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(accept, ",") {
			mediaType, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mediaType), "text/html") {
				return true
			}
		}
	}
	return false
}

// setSecurityHeaders sets the headers every playground response carries.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// allowMethod answers 405 for anything but GET and HEAD.
func allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
	return false
}

// serveAsset writes a, gzip-encoded when the client accepts it, with an ETag
// and a Cache-Control that depends on whether the URL is versioned.
func serveAsset(w http.ResponseWriter, r *http.Request, a *asset) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}
	body, etag := a.body, `"`+a.version+`"`
	if a.compress {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = a.gzipped(), `"`+a.version+`-gzip"`
			h.Set("Content-Encoding", "gzip")
			// Byte ranges of a content-coded body are rarely what a client
			// means; always send the whole representation.
			r = r.Clone(r.Context())
			r.Header.Del("Range")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the Accept-Encoding header allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "x-gzip" {
				continue
			}
			q := strings.ReplaceAll(strings.ToLower(params), " ", "")
			if q == "q=0" || q == "q=0.0" || q == "q=0.00" || q == "q=0.000" {
				return false
			}
			return true
		}
	}
	return false
}

type pageData struct {
	Endpoint   string
	Tabs       string
	Icon       string
	Stylesheet string
	Script     string
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>shopgraph · GraphQL playground</title>
<link rel="icon" type="image/svg+xml" href="{{.Icon}}">
<link rel="stylesheet" href="{{.Stylesheet}}">
<script defer src="{{.Script}}"></script>
</head>
<body>
<div id="graphiql" data-endpoint="{{.Endpoint}}"{{if .Tabs}} data-tabs="{{.Tabs}}"{{end}}><p class="playground-loading">Loading the GraphQL playground…</p><noscript><p class="playground-loading">The playground needs JavaScript.</p></noscript></div>
</body>
</html>
`))
