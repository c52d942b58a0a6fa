package metrics

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// GraphQLMiddleware returns the gqlgen extension that counts operations, times them and counts
// their errors by extensions.code:
//
//	srv.Use(reg.GraphQLMiddleware())
//
// Add it before any AroundOperations that may refuse an operation without calling next
// (the first extension added is the outermost): such a refusal is then counted too.
// Requests refused before they had a valid operation (unparsable, invalid, unknown
// operationName) are counted with operation="invalid" through the response hook, which gqlgen
// runs for them as well.
func (r *Registry) GraphQLMiddleware() graphql.HandlerExtension { return &gqlMetrics{r: r} }

type gqlMetrics struct{ r *Registry }

var (
	_ graphql.HandlerExtension     = (*gqlMetrics)(nil)
	_ graphql.OperationInterceptor = (*gqlMetrics)(nil)
	_ graphql.ResponseInterceptor  = (*gqlMetrics)(nil)
)

// ExtensionName names the extension in gqlgen's stats.
func (*gqlMetrics) ExtensionName() string { return "PrometheusMetrics" }

// Validate accepts every schema.
func (*gqlMetrics) Validate(graphql.ExecutableSchema) error { return nil }

// counted marks a context whose operation InterceptOperation observes, so that
// InterceptResponse leaves its responses alone.
type counted struct{}

// InterceptOperation observes every response of a valid operation. It wraps the response
// handler rather than using the response hook alone because gqlgen hands some responses (an
// operation refused by an inner AroundOperations, a subscription that failed to start) straight
// to the transport without running the response hooks.
func (m *gqlMetrics) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name, typ := m.r.operationLabels(oc)
	start := graphql.GetStartTime(ctx)
	if start.IsZero() {
		start = time.Now()
	}
	h := next(context.WithValue(ctx, counted{}, true))
	if typ == string(ast.Subscription) {
		// One request per subscription; its events are not requests and are not timed.
		m.r.gqlRequests.WithLabelValues(name, typ).Inc()
	}
	first := true
	return func(ctx context.Context) *graphql.Response {
		resp := h(ctx)
		if resp == nil {
			return nil
		}
		if first && typ != string(ast.Subscription) {
			m.r.gqlRequests.WithLabelValues(name, typ).Inc()
			m.r.gqlDuration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
		}
		first = false
		m.r.countErrors(name, resp.Errors)
		return resp
	}
}

// InterceptResponse observes the responses that InterceptOperation never sees: requests gqlgen
// refused before dispatching an operation.
func (m *gqlMetrics) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || ctx.Value(counted{}) != nil {
		return resp
	}
	name, typ := labelInvalid, labelInvalid
	if graphql.HasOperationContext(ctx) {
		// A refusal after validation (a complexity limit, say) still has its operation.
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil {
			name, typ = m.r.operationLabels(oc)
		}
	}
	m.r.gqlRequests.WithLabelValues(name, typ).Inc()
	if start := graphql.GetStartTime(ctx); !start.IsZero() {
		m.r.gqlDuration.WithLabelValues(name, typ).Observe(time.Since(start).Seconds())
	}
	m.r.countErrors(name, resp.Errors)
	return resp
}

// operationLabels returns the operation's name (capped; "anonymous" when unnamed) and type.
func (r *Registry) operationLabels(oc *graphql.OperationContext) (name, typ string) {
	if oc == nil || oc.Operation == nil {
		return labelInvalid, labelInvalid
	}
	// The document's own name, not the request's operationName, which may be absent.
	return r.operations.value(oc.Operation.Name, labelAnonymous), string(oc.Operation.Operation)
}

func (r *Registry) countErrors(operation string, errs gqlerror.List) {
	for _, e := range errs {
		if e == nil {
			continue
		}
		code := labelNoCode
		if c, ok := e.Extensions["code"]; ok {
			s, isString := c.(string)
			if !isString {
				s = labelOther
			}
			code = r.codes.value(s, labelNoCode)
		}
		r.gqlErrors.WithLabelValues(operation, code).Inc()
	}
}
