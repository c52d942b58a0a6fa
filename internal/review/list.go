package review

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
)

// Sort is an order of a product's reviews.
type Sort string

// Sorts.
const (
	SortNewest      Sort = "NEWEST"
	SortHighest     Sort = "HIGHEST"
	SortLowest      Sort = "LOWEST"
	SortMostHelpful Sort = "MOST_HELPFUL"
)

// Page sizes, as for every connection.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// ListParams is one page request: First/After going forward, or Last/Before going backward.
type ListParams struct {
	First, Last   *int
	After, Before string
	Sort          Sort
	// Rating keeps only the reviews of this many stars (1 to 5); nil keeps all.
	Rating *int
}

// Page is one page of reviews with a cursor for each.
type Page struct {
	Reviews         []Review
	Cursors         []string
	HasNextPage     bool
	HasPreviousPage bool
}

// cursor is a review's position in one sort order: its key and id, opaque to clients; one of
// another order is refused rather than misread.
type cursor struct {
	Sort Sort            `json:"s"`
	Key  json.RawMessage `json:"k"`
	ID   int64           `json:"i"`
}

type bound struct {
	id  int64
	key json.RawMessage
}

func invalidCursor(field string) error {
	return apperr.FieldError(apperr.BadUserInput, "The "+field+" cursor is not valid for this list and sort order.", field)
}

func decodeCursor(raw string, s Sort, field string) (*bound, error) {
	if raw == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(raw) > 1000 {
		return nil, invalidCursor(field)
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.Sort != s || c.ID <= 0 || len(c.Key) == 0 {
		return nil, invalidCursor(field)
	}
	return &bound{id: c.ID, key: c.Key}, nil
}

func keyOf[T any](b *bound, field string) (*T, *int64, error) {
	if b == nil {
		return nil, nil, nil
	}
	var k T
	if err := json.Unmarshal(b.key, &k); err != nil {
		return nil, nil, invalidCursor(field)
	}
	return &k, &b.id, nil
}

func encodeCursor(s Sort, key any, id int64) string {
	k, _ := json.Marshal(key)
	b, _ := json.Marshal(cursor{Sort: s, Key: k, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
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

func (p ListParams) rating() (*int16, error) {
	if p.Rating == nil {
		return nil, nil
	}
	if *p.Rating < 1 || *p.Rating > 5 {
		return nil, apperr.FieldError(apperr.BadUserInput, "filter.rating must be 1 to 5.", "filter", "rating")
	}
	r := int16(*p.Rating)
	return &r, nil
}

// keyParams are the keyset bounds of one page, decoded for a key of type K.
type keyParams[K any] struct {
	afterKey, beforeKey *K
	afterID, beforeID   *int64
}

func boundsOf[K any](p ListParams) (keyParams[K], error) {
	after, err := decodeCursor(p.After, p.Sort, "after")
	if err != nil {
		return keyParams[K]{}, err
	}
	before, err := decodeCursor(p.Before, p.Sort, "before")
	if err != nil {
		return keyParams[K]{}, err
	}
	var kp keyParams[K]
	if kp.afterKey, kp.afterID, err = keyOf[K](after, "after"); err != nil {
		return kp, err
	}
	kp.beforeKey, kp.beforeID, err = keyOf[K](before, "before")
	return kp, err
}

// ListByProduct returns one page of the product's reviews that v (nil when anonymous) sees:
// the APPROVED ones, the viewer's own, every one for admins. The caller has checked that v
// sees the product. Errors: BAD_USER_INPUT (page size, cursor, filter.rating).
func (s *Service) ListByProduct(ctx context.Context, v *auth.Viewer, productID int64, p ListParams) (Page, error) {
	n, backward, err := p.pageSize()
	if err != nil {
		return Page{}, err
	}
	if p.Sort == "" {
		p.Sort = SortNewest
	}
	rating, err := p.rating()
	if err != nil {
		return Page{}, err
	}
	sc := listScope(v)
	lim := int32(n + 1) // one more tells whether another page follows
	q := s.db.Queries
	var (
		rows []db.Review
		key  func(db.Review) any
	)
	switch p.Sort {
	case SortNewest:
		b, err := boundsOf[time.Time](p)
		if err != nil {
			return Page{}, err
		}
		params := db.ReviewListByProductNewestForwardParams{ProductID: productID, ViewerID: sc.ViewerID, SeeAll: sc.SeeAll, Rating: rating,
			AfterKey: b.afterKey, AfterID: b.afterID, BeforeKey: b.beforeKey, BeforeID: b.beforeID, Lim: lim}
		if backward {
			rows, err = q.ReviewListByProductNewestBackward(ctx, db.ReviewListByProductNewestBackwardParams(params))
		} else {
			rows, err = q.ReviewListByProductNewestForward(ctx, params)
		}
		if err != nil {
			return Page{}, fmt.Errorf("list reviews: %w", err)
		}
		key = func(r db.Review) any { return r.CreatedAt }
	case SortHighest, SortLowest:
		b, err := boundsOf[int16](p)
		if err != nil {
			return Page{}, err
		}
		params := db.ReviewListByProductHighestForwardParams{ProductID: productID, ViewerID: sc.ViewerID, SeeAll: sc.SeeAll, Rating: rating,
			AfterKey: b.afterKey, AfterID: b.afterID, BeforeKey: b.beforeKey, BeforeID: b.beforeID, Lim: lim}
		switch {
		case p.Sort == SortHighest && backward:
			rows, err = q.ReviewListByProductHighestBackward(ctx, db.ReviewListByProductHighestBackwardParams(params))
		case p.Sort == SortHighest:
			rows, err = q.ReviewListByProductHighestForward(ctx, params)
		case backward:
			rows, err = q.ReviewListByProductLowestBackward(ctx, db.ReviewListByProductLowestBackwardParams(params))
		default:
			rows, err = q.ReviewListByProductLowestForward(ctx, db.ReviewListByProductLowestForwardParams(params))
		}
		if err != nil {
			return Page{}, fmt.Errorf("list reviews: %w", err)
		}
		key = func(r db.Review) any { return r.Rating }
	case SortMostHelpful:
		b, err := boundsOf[int32](p)
		if err != nil {
			return Page{}, err
		}
		params := db.ReviewListByProductMostHelpfulForwardParams{ProductID: productID, ViewerID: sc.ViewerID, SeeAll: sc.SeeAll, Rating: rating,
			AfterKey: b.afterKey, AfterID: b.afterID, BeforeKey: b.beforeKey, BeforeID: b.beforeID, Lim: lim}
		if backward {
			rows, err = q.ReviewListByProductMostHelpfulBackward(ctx, db.ReviewListByProductMostHelpfulBackwardParams(params))
		} else {
			rows, err = q.ReviewListByProductMostHelpfulForward(ctx, params)
		}
		if err != nil {
			return Page{}, fmt.Errorf("list reviews: %w", err)
		}
		key = func(r db.Review) any { return r.HelpfulCount }
	default:
		return Page{}, apperr.FieldError(apperr.BadUserInput, "Unknown sort order.", "sort")
	}
	return buildPage(p, n, backward, rows, key), nil
}

// CountByProduct is how many of the product's reviews v sees with the rating filter.
func (s *Service) CountByProduct(ctx context.Context, v *auth.Viewer, productID int64, p ListParams) (int, error) {
	rating, err := p.rating()
	if err != nil {
		return 0, err
	}
	sc := listScope(v)
	n, err := s.db.ReviewCountByProduct(ctx, db.ReviewCountByProductParams{ProductID: productID, ViewerID: sc.ViewerID, SeeAll: sc.SeeAll, Rating: rating})
	if err != nil {
		return 0, fmt.Errorf("count reviews: %w", err)
	}
	return int(n), nil
}

// ShowsUserReviews reports whether v may list account userID's reviews: the account itself
// and admins.
func (s *Service) ShowsUserReviews(v *auth.Viewer, userID int64) bool {
	return seesUserReviews(v, userID)
}

// ListByUser returns one page of an account's reviews, newest first, every status: only for
// the account itself and admins (ShowsUserReviews; FORBIDDEN otherwise).
// Errors: FORBIDDEN, BAD_USER_INPUT.
func (s *Service) ListByUser(ctx context.Context, v *auth.Viewer, userID int64, p ListParams) (Page, error) {
	if !seesUserReviews(v, userID) {
		return Page{}, apperr.New(apperr.Forbidden, "Only the account itself and admins see its reviews.")
	}
	n, backward, err := p.pageSize()
	if err != nil {
		return Page{}, err
	}
	p.Sort = SortNewest
	b, err := boundsOf[time.Time](p)
	if err != nil {
		return Page{}, err
	}
	params := db.ReviewListByUserForwardParams{UserID: userID,
		AfterKey: b.afterKey, AfterID: b.afterID, BeforeKey: b.beforeKey, BeforeID: b.beforeID, Lim: int32(n + 1)}
	var rows []db.Review
	if backward {
		rows, err = s.db.ReviewListByUserBackward(ctx, db.ReviewListByUserBackwardParams(params))
	} else {
		rows, err = s.db.ReviewListByUserForward(ctx, params)
	}
	if err != nil {
		return Page{}, fmt.Errorf("list reviews of user: %w", err)
	}
	return buildPage(p, n, backward, rows, func(r db.Review) any { return r.CreatedAt }), nil
}

// CountByUser is how many reviews the account wrote (for those ShowsUserReviews allows).
func (s *Service) CountByUser(ctx context.Context, v *auth.Viewer, userID int64) (int, error) {
	if !seesUserReviews(v, userID) {
		return 0, apperr.New(apperr.Forbidden, "Only the account itself and admins see its reviews.")
	}
	n, err := s.db.ReviewCountByUser(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("count reviews of user: %w", err)
	}
	return int(n), nil
}

func buildPage(p ListParams, n int, backward bool, rows []db.Review, key func(db.Review) any) Page {
	more := len(rows) > n
	if more {
		rows = rows[:n]
	}
	if backward {
		// The backward query reads in reverse order; pages are always in list order.
		slices.Reverse(rows)
	}
	page := Page{Reviews: fromRows(rows), Cursors: make([]string, len(rows))}
	for i, r := range rows {
		page.Cursors[i] = encodeCursor(p.Sort, key(r), r.ID)
	}
	if backward {
		page.HasPreviousPage, page.HasNextPage = more, p.Before != ""
	} else {
		page.HasNextPage, page.HasPreviousPage = more, p.After != ""
	}
	return page
}
