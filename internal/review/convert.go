package review

import (
	"math"

	"github.com/shopgraph/shopgraph/db"
)

// fromRow is the only place a review row becomes a Review.
func fromRow(r db.Review) Review {
	out := Review{
		ID: r.ID, ProductID: r.ProductID, UserID: r.UserID, Rating: int(r.Rating), Title: r.Title, Body: r.Body,
		Status: Status(r.Status), VerifiedPurchase: r.VerifiedPurchase, ModerationReason: r.ModerationReason,
		HelpfulCount: int(r.HelpfulCount), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.ReplyBody != nil && r.RepliedAt != nil {
		out.Reply = &Reply{Body: *r.ReplyBody, CreatedAt: *r.RepliedAt}
	}
	return out
}

func fromRows(rows []db.Review) []Review {
	out := make([]Review, len(rows))
	for i, r := range rows {
		out[i] = fromRow(r)
	}
	return out
}

// ratingFromRow reads a product's rating columns (migration 00030).
func ratingFromRow(r db.ProductRatingListByIDsRow) Rating {
	out := Rating{Count: int(r.RatingCount), Histogram: make([]int, 5)}
	for i := 0; i < 5 && i < len(r.RatingHistogram); i++ {
		out.Histogram[i] = int(r.RatingHistogram[i])
	}
	if r.RatingCount > 0 {
		// rating_average is numeric(3,2): float8 carries its two decimals; round again so
		// that 4.33 is never shown as 4.3299999.
		avg := math.Round(r.RatingAverage*100) / 100
		out.Average = &avg
	}
	return out
}
