package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
)

// malformedRequest is one hostile or mistaken request and what the server must answer.
type malformedRequest struct {
	name   string
	method string
	// query is the URL's query string (GET) and body the request body (POST).
	query, body string
	// contentType is application/json unless set; accept is sent when set.
	contentType, accept string
	status              int
	code                string
	// hasData is true for execution errors (data with a null field); request errors have none.
	hasData bool
}

// malformedRequests is the catalogue of client mistakes: none may panic, say INTERNAL or log at
// ERROR. Request errors have no data key; parse and validation errors are 200 to
// application/json clients and 400 to application/graphql-response+json ones.
var malformedRequests = []malformedRequest{
	{name: "invalid JSON", body: `{"query": `, status: 400, code: "BAD_REQUEST"},
	{name: "empty body", body: ``, status: 400, code: "BAD_REQUEST"},
	{name: "whitespace body", body: "  \n ", status: 400, code: "BAD_REQUEST"},
	{name: "query is a number", body: `{"query": 42}`, status: 400, code: "BAD_REQUEST"},
	{name: "query is an object", body: `{"query": {"a": 1}}`, status: 400, code: "BAD_REQUEST"},
	{name: "variables is a string", body: `{"query": "{ __typename }", "variables": "{}"}`, status: 400, code: "BAD_REQUEST"},
	{name: "variables is an array", body: `{"query": "{ __typename }", "variables": [1]}`, status: 400, code: "BAD_REQUEST"},
	{name: "array batch", body: `[{"query": "{ __typename }"}]`, status: 400, code: "BAD_REQUEST"},
	{name: "extensions is a string", body: `{"query": "{ __typename }", "extensions": "x"}`, status: 400, code: "BAD_REQUEST"},
	{name: "extensions is an array", body: `{"query": "{ __typename }", "extensions": []}`, status: 400, code: "BAD_REQUEST"},
	{name: "operationName is a number", body: `{"query": "{ __typename }", "operationName": 7}`, status: 400, code: "BAD_REQUEST"},
	{name: "body is null", body: `null`, status: 400, code: "BAD_REQUEST"},
	{name: "body is a string", body: `"{ __typename }"`, status: 400, code: "BAD_REQUEST"},
	{name: "body is a number", body: `42`, status: 400, code: "BAD_REQUEST"},
	{name: "no query", body: `{}`, status: 400, code: "BAD_REQUEST"},
	{name: "empty query", body: `{"query": ""}`, status: 400, code: "BAD_REQUEST"},
	{name: "null query", body: `{"query": null}`, status: 400, code: "BAD_REQUEST"},
	{name: "trailing garbage", body: `{"query": "{ __typename }"} {}`, status: 400, code: "BAD_REQUEST"},
	{name: "text/plain body", body: `{"query": "{ __typename }"}`, contentType: "text/plain", status: 415, code: "BAD_REQUEST"},
	{name: "form body", body: `query=%7B__typename%7D`, contentType: "application/x-www-form-urlencoded", status: 415, code: "BAD_REQUEST"},
	{name: "PUT", method: http.MethodPut, body: `{"query": "{ __typename }"}`, status: 405, code: "BAD_REQUEST"},
	{name: "DELETE", method: http.MethodDelete, status: 405, code: "BAD_REQUEST"},
	{name: "parse error, JSON client", body: `{"query": "{ products {"}`, status: 200, code: "GRAPHQL_PARSE_FAILED"},
	{name: "parse error, graphql-response client", body: `{"query": "{ products {"}`, accept: "application/graphql-response+json", status: 400, code: "GRAPHQL_PARSE_FAILED"},
	{name: "unknown field, JSON client", body: `{"query": "{ nope }"}`, status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
	{name: "unknown field, graphql-response client", body: `{"query": "{ nope }"}`, accept: "application/graphql-response+json", status: 400, code: "GRAPHQL_VALIDATION_FAILED"},
	{name: "unknown field, Apollo Client 3's Accept", body: `{"query": "{ nope }"}`, accept: "*/*", status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
	{name: "unknown operationName", body: `{"query": "query A { __typename }", "operationName": "B"}`, status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
	{name: "variable of the wrong type", body: `{"query": "query($n: Int) { products(first: $n) { totalCount } }", "variables": {"n": "x"}}`, status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
	{name: "required variable missing", body: `{"query": "query($n: Int!) { products(first: $n) { totalCount } }"}`, status: 200, code: "GRAPHQL_VALIDATION_FAILED"},
	{name: "Int64 variable that does not parse", body: `{"query": "query($m: Int64) { products(filter: {minPrice: $m}) { totalCount } }", "variables": {"m": "12.50"}}`, status: 200, code: "BAD_USER_INPUT", hasData: true},
	{name: "Int64 literal that does not parse", body: `{"query": "{ products(filter: {minPrice: \"12.50\"}) { totalCount } }"}`, status: 200, code: "BAD_USER_INPUT", hasData: true},
	{name: "Int64 variable out of range", body: `{"query": "query($m: Int64) { products(filter: {minPrice: $m}) { totalCount } }", "variables": {"m": 92233720368547758070}}`, status: 200, code: "BAD_USER_INPUT", hasData: true},
	{name: "subscription over plain POST", body: `{"query": "subscription { orderStatusChanged(orderId: \"x\") { status } }"}`, status: 400, code: "BAD_REQUEST"},
	{name: "unknown persisted query", body: `{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + strings.Repeat("ab", 32) + `"}}}`, status: 200, code: "PERSISTED_QUERY_NOT_FOUND"},
	{name: "GET without query", method: http.MethodGet, query: ``, status: 400, code: "BAD_REQUEST"},
	{name: "GET with variables that are not JSON", method: http.MethodGet, query: "query=" + url.QueryEscape("{ __typename }") + "&variables=%7Bx", status: 400, code: "BAD_REQUEST"},
	{name: "GET with variables that are an array", method: http.MethodGet, query: "query=" + url.QueryEscape("{ __typename }") + "&variables=%5B%5D", status: 400, code: "BAD_REQUEST"},
	{name: "GET with extensions that are a number", method: http.MethodGet, query: "query=" + url.QueryEscape("{ __typename }") + "&extensions=3", status: 400, code: "BAD_REQUEST"},
	{name: "GET with a malformed query string", method: http.MethodGet, query: "query=%zz", status: 400, code: "BAD_REQUEST"},
	{name: "GET mutation", method: http.MethodGet, query: "query=" + url.QueryEscape(`mutation { accountLogout { userErrors { code } } }`), status: 405, code: "BAD_REQUEST"},
	{name: "GET parse error", method: http.MethodGet, query: "query=" + url.QueryEscape("{"), status: 200, code: "GRAPHQL_PARSE_FAILED"},
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{"LOG_LEVEL": "info"})
	require.GreaterOrEqual(t, len(malformedRequests), 30)
	for _, tc := range malformedRequests {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, srv.URL+"/graphql?"+tc.query, strings.NewReader(tc.body))
			require.NoError(t, err)
			contentType := tc.contentType
			if contentType == "" {
				contentType = "application/json"
			}
			req.Header.Set("Content-Type", contentType)
			if tc.accept != "" {
				req.Header.Set("Accept", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			require.NoError(t, err)

			require.Equal(t, tc.status, resp.StatusCode, "body: %s", raw)
			var body map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(raw, &body), "a JSON answer: %s", raw)
			var errs []struct {
				Extensions map[string]any `json:"extensions"`
			}
			require.NoError(t, json.Unmarshal(body["errors"], &errs), "body: %s", raw)
			require.NotEmpty(t, errs, "body: %s", raw)
			require.Equal(t, tc.code, errs[0].Extensions["code"], "body: %s", raw)
			_, hasData := body["data"]
			require.Equal(t, tc.hasData, hasData, "data key: %s", raw)
			wantType := "application/json"
			if tc.accept == "application/graphql-response+json" {
				wantType = tc.accept
			}
			require.Equal(t, wantType, resp.Header.Get("Content-Type"))
		})
	}
	// Every request above was the client's mistake: none is worth an ERROR line.
	for line := range strings.Lines(srv.Logs.String()) {
		require.NotContains(t, line, `"level":"ERROR"`)
	}
	require.Contains(t, srv.Logs.String(), `"level":"INFO"`, "the requests were logged")
}

func TestIntrospectionDisabled(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, map[string]string{"INTROSPECTION": "off", "LOG_LEVEL": "info"})
	c := srv.Client(t)
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`{ __type(name: "Product") { name } }`,
		`query { ...F } fragment F on Query { __schema { types { name } } }`,
	} {
		resp := c.Do(q, nil)
		require.Equal(t, http.StatusOK, resp.HTTP.StatusCode)
		require.Equal(t, "INTROSPECTION_DISABLED", resp.Code(), "query %s", q)
	}
	// __typename is not introspection of the schema and still answers.
	var out struct {
		Typename string `json:"__typename"`
	}
	c.Do(`{ __typename }`, nil).Decode(t, &out)
	require.Equal(t, "Query", out.Typename)
	require.NotContains(t, srv.Logs.String(), `"level":"ERROR"`)
}

// TestClientConformance sends what real clients send: urql's Accept lists an event stream
// beside JSON, Apollo Client 4 prefers application/graphql-response+json, graphql-sse accepts
// only a stream, and Apollo's persisted queries GET a hash alone.
func TestClientConformance(t *testing.T) {
	t.Parallel()
	srv := apitest.NewServer(t, nil)
	seedOne(t, srv, "Conformance Lamp", "CONF-LAMP", 1500)
	const urqlAccept = "application/graphql-response+json, application/json, text/event-stream, multipart/mixed"
	const page = `query Page { products(first: 3) { nodes { name } } }`

	post := func(t *testing.T, accept, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, raw
	}
	body, err := json.Marshal(map[string]any{"query": page, "operationName": "Page"})
	require.NoError(t, err)

	t.Run("urql's Accept gets JSON from the cached path, miss and hit", func(t *testing.T) {
		for _, want := range []string{"MISS", "HIT"} {
			resp, raw := post(t, urqlAccept, string(body))
			require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", raw)
			require.Equal(t, want, resp.Header.Get("X-Cache"))
			require.Equal(t, "application/graphql-response+json", resp.Header.Get("Content-Type"))
			require.Contains(t, string(raw), "Conformance Lamp")
		}
	})

	t.Run("the cached path honours each client's media type", func(t *testing.T) {
		for accept, want := range map[string]string{
			"application/graphql-response+json,application/json;q=0.9": "application/graphql-response+json",
			"application/json": "application/json",
			"*/*":              "application/json",
			"":                 "application/json",
		} {
			resp, raw := post(t, accept, string(body))
			require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", raw)
			require.Equal(t, "HIT", resp.Header.Get("X-Cache"))
			require.Equal(t, want, resp.Header.Get("Content-Type"), "Accept %q", accept)
		}
	})

	t.Run("urql's Accept on a subscription still gets an event stream", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql",
			strings.NewReader(`{"query": "subscription { orderStatusChanged(orderId: \"T3JkZXI6MQ\") { status } }"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", urqlAccept)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	})

	t.Run("a hash-only persisted GET is public like the same query in full", func(t *testing.T) {
		sum := sha256.Sum256([]byte(page))
		hash := hex.EncodeToString(sum[:])
		ext := `{"persistedQuery":{"version":1,"sha256Hash":"` + hash + `"}}`
		get := func(params url.Values) *http.Response {
			resp, err := http.Get(srv.URL + "/graphql?" + params.Encode())
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			return resp
		}
		hashOnly := url.Values{"operationName": {"Page"}, "extensions": {ext}}
		// Unknown yet: PERSISTED_QUERY_NOT_FOUND, which a CDN must not keep.
		require.Equal(t, "no-store", get(hashOnly).Header.Get("Cache-Control"))
		full := get(url.Values{"operationName": {"Page"}, "extensions": {ext}, "query": {page}})
		require.Contains(t, full.Header.Get("Cache-Control"), "public")
		require.Equal(t, full.Header.Get("Cache-Control"), get(hashOnly).Header.Get("Cache-Control"))

		var out apitest.Response
		resp, err := http.Get(srv.URL + "/graphql?" + hashOnly.Encode())
		require.NoError(t, err)
		defer resp.Body.Close()
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Empty(t, out.Errors)
		require.Contains(t, string(out.Data), "Conformance Lamp")
	})

	t.Run("a hash-only persisted POST is answered from the cache", func(t *testing.T) {
		sum := sha256.Sum256([]byte(page))
		hashOnly := `{"operationName": "Page", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "` + hex.EncodeToString(sum[:]) + `"}}}`
		post(t, "application/json", string(body)) // in the cache by its full text
		resp, raw := post(t, "application/json", hashOnly)
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", raw)
		require.Equal(t, "HIT", resp.Header.Get("X-Cache"))
		require.Contains(t, string(raw), "Conformance Lamp")
	})

	t.Run("a body larger than the cache reads is answered whole", func(t *testing.T) {
		padded := `{"operationName": "Page", "query": ` + string(mustJSON(t, page+strings.Repeat(" ", 100<<10))) + `}`
		resp, raw := post(t, "application/json", padded)
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %.300s", raw)
		require.Contains(t, string(raw), "Conformance Lamp")
	})

	t.Run("a JSON body with a charset is cached like any other", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, "HIT", resp.Header.Get("X-Cache"))
	})

	t.Run("a media type refused with q=0 is not chosen", func(t *testing.T) {
		resp, raw := post(t, "application/graphql-response+json;q=0, application/json", string(body))
		require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", raw)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	})

	t.Run("a public GET that answers errors is not cacheable", func(t *testing.T) {
		// Valid and public, but failing: a page size beyond the maximum.
		resp, err := http.Get(srv.URL + "/graphql?" + url.Values{"query": {`{ products(first: 1000) { totalCount } }`}}.Encode())
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Contains(t, string(raw), `"errors"`)
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	})

	t.Run("a chunked body over the limit is 413 REQUEST_TOO_LARGE", func(t *testing.T) {
		big := strings.Repeat(" ", 2<<20)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/graphql",
			io.MultiReader(strings.NewReader(`{"query": "{ __typename }"`), strings.NewReader(big), strings.NewReader(`}`)))
		require.NoError(t, err)
		req.ContentLength = -1 // chunked: the limit is found while reading
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out apitest.Response
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		require.Equal(t, "REQUEST_TOO_LARGE", out.Code())
	})

	t.Run("an oversized body is 413 through the cache too", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), 2<<20)
		resp, raw := post(t, "application/json", `{"query": "{ __typename }"`+string(big)+`}`)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "body: %.200s", raw)
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}
