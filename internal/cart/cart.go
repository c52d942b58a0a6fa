// Package cart is shopping carts: one active cart per customer, persisted in PostgreSQL, and
// anonymous carts found by a token that merge into the customer's cart on sign-in. Prices are
// always the catalog's current ones; checkout freezes them.
package cart

import (
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/product"
)

// MaxLineQuantity is the most units of one variant a cart may hold: money's bound on a line's
// quantity, which with its bound on prices keeps every line total far from overflow. The
// cart_lines table checks the same figure.
const MaxLineQuantity = money.MaxQuantity

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

// LineTotal is UnitPrice × Quantity. Prices and quantities are bounded, so it fails
// (AMOUNT_TOO_LARGE) only for a price stored before the bounds: never a wrapped amount.
func (l Line) LineTotal() (money.Money, error) {
	line, err := l.UnitPrice.Mul(int64(l.Quantity))
	if err != nil {
		return money.Money{}, money.TooLarge(err, "This line's total", tooLargeRemedy)
	}
	return line, nil
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

// Subtotal is the sum of the lines at current prices, or nil for an empty cart. A cart worth
// more than money.MaxAmount has no subtotal but AMOUNT_TOO_LARGE (and cannot be checked out):
// each line is bounded, but not the number of lines.
func (c Cart) Subtotal() (*money.Money, error) {
	if len(c.Lines) == 0 {
		return nil, nil
	}
	var total money.Total
	for _, l := range c.Lines {
		if _, err := total.AddLine(l.UnitPrice, int64(l.Quantity)); err != nil {
			return nil, money.TooLarge(err, "The cart's total", tooLargeRemedy)
		}
	}
	sum := total.Sum()
	return &sum, nil
}

// tooLargeRemedy is what a customer can do about a cart beyond money.MaxAmount.
const tooLargeRemedy = "remove items to bring it down"
