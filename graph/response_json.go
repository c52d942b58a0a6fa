package graph

import (
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// encodeResponse is json.Marshal(resp) without a second pass over resp.Data: gqlgen's
// executor already wrote Data as compact JSON, and encoding/json validates and compacts every
// RawMessage it writes, which for a product page or a first page of products is most of the
// response (BenchmarkEncodeResponse). The members come in json.Marshal's order; strings in
// Data keep <, > and & as they are (encoding/json escapes them for HTML; the response is
// never HTML).
func encodeResponse(resp *graphql.Response) ([]byte, error) {
	b := make([]byte, 0, len(resp.Data)+64)
	b = append(b, '{')
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, `"errors":`...), errs...), ',')
	}
	b = append(b, `"data":`...)
	if len(resp.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, resp.Data...)
	}
	if resp.Label != "" || len(resp.Path) > 0 || resp.HasNext != nil || len(resp.Extensions) > 0 {
		rest, err := json.Marshal(struct {
			Label      string         `json:"label,omitempty"`
			Path       ast.Path       `json:"path,omitempty"`
			HasNext    *bool          `json:"hasNext,omitempty"`
			Extensions map[string]any `json:"extensions,omitempty"`
		}{resp.Label, resp.Path, resp.HasNext, resp.Extensions})
		if err != nil {
			return nil, err
		}
		b = append(append(b, ','), rest[1:len(rest)-1]...) // its members, without its braces
	}
	return append(b, '}'), nil
}
