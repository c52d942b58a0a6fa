package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/shopgraph/shopgraph/internal/tracing"
)

// newProvider returns a sampling provider whose ended spans land in the returned exporter.
func newProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func spanNames(spans tracetest.SpanStubs) []string {
	names := make([]string, len(spans))
	for i, s := range spans {
		names[i] = s.Name
	}
	return names
}

func findSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no span %q among %q", name, spanNames(spans))
	return tracetest.SpanStub{}
}

func decodeLine(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(bytes.TrimSpace(b), &m), string(b))
	return m
}

func TestLogHandler(t *testing.T) {
	t.Parallel()

	t.Run("a record logged inside a span carries its ids", func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil))).With("service", "shopgraph")
		tp, _ := newProvider(t)
		ctx, span := tp.Tracer("test").Start(context.Background(), "op")
		defer span.End()

		log.InfoContext(ctx, "hello", "n", 1)
		line := decodeLine(t, buf.Bytes())
		require.Equal(t, span.SpanContext().TraceID().String(), line["trace_id"])
		require.Equal(t, span.SpanContext().SpanID().String(), line["span_id"])
		require.Equal(t, "shopgraph", line["service"])
		require.EqualValues(t, 1, line["n"])
	})

	t.Run("a record without a span has no ids", func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil)))
		log.InfoContext(context.Background(), "hello")
		log.Info("no context")
		for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			line := decodeLine(t, l)
			require.NotContains(t, line, "trace_id")
		}
	})

	t.Run("the record given to other handlers is not changed", func(t *testing.T) {
		var seen []slog.Record
		rec := recordingHandler{add: func(r slog.Record) { seen = append(seen, r) }}
		ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled,
		}))
		r := slog.NewRecord(time.Now(), slog.LevelInfo, "m", 0)
		require.NoError(t, tracing.LogHandler(rec).Handle(ctx, r))
		require.Equal(t, 0, r.NumAttrs())
		require.Equal(t, 2, seen[0].NumAttrs())
	})
}

type recordingHandler struct{ add func(slog.Record) }

func (recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.add(r)
	return nil
}
func (h recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h recordingHandler) WithGroup(string) slog.Handler      { return h }

func TestMiddleware(t *testing.T) {
	t.Parallel()

	t.Run("a request produces a server span that its log lines refer to", func(t *testing.T) {
		tp, exp := newProvider(t)
		var buf bytes.Buffer
		log := slog.New(tracing.LogHandler(slog.NewJSONHandler(&buf, nil)))
		mux := http.NewServeMux()
		mux.HandleFunc("POST /graphql", func(w http.ResponseWriter, r *http.Request) {
			log.InfoContext(r.Context(), "request")
			_, _ = io.WriteString(w, "{}")
		})
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
		h := tracing.Middleware(mux, tracing.WithTracerProvider(tp))

		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/healthz", nil))
		require.Empty(t, exp.GetSpans(), "probes are not traced")

		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{}`)))
		require.Equal(t, http.StatusOK, rec.Code)
		spans := exp.GetSpans()
		require.Len(t, spans, 1)
		span := spans[0]
		require.Equal(t, "POST /graphql", span.Name)
		require.Equal(t, trace.SpanKindServer, span.SpanKind)
		require.Equal(t, span.SpanContext.TraceID().String(), decodeLine(t, buf.Bytes())["trace_id"])
	})

	t.Run("an incoming trace context is linked, not continued, unless trusted", func(t *testing.T) {
		const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		for _, trusted := range []bool{false, true} {
			tp, exp := newProvider(t)
			opts := []tracing.Option{tracing.WithTracerProvider(tp)}
			if trusted {
				opts = append(opts, tracing.WithTrustedParent())
			}
			h := tracing.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), opts...)
			req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			req.Header.Set("Traceparent", parent)
			h.ServeHTTP(httptest.NewRecorder(), req)

			span := exp.GetSpans()[0]
			continued := span.SpanContext.TraceID().String() == "0af7651916cd43dd8448eb211c80319c"
			require.Equal(t, trusted, continued, "trusted=%v", trusted)
			if !trusted {
				require.Len(t, span.Links, 1)
				require.Equal(t, "0af7651916cd43dd8448eb211c80319c", span.Links[0].SpanContext.TraceID().String())
			}
		}
	})
}

// fakeSchema runs product(id) through the operation's resolver middleware as a resolver
// field, as generated code does, and fails it with a NOT_FOUND error.
func fakeSchema() graphql.ExecutableSchema {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { product(id: ID!): String }`})
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return schema },
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			ran := false
			return func(ctx context.Context) *graphql.Response {
				if ran {
					return nil
				}
				ran = true
				oc := graphql.GetOperationContext(ctx)
				fctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{
					Object: "Query", IsResolver: true,
					Field: graphql.CollectedField{Field: &ast.Field{Name: "product", Alias: "product"}},
				})
				_, err := oc.ResolverMiddleware(fctx, func(ctx context.Context) (any, error) {
					return nil, errors.New("product 7 is gone")
				})
				graphql.AddError(ctx, &gqlerror.Error{Err: err, Message: "not found", Extensions: map[string]any{"code": "NOT_FOUND"}})
				return &graphql.Response{Data: json.RawMessage(`{"product":null}`)}
			}
		},
	}
}

func TestGraphQLExtension(t *testing.T) {
	t.Parallel()
	tp, exp := newProvider(t)
	srv := handler.New(fakeSchema())
	srv.AddTransport(transport.POST{})
	srv.Use(tracing.GraphQLExtension(tracing.WithTracerProvider(tp)))
	h := tracing.Middleware(srv, tracing.WithTracerProvider(tp))

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"query ProductPage { product(id: \"7\") }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Contains(t, rec.Body.String(), "NOT_FOUND")

	spans := exp.GetSpans()
	httpSpan := findSpan(t, spans, "POST")
	op := findSpan(t, spans, "query ProductPage")
	field := findSpan(t, spans, "Query.product")
	require.Equal(t, httpSpan.SpanContext.SpanID(), op.Parent.SpanID())
	require.Equal(t, op.SpanContext.SpanID(), field.Parent.SpanID())
	require.Equal(t, codes.Error, field.Status.Code, "the resolver's error is recorded")
	require.Len(t, op.Events, 1)
	require.Equal(t, "graphql.error", op.Events[0].Name)
	require.NotEqual(t, codes.Error, op.Status.Code, "NOT_FOUND is an answer, not a failure")

	var opName string
	for _, a := range httpSpan.Attributes {
		if a.Key == "graphql.operation.name" {
			opName = a.Value.AsString()
		}
	}
	require.Equal(t, "ProductPage", opName)
}

func TestMultiTracer(t *testing.T) {
	t.Parallel()
	require.Nil(t, tracing.MultiTracer(nil, nil))
	var a, b countingTracer
	require.Same(t, &a, tracing.MultiTracer(nil, &a))

	m := tracing.MultiTracer(&a, nil, &b)
	m.TraceQueryStart(context.Background(), nil, pgxStart)
	require.Equal(t, 1, a.n)
	require.Equal(t, 1, b.n)
}

func TestInstrumentRedis(t *testing.T) {
	t.Parallel()
	tp, exp := newProvider(t)
	// Nothing listens on port 1: the command fails fast, and its span records that.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	require.NoError(t, tracing.InstrumentRedis(client, tracing.WithTracerProvider(tp)))

	ctx, parent := tp.Tracer("test").Start(context.Background(), "parent")
	require.Error(t, client.Get(ctx, "secret-key").Err())
	parent.End()

	span := findSpan(t, exp.GetSpans(), "get")
	require.Equal(t, parent.SpanContext().TraceID(), span.SpanContext.TraceID())
	for _, a := range span.Attributes {
		require.NotContains(t, a.Value.String(), "secret-key", "arguments are not recorded (%s)", a.Key)
	}
}

// TestSetup mutates the global tracer provider, so it is the only test here that calls Setup
// with an endpoint, and it puts a no-op provider back.
func TestSetup(t *testing.T) {
	t.Run("without an endpoint nothing is installed", func(t *testing.T) {
		before := otel.GetTracerProvider()
		shutdown, err := tracing.Setup(context.Background(), "shopgraph", env(nil))
		require.NoError(t, err)
		require.NoError(t, shutdown(context.Background()))
		require.Equal(t, before, otel.GetTracerProvider())

		shutdown, err = tracing.Setup(context.Background(), "shopgraph", env(map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true",
		}))
		require.NoError(t, err)
		require.NoError(t, shutdown(context.Background()))
		require.Equal(t, before, otel.GetTracerProvider())

		// With nowhere to send spans the helpers leave every layer as it is: a no-op span
		// still costs its allocations on each request, field and statement.
		require.Equal(t, untracedHandler{}, tracing.Middleware(untracedHandler{}))
		require.Nil(t, tracing.GraphQLExtension())
		require.Nil(t, tracing.PgxTracer())
		require.NotNil(t, tracing.PgxTracer(tracing.WithTracerProvider(noop.NewTracerProvider())), "a provider given is used")
	})

	t.Run("bad settings are refused", func(t *testing.T) {
		for _, vars := range []map[string]string{
			{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER": "sometimes"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
			{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"},
		} {
			_, err := tracing.Setup(context.Background(), "shopgraph", env(vars))
			require.Error(t, err, "%v", vars)
		}
	})

	t.Run("with an endpoint spans are exported over OTLP/HTTP on shutdown", func(t *testing.T) {
		var (
			mu       sync.Mutex
			paths    []string
			apiKey   string
			payloads [][]byte
		)
		collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			paths, apiKey, payloads = append(paths, r.URL.Path), r.Header.Get("Api-Key"), append(payloads, b)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-protobuf")
		}))
		defer collector.Close()
		t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })

		shutdown, err := tracing.Setup(context.Background(), "shopgraph", env(map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL + "/otlp/",
			"OTEL_EXPORTER_OTLP_HEADERS":  "api-key=s%20ecret",
			"OTEL_SERVICE_NAME":           "shopgraph-test",
		}))
		require.NoError(t, err)
		require.NotNil(t, tracing.GraphQLExtension(), "installed: the helpers instrument")
		require.IsType(t, http.HandlerFunc(nil), tracing.Middleware(untracedHandler{}), "otelhttp's handler")
		_, span := otel.Tracer("test").Start(context.Background(), "exported-span")
		span.End()
		require.NoError(t, shutdown(context.Background()))

		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, []string{"/otlp/v1/traces"}, paths)
		require.Equal(t, "s ecret", apiKey)
		require.Contains(t, string(payloads[0]), "exported-span")
		require.Contains(t, string(payloads[0]), "shopgraph-test")
	})
}

// untracedHandler is a comparable handler: Middleware returns it as it is when tracing is off.
type untracedHandler struct{}

func (untracedHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}
