package graph_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

const variantThresholdQuery = `query($id: ID!) {
  node(id: $id) { ... on ProductVariant { stockStatus lowStockThreshold } }
}`

type variantThresholdResult struct {
	Node struct {
		StockStatus       string `json:"stockStatus"`
		LowStockThreshold *int   `json:"lowStockThreshold"`
	} `json:"node"`
}

func variantThreshold(t *testing.T, c *apitest.Client, variantGID string) variantThresholdResult {
	t.Helper()
	var out variantThresholdResult
	c.Do(variantThresholdQuery, map[string]any{"id": variantGID}).Decode(t, &out)
	return out
}

// Customers' LOW_STOCK follows the variant's effective threshold (its own, else its vendor's
// default, else 5), not the platform's fixed 5, also through the shared response cache; the
// threshold itself answers to the vendor's members and admins, null to anyone else.
func TestLowStockThresholdAPI(t *testing.T) {
	t.Parallel()
	e := apitest.NewEnv(t, apitest.EnvOptions{Redis: true})
	vc, vid := e.Vendor(t)
	vs := e.Product(t, apitest.ProductOptions{VendorID: &vid, Variants: []catalog.VariantInput{
		{Name: "Eight", Price: 1000, Stock: 8},
		{Name: "Four", Price: 1000, Stock: 4},
	}})
	eight, four := vs[0], vs[1]
	platform := e.Product(t, apitest.ProductOptions{Variants: []catalog.VariantInput{{Name: "Five", Price: 1000, Stock: 5}}})[0]
	anon := e.Anon(t)

	require.Equal(t, "IN_STOCK", variantThreshold(t, anon, eight.GID).Node.StockStatus, "8 is above the platform's 5")
	require.Equal(t, "LOW_STOCK", variantThreshold(t, anon, four.GID).Node.StockStatus)
	require.Equal(t, "LOW_STOCK", variantThreshold(t, anon, platform.GID).Node.StockStatus)

	var vendorSet struct {
		VendorLowStockThresholdSet struct {
			EffectiveThreshold *int          `json:"effectiveThreshold"`
			UserErrors         userErrorsOut `json:"userErrors"`
		} `json:"vendorLowStockThresholdSet"`
	}
	vc.Do(`mutation($input: VendorLowStockThresholdSetInput!) { vendorLowStockThresholdSet(input: $input) { effectiveThreshold userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"vendorId": apitest.GlobalID("Vendor", vid), "threshold": 10}}).Decode(t, &vendorSet)
	require.Empty(t, vendorSet.VendorLowStockThresholdSet.UserErrors)

	var variantSet struct {
		ProductVariantLowStockThresholdSet struct {
			UserErrors userErrorsOut `json:"userErrors"`
		} `json:"productVariantLowStockThresholdSet"`
	}
	vc.Do(`mutation($input: ProductVariantLowStockThresholdSetInput!) { productVariantLowStockThresholdSet(input: $input) { userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"variantId": four.GID, "threshold": 2}}).Decode(t, &variantSet)
	require.Empty(t, variantSet.ProductVariantLowStockThresholdSet.UserErrors)

	// The anonymous answers above were cached; the threshold changes dropped them.
	require.Equal(t, "LOW_STOCK", variantThreshold(t, anon, eight.GID).Node.StockStatus, "8 is at or under the vendor's 10")
	require.Equal(t, "IN_STOCK", variantThreshold(t, anon, four.GID).Node.StockStatus, "4 is above the variant's own 2")
	require.Equal(t, "LOW_STOCK", variantThreshold(t, anon, platform.GID).Node.StockStatus)

	ten, two, five := 10, 2, 5
	for name, c := range map[string]*apitest.Client{"the vendor": vc, "an admin": e.Admin} {
		require.Equal(t, &ten, variantThreshold(t, c, eight.GID).Node.LowStockThreshold, name+": the vendor's default")
		require.Equal(t, &two, variantThreshold(t, c, four.GID).Node.LowStockThreshold, name+": the variant's own")
	}
	require.Equal(t, &five, variantThreshold(t, e.Admin, platform.GID).Node.LowStockThreshold, "the platform's")

	rival, _ := e.Vendor(t)
	customer, _ := e.Customer(t)
	for name, c := range map[string]*apitest.Client{"another vendor": rival, "a customer": customer, "anonymous": anon} {
		for _, id := range []string{eight.GID, four.GID} {
			got := variantThreshold(t, c, id)
			require.Nil(t, got.Node.LowStockThreshold, name)
			require.NotEmpty(t, got.Node.StockStatus, name)
		}
	}
	require.Nil(t, variantThreshold(t, rival, platform.GID).Node.LowStockThreshold, "a vendor does not manage the platform's products")

	// Clearing the variant's own threshold falls back to the vendor's default.
	vc.Do(`mutation($input: ProductVariantLowStockThresholdSetInput!) { productVariantLowStockThresholdSet(input: $input) { userErrors { field code } } }`,
		map[string]any{"input": map[string]any{"variantId": four.GID, "threshold": nil}}).Decode(t, &variantSet)
	require.Equal(t, "LOW_STOCK", variantThreshold(t, anon, four.GID).Node.StockStatus)
	require.Equal(t, &ten, variantThreshold(t, vc, four.GID).Node.LowStockThreshold)
}
