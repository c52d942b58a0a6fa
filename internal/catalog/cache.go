package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
)

// Cache keys and lifetimes. Writes delete or bump them after commit; the TTLs only bound the
// one race cache-aside cannot close (see package cache) and stock drift from checkouts.
const (
	cacheVersion     = "v2:" // change when a cached type changes shape
	productTTL       = 5 * time.Minute
	variantsTTL      = time.Minute
	categoriesTTL    = 5 * time.Minute
	listTTL          = 30 * time.Second
	listNamespace    = cacheVersion + "product-lists"
	categoriesKey    = cacheVersion + "categories:all"
	productKeyPrefix = cacheVersion + "product:"
	variantKeyPrefix = cacheVersion + "variants:"
)

// ListNamespace is the cache namespace whose generation every catalog write bumps: what is
// cached in it (list pages here, anonymous catalog responses in httpapi.PublicResponseCache)
// is never served after a write.
const ListNamespace = listNamespace

func productKey(id int64) string  { return productKeyPrefix + strconv.FormatInt(id, 10) }
func variantsKey(id int64) string { return variantKeyPrefix + strconv.FormatInt(id, 10) }

// listCacheKey is the cache key of one list page or count, or "" when the page must not be
// shared: vendors and admins see archived products, so only anonymous and customer pages (all
// alike) are cached.
func listCacheKey(v *auth.Viewer, kind string, params any) string {
	if !listScope(v).sharedLists() {
		return ""
	}
	b, _ := json.Marshal(params)
	sum := sha256.Sum256(b)
	return kind + ":" + hex.EncodeToString(sum[:16])
}

// cachedList serves a list page or count for customers from the cache.
func cachedList[T any](ctx context.Context, s *Service, v *auth.Viewer, kind string, params any, load func(context.Context) (T, error)) (T, error) {
	key := listCacheKey(v, kind, params)
	if key == "" {
		return load(ctx)
	}
	return cache.GetOrLoadVersioned(s.cacheCtx(ctx), s.cache, listNamespace, key, listTTL, load)
}

// cacheCtx is ctx for the cache: a mutation's payload, and a session that wrote what the
// replica has not replayed, skip what is cached, since another viewer's read of the replica may
// have cached the row as it was before the write (until the cache repeats its invalidation:
// RepeatInvalidations).
func (s *Service) cacheCtx(ctx context.Context) context.Context {
	if s.replica != nil && s.replica.MustSkipCaches(ctx) {
		return cache.Fresh(ctx)
	}
	return ctx
}

// invalidateProducts runs after a committed write to products or variants: the rows
// themselves, and every cached list page (a price, a name or stock may move a product between
// pages or filters).
func (s *Service) invalidateProducts(ctx context.Context, ids ...int64) {
	keys := make([]string, 0, 2*len(ids))
	for _, id := range ids {
		keys = append(keys, productKey(id), variantsKey(id))
	}
	s.cache.Delete(ctx, keys...)
	s.cache.Bump(ctx, listNamespace)
}

// invalidateCategories runs after a committed category write.
func (s *Service) invalidateCategories(ctx context.Context) {
	s.cache.Delete(ctx, categoriesKey)
	s.cache.Bump(ctx, listNamespace)
}

// InvalidateStock is for other domains that change stock (checkout, cancellation), after their
// commit. Exact quantities (variants) are always refreshed; list pages only when a variant's
// customer-visible stock status may have changed, so a busy checkout does not keep wiping the
// catalog's hottest pages.
func (s *Service) InvalidateStock(ctx context.Context, productIDs []int64, statusChanged bool) {
	keys := make([]string, 0, len(productIDs))
	for _, id := range productIDs {
		keys = append(keys, variantsKey(id))
	}
	s.cache.Delete(ctx, keys...)
	if statusChanged {
		s.cache.Bump(ctx, listNamespace)
	}
}

// InvalidateProducts is for other domains that change what products show (a vendor's
// suspension, reinstatement or new name), after their commit: the cached rows of ids, and
// every cached page and anonymous catalog response (which embed the vendor).
func (s *Service) InvalidateProducts(ctx context.Context, ids ...int64) {
	if len(ids) == 0 {
		s.cache.Bump(ctx, listNamespace)
		return
	}
	s.invalidateProducts(ctx, ids...)
}
