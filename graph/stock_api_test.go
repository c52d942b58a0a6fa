package graph_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/webhook"
)

const movementsQuery = `query($id: ID!) {
  node(id: $id) { ... on ProductVariant {
    stockMovements(first: 10) { totalCount pageInfo { hasNextPage }
      edges { cursor node { kind delta quantity actorId orderId reason createdAt } } }
  } }
}`

type movementsResult struct {
	Node *struct {
		StockMovements *struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Cursor string `json:"cursor"`
				Node   struct {
					Kind     string  `json:"kind"`
					Delta    int     `json:"delta"`
					Quantity int     `json:"quantity"`
					ActorID  *string `json:"actorId"`
					OrderID  *string `json:"orderId"`
					Reason   string  `json:"reason"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"stockMovements"`
	} `json:"node"`
}

type userErrorsOut []struct {
	Field []string `json:"field"`
	Code  string   `json:"code"`
}

// The ledger through the API: an adjustment with its reason and a bulk set are read back by the
// owning vendor and admins; another vendor and customers get null with FORBIDDEN.
func TestStockMovementsAPI(t *testing.T) {
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
		map[string]any{"input": map[string]any{"variantId": v.GID, "delta": -4, "reason": "damaged"}}).Decode(t, &adj)
	require.Empty(t, adj.ProductVariantStockAdjust.UserErrors)

	var bulk struct {
		ProductVariantStockBulkSet struct {
			Variants []struct {
				ID                string `json:"id"`
				QuantityAvailable int    `json:"quantityAvailable"`
			} `json:"variants"`
			UserErrors userErrorsOut `json:"userErrors"`
		} `json:"productVariantStockBulkSet"`
	}
	const bulkMutation = `mutation($input: ProductVariantStockBulkSetInput!) {
  productVariantStockBulkSet(input: $input) { variants { id quantityAvailable } userErrors { field code } } }`
	vc.Do(bulkMutation, map[string]any{"input": map[string]any{"rows": []map[string]any{
		{"sku": v.SKU, "quantity": 30, "reason": "warehouse sync"},
		{"sku": "NO-SUCH-SKU", "quantity": 1},
		{"sku": v.SKU, "quantity": -1},
	}}}).Decode(t, &bulk)
	got := bulk.ProductVariantStockBulkSet
	require.Empty(t, got.Variants)
	require.Equal(t, userErrorsOut{
		{Field: []string{"input", "rows", "1", "sku"}, Code: "NOT_FOUND"},
		{Field: []string{"input", "rows", "2", "sku"}, Code: "DUPLICATE"},
		{Field: []string{"input", "rows", "2", "quantity"}, Code: "INVALID"},
	}, got.UserErrors)
	require.Equal(t, 6, e.Stock(t, v), "nothing changed")

	vc.Do(bulkMutation, map[string]any{"input": map[string]any{"rows": []map[string]any{
		{"sku": v.SKU, "quantity": 30, "reason": "warehouse sync"},
	}}}).Decode(t, &bulk)
	got = bulk.ProductVariantStockBulkSet
	require.Empty(t, got.UserErrors)
	require.Len(t, got.Variants, 1)
	require.Equal(t, 30, got.Variants[0].QuantityAvailable)

	for name, c := range map[string]*apitest.Client{"the vendor": vc, "an admin": e.Admin} {
		var out movementsResult
		c.Do(movementsQuery, map[string]any{"id": v.GID}).Decode(t, &out)
		m := out.Node.StockMovements
		require.NotNil(t, m, name)
		require.Equal(t, 2, m.TotalCount, name)
		require.Equal(t, "BULK_SET", m.Edges[0].Node.Kind)
		require.Equal(t, 24, m.Edges[0].Node.Delta)
		require.Equal(t, 30, m.Edges[0].Node.Quantity)
		require.Equal(t, "warehouse sync", m.Edges[0].Node.Reason)
		require.Equal(t, "MANUAL_ADJUSTMENT", m.Edges[1].Node.Kind)
		require.Equal(t, -4, m.Edges[1].Node.Delta)
		require.Equal(t, 6, m.Edges[1].Node.Quantity)
		require.Equal(t, "damaged", m.Edges[1].Node.Reason)
		require.NotNil(t, m.Edges[1].Node.ActorID)
		require.Nil(t, m.Edges[1].Node.OrderID)
	}

	rival, _ := e.Vendor(t)
	customer, _ := e.Customer(t)
	for name, c := range map[string]*apitest.Client{"another vendor": rival, "a customer": customer, "anonymous": e.Anon(t)} {
		r := c.Do(movementsQuery, map[string]any{"id": v.GID})
		require.Equal(t, "FORBIDDEN", r.Code(), name)
		var out movementsResult
		require.NoError(t, json.Unmarshal(r.Data, &out))
		require.NotNil(t, out.Node, name)
		require.Nil(t, out.Node.StockMovements, name)
	}

	// Another vendor's SKU in a bulk set is refused like the import refuses it.
	var refused struct {
		ProductVariantStockBulkSet struct {
			UserErrors userErrorsOut `json:"userErrors"`
		} `json:"productVariantStockBulkSet"`
	}
	rival.Do(bulkMutation, map[string]any{"input": map[string]any{"rows": []map[string]any{{"sku": v.SKU, "quantity": 0}}}}).Decode(t, &refused)
	require.Equal(t, userErrorsOut{{Field: []string{"input", "rows", "0", "sku"}, Code: "FORBIDDEN"}}, refused.ProductVariantStockBulkSet.UserErrors)
	require.Equal(t, 30, e.Stock(t, v))
}

// lowStockVariants with the vendor's default and a variant's own threshold, set through the
// API; another vendor's list is FORBIDDEN.
func TestLowStockVariantsAPI(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{})
	vc, vid := e.Vendor(t)
	vs := e.Product(t, apitest.ProductOptions{VendorID: &vid, Variants: []catalog.VariantInput{
		{Name: "A", Price: 1000, Stock: 3}, {Name: "B", Price: 1000, Stock: 12}, {Name: "C", Price: 1000, Stock: 40}}})
	const list = `query($vendorId: ID) { lowStockVariants(first: 10, vendorId: $vendorId) { totalCount edges { threshold node { id quantityAvailable } } } }`
	type listOut struct {
		LowStockVariants struct {
			TotalCount int `json:"totalCount"`
			Edges      []struct {
				Threshold int `json:"threshold"`
				Node      struct {
					ID string `json:"id"`
				} `json:"node"`
			} `json:"edges"`
		} `json:"lowStockVariants"`
	}
	ids := func(o listOut) map[string]int {
		m := map[string]int{}
		for _, e := range o.LowStockVariants.Edges {
			m[e.Node.ID] = e.Threshold
		}
		return m
	}
	var out listOut
	vc.Do(list, nil).Decode(t, &out)
	require.Equal(t, map[string]int{vs[0].GID: 5}, ids(out))

	var setVendor struct {
		VendorLowStockThresholdSet struct {
			EffectiveThreshold *int          `json:"effectiveThreshold"`
			UserErrors         userErrorsOut `json:"userErrors"`
		} `json:"vendorLowStockThresholdSet"`
	}
	vendorGID := apitest.GlobalID("Vendor", vid)
	vc.Do(`mutation($input: VendorLowStockThresholdSetInput!) { vendorLowStockThresholdSet(input: $input) { effectiveThreshold userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"vendorId": vendorGID, "threshold": 12}}).Decode(t, &setVendor)
	require.Empty(t, setVendor.VendorLowStockThresholdSet.UserErrors)
	require.Equal(t, 12, *setVendor.VendorLowStockThresholdSet.EffectiveThreshold)

	var setVariant struct {
		ProductVariantLowStockThresholdSet struct {
			EffectiveThreshold *int          `json:"effectiveThreshold"`
			UserErrors         userErrorsOut `json:"userErrors"`
		} `json:"productVariantLowStockThresholdSet"`
	}
	vc.Do(`mutation($input: ProductVariantLowStockThresholdSetInput!) { productVariantLowStockThresholdSet(input: $input) { effectiveThreshold userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"variantId": vs[2].GID, "threshold": 50}}).Decode(t, &setVariant)
	require.Empty(t, setVariant.ProductVariantLowStockThresholdSet.UserErrors)
	require.Equal(t, 50, *setVariant.ProductVariantLowStockThresholdSet.EffectiveThreshold)

	vc.Do(list, map[string]any{"vendorId": vendorGID}).Decode(t, &out)
	require.Equal(t, map[string]int{vs[0].GID: 12, vs[1].GID: 12, vs[2].GID: 50}, ids(out))
	require.Equal(t, 3, out.LowStockVariants.TotalCount)

	var vendorField struct {
		Node struct {
			LowStockThreshold *int `json:"lowStockThreshold"`
		} `json:"node"`
	}
	vc.Do(`query($id: ID!) { node(id: $id) { ... on Vendor { lowStockThreshold } } }`, map[string]any{"id": vendorGID}).Decode(t, &vendorField)
	require.Equal(t, 12, *vendorField.Node.LowStockThreshold)

	rival, _ := e.Vendor(t)
	require.Equal(t, "FORBIDDEN", rival.Do(list, map[string]any{"vendorId": vendorGID}).Code())
	customer, _ := e.Customer(t)
	require.Equal(t, "FORBIDDEN", customer.Do(list, nil).Code())
	e.Admin.Do(list, map[string]any{"vendorId": vendorGID}).Decode(t, &out)
	require.Len(t, out.LowStockVariants.Edges, 3)
}

// A bulk set's changes are STOCK_CHANGED events owed in its transaction, with the row's reason
// ("bulk_set" without one); an unchanged variant owes nothing.
func TestWebhookBulkSetStockChanged(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Env: map[string]string{"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"}})
	r := newHookReceiver(t)
	created := createWebhook(t, e.Admin, r.URL, "STOCK_CHANGED")
	require.Empty(t, created.UserErrors)
	vs := stockVariants(t, e, nil, 3) // 10 in stock each
	var bulk struct {
		ProductVariantStockBulkSet struct {
			UserErrors userErrorsOut `json:"userErrors"`
		} `json:"productVariantStockBulkSet"`
	}
	e.Admin.Do(`mutation($input: ProductVariantStockBulkSetInput!) { productVariantStockBulkSet(input: $input) { userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"rows": []map[string]any{
			{"sku": vs[0].SKU, "quantity": 4, "reason": "recount"},
			{"sku": vs[1].SKU, "quantity": 15},
			{"sku": vs[2].SKU, "quantity": 10},
		}}}).Decode(t, &bulk)
	require.Empty(t, bulk.ProductVariantStockBulkSet.UserErrors)

	got := r.wait(t, 2)
	bySKU := map[string]map[string]any{}
	for _, g := range got {
		require.Equal(t, webhook.StockChanged, g.env.Type)
		var data map[string]any
		require.NoError(t, json.Unmarshal(g.env.Data, &data))
		bySKU[data["sku"].(string)] = data
	}
	require.Equal(t, "recount", bySKU[vs[0].SKU]["reason"])
	require.Equal(t, -6.0, bySKU[vs[0].SKU]["delta"])
	require.Equal(t, "bulk_set", bySKU[vs[1].SKU]["reason"])
	require.Equal(t, 5.0, bySKU[vs[1].SKU]["delta"])
	require.Equal(t, 2, e.Count(t, `SELECT count(*) FROM webhook_deliveries`), "an unchanged variant owes nothing")
}
