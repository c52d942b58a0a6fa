package catalog

import (
	"context"
	"fmt"
	"strings"

	"github.com/shopgraph/shopgraph/db"
	"github.com/shopgraph/shopgraph/internal/apperr"
	"github.com/shopgraph/shopgraph/internal/auth"
	"github.com/shopgraph/shopgraph/internal/cache"
	"github.com/shopgraph/shopgraph/internal/postgres"
)

// Categories returns every category, by name.
// The category tree is small and read on most catalog requests, so it is cached whole.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	return cache.GetOrLoad(s.cacheCtx(ctx), s.cache, categoriesKey, categoriesTTL, func(ctx context.Context) ([]Category, error) {
		rows, err := s.reads(ctx).CategoryListAll(ctx)
		if err != nil {
			return nil, fmt.Errorf("list categories: %w", err)
		}
		out := make([]Category, len(rows))
		for i, r := range rows {
			out[i] = categoryFromRow(r)
		}
		return out, nil
	})
}

// CategoriesByIDs returns the categories among ids (for loaders), from the cached tree.
func (s *Service) CategoriesByIDs(ctx context.Context, ids []int64) (map[int64]Category, error) {
	all, err := s.Categories(ctx)
	if err != nil {
		return nil, err
	}
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := make(map[int64]Category, len(ids))
	for _, c := range all {
		if want[c.ID] {
			out[c.ID] = c
		}
	}
	return out, nil
}

// CategoryGet returns one category. Errors: NOT_FOUND.
func (s *Service) CategoryGet(ctx context.Context, id int64) (Category, error) {
	found, err := s.CategoriesByIDs(ctx, []int64{id})
	if err != nil {
		return Category{}, err
	}
	c, ok := found[id]
	if !ok {
		return Category{}, apperr.New(apperr.NotFound, "category not found")
	}
	return c, nil
}

// CategoryBySlug returns one category by slug. Errors: NOT_FOUND.
func (s *Service) CategoryBySlug(ctx context.Context, slug string) (Category, error) {
	all, err := s.Categories(ctx)
	if err != nil {
		return Category{}, err
	}
	for _, c := range all {
		if c.Slug == slug {
			return c, nil
		}
	}
	return Category{}, apperr.New(apperr.NotFound, "category not found")
}

// categoryAndDescendants returns id and every category below it. An unknown id gives just
// itself, which matches nothing.
func (s *Service) categoryAndDescendants(ctx context.Context, id int64) ([]int64, error) {
	all, err := s.Categories(ctx)
	if err != nil {
		return nil, err
	}
	children := map[int64][]int64{}
	for _, c := range all {
		if c.ParentID != nil {
			children[*c.ParentID] = append(children[*c.ParentID], c.ID)
		}
	}
	out := []int64{id}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out, nil
}

// CategoryInput creates or changes a category.
type CategoryInput struct {
	Name     *string
	Slug     *string
	ParentID *int64
	TopLevel bool
}

// CategoryCreate creates a category (ADMIN). Errors: FORBIDDEN, INVALID, DUPLICATE, NOT_FOUND.
func (s *Service) CategoryCreate(ctx context.Context, v auth.Viewer, in CategoryInput) (Category, error) {
	if err := mayManageCategories(v); err != nil {
		return Category{}, err
	}
	name := strings.TrimSpace(deref(in.Name))
	slug := deref(in.Slug)
	if slug == "" {
		slug = Slugify(name)
	}
	var val validator
	val.length(name, 1, 100, "Name", "input", "name")
	val.slug(slug, "input", "slug")
	if err := val.err(); err != nil {
		return Category{}, err
	}
	var created Category
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if err := checkCategory(ctx, q, in.ParentID, "input", "parentId"); err != nil {
			return err
		}
		row, err := q.CategoryInsert(ctx, db.CategoryInsertParams{Name: name, Slug: slug, ParentID: in.ParentID})
		if err != nil {
			return mapCategoryError(err)
		}
		created = categoryFromRow(row)
		return nil
	})
	if err == nil {
		s.invalidateCategories(ctx)
	}
	return created, err
}

// CategoryUpdate renames or moves a category; it cannot move under itself or a descendant.
// Errors: FORBIDDEN, NOT_FOUND, INVALID, DUPLICATE.
func (s *Service) CategoryUpdate(ctx context.Context, v auth.Viewer, id int64, in CategoryInput) (Category, error) {
	if err := mayManageCategories(v); err != nil {
		return Category{}, err
	}
	cur, err := s.CategoryGet(ctx, id)
	if err != nil {
		return Category{}, apperr.FieldError(apperr.NotFound, "No category has this ID.", "input", "id")
	}
	var val validator
	if in.Name != nil {
		cur.Name = strings.TrimSpace(*in.Name)
		val.length(cur.Name, 1, 100, "Name", "input", "name")
	}
	if in.Slug != nil {
		cur.Slug = *in.Slug
		val.slug(cur.Slug, "input", "slug")
	}
	switch {
	case in.TopLevel:
		cur.ParentID = nil
	case in.ParentID != nil:
		below, err := s.categoryAndDescendants(ctx, id)
		if err != nil {
			return Category{}, err
		}
		for _, d := range below {
			if d == *in.ParentID {
				val.add("A category cannot move under itself or its subcategories.", "input", "parentId")
			}
		}
		cur.ParentID = in.ParentID
	}
	if err := val.err(); err != nil {
		return Category{}, err
	}
	var updated Category
	err = s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		if err := checkCategory(ctx, q, cur.ParentID, "input", "parentId"); err != nil {
			return err
		}
		row, err := q.CategoryUpdate(ctx, db.CategoryUpdateParams{ID: id, Name: cur.Name, Slug: cur.Slug, ParentID: cur.ParentID})
		if err != nil {
			return mapCategoryError(err)
		}
		updated = categoryFromRow(row)
		return nil
	})
	if err == nil {
		s.invalidateCategories(ctx)
	}
	return updated, err
}

// CategoryDelete deletes a category without products or subcategories.
// Errors: FORBIDDEN, NOT_FOUND, CATEGORY_NOT_EMPTY.
func (s *Service) CategoryDelete(ctx context.Context, v auth.Viewer, id int64) error {
	if err := mayManageCategories(v); err != nil {
		return err
	}
	notEmpty := apperr.FieldError(apperr.CategoryNotEmpty, "The category still has products or subcategories.", "input", "id")
	err := s.db.InTx(ctx, func(ctx context.Context, q *db.Queries) error {
		products, err := q.ProductCountByCategory(ctx, &id)
		if err != nil {
			return err
		}
		children, err := q.CategoryCountChildren(ctx, &id)
		if err != nil {
			return err
		}
		if products > 0 || children > 0 {
			return notEmpty
		}
		n, err := q.CategoryDelete(ctx, id)
		if postgres.IsForeignKeyViolation(err) {
			// A product or subcategory arrived after the counts: the foreign key still holds.
			return notEmpty
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return apperr.FieldError(apperr.NotFound, "No category has this ID.", "input", "id")
		}
		return nil
	})
	if err == nil {
		s.invalidateCategories(ctx)
	}
	return err
}

func mapCategoryError(err error) error {
	if postgres.IsUniqueViolation(err, "categories_slug_key") {
		return apperr.FieldError(apperr.Duplicate, "Another category already has this slug.", "input", "slug")
	}
	return err
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
