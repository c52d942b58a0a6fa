package app

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/shopgraph/shopgraph/internal/catalog"
	"github.com/shopgraph/shopgraph/internal/notify"
)

// lowStockNotices tells vendors of their variants' low-stock crossings by email: the catalog,
// checkout and the inventory imports find the crossings in the transaction of the stock
// change (catalog.LowStockHook), and notify owes one email job per crossing in that same
// transaction.
type lowStockNotices struct{ notify *notify.Service }

// LowStock owes the notices of crossings in tx. Each crossing is keyed by a fresh id: the
// hook is told of a crossing once, in the transaction that makes it, and a transaction run
// again after a rollback owes its jobs anew (the rolled-back ones are gone with it), so a
// key never needs to be found again.
func (l lowStockNotices) LowStock(ctx context.Context, tx pgx.Tx, crossings []catalog.LowStockCrossing) error {
	notices := make([]notify.LowStockCrossing, 0, len(crossings))
	for _, c := range crossings {
		if c.VendorID == nil { // the platform's own product: no vendor to tell
			continue
		}
		notices = append(notices, notify.LowStockCrossing{VariantID: c.VariantID, VendorID: *c.VendorID,
			Quantity: c.Quantity, Threshold: c.Threshold, Key: uuid.NewString()})
	}
	if len(notices) == 0 {
		return nil
	}
	return l.notify.LowStock(ctx, tx, notices)
}
