package mediatype

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNegotiate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		accept          []string
		media           string
		onlyEventStream bool
	}{
		{nil, JSON, false},
		{[]string{"*/*"}, JSON, false},
		{[]string{"application/graphql-response+json, application/json;q=0.9"}, GraphQLResponse, false},
		{[]string{"application/json", "application/graphql-response+json"}, JSON, false},
		{[]string{"application/graphql-response+json;q=0, application/json"}, JSON, false},
		{[]string{"application/graphql-response+json;q=0.0"}, JSON, false},
		{[]string{"text/event-stream"}, JSON, true},
		{[]string{"text/event-stream, application/json"}, JSON, false},
		{[]string{"TEXT/EVENT-STREAM;q=1"}, JSON, true},
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		for _, a := range tc.accept {
			r.Header.Add("Accept", a)
		}
		got := Negotiate(r)
		require.Equal(t, tc.media, got.Media, "%q", tc.accept)
		require.Equal(t, tc.onlyEventStream, got.OnlyEventStream, "%q", tc.accept)
	}
}

func TestIsJSONBody(t *testing.T) {
	t.Parallel()
	for contentType, want := range map[string]bool{
		"application/json":                  true,
		"application/json; charset=utf-8":   true,
		"application/graphql-response+json": false,
		"text/plain":                        false,
		"":                                  false,
		"application/json;;":                false,
	} {
		r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
		r.Header.Set("Content-Type", contentType)
		require.Equal(t, want, IsJSONBody(r), "%q", contentType)
	}
}
