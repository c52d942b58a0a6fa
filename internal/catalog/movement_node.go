package catalog

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/gid"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// GlobalID is the movement's opaque API ID.
func (m Movement) GlobalID() string { return gid.Encode(gid.StockMovement, m.ID) }

// StockMovement is movement id, for those who may read its variant's exact stock (admins and
// the owning vendor's members). Errors: NOT_FOUND, also for anyone else: a movement is found
// only by ID, so unlike a variant's list it says nothing to those who may not see it.
func (s *Service) StockMovement(ctx context.Context, v *auth.Viewer, id int64) (Movement, error) {
	notFound := apperr.New(apperr.NotFound, "No stock movement has this ID.")
	if v == nil {
		return Movement{}, notFound
	}
	r, err := s.db.StockMovementGet(ctx, id)
	if postgres.IsNotFound(err) {
		return Movement{}, notFound
	}
	if err != nil {
		return Movement{}, fmt.Errorf("get stock movement: %w", err)
	}
	p, err := s.productOf(ctx, Variant{ID: r.StockMovement.VariantID, ProductID: r.ProductID})
	if apperr.Is(err, apperr.NotFound) || (err == nil && mayReadStock(v, p) != nil) {
		return Movement{}, notFound
	}
	if err != nil {
		return Movement{}, err
	}
	m := r.StockMovement
	return Movement{ID: m.ID, VariantID: m.VariantID, Kind: MovementKind(m.Kind), Delta: int(m.Delta), Quantity: int(m.Quantity),
		ActorID: m.ActorID, OrderID: m.OrderID, Note: m.Note, CreatedAt: m.CreatedAt}, nil
}
