package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// PageParts says which of a product's relations its page shows, so that the statement reads
// only those.
type PageParts struct {
	Variants bool
	Category bool
	Vendor   bool
}

// ProductPage is a product and the relations its page asked for, read together.
type ProductPage struct {
	Product Product
	// Variants are the live variants in display order, each with its effective low-stock
	// threshold; nil when not asked for.
	Variants []Variant
	// Category is nil when not asked for or when the product has none.
	Category *Category
	// VendorRow is the vendor's row, for the vendor domain to convert (vendor imports catalog,
	// so catalog cannot name vendor.Vendor); nil when not asked for or when the product is the
	// platform's. Whether the viewer may see the vendor is the vendor domain's to decide.
	VendorRow *db.Vendor
}

// ProductPage returns a product v may see with the relations parts asks for, in one statement.
// It reads PostgreSQL, not the cache: the page is one round trip either way, and the variants'
// thresholds and the vendor, which the cache does not hold, would cost statements of their own.
// Errors: NOT_FOUND (also for one v may not see).
func (s *Service) ProductPage(ctx context.Context, v *auth.Viewer, id int64, parts PageParts) (ProductPage, error) {
	row, err := s.reads(ctx).ProductPageGetByID(ctx, db.ProductPageGetByIDParams{
		ID: id, WithVariants: parts.Variants, WithCategory: parts.Category, WithVendor: parts.Vendor,
	})
	if err != nil {
		return ProductPage{}, postgres.MapError(err, "product")
	}
	p, err := visible(v, productFromRow(productRow{
		ID: row.ID, Name: row.Name, Slug: row.Slug, Description: row.Description,
		CategoryID: row.CategoryID, VendorID: row.VendorID, Attributes: row.Attributes, ImageURLs: row.ImageURLs,
		Status: row.Status, Currency: row.Currency, MinPrice: row.MinPrice, MaxPrice: row.MaxPrice,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, VendorActive: row.VendorActive,
	}))
	if err != nil {
		return ProductPage{}, err
	}
	page := ProductPage{Product: p}
	if parts.Variants {
		if page.Variants, err = pageVariants(p.ID, row.Variants); err != nil {
			return ProductPage{}, err
		}
	}
	if row.CategoryName != nil {
		c := categoryFromRow(db.Category{ID: *row.CategoryID, Name: *row.CategoryName, Slug: deref(row.CategorySlug), ParentID: row.CategoryParentID})
		page.Category = &c
	}
	if row.VendorName != nil {
		page.VendorRow = &db.Vendor{
			ID: *row.VendorID, Name: *row.VendorName, Slug: deref(row.VendorSlug), Description: deref(row.VendorDescription),
			LogoUrl: row.VendorLogoUrl, Status: deref(row.VendorStatus), ContactEmail: deref(row.VendorContactEmail),
			CommissionBps: deref(row.VendorCommissionBps), ApplicantID: row.VendorApplicantID,
			CreatedAt: deref(row.VendorCreatedAt), UpdatedAt: deref(row.VendorUpdatedAt), LowStockThreshold: row.VendorLowStockThreshold,
		}
	}
	return page, nil
}

// pageVariant is one element of ProductPageGetByID's variants array.
type pageVariant struct {
	ID        int64           `json:"id"`
	SKU       string          `json:"sku"`
	Name      string          `json:"name"`
	Options   json.RawMessage `json:"options"`
	Price     int64           `json:"price"`
	Currency  string          `json:"currency"`
	Stock     int32           `json:"stock"`
	Position  int32           `json:"position"`
	Threshold int             `json:"threshold"`
}

func pageVariants(productID int64, raw []byte) ([]Variant, error) {
	var in []pageVariant
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("decode the variants of product %d: %w", productID, err)
	}
	out := make([]Variant, len(in))
	for i, r := range in {
		out[i] = Variant{
			ID: r.ID, ProductID: productID, SKU: r.SKU, Name: r.Name, Options: kvsFromJSON(r.Options),
			Price: money.New(r.Price, r.Currency), Stock: r.Stock, Position: r.Position,
			LowStockThreshold: &in[i].Threshold,
		}
	}
	return out, nil
}
