package graph

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestEncodeResponse: encodeResponse writes what json.Marshal writes, member for member.
func TestEncodeResponse(t *testing.T) {
	yes := true
	for name, resp := range map[string]*graphql.Response{
		"data":                {Data: json.RawMessage(`{"product":{"id":"UHJvZHVjdDox","name":"Mug"}}`)},
		"no data":             {},
		"errors and data":     {Data: json.RawMessage(`{"product":null}`), Errors: gqlerror.List{{Message: "No product.", Path: ast.Path{ast.PathName("product")}, Extensions: map[string]any{"code": "NOT_FOUND"}}}},
		"extensions":          {Data: json.RawMessage(`{}`), Extensions: map[string]any{"statements": 3}},
		"incremental members": {Data: json.RawMessage(`{"a":1}`), Label: "later", Path: ast.Path{ast.PathIndex(2)}, HasNext: &yes},
	} {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(resp)
			require.NoError(t, err)
			got, err := encodeResponse(resp)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		})
	}

	t.Run("HTML characters stay as they are, the same JSON", func(t *testing.T) {
		resp := &graphql.Response{Data: json.RawMessage(`{"description":"<b>Tea & cake</b>"}`)}
		got, err := encodeResponse(resp)
		require.NoError(t, err)
		require.Equal(t, `{"data":{"description":"<b>Tea & cake</b>"}}`, string(got))
		want, err := json.Marshal(resp)
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(got))
	})
}

// BenchmarkEncodeResponse compares encodeResponse with json.Marshal on a product page's size
// of data (about 6 KiB: a product with 20 variants).
func BenchmarkEncodeResponse(b *testing.B) {
	var variants []string
	for i := range 20 {
		variants = append(variants, fmt.Sprintf(`{"id":"UHJvZHVjdFZhcmlhbnQ6%d","sku":"SKU-%d","name":"Size %d","price":{"amount":%d,"currency":"EUR"},"stockStatus":"IN_STOCK"}`, i, i, i, 1000+i))
	}
	resp := &graphql.Response{Data: json.RawMessage(`{"product":{"id":"UHJvZHVjdDox","name":"Ceramic mug","description":"` +
		strings.Repeat("A sturdy mug. ", 60) + `","variants":[` + strings.Join(variants, ",") + `]}}`)}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(resp)
		}
	})
	b.Run("encodeResponse", func(b *testing.B) {
		for b.Loop() {
			_, _ = encodeResponse(resp)
		}
	})
}
