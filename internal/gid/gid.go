// Package gid encodes shopgraph's opaque global IDs (Relay's node IDs): a type name and a
// database id, base64url-encoded. Domain types expose theirs through a GlobalID method so
// the GraphQL layer can read it like a field instead of running a resolver per object.
package gid

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Type names of global IDs.
const (
	User     = "User"
	Product  = "Product"
	Variant  = "ProductVariant"
	Category = "Category"
	Order    = "Order"
	// EmailDelivery is one email owed to one recipient (internal/notify).
	EmailDelivery = "EmailDelivery"
	Vendor        = "Vendor"
	// OrderLine is one line of an order (fulfillmentCreate names lines by it).
	OrderLine = "OrderLine"
	// Fulfillment is a shipment of some of an order's lines (internal/order).
	Fulfillment = "Fulfillment"
	// StockMovement is one change of a variant's stock (internal/catalog's stock ledger).
	StockMovement = "StockMovement"
	// VendorLedgerEntry is one entry of a vendor's money ledger (internal/vendor).
	VendorLedgerEntry = "VendorLedgerEntry"
	// A cart's ID derives from its owner (cart.Cart.GlobalID), one type per kind of owner.
	CustomerCart = "CustomerCart"
	GuestCart    = "GuestCart"
)

// Review is a customer's review of a product (internal/review).
const Review = "Review"

// Address is a saved address of a customer's address book (internal/address).
const Address = "Address"

// Encode returns the global ID of the object typ/id.
func Encode(typ string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typ + ":" + strconv.FormatInt(id, 10)))
}

// Decode returns the type and id of a global ID; ok is false for anything malformed.
func Decode(s string) (typ string, id int64, ok bool) {
	if len(s) > 100 {
		return "", 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return "", 0, false
	}
	typ, num, found := strings.Cut(string(raw), ":")
	if !found || typ == "" {
		return "", 0, false
	}
	id, err = strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != num {
		return "", 0, false
	}
	// One object, one spelling: base64 decoding tolerates unused trailing bits and line
	// breaks, which would let clients and caches see two IDs for one object.
	if Encode(typ, id) != s {
		return "", 0, false
	}
	return typ, id, true
}
