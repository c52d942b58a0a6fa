-- Catalog reads and writes. Product lists are keyset-paginated: one query per sort order and
-- direction, each with optional after/before bounds on the sort key, so that every page is an
-- index range scan. Filters that are NULL are off: these run through postgres.DB.CustomPlans,
-- planned for their values on every call, so the planner drops them. Who sees which product is
-- catalog_visible (migrations 00013, 00018), inlined by the planner; catalog.listScope gives its
-- arguments. The inStock filter reads products.in_stock, kept by a trigger (migration 00033).

-- name: ProductListNewestForward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.created_at, p.id) < (sqlc.narg('after_key')::timestamptz, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.created_at, p.id) > (sqlc.narg('before_key')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY p.created_at DESC, p.id DESC
LIMIT @lim;

-- name: ProductListNewestBackward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.created_at, p.id) < (sqlc.narg('after_key')::timestamptz, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.created_at, p.id) > (sqlc.narg('before_key')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY p.created_at ASC, p.id ASC
LIMIT @lim;

-- name: ProductListPriceAscForward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.min_price, p.id) > (sqlc.narg('after_key')::bigint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.min_price, p.id) < (sqlc.narg('before_key')::bigint, sqlc.narg('before_id')::bigint))
ORDER BY p.min_price ASC, p.id ASC
LIMIT @lim;

-- name: ProductListPriceAscBackward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.min_price, p.id) > (sqlc.narg('after_key')::bigint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.min_price, p.id) < (sqlc.narg('before_key')::bigint, sqlc.narg('before_id')::bigint))
ORDER BY p.min_price DESC, p.id DESC
LIMIT @lim;

-- name: ProductListPriceDescForward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.min_price, p.id) < (sqlc.narg('after_key')::bigint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.min_price, p.id) > (sqlc.narg('before_key')::bigint, sqlc.narg('before_id')::bigint))
ORDER BY p.min_price DESC, p.id DESC
LIMIT @lim;

-- name: ProductListPriceDescBackward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.min_price, p.id) < (sqlc.narg('after_key')::bigint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.min_price, p.id) > (sqlc.narg('before_key')::bigint, sqlc.narg('before_id')::bigint))
ORDER BY p.min_price ASC, p.id ASC
LIMIT @lim;

-- name: ProductListNameForward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.name, p.id) > (sqlc.narg('after_key')::text, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.name, p.id) < (sqlc.narg('before_key')::text, sqlc.narg('before_id')::bigint))
ORDER BY p.name ASC, p.id ASC
LIMIT @lim;

-- name: ProductListNameBackward :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.name, p.id) > (sqlc.narg('after_key')::text, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.name, p.id) < (sqlc.narg('before_key')::text, sqlc.narg('before_id')::bigint))
ORDER BY p.name DESC, p.id DESC
LIMIT @lim;

-- name: ProductListRatingForward :many
-- Best rated first: the average (two decimals; none last), then how many rated it, then id
-- (index products_rating_idx). The cursor keeps the average in hundredths, exactly.
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, (COALESCE(p.rating_average, 0) * 100)::integer AS rating_key, p.rating_count
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (COALESCE(p.rating_average, 0), p.rating_count, p.id) < (sqlc.narg('after_key')::integer / 100.0, sqlc.narg('after_count')::integer, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (COALESCE(p.rating_average, 0), p.rating_count, p.id) > (sqlc.narg('before_key')::integer / 100.0, sqlc.narg('before_count')::integer, sqlc.narg('before_id')::bigint))
ORDER BY COALESCE(p.rating_average, 0) DESC, p.rating_count DESC, p.id DESC
LIMIT @lim;

-- name: ProductListRatingBackward :many
-- Best rated first: the average (two decimals; none last), then how many rated it, then id
-- (index products_rating_idx). The cursor keeps the average in hundredths, exactly.
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, (COALESCE(p.rating_average, 0) * 100)::integer AS rating_key, p.rating_count
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (COALESCE(p.rating_average, 0), p.rating_count, p.id) < (sqlc.narg('after_key')::integer / 100.0, sqlc.narg('after_count')::integer, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (COALESCE(p.rating_average, 0), p.rating_count, p.id) > (sqlc.narg('before_key')::integer / 100.0, sqlc.narg('before_count')::integer, sqlc.narg('before_id')::bigint))
ORDER BY COALESCE(p.rating_average, 0) ASC, p.rating_count ASC, p.id ASC
LIMIT @lim;

-- name: ProductListBestSellingForward :many
-- Most units sold in orders that reached PAID first (products.units_sold, migration 00031).
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, p.units_sold
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.units_sold, p.id) < (sqlc.narg('after_key')::bigint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.units_sold, p.id) > (sqlc.narg('before_key')::bigint, sqlc.narg('before_id')::bigint))
ORDER BY p.units_sold DESC, p.id DESC
LIMIT @lim;

-- name: ProductListBestSellingBackward :many
-- Most units sold in orders that reached PAID first (products.units_sold, migration 00031).
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, p.units_sold
FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (p.units_sold, p.id) < (sqlc.narg('after_key')::bigint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (p.units_sold, p.id) > (sqlc.narg('before_key')::bigint, sqlc.narg('before_id')::bigint))
ORDER BY p.units_sold ASC, p.id ASC
LIMIT @lim;

-- name: ProductListRelevanceForward :many
-- Ranked search over a bounded candidate set, so that a common word costs the same as a rare
-- one (catalog/search.go says why): up to @candidates products whose name matches the whole
-- query (@name_query: the query restricted to names, weight A), ranked by ts_rank of
-- @search_query, and up to as many products matching anywhere (a product in both counts once;
-- leaving the name matches out of the second scan would make it read every match of a word
-- that is in every name). When @name_ranks_first (every word of the query stands for one
-- lexeme: no typo alternatives, no `or`), a name match outranks any match outside the name
-- (ts_rank weighs a name, A, at 1.0 and a description, B, at 0.4), so a full set of name
-- matches already holds the top of the order and the second scan is not run. Each candidate is
-- ranked where it is read, with no second visit to its row.
WITH named AS (
  SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, ts_rank(p.search, (@search_query::text)::tsquery)::real AS rank
  FROM products p
    WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
      AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
      AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
      AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
      AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
      AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
      AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
      AND p.search @@ (@search_query::text)::tsquery
      AND p.search @@ (@name_query::text)::tsquery
      AND (sqlc.narg('after_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) < (sqlc.narg('after_key')::real, sqlc.narg('after_id')::bigint))
      AND (sqlc.narg('before_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) > (sqlc.narg('before_key')::real, sqlc.narg('before_id')::bigint))
    LIMIT @candidates
), anywhere AS (
  SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, ts_rank(p.search, (@search_query::text)::tsquery)::real AS rank
  FROM products p
    WHERE (NOT @name_ranks_first::boolean OR (SELECT count(*) FROM named) < @candidates)
      AND
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
      AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
      AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
      AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
      AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
      AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
      AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
      AND p.search @@ (@search_query::text)::tsquery
      AND (sqlc.narg('after_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) < (sqlc.narg('after_key')::real, sqlc.narg('after_id')::bigint))
      AND (sqlc.narg('before_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) > (sqlc.narg('before_key')::real, sqlc.narg('before_id')::bigint))
    LIMIT @candidates
)
SELECT c.id, c.name, c.slug, c.description, c.category_id, c.vendor_id, c.attributes, c.image_urls, c.status, c.currency, c.min_price, c.max_price, c.created_at, c.updated_at, c.vendor_active, c.rank
FROM (SELECT DISTINCT ON (u.id) * FROM (SELECT * FROM named UNION ALL SELECT * FROM anywhere) u) c
ORDER BY c.rank DESC, c.id DESC
LIMIT @lim;

-- name: ProductListRelevanceBackward :many
-- The backward twin of ProductListRelevanceForward.
WITH named AS (
  SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, ts_rank(p.search, (@search_query::text)::tsquery)::real AS rank
  FROM products p
    WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
      AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
      AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
      AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
      AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
      AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
      AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
      AND p.search @@ (@search_query::text)::tsquery
      AND p.search @@ (@name_query::text)::tsquery
      AND (sqlc.narg('after_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) < (sqlc.narg('after_key')::real, sqlc.narg('after_id')::bigint))
      AND (sqlc.narg('before_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) > (sqlc.narg('before_key')::real, sqlc.narg('before_id')::bigint))
    LIMIT @candidates
), anywhere AS (
  SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active, ts_rank(p.search, (@search_query::text)::tsquery)::real AS rank
  FROM products p
    WHERE (NOT @name_ranks_first::boolean OR (SELECT count(*) FROM named) < @candidates)
      AND
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
      AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
      AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
      AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
      AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
      AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
      AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
      AND p.search @@ (@search_query::text)::tsquery
      AND (sqlc.narg('after_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) < (sqlc.narg('after_key')::real, sqlc.narg('after_id')::bigint))
      AND (sqlc.narg('before_id')::bigint IS NULL OR (ts_rank(p.search, (@search_query::text)::tsquery)::real, p.id) > (sqlc.narg('before_key')::real, sqlc.narg('before_id')::bigint))
    LIMIT @candidates
)
SELECT c.id, c.name, c.slug, c.description, c.category_id, c.vendor_id, c.attributes, c.image_urls, c.status, c.currency, c.min_price, c.max_price, c.created_at, c.updated_at, c.vendor_active, c.rank
FROM (SELECT DISTINCT ON (u.id) * FROM (SELECT * FROM named UNION ALL SELECT * FROM anywhere) u) c
ORDER BY c.rank ASC, c.id ASC
LIMIT @lim;

-- name: ProductCount :one
SELECT count(*) FROM products p
WHERE
  catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
  AND (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[]))
  AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
  AND (sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
  AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)
  AND (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean)
  AND (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8)
  AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery);

-- name: ProductSuggest :many
-- Distinct names for a search box: the visible products matching @search_query (a
-- name-restricted query whose last word is a prefix), best ranked first, from a bounded
-- candidate set so that a one-letter prefix costs no more than a word.
SELECT s.name::text AS name
FROM (
  SELECT p.name, ts_rank(p.search, (@search_query::text)::tsquery) AS rank
  FROM products p
  WHERE catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
    AND p.search @@ (@search_query::text)::tsquery
  LIMIT @candidates
) s
GROUP BY s.name
ORDER BY max(s.rank) DESC, s.name
LIMIT @lim;

-- name: ProductGetByID :one
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active FROM products p WHERE p.id = @id;

-- name: ProductGetByIDForUpdate :one
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active FROM products p WHERE p.id = @id FOR UPDATE;

-- name: ProductGetBySlug :one
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active FROM products p WHERE p.slug = @slug;

-- name: ProductListByIDs :many
SELECT p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active FROM products p WHERE p.id = ANY(@ids::bigint[]);

-- name: ProductInsert :one
-- ProductInsert copies the vendor's state onto the product (vendor_active), reading it under a
-- share lock so that a concurrent status change (which locks the vendor for update, then
-- updates its products) is either seen here or sees this product.
INSERT INTO products AS p (name, slug, description, category_id, vendor_id, attributes, image_urls, status, currency, vendor_active)
VALUES (@name, @slug, @description, sqlc.narg('category_id'), sqlc.narg('vendor_id'), @attributes, @image_urls, @status, @currency,
        COALESCE((SELECT vd.status = 'ACTIVE' FROM vendors vd WHERE vd.id = sqlc.narg('vendor_id') FOR SHARE), true))
RETURNING p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active;

-- name: ProductUpdate :one
UPDATE products AS p SET
    name = @name, slug = @slug, description = @description, category_id = sqlc.narg('category_id'),
    attributes = @attributes, image_urls = @image_urls, status = @status, updated_at = now()
WHERE p.id = @id
RETURNING p.id, p.name, p.slug, p.description, p.category_id, p.vendor_id, p.attributes, p.image_urls, p.status, p.currency, p.min_price, p.max_price, p.created_at, p.updated_at, p.vendor_active;

-- name: ProductRefreshPrices :exec
-- ProductRefreshPrices recomputes the denormalised price range from the live variants.
UPDATE products SET
    min_price = COALESCE((SELECT min(v.price_amount) FROM product_variants v WHERE v.product_id = products.id AND v.deleted_at IS NULL), 0),
    max_price = COALESCE((SELECT max(v.price_amount) FROM product_variants v WHERE v.product_id = products.id AND v.deleted_at IS NULL), 0),
    updated_at = now()
WHERE products.id = @id;

-- name: ProductCountByCategory :one
SELECT count(*) FROM products WHERE category_id = @category_id;

-- name: VariantListByProductIDs :many
-- VariantListByProductIDs is the batch read behind the product→variants loader (live variants).
SELECT * FROM product_variants
WHERE product_id = ANY(@product_ids::bigint[]) AND deleted_at IS NULL
ORDER BY product_id, position, id;

-- name: VariantListByIDs :many
-- VariantListByIDs includes deleted variants: carts and orders still refer to them.
SELECT * FROM product_variants WHERE id = ANY(@ids::bigint[]);

-- name: VariantGetByIDForUpdate :one
SELECT * FROM product_variants WHERE id = @id FOR UPDATE;

-- name: VariantCountLive :one
SELECT count(*) FROM product_variants WHERE product_id = @product_id AND deleted_at IS NULL;

-- name: VariantInsert :one
INSERT INTO product_variants (product_id, sku, name, options, price_amount, currency, stock, position)
VALUES (@product_id, @sku, @name, @options, @price_amount, @currency, @stock, @position)
RETURNING *;

-- name: VariantUpdate :one
UPDATE product_variants SET sku = @sku, name = @name, options = @options, price_amount = @price_amount, updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: VariantSoftDelete :execrows
UPDATE product_variants SET deleted_at = now(), updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: VariantAdjustStock :one
-- VariantAdjustStock applies a relative change in one guarded statement: no row means the
-- variant is gone, or the stock would drop below zero, or an increase would take it above
-- @max_stock (a decrease is always allowed down to zero, even from above @max_stock). The
-- guard adds in bigint: in integer, a stock near its limit plus a large delta would fail with
-- an overflow.
-- The same statement writes the change's MANUAL_ADJUSTMENT movement (none for a zero delta)
-- and returns the variant's vendor and effective low-stock threshold (crossing detection).
WITH u AS (
    UPDATE product_variants pv SET stock = pv.stock + @delta::integer, updated_at = now()
    WHERE pv.id = @id::bigint AND pv.deleted_at IS NULL AND pv.stock::bigint + @delta::integer >= 0
      AND (@delta::integer <= 0 OR pv.stock::bigint + @delta::integer <= @max_stock::bigint)
    RETURNING *
), m AS (
    INSERT INTO stock_movements (variant_id, kind, delta, quantity, actor_id, note)
    SELECT u.id, 'MANUAL_ADJUSTMENT', @delta::integer, u.stock, @actor_id::bigint, @note::text
    FROM u WHERE @delta::integer <> 0
)
SELECT u.id, u.product_id, u.sku, u.name, u.options, u.price_amount, u.currency, u.stock, u.position,
       u.created_at, u.updated_at, u.deleted_at, p.vendor_id,
       low_stock_threshold_of(u.low_stock_threshold, p.vendor_id)::integer AS low_stock_threshold
FROM u JOIN products p ON p.id = u.product_id;

-- name: CategoryListAll :many
SELECT * FROM categories ORDER BY name, id;

-- name: CategoryListByIDs :many
SELECT * FROM categories WHERE id = ANY(@ids::bigint[]);

-- name: CategoryGetByID :one
SELECT * FROM categories WHERE id = @id;

-- name: CategoryInsert :one
INSERT INTO categories (name, slug, parent_id) VALUES (@name, @slug, sqlc.narg('parent_id')) RETURNING *;

-- name: CategoryUpdate :one
UPDATE categories SET name = @name, slug = @slug, parent_id = sqlc.narg('parent_id'), updated_at = now()
WHERE id = @id RETURNING *;

-- name: CategoryDelete :execrows
DELETE FROM categories WHERE id = @id;

-- name: CategoryCountChildren :one
SELECT count(*) FROM categories WHERE parent_id = @id;

-- name: ProductSeedBulk :execrows
-- ProductSeedBulk generates @n demo products in one statement (for `shopgraph seed` and the
-- benchmarks): names from word lists, spread over the given categories and vendors, created
-- one second apart going back from now, so NEWEST has a stable order.
INSERT INTO products (name, slug, description, category_id, vendor_id, attributes, image_urls, currency, created_at, updated_at)
SELECT
    initcap(a.w || ' ' || c.w || ' ' || n.w),
    @slug_prefix::text || '-' || g,
    'A ' || a.w || ' ' || n.w || ' in ' || c.w || '. ' || (@blurbs::text[])[1 + (g * 7 % cardinality(@blurbs::text[]))],
    (@category_ids::bigint[])[1 + (g % cardinality(@category_ids::bigint[]))],
    NULLIF((@vendor_ids::bigint[])[1 + (g % cardinality(@vendor_ids::bigint[]))], 0),
    jsonb_build_object('material', (@materials::text[])[1 + (g % cardinality(@materials::text[]))]),
    ARRAY['https://picsum.photos/seed/' || @slug_prefix::text || g || '/600/600'],
    'USD',
    now() - make_interval(secs => g),
    now()
FROM generate_series(1, @n::integer) AS g,
    LATERAL (SELECT (@adjectives::text[])[1 + (g % cardinality(@adjectives::text[]))] AS w) a,
    LATERAL (SELECT (@colours::text[])[1 + (g / 7 % cardinality(@colours::text[]))] AS w) c,
    LATERAL (SELECT (@nouns::text[])[1 + (g / 3 % cardinality(@nouns::text[]))] AS w) n;

-- name: VariantSeedBulk :execrows
-- VariantSeedBulk gives every product whose slug starts with @slug_prefix three sizes with
-- deterministic prices and stock (some sold out, some low).
INSERT INTO product_variants (product_id, sku, name, options, price_amount, currency, stock, position)
SELECT p.id, upper(p.slug) || '-' || s.size, s.size, jsonb_build_object('size', s.size),
       499 + (p.id * 7919 % 20000) + s.pos * 500, p.currency, ((p.id * 31 + s.pos * 17) % 40)::integer, s.pos
FROM products p
CROSS JOIN (VALUES (0, 'S'), (1, 'M'), (2, 'L')) AS s (pos, size)
WHERE p.slug LIKE @slug_prefix::text || '-%';

-- name: ProductRefreshPricesByPrefix :execrows
UPDATE products p SET min_price = v.lo, max_price = v.hi
FROM (SELECT product_id, min(price_amount) AS lo, max(price_amount) AS hi
      FROM product_variants WHERE deleted_at IS NULL GROUP BY product_id) v
WHERE v.product_id = p.id AND p.slug LIKE @slug_prefix::text || '-%';

-- name: ProductCountAll :one
SELECT count(*) FROM products;
