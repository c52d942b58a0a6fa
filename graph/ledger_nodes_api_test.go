package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

const ledgerNodeQuery = `query($id: ID!) { node(id: $id) { id
  ... on VendorLedgerEntry { kind net { amount currency } }
  ... on StockMovement { movementKind: kind delta quantity reason } } }`

type ledgerNodeResult struct {
	Node *struct {
		ID       string     `json:"id"`
		Kind     string     `json:"kind"`
		Movement string     `json:"movementKind"`
		Net      *moneyJSON `json:"net"`
		Delta    *int       `json:"delta"`
		Quantity *int       `json:"quantity"`
		Reason   *string    `json:"reason"`
	} `json:"node"`
}

func ledgerNode(t *testing.T, c *apitest.Client, id string) ledgerNodeResult {
	t.Helper()
	var out ledgerNodeResult
	c.As(t).Do(ledgerNodeQuery, map[string]any{"id": id}).Decode(t, &out)
	return out
}

// A vendor ledger entry is a node: node(id:) answers it to the vendor's members and admins,
// and null, exactly like an ID of nothing, to another vendor, a customer and anonymous.
func TestVendorLedgerEntryNode(t *testing.T) {
	t.Parallel()
	w := newMoneyWorld(t)
	o := w.placeMixed(t, "USD")
	w.pay(t, o, "USD")

	var page struct {
		Vendor struct {
			LedgerEntries struct {
				Nodes []struct {
					ID   string `json:"id"`
					Kind string `json:"kind"`
				} `json:"nodes"`
			} `json:"ledgerEntries"`
		} `json:"vendor"`
	}
	w.a.As(t).Do(`query($id: ID!) { vendor(id: $id) { ledgerEntries(first: 5) { nodes { id kind } } } }`,
		map[string]any{"id": apitest.GlobalID("Vendor", w.aID)}).Decode(t, &page)
	require.Len(t, page.Vendor.LedgerEntries.Nodes, 1)
	entryID := page.Vendor.LedgerEntries.Nodes[0].ID
	require.NotEmpty(t, entryID)

	for name, c := range map[string]*apitest.Client{"the vendor": w.a, "an admin": w.e.Admin} {
		got := ledgerNode(t, c, entryID)
		require.NotNil(t, got.Node, name)
		require.Equal(t, entryID, got.Node.ID, name)
		require.Equal(t, "EARNING", got.Node.Kind, name)
		require.Equal(t, &moneyJSON{5397, "USD"}, got.Node.Net, name)
	}
	customer, _ := w.e.Customer(t)
	for name, c := range map[string]*apitest.Client{"another vendor": w.b, "the order's customer": o.Owner,
		"a customer": customer, "anonymous": w.e.Anon(t)} {
		require.Nil(t, ledgerNode(t, c, entryID).Node, name)
	}
	require.Nil(t, ledgerNode(t, w.e.Admin, apitest.GlobalID("VendorLedgerEntry", 1<<40)).Node, "no such entry")
}

// A stock movement is a node: node(id:) answers it to the owning vendor's members and admins,
// and null to another vendor, a customer and anonymous.
func TestStockMovementNode(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	vc, vid := e.Vendor(t)
	v := e.Product(t, apitest.ProductOptions{VendorID: &vid, Variants: []catalog.VariantInput{{Name: "Default", Price: 1000, Stock: 10}}})[0]
	var adj struct {
		ProductVariantStockAdjust struct {
			UserErrors userErrorsOut `json:"userErrors"`
		} `json:"productVariantStockAdjust"`
	}
	vc.Do(`mutation($input: ProductVariantStockAdjustInput!) { productVariantStockAdjust(input: $input) { userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"variantId": v.GID, "delta": -3, "reason": "damaged"}}).Decode(t, &adj)
	require.Empty(t, adj.ProductVariantStockAdjust.UserErrors)

	var list struct {
		Node struct {
			StockMovements struct {
				Nodes []struct {
					ID string `json:"id"`
				} `json:"nodes"`
			} `json:"stockMovements"`
		} `json:"node"`
	}
	vc.Do(`query($id: ID!) { node(id: $id) { ... on ProductVariant { stockMovements(first: 5) { nodes { id } } } } }`,
		map[string]any{"id": v.GID}).Decode(t, &list)
	require.Len(t, list.Node.StockMovements.Nodes, 1)
	movementID := list.Node.StockMovements.Nodes[0].ID

	for name, c := range map[string]*apitest.Client{"the vendor": vc, "an admin": e.Admin} {
		got := ledgerNode(t, c, movementID)
		require.NotNil(t, got.Node, name)
		require.Equal(t, movementID, got.Node.ID, name)
		require.Equal(t, "MANUAL_ADJUSTMENT", got.Node.Movement, name)
		require.Equal(t, -3, *got.Node.Delta, name)
		require.Equal(t, 7, *got.Node.Quantity, name)
		require.Equal(t, "damaged", *got.Node.Reason, name)
	}
	rival, _ := e.Vendor(t)
	customer, _ := e.Customer(t)
	for name, c := range map[string]*apitest.Client{"another vendor": rival, "a customer": customer, "anonymous": e.Anon(t)} {
		require.Nil(t, ledgerNode(t, c, movementID).Node, name)
	}
	require.Nil(t, ledgerNode(t, e.Admin, apitest.GlobalID("StockMovement", 1<<40)).Node, "no such movement")
}
