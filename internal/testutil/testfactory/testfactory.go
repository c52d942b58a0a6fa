// Package testfactory inserts the rows that service tests need (accounts, catalog, carts,
// orders) straight into a pgtest database, with option structs whose zero values give a valid
// row (the habit of river's rivershared/testfactory). It writes SQL, not service calls, so a
// test of one domain does not depend on another domain's use cases. The GraphQL-level
// factories are internal/apitest's; these are for service tests.
package testfactory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

var seq atomic.Int64

// next returns a number unique in the test binary, for unique emails, slugs and SKUs.
func next() int64 { return seq.Add(1) }

// User is an account row.
type User struct {
	ID    int64
	Email string
	Role  auth.Role
	// VendorID is the vendor the account is a member of (0: none). A VENDOR gets one of its
	// own, whose id is not the account's.
	VendorID int64
}

// Viewer is the user as the services see a signed-in request's account.
func (u User) Viewer() auth.Viewer {
	return auth.Viewer{UserID: u.ID, Role: u.Role, VendorID: u.VendorID}
}

// UserOpts are a user's columns; zero values give a unique CUSTOMER.
type UserOpts struct {
	Email string
	Role  auth.Role
	Name  string
	// PasswordHash is stored as is ("x", which matches no password, when empty).
	PasswordHash string
	// NoVendor leaves a VENDOR without a vendor (by default it gets an ACTIVE one of its own).
	NoVendor bool
}

// NewUser inserts an account.
func NewUser(t testing.TB, d *postgres.DB, o UserOpts) User {
	t.Helper()
	if o.Email == "" {
		o.Email = fmt.Sprintf("user%d@example.com", next())
	}
	if o.Role == "" {
		o.Role = auth.RoleCustomer
	}
	if o.PasswordHash == "" {
		o.PasswordHash = "x"
	}
	u := User{Email: o.Email, Role: o.Role}
	must(t, d.Pool.QueryRow(context.Background(),
		`INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4) RETURNING id`,
		o.Email, o.PasswordHash, o.Name, string(o.Role)).Scan(&u.ID), "insert user")
	if o.Role == auth.RoleVendor && !o.NoVendor {
		u.VendorID = NewVendor(t, d, VendorOpts{MemberID: u.ID}).ID
	}
	return u
}

// Vendor is a vendor row.
type Vendor struct {
	ID   int64
	Slug string
}

// VendorOpts are a vendor's columns; zero values give a unique ACTIVE vendor.
type VendorOpts struct {
	Name   string
	Status string
	// MemberID is an account to make its member (its role is left alone).
	MemberID int64
}

// NewVendor inserts a vendor, and its member when given.
func NewVendor(t testing.TB, d *postgres.DB, o VendorOpts) Vendor {
	t.Helper()
	n := next()
	if o.Name == "" {
		o.Name = fmt.Sprintf("Vendor %d", n)
	}
	if o.Status == "" {
		o.Status = "ACTIVE"
	}
	v := Vendor{Slug: fmt.Sprintf("vendor-%d", n)}
	must(t, d.Pool.QueryRow(context.Background(),
		`INSERT INTO vendors (name, slug, status, contact_email) VALUES ($1, $2, $3, $4) RETURNING id`,
		o.Name, v.Slug, o.Status, v.Slug+"@vendors.example.com").Scan(&v.ID), "insert vendor")
	if o.MemberID != 0 {
		_, err := d.Pool.Exec(context.Background(), `UPDATE users SET vendor_id = $1 WHERE id = $2`, v.ID, o.MemberID)
		must(t, err, "add vendor member")
	}
	return v
}

// Category is a category row.
type Category struct {
	ID   int64
	Slug string
}

// CategoryOpts are a category's columns; zero values give a unique top-level category.
type CategoryOpts struct {
	Name     string
	Slug     string
	ParentID *int64
}

// NewCategory inserts a category.
func NewCategory(t testing.TB, d *postgres.DB, o CategoryOpts) Category {
	t.Helper()
	n := next()
	if o.Name == "" {
		o.Name = fmt.Sprintf("Category %d", n)
	}
	if o.Slug == "" {
		o.Slug = fmt.Sprintf("category-%d", n)
	}
	c := Category{Slug: o.Slug}
	must(t, d.Pool.QueryRow(context.Background(),
		`INSERT INTO categories (name, slug, parent_id) VALUES ($1, $2, $3) RETURNING id`,
		o.Name, o.Slug, o.ParentID).Scan(&c.ID), "insert category")
	return c
}

// Product is a product row and its variants' ids, in the order of ProductOpts.Variants.
type Product struct {
	ID       int64
	Slug     string
	Currency string
	Variants []int64
}

// Variant is the product's first variant.
func (p Product) Variant() int64 { return p.Variants[0] }

// ProductOpts are a product's columns; zero values give a unique ACTIVE USD product of the
// platform with one variant priced 1000 with 10 in stock.
type ProductOpts struct {
	Name       string
	Slug       string
	Currency   string
	Archived   bool
	VendorID   *int64
	CategoryID *int64
	Variants   []VariantOpts
}

// VariantOpts are a variant's columns; zero values give a unique SKU priced 1000 with 10 in
// stock. Set NoStock for a stock of 0.
type VariantOpts struct {
	SKU     string
	Name    string
	Price   int64
	Stock   int
	NoStock bool
	Deleted bool
}

// NewProduct inserts a product and its variants, with its min and max prices set as the
// catalog service keeps them.
func NewProduct(t testing.TB, d *postgres.DB, o ProductOpts) Product {
	t.Helper()
	ctx := context.Background()
	n := next()
	if o.Name == "" {
		o.Name = fmt.Sprintf("Product %d", n)
	}
	if o.Slug == "" {
		o.Slug = fmt.Sprintf("product-%d", n)
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if len(o.Variants) == 0 {
		o.Variants = []VariantOpts{{}}
	}
	status := "ACTIVE"
	if o.Archived {
		status = "ARCHIVED"
	}
	p := Product{Slug: o.Slug, Currency: o.Currency}
	must(t, d.Pool.QueryRow(ctx, `
		INSERT INTO products (name, slug, currency, status, vendor_id, category_id, vendor_active)
		VALUES ($1, $2, $3, $4, $5, $6, COALESCE((SELECT v.status = 'ACTIVE' FROM vendors v WHERE v.id = $5), true)) RETURNING id`,
		o.Name, o.Slug, o.Currency, status, o.VendorID, o.CategoryID).Scan(&p.ID), "insert product")
	for i, v := range o.Variants {
		if v.SKU == "" {
			v.SKU = fmt.Sprintf("SKU-%d-%d", n, i)
		}
		if v.Price == 0 {
			v.Price = 1000
		}
		if v.Stock == 0 && !v.NoStock {
			v.Stock = 10
		}
		var id int64
		must(t, d.Pool.QueryRow(ctx, `
			INSERT INTO product_variants (product_id, sku, name, price_amount, currency, stock, position, deleted_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END) RETURNING id`,
			p.ID, v.SKU, v.Name, v.Price, o.Currency, v.Stock, i, v.Deleted).Scan(&id), "insert variant")
		p.Variants = append(p.Variants, id)
	}
	_, err := d.Pool.Exec(ctx, `
		UPDATE products SET
			min_price = COALESCE((SELECT min(price_amount) FROM product_variants WHERE product_id = $1 AND deleted_at IS NULL), 0),
			max_price = COALESCE((SELECT max(price_amount) FROM product_variants WHERE product_id = $1 AND deleted_at IS NULL), 0)
		WHERE id = $1`, p.ID)
	must(t, err, "set product prices")
	return p
}

// Stock returns a variant's stock.
func Stock(t testing.TB, d *postgres.DB, variantID int64) int {
	t.Helper()
	var n int
	must(t, d.Pool.QueryRow(context.Background(), `SELECT stock FROM product_variants WHERE id = $1`, variantID).Scan(&n), "read stock")
	return n
}

// CartLine puts quantity of a variant in a customer's cart, creating the cart if needed, and
// returns the cart's id.
func CartLine(t testing.TB, d *postgres.DB, userID, variantID int64, quantity int) int64 {
	t.Helper()
	ctx := context.Background()
	var cartID int64
	must(t, d.Pool.QueryRow(ctx, `
		INSERT INTO carts (user_id) VALUES ($1)
		ON CONFLICT (user_id) DO UPDATE SET updated_at = now()
		RETURNING id`, userID).Scan(&cartID), "upsert cart")
	_, err := d.Pool.Exec(ctx, `
		INSERT INTO cart_lines (cart_id, variant_id, quantity) VALUES ($1, $2, $3)
		ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = EXCLUDED.quantity`, cartID, variantID, quantity)
	must(t, err, "insert cart line")
	return cartID
}

// Order is an order row and its lines' ids.
type Order struct {
	ID      int64
	UserID  int64
	Total   int64
	LineIDs []int64
}

// OrderOpts are an order's columns. UserID is required; zero values give a PENDING USD order
// with one line of a new product (2 at 1000).
type OrderOpts struct {
	UserID   int64
	Status   string
	Currency string
	Lines    []LineOpts
}

// LineOpts are an order line's columns. VariantID and ProductID name an existing variant
// (a new product's when zero).
type LineOpts struct {
	ProductID int64
	VariantID int64
	VendorID  *int64
	Quantity  int
	UnitPrice int64
}

// NewOrder inserts an order with its lines and its first event (in its status), as checkout
// writes them (a vendor line keeps its vendor's commission rate); it takes no stock.
func NewOrder(t testing.TB, d *postgres.DB, o OrderOpts) Order {
	t.Helper()
	ctx := context.Background()
	if o.UserID == 0 {
		t.Fatal("testfactory: NewOrder needs a UserID")
	}
	if o.Status == "" {
		o.Status = "PENDING"
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if len(o.Lines) == 0 {
		o.Lines = []LineOpts{{}}
	}
	var total int64
	for i := range o.Lines {
		l := &o.Lines[i]
		if l.Quantity == 0 {
			l.Quantity = 2
		}
		if l.UnitPrice == 0 {
			l.UnitPrice = 1000
		}
		if l.VariantID == 0 {
			p := NewProduct(t, d, ProductOpts{Currency: o.Currency, VendorID: l.VendorID,
				Variants: []VariantOpts{{Price: l.UnitPrice}}})
			l.ProductID, l.VariantID = p.ID, p.Variant()
		}
		total += l.UnitPrice * int64(l.Quantity)
	}
	address, _ := json.Marshal(map[string]string{"name": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"})
	out := Order{UserID: o.UserID, Total: total}
	must(t, d.Pool.QueryRow(ctx, `
		INSERT INTO orders (user_id, status, currency, total_amount, shipping_address)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		o.UserID, o.Status, o.Currency, total, address).Scan(&out.ID), "insert order")
	for _, l := range o.Lines {
		var id int64
		must(t, d.Pool.QueryRow(ctx, `
			INSERT INTO order_lines (order_id, product_id, variant_id, vendor_id, product_name, variant_name, sku, unit_price, currency, quantity, line_total, commission_bps)
			SELECT $1, v.product_id, v.id, $3::bigint, p.name, v.name, v.sku, $4::bigint, $5, $6::integer, $4::bigint * $6::integer,
			       (SELECT vd.commission_bps FROM vendors vd WHERE vd.id = $3::bigint)
			FROM product_variants v JOIN products p ON p.id = v.product_id WHERE v.id = $2
			RETURNING id`,
			out.ID, l.VariantID, l.VendorID, l.UnitPrice, o.Currency, l.Quantity).Scan(&id), "insert order line")
		out.LineIDs = append(out.LineIDs, id)
	}
	_, err := d.Pool.Exec(ctx, `INSERT INTO order_events (order_id, sequence, status, actor_id, note) VALUES ($1, 1, $2, $3, 'order placed')`,
		out.ID, o.Status, o.UserID)
	must(t, err, "insert order event")
	return out
}

// OrderStatus returns an order's status as stored.
func OrderStatus(t testing.TB, d *postgres.DB, orderID int64) string {
	t.Helper()
	var s string
	must(t, d.Pool.QueryRow(context.Background(), `SELECT status::text FROM orders WHERE id = $1`, orderID).Scan(&s), "read order status")
	return s
}

// Count returns the number of rows of a table matching where (a trusted SQL fragment).
func Count(t testing.TB, d *postgres.DB, table, where string, args ...any) int {
	t.Helper()
	if where == "" {
		where = "true"
	}
	var n int
	must(t, d.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n), "count "+table)
	return n
}

// Codes returns the apperr codes err carries: one per entry of an apperr.List, or the code of
// the *apperr.Error in its chain (INTERNAL for anything else); nil for nil.
func Codes(err error) []apperr.Code {
	if err == nil {
		return nil
	}
	var list apperr.List
	if errors.As(err, &list) {
		out := make([]apperr.Code, len(list))
		for i, e := range list {
			out[i] = e.Code
		}
		return out
	}
	return []apperr.Code{apperr.CodeOf(err)}
}

// Fields returns the field paths of err's user errors, joined with ".", in order.
func Fields(err error) []string {
	var list apperr.List
	if !errors.As(err, &list) {
		if e := apperr.As(err); e != nil {
			list = apperr.List{e}
		}
	}
	var out []string
	for _, e := range list {
		s := ""
		for i, f := range e.Field {
			if i > 0 {
				s += "."
			}
			s += f
		}
		out = append(out, s)
	}
	return out
}

func must(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("testfactory: %s: %v", what, err)
	}
}
