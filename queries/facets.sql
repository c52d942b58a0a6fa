-- Facets of the product list (issue 19): the counts a storefront draws its filters with, for
-- the products a viewer may see that match a filter, in one statement.
--
-- Facets are disjunctive: the category, price, stock and rating facets each ignore their own
-- filter (minRating for ratings; so a shopper who picked a category still sees the other
-- categories' counts, and clicking a count's filter lists exactly that many products);
-- attributes, which have no filter of their own, count with every filter applied. The filters
-- that no facet ignores (visibility, vendor, search) restrict the scan; the four a facet
-- ignores become flags.
-- Like the product lists, this runs through postgres.DB.CustomPlans: a NULL filter is off and
-- planned away.

-- name: ProductFacetCounts :many
-- ProductFacetCounts returns one row per facet value: facet is 'category' (num: category id),
-- 'price' (num: the index of the @price_edges bucket, 0 below the first edge), 'stock' (num: 1
-- in stock, 0 out), 'rating' (num: the whole stars of rating_average, 1 to 5) or 'attribute'
-- (attr_key, attr_value; at most @values_per_key values for each of the @max_keys keys most
-- products have, key_total being how many products have the key). A product counts in every
-- price bucket its price range overlaps, as the minPrice/maxPrice filter matches it.
--
-- The products are read once, in one hashed GROUPING SETS aggregate: one grouping per facet,
-- each counting with its own flags (FILTER); the price ranges and attribute objects it groups
-- (a few hundred) are then expanded into buckets and key/values.
WITH sets AS MATERIALIZED (
    SELECT
        CASE WHEN GROUPING(p.category_id) = 0 THEN 'category'
             WHEN GROUPING(f.price_range) = 0 THEN 'price'
             WHEN GROUPING(p.in_stock) = 0 THEN 'stock'
             WHEN GROUPING(f.stars) = 0 THEN 'rating'
             ELSE 'attribute' END::text AS facet,
        p.category_id, f.price_range, p.in_stock, f.stars, p.attributes,
        (count(*) FILTER (WHERE f.price_ok AND f.stock_ok AND f.rating_ok))::bigint AS category_n,
        (count(*) FILTER (WHERE f.category_ok AND f.stock_ok AND f.rating_ok))::bigint AS price_n,
        (count(*) FILTER (WHERE f.category_ok AND f.price_ok AND f.rating_ok))::bigint AS stock_n,
        (count(*) FILTER (WHERE f.category_ok AND f.price_ok AND f.stock_ok))::bigint AS rating_n,
        (count(*) FILTER (WHERE f.category_ok AND f.price_ok AND f.stock_ok AND f.rating_ok))::bigint AS all_n
    FROM products p, LATERAL (SELECT
        -- The buckets of the cheapest and dearest variant, in one value (fewer than 256 buckets).
        width_bucket(p.min_price, @price_edges::bigint[]) * 256 + width_bucket(p.max_price, @price_edges::bigint[]) AS price_range,
        floor(p.rating_average)::integer AS stars,
        (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[])) AS category_ok,
        ((sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
         AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)) AS price_ok,
        (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean) AS stock_ok,
        (sqlc.narg('min_rating')::float8 IS NULL OR p.rating_average >= sqlc.narg('min_rating')::float8) AS rating_ok) f
    WHERE
      catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
      AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
      -- The search predicate of queries/catalog.sql, verbatim: the compiled search (catalog.Searcher).
      AND (sqlc.narg('search_query')::text IS NULL OR p.search @@ (sqlc.narg('search_query')::text)::tsquery)
    GROUP BY GROUPING SETS ((p.category_id), (f.price_range), (p.in_stock), (f.stars), (p.attributes))
),
counted AS (
    SELECT 'category'::text AS facet, s.category_id AS num, NULL::text AS attr_key, NULL::text AS attr_value, s.category_n AS n
    FROM sets s WHERE s.facet = 'category' AND s.category_id IS NOT NULL AND s.category_n > 0
    UNION ALL
    SELECT 'price', b.bucket, NULL, NULL, sum(b.n)::bigint
    FROM (SELECT generate_series(s.price_range / 256, s.price_range % 256)::bigint AS bucket, s.price_n AS n
          FROM sets s WHERE s.facet = 'price' AND s.price_n > 0) b
    GROUP BY b.bucket
    UNION ALL
    SELECT 'stock', s.in_stock::integer::bigint, NULL, NULL, s.stock_n
    FROM sets s WHERE s.facet = 'stock' AND s.stock_n > 0
    UNION ALL
    SELECT 'rating', s.stars::bigint, NULL, NULL, s.rating_n
    FROM sets s WHERE s.facet = 'rating' AND s.stars IS NOT NULL AND s.rating_n > 0
    UNION ALL
    SELECT 'attribute', NULL, a.k, a.attrs ->> a.k, sum(a.n)::bigint
    FROM (SELECT jsonb_object_keys(s.attributes)::text AS k, s.attributes AS attrs, s.all_n AS n
          FROM sets s WHERE s.facet = 'attribute' AND s.all_n > 0) a
    GROUP BY a.k, a.attrs ->> a.k
),
ranked AS (
    SELECT c.facet, c.num, c.attr_key, c.attr_value, c.n,
        row_number() OVER (PARTITION BY c.facet, c.attr_key ORDER BY c.n DESC, c.attr_value) AS value_rank,
        -- A product has one value per key: the values' counts add up to the key's products.
        (sum(c.n) OVER (PARTITION BY c.facet, c.attr_key))::bigint AS key_total
    FROM counted c
)
SELECT r.facet, r.num, r.attr_key, r.attr_value, r.n, r.key_total
FROM (
    SELECT ranked.facet, ranked.num, ranked.attr_key, ranked.attr_value, ranked.n, ranked.key_total, ranked.value_rank,
        dense_rank() OVER (PARTITION BY ranked.facet ORDER BY ranked.key_total DESC, ranked.attr_key) AS key_rank
    FROM ranked
) r
WHERE r.facet <> 'attribute' OR (r.value_rank <= @values_per_key::bigint AND r.key_rank <= @max_keys::bigint)
ORDER BY r.facet, r.key_total DESC, r.attr_key, r.n DESC, r.attr_value, r.num;
