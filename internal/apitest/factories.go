// This file holds the factories of the catalog and of orders: products and categories made
// through the services (fast), carts and orders made through the API (as a customer makes
// them), and direct reads of what the database holds.

package apitest

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/catalog"
)

// Variant is a variant created for a test.
type Variant struct {
	ProductID, VariantID int64
	GID, ProductGID      string
	SKU, Name            string
	ProductName          string
	Price                int64
}

// ProductOptions describe a product to create; variants get unique SKUs.
type ProductOptions struct {
	// Name defaults to a unique one.
	Name string
	// Currency defaults to USD.
	Currency string
	// VendorID is the selling vendor (nil: the shop).
	VendorID *int64
	Variants []catalog.VariantInput
}

// Product creates a product through the catalog service and returns its variants in order.
func (e *Env) Product(t *testing.T, spec ProductOptions) []Variant {
	t.Helper()
	ctx := context.Background()
	if spec.Currency == "" {
		spec.Currency = "USD"
	}
	if spec.Name == "" {
		spec.Name = "Product " + uuid.NewString()[:8]
	}
	for i := range spec.Variants {
		if spec.Variants[i].SKU == "" {
			spec.Variants[i].SKU = UniqueSKU("SKU")
		}
	}
	p, err := e.Server.App.Catalog.Create(ctx, e.AdminViewer(), catalog.CreateInput{
		Name: spec.Name, Slug: UniqueSlug("p"), Currency: spec.Currency, VendorID: spec.VendorID, Variants: spec.Variants,
	})
	require.NoError(t, err)
	vs, err := e.Server.App.Catalog.VariantsByProductIDs(ctx, []int64{p.ID})
	require.NoError(t, err)
	require.Len(t, vs[p.ID], len(spec.Variants))
	out := make([]Variant, len(vs[p.ID]))
	for i, v := range vs[p.ID] {
		out[i] = Variant{
			ProductID: p.ID, VariantID: v.ID, GID: GlobalID("ProductVariant", v.ID), ProductGID: GlobalID("Product", p.ID),
			SKU: v.SKU, Name: v.Name, ProductName: p.Name, Price: v.Price.Amount,
		}
	}
	return out
}

// Variant creates a one-variant USD product.
func (e *Env) Variant(t *testing.T, price int64, stock int) Variant {
	t.Helper()
	return e.Product(t, ProductOptions{Variants: []catalog.VariantInput{{Name: "Default", Price: price, Stock: stock}}})[0]
}

// CategoryOptions describe a category to create.
type CategoryOptions struct {
	// Name defaults to a unique one; the slug is always unique.
	Name string
	// ParentID is the parent category (nil: a root category).
	ParentID *int64
}

// Category creates a category through the catalog service.
func (e *Env) Category(t *testing.T, opts CategoryOptions) catalog.Category {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "Category " + uuid.NewString()[:8]
	}
	slug := UniqueSlug(catalog.Slugify(opts.Name))
	c, err := e.Server.App.Catalog.CategoryCreate(context.Background(), e.AdminViewer(), catalog.CategoryInput{
		Name: &opts.Name, Slug: &slug, ParentID: opts.ParentID,
	})
	require.NoError(t, err)
	return c
}

// SetPrice changes a variant's price through the catalog service.
func (e *Env) SetPrice(t *testing.T, v Variant, price int64) {
	t.Helper()
	_, err := e.Server.App.Catalog.VariantUpdate(context.Background(), e.AdminViewer(), catalog.VariantUpdateInput{ID: v.VariantID, Price: &price})
	require.NoError(t, err)
}

// Stock reads a variant's stock straight from the database.
func (e *Env) Stock(t *testing.T, v Variant) int {
	t.Helper()
	var n int
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT stock FROM product_variants WHERE id = $1`, v.VariantID).Scan(&n))
	return n
}

// Count runs a SELECT count(*)-like query.
func (e *Env) Count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// OrdersOf is how many orders a user has.
func (e *Env) OrdersOf(t *testing.T, userID int64) int {
	t.Helper()
	return e.Count(t, `SELECT count(*) FROM orders WHERE user_id = $1`, userID)
}

// RowCounts counts every product and variant row (archived and deleted ones included).
func (e *Env) RowCounts(t *testing.T) (products, variants int) {
	t.Helper()
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(),
		"SELECT (SELECT count(*) FROM products), (SELECT count(*) FROM product_variants)").Scan(&products, &variants))
	return products, variants
}

// Address is a valid shipping address.
func Address() map[string]any {
	return map[string]any{
		"name": "Ada Lovelace", "line1": "12 Analytical Row", "line2": "Flat 3", "city": "London",
		"region": "Greater London", "postalCode": "N1 9GU", "country": "GB", "phone": "+44 20 7946 0000",
	}
}

// CartLine is a line to put in a cart.
type CartLine struct {
	VariantGID string
	Quantity   int
}

const cartAddMutation = `mutation Add($input: CartItemAddInput!) { cartItemAdd(input: $input) {
  cart { totalQuantity } userErrors { field message code } } }`

// FillCart adds lines to c's cart through the API, failing on any user error, and returns the
// cart's total quantity.
func FillCart(t *testing.T, c *Client, lines ...CartLine) int {
	t.Helper()
	total := 0
	for _, l := range lines {
		var out struct {
			P struct {
				Cart *struct {
					TotalQuantity int `json:"totalQuantity"`
				} `json:"cart"`
				UserErrors []UserError `json:"userErrors"`
			} `json:"cartItemAdd"`
		}
		c.As(t).Do(cartAddMutation, map[string]any{"input": map[string]any{"variantId": l.VariantGID, "quantity": l.Quantity}}).Decode(t, &out)
		require.NotNil(t, out.P.UserErrors, "userErrors is never null")
		require.Empty(t, out.P.UserErrors)
		require.NotNil(t, out.P.Cart, "a successful cart mutation returns the cart")
		total = out.P.Cart.TotalQuantity
	}
	return total
}

// Order is an order placed by a test: a fresh customer bought quantity units of a fresh
// variant.
type Order struct {
	ID      int64
	GID     string
	Owner   *Client
	Variant Variant
	Total   int64
	Intent  string
}

// OrderOptions describe an order to place.
type OrderOptions struct {
	// Price of the variant (default 1000).
	Price int64
	// Stock of the variant (default 10).
	Stock int
	// Quantity bought (default 1).
	Quantity int
}

const checkoutMutation = `mutation Checkout($input: CheckoutInput!) { checkout(input: $input) {
  order { id status total { amount currency } } payment { intentId status }
  userErrors { field message code } } }`

// Order places an order through the API, as a new customer with a fresh variant; the checkout
// must have created the payment intent. The order awaits payment.
func (e *Env) Order(t *testing.T, opts OrderOptions) Order {
	t.Helper()
	if opts.Price == 0 {
		opts.Price = 1000
	}
	if opts.Stock == 0 {
		opts.Stock = 10
	}
	if opts.Quantity == 0 {
		opts.Quantity = 1
	}
	v := e.Variant(t, opts.Price, opts.Stock)
	c, _ := e.Customer(t)
	FillCart(t, c, CartLine{VariantGID: v.GID, Quantity: opts.Quantity})
	var out struct {
		P struct {
			Order *struct {
				ID string `json:"id"`
			} `json:"order"`
			Payment *struct {
				IntentID string `json:"intentId"`
			} `json:"payment"`
			UserErrors []UserError `json:"userErrors"`
		} `json:"checkout"`
	}
	c.As(t).Do(checkoutMutation, map[string]any{"input": map[string]any{
		"idempotencyKey": uuid.NewString(), "shippingAddress": Address(),
	}}).Decode(t, &out)
	require.NotNil(t, out.P.UserErrors, "userErrors is never null")
	require.Empty(t, out.P.UserErrors)
	require.NotNil(t, out.P.Order)
	require.NotNil(t, out.P.Payment, "checkout creates the payment intent")
	return Order{
		ID: OrderNumber(t, out.P.Order.ID), GID: out.P.Order.ID, Owner: c, Variant: v,
		Total: opts.Price * int64(opts.Quantity), Intent: out.P.Payment.IntentID,
	}
}

// OrderStatus reads an order's status straight from the database.
func (e *Env) OrderStatus(t *testing.T, orderID int64) string {
	t.Helper()
	var s string
	require.NoError(t, e.Server.App.DB.Pool.QueryRow(context.Background(), `SELECT status::text FROM orders WHERE id = $1`, orderID).Scan(&s))
	return s
}
