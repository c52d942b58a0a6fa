package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// API tests of the catalog (issue 3): products with variants, vendor isolation, field-level
// authorisation of stock, keyset pagination, search and filters, categories, global IDs and the
// N+1 guard. Helpers are in catalog_helpers_api_test.go.

func TestProductCreate(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	vendorC, vendorU := e.RegisterVendor(t, "Acme Outfitters")
	_, otherVendor := e.RegisterVendor(t, "Other Goods")
	customer := e.RegisterCustomer(t)
	apparel := createCategory(t, e.Admin, "Apparel", "")

	t.Run("an admin creates a platform product with variants, attributes and images", func(t *testing.T) {
		p := createProduct(t, e.Admin, map[string]any{
			"name":        "  Cozy Hoodie!  ",
			"description": "Warm fleece.",
			"categoryId":  apparel.ID,
			"currency":    "EUR",
			"attributes":  []any{map[string]any{"key": "material", "value": "cotton"}, map[string]any{"key": "fit", "value": "relaxed"}},
			"imageUrls":   []any{"https://img.example.com/b.png", "http://img.example.com/a.png"},
			"variants": []any{
				map[string]any{"sku": "HOOD-S-RED", "name": "S / Red", "price": 4500, "stock": 3,
					"options": []any{map[string]any{"name": "size", "value": "S"}, map[string]any{"name": "colour", "value": "red"}}},
				map[string]any{"sku": "HOOD-M-RED", "name": "M / Red", "price": 5500},
			},
		})
		require.Equal(t, "Cozy Hoodie!", p.Name, "trimmed")
		require.Equal(t, "cozy-hoodie", p.Slug, "derived from the name")
		require.Equal(t, "Warm fleece.", p.Description)
		require.Equal(t, "ACTIVE", p.Status)
		require.Equal(t, apparel.ID, p.Category.ID)
		require.Nil(t, p.Vendor, "a platform product")
		require.Equal(t, []kvJSON{{"fit", "relaxed"}, {"material", "cotton"}}, p.Attributes, "sorted by key")
		require.Equal(t, []string{"https://img.example.com/b.png", "http://img.example.com/a.png"}, p.ImageUrls, "display order kept")
		require.Equal(t, moneyJSON{4500, "EUR"}, p.PriceRange.Min)
		require.Equal(t, moneyJSON{5500, "EUR"}, p.PriceRange.Max)
		require.True(t, p.InStock)
		require.Equal(t, []string{"HOOD-S-RED", "HOOD-M-RED"}, p.skus(), "display order is input order")
		require.Equal(t, "S / Red", p.Variants[0].Name)
		require.Equal(t, []optionJSON{{"colour", "red"}, {"size", "S"}}, p.Variants[0].Options, "sorted by name")
		require.Equal(t, moneyJSON{4500, "EUR"}, p.Variants[0].Price)
		require.Equal(t, "LOW_STOCK", p.Variants[0].StockStatus)
		require.Equal(t, "OUT_OF_STOCK", p.Variants[1].StockStatus, "stock defaults to 0")
		require.Empty(t, p.Variants[1].Options)
		require.WithinDuration(t, time.Now(), p.CreatedAt, time.Minute)

		// Anyone reads back exactly what was created, by id and by slug.
		require.Equal(t, p, *getProduct(t, e.Anon(t), p.ID))
		var bySlug struct {
			Product *productJSON `json:"product"`
		}
		e.Anon(t).Do(productBySlugQuery, map[string]any{"slug": "cozy-hoodie"}).Decode(t, &bySlug)
		require.Equal(t, p, *bySlug.Product)
	})

	t.Run("an admin creates a product for a vendor", func(t *testing.T) {
		in := productIn("Vendor Hat")
		in["vendorId"] = vendorU.VendorID
		p := createProduct(t, e.Admin, in)
		require.Equal(t, &refJSON{ID: vendorU.VendorID, Name: "Acme Outfitters"}, p.Vendor)
	})

	t.Run("an admin cannot give a product to an account that is not a vendor", func(t *testing.T) {
		before, _ := e.RowCounts(t)
		// A vendor is a Vendor ID now: an account's (User) ID names no vendor.
		for _, id := range []string{apitest.GlobalID("User", e.AdminID), apitest.GlobalID("User", 99999999), vendorU.ID, apitest.GlobalID("Vendor", 99999999)} {
			in := productIn("Nobody's Hat")
			in["vendorId"] = id
			p := mutate(t, e.Admin, productCreateMutation, in)
			require.Equal(t, []string{"NOT_FOUND:input.vendorId"}, codes(p.UserErrors), id)
			require.Nil(t, p.Product)
		}
		after, _ := e.RowCounts(t)
		require.Equal(t, before, after)
	})

	t.Run("a vendor creates products for itself", func(t *testing.T) {
		p := createProduct(t, vendorC, productIn("Trail Boots", 12000, 9000))
		require.Equal(t, &refJSON{ID: vendorU.VendorID, Name: "Acme Outfitters"}, p.Vendor)
		require.Equal(t, moneyJSON{9000, "USD"}, p.PriceRange.Min)
		require.Equal(t, moneyJSON{12000, "USD"}, p.PriceRange.Max)

		in := productIn("Trail Socks")
		in["vendorId"] = vendorU.VendorID
		require.Equal(t, vendorU.VendorID, createProduct(t, vendorC, in).Vendor.ID, "naming itself is fine")
	})

	t.Run("a vendor cannot create a product for another vendor", func(t *testing.T) {
		before, _ := e.RowCounts(t)
		in := productIn("Sneaky Boots")
		in["vendorId"] = otherVendor.VendorID
		p := mutate(t, vendorC, productCreateMutation, in)
		require.Equal(t, []string{"FORBIDDEN:input.vendorId"}, codes(p.UserErrors))
		require.Nil(t, p.Product)
		after, _ := e.RowCounts(t)
		require.Equal(t, before, after)
	})

	t.Run("a customer is FORBIDDEN and an anonymous viewer UNAUTHENTICATED, at the top level", func(t *testing.T) {
		before, _ := e.RowCounts(t)
		resp := customer.As(t).Do(productCreateMutation, map[string]any{"input": productIn("Customer Cap")})
		requireTopLevelCode(t, resp, "FORBIDDEN")
		require.JSONEq(t, `null`, string(resp.Data))
		resp = e.Anon(t).Do(productCreateMutation, map[string]any{"input": productIn("Anonymous Cap")})
		requireTopLevelCode(t, resp, "UNAUTHENTICATED")
		after, _ := e.RowCounts(t)
		require.Equal(t, before, after)
	})

	t.Run("invalid input gives userErrors with field paths and creates nothing", func(t *testing.T) {
		dupSKU := apitest.UniqueSKU("dup")
		cases := []struct {
			name   string
			change func(in map[string]any)
			want   []string
		}{
			{"empty name", func(in map[string]any) { in["name"] = "   " }, []string{"INVALID:input.name"}},
			{"name too long", func(in map[string]any) { in["name"] = strings.Repeat("n", 201) }, []string{"INVALID:input.name"}},
			{"lower-case currency", func(in map[string]any) { in["currency"] = "usd" }, []string{"INVALID:input.currency"}},
			{"four-letter currency", func(in map[string]any) { in["currency"] = "EURO" }, []string{"INVALID:input.currency"}},
			{"no variants", func(in map[string]any) { in["variants"] = []any{} }, []string{"INVALID:input.variants"}},
			{"duplicate SKU within the input", func(in map[string]any) {
				in["variants"] = []any{variantIn(dupSKU, 100, 1), variantIn(dupSKU, 200, 1)}
			}, []string{"INVALID:input.variants.1.sku"}},
			{"empty SKU", func(in map[string]any) { in["variants"] = []any{variantIn("", 100, 1)} }, []string{"INVALID:input.variants.0.sku"}},
			{"negative price", func(in map[string]any) {
				in["variants"] = []any{variantIn(apitest.UniqueSKU("ok"), 100, 1), variantIn(apitest.UniqueSKU("neg"), -1, 1)}
			}, []string{"INVALID:input.variants.1.price"}},
			{"negative stock", func(in map[string]any) { in["variants"] = []any{variantIn(apitest.UniqueSKU("neg"), 100, -1)} }, []string{"INVALID:input.variants.0.stock"}},
			{"ftp image URL", func(in map[string]any) { in["imageUrls"] = []any{"ftp://example.com/a.png"} }, []string{"INVALID:input.imageUrls"}},
			{"relative image URL", func(in map[string]any) { in["imageUrls"] = []any{"https://ok.example.com/a.png", "not a url"} }, []string{"INVALID:input.imageUrls"}},
			{"javascript image URL", func(in map[string]any) { in["imageUrls"] = []any{"javascript:alert(1)"} }, []string{"INVALID:input.imageUrls"}},
			{"malformed slug", func(in map[string]any) { in["slug"] = "Not A Slug" }, []string{"INVALID:input.slug"}},
			{"duplicate attribute keys", func(in map[string]any) {
				in["attributes"] = []any{map[string]any{"key": "k", "value": "1"}, map[string]any{"key": "k", "value": "2"}}
			}, []string{"INVALID:input.attributes"}},
			{"every problem at once", func(in map[string]any) {
				in["name"] = ""
				in["currency"] = "$$"
				in["imageUrls"] = []any{"nope"}
				in["variants"] = []any{variantIn(dupSKU, -5, 1), variantIn(dupSKU, 5, 1)}
			}, []string{"INVALID:input.currency", "INVALID:input.imageUrls", "INVALID:input.name",
				"INVALID:input.variants.0.price", "INVALID:input.variants.1.sku"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				products, variants := e.RowCounts(t)
				in := productIn("Valid Name", 100)
				tc.change(in)
				p := mutate(t, e.Admin, productCreateMutation, in)
				require.Equal(t, tc.want, codes(p.UserErrors))
				for _, ue := range p.UserErrors {
					require.NotEmpty(t, ue.Message)
				}
				require.Nil(t, p.Product)
				p2, v2 := e.RowCounts(t)
				require.Equal(t, products, p2, "no product created")
				require.Equal(t, variants, v2, "no variant created")
			})
		}
	})

	// NUL cannot be stored in PostgreSQL text: every operation whose arguments hold one is
	// refused before any resolver runs, with a top-level BAD_USER_INPUT, and changes nothing.
	t.Run("a NUL byte anywhere in the input is BAD_USER_INPUT and creates nothing", func(t *testing.T) {
		for name, change := range map[string]func(map[string]any){
			"name": func(in map[string]any) { in["name"] = "Bad\u0000Name" },
			"SKU":  func(in map[string]any) { in["variants"] = []any{variantIn("SKU\u0000X", 100, 1)} },
		} {
			products, variants := e.RowCounts(t)
			in := productIn("Valid Name", 100)
			change(in)
			requireTopLevelCode(t, e.Admin.As(t).Do(productCreateMutation, map[string]any{"input": in}), "BAD_USER_INPUT")
			p2, v2 := e.RowCounts(t)
			require.Equal(t, products, p2, name)
			require.Equal(t, variants, v2, name)
		}
	})

	t.Run("an unknown or malformed category is NOT_FOUND on categoryId", func(t *testing.T) {
		for _, id := range []string{apitest.GlobalID("Category", 99999999), "!!!", vendorU.ID} {
			in := productIn("Lost Product")
			in["categoryId"] = id
			p := mutate(t, e.Admin, productCreateMutation, in)
			require.Equal(t, []string{"NOT_FOUND:input.categoryId"}, codes(p.UserErrors), id)
		}
	})

	t.Run("a slug taken by another product is DUPLICATE and its variants are rolled back", func(t *testing.T) {
		first := createProduct(t, e.Admin, productIn("Original"))
		in := productIn("Copy")
		in["slug"] = first.Slug
		newSKU := in["variants"].([]any)[0].(map[string]any)["sku"].(string)
		products, variants := e.RowCounts(t)
		p := mutate(t, e.Admin, productCreateMutation, in)
		require.Equal(t, []string{"DUPLICATE:input.slug"}, codes(p.UserErrors))
		require.Nil(t, p.Product)
		p2, v2 := e.RowCounts(t)
		require.Equal(t, [2]int{products, variants}, [2]int{p2, v2})
		// The SKU is still free.
		in = productIn("Copy")
		in["variants"] = []any{variantIn(newSKU, 100, 1)}
		require.Equal(t, newSKU, createProduct(t, e.Admin, in).Variants[0].SKU)
	})

	t.Run("a SKU used by another product is DUPLICATE and the product is rolled back", func(t *testing.T) {
		first := createProduct(t, vendorC, productIn("Owner Of SKU"))
		slug := apitest.UniqueSlug("second")
		products, variants := e.RowCounts(t)
		in := productIn("Second")
		in["slug"] = slug
		in["variants"] = []any{variantIn(apitest.UniqueSKU("fresh"), 100, 1), variantIn(first.Variants[0].SKU, 100, 1)}
		p := mutate(t, e.Admin, productCreateMutation, in)
		require.Equal(t, []string{"DUPLICATE:input.variants.1.sku"}, codes(p.UserErrors))
		require.Nil(t, p.Product)
		p2, v2 := e.RowCounts(t)
		require.Equal(t, [2]int{products, variants}, [2]int{p2, v2})
		// The slug is still free.
		in = productIn("Second")
		in["slug"] = slug
		require.Equal(t, slug, createProduct(t, e.Admin, in).Slug)
	})
}

func TestProductVendorIsolation(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	vendorA, _ := e.RegisterVendor(t, "Vendor A")
	vendorB, _ := e.RegisterVendor(t, "Vendor B")
	shelf := createCategory(t, e.Admin, "Shelf", "")

	// state is what an admin sees of a product, exact stock included.
	state := func(t *testing.T, id string) (productJSON, []int) {
		t.Helper()
		p := getProduct(t, e.Admin, id)
		require.NotNil(t, p)
		q := readQuantities(t, e.Admin, id)
		require.Empty(t, q.Forbidden)
		qty := make([]int, len(q.Variants))
		for i, v := range q.Variants {
			qty[i] = *v.QuantityAvailable
		}
		return *p, qty
	}
	// attempts are every catalog mutation aimed at product p, with the id field each names.
	attempts := func(p productJSON) []struct {
		name, query, field string
		input              map[string]any
	} {
		v := p.Variants[0].ID
		return []struct {
			name, query, field string
			input              map[string]any
		}{
			{"productUpdate", productUpdateMutation, "input.id", map[string]any{"id": p.ID, "name": "Hijacked", "status": "ARCHIVED"}},
			{"productArchive", productArchiveMutation, "input.id", map[string]any{"id": p.ID}},
			{"productVariantCreate", variantCreateMutation, "input.productId", map[string]any{"productId": p.ID, "variant": variantIn(apitest.UniqueSKU("evil"), 1, 1)}},
			{"productVariantUpdate", variantUpdateMutation, "input.id", map[string]any{"id": v, "price": 1}},
			{"productVariantDelete", variantDeleteMutation, "input.id", map[string]any{"id": v}},
			{"productVariantStockAdjust", stockAdjustMutation, "input.variantId", map[string]any{"variantId": v, "delta": -5}},
		}
	}

	t.Run("another vendor cannot change a vendor's product: FORBIDDEN or NOT_FOUND, nothing changes", func(t *testing.T) {
		p := createProduct(t, vendorA, productIn("A's Lamp", 1000, 2000))
		before, qtyBefore := state(t, p.ID)
		for _, a := range attempts(p) {
			t.Run(a.name, func(t *testing.T) {
				out := mutate(t, vendorB, a.query, a.input)
				require.Len(t, out.UserErrors, 1)
				ue := out.UserErrors[0]
				require.Contains(t, []string{"FORBIDDEN", "NOT_FOUND"}, ue.Code)
				require.Equal(t, a.field, strings.Join(ue.Field, "."))
				require.Nil(t, out.Product)
				require.Nil(t, out.Variant)
			})
		}
		after, qtyAfter := state(t, p.ID)
		require.Equal(t, before, after)
		require.Equal(t, qtyBefore, qtyAfter)
	})

	t.Run("another vendor's archived product is NOT_FOUND, not revealed", func(t *testing.T) {
		p := createProduct(t, vendorA, productIn("A's Secret", 1000, 2000))
		require.Empty(t, mutate(t, vendorA, productArchiveMutation, map[string]any{"id": p.ID}).UserErrors)
		before, qtyBefore := state(t, p.ID)
		for _, a := range attempts(p) {
			out := mutate(t, vendorB, a.query, a.input)
			require.Equal(t, []string{"NOT_FOUND:" + a.field}, codes(out.UserErrors), a.name)
		}
		after, qtyAfter := state(t, p.ID)
		require.Equal(t, before, after)
		require.Equal(t, qtyBefore, qtyAfter)
	})

	t.Run("a variant of a hidden product answers exactly as a missing one: code, field and message", func(t *testing.T) {
		p := createProduct(t, vendorA, productIn("A's Hidden Lamp", 1000, 2000))
		require.Empty(t, mutate(t, vendorA, productArchiveMutation, map[string]any{"id": p.ID}).UserErrors)
		missing := p
		missing.ID = apitest.GlobalID("Product", 99999999)
		missing.Variants = []variantJSON{{ID: apitest.GlobalID("ProductVariant", 99999999)}}
		hidden, absent := attempts(p), attempts(missing)
		for i := range hidden {
			got := mutate(t, vendorB, hidden[i].query, hidden[i].input)
			want := mutate(t, vendorB, absent[i].query, absent[i].input)
			require.Equal(t, []string{"NOT_FOUND:" + hidden[i].field}, codes(want.UserErrors), hidden[i].name)
			require.Equal(t, want.UserErrors, got.UserErrors, "%s: a hidden product must not be told from a missing one", hidden[i].name)
		}
	})

	t.Run("the owning vendor changes its own product", func(t *testing.T) {
		p := createProduct(t, vendorA, productIn("A's Chair", 1000, 2000))
		up := mutate(t, vendorA, productUpdateMutation, map[string]any{
			"id": p.ID, "name": "A's Better Chair", "description": "Now with arms.", "categoryId": shelf.ID,
			"attributes": []any{map[string]any{"key": "wood", "value": "oak"}},
			"imageUrls":  []any{"https://img.example.com/chair.png"},
		})
		require.Empty(t, up.UserErrors)
		require.Equal(t, "A's Better Chair", up.Product.Name)
		require.Equal(t, p.Slug, up.Product.Slug, "omitted fields keep their value")
		require.Equal(t, shelf.ID, up.Product.Category.ID)
		require.Equal(t, []kvJSON{{"wood", "oak"}}, up.Product.Attributes)

		vc := mutate(t, vendorA, variantCreateMutation, map[string]any{"productId": p.ID, "variant": variantIn(apitest.UniqueSKU("a"), 3000, 2)})
		require.Empty(t, vc.UserErrors)
		require.Equal(t, p.ID, vc.Variant.Product.ID)
		vu := mutate(t, vendorA, variantUpdateMutation, map[string]any{"id": p.Variants[0].ID, "price": 500})
		require.Empty(t, vu.UserErrors)
		sa := mutate(t, vendorA, stockAdjustMutation, map[string]any{"variantId": p.Variants[1].ID, "delta": 7})
		require.Empty(t, sa.UserErrors)
		require.Equal(t, 17, *sa.Variant.QuantityAvailable)
		vd := mutate(t, vendorA, variantDeleteMutation, map[string]any{"id": vc.Variant.ID})
		require.Empty(t, vd.UserErrors)
		ar := mutate(t, vendorA, productArchiveMutation, map[string]any{"id": p.ID})
		require.Empty(t, ar.UserErrors)
		require.Equal(t, "ARCHIVED", ar.Product.Status)

		got, qty := state(t, p.ID)
		require.Equal(t, "A's Better Chair", got.Name)
		require.Equal(t, "Now with arms.", got.Description)
		require.Equal(t, "ARCHIVED", got.Status)
		require.Equal(t, []string{p.Variants[0].SKU, p.Variants[1].SKU}, got.skus())
		require.Equal(t, moneyJSON{500, "USD"}, got.PriceRange.Min)
		require.Equal(t, moneyJSON{2000, "USD"}, got.PriceRange.Max)
		require.Equal(t, []int{10, 17}, qty)
	})

	t.Run("an admin changes any vendor's product", func(t *testing.T) {
		p := createProduct(t, vendorA, productIn("A's Table", 1000, 2000))
		require.Empty(t, mutate(t, e.Admin, productUpdateMutation, map[string]any{"id": p.ID, "name": "Admin Table"}).UserErrors)
		vc := mutate(t, e.Admin, variantCreateMutation, map[string]any{"productId": p.ID, "variant": variantIn(apitest.UniqueSKU("adm"), 50, 1)})
		require.Empty(t, vc.UserErrors)
		require.Empty(t, mutate(t, e.Admin, variantUpdateMutation, map[string]any{"id": p.Variants[1].ID, "price": 2500}).UserErrors)
		require.Empty(t, mutate(t, e.Admin, variantDeleteMutation, map[string]any{"id": p.Variants[0].ID}).UserErrors)
		sa := mutate(t, e.Admin, stockAdjustMutation, map[string]any{"variantId": vc.Variant.ID, "delta": -1})
		require.Empty(t, sa.UserErrors)
		require.Equal(t, 0, *sa.Variant.QuantityAvailable)
		require.Empty(t, mutate(t, e.Admin, productArchiveMutation, map[string]any{"id": p.ID}).UserErrors)

		got, qty := state(t, p.ID)
		require.Equal(t, "Admin Table", got.Name)
		require.Equal(t, "ARCHIVED", got.Status)
		require.Equal(t, []string{p.Variants[1].SKU, vc.Variant.SKU}, got.skus())
		require.Equal(t, moneyJSON{50, "USD"}, got.PriceRange.Min)
		require.Equal(t, moneyJSON{2500, "USD"}, got.PriceRange.Max)
		require.Equal(t, []int{10, 0}, qty)
		require.Equal(t, "Vendor A", got.Vendor.Name, "the owner does not change")
	})

	t.Run("productUpdate validates its input and changes nothing on error", func(t *testing.T) {
		p := createProduct(t, vendorA, productIn("A's Desk"))
		other := createProduct(t, vendorA, productIn("A's Other Desk"))
		before, _ := state(t, p.ID)
		cases := []struct {
			input map[string]any
			want  []string
		}{
			{map[string]any{"slug": "Bad Slug"}, []string{"INVALID:input.slug"}},
			{map[string]any{"slug": other.Slug}, []string{"DUPLICATE:input.slug"}},
			{map[string]any{"name": " "}, []string{"INVALID:input.name"}},
			{map[string]any{"imageUrls": []any{"file:///etc/passwd"}}, []string{"INVALID:input.imageUrls"}},
			{map[string]any{"categoryId": apitest.GlobalID("Category", 99999999)}, []string{"NOT_FOUND:input.categoryId"}},
			{map[string]any{"name": "", "slug": "-"}, []string{"INVALID:input.name", "INVALID:input.slug"}},
		}
		for _, tc := range cases {
			tc.input["id"] = p.ID
			out := mutate(t, vendorA, productUpdateMutation, tc.input)
			require.Equal(t, tc.want, codes(out.UserErrors), "%v", tc.input)
			require.Nil(t, out.Product)
		}
		after, _ := state(t, p.ID)
		require.Equal(t, before, after)
	})
}

func TestProductVariantQuantityAvailable(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, ownerU := e.RegisterVendor(t, "Owner")
	otherVendor, _ := e.RegisterVendor(t, "Other Vendor")
	customer := e.RegisterCustomer(t)
	in := productIn("Counted")
	stocks := []int{6, 5, 1, 0}
	variants := make([]any, len(stocks))
	for i, s := range stocks {
		variants[i] = variantIn(apitest.UniqueSKU("q"), 1000, s)
	}
	in["variants"] = variants
	p := createProduct(t, owner, in)
	wantStatus := []string{"IN_STOCK", "LOW_STOCK", "LOW_STOCK", "OUT_OF_STOCK"}

	hidden := map[string]*apitest.Client{"anonymous": e.Anon(t), "customer": customer, "another vendor": otherVendor}
	for name, c := range hidden {
		t.Run(name+" gets null and FORBIDDEN on quantityAvailable, and everything else", func(t *testing.T) {
			q := readQuantities(t, c, p.ID)
			require.Equal(t, "Counted", q.Name)
			require.Len(t, q.Variants, len(stocks))
			var wantPaths []string
			for i, v := range q.Variants {
				require.Nil(t, v.QuantityAvailable)
				require.Equal(t, wantStatus[i], v.StockStatus, "stockStatus is public")
				require.Equal(t, p.Variants[i].SKU, v.SKU)
				wantPaths = append(wantPaths, fmt.Sprintf("product.variants.%d.quantityAvailable", i))
			}
			require.ElementsMatch(t, wantPaths, q.Forbidden)
			require.Empty(t, q.Other)
		})
	}

	visible := map[string]*apitest.Client{"the owning vendor": owner, "an admin": e.Admin}
	for name, c := range visible {
		t.Run(name+" sees the exact numbers", func(t *testing.T) {
			q := readQuantities(t, c, p.ID)
			require.Empty(t, q.Forbidden)
			require.Empty(t, q.Other)
			for i, v := range q.Variants {
				require.NotNil(t, v.QuantityAvailable)
				require.Equal(t, stocks[i], *v.QuantityAvailable)
				require.Equal(t, wantStatus[i], v.StockStatus)
			}
		})
	}

	t.Run("the same rule holds in lists and through node", func(t *testing.T) {
		const listQ = `query L($f: ProductFilter) { products(filter: $f) { nodes { name variants { quantityAvailable } } } }`
		const nodeQ = `query N($id: ID!) { node(id: $id) { ... on ProductVariant { sku stockStatus quantityAvailable } } }`
		vars := map[string]any{"f": map[string]any{"vendorId": ownerU.VendorID}}
		resp := customer.As(t).Do(listQ, vars)
		require.Len(t, resp.Errors, len(stocks))
		for _, err := range resp.Errors {
			require.Equal(t, "FORBIDDEN", err.Extensions["code"])
		}
		require.Contains(t, string(resp.Data), `"name":"Counted"`)

		var list struct {
			Products struct {
				Nodes []struct {
					Variants []variantJSON `json:"variants"`
				} `json:"nodes"`
			} `json:"products"`
		}
		owner.As(t).Do(listQ, vars).Decode(t, &list)
		require.Len(t, list.Products.Nodes, 1)
		require.Equal(t, 6, *list.Products.Nodes[0].Variants[0].QuantityAvailable)

		resp = e.Anon(t).Do(nodeQ, map[string]any{"id": p.Variants[1].ID})
		requireTopLevelCode(t, resp, "FORBIDDEN")
		require.JSONEq(t, fmt.Sprintf(`{"node": {"sku": %q, "stockStatus": "LOW_STOCK", "quantityAvailable": null}}`, p.Variants[1].SKU), string(resp.Data))
		var node struct {
			Node variantJSON `json:"node"`
		}
		e.Admin.As(t).Do(nodeQ, map[string]any{"id": p.Variants[1].ID}).Decode(t, &node)
		require.Equal(t, 5, *node.Node.QuantityAvailable)
	})

	t.Run("a product is in stock while any variant is; out when none is", func(t *testing.T) {
		require.True(t, p.InStock)
		in := productIn("Sold Out")
		in["variants"] = []any{variantIn(apitest.UniqueSKU("z"), 100, 0), variantIn(apitest.UniqueSKU("z"), 200, 0)}
		sold := createProduct(t, owner, in)
		require.False(t, sold.InStock)
		require.Equal(t, []string{"OUT_OF_STOCK", "OUT_OF_STOCK"}, []string{sold.Variants[0].StockStatus, sold.Variants[1].StockStatus})
	})
}

func TestProductVariantStockAdjust(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, _ := e.RegisterVendor(t, "Stocker")
	adjust := func(t *testing.T, variantID string, delta int) payloadJSON {
		t.Helper()
		return mutate(t, owner, stockAdjustMutation, map[string]any{"variantId": variantID, "delta": delta})
	}
	quantity := func(t *testing.T, productID string, i int) int {
		t.Helper()
		return *readQuantities(t, owner, productID).Variants[i].QuantityAvailable
	}
	in := productIn("Adjustable")
	in["variants"] = []any{variantIn(apitest.UniqueSKU("adj"), 100, 10)}
	p := createProduct(t, owner, in)
	v := p.Variants[0].ID

	t.Run("a positive delta adds stock", func(t *testing.T) {
		out := adjust(t, v, 5)
		require.Empty(t, out.UserErrors)
		require.Equal(t, 15, *out.Variant.QuantityAvailable)
		require.Equal(t, "IN_STOCK", out.Variant.StockStatus)
		require.Equal(t, 15, quantity(t, p.ID, 0))
	})

	t.Run("a negative delta removes stock", func(t *testing.T) {
		out := adjust(t, v, -12)
		require.Empty(t, out.UserErrors)
		require.Equal(t, 3, *out.Variant.QuantityAvailable)
		require.Equal(t, "LOW_STOCK", out.Variant.StockStatus)
		require.Equal(t, 3, quantity(t, p.ID, 0))
	})

	t.Run("going below zero is INSUFFICIENT_STOCK and leaves stock unchanged", func(t *testing.T) {
		out := adjust(t, v, -4)
		require.Equal(t, []string{"INSUFFICIENT_STOCK:input.delta"}, codes(out.UserErrors))
		require.Nil(t, out.Variant)
		require.Equal(t, 3, quantity(t, p.ID, 0))
	})

	t.Run("down to exactly zero is allowed and the product goes out of stock", func(t *testing.T) {
		out := adjust(t, v, -3)
		require.Empty(t, out.UserErrors)
		require.Equal(t, 0, *out.Variant.QuantityAvailable)
		require.Equal(t, "OUT_OF_STOCK", out.Variant.StockStatus)
		require.False(t, getProduct(t, e.Anon(t), p.ID).InStock)
		require.Equal(t, []string{"INSUFFICIENT_STOCK:input.delta"}, codes(adjust(t, v, -1).UserErrors))
		require.Empty(t, adjust(t, v, 0).UserErrors, "a zero delta is a no-op")
		require.Equal(t, 0, quantity(t, p.ID, 0))
	})

	t.Run("the next list read after an adjustment sees the new stock", func(t *testing.T) {
		in := productIn("Listed Stock")
		in["variants"] = []any{variantIn(apitest.UniqueSKU("ls"), 100, 2)}
		listed := createProduct(t, owner, in)
		inStock := func() []string {
			return listProducts(t, e.Anon(t), listArgs{First: 100, Filter: map[string]any{"inStock": true}}).ids()
		}
		require.Contains(t, inStock(), listed.ID)
		require.Empty(t, adjust(t, listed.Variants[0].ID, -2).UserErrors)
		require.NotContains(t, inStock(), listed.ID, "out of stock now")
		require.Equal(t, "OUT_OF_STOCK", getProduct(t, e.Anon(t), listed.ID).Variants[0].StockStatus)
		require.Empty(t, adjust(t, listed.Variants[0].ID, 9).UserErrors)
		require.Contains(t, inStock(), listed.ID, "back in stock")
		require.Equal(t, "IN_STOCK", getProduct(t, e.Anon(t), listed.ID).Variants[0].StockStatus)
	})

	t.Run("an absurd delta is INVALID", func(t *testing.T) {
		require.Equal(t, []string{"INVALID:input.delta"}, codes(adjust(t, v, 2_000_000_000).UserErrors))
		require.Equal(t, 0, quantity(t, p.ID, 0))
	})

	t.Run("a deleted or unknown variant is NOT_FOUND", func(t *testing.T) {
		two := createProduct(t, owner, productIn("Two Variants", 100, 200))
		require.Empty(t, mutate(t, owner, variantDeleteMutation, map[string]any{"id": two.Variants[0].ID}).UserErrors)
		for _, id := range []string{two.Variants[0].ID, apitest.GlobalID("ProductVariant", 99999999), "garbage", two.ID} {
			require.Equal(t, []string{"NOT_FOUND:input.variantId"}, codes(adjust(t, id, 1).UserErrors), id)
		}
	})

	t.Run("concurrent decrements never take stock below zero: exactly the stock succeeds", func(t *testing.T) {
		in := productIn("Hot Item")
		in["variants"] = []any{variantIn(apitest.UniqueSKU("hot"), 100, 10)}
		hot := createProduct(t, owner, in)
		const workers = 20
		type result struct {
			codes []string
			err   error
		}
		results := make(chan result, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := owner.TryDo(stockAdjustMutation, map[string]any{"input": map[string]any{"variantId": hot.Variants[0].ID, "delta": -1}})
				if err != nil {
					results <- result{err: err}
					return
				}
				if len(resp.Errors) > 0 {
					results <- result{err: fmt.Errorf("top-level errors: %+v", resp.Errors)}
					return
				}
				var out struct {
					P payloadJSON `json:"productVariantStockAdjust"`
				}
				if err := json.Unmarshal(resp.Data, &out); err != nil {
					results <- result{err: err}
					return
				}
				results <- result{codes: codes(out.P.UserErrors)}
			}()
		}
		close(start)
		wg.Wait()
		close(results)
		ok, refused := 0, 0
		for r := range results {
			require.NoError(t, r.err)
			switch {
			case len(r.codes) == 0:
				ok++
			case slices.Equal(r.codes, []string{"INSUFFICIENT_STOCK:input.delta"}):
				refused++
			default:
				t.Fatalf("unexpected userErrors %v", r.codes)
			}
		}
		require.Equal(t, 10, ok)
		require.Equal(t, 10, refused)
		require.Equal(t, 0, quantity(t, hot.ID, 0))
	})
}

func TestProductVariantDeleteAndUpdate(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, ownerU := e.RegisterVendor(t, "Sizer")
	p := createProduct(t, owner, productIn("Three Sizes", 1000, 2000, 3000))
	v := p.Variants

	t.Run("deleting a variant removes it from variants and narrows priceRange", func(t *testing.T) {
		out := mutate(t, owner, variantDeleteMutation, map[string]any{"id": v[2].ID})
		require.Empty(t, out.UserErrors)
		require.Equal(t, []string{v[0].SKU, v[1].SKU}, out.Product.skus())
		require.Equal(t, moneyJSON{1000, "USD"}, out.Product.PriceRange.Min)
		require.Equal(t, moneyJSON{2000, "USD"}, out.Product.PriceRange.Max)
		got := getProduct(t, e.Anon(t), p.ID)
		require.Equal(t, []string{v[0].SKU, v[1].SKU}, got.skus())
		require.Equal(t, moneyJSON{2000, "USD"}, got.PriceRange.Max)
	})

	t.Run("productVariantUpdate changes the price and priceRange follows", func(t *testing.T) {
		out := mutate(t, owner, variantUpdateMutation, map[string]any{
			"id": v[0].ID, "price": 2500, "name": "Large", "options": []any{map[string]any{"name": "size", "value": "L"}},
		})
		require.Empty(t, out.UserErrors)
		require.Equal(t, moneyJSON{2500, "USD"}, out.Variant.Price)
		require.Equal(t, "Large", out.Variant.Name)
		require.Equal(t, v[0].SKU, out.Variant.SKU, "omitted fields keep their value")
		got := getProduct(t, e.Anon(t), p.ID)
		require.Equal(t, moneyJSON{2000, "USD"}, got.PriceRange.Min)
		require.Equal(t, moneyJSON{2500, "USD"}, got.PriceRange.Max)
		require.Equal(t, []optionJSON{{"size", "L"}}, got.Variants[0].Options)

		// The price filters use the same range.
		names := listProducts(t, e.Anon(t), listArgs{Filter: map[string]any{"vendorId": ownerU.VendorID, "minPrice": 2400}}).names()
		require.Equal(t, []string{"Three Sizes"}, names)
		names = listProducts(t, e.Anon(t), listArgs{Filter: map[string]any{"vendorId": ownerU.VendorID, "maxPrice": 1999}}).names()
		require.Empty(t, names, "no live variant costs 1999 or less any more")
	})

	t.Run("productVariantCreate widens priceRange", func(t *testing.T) {
		out := mutate(t, owner, variantCreateMutation, map[string]any{"productId": p.ID, "variant": map[string]any{
			"sku": apitest.UniqueSKU("xs"), "name": "XS", "price": 100, "stock": 4, "options": []any{map[string]any{"name": "size", "value": "XS"}},
		}})
		require.Empty(t, out.UserErrors)
		require.Equal(t, moneyJSON{100, "USD"}, out.Variant.Price, "in the product's currency")
		require.Equal(t, "LOW_STOCK", out.Variant.StockStatus)
		got := getProduct(t, e.Anon(t), p.ID)
		require.Equal(t, moneyJSON{100, "USD"}, got.PriceRange.Min)
		require.Equal(t, []string{v[0].SKU, v[1].SKU, out.Variant.SKU}, got.skus(), "appended last")
	})

	t.Run("invalid variant input is INVALID and a taken SKU DUPLICATE; nothing changes", func(t *testing.T) {
		other := createProduct(t, owner, productIn("Other Sizes"))
		before := getProduct(t, e.Admin, p.ID)
		for _, tc := range []struct {
			input map[string]any
			want  string
		}{
			{map[string]any{"price": -1}, "INVALID:input.price"},
			{map[string]any{"sku": ""}, "INVALID:input.sku"},
			{map[string]any{"sku": strings.Repeat("s", 65)}, "INVALID:input.sku"},
			{map[string]any{"sku": other.Variants[0].SKU}, "DUPLICATE:input.sku"},
			{map[string]any{"options": []any{map[string]any{"name": "a", "value": "1"}, map[string]any{"name": "a", "value": "2"}}}, "INVALID:input.options"},
		} {
			tc.input["id"] = v[1].ID
			out := mutate(t, owner, variantUpdateMutation, tc.input)
			require.Equal(t, []string{tc.want}, codes(out.UserErrors), "%v", tc.input)
			require.Nil(t, out.Variant)
		}
		for _, tc := range []struct {
			variant map[string]any
			want    string
		}{
			{variantIn(apitest.UniqueSKU("n"), -1, 0), "INVALID:input.variant.price"},
			{variantIn(apitest.UniqueSKU("n"), 1, -1), "INVALID:input.variant.stock"},
			{variantIn(other.Variants[0].SKU, 1, 0), "DUPLICATE:input.variant.sku"},
		} {
			out := mutate(t, owner, variantCreateMutation, map[string]any{"productId": p.ID, "variant": tc.variant})
			require.Equal(t, []string{tc.want}, codes(out.UserErrors), "%v", tc.variant)
		}
		require.Equal(t, before, getProduct(t, e.Admin, p.ID))
	})

	t.Run("the last live variant cannot be deleted", func(t *testing.T) {
		single := createProduct(t, owner, productIn("Only One", 700, 800))
		require.Empty(t, mutate(t, owner, variantDeleteMutation, map[string]any{"id": single.Variants[1].ID}).UserErrors)
		out := mutate(t, owner, variantDeleteMutation, map[string]any{"id": single.Variants[0].ID})
		require.Equal(t, []string{"LAST_VARIANT:input.id"}, codes(out.UserErrors))
		require.Nil(t, out.Product)
		got := getProduct(t, e.Anon(t), single.ID)
		require.Equal(t, []string{single.Variants[0].SKU}, got.skus())
		require.Equal(t, moneyJSON{700, "USD"}, got.PriceRange.Max)
		// An admin is held to the same rule.
		require.Equal(t, []string{"LAST_VARIANT:input.id"}, codes(mutate(t, e.Admin, variantDeleteMutation, map[string]any{"id": single.Variants[0].ID}).UserErrors))
	})

	t.Run("deleting the last two variants at once leaves exactly one", func(t *testing.T) {
		for round := range 5 {
			pair := createProduct(t, owner, productIn(fmt.Sprintf("Pair %d", round), 100, 200))
			results := make(chan []string, 2)
			errs := make(chan error, 2)
			var wg sync.WaitGroup
			for _, v := range pair.Variants {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := owner.TryDo(variantDeleteMutation, map[string]any{"input": map[string]any{"id": v.ID}})
					if err == nil && len(resp.Errors) > 0 {
						err = fmt.Errorf("top-level errors: %+v", resp.Errors)
					}
					if err != nil {
						errs <- err
						return
					}
					var out struct {
						P payloadJSON `json:"productVariantDelete"`
					}
					if err := json.Unmarshal(resp.Data, &out); err != nil {
						errs <- err
						return
					}
					results <- codes(out.P.UserErrors)
				}()
			}
			wg.Wait()
			close(results)
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			var got []string
			for r := range results {
				got = append(got, strings.Join(r, ","))
			}
			require.ElementsMatch(t, []string{"", "LAST_VARIANT:input.id"}, got)
			require.Len(t, getProduct(t, e.Admin, pair.ID).Variants, 1)
		}
	})

	t.Run("a deleted variant is NOT_FOUND to mutations and null to node", func(t *testing.T) {
		deleted := v[2].ID
		require.Equal(t, []string{"NOT_FOUND:input.id"}, codes(mutate(t, owner, variantDeleteMutation, map[string]any{"id": deleted}).UserErrors))
		require.Equal(t, []string{"NOT_FOUND:input.id"}, codes(mutate(t, owner, variantUpdateMutation, map[string]any{"id": deleted, "price": 1}).UserErrors))
		var out struct {
			Node *variantJSON `json:"node"`
		}
		e.Admin.As(t).Do(`query N($id: ID!) { node(id: $id) { ... on ProductVariant { sku } } }`, map[string]any{"id": deleted}).Decode(t, &out)
		require.Nil(t, out.Node)
	})
}

func TestProductArchivedVisibility(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, ownerU := e.RegisterVendor(t, "Archiver")
	otherVendor, _ := e.RegisterVendor(t, "Bystander")
	customer := e.RegisterCustomer(t)
	cat := createCategory(t, e.Admin, "Archive Shelf", "")
	mk := func(name string) productJSON {
		in := productIn(name)
		in["categoryId"] = cat.ID
		return createProduct(t, owner, in)
	}
	live, gone := mk("Live One"), mk("Gone One")
	archived := mutate(t, owner, productArchiveMutation, map[string]any{"id": gone.ID})
	require.Empty(t, archived.UserErrors)
	require.Equal(t, "ARCHIVED", archived.Product.Status)

	const nodeQ = `query N($id: ID!) { node(id: $id) { id ... on Product { status } ... on ProductVariant { sku } } }`
	const categoryQ = `query C($id: ID!) { category(id: $id) { products { totalCount nodes { id } } } }`
	type view struct {
		listIDs      []string
		listTotal    int
		allIDs       []string
		byID, bySlug *productJSON
		node         json.RawMessage
		variantNode  json.RawMessage
		categoryIDs  []string
		categoryTot  int
	}
	look := func(t *testing.T, c *apitest.Client) view {
		var v view
		conn := listProducts(t, c, listArgs{Filter: map[string]any{"vendorId": ownerU.VendorID}})
		v.listIDs, v.listTotal = conn.ids(), conn.TotalCount
		v.allIDs = listProducts(t, c, listArgs{First: 100}).ids()
		v.byID = getProduct(t, c, gone.ID)
		var bySlug struct {
			Product *productJSON `json:"product"`
		}
		c.As(t).Do(productBySlugQuery, map[string]any{"slug": gone.Slug}).Decode(t, &bySlug)
		v.bySlug = bySlug.Product
		var node struct {
			Node json.RawMessage `json:"node"`
		}
		c.As(t).Do(nodeQ, map[string]any{"id": gone.ID}).Decode(t, &node)
		v.node = node.Node
		c.As(t).Do(nodeQ, map[string]any{"id": gone.Variants[0].ID}).Decode(t, &node)
		v.variantNode = node.Node
		var cq struct {
			Category struct {
				Products connectionJSON `json:"products"`
			} `json:"category"`
		}
		c.As(t).Do(categoryQ, map[string]any{"id": cat.ID}).Decode(t, &cq)
		v.categoryIDs, v.categoryTot = cq.Category.Products.ids(), cq.Category.Products.TotalCount
		return v
	}

	for name, c := range map[string]*apitest.Client{"anonymous": e.Anon(t), "a customer": customer, "another vendor": otherVendor} {
		t.Run("hidden from "+name, func(t *testing.T) {
			v := look(t, c)
			require.Equal(t, []string{live.ID}, v.listIDs)
			require.Equal(t, 1, v.listTotal)
			require.NotContains(t, v.allIDs, gone.ID)
			require.Contains(t, v.allIDs, live.ID)
			require.Nil(t, v.byID)
			require.Nil(t, v.bySlug)
			require.JSONEq(t, `null`, string(v.node))
			require.JSONEq(t, `null`, string(v.variantNode), "a variant is visible only when its product is")
			require.Equal(t, []string{live.ID}, v.categoryIDs)
			require.Equal(t, 1, v.categoryTot)
		})
	}

	for name, c := range map[string]*apitest.Client{"the owning vendor": owner, "an admin": e.Admin} {
		t.Run("visible to "+name, func(t *testing.T) {
			v := look(t, c)
			require.Equal(t, []string{gone.ID, live.ID}, v.listIDs, "newest first")
			require.Equal(t, 2, v.listTotal)
			require.Contains(t, v.allIDs, gone.ID)
			require.Equal(t, "ARCHIVED", v.byID.Status)
			require.Equal(t, "ARCHIVED", v.bySlug.Status)
			require.JSONEq(t, fmt.Sprintf(`{"id": %q, "status": "ARCHIVED"}`, gone.ID), string(v.node))
			require.JSONEq(t, fmt.Sprintf(`{"id": %q, "sku": %q}`, gone.Variants[0].ID, gone.Variants[0].SKU), string(v.variantNode))
			require.Equal(t, []string{gone.ID, live.ID}, v.categoryIDs)
			require.Equal(t, 2, v.categoryTot)
		})
	}

	t.Run("publishing it again shows it to everyone", func(t *testing.T) {
		out := mutate(t, owner, productUpdateMutation, map[string]any{"id": gone.ID, "status": "ACTIVE"})
		require.Empty(t, out.UserErrors)
		v := look(t, e.Anon(t))
		require.Equal(t, []string{gone.ID, live.ID}, v.listIDs)
		require.Equal(t, "ACTIVE", v.byID.Status)
		require.NotNil(t, v.bySlug)
	})
}

// paginationItem is what a test knows of a product to compute its expected position.
type paginationItem struct {
	gid     string
	id      int64
	name    string
	price   int64
	created time.Time
}

func TestProductPaginationSorts(t *testing.T) {
	t.Parallel()
	e := newCatalogEnvWith(t, nil)
	ctx := context.Background()
	// Names and prices repeat, and creation times are set in groups of three, so that every
	// sort order has ties that only the id breaks.
	specs := []struct {
		name, description string
		prices            []int64
	}{
		{"Lantern", "A lantern for the porch.", []int64{500, 900}},
		{"Anchor", "Heavy.", []int64{300}},
		{"Lantern", "A lantern for the porch.", []int64{500}},
		{"Compass", "Points north, lit by a small lantern.", []int64{900}},
		{"Beacon", "Bright.", []int64{100, 5000}},
		{"Anchor", "Light.", []int64{300}},
		{"Drift", "Drift lantern.", []int64{700}},
		{"Lantern Stand", "Holds things.", []int64{500}},
		{"Echo", "Loud.", []int64{200}},
		{"Compass", "Points south.", []int64{900}},
		{"Fathom", "Deep lantern.", []int64{1000}},
		{"Beacon", "Lantern-like glow.", []int64{100}},
		{"Gale", "Windy.", []int64{650}},
	}
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	items := make([]paginationItem, len(specs))
	for i, s := range specs {
		in := productIn(s.name, s.prices...)
		in["description"] = s.description
		p := createProduct(t, e.Admin, in)
		items[i] = paginationItem{gid: p.ID, id: apitest.DBID(t, p.ID), name: s.name, price: slices.Min(s.prices),
			created: base.Add(time.Duration(i/3) * time.Minute)}
		_, err := e.Server.App.DB.Pool.Exec(ctx, "UPDATE products SET created_at = $1 WHERE id = $2", items[i].created, items[i].id)
		require.NoError(t, err)
	}
	// An archived product is never listed to the anonymous walker.
	archived := createProduct(t, e.Admin, productIn("Lantern Archived", 1))
	require.Empty(t, mutate(t, e.Admin, productArchiveMutation, map[string]any{"id": archived.ID}).UserErrors)

	order := func(less func(a, b paginationItem) bool) []string {
		sorted := slices.Clone(items)
		sort.SliceStable(sorted, func(i, j int) bool { return less(sorted[i], sorted[j]) })
		out := make([]string, len(sorted))
		for i, it := range sorted {
			out[i] = it.gid
		}
		return out
	}
	expected := map[string][]string{
		"NEWEST": order(func(a, b paginationItem) bool {
			if !a.created.Equal(b.created) {
				return a.created.After(b.created)
			}
			return a.id > b.id
		}),
		"PRICE_ASC": order(func(a, b paginationItem) bool {
			if a.price != b.price {
				return a.price < b.price
			}
			return a.id < b.id
		}),
		"PRICE_DESC": order(func(a, b paginationItem) bool {
			if a.price != b.price {
				return a.price > b.price
			}
			return a.id > b.id
		}),
		"NAME": order(func(a, b paginationItem) bool {
			if a.name != b.name {
				return a.name < b.name
			}
			return a.id < b.id
		}),
	}
	anon := e.Anon(t)

	for _, s := range []string{"NEWEST", "PRICE_ASC", "PRICE_DESC", "NAME"} {
		t.Run(s+": every product exactly once, in order, forward and backward", func(t *testing.T) {
			want := expected[s]
			for _, size := range []int{3, 5, 1} {
				require.Equal(t, want, walkForward(t, anon, listArgs{Sort: s}, size), "forward, first %d", size)
			}
			require.Equal(t, want, walkBackward(t, anon, listArgs{Sort: s}, 3), "backward, last 3")
			one := listProducts(t, anon, listArgs{Sort: s, First: 100})
			require.Equal(t, want, one.ids())
			require.Equal(t, len(want), one.TotalCount)
			require.False(t, one.PageInfo.HasNextPage)
			require.False(t, one.PageInfo.HasPreviousPage)
		})
	}

	t.Run("NEWEST is the default order", func(t *testing.T) {
		require.Equal(t, expected["NEWEST"], walkForward(t, anon, listArgs{}, 4))
	})

	t.Run("a cursor from the middle pages both ways", func(t *testing.T) {
		want := expected["PRICE_ASC"]
		first := listProducts(t, anon, listArgs{Sort: "PRICE_ASC", First: 6})
		mid := *first.PageInfo.EndCursor
		next := listProducts(t, anon, listArgs{Sort: "PRICE_ASC", First: 3, After: mid})
		require.Equal(t, want[6:9], next.ids())
		require.True(t, next.PageInfo.HasPreviousPage)
		prev := listProducts(t, anon, listArgs{Sort: "PRICE_ASC", Last: 3, Before: mid})
		require.Equal(t, want[2:5], prev.ids(), "the three before the sixth")
		require.True(t, prev.PageInfo.HasPreviousPage)
		require.True(t, prev.PageInfo.HasNextPage)
	})

	t.Run("RELEVANCE: every match exactly once, name matches first, ties by id", func(t *testing.T) {
		args := listArgs{Sort: "RELEVANCE", Filter: map[string]any{"search": "lantern"}}
		one := listProducts(t, anon, listArgs{Sort: "RELEVANCE", Filter: args.Filter, First: 100})
		want := one.ids()
		var matches []string
		nameMatch := map[string]bool{}
		for i, it := range items {
			if strings.Contains(strings.ToLower(it.name+" "+specs[i].description), "lantern") {
				matches = append(matches, it.gid)
			}
			nameMatch[it.gid] = strings.Contains(strings.ToLower(it.name), "lantern")
		}
		require.ElementsMatch(t, matches, want)
		require.Equal(t, len(want), one.TotalCount)
		seenDescriptionOnly := false
		for _, id := range want {
			if !nameMatch[id] {
				seenDescriptionOnly = true
			} else {
				require.False(t, seenDescriptionOnly, "a name match ranks above every description-only match: %v", one.names())
			}
		}
		// The two identical "Lantern" products tie on rank: the higher id comes first.
		i0, i2 := slices.Index(want, items[0].gid), slices.Index(want, items[2].gid)
		require.Equal(t, 1, i0-i2, "tied products are adjacent, higher id first: %v", one.names())

		for _, size := range []int{3, 2} {
			require.Equal(t, want, walkForward(t, anon, args, size), "forward, first %d", size)
		}
		require.Equal(t, want, walkBackward(t, anon, args, 3), "backward, last 3")
	})

	t.Run("RELEVANCE without a search is NEWEST", func(t *testing.T) {
		require.Equal(t, expected["NEWEST"], walkForward(t, anon, listArgs{Sort: "RELEVANCE"}, 5))
	})

	t.Run("page sizes outside 1..100 and first with last are BAD_USER_INPUT", func(t *testing.T) {
		for _, vars := range []map[string]any{
			{"first": 101}, {"first": 0}, {"first": -1}, {"last": 101}, {"last": 0},
			{"first": 2, "last": 2}, {"first": 1000000},
		} {
			resp := anon.As(t).Do(productsQuery, vars)
			requireTopLevelCode(t, resp, "BAD_USER_INPUT")
			require.Equal(t, []any{"products"}, resp.Errors[0].Path, "%v", vars)
		}
		require.Len(t, listProducts(t, anon, listArgs{First: 100}).Nodes, len(items))
		require.Len(t, listProducts(t, anon, listArgs{Last: 100}).Nodes, len(items))
	})

	t.Run("a cursor of another sort order or a garbage cursor is BAD_USER_INPUT", func(t *testing.T) {
		newest := *listProducts(t, anon, listArgs{First: 2}).PageInfo.EndCursor
		relevance := *listProducts(t, anon, listArgs{First: 2, Sort: "RELEVANCE", Filter: map[string]any{"search": "lantern"}}).PageInfo.EndCursor
		name := *listProducts(t, anon, listArgs{First: 2, Sort: "NAME"}).PageInfo.EndCursor
		cases := []struct {
			sort, cursor string
		}{
			{"PRICE_ASC", newest}, {"NAME", newest}, {"NEWEST", name}, {"PRICE_DESC", name},
			{"NEWEST", relevance}, {"PRICE_ASC", relevance},
			{"NEWEST", "!!!"}, {"NEWEST", "bm90LWpzb24"}, {"NEWEST", strings.Repeat("A", 2000)},
			{"NAME", apitest.EncodeID(`{"s":"NAME","k":5,"i":1}`)},
			{"NEWEST", apitest.EncodeID(`{"s":"NEWEST","k":"yesterday","i":1}`)},
			{"NEWEST", apitest.EncodeID(`{"s":"NEWEST","k":"2026-01-01T00:00:00Z","i":0}`)},
			{"PRICE_ASC", apitest.EncodeID(`{"s":"PRICE_ASC","i":3}`)},
			{"PRICE_ASC", apitest.EncodeID(`{"s":"PRICE_ASC","k":"cheap","i":3}`)},
		}
		for _, tc := range cases {
			for _, dir := range []listArgs{{First: 3, After: tc.cursor}, {Last: 3, Before: tc.cursor}} {
				dir.Sort = tc.sort
				if tc.sort == "NEWEST" && tc.cursor == relevance {
					dir.Filter = map[string]any{"search": "lantern"}
				}
				resp := anon.As(t).Do(productsQuery, dir.vars())
				requireTopLevelCode(t, resp, "BAD_USER_INPUT")
				require.NotContains(t, resp.Errors[0].Message, "Internal")
			}
		}
	})
}

func TestProductPaginationConcurrentInserts(t *testing.T) {
	t.Parallel()
	e := newCatalogEnvWith(t, nil)
	ctx := context.Background()
	var seq atomic.Int64
	create := func(price int64) (int64, error) {
		n := seq.Add(1)
		p, err := e.Server.App.Catalog.Create(ctx, e.AdminViewer(), catalog.CreateInput{
			Name: fmt.Sprintf("Item %03d", n), Slug: apitest.UniqueSlug("item"), Currency: "USD",
			Variants: []catalog.VariantInput{{SKU: apitest.UniqueSKU("item"), Price: price, Stock: 1}},
		})
		return p.ID, err
	}
	for i := range 30 {
		_, err := create(int64(100 + 10*i))
		require.NoError(t, err)
	}
	anon := e.Anon(t)

	for _, sortOrder := range []string{"NEWEST", "PRICE_ASC"} {
		t.Run(sortOrder+": a walk sees every product that existed before it exactly once while others are inserted", func(t *testing.T) {
			existing := map[string]bool{}
			for _, id := range walkForward(t, anon, listArgs{Sort: sortOrder}, 100) {
				existing[id] = true
			}
			require.GreaterOrEqual(t, len(existing), 30)

			// The inserter adds a product, with a price anywhere in the range, each time the
			// walker asks, so that inserts land between every two pages.
			want, inserted := make(chan struct{}), make(chan error)
			done := make(chan struct{})
			go func() {
				defer close(inserted)
				for i := int64(0); ; i++ {
					select {
					case <-done:
						return
					case <-want:
					}
					_, err := create(95 + (i*37)%400)
					select {
					case inserted <- err:
					case <-done:
						return
					}
				}
			}()
			defer close(done)

			seen := map[string]int{}
			a := listArgs{Sort: sortOrder, First: 3}
			pages := 0
			for {
				conn := listProducts(t, anon, a)
				pages++
				for _, id := range conn.ids() {
					seen[id]++
				}
				if !conn.PageInfo.HasNextPage {
					break
				}
				a.After = *conn.PageInfo.EndCursor
				// Two inserts between pages.
				for range 2 {
					want <- struct{}{}
					require.NoError(t, <-inserted)
				}
			}
			require.GreaterOrEqual(t, pages, 10)
			for id, n := range seen {
				require.Equal(t, 1, n, "product %s seen %d times", id, n)
			}
			for id := range existing {
				require.Equal(t, 1, seen[id], "product %s that existed before the walk was missed", id)
			}
		})
	}
}

func TestProductSearchAndFilters(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	apparel := createCategory(t, e.Admin, "Apparel", "")
	tops := createCategory(t, e.Admin, "Tops", apparel.ID)
	hoodies := createCategory(t, e.Admin, "Hoodies", tops.ID)
	home := createCategory(t, e.Admin, "Home", "")
	north, south := e.DirectVendor(t, "North Co"), e.DirectVendor(t, "South Co")
	northID, southID := apitest.GlobalID("Vendor", north.ID), apitest.GlobalID("Vendor", south.ID)

	type variant struct {
		price int64
		stock int
	}
	mk := func(name, description, categoryID, vendorID string, vs ...variant) productJSON {
		in := productIn(name)
		in["description"] = description
		if categoryID != "" {
			in["categoryId"] = categoryID
		}
		if vendorID != "" {
			in["vendorId"] = vendorID
		}
		variants := make([]any, len(vs))
		for i, v := range vs {
			variants[i] = variantIn(apitest.UniqueSKU("f"), v.price, v.stock)
		}
		in["variants"] = variants
		return createProduct(t, e.Admin, in)
	}
	mk("Cozy Hoodie", "Warm fleece for cold evenings.", hoodies.ID, northID, variant{5000, 3})
	mk("Plain Tee", "Goes well under a hoodie.", tops.ID, southID, variant{1500, 0})
	mk("Garden Chair", "Sturdy teak.", home.ID, "", variant{12000, 10})
	mk("Desk Lamp", "Bright and adjustable.", home.ID, northID, variant{3000, 0}, variant{9000, 4})
	mk("Coffee Mug", "Ceramic.", "", southID, variant{800, 20})
	mk("Rain Jacket", "Waterproof shell.", apparel.ID, northID, variant{7000, 0}, variant{7500, 0})
	// Its only stocked and only cheap variant is deleted: neither may count any more.
	scarf := mk("Clearance Scarf", "Last one.", "", "", variant{2000, 5}, variant{2200, 0})
	require.Empty(t, mutate(t, e.Admin, variantDeleteMutation, map[string]any{"id": scarf.Variants[0].ID}).UserErrors)
	ghost := mk("Ghost Hoodie", "Archived hoodie.", hoodies.ID, northID, variant{4000, 9})
	require.Empty(t, mutate(t, e.Admin, productArchiveMutation, map[string]any{"id": ghost.ID}).UserErrors)

	all := []string{"Clearance Scarf", "Coffee Mug", "Cozy Hoodie", "Desk Lamp", "Garden Chair", "Plain Tee", "Rain Jacket"}
	anon := e.Anon(t)
	cases := []struct {
		name   string
		filter map[string]any
		want   []string
	}{
		{"search matches the name", map[string]any{"search": "hoodie"}, []string{"Cozy Hoodie", "Plain Tee"}},
		{"search ignores case", map[string]any{"search": "HOODIE"}, []string{"Cozy Hoodie", "Plain Tee"}},
		{"search forgives a one-letter typo, in names and descriptions", map[string]any{"search": "hoddie"}, []string{"Cozy Hoodie", "Plain Tee"}},
		{"search matches the description", map[string]any{"search": "fleece"}, []string{"Cozy Hoodie"}},
		{"search stems words", map[string]any{"search": "chairs"}, []string{"Garden Chair"}},
		{"search takes a quoted phrase", map[string]any{"search": `"desk lamp"`}, []string{"Desk Lamp"}},
		{"a blank search is no search", map[string]any{"search": "   "}, all},
		{"search with no match", map[string]any{"search": "xylophone"}, []string{}},
		{"category includes subcategories", map[string]any{"categoryId": apparel.ID}, []string{"Cozy Hoodie", "Plain Tee", "Rain Jacket"}},
		{"middle category includes its subcategory", map[string]any{"categoryId": tops.ID}, []string{"Cozy Hoodie", "Plain Tee"}},
		{"leaf category", map[string]any{"categoryId": hoodies.ID}, []string{"Cozy Hoodie"}},
		{"other top-level category", map[string]any{"categoryId": home.ID}, []string{"Desk Lamp", "Garden Chair"}},
		{"unknown category", map[string]any{"categoryId": apitest.GlobalID("Category", 99999999)}, []string{}},
		{"vendor", map[string]any{"vendorId": northID}, []string{"Cozy Hoodie", "Desk Lamp", "Rain Jacket"}},
		{"other vendor", map[string]any{"vendorId": southID}, []string{"Coffee Mug", "Plain Tee"}},
		{"minPrice: a variant at least this", map[string]any{"minPrice": 7000}, []string{"Desk Lamp", "Garden Chair", "Rain Jacket"}},
		{"maxPrice: a variant at most this", map[string]any{"maxPrice": 1500}, []string{"Coffee Mug", "Plain Tee"}},
		{"maxPrice ignores deleted variants", map[string]any{"maxPrice": 2100}, []string{"Coffee Mug", "Plain Tee"}},
		{"minPrice and maxPrice", map[string]any{"minPrice": 1500, "maxPrice": 5000}, []string{"Clearance Scarf", "Cozy Hoodie", "Desk Lamp", "Plain Tee"}},
		{"in stock", map[string]any{"inStock": true}, []string{"Coffee Mug", "Cozy Hoodie", "Desk Lamp", "Garden Chair"}},
		{"out of stock, deleted stock not counted", map[string]any{"inStock": false}, []string{"Clearance Scarf", "Plain Tee", "Rain Jacket"}},
		{"category and stock", map[string]any{"categoryId": apparel.ID, "inStock": true}, []string{"Cozy Hoodie"}},
		{"search and vendor", map[string]any{"search": "hoodie", "vendorId": southID}, []string{"Plain Tee"}},
		{"search, category and price", map[string]any{"search": "hoodie", "categoryId": apparel.ID, "minPrice": 2000}, []string{"Cozy Hoodie"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := listProducts(t, anon, listArgs{First: 100, Sort: "NAME", Filter: tc.filter})
			require.Equal(t, tc.want, conn.names())
			require.Equal(t, len(tc.want), conn.TotalCount, "totalCount")
			walk := walkForward(t, anon, listArgs{Sort: "NAME", Filter: tc.filter}, 2)
			require.Equal(t, conn.ids(), walk, "the walk visits what totalCount counts")
			require.Len(t, walkBackward(t, anon, listArgs{Sort: "PRICE_DESC", Filter: tc.filter}, 2), conn.TotalCount)
		})
	}

	t.Run("RELEVANCE ranks a name match above a description-only match", func(t *testing.T) {
		conn := listProducts(t, anon, listArgs{Sort: "RELEVANCE", Filter: map[string]any{"search": "hoodie"}})
		require.Equal(t, []string{"Cozy Hoodie", "Plain Tee"}, conn.names())
		conn = listProducts(t, anon, listArgs{Sort: "RELEVANCE", Filter: map[string]any{"search": "hoddie"}})
		require.Equal(t, []string{"Cozy Hoodie", "Plain Tee"}, conn.names())
	})

	t.Run("an admin's search and filters include archived products", func(t *testing.T) {
		conn := listProducts(t, e.Admin, listArgs{Sort: "NAME", Filter: map[string]any{"search": "hoodie"}})
		require.Equal(t, []string{"Cozy Hoodie", "Ghost Hoodie", "Plain Tee"}, conn.names())
		require.Equal(t, 3, conn.TotalCount)
		conn = listProducts(t, e.Admin, listArgs{Sort: "NAME", Filter: map[string]any{"categoryId": hoodies.ID}})
		require.Equal(t, []string{"Cozy Hoodie", "Ghost Hoodie"}, conn.names())
		require.Equal(t, 2, conn.TotalCount)
	})

	t.Run("a category's products include its subcategories", func(t *testing.T) {
		var out struct {
			Category struct {
				Products connectionJSON `json:"products"`
			} `json:"category"`
		}
		anon.As(t).Do(`query C($slug: String!) { category(slug: $slug) { products(first: 100, sort: NAME) { totalCount nodes { id name } edges { cursor node { id } } pageInfo { hasNextPage } } } }`,
			map[string]any{"slug": apparel.Slug}).Decode(t, &out)
		require.Equal(t, []string{"Cozy Hoodie", "Plain Tee", "Rain Jacket"}, out.Category.Products.names())
		require.Equal(t, 3, out.Category.Products.TotalCount)
	})

	t.Run("odd search text never fails the request", func(t *testing.T) {
		var failed []string
		for _, search := range []string{
			`"`, `'`, `-`, `or`, `!!!`, `a & b | c`, `\`, `%_`, `(`, `:*`, "ñandú", "東京", "hoodie -tee",
			strings.Repeat("hoodie ", 100),
			// More than 200 bytes with a two-byte character across the 200th byte.
			"a" + strings.Repeat("é", 150),
			`nul\u0000byte`,
			"nul\x00byte",
		} {
			for _, sortOrder := range []string{"NAME", "RELEVANCE"} {
				resp := anon.As(t).Do(productsQuery, map[string]any{"filter": map[string]any{"search": search}, "sort": sortOrder})
				for _, err := range resp.Errors {
					if err.Extensions["code"] != "BAD_USER_INPUT" {
						failed = append(failed, fmt.Sprintf("%q (%s): %v %s", search, sortOrder, err.Extensions["code"], err.Message))
					}
				}
			}
		}
		require.Empty(t, failed)
	})

	t.Run("a malformed or foreign ID in a filter is BAD_USER_INPUT", func(t *testing.T) {
		for _, f := range []map[string]any{
			{"categoryId": "!!!"}, {"categoryId": northID}, {"vendorId": apparel.ID}, {"vendorId": "garbage"},
		} {
			requireTopLevelCode(t, anon.As(t).Do(productsQuery, map[string]any{"filter": f}), "BAD_USER_INPUT")
		}
	})
}

func TestCategories(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	vendor, _ := e.RegisterVendor(t, "Category Vendor")
	customer := e.RegisterCustomer(t)
	const treeQuery = `{ categories { name slug parent { name } children { name parent { name } children { name children { name } } } } }`
	type node struct {
		Name     string  `json:"name"`
		Children []*node `json:"children"`
	}
	tree := func(t *testing.T) []*node {
		var out struct {
			Categories []*node `json:"categories"`
		}
		e.Anon(t).Do(treeQuery, nil).Decode(t, &out)
		return out.Categories
	}
	var clothing, shoes, boots, sneakers, hats, garden categoryJSON

	t.Run("only admins manage categories", func(t *testing.T) {
		in := map[string]any{"name": "Vendor Category"}
		requireTopLevelCode(t, vendor.As(t).Do(categoryCreateMutation, map[string]any{"input": in}), "FORBIDDEN")
		requireTopLevelCode(t, customer.As(t).Do(categoryCreateMutation, map[string]any{"input": in}), "FORBIDDEN")
		requireTopLevelCode(t, e.Anon(t).Do(categoryCreateMutation, map[string]any{"input": in}), "UNAUTHENTICATED")
		id := apitest.GlobalID("Category", 1)
		requireTopLevelCode(t, vendor.As(t).Do(categoryUpdateMutation, map[string]any{"input": map[string]any{"id": id, "name": "x"}}), "FORBIDDEN")
		requireTopLevelCode(t, vendor.As(t).Do(categoryDeleteMutation, map[string]any{"input": map[string]any{"id": id}}), "FORBIDDEN")
		require.Empty(t, tree(t))
	})

	t.Run("an admin creates top-level and nested categories; the slug is derived from the name", func(t *testing.T) {
		out := mutate(t, e.Admin, categoryCreateMutation, map[string]any{"name": "  Clothing & Shoes "})
		require.Empty(t, out.UserErrors)
		clothing = *out.Category
		require.Equal(t, "Clothing & Shoes", clothing.Name)
		require.Equal(t, "clothing-shoes", clothing.Slug)
		require.Nil(t, clothing.Parent)
		shoes = createCategory(t, e.Admin, "Shoes", clothing.ID)
		require.Equal(t, clothing.ID, shoes.Parent.ID)
		boots = createCategory(t, e.Admin, "Boots", shoes.ID)
		sneakers = createCategory(t, e.Admin, "Sneakers", shoes.ID)
		hats = createCategory(t, e.Admin, "Hats", clothing.ID)
		garden = createCategory(t, e.Admin, "Garden", "")
	})

	t.Run("categories is the tree, each level by name", func(t *testing.T) {
		got, err := json.Marshal(tree(t))
		require.NoError(t, err)
		require.JSONEq(t, `[
		  {"name": "Clothing & Shoes", "children": [
		    {"name": "Hats", "children": []},
		    {"name": "Shoes", "children": [{"name": "Boots", "children": []}, {"name": "Sneakers", "children": []}]}
		  ]},
		  {"name": "Garden", "children": []}
		]`, string(got))
	})

	t.Run("category(slug:) and category(id:) find one with its parent and children; null when missing", func(t *testing.T) {
		const q = `query C($id: ID, $slug: String) { category(id: $id, slug: $slug) { id name slug parent { id } children { name } } }`
		var out struct {
			Category *struct {
				ID       string   `json:"id"`
				Name     string   `json:"name"`
				Slug     string   `json:"slug"`
				Parent   *refJSON `json:"parent"`
				Children []struct {
					Name string `json:"name"`
				} `json:"children"`
			} `json:"category"`
		}
		e.Anon(t).Do(q, map[string]any{"slug": shoes.Slug}).Decode(t, &out)
		require.Equal(t, shoes.ID, out.Category.ID)
		require.Equal(t, clothing.ID, out.Category.Parent.ID)
		require.Len(t, out.Category.Children, 2)
		out.Category = nil
		e.Anon(t).Do(q, map[string]any{"id": boots.ID}).Decode(t, &out)
		require.Equal(t, "Boots", out.Category.Name)
		for _, vars := range []map[string]any{{"slug": "no-such-category"}, {"id": apitest.GlobalID("Category", 99999999)}, {"id": "!!!"}} {
			out.Category = nil
			e.Anon(t).Do(q, vars).Decode(t, &out)
			require.Nil(t, out.Category, "%v", vars)
		}
		requireTopLevelCode(t, e.Anon(t).Do(q, map[string]any{"id": boots.ID, "slug": boots.Slug}), "BAD_USER_INPUT")
		requireTopLevelCode(t, e.Anon(t).Do(q, nil), "BAD_USER_INPUT")
	})

	t.Run("invalid category input is a userError", func(t *testing.T) {
		for _, tc := range []struct {
			input map[string]any
			want  string
		}{
			{map[string]any{"name": " ", "slug": "blank-name"}, "INVALID:input.name"},
			{map[string]any{"name": strings.Repeat("c", 101)}, "INVALID:input.name"},
			{map[string]any{"name": "Fine", "slug": "Not OK"}, "INVALID:input.slug"},
			{map[string]any{"name": "Boots Again", "slug": boots.Slug}, "DUPLICATE:input.slug"},
			{map[string]any{"name": "Orphan", "parentId": apitest.GlobalID("Category", 99999999)}, "NOT_FOUND:input.parentId"},
			{map[string]any{"name": "Orphan", "parentId": "!!!"}, "NOT_FOUND:input.parentId"},
		} {
			out := mutate(t, e.Admin, categoryCreateMutation, tc.input)
			require.Equal(t, []string{tc.want}, codes(out.UserErrors), "%v", tc.input)
			require.Nil(t, out.Category)
		}
	})

	t.Run("categoryUpdate renames and moves, but never under the category's own subtree", func(t *testing.T) {
		out := mutate(t, e.Admin, categoryUpdateMutation, map[string]any{"id": hats.ID, "name": "Caps", "slug": "caps"})
		require.Empty(t, out.UserErrors)
		require.Equal(t, "Caps", out.Category.Name)
		require.Equal(t, clothing.ID, out.Category.Parent.ID, "the parent stays")

		for _, tc := range []struct{ id, parent string }{
			{clothing.ID, boots.ID}, {clothing.ID, shoes.ID}, {shoes.ID, shoes.ID}, {shoes.ID, sneakers.ID},
		} {
			out := mutate(t, e.Admin, categoryUpdateMutation, map[string]any{"id": tc.id, "parentId": tc.parent})
			require.Equal(t, []string{"INVALID:input.parentId"}, codes(out.UserErrors))
		}
		out = mutate(t, e.Admin, categoryUpdateMutation, map[string]any{"id": sneakers.ID, "parentId": garden.ID})
		require.Empty(t, out.UserErrors)
		require.Equal(t, garden.ID, out.Category.Parent.ID)
		out = mutate(t, e.Admin, categoryUpdateMutation, map[string]any{"id": shoes.ID, "parentId": garden.ID})
		require.Empty(t, out.UserErrors, "moving under a sibling's subtree is fine")
		out = mutate(t, e.Admin, categoryUpdateMutation, map[string]any{"id": shoes.ID, "makeTopLevel": true})
		require.Empty(t, out.UserErrors)
		require.Nil(t, out.Category.Parent)

		for _, tc := range []struct {
			input map[string]any
			want  string
		}{
			{map[string]any{"id": boots.ID, "slug": garden.Slug}, "DUPLICATE:input.slug"},
			{map[string]any{"id": boots.ID, "name": ""}, "INVALID:input.name"},
			{map[string]any{"id": boots.ID, "parentId": apitest.GlobalID("Category", 99999999)}, "NOT_FOUND:input.parentId"},
			{map[string]any{"id": apitest.GlobalID("Category", 99999999), "name": "Ghost"}, "NOT_FOUND:input.id"},
		} {
			out := mutate(t, e.Admin, categoryUpdateMutation, tc.input)
			require.Equal(t, []string{tc.want}, codes(out.UserErrors), "%v", tc.input)
		}

		got, err := json.Marshal(tree(t))
		require.NoError(t, err)
		require.JSONEq(t, `[
		  {"name": "Clothing & Shoes", "children": [{"name": "Caps", "children": []}]},
		  {"name": "Garden", "children": [{"name": "Sneakers", "children": []}]},
		  {"name": "Shoes", "children": [{"name": "Boots", "children": []}]}
		]`, string(got))
	})

	t.Run("categoryDelete refuses a category with subcategories or products and deletes an empty one", func(t *testing.T) {
		out := mutate(t, e.Admin, categoryDeleteMutation, map[string]any{"id": shoes.ID})
		require.Equal(t, []string{"CATEGORY_NOT_EMPTY:input.id"}, codes(out.UserErrors), "has a subcategory")
		require.Nil(t, out.DeletedID)

		in := productIn("Garden Hose")
		in["categoryId"] = hats.ID
		p := createProduct(t, e.Admin, in)
		require.Empty(t, mutate(t, e.Admin, productArchiveMutation, map[string]any{"id": p.ID}).UserErrors)
		out = mutate(t, e.Admin, categoryDeleteMutation, map[string]any{"id": hats.ID})
		require.Equal(t, []string{"CATEGORY_NOT_EMPTY:input.id"}, codes(out.UserErrors), "has an (archived) product")

		out = mutate(t, e.Admin, categoryDeleteMutation, map[string]any{"id": boots.ID})
		require.Empty(t, out.UserErrors)
		require.Equal(t, boots.ID, *out.DeletedID)
		var got struct {
			Category *categoryJSON `json:"category"`
		}
		e.Anon(t).Do(`query C($id: ID!) { category(id: $id) { id } }`, map[string]any{"id": boots.ID}).Decode(t, &got)
		require.Nil(t, got.Category)

		out = mutate(t, e.Admin, categoryDeleteMutation, map[string]any{"id": boots.ID})
		require.Equal(t, []string{"NOT_FOUND:input.id"}, codes(out.UserErrors), "already gone")
		// Shoes is empty now.
		require.Empty(t, mutate(t, e.Admin, categoryDeleteMutation, map[string]any{"id": shoes.ID}).UserErrors)

		tr, err := json.Marshal(tree(t))
		require.NoError(t, err)
		require.JSONEq(t, `[
		  {"name": "Clothing & Shoes", "children": [{"name": "Caps", "children": []}]},
		  {"name": "Garden", "children": [{"name": "Sneakers", "children": []}]}
		]`, string(tr))
	})
}

func TestNodeCatalog(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	vendorC, vendorU := e.RegisterVendor(t, "Node Vendor")
	cat := createCategory(t, e.Admin, "Node Shelf", "")
	in := productIn("Node Product", 100, 200)
	in["categoryId"] = cat.ID
	p := createProduct(t, vendorC, in)
	const nodeQ = `query N($id: ID!) { node(id: $id) { __typename id
	  ... on Product { name }
	  ... on ProductVariant { sku product { id } }
	  ... on Category { name }
	  ... on Vendor { name }
	  ... on User { email } } }`
	type nodeOut struct {
		Node *struct {
			Typename string   `json:"__typename"`
			ID       string   `json:"id"`
			Name     string   `json:"name"`
			SKU      string   `json:"sku"`
			Email    string   `json:"email"`
			Product  *refJSON `json:"product"`
		} `json:"node"`
	}
	fetch := func(t *testing.T, c *apitest.Client, id string) nodeOut {
		t.Helper()
		var out nodeOut
		c.As(t).Do(nodeQ, map[string]any{"id": id}).Decode(t, &out)
		return out
	}

	t.Run("node fetches a Product, a ProductVariant, a Category and a User", func(t *testing.T) {
		anon := e.Anon(t)
		n := fetch(t, anon, p.ID).Node
		require.Equal(t, "Product", n.Typename)
		require.Equal(t, p.ID, n.ID)
		require.Equal(t, "Node Product", n.Name)

		n = fetch(t, anon, p.Variants[1].ID).Node
		require.Equal(t, "ProductVariant", n.Typename)
		require.Equal(t, p.Variants[1].SKU, n.SKU)
		require.Equal(t, p.ID, n.Product.ID)

		n = fetch(t, anon, cat.ID).Node
		require.Equal(t, "Category", n.Typename)
		require.Equal(t, "Node Shelf", n.Name)

		// A product's vendor id is a Vendor id, not its member's User id: node answers each
		// with its own type.
		require.Equal(t, vendorU.VendorID, p.Vendor.ID)
		require.NotEqual(t, vendorU.ID, p.Vendor.ID)
		n = fetch(t, anon, p.Vendor.ID).Node
		require.Equal(t, "Vendor", n.Typename)
		require.Equal(t, "Node Vendor", n.Name)
		n = fetch(t, vendorC, vendorU.ID).Node
		require.Equal(t, "User", n.Typename)
		require.Equal(t, vendorU.Email, n.Email)
		require.Equal(t, vendorU.Email, fetch(t, e.Admin, vendorU.ID).Node.Email)
		require.Nil(t, fetch(t, anon, vendorU.ID).Node, "accounts are private")
	})

	t.Run("malformed, foreign-typed and missing IDs give null and no error", func(t *testing.T) {
		bad := []string{
			"", "!!!", "Zm9v", "UHJvZHVjdDoxMg==", strings.Repeat("A", 500),
			apitest.EncodeID("Product:abc"), apitest.EncodeID("Product:0"), apitest.EncodeID("Product:-5"), apitest.EncodeID("Product:007"),
			apitest.EncodeID("Product:1:2"), apitest.EncodeID(":1"), apitest.EncodeID("Order:1"), apitest.EncodeID("Product:99999999999999999999"),
			apitest.GlobalID("Product", 99999999), apitest.GlobalID("ProductVariant", 99999999), apitest.GlobalID("Category", 99999999), apitest.GlobalID("User", 99999999),
		}
		for _, id := range bad {
			for _, c := range []*apitest.Client{e.Anon(t), e.Admin} {
				resp := c.As(t).Do(nodeQ, map[string]any{"id": id})
				require.Empty(t, resp.Errors, id)
				require.JSONEq(t, `{"node": null}`, string(resp.Data), id)
			}
		}
		for _, tc := range []struct{ query, id string }{
			{`query Q($id: ID!) { product(id: $id) { id } }`, cat.ID},
			{`query Q($id: ID!) { product(id: $id) { id } }`, p.Variants[0].ID},
			{`query Q($id: ID!) { product(id: $id) { id } }`, "!!!"},
			{`query Q($id: ID!) { product(id: $id) { id } }`, apitest.GlobalID("Product", 99999999)},
			{`query Q($id: ID!) { category(id: $id) { id } }`, p.ID},
			{`query Q($id: ID!) { category(id: $id) { id } }`, "%%%"},
		} {
			resp := e.Admin.As(t).Do(tc.query, map[string]any{"id": tc.id})
			require.Empty(t, resp.Errors, tc.id)
			require.NotContains(t, string(resp.Data), `"id"`, tc.id)
		}
		for _, slug := range []string{"no-such-product", "Not A Slug", strings.Repeat("s", 1000)} {
			for _, q := range []string{`query Q($s: String!) { product(slug: $s) { id } }`, `query Q($s: String!) { category(slug: $s) { id } }`} {
				resp := e.Anon(t).Do(q, map[string]any{"s": slug})
				require.Empty(t, resp.Errors, "%q: %s", slug, q)
				require.NotContains(t, string(resp.Data), `"id"`)
			}
		}
	})

	t.Run("mutations answer a malformed, foreign or missing ID with NOT_FOUND on the id field", func(t *testing.T) {
		malformed := []string{"", "!!!", apitest.EncodeID("Nope:1"), apitest.EncodeID("Product:x")}
		mutations := []struct {
			name, query, field, wrongType, missing string
			input                                  func(id string) map[string]any
		}{
			{"productUpdate", productUpdateMutation, "input.id", cat.ID, apitest.GlobalID("Product", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id, "name": "x"} }},
			{"productArchive", productArchiveMutation, "input.id", p.Variants[0].ID, apitest.GlobalID("Product", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id} }},
			{"productVariantCreate", variantCreateMutation, "input.productId", cat.ID, apitest.GlobalID("Product", 99999999),
				func(id string) map[string]any {
					return map[string]any{"productId": id, "variant": variantIn(apitest.UniqueSKU("nf"), 1, 1)}
				}},
			{"productVariantUpdate", variantUpdateMutation, "input.id", p.ID, apitest.GlobalID("ProductVariant", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id, "price": 1} }},
			{"productVariantDelete", variantDeleteMutation, "input.id", p.ID, apitest.GlobalID("ProductVariant", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id} }},
			{"productVariantStockAdjust", stockAdjustMutation, "input.variantId", p.ID, apitest.GlobalID("ProductVariant", 99999999),
				func(id string) map[string]any { return map[string]any{"variantId": id, "delta": 1} }},
			{"categoryUpdate", categoryUpdateMutation, "input.id", p.ID, apitest.GlobalID("Category", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id, "name": "x"} }},
			{"categoryDelete", categoryDeleteMutation, "input.id", p.ID, apitest.GlobalID("Category", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id} }},
			{"categoryCreate parentId", categoryCreateMutation, "input.parentId", p.ID, apitest.GlobalID("Category", 99999999),
				func(id string) map[string]any { return map[string]any{"name": "Child", "parentId": id} }},
			{"productCreate categoryId", productCreateMutation, "input.categoryId", p.ID, apitest.GlobalID("Category", 99999999),
				func(id string) map[string]any { in := productIn("NF"); in["categoryId"] = id; return in }},
			{"productCreate vendorId", productCreateMutation, "input.vendorId", cat.ID, apitest.GlobalID("User", 99999999),
				func(id string) map[string]any { in := productIn("NF"); in["vendorId"] = id; return in }},
			{"accountRoleUpdate", roleUpdateMutation, "input.id", p.ID, apitest.GlobalID("User", 99999999),
				func(id string) map[string]any { return map[string]any{"id": id, "role": "VENDOR"} }},
		}
		for _, m := range mutations {
			t.Run(m.name, func(t *testing.T) {
				for _, id := range append(slices.Clone(malformed), m.wrongType, m.missing) {
					resp := e.Admin.As(t).Do(m.query, map[string]any{"input": m.input(id)})
					require.Empty(t, resp.Errors, "id %q: never a top-level error", id)
					var out map[string]payloadJSON
					require.NoError(t, json.Unmarshal(resp.Data, &out))
					for _, pl := range out {
						require.Equal(t, []string{"NOT_FOUND:" + m.field}, codes(pl.UserErrors), "id %q", id)
						require.Nil(t, pl.Product)
						require.Nil(t, pl.Variant)
						require.Nil(t, pl.Category)
						require.Nil(t, pl.DeletedID)
					}
				}
			})
		}
	})
}

func TestCatalogStatementCount(t *testing.T) {
	t.Parallel()
	// No Redis: every read must reach Postgres, so that the count means something.
	e := newCatalogEnvWith(t, nil)
	ctx := context.Background()
	cat := e.Server.App.Catalog
	admin := e.AdminViewer()
	var categoryIDs []int64
	for i := range 5 {
		name := fmt.Sprintf("Category %d", i)
		c, err := cat.CategoryCreate(ctx, admin, catalog.CategoryInput{Name: &name})
		require.NoError(t, err)
		categoryIDs = append(categoryIDs, c.ID)
	}
	var vendorIDs []int64
	for i := range 3 {
		vendorIDs = append(vendorIDs, e.DirectVendor(t, fmt.Sprintf("Vendor %d", i)).ID)
	}
	var productIDs []int64
	for i := range 100 {
		p, err := cat.Create(ctx, admin, catalog.CreateInput{
			Name: fmt.Sprintf("Product %03d", i), Slug: fmt.Sprintf("product-%03d", i), Currency: "USD",
			CategoryID: &categoryIDs[i%5], VendorID: &vendorIDs[i%3],
			Variants: []catalog.VariantInput{
				{SKU: fmt.Sprintf("P%03d-A", i), Price: int64(100 + i), Stock: i % 7},
				{SKU: fmt.Sprintf("P%03d-B", i), Price: int64(200 + i)},
			},
		})
		require.NoError(t, err)
		productIDs = append(productIDs, p.ID)
	}

	// coldCaches empties the catalog caches (products, variants, list pages and the category
	// tree) the way writes do, so that a count measures batching and not cache hits.
	coldCaches := func(t *testing.T) {
		t.Helper()
		cat.InvalidateStock(ctx, productIDs, true)
		_, err := cat.CategoryUpdate(ctx, admin, categoryIDs[0], catalog.CategoryInput{})
		require.NoError(t, err)
	}
	// statements runs one request with cold caches and returns how many SQL statements it ran,
	// as the server counts them per request (background jobs on the same pool don't count).
	statements := func(t *testing.T, c *apitest.Client, query string, vars map[string]any, out any) int64 {
		t.Helper()
		coldCaches(t)
		resp := c.As(t).Do(query, vars)
		resp.Decode(t, out)
		return resp.SQLStatements(t)
	}

	t.Run("a page of products with category, vendor and variants runs a small constant number of statements", func(t *testing.T) {
		const q = `query P($n: Int) { products(first: $n) { nodes { name category { name } vendor { name } variants { sku price { amount } stockStatus } } } }`
		type page struct {
			Products struct {
				Nodes []struct {
					Name     string   `json:"name"`
					Category *refJSON `json:"category"`
					Vendor   *refJSON `json:"vendor"`
					Variants []struct {
						SKU         string    `json:"sku"`
						Price       moneyJSON `json:"price"`
						StockStatus string    `json:"stockStatus"`
					} `json:"variants"`
				} `json:"nodes"`
			} `json:"products"`
		}
		anon := e.Anon(t)
		var big, small page
		n100 := statements(t, anon, q, map[string]any{"n": 100}, &big)
		require.Len(t, big.Products.Nodes, 100)
		for _, n := range big.Products.Nodes {
			require.NotEmpty(t, n.Category.Name, n.Name)
			require.True(t, strings.HasPrefix(n.Vendor.Name, "Vendor "), n.Name)
			require.Len(t, n.Variants, 2, n.Name)
			require.True(t, strings.HasPrefix(n.Variants[0].SKU, "P"), n.Name)
		}
		require.Equal(t, "Product 099", big.Products.Nodes[0].Name, "newest first")
		n10 := statements(t, anon, q, map[string]any{"n": 10}, &small)
		require.Len(t, small.Products.Nodes, 10)
		t.Logf("statements: %d for 100 products, %d for 10", n100, n10)
		require.LessOrEqual(t, n100, int64(6))
		require.GreaterOrEqual(t, n100, int64(3), "the caches were cold: list, variants and vendors came from Postgres")
		require.Equal(t, n10, n100, "constant, not proportional to the page")
	})

	t.Run("a product page with category, vendor and variants is one statement", func(t *testing.T) {
		// The storefront's product page (bench/loadgen's W2): the product, its variants with
		// their stock status, its category and its vendor are read together.
		const q = `query W2($id: ID!) { product(id: $id) { id name description category { name } vendor { name } variants { sku price { amount currency } stockStatus } } }`
		var out struct {
			Product struct {
				Name     string   `json:"name"`
				Category *refJSON `json:"category"`
				Vendor   *refJSON `json:"vendor"`
				Variants []struct {
					SKU         string    `json:"sku"`
					Price       moneyJSON `json:"price"`
					StockStatus string    `json:"stockStatus"`
				} `json:"variants"`
			} `json:"product"`
		}
		n := statements(t, e.Anon(t), q, map[string]any{"id": apitest.GlobalID("Product", productIDs[3])}, &out)
		require.Equal(t, "Product 003", out.Product.Name)
		require.Equal(t, "Category 3", out.Product.Category.Name)
		require.Equal(t, "Vendor 0", out.Product.Vendor.Name)
		require.Len(t, out.Product.Variants, 2)
		require.Equal(t, "P003-A", out.Product.Variants[0].SKU, "display order")
		require.EqualValues(t, 103, out.Product.Variants[0].Price.Amount)
		require.Equal(t, "LOW_STOCK", out.Product.Variants[0].StockStatus, "3 units, at or under the platform's threshold")
		require.Equal(t, "OUT_OF_STOCK", out.Product.Variants[1].StockStatus)
		require.EqualValues(t, 1, n)

		// What the query does not ask for is not read, and still costs one statement.
		var bare json.RawMessage
		require.EqualValues(t, 1, statements(t, e.Anon(t), `query($id: ID!) { product(id: $id) { name } }`,
			map[string]any{"id": apitest.GlobalID("Product", productIDs[3])}, &bare))
	})

	t.Run("an admin reading exact stock, priceRange and inStock adds no statement per product", func(t *testing.T) {
		const q = `query P($n: Int) { products(first: $n) { totalCount nodes { name inStock priceRange { min { amount } max { amount } }
		  category { name parent { name } } vendor { id name } variants { sku quantityAvailable product { name } } } } }`
		var out json.RawMessage
		n100 := statements(t, e.Admin, q, map[string]any{"n": 100}, &out)
		require.NotContains(t, string(out), `"quantityAvailable":null`)
		n10 := statements(t, e.Admin, q, map[string]any{"n": 10}, &out)
		t.Logf("statements: %d for 100 products, %d for 10", n100, n10)
		require.LessOrEqual(t, n100, int64(7))
		require.Equal(t, n10, n100)
	})

	t.Run("the default page is 20 products", func(t *testing.T) {
		conn := listProducts(t, e.Anon(t), listArgs{})
		require.Len(t, conn.Nodes, 20)
		require.True(t, conn.PageInfo.HasNextPage)
		require.Equal(t, 100, conn.TotalCount)
	})

	t.Run("the category tree runs a constant number of statements however big it is", func(t *testing.T) {
		const q = `{ categories { name children { name children { name } } } }`
		var out json.RawMessage
		flat := statements(t, e.Anon(t), q, nil, &out)
		for i, parent := range categoryIDs {
			for j := range 3 {
				name := fmt.Sprintf("Sub %d.%d", i, j)
				_, err := cat.CategoryCreate(ctx, admin, catalog.CategoryInput{Name: &name, ParentID: &parent})
				require.NoError(t, err)
			}
		}
		deep := statements(t, e.Anon(t), q, nil, &out)
		require.Contains(t, string(out), "Sub 4.2")
		t.Logf("statements: %d for 5 categories, %d for 20", flat, deep)
		require.Equal(t, flat, deep, "Category.children must not query once per category")
		require.LessOrEqual(t, deep, int64(2))
		require.Positive(t, deep, "the caches were cold: the tree was read from Postgres")
	})
}

// Prices are bounded (money.MaxPrice, 10^10 minor units) so that no line, cart or order total
// can come near int64's limit: a price of MaxInt64 was accepted, and two units of it made a cart
// subtotal of 0. At the bound a price is accepted; beyond it, or below 0, every mutation that
// sets a price refuses it with INVALID on the price's field and changes nothing.
func TestProductPriceBounds(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, _ := e.RegisterVendor(t, "Bounds")
	over := []int64{money.MaxPrice + 1, math.MaxInt64, -1, math.MinInt64}

	t.Run("productCreate", func(t *testing.T) {
		p := createProduct(t, owner, productIn("Dearest", money.MaxPrice))
		require.Equal(t, moneyJSON{money.MaxPrice, "USD"}, p.Variants[0].Price)
		require.Equal(t, moneyJSON{money.MaxPrice, "USD"}, p.PriceRange.Max)
		for _, price := range over {
			products, variants := e.RowCounts(t)
			out := mutate(t, owner, productCreateMutation, productIn("Too Dear", 100, price))
			require.Equal(t, []string{"INVALID:input.variants.1.price"}, codes(out.UserErrors), "price %d", price)
			require.Contains(t, out.UserErrors[0].Message, "10000000000")
			require.Nil(t, out.Product)
			p2, v2 := e.RowCounts(t)
			require.Equal(t, [2]int{products, variants}, [2]int{p2, v2}, "nothing created for price %d", price)
		}
	})

	t.Run("productVariantCreate", func(t *testing.T) {
		p := createProduct(t, owner, productIn("Sizes", 100))
		out := mutate(t, owner, variantCreateMutation, map[string]any{"productId": p.ID, "variant": variantIn(apitest.UniqueSKU("max"), money.MaxPrice, 1)})
		require.Empty(t, out.UserErrors)
		require.Equal(t, moneyJSON{money.MaxPrice, "USD"}, out.Variant.Price)
		before := getProduct(t, e.Admin, p.ID)
		for _, price := range over {
			out := mutate(t, owner, variantCreateMutation, map[string]any{"productId": p.ID, "variant": variantIn(apitest.UniqueSKU("over"), price, 1)})
			require.Equal(t, []string{"INVALID:input.variant.price"}, codes(out.UserErrors), "price %d", price)
			require.Nil(t, out.Variant)
		}
		require.Equal(t, before, getProduct(t, e.Admin, p.ID))
	})

	t.Run("productVariantUpdate", func(t *testing.T) {
		p := createProduct(t, owner, productIn("Repriced", 100))
		id := p.Variants[0].ID
		out := mutate(t, owner, variantUpdateMutation, map[string]any{"id": id, "price": money.MaxPrice})
		require.Empty(t, out.UserErrors)
		require.Equal(t, moneyJSON{money.MaxPrice, "USD"}, out.Variant.Price)
		before := getProduct(t, e.Admin, p.ID)
		for _, price := range over {
			out := mutate(t, owner, variantUpdateMutation, map[string]any{"id": id, "price": price})
			require.Equal(t, []string{"INVALID:input.price"}, codes(out.UserErrors), "price %d", price)
			require.Nil(t, out.Variant)
		}
		require.Equal(t, before, getProduct(t, e.Admin, p.ID))
	})
}

// Stock is a 32-bit column: repeated large adjustments took it past 2^31-1, where the guarded
// update failed with an integer overflow, answered INTERNAL. Stock now stays within
// product.MaxStock (10^9): at the bound an adjustment is accepted, one unit more is INVALID
// and changes nothing, and a stock already above the bound is never pushed into overflow.
func TestProductStockBounds(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	owner, _ := e.RegisterVendor(t, "Stockpile")
	adjust := func(t *testing.T, variantID string, delta int) payloadJSON {
		t.Helper()
		return mutate(t, owner, stockAdjustMutation, map[string]any{"variantId": variantID, "delta": delta})
	}
	stock := func(t *testing.T, variantID string) int {
		t.Helper()
		var n int
		require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
			`SELECT stock FROM product_variants WHERE id = $1`, apitest.DBID(t, variantID)).Scan(&n))
		return n
	}

	in := productIn("Stockpile")
	in["variants"] = []any{variantIn(apitest.UniqueSKU("max"), 100, catalog.MaxStock)}
	v := createProduct(t, owner, in).Variants[0].ID
	require.Equal(t, catalog.MaxStock, stock(t, v))

	require.Equal(t, []string{"INVALID:input.delta"}, codes(adjust(t, v, 1).UserErrors))
	require.Equal(t, catalog.MaxStock, stock(t, v), "nothing changed")
	require.Empty(t, adjust(t, v, -catalog.MaxStock).UserErrors)
	require.Empty(t, adjust(t, v, catalog.MaxStock).UserErrors, "back up to the bound")
	require.Equal(t, catalog.MaxStock, stock(t, v))

	// A stock above the bound (given back by cancelled orders, or set before it existed):
	// adding to it is refused, never an overflow; taking from it still works.
	_, err := e.Server.App.DB.Pool.Exec(context.Background(), `UPDATE product_variants SET stock = 2000000000 WHERE id = $1`, apitest.DBID(t, v))
	require.NoError(t, err)
	for _, delta := range []int{1, catalog.MaxStock} {
		require.Equal(t, []string{"INVALID:input.delta"}, codes(adjust(t, v, delta).UserErrors), "delta %d", delta)
	}
	require.Equal(t, 2_000_000_000, stock(t, v))
	require.Empty(t, adjust(t, v, -1).UserErrors, "a decrease is always allowed")
	require.Empty(t, adjust(t, v, -(catalog.MaxStock-1)).UserErrors)
	require.Equal(t, catalog.MaxStock, stock(t, v))
}

// deleteOnAdjust is a statement tracer that deletes a variant, through the catalog of srv, just
// before its guarded stock update runs: the race of an adjustment and a deletion, made certain.
type deleteOnAdjust struct {
	srv     *apitest.Server
	viewer  auth.Viewer
	variant int64
	errs    chan error
}

func (d *deleteOnAdjust) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if strings.Contains(data.SQL, "name: VariantAdjustStock ") {
		_, err := d.srv.App.Catalog.VariantDelete(ctx, d.viewer, d.variant)
		d.errs <- err
	}
	return ctx
}

func (d *deleteOnAdjust) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// A variant deleted between StockAdjust's read and its guarded update is NOT_FOUND, whichever
// way the delta goes: it used to be INVALID (an increase "above the bound") or
// INSUFFICIENT_STOCK (a decrease "below zero"), both about a delta that was fine.
func TestStockAdjustVariantDeletedMeanwhile(t *testing.T) {
	t.Parallel()
	e := newShopEnv(t)
	admin := e.AdminViewer()
	for _, delta := range []int{5, -5} {
		t.Run(fmt.Sprintf("delta %d", delta), func(t *testing.T) {
			vs := e.Product(t, apitest.ProductOptions{Variants: []catalog.VariantInput{
				{SKU: apitest.UniqueSKU("gone"), Name: "Gone", Price: 100, Stock: 10},
				{SKU: apitest.UniqueSKU("kept"), Name: "Kept", Price: 100, Stock: 10},
			}})
			tracer := &deleteOnAdjust{srv: e.Server, viewer: admin, variant: vs[0].VariantID, errs: make(chan error, 1)}
			traced, err := postgres.Open(context.Background(), e.Server.App.Config.DatabaseURL, postgres.Options{MaxConns: 1, Tracer: tracer})
			require.NoError(t, err)
			defer traced.Close()
			service := catalog.NewService(traced, e.Server.App.Cache, e.Server.App.Log)

			_, err = service.StockAdjust(context.Background(), admin, vs[0].VariantID, delta)
			require.NoError(t, <-tracer.errs, "the variant was deleted meanwhile")
			require.Equal(t, apperr.NotFound, apperr.CodeOf(err), "%v", err)
			require.Equal(t, "No variant has this ID.", apperr.As(err).Message)
		})
	}
}
