// Package seed fills a database with demo data: a category tree, a few vendors and generated
// products. `make run` seeds an empty database; `shopgraph seed --products N` makes a large
// catalog for benchmarks.
package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// VendorPassword is the password of the demo vendors (development only).
const VendorPassword = "shopgraph-vendor"

// tree is the demo category tree: top-level name → subcategories.
var tree = []struct {
	name     string
	children []string
}{
	{"Clothing", []string{"Tops", "Outerwear", "Accessories"}},
	{"Electronics", []string{"Audio", "Lighting"}},
	{"Home", []string{"Kitchen", "Living Room", "Office"}},
	{"Outdoors", []string{"Bags", "Drinkware"}},
}

// demoVendors are the demo vendors, each with one member account (email, VendorPassword).
var demoVendors = []struct{ email, name, description string }{
	{"northwind@vendors.shopgraph.local", "Northwind Goods", "Everyday goods, shipped from the north."},
	{"acme@vendors.shopgraph.local", "Acme Outfitters", "Clothing and gear for the outdoors."},
	{"hearth@vendors.shopgraph.local", "Hearth & Home", "Things for the kitchen and the living room."},
}

// VendorEmails are the demo vendors' sign-in emails (their password is VendorPassword), for
// `make run` to print.
func VendorEmails() []string {
	emails := make([]string, len(demoVendors))
	for i, v := range demoVendors {
		emails[i] = v.email
	}
	return emails
}

// Catalog creates the demo categories and vendors (or reuses them) and n products.
func Catalog(ctx context.Context, accounts *account.Service, vendors *vendor.Service, catalogService *catalog.Service, n int) error {
	admin := auth.Viewer{Role: auth.RoleAdmin}
	existing, err := catalogService.Categories(ctx)
	if err != nil {
		return err
	}
	bySlug := map[string]int64{}
	for _, c := range existing {
		bySlug[c.Slug] = c.ID
	}
	ensure := func(name string, parent *int64) (int64, error) {
		if id, ok := bySlug[catalog.Slugify(name)]; ok {
			return id, nil
		}
		c, err := catalogService.CategoryCreate(ctx, admin, catalog.CategoryInput{Name: &name, ParentID: parent})
		if err != nil {
			return 0, err
		}
		bySlug[c.Slug] = c.ID
		return c.ID, nil
	}
	var leaves []int64
	for _, top := range tree {
		parent, err := ensure(top.name, nil)
		if err != nil {
			return fmt.Errorf("category %s: %w", top.name, err)
		}
		for _, child := range top.children {
			id, err := ensure(child, &parent)
			if err != nil {
				return fmt.Errorf("category %s: %w", child, err)
			}
			leaves = append(leaves, id)
		}
	}
	vendorIDs := []int64{0} // 0: a platform product
	for _, v := range demoVendors {
		u, err := accounts.EnsureVendor(ctx, v.email, VendorPassword, v.name)
		if err != nil {
			return fmt.Errorf("vendor %s: %w", v.email, err)
		}
		vd, err := vendors.EnsureMember(ctx, catalog.Slugify(v.name), vendor.Profile{
			Name: v.name, Description: v.description, ContactEmail: v.email,
		}, u.ID)
		if err != nil {
			return fmt.Errorf("vendor %s: %w", v.name, err)
		}
		vendorIDs = append(vendorIDs, vd.ID)
	}
	prefix := fmt.Sprintf("p%x", time.Now().UnixNano()/1e6)
	if err := catalogService.SeedBulk(ctx, n, prefix, leaves, vendorIDs); err != nil {
		return err
	}
	return nil
}

// IfEmpty seeds n products when the catalog has none, and reports whether it did.
func IfEmpty(ctx context.Context, accounts *account.Service, vendors *vendor.Service, catalogService *catalog.Service, n int) (bool, error) {
	count, err := catalogService.CountAll(ctx)
	if err != nil {
		return false, err
	}
	if count > 0 {
		return false, nil
	}
	return true, Catalog(ctx, accounts, vendors, catalogService, n)
}
