-- +goose Up
-- Forgiving search (issue 19). search_words is the dictionary of the catalog's words: every
-- distinct word of a product's name and description (the 'simple' configuration: lower-cased,
-- unstemmed) with its English lexeme, the form products.search holds. A word of the query that
-- is not in the dictionary is expanded to its close dictionary words (trigram similarity, found
-- through the GIN index), whose lexemes then match products.search through its own GIN index:
-- the typo is forgiven in a table of thousands of words, never by comparing every product.
-- Words are only added (a trigger on products' writes): a word no product uses any more
-- expands to a lexeme that matches nothing, which costs nothing and keeps writes cheap.
CREATE TABLE search_words (
    word   text PRIMARY KEY,
    lexeme text NOT NULL
);
CREATE INDEX search_words_word_trgm_idx ON search_words USING gin (word gin_trgm_ops);

-- search_words_of: the dictionary rows of a text, in word order (a consistent order of inserts,
-- so that two transactions adding the same new words wait for each other, never deadlock).
CREATE FUNCTION search_words_of(body text) RETURNS TABLE (word text, lexeme text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT s.word, l.lexeme
    FROM unnest(tsvector_to_array(to_tsvector('simple', body))) AS s(word)
    CROSS JOIN LATERAL unnest(tsvector_to_array(to_tsvector('english', s.word))) AS l(lexeme)
    WHERE length(s.word) BETWEEN 2 AND 40
    ORDER BY s.word
$$;

-- +goose StatementBegin
CREATE FUNCTION search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word, lexeme)
    SELECT DISTINCT ON (w.word) w.word, w.lexeme
    FROM search_words_of(NEW.name || ' ' || NEW.description) w
    WHERE NOT EXISTS (SELECT 1 FROM search_words d WHERE d.word = w.word)
    ORDER BY w.word
    ON CONFLICT (word) DO NOTHING;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER products_search_words AFTER INSERT OR UPDATE OF name, description ON products
    FOR EACH ROW EXECUTE FUNCTION search_words_add();

INSERT INTO search_words (word, lexeme)
SELECT DISTINCT ON (w.word) w.word, w.lexeme
FROM (SELECT DISTINCT name, description FROM products) p
CROSS JOIN LATERAL search_words_of(p.name || ' ' || p.description) w
ORDER BY w.word
ON CONFLICT (word) DO NOTHING;

-- +goose Down
DROP TRIGGER products_search_words ON products;
DROP FUNCTION search_words_add();
DROP FUNCTION search_words_of(text);
DROP TABLE search_words;
