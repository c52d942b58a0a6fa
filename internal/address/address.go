// Package address is customers' address books: at most MaxPerAccount saved postal addresses
// per account, one of them the default for shipping and one (the same or another) for billing,
// and the postal rules (ISO 3166-1 countries, postal-code formats) that the book and checkout's
// inline shipping address share. Checkout copies an address onto the order, so an order never
// changes with the book.
package address

import (
	"time"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// MaxPerAccount bounds an account's address book.
const MaxPerAccount = 50

// LimitReached refuses an address beyond MaxPerAccount.
const LimitReached apperr.Code = "ADDRESS_LIMIT_REACHED"

// Address is a saved address of an account.
type Address struct {
	ID     int64
	UserID int64
	Postal
	DefaultShipping bool
	DefaultBilling  bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// GlobalID is the address's opaque API ID.
func (a Address) GlobalID() string { return gid.Encode(gid.Address, a.ID) }

// Use is what an account's default address is for.
type Use string

// The uses of a default address.
const (
	Shipping Use = "SHIPPING"
	Billing  Use = "BILLING"
)

// Valid reports whether u is one of the uses.
func (u Use) Valid() bool { return u == Shipping || u == Billing }

// Book is an account's addresses, oldest first, with its defaults.
type Book []Address

// DefaultFor is the book's default address for use, if it has one.
func (b Book) DefaultFor(use Use) (Address, bool) {
	for _, a := range b {
		if use == Shipping && a.DefaultShipping || use == Billing && a.DefaultBilling {
			return a, true
		}
	}
	return Address{}, false
}
