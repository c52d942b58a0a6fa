package apischema_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/internal/apischema"
)

const base = `
type Query {
  widget(id: ID!, size: Size): Widget
  widgets(first: Int = 20): [Widget!]!
  legacy: String @deprecated(reason: "Use widget.")
  old(id: ID!): Old @deprecated(reason: "Gone soon.")
}
type Mutation { widgetCreate(input: WidgetInput!): Widget }
interface Node { id: ID! }
type Widget implements Node { id: ID!, name: String, size: Size! }
type Old { id: ID! }
enum Size { SMALL LARGE HUGE @deprecated(reason: "Never made.") }
input WidgetInput { name: String!, note: String, size: Size = SMALL }
`

func schemaOf(t *testing.T, src string) *ast.Schema {
	t.Helper()
	s, err := apischema.Load(&ast.Source{Name: "s.graphqls", Input: src})
	require.NoError(t, err)
	return s
}

func TestBreaking(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		from, to string
		want     []string // the paths of the breaking changes; none means it passes
	}{
		"the same schema passes": {base, base, nil},
		"a removed field fails": {
			`type Widget implements Node { id: ID!, name: String, size: Size! }`,
			`type Widget implements Node { id: ID!, size: Size! }`, []string{"Widget.name"}},
		"a deprecated field's removal passes": {
			`legacy: String @deprecated(reason: "Use widget.")`, ``, nil},
		"a retyped field fails": {
			`type Widget implements Node { id: ID!, name: String, size: Size! }`,
			`type Widget implements Node { id: ID!, name: Int, size: Size! }`, []string{"Widget.name"}},
		"an output made non-null passes": {
			`type Widget implements Node { id: ID!, name: String, size: Size! }`,
			`type Widget implements Node { id: ID!, name: String!, size: Size! }`, nil},
		"an output made nullable fails": {
			`type Widget implements Node { id: ID!, name: String, size: Size! }`,
			`type Widget implements Node { id: ID!, name: String, size: Size }`, []string{"Widget.size"}},
		"a list of another type fails": {
			`widgets(first: Int = 20): [Widget!]!`, `widgets(first: Int = 20): [Old!]!`, []string{"Query.widgets"}},
		"a new optional argument passes": {
			`widgets(first: Int = 20): [Widget!]!`, `widgets(first: Int = 20, after: String, sort: Size = SMALL): [Widget!]!`, nil},
		"a new required argument fails": {
			`widgets(first: Int = 20): [Widget!]!`, `widgets(first: Int = 20, owner: ID!): [Widget!]!`, []string{"Query.widgets(owner)"}},
		"an argument made required fails": {
			`widget(id: ID!, size: Size): Widget`, `widget(id: ID!, size: Size!): Widget`, []string{"Query.widget(size)"}},
		"an argument whose default is dropped becomes required": {
			`input WidgetInput { name: String!, note: String, size: Size = SMALL }`,
			`input WidgetInput { name: String!, note: String, size: Size! }`, []string{"WidgetInput.size"}},
		"an argument made nullable passes": {
			`widget(id: ID!, size: Size): Widget`, `widget(id: ID, size: Size): Widget`, nil},
		"a removed argument fails": {
			`widget(id: ID!, size: Size): Widget`, `widget(id: ID!): Widget`, []string{"Query.widget(size)"}},
		"a retyped argument fails": {
			`widget(id: ID!, size: Size): Widget`, `widget(id: ID!, size: String): Widget`, []string{"Query.widget(size)"}},
		"a removed input field fails": {
			`input WidgetInput { name: String!, note: String, size: Size = SMALL }`,
			`input WidgetInput { name: String!, size: Size = SMALL }`, []string{"WidgetInput.note"}},
		"a deprecated input field's removal passes": {
			`input WidgetInput { name: String!, note: String, size: Size = SMALL }`,
			`input WidgetInput { name: String!, size: Size = SMALL }`, nil},
		"a new required input field fails": {
			`input WidgetInput { name: String!, note: String, size: Size = SMALL }`,
			`input WidgetInput { name: String!, note: String, size: Size = SMALL, owner: ID! }`, []string{"WidgetInput.owner"}},
		"a new optional input field passes": {
			`input WidgetInput { name: String!, note: String, size: Size = SMALL }`,
			`input WidgetInput { name: String!, note: String, size: Size = SMALL, owner: ID, count: Int! = 1 }`, nil},
		"a removed enum value fails": {
			`enum Size { SMALL LARGE HUGE @deprecated(reason: "Never made.") }`,
			`enum Size { SMALL HUGE @deprecated(reason: "Never made.") }`, []string{"Size.LARGE"}},
		"a deprecated enum value's removal passes": {
			`enum Size { SMALL LARGE HUGE @deprecated(reason: "Never made.") }`, `enum Size { SMALL LARGE }`, nil},
		"a new enum value passes": {
			`enum Size { SMALL LARGE HUGE @deprecated(reason: "Never made.") }`,
			`enum Size { SMALL LARGE HUGE @deprecated(reason: "Never made.") MEDIUM }`, nil},
		"a type used only by deprecated fields may go with them": {
			"old(id: ID!): Old @deprecated(reason: \"Gone soon.\")\n}\n", "}\n", nil},
		"a dropped interface fails": {
			`type Widget implements Node {`, `type Widget {`, []string{"Widget"}},
		"a type changing kind fails": {
			`type Old { id: ID! }`, `interface Old { id: ID! }`, []string{"Old"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			to := replace(t, base, tc.from, tc.to)
			if name == "a deprecated input field's removal passes" {
				from := replace(t, base, "note: String,", `note: String @deprecated(reason: "Unused."),`)
				checkPaths(t, apischema.Breaking(schemaOf(t, from), schemaOf(t, to)), tc.want)
				return
			}
			checkPaths(t, apischema.Breaking(schemaOf(t, base), schemaOf(t, to)), tc.want)
		})
	}
}

func TestBreakingTypeRemoval(t *testing.T) {
	t.Parallel()
	old := schemaOf(t, "type Query { a: A, b: String }\ntype A { x: Int }\n")
	gone := schemaOf(t, "type Query { a: String, b: String }\n")
	checkPaths(t, apischema.Breaking(old, gone), []string{"A", "Query.a"})

	warned := schemaOf(t, "type Query { a: A @deprecated(reason: \"b\"), b: String }\ntype A { x: Int }\n")
	checkPaths(t, apischema.Breaking(warned, schemaOf(t, "type Query { b: String }\n")), nil)
}

func replace(t *testing.T, src, from, to string) string {
	t.Helper()
	if from == to {
		return src
	}
	require.Contains(t, src, from)
	out := ""
	for i := 0; i < len(src); {
		if len(src)-i >= len(from) && src[i:i+len(from)] == from {
			out += to
			i += len(from)
			continue
		}
		out += string(src[i])
		i++
	}
	return out
}

func checkPaths(t *testing.T, changes []apischema.Change, want []string) {
	t.Helper()
	var got []string
	for _, c := range changes {
		got = append(got, c.Path)
	}
	require.Equal(t, want, got, "%v", changes)
}

func TestPrintRoundTrips(t *testing.T) {
	t.Parallel()
	s := schemaOf(t, base)
	printed := apischema.Print(s)
	again := schemaOf(t, printed)
	require.Equal(t, printed, apischema.Print(again))
	require.Empty(t, apischema.Breaking(s, again))
	require.Empty(t, apischema.Breaking(again, s))
}
