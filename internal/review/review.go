// Package review is what customers say of the products they bought: one review per customer
// and product (rating 1 to 5, optional title and body), moderated before the public sees it,
// the vendor's one public reply, helpful votes and reports, and the lists of them. The
// product's rating (count, sum, histogram, average of APPROVED reviews) is kept by a trigger
// in the transaction of every review change (migration 00031); policy.go decides who may see
// and do what.
package review

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// Status is where a review is in moderation.
type Status string

// Review statuses.
const (
	StatusPending  Status = "PENDING"
	StatusApproved Status = "APPROVED"
	StatusRejected Status = "REJECTED"
)

// Limits of a review's text.
const (
	MaxTitle  = 120
	MaxBody   = 5000
	MaxReason = 1000
	MaxReply  = 5000
)

// Review is one customer's review of one product.
type Review struct {
	ID        int64
	ProductID int64
	UserID    int64
	Rating    int
	Title     *string
	Body      *string
	Status    Status
	// VerifiedPurchase is true for every review written here: only buyers review (policy.go).
	VerifiedPurchase bool
	// ModerationReason is the moderator's reason, shown only to the author and admins
	// (Service.ModerationReason).
	ModerationReason *string
	HelpfulCount     int
	Reply            *Reply
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Reply is the product's vendor's public answer to a review.
type Reply struct {
	Body      string
	CreatedAt time.Time
}

// GlobalID is the review's opaque API ID.
func (r Review) GlobalID() string { return gid.Encode(gid.Review, r.ID) }

// Rating is a product's rating over its APPROVED reviews.
type Rating struct {
	// Average is rounded to two decimals; nil while nothing is rated.
	Average *float64
	Count   int
	// Histogram counts the 1-star to 5-star reviews, in that order.
	Histogram []int
}

// Input is what a customer writes: a rating and optional title and body.
type Input struct {
	Rating int
	Title  *string
	Body   *string
}

// clean trims the texts (blank is none) and checks every field, under "input".
// Errors: INVALID per field.
func (in Input) clean() (Input, error) {
	var errs apperr.List
	if in.Rating < 1 || in.Rating > 5 {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Rating must be 1 to 5.", "input", "rating"))
	}
	in.Title = trimmed(in.Title)
	in.Body = trimmed(in.Body)
	if in.Title != nil && utf8.RuneCountInString(*in.Title) > MaxTitle {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Title must be at most 120 characters.", "input", "title"))
	}
	if in.Body != nil && utf8.RuneCountInString(*in.Body) > MaxBody {
		errs = append(errs, apperr.FieldError(apperr.Invalid, "Body must be at most 5,000 characters.", "input", "body"))
	}
	return in, errs.Err()
}

// trimmed is s without surrounding space, invalid UTF-8 or NUL (PostgreSQL text refuses it);
// nil when nothing is left.
func trimmed(s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(strings.ToValidUTF8(strings.ReplaceAll(*s, "\x00", ""), ""))
	if t == "" {
		return nil
	}
	return &t
}

// requiredText is s trimmed, 1 to max characters. Errors: INVALID on field.
func requiredText(s string, max int, label string, field ...string) (string, error) {
	t := trimmed(&s)
	if t == nil || utf8.RuneCountInString(*t) > max {
		return "", apperr.FieldError(apperr.Invalid, fmt.Sprintf("%s must be 1 to %d characters.", label, max), field...)
	}
	return *t, nil
}
