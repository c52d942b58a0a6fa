-- The search dictionary (migration 00032): what each word of a shopper's query may stand for.

-- name: SearchTermsExpand :many
-- For each term, in order: its exact English form (plainto_tsquery's text, '' for a stop word),
-- the same as a phrase (phraseto_tsquery's: its words in order, for a quoted phrase),
-- its prefix form ('' unless the term is letters and digits only), whether the dictionary knows
-- it, and, for an unknown term of four characters or more, the lexemes of up to @max_alternatives
-- dictionary words at least @min_similarity alike, most alike first (trigram similarity, found
-- through the GIN index by %, whose threshold, 0.3 by default, is below @min_similarity).
SELECT t.ord::int AS ord,
       plainto_tsquery('english', t.term)::text AS exact,
       phraseto_tsquery('english', t.term)::text AS phrase,
       (CASE WHEN t.term ~ '^[[:alnum:]]+$' THEN to_tsquery('english', t.term || ':*')::text ELSE '' END)::text AS prefix,
       EXISTS (SELECT 1 FROM search_words k WHERE k.word = t.term) AS known,
       COALESCE((
         SELECT array_agg(a.lexeme ORDER BY a.sim DESC, a.lexeme)
         FROM (
           SELECT w.lexeme, max(similarity(w.word, t.term)) AS sim
           FROM search_words w
           WHERE char_length(t.term) >= 4
             AND NOT EXISTS (SELECT 1 FROM search_words k WHERE k.word = t.term)
             AND w.word % t.term
           GROUP BY w.lexeme
           HAVING max(similarity(w.word, t.term)) >= @min_similarity::real
           ORDER BY sim DESC, w.lexeme
           LIMIT @max_alternatives::int
         ) a
       ), '{}')::text[] AS alternatives
FROM unnest(@terms::text[]) WITH ORDINALITY AS t(term, ord)
ORDER BY t.ord;
