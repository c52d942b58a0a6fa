package graph

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/httpapi/mediatype"
)

// httpTransport serves queries and mutations over GET and POST as the GraphQL-over-HTTP spec
// says. It replaces gqlgen's GET and POST transports, which answer a malformed body before any
// operation context exists (response hooks that read it panicked), 422 for a parse or
// validation error to application/json clients (Apollo Client 3 reads that as a network error
// without graphQLErrors), and "data": null on request errors.
//
// Status codes: a request that is not a GraphQL request (bad JSON, no query, variables that
// are not an object, a batch) is 400 BAD_REQUEST whatever the client accepts. A request error
// from GraphQL itself (parse, validation, limits) is 200 for application/json clients and 400
// for application/graphql-response+json ones, and has no data key in either.
type httpTransport struct {
	// sse serves subscriptions posted by clients that accept an event stream beside JSON
	// (urql's default Accept), which sseOnly leaves to this transport.
	sse transport.SSE
}

var _ graphql.Transport = httpTransport{}

// Supports takes every plain HTTP request: the WebSocket, SSE and OPTIONS transports come
// first, so what reaches this one is GET, POST, or a method it refuses with a coded error.
func (httpTransport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

// Do runs one operation.
func (t httpTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	accept := mediatype.Negotiate(r)
	media := accept.Media
	w.Header().Set("Content-Type", media)
	start := graphql.Now()
	params, body, reqErr := readParams(r)
	if reqErr != nil {
		// Dispatched without an operation context, like gqlgen's own refusals, so that the
		// response hooks (metrics) still count the request.
		resp := exec.DispatchError(ctx, gqlerror.List{reqErr.gqlError()})
		if reqErr.allow != "" {
			w.Header().Set("Allow", reqErr.allow)
		}
		writeRequestError(w, reqErr.status, resp)
		return
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}

	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if media == mediatype.GraphQLResponse {
			status = http.StatusBadRequest
		}
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		writeRequestError(w, status, resp)
		return
	}
	switch opCtx.Operation.Operation {
	case ast.Mutation:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{
				badRequest("Mutations must be sent with POST.")})
			writeRequestError(w, http.StatusMethodNotAllowed, resp)
			return
		}
	case ast.Subscription:
		if r.Method == http.MethodPost && accept.EventStream && body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			t.sse.Do(w, r, exec)
			return
		}
		resp := exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), gqlerror.List{
			badRequest("Subscriptions are served over WebSocket (graphql-transport-ws) or Server-Sent Events (POST with Accept: text/event-stream).")})
		writeRequestError(w, http.StatusBadRequest, resp)
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	resp := responses(ctx)
	if resp != nil && len(resp.Errors) > 0 {
		// Errors may be transient or the viewer's own (SERVICE_UNAVAILABLE, a rate limit): no
		// shared cache may keep them, whatever the public response cache said of the query.
		w.Header().Set("Cache-Control", "no-store")
	}
	if resp == nil {
		resp = &graphql.Response{}
	}
	b, err := encodeResponse(resp)
	if err != nil {
		writeJSON(w, http.StatusOK, resp) // its error answer
		return
	}
	writeBody(w, http.StatusOK, b)
}

// requestError is a request that is not a well-formed GraphQL-over-HTTP request.
type requestError struct {
	status  int
	message string
	// code is BAD_REQUEST unless set.
	code apperr.Code
	// allow is the Allow header of a 405.
	allow string
}

func (e *requestError) gqlError() *gqlerror.Error {
	return &gqlerror.Error{Message: e.message, Extensions: map[string]any{"code": string(cmp.Or(e.code, apperr.BadRequest))}}
}

func badRequest(message string) *gqlerror.Error { return (&requestError{message: message}).gqlError() }

// readParams reads the operation of a GET (its URL parameters) or a POST (its JSON body). The
// body is returned too, for a subscription handed to the SSE transport.
func readParams(r *http.Request) (*graphql.RawParams, []byte, *requestError) {
	switch r.Method {
	case http.MethodGet:
		p, err := paramsFromURL(r.URL.RawQuery)
		return p, nil, err
	case http.MethodPost:
	default:
		return nil, nil, &requestError{status: http.StatusMethodNotAllowed, allow: "GET, POST, OPTIONS",
			message: "GraphQL requests are GET or POST."}
	}
	if mediatype.IsMultipartBody(r) {
		p, err := paramsFromMultipart(r)
		return p, nil, err
	}
	if !mediatype.IsJSONBody(r) {
		return nil, nil, &requestError{status: http.StatusUnsupportedMediaType,
			message: "A POST must have Content-Type: application/json (or multipart/form-data for a file upload)."}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, nil, readError(err)
	}
	p, reqErr := paramsFromJSON(body)
	return p, body, reqErr
}

// readError is the request error of a body that could not be read: 413 over the body limit.
func readError(err error) *requestError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &requestError{status: http.StatusRequestEntityTooLarge, code: apperr.RequestTooLarge,
			message: "The request body is larger than " + strconv.FormatInt(tooLarge.Limit, 10) + " bytes."}
	}
	return &requestError{status: http.StatusBadRequest, message: "The request body could not be read."}
}

// paramsFromJSON decodes a POST body: one JSON object whose members have the spec's types.
func paramsFromJSON(body []byte) (*graphql.RawParams, *requestError) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, invalid("The request body is empty; send a JSON object with a query.")
	case trimmed[0] == '[':
		return nil, invalid("Batched requests are not supported; send one operation per request.")
	case trimmed[0] != '{':
		return nil, invalid("The request body must be a JSON object with a query.")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &members); err != nil {
		return nil, invalid("The request body is not valid JSON.")
	}
	p := &graphql.RawParams{}
	if err := stringMember(members, "query", &p.Query); err != nil {
		return nil, err
	}
	if err := stringMember(members, "operationName", &p.OperationName); err != nil {
		return nil, err
	}
	if err := objectMember(members["variables"], "variables", &p.Variables); err != nil {
		return nil, err
	}
	if err := objectMember(members["extensions"], "extensions", &p.Extensions); err != nil {
		return nil, err
	}
	return p, requireQuery(p)
}

// paramsFromURL decodes a GET's parameters, where variables and extensions are JSON text.
func paramsFromURL(rawQuery string) (*graphql.RawParams, *requestError) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, invalid("The URL's query string is malformed.")
	}
	p := &graphql.RawParams{Query: values.Get("query"), OperationName: values.Get("operationName")}
	for name, out := range map[string]*map[string]any{"variables": &p.Variables, "extensions": &p.Extensions} {
		if text := values.Get(name); text != "" {
			if err := objectMember(json.RawMessage(text), name, out); err != nil {
				return nil, err
			}
		}
	}
	return p, requireQuery(p)
}

// requireQuery refuses a request without a query, unless it names a persisted query by hash
// (Apollo's automatic persisted queries, resolved by gqlgen's extension).
func requireQuery(p *graphql.RawParams) *requestError {
	if strings.TrimSpace(p.Query) != "" {
		return nil
	}
	if pq, ok := p.Extensions["persistedQuery"].(map[string]any); ok {
		if hash, ok := pq["sha256Hash"].(string); ok && hash != "" {
			return nil
		}
	}
	return invalid("The request has no query.")
}

func invalid(message string) *requestError {
	return &requestError{status: http.StatusBadRequest, message: message}
}

func stringMember(members map[string]json.RawMessage, name string, out *string) *requestError {
	raw, ok := members[name]
	if !ok || isJSONNull(raw) {
		return nil
	}
	if json.Unmarshal(raw, out) != nil {
		return invalid("The request's " + name + " must be a string.")
	}
	return nil
}

// objectMember decodes a JSON object, keeping numbers as json.Number so that Int64 values
// beyond 2^53 are not rounded through float64.
func objectMember(raw json.RawMessage, name string, out *map[string]any) *requestError {
	if len(raw) == 0 || isJSONNull(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return invalid("The request's " + name + " is not valid JSON.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid("The request's " + name + " must be a JSON object.")
	}
	*out = obj
	return nil
}

func isJSONNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// writeRequestError writes a response to a request that did not execute: without a data key,
// and never cacheable (an unknown persisted query's answer, above all, must not be kept).
func writeRequestError(w http.ResponseWriter, status int, resp *graphql.Response) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a resolver's value could fail to encode; the client gets a coded error.
		status = http.StatusInternalServerError
		b = []byte(`{"errors":[{"message":"Internal server error.","extensions":{"code":"INTERNAL"}}]}`)
	}
	writeBody(w, status, b)
}

// writeBody writes a whole JSON body with its length, so that net/http need not chunk one
// larger than its 2 KiB buffer.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sseOnly is gqlgen's SSE transport, taken only by clients that accept nothing else.
type sseOnly struct{ transport.SSE }

func (s sseOnly) Supports(r *http.Request) bool {
	return mediatype.Negotiate(r).OnlyEventStream && s.SSE.Supports(r)
}
