package review

import (
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/order"
)

// This file is the review policy: who may write, see, moderate, answer, vote on and report
// which review. It is the one place that decides; the service calls it. For lists and counts
// the same visibility rule is the SQL function review_visible (migration 00031), whose
// arguments listScope decides.

// purchasedStatuses are the order statuses in which an order's products count as bought: the
// order was paid, whatever happened after (shipped, delivered, refunded in part or whole). A
// refunded customer still used the product and may say so. CANCELLED and PENDING do not
// count. This is the one statement of the purchase rule (ReviewPurchased asks it of SQL).
var purchasedStatuses = []order.Status{order.Paid, order.Shipped, order.Delivered, order.PartiallyRefunded, order.Refunded}

// PurchasedStatuses returns the statuses in which an order's products count as bought.
func PurchasedStatuses() []order.Status { return append([]order.Status(nil), purchasedStatuses...) }

// mayWrite says whether the viewer, who bought the product or not (purchased), may review
// it. Errors: NOT_PURCHASED (input.productId).
func mayWrite(purchased bool) error {
	if !purchased {
		return apperr.FieldError(apperr.NotPurchased, "You can review only products you bought (an order of yours holding it was paid).", "input", "productId")
	}
	return nil
}

// canModerate reports whether v moderates reviews: admins.
func canModerate(v *auth.Viewer) bool { return v != nil && v.IsAdmin() }

// CanSee reports whether v (nil when anonymous) sees r: everyone the APPROVED reviews, the
// author its own whatever its status, admins every review. Seeing the product is the caller's
// check (a review of a product v may not see is not shown either).
func CanSee(v *auth.Viewer, r Review) bool {
	return r.Status == StatusApproved || canModerate(v) || (v != nil && v.UserID == r.UserID)
}

// scope is what a viewer sees of the review lists, as review_visible's arguments.
type scope struct {
	ViewerID *int64
	SeeAll   bool
}

func listScope(v *auth.Viewer) scope {
	if v == nil {
		return scope{}
	}
	id := v.UserID
	return scope{ViewerID: &id, SeeAll: canModerate(v)}
}

// notFound answers a review v may not see exactly as one that does not exist.
func notFound(field ...string) error {
	return apperr.FieldError(apperr.NotFound, "No review has this ID.", field...)
}

// visible returns NOT_FOUND for a review v may not see (or whose product v may not see).
func visible(v *auth.Viewer, r Review, p catalog.Product, field ...string) error {
	if !CanSee(v, r) || !catalog.CanSee(v, p) {
		return notFound(field...)
	}
	return nil
}

// mayChange says whether v may edit or delete r: its author only (moderators reject, they do
// not rewrite). Errors: NOT_FOUND for a review v does not see, FORBIDDEN for another's.
func mayChange(v auth.Viewer, r Review, p catalog.Product, field ...string) error {
	if err := visible(&v, r, p, field...); err != nil {
		return err
	}
	if r.UserID != v.UserID {
		return apperr.FieldError(apperr.Forbidden, "You can only change your own reviews.", field...)
	}
	return nil
}

// mayModerate says whether v may approve or reject reviews: admins. Errors: FORBIDDEN.
func mayModerate(v auth.Viewer) error {
	if !canModerate(&v) {
		return apperr.New(apperr.Forbidden, "Only admins moderate reviews.")
	}
	return nil
}

// mayReply says whether v may answer r publicly: the members of the product's vendor, or
// admins for the platform's own products (which have no vendor). Errors: NOT_FOUND for a
// review v does not see, FORBIDDEN for one of another vendor's product.
func mayReply(v auth.Viewer, r Review, p catalog.Product, field ...string) error {
	if err := visible(&v, r, p, field...); err != nil {
		return err
	}
	if p.VendorID != nil && v.ActsFor(*p.VendorID) || p.VendorID == nil && v.IsAdmin() {
		return nil
	}
	return apperr.FieldError(apperr.Forbidden, "Only the product's vendor can reply to its reviews.", field...)
}

// mayVote says whether v may mark r helpful or report it: any signed-in account that sees it,
// except its author. Errors: NOT_FOUND, OWN_REVIEW.
func mayVote(v auth.Viewer, r Review, p catalog.Product, field ...string) error {
	if err := visible(&v, r, p, field...); err != nil {
		return err
	}
	if r.UserID == v.UserID {
		return apperr.FieldError(apperr.OwnReview, "You cannot vote on or report your own review.", field...)
	}
	return nil
}

// seesModerationReason: the author and admins read why a review was rejected.
func seesModerationReason(v *auth.Viewer, r Review) bool {
	return v != nil && (v.UserID == r.UserID || v.IsAdmin())
}

// seesUserReviews: an account's review list is its own and admins'.
func seesUserReviews(v *auth.Viewer, userID int64) bool {
	return v != nil && (v.UserID == userID || v.IsAdmin())
}

// statusAfterWrite is the status of a review just written or edited: APPROVED when reviews are
// approved automatically, else PENDING. An edit of an APPROVED review goes back to PENDING
// too: the text the moderator approved is no longer the text shown.
func statusAfterWrite(autoApprove bool) Status {
	if autoApprove {
		return StatusApproved
	}
	return StatusPending
}
