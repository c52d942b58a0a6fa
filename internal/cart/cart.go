// Package cart is shopping carts: one active cart per customer, persisted in PostgreSQL, and
// anonymous carts found by a token that merge into the customer's cart on sign-in. Prices are
// always the catalog's current ones; checkout freezes them.
package cart

import (
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/product"
)

// MaxLineQuantity is the most units of one variant a cart may hold.
const MaxLineQuantity = 1000

// Owner is whose cart: a signed-in customer, an anonymous token, or both (just signed in, with
// an anonymous cart to merge).
type Owner struct {
	UserID *int64
	Token  string
}

// Line is a cart line with what it costs now and whether it can be bought.
type Line struct {
	Variant   product.Variant
	Quantity  int
	UnitPrice money.Money
	LineTotal money.Money
	// Available is false when the product was archived, the variant deleted, or stock is
	// short; such lines stay in the cart, flagged, never silently dropped.
	Available         bool
	AvailableQuantity int
}

// Cart is a cart as its owner sees it.
type Cart struct {
	// ID is the cart's row; 0 for an anonymous visitor who has no cart yet.
	ID    int64
	Lines []Line
	// Token is set when a new anonymous cart was created: the client must keep it.
	Token string
	// Merged is true when an anonymous cart was just merged into the customer's: the client
	// may forget its token.
	Merged bool
}

// GlobalID is the cart's opaque API ID. An anonymous visitor's cart that does not exist yet
// gets the ID of id 0, which is well formed but never resolves (gid.Decode refuses it).
func (c Cart) GlobalID() string { return gid.Encode(gid.Cart, c.ID) }

// TotalQuantity is the number of units in the cart.
func (c Cart) TotalQuantity() int {
	n := 0
	for _, l := range c.Lines {
		n += l.Quantity
	}
	return n
}

// Subtotal is the sum of the lines at current prices, or nil for an empty cart.
func (c Cart) Subtotal() *money.Money {
	if len(c.Lines) == 0 {
		return nil
	}
	total := money.New(0, c.Lines[0].UnitPrice.Currency)
	for _, l := range c.Lines {
		if sum, err := total.Add(l.LineTotal); err == nil {
			total = sum
		}
	}
	return &total
}
