-- W3 floor: a relevance-ranked search for one random catalog word, in the shape of
-- queries/catalog.sql's ProductListRelevanceForward (websearch_to_tsquery rank plus trigram
-- word similarity, matched by @@ or <%) reduced to one statement without the optional filters.
-- The words are bench/loadgen/main.go's searchWords, in the same order: keep them in sync
-- (47 catalog words, then 5 one-letter typos: about one search in ten has a typo).
\set k random(1, 52)
SELECT p.id, p.name, p.min_price, p.currency, r.rank FROM (SELECT (ARRAY['classic', 'organic', 'vintage', 'urban', 'premium', 'everyday', 'lightweight', 'rugged', 'cosy', 'slim', 'relaxed', 'essential', 'handmade', 'recycled', 'waterproof', 'red', 'blue', 'black', 'white', 'green', 'grey', 'navy', 'olive', 'sand', 'rust', 'teal', 'mustard', 'hoodie', 't-shirt', 'jacket', 'sneakers', 'backpack', 'mug', 'headphones', 'lamp', 'notebook', 'water bottle', 'scarf', 'beanie', 'jeans', 'sweater', 'desk chair', 'speaker', 'candle', 'blanket', 'wallet', 'sunglasses', 'hodie', 'sneakrs', 'backpak', 'sweatr', 'walet']::text[])[:k] AS q) w CROSS JOIN products p CROSS JOIN LATERAL (SELECT (ts_rank(p.search, websearch_to_tsquery('english', w.q)) + word_similarity(w.q, p.name))::real AS rank) r WHERE p.status = 'ACTIVE' AND (p.search @@ websearch_to_tsquery('english', w.q) OR w.q <% p.name) ORDER BY r.rank DESC, p.id DESC LIMIT 20;
