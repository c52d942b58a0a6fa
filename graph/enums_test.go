package graph

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/order"
	"github.com/shopgraph/shopgraph/internal/payment"
)

// enumBinding is one GraphQL enum bound to a domain type in gqlgen.yml (enum_values): the
// generated tables that read and write it.
type enumBinding[T ~string] struct {
	unmarshal map[string]T
	marshal   map[T]string
	valid     func(T) bool
}

// checkEnum tells that every value of the schema's enum reads as the domain constant of the
// same name and writes back as itself, that no domain value is left out, and that unknown or
// differently cased names are not read (validation refuses them before any resolver).
func checkEnum[T ~string](t *testing.T, name string, b enumBinding[T]) {
	t.Helper()
	def := NewExecutableSchema(Config{}).Schema().Types[name]
	require.NotNil(t, def, name)
	require.Len(t, b.unmarshal, len(def.EnumValues), name)
	require.Len(t, b.marshal, len(def.EnumValues), name)
	for _, v := range def.EnumValues {
		got, ok := b.unmarshal[v.Name]
		require.True(t, ok, "%s.%s is not bound", name, v.Name)
		require.Equal(t, v.Name, string(got), "%s.%s", name, v.Name)
		require.Equal(t, v.Name, b.marshal[got], "%s.%s", name, v.Name)
		if b.valid != nil {
			require.True(t, b.valid(got), "%s.%s", name, v.Name)
		}
	}
	for _, bad := range []string{"LOST", "", "paid", " PAID"} {
		_, ok := b.unmarshal[bad]
		require.False(t, ok, "%s reads %q", name, bad)
	}
}

func TestEnumBindings(t *testing.T) {
	t.Parallel()
	checkEnum(t, "OrderStatus", enumBinding[order.Status]{
		unmarshalNOrderStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋorderᚐStatus,
		marshalNOrderStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋorderᚐStatus,
		order.Status.Valid,
	})
	checkEnum(t, "PaymentStatus", enumBinding[payment.Status]{
		unmarshalNPaymentStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋpaymentᚐStatus,
		marshalNPaymentStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋpaymentᚐStatus,
		nil,
	})
	checkEnum(t, "ProductStatus", enumBinding[catalog.Status]{
		unmarshalNProductStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋcatalogᚐStatus,
		marshalNProductStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋcatalogᚐStatus,
		nil,
	})
	checkEnum(t, "StockStatus", enumBinding[catalog.StockStatus]{
		unmarshalNStockStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋcatalogᚐStockStatus,
		marshalNStockStatus2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋcatalogᚐStockStatus,
		nil,
	})
	checkEnum(t, "ProductSort", enumBinding[catalog.Sort]{
		unmarshalOProductSort2ᚖgithubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋcatalogᚐSort,
		marshalOProductSort2ᚖgithubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋcatalogᚐSort,
		nil,
	})
	checkEnum(t, "Role", enumBinding[auth.Role]{
		unmarshalNRole2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋauthᚐRole,
		marshalNRole2githubᚗcomᚋshopgraphᚋshopgraphᚋinternalᚋauthᚐRole,
		auth.Role.Valid,
	})
}
