package tracing

import (
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
)

// untracedPaths are probes and scrapes: frequent, uninteresting, and they would crowd out
// real traces.
var untracedPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Middleware starts a server span for each request to h (except /healthz, /readyz and
// /metrics) and puts it in the request's context. Wrap the whole router with it, outside the
// request-log middleware, so that the request log line carries the trace id:
//
//	handler = tracing.Middleware(httpapi.NewRouter(deps))
//
// Spans are named after the method and, when a ServeMux sets it on this very request, the
// route pattern; the GraphQL extension adds the operation's name as an attribute.
func Middleware(h http.Handler, opts ...Option) http.Handler {
	c := newConfig(opts)
	if c.off {
		return h
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(c.provider),
		// W3C trace context, whatever the global propagator is.
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return !c.trustParent }),
		otelhttp.WithFilter(func(r *http.Request) bool { return !untracedPaths[r.URL.Path] }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			// Raw paths would make span names unbounded (scanners probe thousands).
			if r.Pattern != "" {
				// "POST /webhooks/stripe" already names its method; "/graphql" does not.
				if _, path, hasMethod := strings.Cut(r.Pattern, " "); hasMethod {
					return r.Method + " " + path
				}
				return r.Method + " " + r.Pattern
			}
			return r.Method
		}),
	)
}
