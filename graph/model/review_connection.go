package model

import (
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/review"
)

// ReviewConnection is a page of reviews; TotalCount is resolved only when asked for, from
// what the page was read for: a product's reviews (ProductID, Params' rating filter) as
// Viewer sees them, or an account's (UserID).
type ReviewConnection struct {
	Edges    []*ReviewEdge
	Nodes    []*review.Review
	PageInfo *PageInfo

	Viewer    *auth.Viewer
	ProductID int64
	UserID    int64
	Params    review.ListParams
}
