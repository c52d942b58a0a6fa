package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/review"
)

// typeReview is the global ID type of a review.
const typeReview = gid.Review

// reviewInputOf converts the written part of reviewCreate's and reviewUpdate's inputs.
func reviewInputOf(rating int, title, body *string) review.Input {
	return review.Input{Rating: rating, Title: title, Body: body}
}

// reviewPayload is a review mutation's result: the review, or the userErrors of err (a
// top-level error when err is not one an end user can act on).
func reviewPayload(r review.Review, err error) (*review.Review, []*model.UserError, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return nil, ue, err
	}
	return &r, ue, nil
}

// reviewListParams converts a connection's arguments.
func reviewListParams(first *int, after *string, last *int, before *string, sort *review.Sort, filter *model.ReviewFilter) review.ListParams {
	p := review.ListParams{First: first, Last: last, After: deref(after), Before: deref(before), Sort: review.SortNewest}
	if sort != nil {
		p.Sort = *sort
	}
	if filter != nil {
		p.Rating = filter.Rating
	}
	return p
}

// reviewConnection converts a page.
func reviewConnection(v *auth.Viewer, page review.Page) *model.ReviewConnection {
	conn := &model.ReviewConnection{
		Edges:    make([]*model.ReviewEdge, len(page.Reviews)),
		Nodes:    make([]*review.Review, len(page.Reviews)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage, HasPreviousPage: page.HasPreviousPage},
		Viewer:   v,
	}
	for i := range page.Reviews {
		rv := &page.Reviews[i]
		conn.Edges[i] = &model.ReviewEdge{Cursor: page.Cursors[i], Node: rv}
		conn.Nodes[i] = rv
	}
	if n := len(page.Cursors); n > 0 {
		conn.PageInfo.StartCursor, conn.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return conn
}

// reviewNode is node(id:) for a review: null when it does not exist or the viewer may not see it.
func (r *Resolver) reviewNode(ctx context.Context, id int64) (model.Node, error) {
	rv, err := loader.From(ctx).ReviewByID.Load(ctx, id)()
	if err == nil {
		var p = loader.From(ctx).ProductByID.Load(ctx, rv.ProductID)
		prod, perr := p()
		if perr != nil {
			err = perr
		} else {
			rv, err = r.ReviewService.Visible(viewerPtr(ctx), rv, prod)
		}
	}
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &rv, nil
}
