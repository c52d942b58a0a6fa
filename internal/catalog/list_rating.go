package catalog

import (
	"context"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
)

// ratingKey is a RATING cursor's sort key: the average in hundredths (0 for none), exact where
// a float would not be, and the number of ratings.
type ratingKey struct {
	Hundredths int32 `json:"a"`
	Count      int32 `json:"c"`
}

// listByRating reads one page in RATING order (ProductListRating*).
func (s *Service) listByRating(ctx context.Context, backward bool, f queryFilter, after, before *bound, lim int32) ([]productRow, []any, error) {
	ak, aid, err1 := keyOf[ratingKey](after, "after")
	bk, bid, err2 := keyOf[ratingKey](before, "before")
	if err := firstErr(err1, err2); err != nil {
		return nil, nil, err
	}
	params := db.ProductListRatingForwardParams{
		SeeArchived: f.SeeArchived, ViewerVendorID: f.ViewerVendorID, CategoryIds: f.CategoryIds, VendorID: f.VendorID,
		MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating, SearchQuery: f.SearchQuery,
		AfterID: aid, BeforeID: bid, Lim: lim,
	}
	if ak != nil {
		params.AfterKey, params.AfterCount = &ak.Hundredths, &ak.Count
	}
	if bk != nil {
		params.BeforeKey, params.BeforeCount = &bk.Hundredths, &bk.Count
	}
	var rated []db.ProductListRatingForwardRow
	var err error
	q := s.reads(ctx).CustomPlans
	if backward {
		var back []db.ProductListRatingBackwardRow
		back, err = q.ProductListRatingBackward(ctx, db.ProductListRatingBackwardParams(params))
		for _, r := range back {
			rated = append(rated, db.ProductListRatingForwardRow(r))
		}
	} else {
		rated, err = q.ProductListRatingForward(ctx, params)
	}
	rows := make([]productRow, 0, len(rated))
	keys := make([]any, 0, len(rated))
	for _, r := range rated {
		rows = append(rows, productRow{
			ID: r.ID, Name: r.Name, Slug: r.Slug, Description: r.Description, CategoryID: r.CategoryID,
			VendorID: r.VendorID, Attributes: r.Attributes, ImageURLs: r.ImageURLs, Status: r.Status,
			Currency: r.Currency, MinPrice: r.MinPrice, MaxPrice: r.MaxPrice, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			VendorActive: r.VendorActive,
		})
		keys = append(keys, ratingKey{Hundredths: r.RatingKey, Count: r.RatingCount})
	}
	return rows, keys, err
}

// listBestSelling reads one page in BEST_SELLING order (ProductListBestSelling*).
func (s *Service) listBestSelling(ctx context.Context, backward bool, f queryFilter, after, before *bound, lim int32) ([]productRow, []any, error) {
	ak, aid, err1 := keyOf[int64](after, "after")
	bk, bid, err2 := keyOf[int64](before, "before")
	if err := firstErr(err1, err2); err != nil {
		return nil, nil, err
	}
	params := db.ProductListBestSellingForwardParams{
		SeeArchived: f.SeeArchived, ViewerVendorID: f.ViewerVendorID, CategoryIds: f.CategoryIds, VendorID: f.VendorID,
		MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, InStock: f.InStock, MinRating: f.MinRating, SearchQuery: f.SearchQuery,
		AfterKey: ak, AfterID: aid, BeforeKey: bk, BeforeID: bid, Lim: lim,
	}
	var sold []db.ProductListBestSellingForwardRow
	var err error
	q := s.reads(ctx).CustomPlans
	if backward {
		var back []db.ProductListBestSellingBackwardRow
		back, err = q.ProductListBestSellingBackward(ctx, db.ProductListBestSellingBackwardParams(params))
		for _, r := range back {
			sold = append(sold, db.ProductListBestSellingForwardRow(r))
		}
	} else {
		sold, err = q.ProductListBestSellingForward(ctx, params)
	}
	rows := make([]productRow, 0, len(sold))
	keys := make([]any, 0, len(sold))
	for _, r := range sold {
		rows = append(rows, productRow{
			ID: r.ID, Name: r.Name, Slug: r.Slug, Description: r.Description, CategoryID: r.CategoryID,
			VendorID: r.VendorID, Attributes: r.Attributes, ImageURLs: r.ImageURLs, Status: r.Status,
			Currency: r.Currency, MinPrice: r.MinPrice, MaxPrice: r.MaxPrice, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			VendorActive: r.VendorActive,
		})
		keys = append(keys, r.UnitsSold)
	}
	return rows, keys, err
}

// validMinRating checks ProductFilter.minRating: 1 to 5. Errors: BAD_USER_INPUT (filter.minRating).
func validMinRating(f Filter) error {
	if f.MinRating != nil && (*f.MinRating < 1 || *f.MinRating > 5) {
		return apperr.FieldError(apperr.BadUserInput, "minRating must be between 1 and 5.", "filter", "minRating")
	}
	return nil
}
