package docgen_test

import (
	"encoding/json"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/docs/operations"
	"github.com/shopgraph/shopgraph/internal/apischema"
	"github.com/shopgraph/shopgraph/internal/docgen"
)

const tiny = `
directive @auth on FIELD_DEFINITION
"""Read operations."""
type Query {
  """A widget by ID."""
  widget("The widget's ID." id: ID!): Widget @auth
}
"""Write operations."""
type Mutation {
  """Makes a widget."""
  widgetCreate(input: WidgetInput!): Widget
}
"""A thing | with pipes. More."""
type Widget {
  """Its ID."""
  id: ID!
  """Its parts."""
  parts: [Part!]!
  """Old name."""
  label: String @deprecated(reason: "Use name.")
}
"""A part of a widget."""
type Part { size: Size! }
"""How big."""
enum Size { SMALL LARGE }
"""Input of widgetCreate."""
input WidgetInput { name: String!, size: Size!, note: String, count: Int = 1 }
`

func load(t *testing.T) *ast.Schema {
	t.Helper()
	s, err := apischema.Load(&ast.Source{Name: "tiny.graphqls", Input: tiny})
	require.NoError(t, err)
	return s
}

func TestReference(t *testing.T) {
	t.Parallel()
	set, err := operations.Load(fstest.MapFS{
		"storefront/Widget.graphql": {Data: []byte("# Reads a widget.\n# Who may run it: anyone.\nquery Widget($id: ID!) { widget(id: $id) { id } }\n")},
	})
	require.NoError(t, err)
	pages := docgen.Reference(load(t), set)

	require.Contains(t, pages, "README.md")
	for _, n := range []string{"Query", "Mutation", "Widget", "Part", "Size", "WidgetInput"} {
		require.Contains(t, pages, n+".md")
		require.Contains(t, pages["README.md"], "("+n+".md)", "the index links every type")
	}
	require.NotContains(t, pages, "String.md", "built-in scalars have no page")

	q := pages["Query.md"]
	require.Contains(t, q, "**Type:** [`Widget`](Widget.md) · **Access:** signed in")
	require.Contains(t, q, "| `id` | `ID!` |  | The widget's ID. |")
	require.Contains(t, q, "Documented operations: [Widget](../operations/storefront/Widget.graphql)")
	require.NotContains(t, pages["Mutation.md"], "Documented operations", "no operation calls widgetCreate")

	w := pages["Widget.md"]
	require.Contains(t, w, "A thing | with pipes. More.")
	require.Contains(t, w, "[`[Part!]!`](Part.md)", "a list links to its named type")
	require.Contains(t, w, "**Deprecated:** Use name. Old name.")
	require.Contains(t, w, "## Used by\n\n[Mutation](Mutation.md), [Query](Query.md)")

	require.Contains(t, pages["WidgetInput.md"], "| `count` | `Int` | `1` |  |")
	require.Contains(t, pages["Size.md"], "| `SMALL` |  |")
	require.Contains(t, pages["README.md"], "| [Widget](Widget.md) | A thing \\| with pipes. |", "pipes are escaped in tables")
}

func TestPostman(t *testing.T) {
	t.Parallel()
	set, err := operations.Load(fstest.MapFS{
		"storefront/Widget.graphql":     {Data: []byte("# Reads a widget.\n# Who may run it: a signed-in account.\nquery Widget($id: ID!) { widget(id: $id) { ...WidgetParts } }\n")},
		"admin/WidgetCreate.graphql":    {Data: []byte("# Makes a widget.\n# Who may run it: anyone.\nmutation WidgetCreate($input: WidgetInput!) { widgetCreate(input: $input) { id } }\n")},
		"fragments/WidgetParts.graphql": {Data: []byte("# The parts.\nfragment WidgetParts on Widget { parts { size } }\n")},
	})
	require.NoError(t, err)
	s := load(t)
	require.NoError(t, set.Validate(s))
	collection, environment, err := docgen.Postman(s, set)
	require.NoError(t, err)
	again, _, err := docgen.Postman(s, set)
	require.NoError(t, err)
	require.Equal(t, string(collection), string(again), "regenerating changes nothing")

	var c struct {
		Variable []struct {
			Key, Value string
		} `json:"variable"`
		Info struct {
			Schema string `json:"schema"`
		} `json:"info"`
		Auth struct {
			Type   string `json:"type"`
			Bearer []struct {
				Key, Value string
			} `json:"bearer"`
		} `json:"auth"`
		Item []struct {
			Name string `json:"name"`
			Item []struct {
				Name    string `json:"name"`
				Request struct {
					Method string `json:"method"`
					URL    struct {
						Raw string `json:"raw"`
					} `json:"url"`
					Body struct {
						Mode    string `json:"mode"`
						GraphQL struct {
							Query     string `json:"query"`
							Variables string `json:"variables"`
						} `json:"graphql"`
					} `json:"body"`
					Description string `json:"description"`
				} `json:"request"`
			} `json:"item"`
		} `json:"item"`
	}
	require.NoError(t, json.Unmarshal(collection, &c))
	require.Equal(t, "https://schema.getpostman.com/json/collection/v2.1.0/collection.json", c.Info.Schema)
	require.Equal(t, "bearer", c.Auth.Type)
	require.Len(t, c.Variable, 1)
	require.Equal(t, "baseUrl", c.Variable[0].Key, "the collection runs without an environment too")
	require.Equal(t, "{{token}}", c.Auth.Bearer[0].Value)
	require.Equal(t, []string{"storefront", "vendor", "admin"}, []string{c.Item[0].Name, c.Item[1].Name, c.Item[2].Name})
	require.Empty(t, c.Item[1].Item, "an audience without operations is an empty folder")

	widget := c.Item[0].Item[0]
	require.Equal(t, "Widget", widget.Name)
	require.Equal(t, "POST", widget.Request.Method)
	require.Equal(t, "{{baseUrl}}/graphql", widget.Request.URL.Raw)
	require.Equal(t, "graphql", widget.Request.Body.Mode)
	require.Contains(t, widget.Request.Body.GraphQL.Query, "fragment WidgetParts on Widget", "the body carries its fragments")
	require.JSONEq(t, `{"id": "<ID>"}`, widget.Request.Body.GraphQL.Variables)
	require.Contains(t, widget.Request.Description, "Who may run it: a signed-in account.")

	create := c.Item[2].Item[0]
	require.JSONEq(t, `{"input": {"name": "", "size": "SMALL"}}`, create.Request.Body.GraphQL.Variables,
		"required input fields are filled in; optional and defaulted ones left out")

	var env struct {
		Values []struct{ Key string } `json:"values"`
	}
	require.NoError(t, json.Unmarshal(environment, &env))
	var keys []string
	for _, v := range env.Values {
		keys = append(keys, v.Key)
	}
	require.Subset(t, keys, []string{"baseUrl", "token"})
}
