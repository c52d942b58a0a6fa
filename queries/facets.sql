-- Facets of the product list (issue 19): the counts a storefront draws its filters with, for
-- the products a viewer may see that match a filter, in one statement.
--
-- Facets are disjunctive: the category, price and stock facets each ignore their own filter
-- (so a shopper who picked a category still sees the other categories' counts, and clicking a
-- count's filter lists exactly that many products); ratings and attributes, which have no
-- filter of their own, count with every filter applied. The filters that no facet ignores
-- (visibility, vendor, search) restrict the scan; the three a facet ignores become flags.
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
-- The products are read once and grouped by everything a facet counts (a few thousand groups
-- for 100,000 products); each facet then adds up the groups.
WITH grouped AS MATERIALIZED (
    SELECT p.category_id, p.in_stock, p.attributes,
        width_bucket(p.min_price, @price_edges::bigint[]) AS price_lo,
        width_bucket(p.max_price, @price_edges::bigint[]) AS price_hi,
        floor(p.rating_average)::integer AS stars,
        (sqlc.narg('category_ids')::bigint[] IS NULL OR p.category_id = ANY(sqlc.narg('category_ids')::bigint[])) AS category_ok,
        ((sqlc.narg('min_price')::bigint IS NULL OR p.max_price >= sqlc.narg('min_price')::bigint)
         AND (sqlc.narg('max_price')::bigint IS NULL OR p.min_price <= sqlc.narg('max_price')::bigint)) AS price_ok,
        (sqlc.narg('in_stock')::boolean IS NULL OR p.in_stock = sqlc.narg('in_stock')::boolean) AS stock_ok,
        count(*) AS n
    FROM products p
    WHERE
      catalog_visible(p.status, p.vendor_active, p.vendor_id, @see_archived::boolean, sqlc.narg('viewer_vendor_id')::bigint)
      AND (sqlc.narg('vendor_id')::bigint IS NULL OR p.vendor_id = sqlc.narg('vendor_id')::bigint)
      -- The search predicate of queries/catalog.sql, verbatim.
      AND (sqlc.narg('search')::text IS NULL
           OR p.search @@ websearch_to_tsquery('english', sqlc.narg('search')::text)
           OR sqlc.narg('search')::text <% p.name)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
),
counted AS (
    SELECT 'category'::text AS facet, g.category_id AS num, NULL::text AS attr_key, NULL::text AS attr_value, sum(g.n)::bigint AS n
    FROM grouped g WHERE g.price_ok AND g.stock_ok AND g.category_id IS NOT NULL
    GROUP BY g.category_id
    UNION ALL
    SELECT 'price', b.bucket, NULL, NULL, sum(b.n)::bigint
    FROM (SELECT generate_series(g.price_lo, g.price_hi)::bigint AS bucket, g.n
          FROM grouped g WHERE g.category_ok AND g.stock_ok) b
    GROUP BY b.bucket
    UNION ALL
    SELECT 'stock', g.in_stock::integer::bigint, NULL, NULL, sum(g.n)::bigint
    FROM grouped g WHERE g.category_ok AND g.price_ok
    GROUP BY g.in_stock
    UNION ALL
    SELECT 'rating', g.stars::bigint, NULL, NULL, sum(g.n)::bigint
    FROM grouped g WHERE g.category_ok AND g.price_ok AND g.stock_ok AND g.stars IS NOT NULL
    GROUP BY g.stars
    UNION ALL
    SELECT 'attribute', NULL, a.k, a.attrs ->> a.k, sum(a.n)::bigint
    FROM (SELECT jsonb_object_keys(g.attributes)::text AS k, g.attributes AS attrs, g.n
          FROM grouped g WHERE g.category_ok AND g.price_ok AND g.stock_ok) a
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
