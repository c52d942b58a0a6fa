package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apitest"
	"github.com/shopgraph/shopgraph/internal/catalog"
)

// Shared helpers of the catalog API tests (catalog_api_test.go).

// productFragment is every public field of a product; quantityAvailable is left out because it
// errors for most viewers and is asserted on its own.
const productFragment = `
fragment ProductFields on Product {
  id name slug description status inStock createdAt updatedAt
  category { id name slug }
  vendor { id name }
  attributes { key value }
  imageUrls
  priceRange { min { amount currency } max { amount currency } }
  variants { id sku name options { name value } price { amount currency } stockStatus }
}`

const variantFragment = `
fragment VariantFields on ProductVariant {
  id sku name options { name value } price { amount currency } stockStatus
  product { id }
}`

const userErrorFields = `userErrors { field message code }`

const (
	productCreateMutation  = `mutation PC($input: ProductCreateInput!) { productCreate(input: $input) { product { ...ProductFields } ` + userErrorFields + ` } }` + productFragment
	productUpdateMutation  = `mutation PU($input: ProductUpdateInput!) { productUpdate(input: $input) { product { ...ProductFields } ` + userErrorFields + ` } }` + productFragment
	productArchiveMutation = `mutation PA($input: ProductArchiveInput!) { productArchive(input: $input) { product { ...ProductFields } ` + userErrorFields + ` } }` + productFragment
	variantCreateMutation  = `mutation VC($input: ProductVariantCreateInput!) { productVariantCreate(input: $input) { variant { ...VariantFields } ` + userErrorFields + ` } }` + variantFragment
	variantUpdateMutation  = `mutation VU($input: ProductVariantUpdateInput!) { productVariantUpdate(input: $input) { variant { ...VariantFields } ` + userErrorFields + ` } }` + variantFragment
	variantDeleteMutation  = `mutation VD($input: ProductVariantDeleteInput!) { productVariantDelete(input: $input) { product { ...ProductFields } ` + userErrorFields + ` } }` + productFragment
	stockAdjustMutation    = `mutation SA($input: ProductVariantStockAdjustInput!) { productVariantStockAdjust(input: $input) { variant { ...VariantFields quantityAvailable } ` + userErrorFields + ` } }` + variantFragment
	categoryCreateMutation = `mutation CC($input: CategoryCreateInput!) { categoryCreate(input: $input) { category { id name slug parent { id slug } } ` + userErrorFields + ` } }`
	categoryUpdateMutation = `mutation CU($input: CategoryUpdateInput!) { categoryUpdate(input: $input) { category { id name slug parent { id slug } } ` + userErrorFields + ` } }`
	categoryDeleteMutation = `mutation CD($input: CategoryDeleteInput!) { categoryDelete(input: $input) { deletedId ` + userErrorFields + ` } }`
	roleUpdateMutation     = `mutation R($input: AccountRoleUpdateInput!) { accountRoleUpdate(input: $input) { user { id role } ` + userErrorFields + ` } }`

	productByIDQuery   = `query P($id: ID!) { product(id: $id) { ...ProductFields } }` + productFragment
	productBySlugQuery = `query P($slug: String!) { product(slug: $slug) { ...ProductFields } }` + productFragment
	// quantityQuery reads the guarded field beside public ones.
	quantityQuery = `query Q($id: ID!) { product(id: $id) { name variants { sku stockStatus quantityAvailable } } }`
)

type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type kvJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type optionJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type refJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

type variantJSON struct {
	ID                string       `json:"id"`
	SKU               string       `json:"sku"`
	Name              string       `json:"name"`
	Options           []optionJSON `json:"options"`
	Price             moneyJSON    `json:"price"`
	StockStatus       string       `json:"stockStatus"`
	QuantityAvailable *int         `json:"quantityAvailable"`
	Product           *refJSON     `json:"product"`
}

type productJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Slug        string    `json:"slug"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	InStock     bool      `json:"inStock"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Category    *refJSON  `json:"category"`
	Vendor      *refJSON  `json:"vendor"`
	Attributes  []kvJSON  `json:"attributes"`
	ImageUrls   []string  `json:"imageUrls"`
	PriceRange  struct {
		Min moneyJSON `json:"min"`
		Max moneyJSON `json:"max"`
	} `json:"priceRange"`
	Variants []variantJSON `json:"variants"`
}

// skus lists the product's variant SKUs in display order.
func (p productJSON) skus() []string {
	out := make([]string, len(p.Variants))
	for i, v := range p.Variants {
		out[i] = v.SKU
	}
	return out
}

type categoryJSON struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Slug   string   `json:"slug"`
	Parent *refJSON `json:"parent"`
}

// payloadJSON is the shape of every catalog mutation payload.
type payloadJSON struct {
	Product    *productJSON        `json:"product"`
	Variant    *variantJSON        `json:"variant"`
	Category   *categoryJSON       `json:"category"`
	User       *apitest.User       `json:"user"`
	DeletedID  *string             `json:"deletedId"`
	UserErrors []apitest.UserError `json:"userErrors"`
}

// mutate runs a one-field mutation with {input} and returns its payload, failing on any
// top-level error.
func mutate(t *testing.T, c *apitest.Client, query string, input map[string]any) payloadJSON {
	t.Helper()
	var out map[string]payloadJSON
	c.As(t).Do(query, map[string]any{"input": input}).Decode(t, &out)
	require.Len(t, out, 1)
	for _, p := range out {
		require.NotNil(t, p.UserErrors, "userErrors is never null")
		return p
	}
	panic("unreachable")
}

// newCatalogEnv starts a server (on Redis when `make test` found one, so that any catalog cache
// is exercised too) with an admin signed in by bearer token.
func newCatalogEnv(t *testing.T) *apitest.Env {
	t.Helper()
	return apitest.NewEnv(t, apitest.EnvOptions{Redis: true, AdminSignsIn: true})
}

// newCatalogEnvWith is newCatalogEnv with env, and Redis only when env names one.
func newCatalogEnvWith(t *testing.T, env map[string]string) *apitest.Env {
	t.Helper()
	return apitest.NewEnv(t, apitest.EnvOptions{Env: env, AdminSignsIn: true})
}

// variantIn is a ProductVariantInput.
func variantIn(sku string, price int64, stock int) map[string]any {
	return map[string]any{"sku": sku, "price": price, "stock": stock}
}

// productIn is a valid ProductCreateInput with one variant per price (stock 10 each).
func productIn(name string, prices ...int64) map[string]any {
	if len(prices) == 0 {
		prices = []int64{1000}
	}
	variants := make([]any, len(prices))
	for i, p := range prices {
		variants[i] = variantIn(apitest.UniqueSKU("sku"), p, 10)
	}
	return map[string]any{"name": name, "slug": apitest.UniqueSlug("p"), "currency": "USD", "variants": variants}
}

// createProduct creates a product through the API and fails on any error.
func createProduct(t *testing.T, c *apitest.Client, input map[string]any) productJSON {
	t.Helper()
	p := mutate(t, c, productCreateMutation, input)
	require.Empty(t, p.UserErrors)
	require.NotNil(t, p.Product)
	return *p.Product
}

// createCategory creates a category through the API (parentID may be "").
func createCategory(t *testing.T, c *apitest.Client, name, parentID string) categoryJSON {
	t.Helper()
	in := map[string]any{"name": name, "slug": apitest.UniqueSlug(catalog.Slugify(name))}
	if parentID != "" {
		in["parentId"] = parentID
	}
	p := mutate(t, c, categoryCreateMutation, in)
	require.Empty(t, p.UserErrors)
	require.NotNil(t, p.Category)
	return *p.Category
}

// getProduct reads product(id:) as c; nil when it is not visible.
func getProduct(t *testing.T, c *apitest.Client, id string) *productJSON {
	t.Helper()
	var out struct {
		Product *productJSON `json:"product"`
	}
	c.As(t).Do(productByIDQuery, map[string]any{"id": id}).Decode(t, &out)
	return out.Product
}

// connectionJSON is a page of products with just enough of each to check order.
type connectionJSON struct {
	Edges []struct {
		Cursor string `json:"cursor"`
		Node   struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"node"`
	} `json:"edges"`
	Nodes []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"nodes"`
	PageInfo struct {
		HasNextPage     bool    `json:"hasNextPage"`
		HasPreviousPage bool    `json:"hasPreviousPage"`
		StartCursor     *string `json:"startCursor"`
		EndCursor       *string `json:"endCursor"`
	} `json:"pageInfo"`
	TotalCount int `json:"totalCount"`
}

func (c connectionJSON) ids() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.ID
	}
	return out
}

func (c connectionJSON) names() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Name
	}
	return out
}

const productsQuery = `query L($first: Int, $after: String, $last: Int, $before: String, $filter: ProductFilter, $sort: ProductSort) {
  products(first: $first, after: $after, last: $last, before: $before, filter: $filter, sort: $sort) {
    edges { cursor node { id name } }
    nodes { id name status }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}`

// listArgs are the products(...) arguments; zero values are left out.
type listArgs struct {
	First, Last   int
	After, Before string
	Filter        map[string]any
	Sort          string
}

func (a listArgs) vars() map[string]any {
	v := map[string]any{}
	if a.First != 0 {
		v["first"] = a.First
	}
	if a.Last != 0 {
		v["last"] = a.Last
	}
	if a.After != "" {
		v["after"] = a.After
	}
	if a.Before != "" {
		v["before"] = a.Before
	}
	if a.Filter != nil {
		v["filter"] = a.Filter
	}
	if a.Sort != "" {
		v["sort"] = a.Sort
	}
	return v
}

// listProducts runs products(...) and checks the connection's own invariants.
func listProducts(t *testing.T, c *apitest.Client, a listArgs) connectionJSON {
	t.Helper()
	var out struct {
		Products connectionJSON `json:"products"`
	}
	c.As(t).Do(productsQuery, a.vars()).Decode(t, &out)
	conn := out.Products
	require.Len(t, conn.Edges, len(conn.Nodes))
	for i, e := range conn.Edges {
		require.Equal(t, conn.Nodes[i].ID, e.Node.ID, "edges and nodes agree")
		require.NotEmpty(t, e.Cursor)
	}
	if n := len(conn.Edges); n > 0 {
		require.Equal(t, conn.Edges[0].Cursor, *conn.PageInfo.StartCursor)
		require.Equal(t, conn.Edges[n-1].Cursor, *conn.PageInfo.EndCursor)
	} else {
		require.Nil(t, conn.PageInfo.StartCursor)
		require.Nil(t, conn.PageInfo.EndCursor)
	}
	return conn
}

// walkForward pages through a list with first=size and returns every id in order.
func walkForward(t *testing.T, c *apitest.Client, a listArgs, size int) []string {
	t.Helper()
	ids := []string{}
	a.First, a.Last, a.Before, a.After = size, 0, "", ""
	for page := 0; ; page++ {
		require.Less(t, page, 1000, "the walk does not end")
		conn := listProducts(t, c, a)
		require.LessOrEqual(t, len(conn.Nodes), size)
		require.Equal(t, a.After != "", conn.PageInfo.HasPreviousPage, "hasPreviousPage on page %d", page)
		ids = append(ids, conn.ids()...)
		if !conn.PageInfo.HasNextPage {
			return ids
		}
		require.Len(t, conn.Nodes, size, "a page that is not the last is full")
		a.After = *conn.PageInfo.EndCursor
	}
}

// walkBackward pages from the end of a list with last=size and returns every id in list order.
func walkBackward(t *testing.T, c *apitest.Client, a listArgs, size int) []string {
	t.Helper()
	ids := []string{}
	a.First, a.Last, a.Before, a.After = 0, size, "", ""
	for page := 0; ; page++ {
		require.Less(t, page, 1000, "the walk does not end")
		conn := listProducts(t, c, a)
		require.LessOrEqual(t, len(conn.Nodes), size)
		require.Equal(t, a.Before != "", conn.PageInfo.HasNextPage, "hasNextPage on backward page %d", page)
		ids = append(conn.ids(), ids...)
		if !conn.PageInfo.HasPreviousPage {
			return ids
		}
		require.Len(t, conn.Nodes, size, "a page that is not the first is full")
		a.Before = *conn.PageInfo.StartCursor
	}
}

// errorCodes lists the extensions.code of every top-level error.
func errorCodes(r *apitest.Response) []string {
	out := make([]string, len(r.Errors))
	for i, e := range r.Errors {
		out[i], _ = e.Extensions["code"].(string)
	}
	return out
}

// requireTopLevelCode asserts that r failed with exactly one top-level error of code.
func requireTopLevelCode(t *testing.T, r *apitest.Response, code string) {
	t.Helper()
	require.Equal(t, []string{code}, errorCodes(r), "errors: %+v", r.Errors)
}

// quantityView is product(id:) { name variants { sku stockStatus quantityAvailable } } as one
// viewer sees it, with the paths of its FORBIDDEN errors.
type quantityView struct {
	Name      string
	Variants  []variantJSON
	Forbidden []string
	Other     []string
}

func readQuantities(t *testing.T, c *apitest.Client, productID string) quantityView {
	t.Helper()
	resp := c.As(t).Do(quantityQuery, map[string]any{"id": productID})
	var out struct {
		Product *struct {
			Name     string        `json:"name"`
			Variants []variantJSON `json:"variants"`
		} `json:"product"`
	}
	require.NoError(t, json.Unmarshal(resp.Data, &out))
	require.NotNil(t, out.Product, "the rest of the product is still there; errors: %+v", resp.Errors)
	v := quantityView{Name: out.Product.Name, Variants: out.Product.Variants}
	for _, e := range resp.Errors {
		parts := make([]string, len(e.Path))
		for i, p := range e.Path {
			parts[i] = fmt.Sprint(p)
		}
		if e.Extensions["code"] == "FORBIDDEN" {
			v.Forbidden = append(v.Forbidden, strings.Join(parts, "."))
		} else {
			v.Other = append(v.Other, fmt.Sprintf("%s: %v", strings.Join(parts, "."), e.Extensions["code"]))
		}
	}
	return v
}
