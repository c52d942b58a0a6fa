package webhook

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/inventory"
)

// ImportHook owes the STOCK_CHANGED events of the stock an inventory import sets, inside the
// import's apply transaction (it is an inventory.StockHook; internal/app sets it).
type ImportHook struct {
	Webhooks *Service
}

// ReasonImport is the reason of an import's movement whose row gave none.
const ReasonImport = "import"

// StockChanged implements inventory.StockHook: one event per variant whose stock moved.
func (h ImportHook) StockChanged(ctx context.Context, tx pgx.Tx, changes []inventory.StockChange) error {
	moves := make([]catalog.StockMovement, 0, len(changes))
	for _, c := range changes {
		reason := c.Reason
		if reason == "" {
			reason = ReasonImport
		}
		moves = append(moves, catalog.StockMovement{VariantID: c.VariantID, Delta: c.Delta, Reason: reason})
	}
	return h.Webhooks.StockChanged(ctx, tx, moves)
}
