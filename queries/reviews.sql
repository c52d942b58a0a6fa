-- Reviews (issue 19). Lists are keyset-paginated like the catalog's: one query per sort order
-- and direction, with optional after/before bounds on (key, id). Who sees which review is
-- review_visible (migration 00031), whose arguments internal/review's policy decides. The
-- product's rating columns follow from these writes by trigger (migration 00031).

-- name: ReviewPurchased :one
-- ReviewPurchased says whether the user has an order holding the product in one of statuses
-- (the review policy's list of statuses that count as bought).
SELECT EXISTS (
    SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id
    WHERE o.user_id = @user_id AND l.product_id = @product_id AND o.status::text = ANY(@statuses::text[])
)::boolean AS purchased;

-- name: ReviewInsert :one
INSERT INTO reviews (product_id, user_id, rating, title, body, status, verified_purchase)
VALUES (@product_id, @user_id, @rating, sqlc.narg('title'), sqlc.narg('body'), @status, true)
RETURNING *;

-- name: ReviewGetByID :one
SELECT * FROM reviews WHERE id = @id;

-- name: ReviewGetByIDForUpdate :one
SELECT * FROM reviews WHERE id = @id FOR UPDATE;

-- name: ReviewListByIDs :many
SELECT * FROM reviews WHERE id = ANY(@ids::bigint[]);

-- name: ReviewUpdate :one
UPDATE reviews
SET rating = @rating, title = sqlc.narg('title'), body = sqlc.narg('body'), status = @status,
    moderation_reason = NULL, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ReviewDelete :execrows
DELETE FROM reviews WHERE id = @id;

-- name: ReviewModerate :one
UPDATE reviews SET status = @status, moderation_reason = sqlc.narg('reason'), updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ReviewReply :one
-- ReviewReply sets the vendor's reply once: no row when the review already has one.
UPDATE reviews SET reply_body = @body, replied_at = now()
WHERE id = @id AND reply_body IS NULL
RETURNING *;

-- name: ReviewHelpfulVoteInsert :execrows
-- ReviewHelpfulVoteInsert counts once per account (the trigger keeps reviews.helpful_count).
INSERT INTO review_helpful_votes (review_id, user_id) VALUES (@review_id, @user_id)
ON CONFLICT DO NOTHING;

-- name: ReviewReportInsert :execrows
INSERT INTO review_reports (review_id, user_id, reason) VALUES (@review_id, @user_id, @reason)
ON CONFLICT DO NOTHING;

-- name: ReviewReportCount :one
SELECT count(*) FROM review_reports WHERE review_id = @review_id;

-- name: ProductRatingListByIDs :many
-- ProductRatingListByIDs is the batch read behind Product.rating.
SELECT id, rating_count, rating_sum, rating_histogram, COALESCE(rating_average, 0)::float8 AS rating_average
FROM products WHERE id = ANY(@ids::bigint[]);

-- name: ReviewCountByProduct :one
SELECT count(*) FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint);

-- name: ReviewCountByUser :one
SELECT count(*) FROM reviews r WHERE r.user_id = @user_id;

-- name: ReviewListByProductNewestForward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.created_at, r.id) < (sqlc.narg('after_key')::timestamptz, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.created_at, r.id) > (sqlc.narg('before_key')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY r.created_at DESC, r.id DESC
LIMIT @lim;

-- name: ReviewListByProductNewestBackward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.created_at, r.id) < (sqlc.narg('after_key')::timestamptz, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.created_at, r.id) > (sqlc.narg('before_key')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY r.created_at ASC, r.id ASC
LIMIT @lim;

-- name: ReviewListByProductHighestForward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.rating, r.id) < (sqlc.narg('after_key')::smallint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.rating, r.id) > (sqlc.narg('before_key')::smallint, sqlc.narg('before_id')::bigint))
ORDER BY r.rating DESC, r.id DESC
LIMIT @lim;

-- name: ReviewListByProductHighestBackward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.rating, r.id) < (sqlc.narg('after_key')::smallint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.rating, r.id) > (sqlc.narg('before_key')::smallint, sqlc.narg('before_id')::bigint))
ORDER BY r.rating ASC, r.id ASC
LIMIT @lim;

-- name: ReviewListByProductLowestForward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.rating, r.id) > (sqlc.narg('after_key')::smallint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.rating, r.id) < (sqlc.narg('before_key')::smallint, sqlc.narg('before_id')::bigint))
ORDER BY r.rating ASC, r.id ASC
LIMIT @lim;

-- name: ReviewListByProductLowestBackward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.rating, r.id) > (sqlc.narg('after_key')::smallint, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.rating, r.id) < (sqlc.narg('before_key')::smallint, sqlc.narg('before_id')::bigint))
ORDER BY r.rating DESC, r.id DESC
LIMIT @lim;

-- name: ReviewListByProductMostHelpfulForward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.helpful_count, r.id) < (sqlc.narg('after_key')::integer, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.helpful_count, r.id) > (sqlc.narg('before_key')::integer, sqlc.narg('before_id')::bigint))
ORDER BY r.helpful_count DESC, r.id DESC
LIMIT @lim;

-- name: ReviewListByProductMostHelpfulBackward :many
SELECT r.*
FROM reviews r
WHERE r.product_id = @product_id
  AND review_visible(r.status, r.user_id, sqlc.narg('viewer_id')::bigint, @see_all::boolean)
  AND (sqlc.narg('rating')::smallint IS NULL OR r.rating = sqlc.narg('rating')::smallint)
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.helpful_count, r.id) < (sqlc.narg('after_key')::integer, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.helpful_count, r.id) > (sqlc.narg('before_key')::integer, sqlc.narg('before_id')::bigint))
ORDER BY r.helpful_count ASC, r.id ASC
LIMIT @lim;

-- name: ReviewListByUserForward :many
SELECT r.*
FROM reviews r
WHERE r.user_id = @user_id
  AND TRUE
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.created_at, r.id) < (sqlc.narg('after_key')::timestamptz, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.created_at, r.id) > (sqlc.narg('before_key')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY r.created_at DESC, r.id DESC
LIMIT @lim;

-- name: ReviewListByUserBackward :many
SELECT r.*
FROM reviews r
WHERE r.user_id = @user_id
  AND TRUE
  AND (sqlc.narg('after_id')::bigint IS NULL OR (r.created_at, r.id) < (sqlc.narg('after_key')::timestamptz, sqlc.narg('after_id')::bigint))
  AND (sqlc.narg('before_id')::bigint IS NULL OR (r.created_at, r.id) > (sqlc.narg('before_key')::timestamptz, sqlc.narg('before_id')::bigint))
ORDER BY r.created_at ASC, r.id ASC
LIMIT @lim;
