package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// Global ID type names of the catalog.
const (
	typeProduct  = gid.Product
	typeVariant  = gid.Variant
	typeCategory = gid.Category
)

// viewerPtr is the viewer, or nil when anonymous.
func viewerPtr(ctx context.Context) *auth.Viewer {
	if v, ok := auth.ViewerFrom(ctx); ok {
		return &v
	}
	return nil
}

func (r *Resolver) productConnection(ctx context.Context, p catalog.ListParams) (*model.ProductConnection, error) {
	v := viewerPtr(ctx)
	page, err := r.Catalog.List(ctx, v, p)
	if err != nil {
		return nil, err
	}
	conn := &model.ProductConnection{
		Edges:    make([]*model.ProductEdge, len(page.Products)),
		Nodes:    make([]*catalog.Product, len(page.Products)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPreviousPage},
		Viewer:   v,
		Filter:   p.Filter,
	}
	for i := range page.Products {
		prod := &page.Products[i]
		conn.Edges[i] = &model.ProductEdge{Cursor: page.Cursors[i], Node: prod}
		conn.Nodes[i] = prod
	}
	if err := r.primeProducts(ctx, page.Products); err != nil {
		return nil, err
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return conn, nil
}

func listParams(first *int, after *string, last *int, before *string, sort *catalog.Sort, f catalog.Filter) catalog.ListParams {
	p := catalog.ListParams{First: first, Last: last, After: deref(after), Before: deref(before), Filter: f, Sort: catalog.SortNewest}
	if sort != nil {
		p.Sort = *sort
	}
	return p
}

// productFilter converts the GraphQL filter; a malformed ID is BAD_USER_INPUT.
func productFilter(f *model.ProductFilter) (catalog.Filter, error) {
	if f == nil {
		return catalog.Filter{}, nil
	}
	out := catalog.Filter{Search: f.Search, MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating}
	if f.CategoryID != nil {
		id, err := queryIDOf(*f.CategoryID, typeCategory, "filter", "categoryId")
		if err != nil {
			return out, err
		}
		out.CategoryID = &id
	}
	if f.VendorID != nil {
		id, err := queryIDOf(*f.VendorID, typeVendor, "filter", "vendorId")
		if err != nil {
			return out, err
		}
		out.VendorID = &id
	}
	return out, nil
}

// queryIDOf decodes an ID argument of a query; malformed is BAD_USER_INPUT (top-level).
func queryIDOf(gid, typ string, field ...string) (int64, error) {
	t, id, ok := parseGlobalID(gid)
	if !ok || t != typ {
		return 0, apperr.FieldError(apperr.BadUserInput, "Not a valid "+typ+" ID.", field...)
	}
	return id, nil
}

func kvsFromAttributes(in []*model.AttributeInput) []catalog.KV {
	out := make([]catalog.KV, 0, len(in))
	for _, a := range in {
		out = append(out, catalog.KV{Key: a.Key, Value: a.Value})
	}
	return out
}

func kvsFromOptions(in []*model.VariantOptionInput) []catalog.KV {
	out := make([]catalog.KV, 0, len(in))
	for _, o := range in {
		out = append(out, catalog.KV{Key: o.Name, Value: o.Value})
	}
	return out
}

func variantInput(in *model.ProductVariantInput) catalog.VariantInput {
	return catalog.VariantInput{
		SKU: in.Sku, Name: deref(in.Name), Options: kvsFromOptions(in.Options), Price: in.Price, Stock: deref(in.Stock),
	}
}

// optionalID decodes an optional ID input of a mutation.
func optionalID(gid *string, typ string, field ...string) (*int64, error) {
	if gid == nil {
		return nil, nil
	}
	id, err := idOf(*gid, typ, field...)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// primeProducts loads, in one batch each, what the fields of a page of products usually ask
// for (variants, categories, vendors) and primes the loaders with it, so a page costs the same
// few statements however many products it holds and however the field resolvers are scheduled.
func (r *Resolver) primeProducts(ctx context.Context, products []catalog.Product) error {
	if len(products) == 0 {
		return nil
	}
	loaders := loader.From(ctx)
	ids := make([]int64, len(products))
	var vendorIDs []int64
	for i, p := range products {
		ids[i] = p.ID
		loaders.ProductByID.Prime(ctx, p.ID, p)
		if p.VendorID != nil {
			vendorIDs = append(vendorIDs, *p.VendorID)
		}
	}
	variants, err := r.Catalog.VariantsByProductIDs(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		vs := variants[id]
		if vs == nil {
			vs = []catalog.Variant{}
		}
		loaders.VariantsByProductID.Prime(ctx, id, vs)
	}
	categories, err := r.Catalog.Categories(ctx)
	if err != nil {
		return err
	}
	for _, c := range categories {
		loaders.CategoryByID.Prime(ctx, c.ID, c)
	}
	if len(vendorIDs) > 0 {
		vendors, err := r.VendorService.ListByIDs(ctx, vendorIDs)
		if err != nil {
			return err
		}
		for id, vd := range vendors {
			loaders.VendorByID.Prime(ctx, id, vd)
		}
	}
	return nil
}

// productPageParts is what the selection of the product field being resolved shows of the
// product's relations, so that its page statement reads only those.
func productPageParts(ctx context.Context) catalog.PageParts {
	var parts catalog.PageParts
	for _, f := range graphql.CollectFieldsCtx(ctx, productImplementors) {
		switch f.Name {
		case "variants", "inStock":
			parts.Variants = true
		case "category":
			parts.Category = true
		case "vendor":
			parts.Vendor = true
		}
	}
	return parts
}

// primeProductPage primes the loaders with what a product page read, so that the field
// resolvers, which read through the loaders, run no statement of their own.
func primeProductPage(ctx context.Context, page catalog.ProductPage) {
	loaders := loader.From(ctx)
	p := page.Product
	loaders.ProductByID.Prime(ctx, p.ID, p)
	if page.Variants != nil {
		loaders.VariantsByProductID.Prime(ctx, p.ID, page.Variants)
	}
	if page.Category != nil {
		loaders.CategoryByID.Prime(ctx, page.Category.ID, *page.Category)
	}
	if page.VendorRow != nil {
		loaders.VendorByID.Prime(ctx, page.VendorRow.ID, vendor.FromRow(*page.VendorRow))
	}
}
