package operations_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopgraph/shopgraph/docs/operations"
	"github.com/shopgraph/shopgraph/internal/apischema"
)

// TestOperationsMatchSchema is CI's check that the documented operations still run against
// the schema: a renamed field, a new required argument or a retyped variable fails it.
func TestOperationsMatchSchema(t *testing.T) {
	t.Parallel()
	schema, err := apischema.LoadDir("../../schema")
	require.NoError(t, err)
	set, err := operations.Embedded()
	require.NoError(t, err)
	require.NoError(t, set.Validate(schema))

	// What the issue promises each frontend, by audience.
	want := map[string][]string{
		"storefront": {"Register", "SignIn", "RefreshTokens", "SignOut", "Me", "Products", "ProductPage",
			"Cart", "CartItemAdd", "CartItemUpdate", "CartItemRemove", "AddressBook", "AddressCreate",
			"Checkout", "Order", "OrderStatusChanged", "OrderPaymentRetry", "ReviewCreate"},
		"vendor": {"VendorProducts", "ProductCreate", "ProductVariantStockAdjust", "OrdersToFulfil",
			"FulfillmentCreate", "VendorAnalytics"},
		"admin": {"VendorsPending", "VendorApprove", "ReviewsToModerate", "ReviewModerate", "OrderRefund",
			"AccountRoleUpdate"},
	}
	for audience, names := range want {
		for _, n := range names {
			op, ok := set.Get(n)
			require.True(t, ok, "no operation %s", n)
			require.Equal(t, audience, op.Audience, n)
		}
	}
}

var tinySchema = func() *ast.Schema {
	s, err := apischema.Load(&ast.Source{Name: "tiny.graphqls", Input: `
type Query { me: User }
type User { id: ID! name: String! }
`})
	if err != nil {
		panic(err)
	}
	return s
}()

func TestLoadAndValidate(t *testing.T) {
	t.Parallel()
	frag := &fstest.MapFile{Data: []byte("# A user's name.\nfragment UserName on User { name }\n")}
	op := func(src string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(src)} }

	t.Run("a valid operation carries its fragments", func(t *testing.T) {
		set, err := operations.Load(fstest.MapFS{
			"fragments/UserName.graphql": frag,
			"storefront/Me.graphql":      op("# The viewer.\n# Who may run it: anyone.\nquery Me { me { id ...UserName } }\n"),
		})
		require.NoError(t, err)
		require.NoError(t, set.Validate(tinySchema))
		me, ok := set.Get("Me")
		require.True(t, ok)
		require.Equal(t, "query", me.Kind)
		require.Contains(t, me.Document, "fragment UserName on User")
		require.Equal(t, "The viewer.\nWho may run it: anyone.", me.Comment)
	})
	t.Run("an unknown field fails validation", func(t *testing.T) {
		set, err := operations.Load(fstest.MapFS{
			"storefront/Me.graphql": op("# The viewer.\n# Who may run it: anyone.\nquery Me { me { email } }\n"),
		})
		require.NoError(t, err)
		require.ErrorContains(t, set.Validate(tinySchema), `Cannot query field "email"`)
	})
	t.Run("an unused fragment fails validation", func(t *testing.T) {
		set, err := operations.Load(fstest.MapFS{
			"fragments/UserName.graphql": frag,
			"storefront/Me.graphql":      op("# The viewer.\n# Who may run it: anyone.\nquery Me { me { id } }\n"),
		})
		require.NoError(t, err)
		require.ErrorContains(t, set.Validate(tinySchema), "no operation uses fragment UserName")
	})
	for name, tc := range map[string]struct{ path, src, msg string }{
		"a name other than the file's": {"storefront/Me.graphql", "# x\n# Who may run it: anyone.\nquery Viewer { me { id } }\n", "named Me"},
		"two operations":               {"storefront/Me.graphql", "# x\n# Who may run it: anyone.\nquery Me { me { id } }\nquery Other { me { id } }\n", "exactly one operation"},
		"an anonymous operation":       {"storefront/Me.graphql", "# x\n# Who may run it: anyone.\n{ me { id } }\n", "exactly one operation"},
		"no comment":                   {"storefront/Me.graphql", "query Me { me { id } }\n", "Who may run it"},
		"a missing fragment":           {"admin/Me.graphql", "# x\n# Who may run it: anyone.\nquery Me { me { ...Nope } }\n", "fragment Nope is not in fragments/"},
		"a syntax error":               {"vendor/Me.graphql", "# x\nquery Me { me { id }\n", "vendor/Me.graphql"},
	} {
		t.Run(name+" is refused", func(t *testing.T) {
			_, err := operations.Load(fstest.MapFS{tc.path: op(tc.src)})
			require.ErrorContains(t, err, tc.msg)
		})
	}
}
