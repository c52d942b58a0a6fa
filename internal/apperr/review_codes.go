package apperr

// Codes of product reviews (issue 19). They mirror the GraphQL ErrorCode enum
// (schema/review.graphqls).
const (
	// NotPurchased: only a customer whose order holding the product was paid may review it.
	NotPurchased Code = "NOT_PURCHASED"
	// AlreadyReviewed: one review per customer and product; edit the one there is.
	AlreadyReviewed Code = "ALREADY_REVIEWED"
	// AlreadyReplied: the vendor replies once.
	AlreadyReplied Code = "ALREADY_REPLIED"
	// AlreadyReported: an account reports a review once.
	AlreadyReported Code = "ALREADY_REPORTED"
	// OwnReview: nobody marks their own review helpful or reports it.
	OwnReview Code = "OWN_REVIEW"
)
