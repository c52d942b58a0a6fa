-- W3 floor: a relevance-ranked search for one random catalog word, in the shape of
-- queries/catalog.sql's ProductListRelevanceForward (a bounded candidate set: up to 200 products
-- matching in the name, then up to 200 matching anywhere, ranked by ts_rank) reduced to one
-- statement without the optional filters. The tsquery is websearch_to_tsquery's: the server's
-- expansion of typos (queries/search_words.sql, one cheap statement more) is not part of it.
-- The words are bench/loadgen/main.go's searchWords, in the same order: keep them in sync
-- (47 catalog words, then 5 one-letter typos: about one search in ten has a typo).
\set k random(1, 52)
WITH w0 AS (SELECT websearch_to_tsquery('english', (ARRAY['classic', 'organic', 'vintage', 'urban', 'premium', 'everyday', 'lightweight', 'rugged', 'cosy', 'slim', 'relaxed', 'essential', 'handmade', 'recycled', 'waterproof', 'red', 'blue', 'black', 'white', 'green', 'grey', 'navy', 'olive', 'sand', 'rust', 'teal', 'mustard', 'hoodie', 't-shirt', 'jacket', 'sneakers', 'backpack', 'mug', 'headphones', 'lamp', 'notebook', 'water bottle', 'scarf', 'beanie', 'jeans', 'sweater', 'desk chair', 'speaker', 'candle', 'blanket', 'wallet', 'sunglasses', 'hodie', 'sneakrs', 'backpak', 'sweatr', 'walet']::text[])[:k]) AS q),
w AS (SELECT q, regexp_replace(q::text, '(''(?:[^'']|'''')*'')', '\1' || chr(58) || 'A', 'g')::tsquery AS name_q FROM w0),
c AS (
  (SELECT p.id FROM products p, w WHERE p.status = 'ACTIVE' AND p.vendor_active AND p.search @@ w.q AND p.search @@ w.name_q LIMIT 200)
  UNION
  (SELECT p.id FROM products p, w WHERE p.status = 'ACTIVE' AND p.vendor_active AND p.search @@ w.q LIMIT 200))
SELECT p.id, p.name, p.min_price, p.currency, ts_rank(p.search, w.q) AS rank
FROM c JOIN products p ON p.id = c.id CROSS JOIN w
ORDER BY rank DESC, p.id DESC LIMIT 20;
