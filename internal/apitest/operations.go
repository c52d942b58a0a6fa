// This file runs the documented operations (docs/operations) by name, so that API tests
// exercise the very documents frontends copy, and a change that breaks one fails a test that
// runs it, not only the schema check.

package apitest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/docs/operations"
)

// OperationDocument is the documented operation called name with its fragments, as a client
// sends it; the test fails when no such operation is documented.
func OperationDocument(t *testing.T, name string) string {
	t.Helper()
	set, err := operations.Embedded()
	require.NoError(t, err)
	op, ok := set.Get(name)
	require.True(t, ok, "docs/operations has no operation %s", name)
	return op.Document
}

// Operation runs the documented operation called name with vars (and its operationName), and
// fails the test unless a GraphQL response comes back.
func (c *Client) Operation(name string, vars map[string]any) *Response {
	c.t.Helper()
	body, err := json.Marshal(map[string]any{
		"query": OperationDocument(c.t, name), "operationName": name, "variables": vars,
	})
	require.NoError(c.t, err)
	return c.Post("application/json", body)
}

// Payload runs the documented mutation called name with `input` and decodes its one payload
// field into out, failing the test on top-level errors.
func (c *Client) Payload(name string, input map[string]any, out any) {
	c.t.Helper()
	var data map[string]json.RawMessage
	c.Operation(name, map[string]any{"input": input}).Decode(c.t, &data)
	require.Len(c.t, data, 1, "a documented mutation selects one field")
	for _, raw := range data {
		require.NoError(c.t, json.Unmarshal(raw, out))
	}
}
