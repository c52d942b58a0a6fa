// Package tracing is shopgraph's OpenTelemetry set-up: Setup installs an OTLP/HTTP exporter
// when OTEL_EXPORTER_OTLP_ENDPOINT is set and leaves tracing a no-op otherwise, and the
// helpers instrument each layer a request crosses — HTTP (otelhttp), GraphQL operations and
// resolver fields, pgx statements, go-redis commands — plus a slog handler that stamps
// trace_id and span_id on every log line written inside a span.
//
// The helpers use the global tracer provider unless given WithTracerProvider. Built before
// Setup installed one, or without it, they instrument nothing: a no-op span still costs its
// allocations and context layers on every request, statement and field (about 3% of the
// server's CPU per order in bench/checkout.sh).
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentationName names the tracer of shopgraph's own spans (GraphQL).
const instrumentationName = "github.com/shopgraph/shopgraph/internal/tracing"

// Setup installs the global tracer provider and W3C trace-context propagation, exporting
// spans over OTLP/HTTP, when OTEL_EXPORTER_OTLP_ENDPOINT (or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; otherwise it changes nothing and its shutdown
// does nothing. Call shutdown before exiting: it flushes the spans still buffered.
//
// The standard variables are read through getenv:
//
//	OTEL_EXPORTER_OTLP_ENDPOINT         base URL, e.g. http://collector:4318 (/v1/traces is appended)
//	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  full traces URL, used as is; wins over the base URL
//	OTEL_EXPORTER_OTLP_PROTOCOL         http/protobuf (the default and the only one built in)
//	OTEL_EXPORTER_OTLP_HEADERS          k=v,k2=v2 (URL-encoded values), e.g. an API key
//	OTEL_SERVICE_NAME                   overrides serviceName
//	OTEL_TRACES_SAMPLER, _ARG           default parentbased_always_on; e.g. parentbased_traceidratio and 0.1
//	OTEL_SDK_DISABLED=true              keeps tracing off even with an endpoint
//
// The SDK reads a few more from the process environment itself (OTEL_RESOURCE_ATTRIBUTES,
// OTEL_BSP_*, OTEL_EXPORTER_OTLP_TIMEOUT, certificates).
func Setup(ctx context.Context, serviceName string, getenv func(string) string) (shutdown func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return noop, nil
	}
	endpoint, err := tracesEndpoint(getenv)
	if err != nil || endpoint == "" {
		return noop, err
	}
	protocol := firstNonEmpty(getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"), getenv("OTEL_EXPORTER_OTLP_PROTOCOL"))
	if protocol != "" && protocol != "http/protobuf" {
		return noop, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: only http/protobuf is supported (OTLP collectors listen for it on port 4318)", protocol)
	}
	headers, err := parseHeaders(firstNonEmpty(getenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS"), getenv("OTEL_EXPORTER_OTLP_HEADERS")))
	if err != nil {
		return noop, err
	}
	sampler, err := parseSampler(getenv("OTEL_TRACES_SAMPLER"), getenv("OTEL_TRACES_SAMPLER_ARG"))
	if err != nil {
		return noop, err
	}
	if name := strings.TrimSpace(getenv("OTEL_SERVICE_NAME")); name != "" {
		serviceName = name
	}

	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	if len(headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(headers))
	}
	// New only builds the client: an unreachable collector shows as export errors later,
	// never as a failed start.
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return noop, fmt.Errorf("otlp trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", serviceName)))
	if err != nil {
		return noop, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	installed.Store(true)
	return tp.Shutdown, nil
}

// installed says whether Setup installed an exporting provider (newConfig's off).
var installed atomic.Bool

// tracesEndpoint returns the URL spans are posted to, or "" when none is configured.
func tracesEndpoint(getenv func(string) string) (string, error) {
	name, raw := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	signalPath := false
	if raw == "" {
		name, raw = "OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
		signalPath = true
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The exporter would silently fall back to localhost:4318 on a bad URL.
		return "", fmt.Errorf("%s %q: want an http(s) URL such as http://collector:4318", name, raw)
	}
	if signalPath {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// parseHeaders parses the OTLP headers list: comma-separated key=value pairs whose values
// are URL-encoded.
func parseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errors.New("OTEL_EXPORTER_OTLP_HEADERS: want key=value pairs separated by commas")
		}
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: value of %s: %w", k, err)
		}
		out[k] = value
	}
	return out, nil
}

// parseSampler maps OTEL_TRACES_SAMPLER and its argument to a sampler.
func parseSampler(name, arg string) (sdktrace.Sampler, error) {
	ratio := func() (float64, error) {
		if strings.TrimSpace(arg) == "" {
			return 1, nil
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(arg), 64)
		if err != nil || r < 0 || r > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q: want a ratio from 0 to 1", arg)
		}
		return r, nil
	}
	switch strings.TrimSpace(name) {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		r, err := ratio()
		return sdktrace.TraceIDRatioBased(r), err
	case "parentbased_traceidratio":
		r, err := ratio()
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(r)), err
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER %q: want always_on, always_off, traceidratio or their parentbased_ forms", name)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// Option configures a helper.
type Option func(*config)

type config struct {
	provider    trace.TracerProvider
	trustParent bool
	// off: no provider given and none installed by Setup, so spans would go nowhere; the
	// helper then leaves its layer as it is.
	off bool
}

// WithTracerProvider makes a helper use tp instead of the global provider (tests).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.provider = tp }
}

// WithTrustedParent makes Middleware continue a trace whose traceparent header came with the
// request. By default the API is a public endpoint: an incoming trace context is only linked,
// so that a client cannot choose our trace ids nor force its requests to be sampled.
func WithTrustedParent() Option {
	return func(c *config) { c.trustParent = true }
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.provider == nil {
		c.provider, c.off = otel.GetTracerProvider(), !installed.Load()
	}
	return c
}
