package vendor

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// GlobalID is the entry's opaque API ID.
func (e LedgerEntry) GlobalID() string { return gid.Encode(gid.VendorLedgerEntry, e.ID) }

// Entry is ledger entry id, for its vendor's members and admins. Errors: NOT_FOUND, also for
// anyone else (as the vendor's balance).
func (l *Ledger) Entry(ctx context.Context, v *auth.Viewer, id int64) (LedgerEntry, error) {
	notFound := apperr.New(apperr.NotFound, "No ledger entry has this ID.")
	if v == nil {
		return LedgerEntry{}, notFound
	}
	r, err := l.db.VendorLedgerEntryGet(ctx, id)
	if postgres.IsNotFound(err) {
		return LedgerEntry{}, notFound
	}
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("get ledger entry: %w", err)
	}
	if maySeeMoney(v, r.VendorID) != nil {
		return LedgerEntry{}, notFound
	}
	return entryFromRow(r), nil
}
