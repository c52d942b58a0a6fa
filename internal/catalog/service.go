package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/money"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Service is the catalog use cases.
type Service struct {
	db    *postgres.DB
	cache *cache.Cache
	// replica, when set (UseReplica), serves the catalog's reads: lists, products by id or
	// slug with their variants, categories, facets and search. Everything else reads the
	// primary.
	replica *postgres.Replica
	log     *slog.Logger
	// search compiles search texts and suggests names (PGSearcher unless set otherwise).
	search Searcher
	// Webhooks, when set, owes the outbound webhooks of product and stock changes in the
	// change's transaction (webhook.Service; internal/app sets it).
	Webhooks WebhookEmitter
	// LowStock, when set, is told inside the change's transaction of every variant a stock
	// change takes from above its low-stock threshold to at or under it (the vendor's email;
	// internal/app sets it). Nil: nobody is told.
	LowStock LowStockHook
}

// StockMovement is one change of a variant's stock, as a STOCK_CHANGED webhook tells it: the
// emitter reads the quantity it left in the change's transaction.
type StockMovement struct {
	VariantID int64
	// Delta is how much the stock moved: negative for a sale, positive for a restock.
	Delta int
	// Reason says what moved it: "sale", "restock" (a cancelled order), "adjustment", or an
	// inventory import's reason.
	Reason string
}

// Reasons of stock movements.
const (
	ReasonSale       = "sale"
	ReasonRestock    = "restock"
	ReasonAdjustment = "adjustment"
)

// WebhookEmitter owes the webhooks of catalog changes; tx is the change's transaction, so a
// rolled-back change owes nothing.
type WebhookEmitter interface {
	ProductChanged(ctx context.Context, tx pgx.Tx, p Product, created bool) error
	StockChanged(ctx context.Context, tx pgx.Tx, moves []StockMovement) error
}

// productChanged tells the webhook emitter of a product written in the transaction of ctx.
func (s *Service) productChanged(ctx context.Context, p Product, created bool) error {
	if s.Webhooks == nil {
		return nil
	}
	tx, ok := postgres.TxOf(ctx)
	if !ok {
		return fmt.Errorf("product %d changed outside postgres.InTx: no transaction for its webhooks", p.ID)
	}
	return s.Webhooks.ProductChanged(ctx, tx, p, created)
}

// NewService returns a catalog service reading through c.
func NewService(d *postgres.DB, c *cache.Cache, log *slog.Logger) *Service {
	return &Service{db: d, cache: c, log: log, search: NewPGSearcher(d)}
}

// UseReplica sends the catalog's reads to r (nil: the primary). Call it before serving.
func (s *Service) UseReplica(r *postgres.Replica) {
	s.replica = r
	if rs, ok := s.search.(replicaSearcher); ok {
		rs.UseReplica(r)
	}
}

// replicaSearcher is a Searcher that reads this database and so can read its replica too
// (PGSearcher); an external search engine is not one.
type replicaSearcher interface{ UseReplica(*postgres.Replica) }

// reads is where ctx's catalog reads run: the replica's queries while it may serve them.
func (s *Service) reads(ctx context.Context) postgres.Reads {
	return readsOf(ctx, s.db, s.replica)
}

func readsOf(ctx context.Context, d *postgres.DB, r *postgres.Replica) postgres.Reads {
	if r == nil {
		return d.Reads()
	}
	return r.Reads(ctx)
}

// List returns one page of the products v may see. Pages of customers are cached briefly.
// Errors: BAD_USER_INPUT (page size, cursor).
func (s *Service) List(ctx context.Context, v *auth.Viewer, p ListParams) (Page, error) {
	return cachedList(ctx, s, v, "page", p, func(ctx context.Context) (Page, error) {
		return s.list(ctx, v, p)
	})
}

// Count returns how many products v may see match f.
func (s *Service) Count(ctx context.Context, v *auth.Viewer, f Filter) (int, error) {
	return cachedList(ctx, s, v, "count", f, func(ctx context.Context) (int, error) {
		qf, err := s.queryFilter(ctx, v, f, normalizedSearch(f.Search))
		if err != nil {
			return 0, err
		}
		if qf.nothing {
			return 0, nil
		}
		n, err := s.reads(ctx).CustomPlans.ProductCount(ctx, db.ProductCountParams{
			SeeArchived: qf.SeeArchived, ViewerVendorID: qf.ViewerVendorID, CategoryIds: qf.CategoryIds, VendorID: qf.VendorID,
			MinPrice: qf.MinPrice, MaxPrice: qf.MaxPrice, InStock: qf.InStock, MinRating: qf.MinRating, SearchQuery: qf.SearchQuery,
		})
		if err != nil {
			return 0, fmt.Errorf("count products: %w", err)
		}
		return int(n), nil
	})
}

// Get returns a product v may see. Errors: NOT_FOUND (also for one v may not see).
func (s *Service) Get(ctx context.Context, v *auth.Viewer, id int64) (Product, error) {
	found, err := s.ListByIDs(ctx, []int64{id})
	if err != nil {
		return Product{}, err
	}
	p, ok := found[id]
	if !ok {
		return Product{}, apperr.New(apperr.NotFound, "product not found")
	}
	return visible(v, p)
}

// GetBySlug returns a product v may see by its slug. Errors: NOT_FOUND.
func (s *Service) GetBySlug(ctx context.Context, v *auth.Viewer, slug string) (Product, error) {
	row, err := s.reads(ctx).ProductGetBySlug(ctx, slug)
	if err != nil {
		return Product{}, postgres.MapError(err, "product")
	}
	return visible(v, productFromRow(productRow(row)))
}

// Visible returns p, read by a loader, if v (nil when anonymous) may see it.
// Errors: NOT_FOUND (also for one v may not see).
func (s *Service) Visible(v *auth.Viewer, p Product) (Product, error) { return visible(v, p) }

// ExactStock is variant's stock, for those who may manage its product p (read by a loader).
// Errors: FORBIDDEN.
func (s *Service) ExactStock(v *auth.Viewer, p Product, variant Variant) (int, error) {
	if err := mayReadStock(v, p); err != nil {
		return 0, err
	}
	return int(variant.Stock), nil
}

// ListByIDs returns the products among ids, whatever their status (for loaders; callers pass
// them through Visible where it matters).
func (s *Service) ListByIDs(ctx context.Context, ids []int64) (map[int64]Product, error) {
	return cache.GetOrLoadMany(s.cacheCtx(ctx), s.cache, ids, productKey, productTTL, func(ctx context.Context, missing []int64) (map[int64]Product, error) {
		rows, err := s.reads(ctx).ProductListByIDs(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("list products by ids: %w", err)
		}
		out := make(map[int64]Product, len(rows))
		for _, r := range rows {
			out[r.ID] = productFromRow(productRow(r))
		}
		return out, nil
	})
}

// VariantsByProductIDs returns each product's live variants in display order.
func (s *Service) VariantsByProductIDs(ctx context.Context, productIDs []int64) (map[int64][]Variant, error) {
	out, err := s.variantsByProductIDs(ctx, productIDs)
	if err != nil {
		return nil, err
	}
	return out, s.withThresholds(ctx, out)
}

func (s *Service) variantsByProductIDs(ctx context.Context, productIDs []int64) (map[int64][]Variant, error) {
	return cache.GetOrLoadMany(s.cacheCtx(ctx), s.cache, productIDs, variantsKey, variantsTTL, func(ctx context.Context, missing []int64) (map[int64][]Variant, error) {
		rows, err := s.reads(ctx).VariantListByProductIDs(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("list variants by product: %w", err)
		}
		out := make(map[int64][]Variant, len(missing))
		for _, id := range missing {
			out[id] = []Variant{} // cache "no live variants" too
		}
		for _, r := range rows {
			out[r.ProductID] = append(out[r.ProductID], variantFromRow(r))
		}
		return out, nil
	})
}

// VariantsByIDs returns the variants among ids, deleted ones included (carts and orders refer
// to them).
func (s *Service) VariantsByIDs(ctx context.Context, ids []int64) (map[int64]Variant, error) {
	rows, err := s.db.VariantListByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list variants by ids: %w", err)
	}
	out := make(map[int64]Variant, len(rows))
	for _, r := range rows {
		out[r.ID] = variantFromRow(r)
	}
	byID := map[int64][]Variant{0: make([]Variant, 0, len(out))}
	for _, v := range out {
		byID[0] = append(byID[0], v)
	}
	if err := s.withThresholds(ctx, byID); err != nil {
		return nil, err
	}
	for _, v := range byID[0] {
		out[v.ID] = v
	}
	return out, nil
}

// VariantInput is a variant to create.
type VariantInput struct {
	SKU     string
	Name    string
	Options []KV
	Price   int64
	Stock   int
}

func (in VariantInput) validate(v *validator, field ...string) {
	sub := func(name string) []string { return append(append([]string{}, field...), name) }
	v.length(in.SKU, 1, 64, "SKU", sub("sku")...)
	v.length(in.Name, 0, 100, "Variant name", sub("name")...)
	v.pairs(in.Options, 50, 100, "Option", sub("options")...)
	if len(in.Options) > 10 {
		v.add("At most 10 options.", sub("options")...)
	}
	if in.Price < 0 || in.Price > money.MaxPrice {
		v.add(fmt.Sprintf("Price must be 0 to %d minor units.", money.MaxPrice), sub("price")...)
	}
	if in.Stock < 0 || in.Stock > MaxStock {
		v.add("Stock must be 0 to "+maxStockText+".", sub("stock")...)
	}
}

// CreateInput is a new product with its variants.
type CreateInput struct {
	Name        string
	Slug        string
	Description string
	CategoryID  *int64
	Currency    string
	Attributes  []KV
	ImageURLs   []string
	VendorID    *int64
	Variants    []VariantInput
}

func (in *CreateInput) validate() error {
	var v validator
	in.Name = strings.TrimSpace(in.Name)
	if in.Slug == "" {
		in.Slug = Slugify(in.Name)
	}
	v.length(in.Name, 1, 200, "Name", "input", "name")
	v.slug(in.Slug, "input", "slug")
	v.length(in.Description, 0, 10_000, "Description", "input", "description")
	if !money.ValidCurrency(in.Currency) {
		v.add("Currency must be an ISO 4217 code such as USD.", "input", "currency")
	}
	v.pairs(in.Attributes, 50, 500, "Attribute", "input", "attributes")
	v.imageURLs(in.ImageURLs, "input", "imageUrls")
	if len(in.Variants) == 0 || len(in.Variants) > 100 {
		v.add("A product needs 1 to 100 variants.", "input", "variants")
	}
	skus := map[string]bool{}
	for i, vi := range in.Variants {
		vi.validate(&v, "input", "variants", strconv.Itoa(i))
		if skus[vi.SKU] {
			v.add("SKUs must be unique.", "input", "variants", strconv.Itoa(i), "sku")
		}
		skus[vi.SKU] = true
	}
	return v.err()
}

// Create creates a product with its variants. A vendor's member creates for its vendor; an
// ADMIN for the platform or for a given vendor. A new product of a vendor that is not ACTIVE
// (an admin creating for a suspended one) is hidden from customers like the vendor's others.
// Errors: FORBIDDEN, INVALID, DUPLICATE (slug, SKU), NOT_FOUND (category, vendor).
func (s *Service) Create(ctx context.Context, v auth.Viewer, in CreateInput) (Product, error) {
	vendorID, checkVendor, err := createVendor(v, in.VendorID)
	if err != nil {
		return Product{}, err
	}
	in.VendorID = vendorID
	if err := in.validate(); err != nil {
		return Product{}, err
	}
	var created Product
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if err := checkCategory(ctx, q, in.CategoryID, "input", "categoryId"); err != nil {
			return err
		}
		if checkVendor {
			if _, err := q.VendorGetByID(ctx, *in.VendorID); err != nil {
				if postgres.IsNotFound(err) {
					return apperr.FieldError(apperr.NotFound, "No vendor has this ID.", "input", "vendorId")
				}
				return fmt.Errorf("get vendor: %w", err)
			}
		}
		row, err := q.ProductInsert(ctx, db.ProductInsertParams{
			Name: in.Name, Slug: in.Slug, Description: in.Description, CategoryID: in.CategoryID, VendorID: in.VendorID,
			Attributes: kvsToJSON(in.Attributes), ImageURLs: nonNil(in.ImageURLs), Status: db.ProductStatusACTIVE, Currency: in.Currency,
		})
		if err != nil {
			return mapWriteError(err)
		}
		for i, vi := range in.Variants {
			if _, err := q.VariantInsert(ctx, db.VariantInsertParams{
				ProductID: row.ID, SKU: vi.SKU, Name: vi.Name, Options: kvsToJSON(vi.Options),
				PriceAmount: vi.Price, Currency: in.Currency, Stock: int32(vi.Stock), Position: int32(i),
			}); err != nil {
				return mapVariantError(err, "input", "variants", strconv.Itoa(i), "sku")
			}
		}
		created, err = refreshPrices(ctx, q, row.ID)
		if err != nil {
			return err
		}
		return s.productChanged(ctx, created, true)
	})
	if err == nil {
		s.invalidateProducts(ctx, created.ID)
	}
	return created, err
}

// UpdateInput changes a product; nil fields keep their value.
type UpdateInput struct {
	ID          int64
	Name        *string
	Slug        *string
	Description *string
	CategoryID  *int64
	Attributes  []KV
	SetAttrs    bool
	ImageURLs   []string
	SetImages   bool
	Status      *Status
}

// Update changes a product's details. Errors: NOT_FOUND, FORBIDDEN, INVALID, DUPLICATE.
func (s *Service) Update(ctx context.Context, v auth.Viewer, in UpdateInput) (Product, error) {
	var updated Product
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		p, err := lockManaged(ctx, q, v, in.ID, "input", "id")
		if err != nil {
			return err
		}
		var val validator
		if in.Name != nil {
			p.Name = strings.TrimSpace(*in.Name)
			val.length(p.Name, 1, 200, "Name", "input", "name")
		}
		if in.Slug != nil {
			p.Slug = *in.Slug
			val.slug(p.Slug, "input", "slug")
		}
		if in.Description != nil {
			p.Description = *in.Description
			val.length(p.Description, 0, 10_000, "Description", "input", "description")
		}
		if in.SetAttrs {
			p.Attributes = in.Attributes
			val.pairs(p.Attributes, 50, 500, "Attribute", "input", "attributes")
		}
		if in.SetImages {
			p.ImageURLs = in.ImageURLs
			val.imageURLs(p.ImageURLs, "input", "imageUrls")
		}
		if in.Status != nil {
			if *in.Status != StatusActive && *in.Status != StatusArchived {
				val.add("Unknown status.", "input", "status")
			}
			p.Status = *in.Status
		}
		if err := val.err(); err != nil {
			return err
		}
		if in.CategoryID != nil {
			if err := checkCategory(ctx, q, in.CategoryID, "input", "categoryId"); err != nil {
				return err
			}
			p.CategoryID = in.CategoryID
		}
		row, err := q.ProductUpdate(ctx, db.ProductUpdateParams{
			ID: p.ID, Name: p.Name, Slug: p.Slug, Description: p.Description, CategoryID: p.CategoryID,
			Attributes: kvsToJSON(p.Attributes), ImageURLs: nonNil(p.ImageURLs), Status: db.ProductStatus(p.Status),
		})
		if err != nil {
			return mapWriteError(err)
		}
		updated = productFromRow(productRow(row))
		return s.productChanged(ctx, updated, false)
	})
	if err == nil {
		s.invalidateProducts(ctx, updated.ID)
	}
	return updated, err
}

// Archive hides a product from customers. Errors: NOT_FOUND, FORBIDDEN.
func (s *Service) Archive(ctx context.Context, v auth.Viewer, id int64) (Product, error) {
	archived := StatusArchived
	return s.Update(ctx, v, UpdateInput{ID: id, Status: &archived})
}

// VariantCreate adds a variant to a product. Errors: NOT_FOUND, FORBIDDEN, INVALID, DUPLICATE.
func (s *Service) VariantCreate(ctx context.Context, v auth.Viewer, productID int64, in VariantInput) (Variant, error) {
	var val validator
	in.validate(&val, "input", "variant")
	if err := val.err(); err != nil {
		return Variant{}, err
	}
	var created Variant
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		p, err := lockManaged(ctx, q, v, productID, "input", "productId")
		if err != nil {
			return err
		}
		n, err := q.VariantCountLive(ctx, p.ID)
		if err != nil {
			return err
		}
		if n >= 100 {
			return apperr.FieldError(apperr.Invalid, "A product has at most 100 variants.", "input", "productId")
		}
		row, err := q.VariantInsert(ctx, db.VariantInsertParams{
			ProductID: p.ID, SKU: in.SKU, Name: in.Name, Options: kvsToJSON(in.Options),
			PriceAmount: in.Price, Currency: p.Currency, Stock: int32(in.Stock), Position: int32(n),
		})
		if err != nil {
			return mapVariantError(err, "input", "variant", "sku")
		}
		created = variantFromRow(row)
		refreshed, err := refreshPrices(ctx, q, p.ID)
		if err != nil {
			return err
		}
		return s.productChanged(ctx, refreshed, false) // its variants are part of it
	})
	if err == nil {
		s.invalidateProducts(ctx, created.ProductID)
	}
	return created, err
}

// VariantUpdateInput changes a variant; nil fields keep their value.
type VariantUpdateInput struct {
	ID         int64
	SKU        *string
	Name       *string
	Options    []KV
	SetOptions bool
	Price      *int64
}

// VariantUpdate changes a variant's SKU, name, options or price.
// Errors: NOT_FOUND, FORBIDDEN, INVALID, DUPLICATE.
func (s *Service) VariantUpdate(ctx context.Context, v auth.Viewer, in VariantUpdateInput) (Variant, error) {
	var updated Variant
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		cur, err := lockManagedVariant(ctx, q, v, in.ID)
		if err != nil {
			return err
		}
		next := VariantInput{SKU: cur.SKU, Name: cur.Name, Options: cur.Options, Price: cur.Price.Amount, Stock: int(cur.Stock)}
		if in.SKU != nil {
			next.SKU = *in.SKU
		}
		if in.Name != nil {
			next.Name = *in.Name
		}
		if in.SetOptions {
			next.Options = in.Options
		}
		if in.Price != nil {
			next.Price = *in.Price
		}
		var val validator
		next.validate(&val, "input")
		if err := val.err(); err != nil {
			return err
		}
		row, err := q.VariantUpdate(ctx, db.VariantUpdateParams{
			ID: cur.ID, SKU: next.SKU, Name: next.Name, Options: kvsToJSON(next.Options), PriceAmount: next.Price,
		})
		if err != nil {
			return mapVariantError(err, "input", "sku")
		}
		updated = variantFromRow(row)
		refreshed, err := refreshPrices(ctx, q, cur.ProductID)
		if err != nil {
			return err
		}
		return s.productChanged(ctx, refreshed, false)
	})
	if err == nil {
		s.invalidateProducts(ctx, updated.ProductID)
	}
	return updated, err
}

// VariantDelete soft-deletes a variant; the last live one cannot go.
// Errors: NOT_FOUND, FORBIDDEN, LAST_VARIANT.
func (s *Service) VariantDelete(ctx context.Context, v auth.Viewer, id int64) (Product, error) {
	var p Product
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		cur, err := lockManagedVariant(ctx, q, v, id)
		if err != nil {
			return err
		}
		// The product row is locked by lockManagedVariant, so two deletes of its last two
		// variants serialise and the count below is exact.
		n, err := q.VariantCountLive(ctx, cur.ProductID)
		if err != nil {
			return err
		}
		if n <= 1 {
			return apperr.FieldError(apperr.LastVariant, "A product's last variant cannot be deleted; archive the product instead.", "input", "id")
		}
		if _, err := q.VariantSoftDelete(ctx, cur.ID); err != nil {
			return err
		}
		p, err = refreshPrices(ctx, q, cur.ProductID)
		if err != nil {
			return err
		}
		return s.productChanged(ctx, p, false)
	})
	if err == nil {
		s.invalidateProducts(ctx, p.ID)
	}
	return p, err
}

// MaxStock is the most stock a variant may be given, on creation or by an adjustment; it keeps
// the stock column (a 32-bit integer) far from overflow. Cancelled orders give their units
// back even above it.
const MaxStock = 1_000_000_000

// maxStockText is MaxStock as messages show it, with thousands separators.
var maxStockText = withThousands(MaxStock)

// withThousands writes a non-negative n with a comma between each group of three digits.
func withThousands(n int) string {
	digits := strconv.Itoa(n)
	var b strings.Builder
	for i, d := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return b.String()
}

// StockAdjust changes a variant's stock by delta in one guarded statement: it never goes below
// zero, even against concurrent checkouts, and an increase never takes it above MaxStock.
// Errors: NOT_FOUND, FORBIDDEN, INSUFFICIENT_STOCK, INVALID (delta, or a stock above MaxStock).
func (s *Service) StockAdjust(ctx context.Context, v auth.Viewer, variantID int64, delta int) (Variant, error) {
	return s.StockAdjustNoted(ctx, v, variantID, delta, "")
}

// StockAdjustNoted is StockAdjust with a note kept on the change's MANUAL_ADJUSTMENT movement
// (the ledger, written by the same statement; v is its actor). Errors: StockAdjust's, and
// INVALID for a note longer than MaxMovementNote.
func (s *Service) StockAdjustNoted(ctx context.Context, v auth.Viewer, variantID int64, delta int, note string) (Variant, error) {
	if delta < -MaxStock || delta > MaxStock {
		return Variant{}, apperr.FieldError(apperr.Invalid,
			fmt.Sprintf("Delta must be between -%s and %s.", maxStockText, maxStockText), "input", "delta")
	}
	note = strings.TrimSpace(note)
	if err := checkMovementNote(note, "input", "reason"); err != nil {
		return Variant{}, err
	}
	variants, err := s.VariantsByIDs(ctx, []int64{variantID})
	if err != nil {
		return Variant{}, err
	}
	cur, ok := variants[variantID]
	if !ok || cur.DeletedAt != nil {
		return Variant{}, variantNotFound("input", "variantId")
	}
	if _, err := s.managed(ctx, v, cur.ProductID, "input", "variantId"); err != nil {
		return Variant{}, asVariantNotFound(err, "input", "variantId")
	}
	arg := db.VariantAdjustStockParams{ID: variantID, Delta: int32(delta), MaxStock: MaxStock, ActorID: v.UserID, Note: note}
	var adjusted db.VariantAdjustStockRow
	if s.Webhooks == nil && s.LowStock == nil {
		// One statement: the stock and its movement commit together anyway.
		adjusted, err = s.db.VariantAdjustStock(ctx, arg)
	} else {
		// With hooks, the adjustment, its STOCK_CHANGED event and its low-stock crossing
		// commit together.
		err = s.db.InTxWithTx(ctx, func(ctx context.Context, tx pgx.Tx, q *db.Queries) error {
			var err error
			adjusted, err = q.VariantAdjustStock(ctx, arg)
			if err != nil || delta == 0 {
				return err
			}
			if s.Webhooks != nil {
				if err := s.Webhooks.StockChanged(ctx, tx, []StockMovement{{VariantID: variantID, Delta: delta, Reason: ReasonAdjustment}}); err != nil {
					return err
				}
			}
			return s.lowStockCrossed(ctx, tx, []LowStockCrossing{{VariantID: variantID, VendorID: adjusted.VendorID,
				Quantity: int(adjusted.Stock), Threshold: int(adjusted.LowStockThreshold)}}, []int{int(adjusted.Stock) - delta})
		})
	}
	row := db.ProductVariant{ID: adjusted.ID, ProductID: adjusted.ProductID, SKU: adjusted.SKU, Name: adjusted.Name,
		Options: adjusted.Options, PriceAmount: adjusted.PriceAmount, Currency: adjusted.Currency, Stock: adjusted.Stock,
		Position: adjusted.Position, CreatedAt: adjusted.CreatedAt, UpdatedAt: adjusted.UpdatedAt, DeletedAt: adjusted.DeletedAt}
	if postgres.IsNotFound(err) {
		// No row has three causes; a variant deleted since it was read above is one, and it
		// is NOT_FOUND, not a complaint about the delta. Read it again to tell them apart.
		now, err := s.db.VariantListByIDs(ctx, []int64{variantID})
		switch {
		case err != nil:
			return Variant{}, fmt.Errorf("read variant after a refused adjustment: %w", err)
		case len(now) == 0 || now[0].DeletedAt != nil:
			return Variant{}, variantNotFound("input", "variantId")
		case delta > 0:
			return Variant{}, apperr.FieldError(apperr.Invalid,
				fmt.Sprintf("Stock can be at most %s; this would take it above.", maxStockText), "input", "delta")
		default:
			return Variant{}, apperr.FieldError(apperr.InsufficientStock,
				"Stock cannot go below zero.", "input", "delta")
		}
	}
	if err != nil {
		return Variant{}, postgres.MapError(err, "variant")
	}
	s.invalidateProducts(ctx, row.ProductID)
	return variantFromRow(row), nil
}

// managed returns a product v may manage (no lock).
func (s *Service) managed(ctx context.Context, v auth.Viewer, id int64, field ...string) (Product, error) {
	row, err := s.db.ProductGetByID(ctx, id)
	return checkManaged(v, row, err, field...)
}

// lockManaged locks a product v may manage, for the rest of the transaction.
func lockManaged(ctx context.Context, q *db.Queries, v auth.Viewer, id int64, field ...string) (Product, error) {
	row, err := q.ProductGetByIDForUpdate(ctx, id)
	return checkManaged(v, productRow(row), err, field...)
}

// checkManaged returns the product read as row if v may manage it (mayManage).
func checkManaged(v auth.Viewer, row productRow, err error, field ...string) (Product, error) {
	if postgres.IsNotFound(err) {
		return Product{}, apperr.FieldError(apperr.NotFound, "No product has this ID.", field...)
	}
	if err != nil {
		return Product{}, err
	}
	p := productFromRow(row)
	if err := mayManage(v, p, field...); err != nil {
		return Product{}, err
	}
	return p, nil
}

// lockManagedVariant locks a live variant v may manage, and its product. Errors: NOT_FOUND,
// FORBIDDEN.
func lockManagedVariant(ctx context.Context, q *db.Queries, v auth.Viewer, id int64) (Variant, error) {
	row, err := q.VariantGetByIDForUpdate(ctx, id)
	if postgres.IsNotFound(err) || (err == nil && row.DeletedAt != nil) {
		return Variant{}, variantNotFound("input", "id")
	}
	if err != nil {
		return Variant{}, err
	}
	if _, err := lockManaged(ctx, q, v, row.ProductID, "input", "id"); err != nil {
		return Variant{}, asVariantNotFound(err, "input", "id")
	}
	return variantFromRow(row), nil
}

// variantNotFound is the answer for a variant that does not exist, is deleted, or belongs to
// a product the viewer cannot see: one code and one message, so that a caller cannot tell a
// hidden product's variant from a missing one.
func variantNotFound(field ...string) error {
	return apperr.FieldError(apperr.NotFound, "No variant has this ID.", field...)
}

// asVariantNotFound turns the product check's NOT_FOUND (a product the viewer cannot see) into
// variantNotFound; other errors pass unchanged.
func asVariantNotFound(err error, field ...string) error {
	if apperr.Is(err, apperr.NotFound) {
		return variantNotFound(field...)
	}
	return err
}

func refreshPrices(ctx context.Context, q *db.Queries, productID int64) (Product, error) {
	if err := q.ProductRefreshPrices(ctx, productID); err != nil {
		return Product{}, fmt.Errorf("refresh prices: %w", err)
	}
	row, err := q.ProductGetByID(ctx, productID)
	if err != nil {
		return Product{}, err
	}
	return productFromRow(row), nil
}

func checkCategory(ctx context.Context, q *db.Queries, id *int64, field ...string) error {
	if id == nil {
		return nil
	}
	if _, err := q.CategoryGetByID(ctx, *id); err != nil {
		if postgres.IsNotFound(err) {
			return apperr.FieldError(apperr.NotFound, "No category has this ID.", field...)
		}
		return err
	}
	return nil
}

func mapWriteError(err error) error {
	if postgres.IsUniqueViolation(err, "products_slug_key") {
		return apperr.FieldError(apperr.Duplicate, "Another product already has this slug.", "input", "slug")
	}
	return err
}

func mapVariantError(err error, field ...string) error {
	if postgres.IsUniqueViolation(err, "product_variants_sku_key") {
		return apperr.FieldError(apperr.Duplicate, "Another variant already has this SKU.", field...)
	}
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
