package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// Sort is an order of the product list.
type Sort string

// Sorts.
const (
	SortNewest    Sort = "NEWEST"
	SortPriceAsc  Sort = "PRICE_ASC"
	SortPriceDesc Sort = "PRICE_DESC"
	SortName      Sort = "NAME"
	SortRelevance Sort = "RELEVANCE"
	// SortRating is the best rated first: the average of approved reviews (none last), then
	// how many rated it, then id.
	SortRating Sort = "RATING"
	// SortBestSelling is the most units sold in orders that reached PAID first.
	SortBestSelling Sort = "BEST_SELLING"
)

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Filter restricts the product list; nil fields are off.
type Filter struct {
	Search     *string
	CategoryID *int64
	VendorID   *int64
	MinPrice   *int64
	MaxPrice   *int64
	InStock    *bool
	// MinRating keeps the products whose average rating (approved reviews, two decimals) is at
	// least this; products without a rating are left out.
	MinRating *float64
}

// ListParams is one page request: First/After going forward, or Last/Before going backward.
type ListParams struct {
	First, Last   *int
	After, Before string
	Filter        Filter
	Sort          Sort
}

// Page is one page of products with a cursor for each.
type Page struct {
	Products        []Product
	Cursors         []string
	HasNextPage     bool
	HasPreviousPage bool
}

// cursor is the position of a product in one sort order: its sort key and id. It is encoded
// opaquely; a cursor of another sort order is refused rather than misread.
type cursor struct {
	Sort Sort            `json:"s"`
	Key  json.RawMessage `json:"k"`
	ID   int64           `json:"i"`
}

func encodeCursor(s Sort, key any, id int64) string {
	k, _ := json.Marshal(key)
	b, _ := json.Marshal(cursor{Sort: s, Key: k, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// bound is a decoded cursor; nil when absent.
type bound struct {
	id  int64
	key json.RawMessage
}

func decodeCursor(raw string, s Sort, field string) (*bound, error) {
	if raw == "" {
		return nil, nil
	}
	invalid := apperr.FieldError(apperr.BadUserInput, "The "+field+" cursor is not valid for this list and sort order.", field)
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(raw) > 1000 {
		return nil, invalid
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != s || c.ID <= 0 || len(c.Key) == 0 {
		return nil, invalid
	}
	return &bound{id: c.ID, key: c.Key}, nil
}

// keyOf decodes a bound's key into a typed pointer for the query; nil bound gives nil.
func keyOf[T any](b *bound, field string) (*T, *int64, error) {
	if b == nil {
		return nil, nil, nil
	}
	var k T
	if err := json.Unmarshal(b.key, &k); err != nil {
		return nil, nil, apperr.FieldError(apperr.BadUserInput, "The "+field+" cursor is not valid for this list and sort order.", field)
	}
	return &k, &b.id, nil
}

// pageSize validates first/last and says which direction the page goes.
func (p ListParams) pageSize() (n int, backward bool, err error) {
	switch {
	case p.First != nil && p.Last != nil:
		return 0, false, apperr.New(apperr.BadUserInput, "Give either first or last, not both.")
	case p.Last != nil:
		n, backward = *p.Last, true
	case p.First != nil:
		n = *p.First
	default:
		n = DefaultPageSize
	}
	if n < 1 || n > MaxPageSize {
		return 0, false, apperr.Newf(apperr.BadUserInput, "Page size must be between 1 and %d.", MaxPageSize)
	}
	return n, backward, nil
}

// list runs the keyset query for params and viewer.
func (s *Service) list(ctx context.Context, v *auth.Viewer, p ListParams) (Page, error) {
	n, backward, err := p.pageSize()
	if err != nil {
		return Page{}, err
	}
	if p.Sort == "" {
		p.Sort = SortNewest
	}
	search := normalizedSearch(p.Filter.Search)
	if p.Sort == SortRelevance && search == nil {
		p.Sort = SortNewest
	}
	after, err := decodeCursor(p.After, p.Sort, "after")
	if err != nil {
		return Page{}, err
	}
	before, err := decodeCursor(p.Before, p.Sort, "before")
	if err != nil {
		return Page{}, err
	}
	f, err := s.queryFilter(ctx, v, p.Filter, search)
	if err != nil {
		return Page{}, err
	}
	if f.nothing {
		return buildPage(p, n, backward, nil, nil), nil
	}
	lim := int32(n + 1) // one more tells whether another page follows

	var (
		rows []productRow
		keys []any
	)
	q := s.reads(ctx).CustomPlans
	switch p.Sort {
	case SortNewest:
		ak, aid, err1 := keyOf[time.Time](after, "after")
		bk, bid, err2 := keyOf[time.Time](before, "before")
		if err := firstErr(err1, err2); err != nil {
			return Page{}, err
		}
		params := db.ProductListNewestForwardParams{
			SeeArchived: f.SeeArchived, ViewerVendorID: f.ViewerVendorID, CategoryIds: f.CategoryIds, VendorID: f.VendorID,
			MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating, SearchQuery: f.SearchQuery,
			AfterKey: ak, AfterID: aid, BeforeKey: bk, BeforeID: bid, Lim: lim,
		}
		rows, err = runList(ctx, backward, params, func(p db.ProductListNewestForwardParams) db.ProductListNewestBackwardParams {
			return db.ProductListNewestBackwardParams(p)
		}, q.ProductListNewestForward, q.ProductListNewestBackward)
		for _, r := range rows {
			keys = append(keys, r.CreatedAt)
		}
	case SortPriceAsc, SortPriceDesc:
		ak, aid, err1 := keyOf[int64](after, "after")
		bk, bid, err2 := keyOf[int64](before, "before")
		if err := firstErr(err1, err2); err != nil {
			return Page{}, err
		}
		params := db.ProductListPriceAscForwardParams{
			SeeArchived: f.SeeArchived, ViewerVendorID: f.ViewerVendorID, CategoryIds: f.CategoryIds, VendorID: f.VendorID,
			MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating, SearchQuery: f.SearchQuery,
			AfterKey: ak, AfterID: aid, BeforeKey: bk, BeforeID: bid, Lim: lim,
		}
		if p.Sort == SortPriceAsc {
			rows, err = runList(ctx, backward, params, func(p db.ProductListPriceAscForwardParams) db.ProductListPriceAscBackwardParams {
				return db.ProductListPriceAscBackwardParams(p)
			}, q.ProductListPriceAscForward, q.ProductListPriceAscBackward)
		} else {
			rows, err = runList(ctx, backward, db.ProductListPriceDescForwardParams(params), func(p db.ProductListPriceDescForwardParams) db.ProductListPriceDescBackwardParams {
				return db.ProductListPriceDescBackwardParams(p)
			}, q.ProductListPriceDescForward, q.ProductListPriceDescBackward)
		}
		for _, r := range rows {
			keys = append(keys, r.MinPrice)
		}
	case SortName:
		ak, aid, err1 := keyOf[string](after, "after")
		bk, bid, err2 := keyOf[string](before, "before")
		if err := firstErr(err1, err2); err != nil {
			return Page{}, err
		}
		params := db.ProductListNameForwardParams{
			SeeArchived: f.SeeArchived, ViewerVendorID: f.ViewerVendorID, CategoryIds: f.CategoryIds, VendorID: f.VendorID,
			MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating, SearchQuery: f.SearchQuery,
			AfterKey: ak, AfterID: aid, BeforeKey: bk, BeforeID: bid, Lim: lim,
		}
		rows, err = runList(ctx, backward, params, func(p db.ProductListNameForwardParams) db.ProductListNameBackwardParams {
			return db.ProductListNameBackwardParams(p)
		}, q.ProductListNameForward, q.ProductListNameBackward)
		for _, r := range rows {
			keys = append(keys, r.Name)
		}
	case SortRating:
		rows, keys, err = s.listByRating(ctx, backward, f, after, before, lim)
	case SortBestSelling:
		rows, keys, err = s.listBestSelling(ctx, backward, f, after, before, lim)
	case SortRelevance:
		ak, aid, err1 := keyOf[float32](after, "after")
		bk, bid, err2 := keyOf[float32](before, "before")
		if err := firstErr(err1, err2); err != nil {
			return Page{}, err
		}
		params := db.ProductListRelevanceForwardParams{
			SearchQuery: *f.SearchQuery, NameQuery: f.nameQuery, NameRanksFirst: f.nameRanksFirst, Candidates: searchCandidates,
			SeeArchived: f.SeeArchived, ViewerVendorID: f.ViewerVendorID, CategoryIds: f.CategoryIds,
			VendorID: f.VendorID, MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating,
			AfterKey: ak, AfterID: aid, BeforeKey: bk, BeforeID: bid, Lim: lim,
		}
		var ranked []db.ProductListRelevanceForwardRow
		if backward {
			var back []db.ProductListRelevanceBackwardRow
			back, err = q.ProductListRelevanceBackward(ctx, db.ProductListRelevanceBackwardParams(params))
			for _, r := range back {
				ranked = append(ranked, db.ProductListRelevanceForwardRow(r))
			}
		} else {
			ranked, err = q.ProductListRelevanceForward(ctx, params)
		}
		for _, r := range ranked {
			rows = append(rows, productRow{
				ID: r.ID, Name: r.Name, Slug: r.Slug, Description: r.Description, CategoryID: r.CategoryID,
				VendorID: r.VendorID, Attributes: r.Attributes, ImageURLs: r.ImageURLs, Status: r.Status,
				Currency: r.Currency, MinPrice: r.MinPrice, MaxPrice: r.MaxPrice, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
				VendorActive: r.VendorActive,
			})
			keys = append(keys, r.Rank)
		}
	default:
		return Page{}, apperr.FieldError(apperr.BadUserInput, "Unknown sort order.", "sort")
	}
	if err != nil {
		return Page{}, fmt.Errorf("list products (%s): %w", p.Sort, err)
	}
	return buildPage(p, n, backward, rows, keys), nil
}

// productRowLike is every generated row type with exactly the product columns.
type productRowLike interface {
	~struct {
		ID           int64
		Name         string
		Slug         string
		Description  string
		CategoryID   *int64
		VendorID     *int64
		Attributes   []byte
		ImageURLs    []string
		Status       db.ProductStatus
		Currency     string
		MinPrice     int64
		MaxPrice     int64
		CreatedAt    time.Time
		UpdatedAt    time.Time
		VendorActive bool
	}
}

// runList runs the forward query, or the backward one, whose params have the same fields.
func runList[P, PB any, RF, RB productRowLike](ctx context.Context, backward bool, params P, toBackward func(P) PB,
	fwd func(context.Context, P) ([]RF, error), bwd func(context.Context, PB) ([]RB, error)) ([]productRow, error) {
	if backward {
		rs, err := bwd(ctx, toBackward(params))
		return toProductRows(rs), err
	}
	rs, err := fwd(ctx, params)
	return toProductRows(rs), err
}

func toProductRows[R productRowLike](rs []R) []productRow {
	out := make([]productRow, len(rs))
	for i, r := range rs {
		out[i] = productRow(r)
	}
	return out
}

func buildPage(p ListParams, n int, backward bool, rows []productRow, keys []any) Page {
	more := len(rows) > n
	if more {
		rows, keys = rows[:n], keys[:n]
	}
	if backward {
		// The backward query reads in reverse order; pages are always in list order.
		slices.Reverse(rows)
		slices.Reverse(keys)
	}
	page := Page{Products: make([]Product, len(rows)), Cursors: make([]string, len(rows))}
	for i, r := range rows {
		page.Products[i] = productFromRow(r)
		page.Cursors[i] = encodeCursor(p.Sort, keys[i], r.ID)
	}
	if backward {
		page.HasPreviousPage, page.HasNextPage = more, p.Before != ""
	} else {
		page.HasNextPage, page.HasPreviousPage = more, p.After != ""
	}
	return page
}

// queryFilter is the filter part shared by every list query and the count.
type queryFilter struct {
	SeeArchived    bool
	ViewerVendorID *int64
	CategoryIds    []int64
	VendorID       *int64
	MinPrice       *int64
	MaxPrice       *int64
	InStock        *bool
	MinRating      *float64
	// SearchQuery is the compiled search (a tsquery text) every list statement and the count
	// match with `p.search @@ query`; nil when there is no search.
	SearchQuery *string
	// nameQuery restricts SearchQuery to names: the relevance order's first candidates.
	nameQuery string
	// nameRanksFirst is SearchQuery.NameRanksFirst.
	nameRanksFirst bool
	// nothing: the search text holds nothing to search for, so no product matches.
	nothing bool
}

func (s *Service) queryFilter(ctx context.Context, v *auth.Viewer, f Filter, search *string) (queryFilter, error) {
	if err := validMinRating(f); err != nil {
		return queryFilter{}, err
	}
	qf := queryFilter{VendorID: f.VendorID, MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating}
	if search != nil {
		// Compiled once per request; the list and its count each compile their own, but
		// both are cached.
		sq, err := s.search.Compile(ctx, *search, CompileOptions{})
		if err != nil {
			return queryFilter{}, err
		}
		qf.SearchQuery, qf.nameQuery, qf.nameRanksFirst, qf.nothing = &sq.Match, sq.Name, sq.NameRanksFirst, sq.Empty
	}
	sc := listScope(v)
	qf.SeeArchived, qf.ViewerVendorID = sc.SeeArchived, sc.VendorID
	if f.CategoryID != nil {
		ids, err := s.categoryAndDescendants(ctx, *f.CategoryID)
		if err != nil {
			return queryFilter{}, err
		}
		qf.CategoryIds = ids
	}
	return qf, nil
}

// normalizedSearch trims the search text; blank means no search.
func normalizedSearch(s *string) *string {
	if s == nil {
		return nil
	}
	// NUL cannot be stored or searched in PostgreSQL text; invalid UTF-8 is dropped likewise.
	t := strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(*s, "\x00", ""), ""))
	if t == "" {
		return nil
	}
	if r := []rune(t); len(r) > 200 {
		t = string(r[:200])
	}
	return &t
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
