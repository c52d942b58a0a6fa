// Package catalog is what the shop sells: products with their variants (SKU, options, price, stock),
// the category tree, keyset-paginated listing with full-text and typo-tolerant search, and the
// rules of who may see and change what (policy.go).
package catalog

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/money"
)

// Status is whether a product is offered.
type Status string

// Product statuses.
const (
	StatusActive   Status = "ACTIVE"
	StatusArchived Status = "ARCHIVED"
)

// LowStockThreshold is the platform's low-stock threshold: a variant's effective threshold
// (the stock at or below which customers see LOW_STOCK) when neither the variant nor its
// vendor sets one (SQL's low_stock_threshold_of).
const LowStockThreshold = 5

// StockStatus is availability as customers see it.
type StockStatus string

// Stock statuses.
const (
	InStock    StockStatus = "IN_STOCK"
	LowStock   StockStatus = "LOW_STOCK"
	OutOfStock StockStatus = "OUT_OF_STOCK"
)

// KV is a key/value pair (a product attribute or a variant option).
type KV struct {
	Key   string
	Value string
}

// Product is a product without its variants.
type Product struct {
	ID          int64
	Name        string
	Slug        string
	Description string
	CategoryID  *int64
	VendorID    *int64
	Attributes  []KV
	ImageURLs   []string
	Status      Status
	Currency    string
	MinPrice    int64
	MaxPrice    int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// VendorActive is false while the product's vendor is not ACTIVE (suspended, say): then
	// customers do not see the product, as if it were archived.
	VendorActive bool
}

// PriceRange is the cheapest and dearest price of a product's live variants.
type PriceRange struct {
	Min money.Money
	Max money.Money
}

// PriceRange is the cheapest and dearest live variant.
func (p Product) PriceRange() PriceRange {
	return PriceRange{Min: money.New(p.MinPrice, p.Currency), Max: money.New(p.MaxPrice, p.Currency)}
}

// Variant is a purchasable version of a product.
type Variant struct {
	ID        int64
	ProductID int64
	SKU       string
	Name      string
	Options   []KV
	Price     money.Money
	Stock     int32
	Position  int32
	DeletedAt *time.Time
	// LowStockThreshold is the variant's effective low-stock threshold when its reader read it
	// too (VariantsByProductIDs, VariantsByIDs); never cached: a vendor's default changes it.
	LowStockThreshold *int `json:"-"`
}

// StockStatusAt is the variant's availability for customers, given its effective low-stock
// threshold (Service.LowStockThresholds).
func (v Variant) StockStatusAt(threshold int) StockStatus {
	return StockStatusOf(int(v.Stock), v.DeletedAt != nil, threshold)
}

// Available is whether customers can buy the variant at all (it is not OUT_OF_STOCK, whatever
// its threshold).
func (v Variant) Available() bool { return v.Stock > 0 && v.DeletedAt == nil }

// StockStatusOf is what customers see of stock under a low-stock threshold.
func StockStatusOf(stock int, deleted bool, threshold int) StockStatus {
	switch {
	case stock <= 0 || deleted:
		return OutOfStock
	case stock <= threshold:
		return LowStock
	}
	return InStock
}

// GlobalID is the product's opaque API ID.
func (p Product) GlobalID() string { return gid.Encode(gid.Product, p.ID) }

// GlobalID is the variant's opaque API ID.
func (v Variant) GlobalID() string { return gid.Encode(gid.Variant, v.ID) }

// GlobalID is the category's opaque API ID.
func (c Category) GlobalID() string { return gid.Encode(gid.Category, c.ID) }

// Category is a node of the category tree.
type Category struct {
	ID       int64
	Name     string
	Slug     string
	ParentID *int64
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slugify derives a slug from a name: lower-case ASCII letters and digits joined by hyphens.
func Slugify(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
			hyphen = false
		case !hyphen && b.Len() > 0:
			b.WriteByte('-')
			hyphen = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > 100 {
		s = strings.TrimSuffix(s[:100], "-")
	}
	return s
}

// validator collects every field problem of an input before anything is written.
type validator struct{ errs apperr.List }

func (v *validator) add(message string, field ...string) {
	v.errs = append(v.errs, apperr.FieldError(apperr.Invalid, message, field...))
}

func (v *validator) length(s string, min, max int, label string, field ...string) {
	if n := utf8.RuneCountInString(strings.TrimSpace(s)); n < min || n > max {
		if min > 0 {
			v.add(label+" must be "+strconv.Itoa(min)+" to "+strconv.Itoa(max)+" characters.", field...)
		} else {
			v.add(label+" must be at most "+strconv.Itoa(max)+" characters.", field...)
		}
	}
}

func (v *validator) slug(s string, field ...string) {
	if len(s) > 100 || !slugPattern.MatchString(s) {
		v.add("Slug must be lower-case letters, digits and single hyphens (at most 100).", field...)
	}
}

func (v *validator) pairs(kvs []KV, keyMax, valueMax int, label string, field ...string) {
	seen := map[string]bool{}
	for _, kv := range kvs {
		v.length(kv.Key, 1, keyMax, label+" name", field...)
		v.length(kv.Value, 0, valueMax, label+" value", field...)
		if seen[kv.Key] {
			v.add(label+" names must be unique ("+kv.Key+" repeats).", field...)
		}
		seen[kv.Key] = true
	}
}

func (v *validator) imageURLs(urls []string, field ...string) {
	if len(urls) > 20 {
		v.add("At most 20 images.", field...)
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > 2048 {
			v.add("Image URLs must be http(s) URLs of at most 2048 characters.", field...)
			return
		}
	}
}

func (v *validator) err() error { return v.errs.Err() }

// sortedKVs returns kvs sorted by key, for stable output.
func sortedKVs(kvs []KV) []KV {
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].Key < kvs[j].Key })
	return kvs
}
