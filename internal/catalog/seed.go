package catalog

import (
	"context"
	"fmt"

	"github.com/shopgraph/shopgraph/db"
)

// Word lists for generated demo products.
var (
	seedAdjectives = []string{"classic", "organic", "vintage", "urban", "premium", "everyday", "lightweight", "rugged", "cosy", "slim", "relaxed", "essential", "handmade", "recycled", "waterproof"}
	seedColours    = []string{"red", "blue", "black", "white", "green", "grey", "navy", "olive", "sand", "rust", "teal", "mustard"}
	seedNouns      = []string{"hoodie", "t-shirt", "jacket", "sneakers", "backpack", "mug", "headphones", "lamp", "notebook", "water bottle", "scarf", "beanie", "jeans", "sweater", "desk chair", "speaker", "candle", "blanket", "wallet", "sunglasses"}
	seedMaterials  = []string{"cotton", "wool", "leather", "steel", "ceramic", "bamboo", "linen", "polyester"}
	seedBlurbs     = []string{
		"Made to last and easy to care for.",
		"A customer favourite since our first season.",
		"Designed in small batches by independent makers.",
		"Ships in plastic-free packaging.",
		"Pairs well with almost anything.",
	}
)

// SeedBulk generates n demo products (three sizes each) whose slugs start with prefix, spread
// over categoryIDs and vendorIDs (0 in vendorIDs means a platform product). It runs as three
// set-based statements, so 100,000 products take seconds, not minutes.
func (s *Service) SeedBulk(ctx context.Context, n int, prefix string, categoryIDs, vendorIDs []int64) error {
	if len(categoryIDs) == 0 || len(vendorIDs) == 0 {
		return fmt.Errorf("seed needs at least one category and one vendor slot")
	}
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if _, err := q.ProductSeedBulk(ctx, db.ProductSeedBulkParams{
			SlugPrefix: prefix, N: int32(n), CategoryIds: categoryIDs, VendorIds: vendorIDs,
			Adjectives: seedAdjectives, Colours: seedColours, Nouns: seedNouns, Materials: seedMaterials, Blurbs: seedBlurbs,
		}); err != nil {
			return fmt.Errorf("seed products: %w", err)
		}
		if _, err := q.VariantSeedBulk(ctx, prefix); err != nil {
			return fmt.Errorf("seed variants: %w", err)
		}
		if _, err := q.ProductRefreshPricesByPrefix(ctx, prefix); err != nil {
			return fmt.Errorf("seed prices: %w", err)
		}
		return nil
	})
	if err == nil {
		s.cache.Bump(ctx, listNamespace)
	}
	return err
}

// CountAll is the number of products of every status (to tell an empty catalog).
func (s *Service) CountAll(ctx context.Context) (int64, error) {
	return s.db.ProductCountAll(ctx)
}
