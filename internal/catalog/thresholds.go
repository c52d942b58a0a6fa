package catalog

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/internal/auth"
)

// LowStockThresholds is the effective low-stock threshold of each of the variants ids (its
// own, else its vendor's default, else LowStockThreshold), from which customers' stock status
// is told (Variant.StockStatusAt). It is read, not cached: a vendor's default changes the
// threshold of all its variants at once. Ids of no variant are left out.
func (s *Service) LowStockThresholds(ctx context.Context, ids []int64) (map[int64]int, error) {
	rows, err := s.db.VariantLowStockThresholds(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("read low-stock thresholds: %w", err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.ID] = int(r.Threshold)
	}
	return out, nil
}

// VisibleLowStockThreshold is threshold, variant's effective low-stock threshold, for those who
// may manage its product p (admins, the vendor's members); nil for anyone else, to whom a
// threshold is none of their business.
func VisibleLowStockThreshold(v *auth.Viewer, p Product, threshold int) *int {
	if mayReadStock(v, p) != nil {
		return nil
	}
	return &threshold
}

// thresholdChanged runs after a committed threshold change: customers' stock status may have
// changed, and cached anonymous responses show it.
func (s *Service) thresholdChanged(ctx context.Context) {
	s.cache.Bump(ctx, listNamespace)
}

// withThresholds sets the effective low-stock threshold of every variant of vs, in one
// statement: a page of products reads its variants' thresholds with them, not one batch per
// moment its stock statuses are resolved.
func (s *Service) withThresholds(ctx context.Context, vs map[int64][]Variant) error {
	var ids []int64
	for _, list := range vs {
		for _, v := range list {
			ids = append(ids, v.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	thresholds, err := s.LowStockThresholds(ctx, ids)
	if err != nil {
		return err
	}
	for _, list := range vs {
		for i := range list {
			if t, ok := thresholds[list[i].ID]; ok {
				list[i].LowStockThreshold = &t
			}
		}
	}
	return nil
}
