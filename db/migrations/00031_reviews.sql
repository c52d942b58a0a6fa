-- +goose Up
-- Product reviews (issue 19): one review per customer and product, moderated (PENDING,
-- APPROVED, REJECTED), with the vendor's one public reply, helpful votes and reports. The
-- product's rating columns (migration 00030) count APPROVED reviews only and are kept by the
-- trigger below, in the statement (so the transaction) that changes a review: an insert, a
-- delete, a rating edit and every move into or out of APPROVED apply exactly their delta
-- under the product row's lock, so concurrent changes never lose one another's.
CREATE TYPE review_status AS ENUM ('PENDING', 'APPROVED', 'REJECTED');

CREATE TABLE reviews (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id        bigint        NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    user_id           bigint        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating            smallint      NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title             text          CHECK (char_length(title) <= 120),
    body              text          CHECK (char_length(body) <= 5000),
    status            review_status NOT NULL DEFAULT 'PENDING',
    -- Always true today (only buyers review); kept so that imported or staff reviews could
    -- say otherwise without a migration.
    verified_purchase boolean       NOT NULL DEFAULT true,
    moderation_reason text          CHECK (char_length(moderation_reason) <= 1000),
    helpful_count     integer       NOT NULL DEFAULT 0 CHECK (helpful_count >= 0),
    -- The product's vendor's one public reply.
    reply_body        text          CHECK (char_length(reply_body) BETWEEN 1 AND 5000),
    replied_at        timestamptz,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    updated_at        timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT reviews_user_product_key UNIQUE (user_id, product_id)
);
-- The keyset orders of Product.reviews (NEWEST, HIGHEST, LOWEST, MOST_HELPFUL) and me.reviews.
CREATE INDEX reviews_product_newest_idx ON reviews (product_id, created_at DESC, id DESC);
CREATE INDEX reviews_product_rating_idx ON reviews (product_id, rating DESC, id DESC);
CREATE INDEX reviews_product_helpful_idx ON reviews (product_id, helpful_count DESC, id DESC);
CREATE INDEX reviews_user_newest_idx ON reviews (user_id, created_at DESC, id DESC);
CREATE INDEX reviews_pending_idx ON reviews (created_at, id) WHERE status = 'PENDING';

-- review_visible is who sees a review in lists and counts (internal/review's policy gives its
-- arguments): everyone the APPROVED ones, authors their own whatever their status, moderators
-- (see_all) every one. Inlined by the planner.
CREATE FUNCTION review_visible(status review_status, author bigint, viewer bigint, see_all boolean) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    RETURN see_all OR status = 'APPROVED' OR author = viewer;

-- One helpful vote per account and review; reviews.helpful_count counts them (trigger).
CREATE TABLE review_helpful_votes (
    review_id  bigint      NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, user_id)
);
CREATE INDEX review_helpful_votes_user_idx ON review_helpful_votes (user_id);

-- One report per account and review, for moderators.
CREATE TABLE review_reports (
    review_id  bigint      NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     text        NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (review_id, user_id)
);
CREATE INDEX review_reports_user_idx ON review_reports (user_id);

-- +goose StatementBegin
CREATE FUNCTION review_rating_apply(p_product bigint, p_rating smallint, p_sign integer) RETURNS void
LANGUAGE sql
AS $$
    UPDATE products
    SET rating_count = rating_count + p_sign,
        rating_sum = rating_sum + p_sign * p_rating,
        rating_histogram[p_rating] = rating_histogram[p_rating] + p_sign
    WHERE id = p_product;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION reviews_keep_rating() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'APPROVED' THEN
        PERFORM review_rating_apply(OLD.product_id, OLD.rating, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'APPROVED' THEN
        PERFORM review_rating_apply(NEW.product_id, NEW.rating, 1);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER reviews_keep_rating
    AFTER INSERT OR DELETE OR UPDATE OF status, rating, product_id ON reviews
    FOR EACH ROW EXECUTE FUNCTION reviews_keep_rating();

-- +goose StatementBegin
CREATE FUNCTION review_helpful_votes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE reviews SET helpful_count = helpful_count + 1 WHERE id = NEW.review_id;
    ELSE
        UPDATE reviews SET helpful_count = helpful_count - 1 WHERE id = OLD.review_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER review_helpful_votes_count
    AFTER INSERT OR DELETE ON review_helpful_votes
    FOR EACH ROW EXECUTE FUNCTION review_helpful_votes_count();

-- Units sold, for ProductSort.BEST_SELLING: the units of every order that reached PAID, added
-- by the trigger below in the PAID move's transaction. Refunds and cancellations after
-- payment do not subtract: it counts what was sold, as analytics' units do.
ALTER TABLE products ADD COLUMN units_sold bigint NOT NULL DEFAULT 0 CHECK (units_sold >= 0);
UPDATE products p SET units_sold = s.units
FROM (SELECT l.product_id, sum(l.quantity) AS units
      FROM orders o JOIN order_lines l ON l.order_id = o.id
      WHERE o.status IN ('PAID', 'SHIPPED', 'DELIVERED', 'PARTIALLY_REFUNDED', 'REFUNDED')
      GROUP BY l.product_id) s
WHERE p.id = s.product_id;

-- +goose StatementBegin
CREATE FUNCTION orders_count_units_sold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    -- Product rows are locked in id order, so two payments never deadlock on them.
    FOR r IN SELECT product_id, sum(quantity) AS units FROM order_lines
             WHERE order_id = NEW.id GROUP BY product_id ORDER BY product_id LOOP
        UPDATE products SET units_sold = units_sold + r.units WHERE id = r.product_id;
    END LOOP;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- PAID is reached only from PENDING (internal/order's transition table).
CREATE TRIGGER orders_count_units_sold
    AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (NEW.status = 'PAID' AND OLD.status = 'PENDING')
    EXECUTE FUNCTION orders_count_units_sold();

-- ProductSort.RATING: COALESCE(rating_average, 0) DESC is rating_average DESC NULLS LAST (an
-- average is at least 1), as a key that row comparisons of keyset cursors can use.
CREATE INDEX products_rating_idx ON products ((COALESCE(rating_average, 0)) DESC, rating_count DESC, id DESC);
CREATE INDEX products_best_selling_idx ON products (units_sold DESC, id DESC);

-- +goose Down
DROP INDEX products_best_selling_idx;
DROP INDEX products_rating_idx;
DROP TRIGGER orders_count_units_sold ON orders;
DROP FUNCTION orders_count_units_sold();
ALTER TABLE products DROP COLUMN units_sold;
DROP TABLE review_reports;
DROP TABLE review_helpful_votes;
DROP FUNCTION review_helpful_votes_count();
DROP TABLE reviews;
DROP FUNCTION review_visible(review_status, bigint, bigint, boolean);
DROP FUNCTION reviews_keep_rating();
DROP FUNCTION review_rating_apply(bigint, smallint, integer);
DROP TYPE review_status;
-- Ratings describe reviews; with none left, none remain.
UPDATE products SET rating_count = 0, rating_sum = 0, rating_histogram = '{0,0,0,0,0}';
