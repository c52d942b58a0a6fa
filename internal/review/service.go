package review

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Service is the review use cases.
type Service struct {
	db      *postgres.DB
	catalog *catalog.Service
	log     *slog.Logger
	// AutoApprove approves new and edited reviews at once (REVIEWS_AUTO_APPROVE); otherwise
	// they wait, PENDING, for an admin.
	AutoApprove bool
}

// NewService returns a review service; products are read (and their caches invalidated)
// through c.
func NewService(d *postgres.DB, c *catalog.Service, log *slog.Logger) *Service {
	return &Service{db: d, catalog: c, log: log}
}

// Create writes the viewer's review of a product it bought. Its status is PENDING, or
// APPROVED with AutoApprove (and then the product's rating counts it in the same transaction).
// Errors: INVALID (input.rating, input.title, input.body), NOT_FOUND (input.productId, also for
// a product the viewer may not see), NOT_PURCHASED, ALREADY_REVIEWED; nothing changes on any.
func (s *Service) Create(ctx context.Context, v auth.Viewer, productID int64, in Input) (Review, error) {
	in, err := in.clean()
	if err != nil {
		return Review{}, err
	}
	if _, err := s.catalog.Get(ctx, &v, productID); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Review{}, apperr.FieldError(apperr.NotFound, "No product has this ID.", "input", "productId")
		}
		return Review{}, err
	}
	var out Review
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		purchased, err := q.ReviewPurchased(ctx, db.ReviewPurchasedParams{UserID: &v.UserID, ProductID: productID, Statuses: orderStatuses()})
		if err != nil {
			return fmt.Errorf("check purchase: %w", err)
		}
		if err := mayWrite(purchased); err != nil {
			return err
		}
		row, err := q.ReviewInsert(ctx, db.ReviewInsertParams{
			ProductID: productID, UserID: v.UserID, Rating: int16(in.Rating), Title: in.Title, Body: in.Body,
			Status: db.ReviewStatus(statusAfterWrite(s.AutoApprove)),
		})
		if postgres.IsUniqueViolation(err, "reviews_user_product_key") {
			return apperr.FieldError(apperr.AlreadyReviewed, "You have reviewed this product already; edit your review instead.", "input", "productId")
		}
		if err != nil {
			return fmt.Errorf("insert review: %w", err)
		}
		out = fromRow(row)
		s.invalidateAfterCommit(ctx, productID)
		return nil
	})
	return out, err
}

// Update replaces the rating, title and body of the viewer's review. The edit goes back to
// moderation (PENDING, or APPROVED with AutoApprove) whatever its status was: what an admin
// approved is not what the review says any more. Errors: NOT_FOUND (input.id), FORBIDDEN
// (another's review), INVALID per field; nothing changes on any.
func (s *Service) Update(ctx context.Context, v auth.Viewer, id int64, in Input) (Review, error) {
	in, err := in.clean()
	if err != nil {
		return Review{}, err
	}
	return s.change(ctx, id, "id", func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error) {
		if err := mayChange(v, r, p, "input", "id"); err != nil {
			return db.Review{}, err
		}
		return q.ReviewUpdate(ctx, db.ReviewUpdateParams{
			ID: id, Rating: int16(in.Rating), Title: in.Title, Body: in.Body, Status: db.ReviewStatus(statusAfterWrite(s.AutoApprove)),
		})
	})
}

// Delete removes the viewer's review (and its votes and reports); the product's rating no
// longer counts it. It returns the review as it was. Errors: NOT_FOUND (input.id), FORBIDDEN.
func (s *Service) Delete(ctx context.Context, v auth.Viewer, id int64) (Review, error) {
	var gone Review
	_, err := s.change(ctx, id, "id", func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error) {
		if err := mayChange(v, r, p, "input", "id"); err != nil {
			return db.Review{}, err
		}
		if _, err := q.ReviewDelete(ctx, id); err != nil {
			return db.Review{}, err
		}
		gone = r
		return db.Review{ID: r.ID, ProductID: r.ProductID}, nil
	})
	return gone, err
}

// Moderate approves or rejects a review (admins), with an optional reason that the author
// reads. The product's rating follows in the same transaction. Errors: FORBIDDEN, NOT_FOUND
// (input.id), INVALID (input.status: only APPROVED or REJECTED; input.reason: at most 1,000).
func (s *Service) Moderate(ctx context.Context, v auth.Viewer, id int64, to Status, reason *string) (Review, error) {
	if err := mayModerate(v); err != nil {
		return Review{}, err
	}
	if to != StatusApproved && to != StatusRejected {
		return Review{}, apperr.FieldError(apperr.Invalid, "A moderator approves or rejects a review.", "input", "status")
	}
	if reason = trimmed(reason); reason != nil {
		r, err := requiredText(*reason, MaxReason, "Reason", "input", "reason")
		if err != nil {
			return Review{}, err
		}
		reason = &r
	}
	return s.change(ctx, id, "id", func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error) {
		return q.ReviewModerate(ctx, db.ReviewModerateParams{ID: id, Status: db.ReviewStatus(to), Reason: reason})
	})
}

// Reply sets the product's vendor's one public answer to a review. Errors: NOT_FOUND
// (input.reviewId), FORBIDDEN (not the product's vendor), INVALID (input.body: 1 to 5,000),
// ALREADY_REPLIED.
func (s *Service) Reply(ctx context.Context, v auth.Viewer, id int64, body string) (Review, error) {
	body, err := requiredText(body, MaxReply, "Reply", "input", "body")
	if err != nil {
		return Review{}, err
	}
	return s.change(ctx, id, "reviewId", func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error) {
		if err := mayReply(v, r, p, "input", "reviewId"); err != nil {
			return db.Review{}, err
		}
		row, err := q.ReviewReply(ctx, db.ReviewReplyParams{ID: id, Body: &body})
		if postgres.IsNotFound(err) {
			return db.Review{}, apperr.FieldError(apperr.AlreadyReplied, "This review has a reply already.", "input", "reviewId")
		}
		return row, err
	})
}

// MarkHelpful counts the viewer's helpful vote on a review, once: marking it again changes
// nothing and succeeds. Errors: NOT_FOUND (input.reviewId), OWN_REVIEW.
func (s *Service) MarkHelpful(ctx context.Context, v auth.Viewer, id int64) (Review, error) {
	return s.change(ctx, id, "reviewId", func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error) {
		if err := mayVote(v, r, p, "input", "reviewId"); err != nil {
			return db.Review{}, err
		}
		if _, err := q.ReviewHelpfulVoteInsert(ctx, db.ReviewHelpfulVoteInsertParams{ReviewID: id, UserID: v.UserID}); err != nil {
			return db.Review{}, err
		}
		return q.ReviewGetByID(ctx, id)
	})
}

// Report records the viewer's report of a review for the moderators, once per account.
// Errors: NOT_FOUND (input.reviewId), OWN_REVIEW, INVALID (input.reason: 1 to 1,000),
// ALREADY_REPORTED.
func (s *Service) Report(ctx context.Context, v auth.Viewer, id int64, reason string) (Review, error) {
	reason, err := requiredText(reason, MaxReason, "Reason", "input", "reason")
	if err != nil {
		return Review{}, err
	}
	return s.change(ctx, id, "reviewId", func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error) {
		if err := mayVote(v, r, p, "input", "reviewId"); err != nil {
			return db.Review{}, err
		}
		n, err := q.ReviewReportInsert(ctx, db.ReviewReportInsertParams{ReviewID: id, UserID: v.UserID, Reason: reason})
		if err != nil {
			return db.Review{}, err
		}
		if n == 0 {
			return db.Review{}, apperr.FieldError(apperr.AlreadyReported, "You have reported this review already.", "input", "reviewId")
		}
		return q.ReviewGetByID(ctx, id)
	})
}

// change runs one write to review id. Its product is read first, outside the transaction (a
// review never changes product, and the catalog reads through its cache on its own
// connection: inside, every transaction would hold one connection while waiting for another).
// The transaction then locks the review, so that the policy's check and the write it allows
// see the same row, and lets write decide and write; the product's caches are invalidated
// after the commit.
func (s *Service) change(ctx context.Context, id int64, field string,
	write func(ctx context.Context, q *db.Queries, r Review, p catalog.Product) (db.Review, error)) (Review, error) {
	before, err := s.db.ReviewGetByID(ctx, id)
	if postgres.IsNotFound(err) {
		return Review{}, notFound("input", field)
	}
	if err != nil {
		return Review{}, fmt.Errorf("read review: %w", err)
	}
	products, err := s.catalog.ListByIDs(ctx, []int64{before.ProductID})
	if err != nil {
		return Review{}, err
	}
	p, ok := products[before.ProductID]
	if !ok {
		return Review{}, notFound("input", field)
	}
	var out Review
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		row, err := q.ReviewGetByIDForUpdate(ctx, id)
		if postgres.IsNotFound(err) {
			return notFound("input", field) // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("lock review: %w", err)
		}
		r := fromRow(row)
		written, err := write(ctx, q, r, p)
		if err != nil {
			return err
		}
		out = fromRow(written)
		s.invalidateAfterCommit(ctx, r.ProductID)
		return nil
	})
	return out, err
}

// invalidateAfterCommit drops what is cached of the product once the change commits: its
// rating and reviews show in anonymous catalog responses (httpapi's public response cache,
// in the catalog's list namespace) and in list pages sorted or filtered by rating.
func (s *Service) invalidateAfterCommit(ctx context.Context, productID int64) {
	postgres.AfterCommit(ctx, func(ctx context.Context) { s.catalog.InvalidateProducts(ctx, productID) })
}

// Get returns a review v (nil when anonymous) may see. Errors: NOT_FOUND.
func (s *Service) Get(ctx context.Context, v *auth.Viewer, id int64) (Review, error) {
	row, err := s.db.ReviewGetByID(ctx, id)
	if err != nil {
		return Review{}, postgres.MapError(err, "review")
	}
	r := fromRow(row)
	p, err := s.catalog.ListByIDs(ctx, []int64{r.ProductID})
	if err != nil {
		return Review{}, err
	}
	if err := visible(v, r, p[r.ProductID]); err != nil {
		return Review{}, err
	}
	return r, nil
}

// Visible returns r, read by a loader, if v may see it (its product too). Errors: NOT_FOUND.
func (s *Service) Visible(v *auth.Viewer, r Review, p catalog.Product) (Review, error) {
	if err := visible(v, r, p); err != nil {
		return Review{}, err
	}
	return r, nil
}

// ModerationReason is r's moderation reason for v: the author and admins read it; nil for
// anyone else.
func (s *Service) ModerationReason(v *auth.Viewer, r Review) *string {
	if !seesModerationReason(v, r) {
		return nil
	}
	return r.ModerationReason
}

// ListByIDs returns the reviews among ids (for loaders; callers check Visible).
func (s *Service) ListByIDs(ctx context.Context, ids []int64) (map[int64]Review, error) {
	rows, err := s.db.ReviewListByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list reviews by ids: %w", err)
	}
	out := make(map[int64]Review, len(rows))
	for _, r := range rows {
		out[r.ID] = fromRow(r)
	}
	return out, nil
}

// Ratings returns the rating of each product among ids (the batch read behind Product.rating).
// It is read from the product rows, never cached, so it is as fresh as the last commit.
func (s *Service) Ratings(ctx context.Context, ids []int64) (map[int64]Rating, error) {
	rows, err := s.db.ProductRatingListByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("list product ratings: %w", err)
	}
	out := make(map[int64]Rating, len(rows))
	for _, r := range rows {
		out[r.ID] = ratingFromRow(r)
	}
	return out, nil
}

func orderStatuses() []string {
	out := make([]string, len(purchasedStatuses))
	for i, st := range purchasedStatuses {
		out[i] = string(st)
	}
	return out
}
