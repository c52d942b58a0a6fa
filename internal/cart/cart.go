// Package cart is shopping carts: one active cart per customer, persisted in PostgreSQL, and
// anonymous carts found by a token that merge into the customer's cart on sign-in. Prices are
// always the catalog's current ones; checkout freezes them.
package cart

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/money"
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
	Variant   catalog.Variant
	Quantity  int
	UnitPrice money.Money
	// Available is false when the product was archived, the variant deleted, or stock is
	// short; such lines stay in the cart, flagged, never silently dropped.
	Available         bool
	AvailableQuantity int
}

// Cart is a cart as its owner sees it.
type Cart struct {
	// id is the cart's global ID (see idOf): set by the service, read through GlobalID.
	id    string
	Lines []Line
	// Token is set when a new cart token was issued: the client must keep it.
	Token string
	// Merged is true when the guest token a customer presented is spent: its cart was just
	// merged into the customer's, or it has none to merge. The client may forget it.
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

// GlobalID is the cart's opaque API ID.
func (c Cart) GlobalID() string { return c.id }

// idOf is the global ID of o's cart, "" when o has neither a user nor a well-formed token. It
// derives from the owner, never from the cart's row, so it is known before the row exists and
// does not change when the first change creates the row: a customer's cart is
// CustomerCart:<user id> (a guest cart merged in on sign-in takes this ID), a guest's is
// GuestCart:<the first 63 bits of the token's SHA-256>, which does not reveal the token.
func idOf(o Owner) string {
	switch {
	case o.UserID != nil:
		return gid.Encode(gid.CustomerCart, *o.UserID)
	case validToken(o.Token):
		return guestCartID(o.Token)
	}
	return ""
}

func guestCartID(token string) string {
	key := int64(binary.BigEndian.Uint64(hashToken(token)) >> 1)
	if key == 0 { // a global ID's id is positive; one token in 2^63 shares this key
		key = 1
	}
	return gid.Encode(gid.GuestCart, key)
}

// tokenBytes is the size of a cart token's random value.
const tokenBytes = 32

// validToken reports whether token is well formed: the canonical base64url spelling of 32
// bytes, as newToken issues them. A well-formed token whose cart does not exist yet is used
// as it is (the first change creates the cart under it), so that the ID given out with the
// token holds. The server cannot tell its own tokens from ones a client made up, and need
// not: a token only opens the cart stored under it, so choosing one gives nobody else's cart
// (that takes a token the server issued to its holder: 256 random bits), only an empty cart
// of one's own.
func validToken(token string) bool {
	if len(token) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && len(b) == tokenBytes && base64.RawURLEncoding.EncodeToString(b) == token
}

// newToken issues a cart token: 32 random bytes, base64url-encoded.
func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cart token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

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
