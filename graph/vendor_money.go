package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/vendor"
)

// vendorBalance is vendor id's balance for the viewer; null (no error) when the viewer is not
// its member or an admin, or the vendor does not exist.
func (r *Resolver) vendorBalance(ctx context.Context, id int64) ([]*vendor.Balance, error) {
	bal, err := r.VendorLedger.Balance(ctx, viewerPtr(ctx), id)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]*vendor.Balance, len(bal))
	for i := range bal {
		out[i] = &bal[i]
	}
	return out, nil
}

func ledgerConnection(page vendor.EntryPage, total int) *model.VendorLedgerEntryConnection {
	c := &model.VendorLedgerEntryConnection{
		Edges: make([]*model.VendorLedgerEntryEdge, len(page.Entries)), Nodes: make([]*vendor.LedgerEntry, len(page.Entries)),
		PageInfo: &model.PageInfo{HasNextPage: page.HasNextPage}, TotalCount: total,
	}
	for i := range page.Entries {
		c.Nodes[i] = &page.Entries[i]
		c.Edges[i] = &model.VendorLedgerEntryEdge{Cursor: page.Cursors[i], Node: &page.Entries[i]}
	}
	if n := len(page.Cursors); n > 0 {
		c.PageInfo.StartCursor, c.PageInfo.EndCursor = &page.Cursors[0], &page.Cursors[n-1]
	}
	return c
}

// vendorLedgerEntries is a page of vendor id's ledger for the viewer; null (no error) when the
// viewer is not its member or an admin.
func (r *Resolver) vendorLedgerEntries(ctx context.Context, id int64, first *int, after string) (*model.VendorLedgerEntryConnection, error) {
	v := viewerPtr(ctx)
	page, err := r.VendorLedger.Entries(ctx, v, id, first, after)
	if apperr.Is(err, apperr.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	total, err := r.VendorLedger.Count(ctx, v, id)
	if err != nil {
		return nil, err
	}
	return ledgerConnection(page, total), nil
}
