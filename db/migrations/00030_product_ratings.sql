-- +goose Up
-- Product ratings (issue 19), denormalised onto products so that ProductFilter.minRating,
-- ProductSort.RATING and the rating facet read a column of the row they already scan. They
-- describe approved reviews only and are kept in the transaction that changes a review
-- (migration 00031), never recomputed later: rating_sum / rating_count is the average, and
-- rating_histogram[k] counts the k-star reviews.
ALTER TABLE products
    ADD COLUMN rating_count     integer   NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    ADD COLUMN rating_sum       integer   NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    ADD COLUMN rating_histogram integer[] NOT NULL DEFAULT '{0,0,0,0,0}'
        CHECK (cardinality(rating_histogram) = 5),
    -- Rounded to two decimals: what the API shows, and the RATING sort's key (then
    -- rating_count, then id), so that a cursor names a value the client has seen. NULL while
    -- the product has no approved review.
    ADD COLUMN rating_average   numeric(3, 2) GENERATED ALWAYS AS (
        CASE WHEN rating_count > 0 THEN round(rating_sum::numeric / rating_count, 2) END) STORED;

-- +goose Down
ALTER TABLE products
    DROP COLUMN rating_average,
    DROP COLUMN rating_histogram,
    DROP COLUMN rating_sum,
    DROP COLUMN rating_count;
