-- +goose Up
-- Whether a product is in stock, denormalised onto products so that the stock facet (and the
-- inStock filter) read a column of the row they already scan instead of probing the variants
-- of every product: over 100,000 products that probe was the slow part of faceting.
--
-- products.stocked_variants counts the product's live variants with stock > 0. A trigger on
-- product_variants keeps it, and it fires only when a variant crosses the line (stock reaches
-- zero or comes back, a stocked variant is created, deleted or soft-deleted): checkout changes
-- stock on every order, and those updates stay HOT and never touch products (migration 00006)
-- unless the variant sells out or is restocked from zero. A relative update (+1 / -1) rather
-- than a recomputed EXISTS keeps two concurrent sell-outs of a product's last two stocked
-- variants right under READ COMMITTED: each sees the other's variant still stocked, but their
-- increments add up. No index reads these columns, so writing them is a HOT update too.
ALTER TABLE products
    ADD COLUMN stocked_variants integer NOT NULL DEFAULT 0 CHECK (stocked_variants >= 0),
    ADD COLUMN in_stock boolean GENERATED ALWAYS AS (stocked_variants > 0) STORED;

UPDATE products p SET stocked_variants = v.n
FROM (SELECT product_id, count(*)::integer AS n FROM product_variants
      WHERE stock > 0 AND deleted_at IS NULL GROUP BY product_id) v
WHERE v.product_id = p.id;

-- +goose StatementBegin
CREATE FUNCTION product_variants_stocked_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The WHEN clauses of the triggers below let only crossings through; a variant never
    -- moves to another product, but count it out of OLD's and into NEW's all the same.
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.stock > 0 AND OLD.deleted_at IS NULL THEN
        UPDATE products SET stocked_variants = stocked_variants - 1 WHERE id = OLD.product_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.stock > 0 AND NEW.deleted_at IS NULL THEN
        UPDATE products SET stocked_variants = stocked_variants + 1 WHERE id = NEW.product_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER product_variants_stocked_insert AFTER INSERT ON product_variants
    FOR EACH ROW WHEN (NEW.stock > 0 AND NEW.deleted_at IS NULL)
    EXECUTE FUNCTION product_variants_stocked_count();
CREATE TRIGGER product_variants_stocked_update AFTER UPDATE OF stock, deleted_at, product_id ON product_variants
    FOR EACH ROW WHEN ((OLD.stock > 0 AND OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.stock > 0 AND NEW.deleted_at IS NULL)
                       OR OLD.product_id IS DISTINCT FROM NEW.product_id)
    EXECUTE FUNCTION product_variants_stocked_count();
CREATE TRIGGER product_variants_stocked_delete AFTER DELETE ON product_variants
    FOR EACH ROW WHEN (OLD.stock > 0 AND OLD.deleted_at IS NULL)
    EXECUTE FUNCTION product_variants_stocked_count();

-- +goose Down
DROP TRIGGER product_variants_stocked_delete ON product_variants;
DROP TRIGGER product_variants_stocked_update ON product_variants;
DROP TRIGGER product_variants_stocked_insert ON product_variants;
DROP FUNCTION product_variants_stocked_count();
ALTER TABLE products DROP COLUMN in_stock, DROP COLUMN stocked_variants;
