package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/loader"
	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/account"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// vendorByID is a vendor the viewer may see, through the loader; nil when missing or hidden.
func (r *Resolver) vendorByID(ctx context.Context, id int64) (*vendor.Vendor, error) {
	vd, err := loader.From(ctx).VendorByID.Load(ctx, id)()
	if err == nil {
		vd, err = r.VendorService.Visible(viewerPtr(ctx), vd)
	}
	return nullIfNotFound(vd, err)
}

// decide runs an admin's decision on a vendor.
func (r *mutationResolver) decide(ctx context.Context, d vendor.Decision, input model.VendorDecisionInput) (*model.VendorPayload, error) {
	v, err := auth.RequireViewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := idOf(input.ID, typeVendor, "input", "id")
	if err != nil {
		return vendorPayload(vendor.Vendor{}, err)
	}
	return vendorPayload(r.VendorService.Decide(ctx, v, d, id, deref(input.Reason)))
}

// vendorPayload is a vendor mutation's result: the vendor, or the user errors.
func vendorPayload(vd vendor.Vendor, err error) (*model.VendorPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.VendorPayload{UserErrors: ue}, err
	}
	return &model.VendorPayload{Vendor: &vd, UserErrors: ue}, nil
}

// vendorMemberPayload is vendorMemberAdd's or vendorMemberRemove's result: the vendor and the
// account, or the user errors.
func vendorMemberPayload(vd vendor.Vendor, u account.User, err error) (*model.VendorMemberPayload, error) {
	ue, err := userErrors(err)
	if err != nil || len(ue) > 0 {
		return &model.VendorMemberPayload{UserErrors: ue}, err
	}
	return &model.VendorMemberPayload{Vendor: &vd, User: &u, UserErrors: ue}, nil
}

func vendorConnection(page vendor.Page, total int) *model.VendorConnection {
	c := &model.VendorConnection{
		Edges: make([]*model.VendorEdge, len(page.Vendors)), Nodes: make([]*vendor.Vendor, len(page.Vendors)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage}, TotalCount: total,
	}
	for i := range page.Vendors {
		c.Nodes[i] = &page.Vendors[i]
		c.Edges[i] = &model.VendorEdge{Cursor: page.Cursors[i], Node: &page.Vendors[i]}
	}
	if n := len(page.Cursors); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return c
}
