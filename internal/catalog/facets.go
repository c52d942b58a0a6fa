package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// Facets are the counts a storefront draws the filters of a product list with: of the products
// a viewer may see that match a filter. The category, price, stock and rating facets each
// ignore their own filter (disjunctive facets: a shopper who picked a category still sees the
// others' counts); attributes apply the whole filter.
type Facets struct {
	Categories   []CategoryFacetValue
	PriceBuckets []PriceBucket
	Ratings      []RatingFacetValue
	Stock        StockFacet
	Attributes   []AttributeFacet
}

// CategoryFacetValue is a category and how many matching products it and its subcategories
// hold: what filtering on it would list.
type CategoryFacetValue struct {
	Category Category
	Count    int
}

// PriceBucket is a price range in minor units, both ends inclusive (Max nil: open-ended), and
// how many matching products have a price range overlapping it: what filtering on
// minPrice=Min, maxPrice=Max would list.
type PriceBucket struct {
	Min   int64
	Max   *int64
	Count int
}

// RatingFacetValue is how many matching products have an average rating of MinRating stars or
// more.
type RatingFacetValue struct {
	MinRating int
	Count     int
}

// StockFacet is how many matching products are in stock and out of stock.
type StockFacet struct {
	InStock    int
	OutOfStock int
}

// AttributeFacet is an attribute key, how many matching products have it, and its most common
// values.
type AttributeFacet struct {
	Key    string
	Count  int
	Values []AttributeFacetValue
}

// AttributeFacetValue is an attribute value and how many matching products have it.
type AttributeFacetValue struct {
	Value string
	Count int
}

// Bounds of the facets.
var (
	// PriceEdges are the fixed edges of the price buckets, in minor units: under 10.00,
	// 10.00–24.99, …, 1000.00 and up. Fixed rather than computed from the prices found, so that
	// buckets stay put while the shopper narrows the list, and a bucket's count is cacheable.
	PriceEdges = []int64{1000, 2500, 5000, 10000, 25000, 50000, 100000}
	// RatingFloors are the rating facet's "N stars and up", highest first.
	RatingFloors = []int{4, 3, 2, 1}
)

// Attribute facet bounds: a catalog may hold free-text attributes with a value per product.
const (
	MaxAttributeKeys   = 10
	MaxAttributeValues = 20
)

// Facets returns the facets of the products v may see that match f, in one statement. Pages
// of customers are cached briefly, like the list they describe.
func (s *Service) Facets(ctx context.Context, v *auth.Viewer, f Filter) (Facets, error) {
	return cachedList(ctx, s, v, "facets", f, func(ctx context.Context) (Facets, error) {
		qf, err := s.queryFilter(ctx, v, f, normalizedSearch(f.Search))
		if err != nil {
			return Facets{}, err
		}
		if qf.nothing {
			return facetsFromRows(nil, nil), nil
		}
		rows, err := s.reads(ctx).CustomPlans.ProductFacetCounts(ctx, db.ProductFacetCountsParams{
			ValuesPerKey: MaxAttributeValues, MaxKeys: MaxAttributeKeys, PriceEdges: PriceEdges,
			CategoryIds: qf.CategoryIds, MinPrice: qf.MinPrice, MaxPrice: qf.MaxPrice, InStock: qf.InStock, MinRating: qf.MinRating,
			SeeArchived: qf.SeeArchived, ViewerVendorID: qf.ViewerVendorID, VendorID: qf.VendorID, SearchQuery: qf.SearchQuery,
		})
		if err != nil {
			return Facets{}, fmt.Errorf("count product facets: %w", err)
		}
		categories, err := s.Categories(ctx)
		if err != nil {
			return Facets{}, err
		}
		return facetsFromRows(rows, categories), nil
	})
}

// facetsFromRows assembles the facets from ProductFacetCounts' rows (in its order).
func facetsFromRows(rows []db.ProductFacetCountsRow, categories []Category) Facets {
	out := Facets{Categories: []CategoryFacetValue{}, PriceBuckets: []PriceBucket{}, Ratings: []RatingFacetValue{}, Attributes: []AttributeFacet{}}
	direct := map[int64]int{}
	stars := map[int]int{}
	for _, r := range rows {
		num, n := int64(0), int(r.N)
		if r.Num != nil {
			num = *r.Num
		}
		switch r.Facet {
		case "category":
			direct[num] = n
		case "price":
			out.PriceBuckets = append(out.PriceBuckets, priceBucket(int(num), n))
		case "stock":
			if num == 1 {
				out.Stock.InStock = n
			} else {
				out.Stock.OutOfStock = n
			}
		case "rating":
			stars[int(num)] = n
		case "attribute":
			if r.AttrKey == nil || r.AttrValue == nil {
				continue
			}
			if k := len(out.Attributes); k == 0 || out.Attributes[k-1].Key != *r.AttrKey {
				out.Attributes = append(out.Attributes, AttributeFacet{Key: *r.AttrKey, Count: int(r.KeyTotal)})
			}
			a := &out.Attributes[len(out.Attributes)-1]
			a.Values = append(a.Values, AttributeFacetValue{Value: *r.AttrValue, Count: n})
		}
	}
	slices.SortFunc(out.PriceBuckets, func(a, b PriceBucket) int { return int(a.Min - b.Min) })
	for _, floor := range RatingFloors {
		total := 0
		for s, n := range stars {
			if s >= floor {
				total += n
			}
		}
		if total > 0 {
			out.Ratings = append(out.Ratings, RatingFacetValue{MinRating: floor, Count: total})
		}
	}
	out.Categories = rollUpCategories(direct, categories)
	return out
}

// priceBucket is bucket i of PriceEdges (width_bucket's numbering: 0 is below the first edge).
func priceBucket(i, n int) PriceBucket {
	b := PriceBucket{Count: n}
	if i > 0 {
		b.Min = PriceEdges[min(i, len(PriceEdges))-1]
	}
	if i < len(PriceEdges) {
		hi := PriceEdges[i] - 1
		b.Max = &hi
	}
	return b
}

// rollUpCategories gives each category the products of its subcategories too, as the
// categoryId filter matches them: most products first, then by name.
func rollUpCategories(direct map[int64]int, categories []Category) []CategoryFacetValue {
	byID := make(map[int64]Category, len(categories))
	for _, c := range categories {
		byID[c.ID] = c
	}
	total := map[int64]int{}
	for id, n := range direct {
		// Up the tree from the product's category; seen guards against a cycle.
		seen := map[int64]bool{}
		for c, ok := byID[id]; ok && !seen[c.ID]; {
			seen[c.ID] = true
			total[c.ID] += n
			if c.ParentID == nil {
				break
			}
			c, ok = byID[*c.ParentID]
		}
	}
	out := make([]CategoryFacetValue, 0, len(total))
	for id, n := range total {
		out = append(out, CategoryFacetValue{Category: byID[id], Count: n})
	}
	slices.SortFunc(out, func(a, b CategoryFacetValue) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if a.Category.Name != b.Category.Name {
			if a.Category.Name < b.Category.Name {
				return -1
			}
			return 1
		}
		return int(a.Category.ID - b.Category.ID)
	})
	return out
}
