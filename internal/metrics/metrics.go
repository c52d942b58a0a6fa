// Package metrics is shopgraph's Prometheus instrumentation: one Registry per process (never
// the global default registry, so tests and two servers in one binary never collide) that
// counts GraphQL operations, HTTP requests, webhook events and orders, and reads the pool,
// cache, hub and job queue when scraped.
//
// Label values that come from outside (operation names, error codes, event types) pass through
// a capped set: past a fixed number of distinct values they are reported as "other", so a
// client inventing operation names cannot grow the series without bound.
//
// Domain packages never import this package: they declare the one-method interface they call
// (WebhookObserver, CheckoutObserver) and server.go hands them the Registry.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every shopgraph metric.
const namespace = "shopgraph"

// Label values used when a value is missing or over its cap.
const (
	labelOther     = "other"
	labelAnonymous = "anonymous"
	// labelInvalid names a GraphQL request refused before it had a valid operation (parse or
	// validation failure, an unknown operationName, an unreadable body).
	labelInvalid = "invalid"
	// labelNoCode is the code of a GraphQL error without extensions.code.
	labelNoCode = "NONE"
)

// Options tune a Registry; the zero value is fine.
type Options struct {
	// MaxOperationNames caps the distinct GraphQL operation names reported (default 100);
	// later names are reported as "other".
	MaxOperationNames int
}

const (
	// maxErrorCodes caps the distinct error codes reported.
	maxErrorCodes = 30
)

// latencyBuckets are the GraphQL and HTTP latency histogram buckets in seconds: 5 ms to 10 s.
var latencyBuckets = prometheus.DefBuckets

// Registry holds every shopgraph metric. Its methods are safe for concurrent use, and its
// observer methods (ObserveWebhook, OrderCreated) do nothing on a nil *Registry, so code can
// hold one unconditionally.
type Registry struct {
	reg *prometheus.Registry

	gqlRequests *prometheus.CounterVec
	gqlDuration *prometheus.HistogramVec
	gqlErrors   *prometheus.CounterVec
	operations  *labelSet
	codes       *labelSet

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight *prometheus.GaugeVec

	webhooks      *prometheus.CounterVec
	webhookTypes  *labelSet
	webhookResult *labelSet

	ordersCreated prometheus.Counter

	handler http.Handler
}

// New returns a Registry with the Go runtime and process collectors and every shopgraph
// metric that the process itself counts. Collectors over live state (the pool, the cache, the
// hub, the job queue) are added with the Watch methods.
func New(opts Options) *Registry {
	if opts.MaxOperationNames <= 0 {
		opts.MaxOperationNames = 100
	}
	r := &Registry{
		reg: prometheus.NewRegistry(),
		gqlRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "requests_total",
			Help: "GraphQL operations executed or refused, by operation name and type (query, mutation, subscription; invalid when refused before parsing or validation succeeded).",
		}, []string{"operation", "type"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "request_duration_seconds",
			Help:    "Time from reading a GraphQL request to its response, by operation name (queries and mutations; subscriptions are long-lived and not observed).",
			Buckets: latencyBuckets,
		}, []string{"operation", "type"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "graphql", Name: "errors_total",
			Help: "Top-level GraphQL errors by operation name and extensions.code (NONE when absent).",
		}, []string{"operation", "code"}),
		operations: newLabelSet(opts.MaxOperationNames),
		codes:      newLabelSet(maxErrorCodes),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request duration by route and method, until the handler returns (WebSocket and SSE requests last as long as the connection).",
			Buckets: latencyBuckets,
		}, []string{"route", "method"}),
		httpInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served, by route (open WebSocket and SSE connections included).",
		}, []string{"route"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "webhook", Name: "events_total",
			Help: "Verified payment webhook events by event type and outcome (applied, duplicate, ignored, ...).",
		}, []string{"type", "outcome"}),
		webhookTypes:  newLabelSet(50),
		webhookResult: newLabelSet(20),
		ordersCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "checkout", Name: "orders_created_total",
			Help: "Orders created by checkout.",
		}),
	}
	r.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.gqlRequests, r.gqlDuration, r.gqlErrors,
		r.httpRequests, r.httpDuration, r.httpInFlight,
		r.webhooks, r.ordersCreated,
	)
	r.handler = promhttp.InstrumentMetricHandler(r.reg, promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		Registry:      r.reg,
		ErrorHandling: promhttp.ContinueOnError,
		// Scrapes run the job-queue query; a burst of them must not pile up on the pool.
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	return r
}

// Handler serves the metrics in the Prometheus text format: mount it at GET /metrics.
func (r *Registry) Handler() http.Handler { return r.handler }

// Instrument wraps h to count its requests by route, method and status, time them and track
// those in flight. route is a fixed label such as "/graphql" (never the raw URL path). The
// wrapper passes Flush and Hijack through, so SSE and WebSocket upgrades keep working.
func (r *Registry) Instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	h = promhttp.InstrumentHandlerCounter(r.httpRequests.MustCurryWith(labels), h)
	h = promhttp.InstrumentHandlerDuration(r.httpDuration.MustCurryWith(labels), h)
	return promhttp.InstrumentHandlerInFlight(r.httpInFlight.WithLabelValues(route), h)
}

// WebhookObserver is told the outcome of each verified webhook event. internal/payment
// declares the same interface, so it needs no Prometheus import.
type WebhookObserver interface {
	ObserveWebhook(eventType, outcome string)
}

// CheckoutObserver is told of each order that checkout creates.
type CheckoutObserver interface {
	OrderCreated()
}

var (
	_ WebhookObserver  = (*Registry)(nil)
	_ CheckoutObserver = (*Registry)(nil)
)

// ObserveWebhook counts one verified webhook event of eventType (e.g.
// payment_intent.succeeded) with its outcome (e.g. applied, duplicate, ignored).
func (r *Registry) ObserveWebhook(eventType, outcome string) {
	if r == nil {
		return
	}
	r.webhooks.WithLabelValues(r.webhookTypes.value(eventType, "unknown"), r.webhookResult.value(outcome, "unknown")).Inc()
}

// OrderCreated counts one order created by checkout.
func (r *Registry) OrderCreated() {
	if r == nil {
		return
	}
	r.ordersCreated.Inc()
}
