package graph

import (
	"context"

	"github.com/shopgraph/shopgraph/graph/model"
	"github.com/shopgraph/shopgraph/internal/gid"
)

// Global ID type names of the ledgers' entries.
const (
	typeStockMovement     = gid.StockMovement
	typeVendorLedgerEntry = gid.VendorLedgerEntry
)

// stockMovementNode is node(id:) for a stock movement: null for anyone who may not see it.
func (r *Resolver) stockMovementNode(ctx context.Context, id int64) (model.Node, error) {
	m, err := nullIfNotFound(r.Catalog.StockMovement(ctx, viewerPtr(ctx), id))
	if m == nil || err != nil {
		return nil, err
	}
	return m, nil
}

// vendorLedgerEntryNode is node(id:) for a vendor ledger entry: null for anyone who may not
// see it.
func (r *Resolver) vendorLedgerEntryNode(ctx context.Context, id int64) (model.Node, error) {
	if r.VendorLedger == nil {
		return nil, nil
	}
	e, err := nullIfNotFound(r.VendorLedger.Entry(ctx, viewerPtr(ctx), id))
	if e == nil || err != nil {
		return nil, err
	}
	return e, nil
}
