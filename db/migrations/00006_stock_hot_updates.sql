-- +goose Up
-- Every checkout changes the stock of its variants. The partial index on in-stock variants
-- read stock in its predicate, which made each of those updates a non-HOT update: a new entry
-- in all four indexes of the table. Without it, and with room left on each page, a stock
-- update rewrites the row alone. The in-stock filter of product lists finds a product's few
-- variants through product_variants_product_id_idx just as fast.
DROP INDEX product_variants_in_stock_idx;
ALTER TABLE product_variants SET (fillfactor = 80);

-- +goose Down
ALTER TABLE product_variants RESET (fillfactor);
CREATE INDEX product_variants_in_stock_idx ON product_variants (product_id) WHERE stock > 0 AND deleted_at IS NULL;
