// Package mediatype reads a request's media types as GraphQL over HTTP defines them: the JSON
// type a response is written in, whether the client takes only Server-Sent Events, and whether
// a body is JSON. The GraphQL transport (graph) and the public response cache (httpapi) both
// need the answer and must agree on it, or a cached answer would carry another Content-Type
// than a fresh one: this is the one reading, with no dependencies, so both can import it.
package mediatype

import (
	"cmp"
	"mime"
	"net/http"
	"strings"
)

// The response media types of the GraphQL-over-HTTP spec.
const (
	JSON            = "application/json"
	GraphQLResponse = "application/graphql-response+json"
	EventStream     = "text/event-stream"
)

// Acceptance is what a request's Accept header asks for.
type Acceptance struct {
	// Media is the JSON type to answer in: the first of application/graphql-response+json
	// and application/json that Accept lists, and application/json when it lists neither
	// (no Accept, */*, or only types we do not answer), as the spec asks of servers that
	// still serve legacy clients.
	Media string
	// EventStream: text/event-stream is listed; OnlyEventStream: nothing else is (a
	// graphql-sse client).
	EventStream, OnlyEventStream bool
}

// Negotiate reads the Accept header. It runs a few times per request (transport choice,
// transport, response cache), so it scans the header in place rather than through
// mime.ParseMediaType. A type with q=0 is one the client refuses and is left out.
func Negotiate(r *http.Request) Acceptance {
	var a Acceptance
	others := false
	for _, header := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(header, ",") {
			media, params, _ := strings.Cut(part, ";")
			media = strings.TrimSpace(media)
			if media == "" || refused(params) {
				continue
			}
			switch {
			case strings.EqualFold(media, GraphQLResponse):
				a.Media = cmp.Or(a.Media, GraphQLResponse)
			case strings.EqualFold(media, JSON):
				a.Media = cmp.Or(a.Media, JSON)
			case strings.EqualFold(media, EventStream):
				a.EventStream = true
				continue
			}
			others = true
		}
	}
	a.Media = cmp.Or(a.Media, JSON)
	a.OnlyEventStream = a.EventStream && !others
	return a
}

// refused reports whether a media range's parameters give it q=0.
func refused(params string) bool {
	for param := range strings.SplitSeq(params, ";") {
		name, value, _ := strings.Cut(param, "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			value = strings.TrimRight(strings.TrimSpace(value), "0")
			return value == "" || value == "0" || value == "0."
		}
	}
	return false
}

// IsJSONBody reports whether a request says its body is JSON (parameters such as charset
// allowed), the only request body GraphQL over HTTP defines.
func IsJSONBody(r *http.Request) bool {
	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && media == JSON
}

// IsMultipartBody reports whether a request's body is multipart/form-data: a file upload
// (the GraphQL multipart request spec).
func IsMultipartBody(r *http.Request) bool {
	media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && media == "multipart/form-data"
}
