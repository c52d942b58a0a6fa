package catalog_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
	"github.com/shopgraph/shopgraph/internal/testutil/pgtest"
	tf "github.com/shopgraph/shopgraph/internal/testutil/testfactory"
)

type testBundle struct {
	d   *postgres.DB
	svc *catalog.Service
	// vendor owns products; rival is another vendor.
	admin, vendor, rival, customer auth.Viewer
}

// setup builds the catalog service over an in-process cache, as production runs it, so that
// every read after a write also shows that the write invalidated what it must.
func setup(t *testing.T) testBundle {
	t.Helper()
	d := pgtest.New(t, postgres.Options{MaxConns: 4})
	return testBundle{
		d:        d,
		svc:      catalog.NewService(d, cache.New(cache.NewMemory(1000)), slog.New(slog.NewTextHandler(io.Discard, nil))),
		admin:    tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleAdmin}).Viewer(),
		vendor:   tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleVendor}).Viewer(),
		rival:    tf.NewUser(t, d, tf.UserOpts{Role: auth.RoleVendor}).Viewer(),
		customer: tf.NewUser(t, d, tf.UserOpts{}).Viewer(),
	}
}

func ptr[T any](v T) *T { return &v }

// catalogState is what a refused write must leave as it was.
type catalogState struct{ products, variants, categories int }

func (b testBundle) state(t *testing.T) catalogState {
	return catalogState{
		products:   tf.Count(t, b.d, "products", ""),
		variants:   tf.Count(t, b.d, "product_variants", "deleted_at IS NULL"),
		categories: tf.Count(t, b.d, "categories", ""),
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cat := tf.NewCategory(t, b.d, tf.CategoryOpts{})
	tf.NewProduct(t, b.d, tf.ProductOpts{Slug: "taken", Variants: []tf.VariantOpts{{SKU: "TAKEN-SKU"}}})

	valid := func() catalog.CreateInput {
		return catalog.CreateInput{Name: "  Blue Mug ", Currency: "USD", CategoryID: &cat.ID,
			Attributes: []catalog.KV{{Key: "material", Value: "stoneware"}},
			Variants:   []catalog.VariantInput{{SKU: "MUG-S", Name: "Small", Price: 1200, Stock: 5}, {SKU: "MUG-L", Name: "Large", Price: 1800, Stock: 0}}}
	}

	t.Run("a vendor creates its own product", func(t *testing.T) {
		p, err := b.svc.Create(ctx, b.vendor, valid())
		require.NoError(t, err)
		require.Equal(t, "Blue Mug", p.Name)
		require.Equal(t, "blue-mug", p.Slug, "derived from the name")
		require.Equal(t, &b.vendor.VendorID, p.VendorID)
		require.Equal(t, catalog.StatusActive, p.Status)
		require.Equal(t, catalog.PriceRange{Min: money.New(1200, "USD"), Max: money.New(1800, "USD")}, p.PriceRange())
		variants, err := b.svc.VariantsByProductIDs(ctx, []int64{p.ID})
		require.NoError(t, err)
		require.Len(t, variants[p.ID], 2)
		require.Equal(t, "MUG-S", variants[p.ID][0].SKU, "in the given order")
		require.Equal(t, catalog.OutOfStock, variants[p.ID][1].StockStatusAt(catalog.LowStockThreshold))
		got, err := b.svc.GetBySlug(ctx, nil, "blue-mug")
		require.NoError(t, err)
		require.Equal(t, p.ID, got.ID)
	})

	t.Run("an admin creates for the platform or for a vendor", func(t *testing.T) {
		in := valid()
		in.Slug, in.Variants[0].SKU, in.Variants[1].SKU = "platform-mug", "P-1", "P-2"
		p, err := b.svc.Create(ctx, b.admin, in)
		require.NoError(t, err)
		require.Nil(t, p.VendorID)
		in.Slug, in.Variants[0].SKU, in.Variants[1].SKU, in.VendorID = "vendor-mug", "V-1", "V-2", &b.rival.VendorID
		p, err = b.svc.Create(ctx, b.admin, in)
		require.NoError(t, err)
		require.Equal(t, &b.rival.VendorID, p.VendorID)
	})

	for _, tc := range []struct {
		name   string
		v      func(b testBundle) auth.Viewer
		in     func(in catalog.CreateInput) catalog.CreateInput
		codes  []apperr.Code
		fields []string
	}{
		{"a customer", func(b testBundle) auth.Viewer { return b.customer }, nil, []apperr.Code{apperr.Forbidden}, []string{""}},
		{"a vendor for another vendor", func(b testBundle) auth.Viewer { return b.vendor },
			func(in catalog.CreateInput) catalog.CreateInput { in.VendorID = ptr(b.rival.VendorID); return in },
			[]apperr.Code{apperr.Forbidden}, []string{"input.vendorId"}},
		{"an admin for an account that is not a vendor", func(b testBundle) auth.Viewer { return b.admin },
			func(in catalog.CreateInput) catalog.CreateInput {
				in.Slug = "x-1"
				in.VendorID = ptr(b.customer.UserID)
				return in
			},
			[]apperr.Code{apperr.NotFound}, []string{"input.vendorId"}},
		{"an unknown category", func(b testBundle) auth.Viewer { return b.admin },
			func(in catalog.CreateInput) catalog.CreateInput {
				in.Slug = "x-2"
				in.CategoryID = ptr(int64(1 << 40))
				return in
			},
			[]apperr.Code{apperr.NotFound}, []string{"input.categoryId"}},
		{"a taken slug", func(b testBundle) auth.Viewer { return b.admin },
			func(in catalog.CreateInput) catalog.CreateInput { in.Slug = "taken"; return in },
			[]apperr.Code{apperr.Duplicate}, []string{"input.slug"}},
		{"a taken SKU", func(b testBundle) auth.Viewer { return b.admin },
			func(in catalog.CreateInput) catalog.CreateInput {
				in.Slug = "x-3"
				in.Variants[0].SKU = "X-3"
				in.Variants[1].SKU = "TAKEN-SKU"
				return in
			},
			[]apperr.Code{apperr.Duplicate}, []string{"input.variants.1.sku"}},
		{"every field wrong at once", func(b testBundle) auth.Viewer { return b.admin },
			func(in catalog.CreateInput) catalog.CreateInput {
				in.Name, in.Slug, in.Currency = " ", "Not A Slug", "usd"
				in.ImageURLs = []string{"javascript:alert(1)"}
				in.Variants = []catalog.VariantInput{{SKU: "", Price: -1, Stock: catalog.MaxStock + 1}, {SKU: "D"}, {SKU: "D"}}
				return in
			},
			[]apperr.Code{apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid},
			[]string{"input.name", "input.slug", "input.currency", "input.imageUrls", "input.variants.0.sku", "input.variants.0.price", "input.variants.0.stock", "input.variants.2.sku"}},
		{"no variants", func(b testBundle) auth.Viewer { return b.admin },
			func(in catalog.CreateInput) catalog.CreateInput { in.Slug = "x-4"; in.Variants = nil; return in },
			[]apperr.Code{apperr.Invalid}, []string{"input.variants"}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			in := valid()
			if tc.in != nil {
				in = tc.in(in)
			}
			before := b.state(t)
			_, err := b.svc.Create(ctx, tc.v(b), in)
			require.Equal(t, tc.codes, tf.Codes(err), "%v", err)
			require.Equal(t, tc.fields, tf.Fields(err))
			require.Equal(t, before, b.state(t), "nothing is created")
		})
	}
}

func TestVisibility(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	archived := tf.NewProduct(t, b.d, tf.ProductOpts{Archived: true, VendorID: &b.vendor.VendorID})
	active := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID})

	for _, tc := range []struct {
		name string
		v    *auth.Viewer
		sees bool
	}{
		{"anonymous", nil, false},
		{"a customer", &b.customer, false},
		{"another vendor", &b.rival, false},
		{"its vendor", &b.vendor, true},
		{"an admin", &b.admin, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := b.svc.Get(ctx, tc.v, archived.ID)
			_, errSlug := b.svc.GetBySlug(ctx, tc.v, archived.Slug)
			if tc.sees {
				require.NoError(t, err)
				require.NoError(t, errSlug)
			} else {
				require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
				require.True(t, apperr.Is(errSlug, apperr.NotFound), "%v", errSlug)
			}
			_, err = b.svc.Get(ctx, tc.v, active.ID)
			require.NoError(t, err, "everyone sees an active product")
			page, err := b.svc.List(ctx, tc.v, catalog.ListParams{})
			require.NoError(t, err)
			var ids []int64
			for _, p := range page.Products {
				ids = append(ids, p.ID)
			}
			require.Contains(t, ids, active.ID)
			require.Equal(t, tc.sees, contains(ids, archived.ID), "the list agrees with Get")
		})
	}
	_, err := b.svc.Get(ctx, &b.admin, 1<<40)
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	_, err = b.svc.GetBySlug(ctx, &b.admin, "no-such-product")
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tf.NewProduct(t, b.d, tf.ProductOpts{Slug: "taken"})

	t.Run("its vendor renames and archives it; readers see the change at once", func(t *testing.T) {
		p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID})
		_, err := b.svc.Get(ctx, nil, p.ID) // cached
		require.NoError(t, err)
		got, err := b.svc.Update(ctx, b.vendor, catalog.UpdateInput{ID: p.ID, Name: ptr(" Renamed "), SetAttrs: true, Attributes: []catalog.KV{{Key: "k", Value: "v"}}})
		require.NoError(t, err)
		require.Equal(t, "Renamed", got.Name)
		read, err := b.svc.Get(ctx, nil, p.ID)
		require.NoError(t, err)
		require.Equal(t, "Renamed", read.Name, "the write invalidated the cached product")
		_, err = b.svc.Archive(ctx, b.vendor, p.ID)
		require.NoError(t, err)
		_, err = b.svc.Get(ctx, nil, p.ID)
		require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	})

	for _, tc := range []struct {
		name  string
		v     func(b testBundle) auth.Viewer
		opts  tf.ProductOpts
		in    func(id int64) catalog.UpdateInput
		code  apperr.Code
		field string
	}{
		{"another vendor's active product: FORBIDDEN", func(b testBundle) auth.Viewer { return b.rival }, tf.ProductOpts{},
			func(id int64) catalog.UpdateInput { return catalog.UpdateInput{ID: id, Name: ptr("Mine")} }, apperr.Forbidden, "input.id"},
		{"another vendor's archived product: NOT_FOUND", func(b testBundle) auth.Viewer { return b.rival }, tf.ProductOpts{Archived: true},
			func(id int64) catalog.UpdateInput { return catalog.UpdateInput{ID: id, Name: ptr("Mine")} }, apperr.NotFound, "input.id"},
		{"a customer: FORBIDDEN", func(b testBundle) auth.Viewer { return b.customer }, tf.ProductOpts{},
			func(id int64) catalog.UpdateInput { return catalog.UpdateInput{ID: id, Name: ptr("Mine")} }, apperr.Forbidden, "input.id"},
		{"no such product", func(b testBundle) auth.Viewer { return b.admin }, tf.ProductOpts{},
			func(int64) catalog.UpdateInput { return catalog.UpdateInput{ID: 1 << 40, Name: ptr("X")} }, apperr.NotFound, "input.id"},
		{"a blank name", func(b testBundle) auth.Viewer { return b.vendor }, tf.ProductOpts{},
			func(id int64) catalog.UpdateInput { return catalog.UpdateInput{ID: id, Name: ptr("  ")} }, apperr.Invalid, "input.name"},
		{"an unknown status", func(b testBundle) auth.Viewer { return b.vendor }, tf.ProductOpts{},
			func(id int64) catalog.UpdateInput {
				return catalog.UpdateInput{ID: id, Status: ptr(catalog.Status("GONE"))}
			}, apperr.Invalid, "input.status"},
		{"a taken slug", func(b testBundle) auth.Viewer { return b.vendor }, tf.ProductOpts{},
			func(id int64) catalog.UpdateInput { return catalog.UpdateInput{ID: id, Slug: ptr("taken")} }, apperr.Duplicate, "input.slug"},
		{"an unknown category", func(b testBundle) auth.Viewer { return b.vendor }, tf.ProductOpts{},
			func(id int64) catalog.UpdateInput {
				return catalog.UpdateInput{ID: id, CategoryID: ptr(int64(1 << 40))}
			}, apperr.NotFound, "input.categoryId"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			tc.opts.VendorID = &b.vendor.VendorID
			p := tf.NewProduct(t, b.d, tc.opts)
			before, err := b.svc.Get(ctx, &b.admin, p.ID)
			require.NoError(t, err)
			_, err = b.svc.Update(ctx, tc.v(b), tc.in(p.ID))
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), "%v", err)
			require.Equal(t, []string{tc.field}, tf.Fields(err))
			after, err := b.svc.Get(ctx, &b.admin, p.ID)
			require.NoError(t, err)
			require.Equal(t, inUTC(before), inUTC(after), "nothing changes")
		})
	}
}

// inUTC is p with its times in UTC: a product read from the cache and one read from the
// database are the same product.
func inUTC(p catalog.Product) catalog.Product {
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return p
}

func TestVariants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	tf.NewProduct(t, b.d, tf.ProductOpts{Variants: []tf.VariantOpts{{SKU: "TAKEN"}}})
	priceRange := func(t *testing.T, id int64) (int64, int64) {
		p, err := b.svc.Get(ctx, &b.admin, id)
		require.NoError(t, err)
		r := p.PriceRange()
		return r.Min.Amount, r.Max.Amount
	}

	p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Price: 1000}}})
	added, err := b.svc.VariantCreate(ctx, b.vendor, p.ID, catalog.VariantInput{SKU: "NEW-1", Price: 3000, Stock: 2})
	require.NoError(t, err)
	lo, hi := priceRange(t, p.ID)
	require.Equal(t, [2]int64{1000, 3000}, [2]int64{lo, hi}, "the price range follows a new variant")
	updated, err := b.svc.VariantUpdate(ctx, b.vendor, catalog.VariantUpdateInput{ID: added.ID, Price: ptr(int64(500)), Name: ptr("Cheap")})
	require.NoError(t, err)
	require.Equal(t, "Cheap", updated.Name)
	require.Equal(t, "NEW-1", updated.SKU)
	lo, hi = priceRange(t, p.ID)
	require.Equal(t, [2]int64{500, 1000}, [2]int64{lo, hi}, "and a price change")
	_, err = b.svc.VariantDelete(ctx, b.vendor, added.ID)
	require.NoError(t, err)
	lo, hi = priceRange(t, p.ID)
	require.Equal(t, [2]int64{1000, 1000}, [2]int64{lo, hi}, "and a deletion")
	variants, err := b.svc.VariantsByIDs(ctx, []int64{added.ID})
	require.NoError(t, err)
	require.NotNil(t, variants[added.ID].DeletedAt, "a deleted variant is kept for carts and orders")

	for _, tc := range []struct {
		name string
		do   func() error
		code apperr.Code
	}{
		{"create with a taken SKU", func() error {
			_, err := b.svc.VariantCreate(ctx, b.vendor, p.ID, catalog.VariantInput{SKU: "TAKEN", Price: 1})
			return err
		}, apperr.Duplicate},
		{"create with a bad price", func() error {
			_, err := b.svc.VariantCreate(ctx, b.vendor, p.ID, catalog.VariantInput{SKU: "OK", Price: money.MaxPrice + 1})
			return err
		}, apperr.Invalid},
		{"create on another vendor's product", func() error {
			_, err := b.svc.VariantCreate(ctx, b.rival, p.ID, catalog.VariantInput{SKU: "OK", Price: 1})
			return err
		}, apperr.Forbidden},
		{"update to a taken SKU", func() error {
			_, err := b.svc.VariantUpdate(ctx, b.vendor, catalog.VariantUpdateInput{ID: p.Variant(), SKU: ptr("TAKEN")})
			return err
		}, apperr.Duplicate},
		{"update with a bad name", func() error {
			_, err := b.svc.VariantUpdate(ctx, b.vendor, catalog.VariantUpdateInput{ID: p.Variant(), Name: ptr(strings.Repeat("n", 101))})
			return err
		}, apperr.Invalid},
		{"update a deleted variant", func() error {
			_, err := b.svc.VariantUpdate(ctx, b.vendor, catalog.VariantUpdateInput{ID: added.ID, Price: ptr(int64(1))})
			return err
		}, apperr.NotFound},
		{"update another vendor's variant", func() error {
			_, err := b.svc.VariantUpdate(ctx, b.rival, catalog.VariantUpdateInput{ID: p.Variant(), Price: ptr(int64(1))})
			return err
		}, apperr.Forbidden},
		{"delete the last variant", func() error {
			_, err := b.svc.VariantDelete(ctx, b.vendor, p.Variant())
			return err
		}, apperr.LastVariant},
		{"delete a deleted variant", func() error {
			_, err := b.svc.VariantDelete(ctx, b.vendor, added.ID)
			return err
		}, apperr.NotFound},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := b.state(t)
			beforeVariants, err := b.svc.VariantsByIDs(ctx, []int64{p.Variant(), added.ID})
			require.NoError(t, err)
			err = tc.do()
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), "%v", err)
			require.Equal(t, before, b.state(t))
			afterVariants, err := b.svc.VariantsByIDs(ctx, []int64{p.Variant(), added.ID})
			require.NoError(t, err)
			require.Equal(t, beforeVariants, afterVariants, "nothing changes")
		})
	}

	t.Run("concurrent deletes of the last two variants leave one", func(t *testing.T) {
		two := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{}, {}}})
		errs := make(chan error, 2)
		start := make(chan struct{})
		for _, id := range two.Variants {
			go func() {
				<-start
				_, err := b.svc.VariantDelete(ctx, b.vendor, id)
				errs <- err
			}()
		}
		close(start)
		ok := 0
		for range 2 {
			if err := <-errs; err == nil {
				ok++
			} else {
				require.True(t, apperr.Is(err, apperr.LastVariant), "%v", err)
			}
		}
		require.Equal(t, 1, ok)
		require.Equal(t, 1, tf.Count(t, b.d, "product_variants", "product_id = $1 AND deleted_at IS NULL", two.ID))
	})
}

func TestStockAdjust(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := tf.NewProduct(t, b.d, tf.ProductOpts{VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Stock: 10}, {Stock: 1, Deleted: true}}})
	live, deleted := p.Variants[0], p.Variants[1]

	v, err := b.svc.StockAdjust(ctx, b.vendor, live, 5)
	require.NoError(t, err)
	require.Equal(t, 15, int(v.Stock))
	v, err = b.svc.StockAdjust(ctx, b.admin, live, -15)
	require.NoError(t, err)
	require.Zero(t, v.Stock)
	_, err = b.svc.StockAdjust(ctx, b.vendor, live, 10)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		v       func(b testBundle) auth.Viewer
		variant int64
		delta   int
		code    apperr.Code
	}{
		{"below zero", func(b testBundle) auth.Viewer { return b.vendor }, live, -11, apperr.InsufficientStock},
		{"above MaxStock", func(b testBundle) auth.Viewer { return b.vendor }, live, catalog.MaxStock - 5, apperr.Invalid},
		{"a delta out of range", func(b testBundle) auth.Viewer { return b.vendor }, live, catalog.MaxStock + 1, apperr.Invalid},
		{"a deleted variant", func(b testBundle) auth.Viewer { return b.vendor }, deleted, 1, apperr.NotFound},
		{"no such variant", func(b testBundle) auth.Viewer { return b.admin }, 1 << 40, 1, apperr.NotFound},
		{"another vendor's variant", func(b testBundle) auth.Viewer { return b.rival }, live, 1, apperr.Forbidden},
		{"a customer", func(b testBundle) auth.Viewer { return b.customer }, live, 1, apperr.Forbidden},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			_, err := b.svc.StockAdjust(ctx, tc.v(b), tc.variant, tc.delta)
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), "%v", err)
			require.Equal(t, []string{"input." + map[bool]string{true: "delta", false: "variantId"}[tc.code == apperr.Invalid || tc.code == apperr.InsufficientStock]}, tf.Fields(err))
			require.Equal(t, 10, tf.Stock(t, b.d, live), "nothing changes")
		})
	}

	t.Run("concurrent decrements never take the stock below zero", func(t *testing.T) {
		const n = 8 // each -3 of 10: three fit
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				_, err := b.svc.StockAdjust(ctx, b.vendor, live, -3)
				errs <- err
			}()
		}
		close(start)
		ok := 0
		for range n {
			if err := <-errs; err == nil {
				ok++
			} else {
				require.True(t, apperr.Is(err, apperr.InsufficientStock), "%v", err)
			}
		}
		require.Equal(t, 3, ok)
		require.Equal(t, 1, tf.Stock(t, b.d, live))
	})
}

func TestList(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	kitchen := tf.NewCategory(t, b.d, tf.CategoryOpts{})
	mugs := tf.NewCategory(t, b.d, tf.CategoryOpts{ParentID: &kitchen.ID})
	apple := tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Apple Peeler", CategoryID: &kitchen.ID, Variants: []tf.VariantOpts{{Price: 300}}})
	mug := tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Zebra Mug", CategoryID: &mugs.ID, VendorID: &b.vendor.VendorID, Variants: []tf.VariantOpts{{Price: 1500}}})
	cup := tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Mug Cup", Variants: []tf.VariantOpts{{Price: 900, NoStock: true}}})
	tf.NewProduct(t, b.d, tf.ProductOpts{Name: "Hidden Mug", Archived: true})

	ids := func(page catalog.Page) []int64 {
		var out []int64
		for _, p := range page.Products {
			out = append(out, p.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		params catalog.ListParams
		want   []int64
	}{
		{"newest first by default", catalog.ListParams{}, []int64{cup.ID, mug.ID, apple.ID}},
		{"by price", catalog.ListParams{Sort: catalog.SortPriceAsc}, []int64{apple.ID, cup.ID, mug.ID}},
		{"by price, dearest first", catalog.ListParams{Sort: catalog.SortPriceDesc}, []int64{mug.ID, cup.ID, apple.ID}},
		{"by name", catalog.ListParams{Sort: catalog.SortName}, []int64{apple.ID, cup.ID, mug.ID}},
		{"a category and its subcategories", catalog.ListParams{Filter: catalog.Filter{CategoryID: &kitchen.ID}}, []int64{mug.ID, apple.ID}},
		{"a subcategory", catalog.ListParams{Filter: catalog.Filter{CategoryID: &mugs.ID}}, []int64{mug.ID}},
		{"a vendor", catalog.ListParams{Filter: catalog.Filter{VendorID: &b.vendor.VendorID}}, []int64{mug.ID}},
		{"a price range", catalog.ListParams{Filter: catalog.Filter{MinPrice: ptr(int64(500)), MaxPrice: ptr(int64(1000))}}, []int64{cup.ID}},
		{"in stock", catalog.ListParams{Filter: catalog.Filter{InStock: ptr(true)}}, []int64{mug.ID, apple.ID}},
		{"a search", catalog.ListParams{Filter: catalog.Filter{Search: ptr(" mug ")}, Sort: catalog.SortName}, []int64{cup.ID, mug.ID}},
		{"a search by relevance", catalog.ListParams{Filter: catalog.Filter{Search: ptr("peeler")}, Sort: catalog.SortRelevance}, []int64{apple.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := b.svc.List(ctx, &b.customer, tc.params)
			require.NoError(t, err)
			require.Equal(t, tc.want, ids(page))
			n, err := b.svc.Count(ctx, &b.customer, tc.params.Filter)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), n)
		})
	}

	t.Run("pages forward and backward by cursor", func(t *testing.T) {
		first, err := b.svc.List(ctx, nil, catalog.ListParams{First: ptr(2), Sort: catalog.SortPriceAsc})
		require.NoError(t, err)
		require.Equal(t, []int64{apple.ID, cup.ID}, ids(first))
		require.True(t, first.HasNextPage)
		second, err := b.svc.List(ctx, nil, catalog.ListParams{First: ptr(2), After: first.Cursors[1], Sort: catalog.SortPriceAsc})
		require.NoError(t, err)
		require.Equal(t, []int64{mug.ID}, ids(second))
		require.False(t, second.HasNextPage)
		back, err := b.svc.List(ctx, nil, catalog.ListParams{Last: ptr(1), Before: second.Cursors[0], Sort: catalog.SortPriceAsc})
		require.NoError(t, err)
		require.Equal(t, []int64{cup.ID}, ids(back))
		require.True(t, back.HasPreviousPage)
	})

	newest, err := b.svc.List(ctx, nil, catalog.ListParams{First: ptr(1)})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		params catalog.ListParams
	}{
		{"first and last", catalog.ListParams{First: ptr(1), Last: ptr(1)}},
		{"a page of none", catalog.ListParams{First: ptr(0)}},
		{"a page above the largest", catalog.ListParams{Last: ptr(catalog.MaxPageSize + 1)}},
		{"a cursor that is not one", catalog.ListParams{After: "garbage"}},
		{"a cursor of another sort", catalog.ListParams{After: newest.Cursors[0], Sort: catalog.SortPriceAsc}},
	} {
		t.Run("BAD_USER_INPUT: "+tc.name, func(t *testing.T) {
			_, err := b.svc.List(ctx, nil, tc.params)
			require.True(t, apperr.Is(err, apperr.BadUserInput), "%v", err)
		})
	}

	t.Run("a write shows in the next page read", func(t *testing.T) {
		_, err := b.svc.Archive(ctx, b.admin, cup.ID)
		require.NoError(t, err)
		page, err := b.svc.List(ctx, &b.customer, catalog.ListParams{})
		require.NoError(t, err)
		require.Equal(t, []int64{mug.ID, apple.ID}, ids(page), "the cached page was invalidated")
	})
}

func TestCategories(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	home, err := b.svc.CategoryCreate(ctx, b.admin, catalog.CategoryInput{Name: ptr(" Home & Garden ")})
	require.NoError(t, err)
	require.Equal(t, "Home & Garden", home.Name)
	require.Equal(t, "home-garden", home.Slug)
	lamps, err := b.svc.CategoryCreate(ctx, b.admin, catalog.CategoryInput{Name: ptr("Lamps"), ParentID: &home.ID})
	require.NoError(t, err)
	desk, err := b.svc.CategoryCreate(ctx, b.admin, catalog.CategoryInput{Name: ptr("Desk"), ParentID: &lamps.ID})
	require.NoError(t, err)
	got, err := b.svc.CategoryBySlug(ctx, "lamps")
	require.NoError(t, err)
	require.Equal(t, lamps.ID, got.ID)
	all, err := b.svc.Categories(ctx)
	require.NoError(t, err)
	require.Len(t, all, 3)

	for _, tc := range []struct {
		name  string
		do    func() error
		code  apperr.Code
		field string
	}{
		{"create by a vendor", func() error {
			_, err := b.svc.CategoryCreate(ctx, b.vendor, catalog.CategoryInput{Name: ptr("X")})
			return err
		}, apperr.Forbidden, ""},
		{"create without a name", func() error {
			_, err := b.svc.CategoryCreate(ctx, b.admin, catalog.CategoryInput{Name: ptr(" "), Slug: ptr("unnamed")})
			return err
		}, apperr.Invalid, "input.name"},
		{"create with a taken slug", func() error {
			_, err := b.svc.CategoryCreate(ctx, b.admin, catalog.CategoryInput{Name: ptr("Lamps")})
			return err
		}, apperr.Duplicate, "input.slug"},
		{"create under no such parent", func() error {
			_, err := b.svc.CategoryCreate(ctx, b.admin, catalog.CategoryInput{Name: ptr("Orphans"), ParentID: ptr(int64(1 << 40))})
			return err
		}, apperr.NotFound, "input.parentId"},
		{"move under its own subcategory", func() error {
			_, err := b.svc.CategoryUpdate(ctx, b.admin, home.ID, catalog.CategoryInput{ParentID: &desk.ID})
			return err
		}, apperr.Invalid, "input.parentId"},
		{"move under itself", func() error {
			_, err := b.svc.CategoryUpdate(ctx, b.admin, lamps.ID, catalog.CategoryInput{ParentID: &lamps.ID})
			return err
		}, apperr.Invalid, "input.parentId"},
		{"rename to a taken slug", func() error {
			_, err := b.svc.CategoryUpdate(ctx, b.admin, desk.ID, catalog.CategoryInput{Slug: ptr("lamps")})
			return err
		}, apperr.Duplicate, "input.slug"},
		{"update no such category", func() error {
			_, err := b.svc.CategoryUpdate(ctx, b.admin, 1<<40, catalog.CategoryInput{Name: ptr("X")})
			return err
		}, apperr.NotFound, "input.id"},
		{"update by a vendor", func() error {
			_, err := b.svc.CategoryUpdate(ctx, b.vendor, desk.ID, catalog.CategoryInput{Name: ptr("X")})
			return err
		}, apperr.Forbidden, ""},
		{"delete one with subcategories", func() error { return b.svc.CategoryDelete(ctx, b.admin, lamps.ID) }, apperr.CategoryNotEmpty, "input.id"},
		{"delete by a vendor", func() error { return b.svc.CategoryDelete(ctx, b.vendor, desk.ID) }, apperr.Forbidden, ""},
		{"delete no such category", func() error { return b.svc.CategoryDelete(ctx, b.admin, 1<<40) }, apperr.NotFound, "input.id"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before, err := b.svc.Categories(ctx)
			require.NoError(t, err)
			err = tc.do()
			require.Equal(t, []apperr.Code{tc.code}, tf.Codes(err), "%v", err)
			require.Equal(t, []string{tc.field}, tf.Fields(err))
			after, err := b.svc.Categories(ctx)
			require.NoError(t, err)
			require.Equal(t, before, after, "nothing changes")
		})
	}

	moved, err := b.svc.CategoryUpdate(ctx, b.admin, desk.ID, catalog.CategoryInput{TopLevel: true, Name: ptr("Desks")})
	require.NoError(t, err)
	require.Nil(t, moved.ParentID)
	require.Equal(t, "Desks", moved.Name)
	tf.NewProduct(t, b.d, tf.ProductOpts{CategoryID: &desk.ID})
	err = b.svc.CategoryDelete(ctx, b.admin, desk.ID)
	require.True(t, apperr.Is(err, apperr.CategoryNotEmpty), "a category with products stays: %v", err)
	require.NoError(t, b.svc.CategoryDelete(ctx, b.admin, lamps.ID), "its subcategory moved away")
	_, err = b.svc.CategoryGet(ctx, lamps.ID)
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
	_, err = b.svc.CategoryBySlug(ctx, "lamps")
	require.True(t, apperr.Is(err, apperr.NotFound), "%v", err)
}
