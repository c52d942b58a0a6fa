package tracing

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/shopgraph/shopgraph/internal/apperr"
)

// maxErrorEvents bounds the error events recorded on one operation span.
const maxErrorEvents = 10

// GraphQLExtension returns a gqlgen extension that opens a span per operation ("query
// ProductPage") and, inside it, a span per field that runs a resolver (root fields and
// resolver: true relations; plain struct fields and methods get none). Add it with
// srv.Use(tracing.GraphQLExtension()) unless it is nil (tracing is off: newConfig).
//
// The document and variables are not recorded: they can hold personal data.
// Top-level errors become span events with their extensions.code; the span's status is Error
// only for INTERNAL errors (and errors without a code), since NOT_FOUND or UNAUTHENTICATED are
// answers, not failures.
//
// A subscription's span covers only its start (the subscription resolver): it may then live
// for hours, and a span is exported only when it ends.
func GraphQLExtension(opts ...Option) graphql.HandlerExtension {
	c := newConfig(opts)
	if c.off {
		return nil // nothing for gqlgen to call per operation or field
	}
	return &gqlTracer{tracer: c.provider.Tracer(instrumentationName)}
}

type gqlTracer struct{ tracer trace.Tracer }

var (
	_ graphql.HandlerExtension     = (*gqlTracer)(nil)
	_ graphql.OperationInterceptor = (*gqlTracer)(nil)
	_ graphql.FieldInterceptor     = (*gqlTracer)(nil)
)

// ExtensionName names the extension in gqlgen's stats.
func (*gqlTracer) ExtensionName() string { return "OpenTelemetry" }

// Validate accepts every schema.
func (*gqlTracer) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation opens the operation span; it ends with the operation's (first)
// response.
func (t *gqlTracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	typ, name := "", oc.OperationName
	if oc.Operation != nil {
		typ, name = string(oc.Operation.Operation), oc.Operation.Name
	}
	spanName := typ
	if name != "" {
		spanName += " " + name
	}
	attrs := []attribute.KeyValue{attribute.String("graphql.operation.type", typ)}
	if name != "" {
		attrs = append(attrs, attribute.String("graphql.operation.name", name))
		// Lets the HTTP span, named only by method and route, be found by operation.
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("graphql.operation.name", name))
	}
	ctx, span := t.tracer.Start(ctx, spanName, trace.WithAttributes(attrs...))
	if typ == string(ast.Subscription) {
		h := next(ctx)
		span.End()
		return h
	}
	h := next(ctx)
	var once sync.Once
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		once.Do(func() {
			if resp != nil {
				recordErrors(span, resp)
			}
			span.End()
		})
		return resp
	}
}

func recordErrors(span trace.Span, resp *graphql.Response) {
	if len(resp.Errors) == 0 {
		return
	}
	span.SetAttributes(attribute.Int("graphql.errors.count", len(resp.Errors)))
	failed := false
	for i, e := range resp.Errors {
		code, _ := e.Extensions["code"].(string)
		if code == "" || code == string(apperr.Internal) {
			failed = true
		}
		if i < maxErrorEvents {
			span.AddEvent("graphql.error", trace.WithAttributes(
				attribute.String("graphql.error.code", code),
				attribute.String("graphql.error.message", e.Message),
				attribute.String("graphql.error.path", e.Path.String()),
			))
		}
	}
	if failed {
		span.SetStatus(codes.Error, "internal error")
	}
}

// InterceptField opens a span around a resolver, inside a recording operation span only:
// an unsampled request pays nothing per field.
func (t *gqlTracer) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver || !trace.SpanFromContext(ctx).IsRecording() {
		return next(ctx)
	}
	ctx, span := t.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.name", fc.Field.Name),
		attribute.String("graphql.field.parent", fc.Object),
		attribute.String("graphql.field.path", fc.Path().String()),
	))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return res, err
}
