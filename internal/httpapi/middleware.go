package httpapi

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/requestlog"
)

// requestLog gives each request an id (kept from a sane X-Request-Id header) and writes one
// structured line when it ends: method, path, status, duration, GraphQL operation.
func requestLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		info := &requestlog.Info{RequestID: id}
		w.Header().Set("X-Request-Id", id)
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r.WithContext(requestlog.With(r.Context(), info)))
		attrs := []any{
			"request_id", id, "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds()) / 1000, "bytes", rec.bytes,
		}
		if op := info.Operation(); op != "" {
			attrs = append(attrs, "operation", op)
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request", argsToAttrs(attrs)...)
	})
}

func argsToAttrs(args []any) []slog.Attr {
	out := make([]slog.Attr, 0, len(args)/2)
	for i := 0; i+1 < len(args); i += 2 {
		out = append(out, slog.Any(args[i].(string), args[i+1]))
	}
	return out
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// statusRecorder remembers the status and size of a response. It passes through Flush (SSE)
// and Hijack (WebSocket upgrades), which the transports need.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int
	wroteHeader bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer does not support hijacking")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic serving request", "panic", fmt.Sprint(v), "path", r.URL.Path,
					"request_id", requestlog.RequestID(r.Context()))
				writeGraphQLError(w, http.StatusInternalServerError, "INTERNAL", "Internal server error.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// cors answers preflights and sets CORS headers for allowed origins only. Credentials are
// allowed, so the origin is echoed, never "*".
func cors(origins []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && slices.Contains(origins, origin) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Idempotency-Key, X-Request-Id, X-Cart-Token, Apollo-Require-Preflight, X-Apollo-Operation-Name")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate reads the access token from `Authorization: Bearer` or, failing that, the access
// cookie, and puts the viewer in the context. A bad token does not fail the request: public
// fields still work, and fields that need a viewer say UNAUTHENTICATED.
func authenticate(tokens *auth.Tokens, secureCookies bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		req := &auth.Request{Cookies: cookieJar{w: w, secure: secureCookies}, ClientIP: clientIP(r), UserAgent: r.UserAgent()}
		if c, err := r.Cookie(auth.RefreshCookie); err == nil {
			req.RefreshToken = c.Value
		}
		req.CartToken = r.Header.Get("X-Cart-Token")
		if c, err := r.Cookie(auth.CartCookie); err == nil && req.CartToken == "" {
			req.CartToken = c.Value
		}
		req.IdempotencyKey = r.Header.Get("Idempotency-Key")
		ctx = auth.WithRequest(ctx, req)

		token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !bearer {
			if c, err := r.Cookie(auth.AccessCookie); err == nil {
				token = c.Value
			}
		}
		if token = strings.TrimSpace(token); token != "" {
			if v, err := tokens.Verify(token); err != nil {
				ctx = auth.WithCredentialError(ctx, err)
			} else {
				ctx = auth.WithViewer(ctx, v)
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// csrfGuard refuses a POST that carries our session cookies unless it is JSON. Browsers cannot
// send application/json cross-site without a CORS preflight, which only allowed origins pass;
// form posts and text/plain "simple requests" are refused before anything runs.
//
// A file upload (multipart/form-data, the GraphQL multipart request spec) is a simple request
// too: a cross-site form can send one. With a session cookie it must also carry a header no
// form can set, Apollo-Require-Preflight or X-Apollo-Operation-Name (as Apollo Server asks),
// which makes a browser send a preflight first, which again only allowed origins pass.
func csrfGuard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && hasSessionCookie(r) {
			mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
			switch {
			case mediaType == "application/json":
			case mediaType == "multipart/form-data" && hasPreflightHeader(r):
			case mediaType == "multipart/form-data":
				writeGraphQLError(w, http.StatusForbidden, "FORBIDDEN",
					"Cookie-authenticated uploads must send an Apollo-Require-Preflight or X-Apollo-Operation-Name header.")
				return
			default:
				writeGraphQLError(w, http.StatusForbidden, "FORBIDDEN",
					"Cookie-authenticated requests must have Content-Type: application/json.")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// preflightHeaders are the headers whose presence proves a request passed a CORS preflight (a
// browser sends none of them cross-site without one).
var preflightHeaders = []string{"Apollo-Require-Preflight", "X-Apollo-Operation-Name"}

func hasPreflightHeader(r *http.Request) bool {
	for _, h := range preflightHeaders {
		if strings.TrimSpace(r.Header.Get(h)) != "" {
			return true
		}
	}
	return false
}

func hasSessionCookie(r *http.Request) bool {
	for _, name := range []string{auth.AccessCookie, auth.RefreshCookie} {
		if _, err := r.Cookie(name); err == nil {
			return true
		}
	}
	return false
}

// clientIP is the TCP peer's address. Forwarded headers are not trusted: behind a proxy, the
// proxy must be configured to be the only peer and per-IP limits then apply to it.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// noStore marks API responses as uncacheable unless the handler said otherwise (the public
// response cache marks anonymous catalog GETs public): most depend on who asks.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// adminOnly serves next to admins: 401 to a request without a viewer, 403 to any other role.
func adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := auth.RequireRole(r.Context(), auth.RoleAdmin); err != nil {
			status := http.StatusForbidden
			if apperr.CodeOf(err) == apperr.Unauthenticated {
				status = http.StatusUnauthorized
			}
			http.Error(w, "Only an admin may see this page; sign in as one.", status)
			return
		}
		next.ServeHTTP(w, r)
	})
}
