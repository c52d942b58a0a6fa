package graph_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// facetsQuery lists a page and its facets; every facet field is read.
const facetsQuery = `query F($filter: ProductFilter) { products(first: 50, filter: $filter) {
  totalCount nodes { name }
  facets {
    categories { category { id name } count }
    priceBuckets { min max count }
    ratings { minRating count }
    stock { inStock outOfStock }
    attributes { key count values { value count } }
  } } }`

type facetsJSON struct {
	Categories []struct {
		Category refJSON `json:"category"`
		Count    int     `json:"count"`
	} `json:"categories"`
	PriceBuckets []struct {
		Min   int64  `json:"min"`
		Max   *int64 `json:"max"`
		Count int    `json:"count"`
	} `json:"priceBuckets"`
	Ratings []struct {
		MinRating int `json:"minRating"`
		Count     int `json:"count"`
	} `json:"ratings"`
	Stock struct {
		InStock    int `json:"inStock"`
		OutOfStock int `json:"outOfStock"`
	} `json:"stock"`
	Attributes []struct {
		Key    string `json:"key"`
		Count  int    `json:"count"`
		Values []struct {
			Value string `json:"value"`
			Count int    `json:"count"`
		} `json:"values"`
	} `json:"attributes"`
}

// Compact forms of the facets, for comparing in one assertion.
func (f facetsJSON) categories() []string {
	out := []string{}
	for _, c := range f.Categories {
		out = append(out, fmt.Sprintf("%s:%d", c.Category.Name, c.Count))
	}
	return out
}

func (f facetsJSON) prices() []string {
	out := []string{}
	for _, b := range f.PriceBuckets {
		hi := "up"
		if b.Max != nil {
			hi = fmt.Sprint(*b.Max)
		}
		out = append(out, fmt.Sprintf("%d-%s:%d", b.Min, hi, b.Count))
	}
	return out
}

func (f facetsJSON) ratings() []string {
	out := []string{}
	for _, r := range f.Ratings {
		out = append(out, fmt.Sprintf("%d+:%d", r.MinRating, r.Count))
	}
	return out
}

func (f facetsJSON) attributes() []string {
	out := []string{}
	for _, a := range f.Attributes {
		s := fmt.Sprintf("%s(%d)", a.Key, a.Count)
		for _, v := range a.Values {
			s += fmt.Sprintf(" %s:%d", v.Value, v.Count)
		}
		out = append(out, s)
	}
	return out
}

type facetPage struct {
	Products struct {
		TotalCount int `json:"totalCount"`
		Nodes      []struct {
			Name string `json:"name"`
		} `json:"nodes"`
		Facets facetsJSON `json:"facets"`
	} `json:"products"`
}

func facetsOf(t *testing.T, c *apitest.Client, filter map[string]any) facetPage {
	t.Helper()
	var out facetPage
	c.As(t).Do(facetsQuery, map[string]any{"filter": filter}).Decode(t, &out)
	return out
}

// facetCatalog is the catalog of the facet tests: four products customers see, an archived one
// and one of a suspended vendor, which only an admin counts.
type facetCatalog struct {
	e                   *apitest.Env
	apparel, tops, home categoryJSON
	north               string
}

func newFacetCatalog(t *testing.T, e *apitest.Env) facetCatalog {
	t.Helper()
	fc := facetCatalog{e: e}
	fc.apparel = createCategory(t, e.Admin, "Apparel", "")
	fc.tops = createCategory(t, e.Admin, "Tops", fc.apparel.ID)
	fc.home = createCategory(t, e.Admin, "Home", "")
	north, bad := e.DirectVendor(t, "North Co"), e.DirectVendor(t, "Bad Co")
	fc.north = apitest.GlobalID("Vendor", north.ID)
	badID := apitest.GlobalID("Vendor", bad.ID)

	type variant struct {
		price int64
		stock int
	}
	mk := func(name, categoryID, vendorID string, attrs map[string]string, vs ...variant) productJSON {
		in := productIn(name)
		in["categoryId"] = categoryID
		in["vendorId"] = vendorID
		var as []any
		for k, v := range attrs {
			as = append(as, map[string]any{"key": k, "value": v})
		}
		in["attributes"] = as
		variants := make([]any, len(vs))
		for i, v := range vs {
			variants[i] = variantIn(apitest.UniqueSKU("fa"), v.price, v.stock)
		}
		in["variants"] = variants
		return createProduct(t, e.Admin, in)
	}
	rate := func(p productJSON, count, sum int) {
		_, err := e.Server.App.DB.Pool.Exec(context.Background(),
			`UPDATE products SET rating_count = $2, rating_sum = $3 WHERE id = $1`, apitest.DBID(t, p.ID), count, sum)
		require.NoError(t, err)
	}
	red := mk("Red Hoodie", fc.tops.ID, fc.north, map[string]string{"color": "red", "material": "cotton"}, variant{1500, 5})
	rate(red, 2, 9) // 4.5
	blue := mk("Blue Hoodie", fc.tops.ID, fc.north, map[string]string{"color": "blue", "material": "cotton"}, variant{3000, 0})
	rate(blue, 1, 3) // 3.0
	mk("Rain Jacket", fc.apparel.ID, fc.north, map[string]string{"color": "red"}, variant{800, 2}, variant{12000, 0})
	lamp := mk("Desk Lamp", fc.home.ID, fc.north, map[string]string{"color": "black"}, variant{2500, 1})
	rate(lamp, 5, 11) // 2.2
	archived := mk("Archived Lamp", fc.home.ID, fc.north, map[string]string{"color": "black"}, variant{2500, 3})
	rate(archived, 1, 5)
	require.Empty(t, mutate(t, e.Admin, productArchiveMutation, map[string]any{"id": archived.ID}).UserErrors)
	suspended := mk("Suspended Tee", fc.tops.ID, badID, map[string]string{"color": "red"}, variant{1500, 3})
	rate(suspended, 1, 5)
	require.Equal(t, "SUSPENDED", decide(t, e.Admin, "vendorSuspend", badID, "Chargebacks.").Vendor.Status)
	return fc
}

func TestFacetCounts(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	fc := newFacetCatalog(t, e)
	anon := e.Anon(t)

	t.Run("unfiltered: every facet over what customers see", func(t *testing.T) {
		page := facetsOf(t, anon, nil)
		f := page.Products.Facets
		require.Equal(t, 4, page.Products.TotalCount)
		require.Equal(t, []string{"Apparel:3", "Tops:2", "Home:1"}, f.categories(), "a category counts its subcategories' products")
		require.Equal(t, fc.apparel.ID, f.Categories[0].Category.ID)
		// The jacket's variants span 800 to 12000: it counts in every bucket between.
		require.Equal(t, []string{"0-999:1", "1000-2499:2", "2500-4999:3", "5000-9999:1", "10000-24999:1"}, f.prices())
		require.Equal(t, []string{"4+:1", "3+:2", "2+:3", "1+:3"}, f.ratings(), "the jacket has no reviews")
		require.Equal(t, 3, f.Stock.InStock)
		require.Equal(t, 1, f.Stock.OutOfStock)
		require.Equal(t, []string{"color(4) red:2 black:1 blue:1", "material(2) cotton:2"}, f.attributes())
	})

	t.Run("a category filter: the category facet ignores it, the others apply it", func(t *testing.T) {
		page := facetsOf(t, anon, map[string]any{"categoryId": fc.tops.ID})
		f := page.Products.Facets
		require.Equal(t, 2, page.Products.TotalCount)
		require.Equal(t, []string{"Apparel:3", "Tops:2", "Home:1"}, f.categories())
		require.Equal(t, []string{"1000-2499:1", "2500-4999:1"}, f.prices())
		require.Equal(t, []string{"4+:1", "3+:2", "2+:2", "1+:2"}, f.ratings())
		require.Equal(t, 1, f.Stock.InStock)
		require.Equal(t, 1, f.Stock.OutOfStock)
		require.Equal(t, []string{"color(2) blue:1 red:1", "material(2) cotton:2"}, f.attributes())
	})

	t.Run("price and stock filters: each of their facets ignores its own", func(t *testing.T) {
		filter := map[string]any{"inStock": true, "minPrice": 2500, "maxPrice": 4999}
		page := facetsOf(t, anon, filter)
		f := page.Products.Facets
		require.Equal(t, 2, page.Products.TotalCount, "the jacket (800 to 12000) and the lamp (2500)")
		require.Equal(t, []string{"Apparel:1", "Home:1"}, f.categories())
		require.Equal(t, []string{"0-999:1", "1000-2499:2", "2500-4999:2", "5000-9999:1", "10000-24999:1"}, f.prices(), "in stock, any price")
		require.Equal(t, []string{"2+:1", "1+:1"}, f.ratings())
		require.Equal(t, 2, f.Stock.InStock, "priced 2500 to 4999, any stock")
		require.Equal(t, 1, f.Stock.OutOfStock, "the blue hoodie")
		require.Equal(t, []string{"color(2) black:1 red:1"}, f.attributes())
	})

	t.Run("a minimum rating: the rating facet ignores it, the others apply it", func(t *testing.T) {
		page := facetsOf(t, anon, map[string]any{"minRating": 3})
		f := page.Products.Facets
		require.Equal(t, 2, page.Products.TotalCount, "the red hoodie (4.5) and the blue one (3.0)")
		require.Equal(t, []string{"Apparel:2", "Tops:2"}, f.categories())
		require.Equal(t, []string{"1000-2499:1", "2500-4999:1"}, f.prices())
		require.Equal(t, []string{"4+:1", "3+:2", "2+:3", "1+:3"}, f.ratings(), "as without the filter")
		require.Equal(t, 1, f.Stock.InStock)
		require.Equal(t, 1, f.Stock.OutOfStock)
		require.Equal(t, []string{"color(2) blue:1 red:1", "material(2) cotton:2"}, f.attributes())
	})

	t.Run("a bucket's count is what filtering on it lists", func(t *testing.T) {
		for _, b := range facetsOf(t, anon, nil).Products.Facets.PriceBuckets {
			filter := map[string]any{"minPrice": b.Min}
			if b.Max != nil {
				filter["maxPrice"] = *b.Max
			}
			require.Equal(t, b.Count, facetsOf(t, anon, filter).Products.TotalCount, "%+v", b)
		}
	})

	t.Run("search and vendor filters restrict every facet", func(t *testing.T) {
		page := facetsOf(t, anon, map[string]any{"search": "hoodie", "vendorId": fc.north})
		f := page.Products.Facets
		require.Equal(t, 2, page.Products.TotalCount)
		require.Equal(t, []string{"Apparel:2", "Tops:2"}, f.categories())
		require.Equal(t, 1, f.Stock.InStock)
		require.Equal(t, 1, f.Stock.OutOfStock)
		require.Equal(t, []string{"4+:1", "3+:2", "2+:2", "1+:2"}, f.ratings())
		require.Empty(t, facetsOf(t, anon, map[string]any{"search": "xylophone"}).Products.Facets.Categories)
	})

	t.Run("a malformed category filter is refused", func(t *testing.T) {
		resp := anon.As(t).Do(facetsQuery, map[string]any{"filter": map[string]any{"categoryId": "nope"}})
		require.Len(t, resp.Errors, 1)
		require.Equal(t, "BAD_USER_INPUT", resp.Errors[0].Extensions["code"])
	})
}

func TestFacetVisibility(t *testing.T) {
	t.Parallel()
	e := newCatalogEnv(t)
	newFacetCatalog(t, e)
	customer, _ := e.Customer(t)

	for name, c := range map[string]*apitest.Client{"anonymous": e.Anon(t), "customer": customer} {
		t.Run(name+": archived products and a suspended vendor's are not counted", func(t *testing.T) {
			f := facetsOf(t, c, nil).Products.Facets
			require.Equal(t, []string{"Apparel:3", "Tops:2", "Home:1"}, f.categories())
			require.Equal(t, 3, f.Stock.InStock)
			require.Equal(t, []string{"4+:1", "3+:2", "2+:3", "1+:3"}, f.ratings())
			require.Equal(t, []string{"color(4) red:2 black:1 blue:1", "material(2) cotton:2"}, f.attributes())
		})
	}

	t.Run("an admin counts everything, as it lists everything", func(t *testing.T) {
		page := facetsOf(t, e.Admin, nil)
		f := page.Products.Facets
		require.Equal(t, 6, page.Products.TotalCount)
		require.Equal(t, []string{"Apparel:4", "Tops:3", "Home:2"}, f.categories())
		require.Equal(t, 5, f.Stock.InStock)
		require.Equal(t, []string{"4+:3", "3+:4", "2+:5", "1+:5"}, f.ratings(), "both hidden products are rated 5")
		require.Equal(t, []string{"color(6) red:3 black:2 blue:1", "material(2) cotton:2"}, f.attributes())
	})
}

// Facets cost one statement, only when asked for, however many products, categories and
// attribute values there are (the N+1 guard).
func TestFacetStatementCount(t *testing.T) {
	t.Parallel()
	// No Redis: every read must reach Postgres, so that the count means something.
	e := newCatalogEnvWith(t, nil)
	ctx := context.Background()
	cat := e.Server.App.Catalog
	admin := e.AdminViewer()
	var categoryIDs, productIDs []int64
	addProducts := func(t *testing.T, from, to int) {
		for i := from; i < to; i++ {
			name := fmt.Sprintf("Facet category %d", i)
			c, err := cat.CategoryCreate(ctx, admin, catalog.CategoryInput{Name: &name})
			require.NoError(t, err)
			categoryIDs = append(categoryIDs, c.ID)
			p, err := cat.Create(ctx, admin, catalog.CreateInput{
				Name: fmt.Sprintf("Facet product %03d", i), Slug: fmt.Sprintf("facet-product-%03d", i), Currency: "USD",
				CategoryID: &c.ID, Attributes: []catalog.KV{{Key: fmt.Sprintf("key%d", i%12), Value: fmt.Sprintf("value%d", i)}},
				Variants: []catalog.VariantInput{{SKU: fmt.Sprintf("FS%03d", i), Price: int64(100 * i), Stock: i % 2}},
			})
			require.NoError(t, err)
			productIDs = append(productIDs, p.ID)
		}
	}
	statements := func(t *testing.T, query string) int64 {
		t.Helper()
		// Cold caches, as writes leave them.
		cat.InvalidateStock(ctx, productIDs, true)
		_, err := cat.CategoryUpdate(ctx, admin, categoryIDs[0], catalog.CategoryInput{})
		require.NoError(t, err)
		resp := e.Anon(t).As(t).Do(query, nil)
		require.Empty(t, resp.Errors)
		return resp.SQLStatements(t)
	}
	const (
		plain   = `{ products(first: 10, filter: {minPrice: 100}) { totalCount nodes { name category { name } } } }`
		faceted = `{ products(first: 10, filter: {minPrice: 100}) { totalCount nodes { name category { name } }
		  facets { categories { category { name parent { name } } count } priceBuckets { min count } ratings { count }
		           stock { inStock } attributes { key values { value count } } } } }`
	)
	addProducts(t, 0, 5)
	small := statements(t, faceted)
	addProducts(t, 5, 60)
	large := statements(t, faceted)
	without := statements(t, plain)
	t.Logf("statements: %d without facets, %d with (5 products), %d with (60 products)", without, small, large)
	require.Equal(t, without+1, large, "the facets are one statement")
	require.Equal(t, small, large, "constant, whatever the catalog")
}
