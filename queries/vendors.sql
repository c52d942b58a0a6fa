-- Vendors: the sellers of the marketplace, their members (users.vendor_id) and their history.
-- internal/vendor decides who may see and do what.

-- name: VendorInsert :one
-- VendorInsert creates a vendor; a taken slug violates vendors_slug_key and a second pending
-- application of an account vendors_pending_applicant_key (CONFLICT).
INSERT INTO vendors (name, slug, description, logo_url, status, contact_email, commission_bps, applicant_id)
VALUES (@name, @slug, @description, sqlc.narg('logo_url'), @status, @contact_email, @commission_bps, sqlc.narg('applicant_id'))
RETURNING *;

-- name: VendorGetByID :one
SELECT * FROM vendors WHERE id = @id;

-- name: VendorGetByIDForUpdate :one
SELECT * FROM vendors WHERE id = @id FOR UPDATE;

-- name: VendorGetBySlug :one
SELECT * FROM vendors WHERE slug = @slug;

-- name: VendorListByIDs :many
-- VendorListByIDs is the batch read behind the vendor dataloader.
SELECT * FROM vendors WHERE id = ANY(@ids::bigint[]);

-- name: VendorList :many
-- VendorList is one page of vendors, newest first, keyset-paginated on (created_at, id);
-- @statuses are those the viewer may see (and asked for), as text (pgx has no encoder for
-- arrays of our enum).
SELECT * FROM vendors v
WHERE v.status::text = ANY(@statuses::text[])
  AND (sqlc.narg('after_id')::bigint IS NULL OR (v.created_at, v.id) < (sqlc.narg('after_created_at')::timestamptz, sqlc.narg('after_id')::bigint))
ORDER BY v.created_at DESC, v.id DESC
LIMIT @lim;

-- name: VendorCount :one
SELECT count(*) FROM vendors WHERE status::text = ANY(@statuses::text[]);

-- name: VendorUpdateProfile :one
UPDATE vendors SET name = @name, description = @description, logo_url = sqlc.narg('logo_url'),
    contact_email = @contact_email, commission_bps = @commission_bps, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: VendorSetStatus :one
UPDATE vendors SET status = @status, updated_at = now() WHERE id = @id RETURNING *;

-- name: VendorEventInsert :one
INSERT INTO vendor_events (vendor_id, action, status, reason, actor_id)
VALUES (@vendor_id, @action, @status, @reason, sqlc.narg('actor_id'))
RETURNING *;

-- name: VendorEventList :many
-- VendorEventList is a vendor's history, oldest first.
SELECT * FROM vendor_events WHERE vendor_id = @vendor_id ORDER BY id;

-- name: VendorProductsSetActive :many
-- VendorProductsSetActive copies the vendor's state onto its products (catalog_visible reads
-- it), in the transaction that changes the vendor's status; it returns the products changed,
-- whose cached copies are dropped after the commit.
UPDATE products SET vendor_active = @active
WHERE vendor_id = @vendor_id AND vendor_active <> @active
RETURNING id;

-- name: VendorMemberAdd :one
-- VendorMemberAdd makes an account a member of a vendor with the VENDOR role; an ADMIN keeps
-- its role.
UPDATE users SET vendor_id = @vendor_id,
    role = CASE WHEN role = 'ADMIN' THEN role ELSE 'VENDOR' END, updated_at = now()
WHERE id = @user_id
RETURNING *;

-- name: VendorUserGetByEmailForUpdate :one
-- VendorUserGetByEmailForUpdate locks the account vendorMemberAdd adds, so that two vendors
-- cannot add it at once.
SELECT * FROM users WHERE email = @email FOR UPDATE;

-- name: VendorMemberRemove :one
-- VendorMemberRemove takes an account out of its vendor: it becomes a CUSTOMER (an ADMIN keeps
-- its role). No row when the account is not a member of that vendor.
UPDATE users SET vendor_id = NULL,
    role = CASE WHEN role = 'ADMIN' THEN role ELSE 'CUSTOMER' END, updated_at = now()
WHERE id = @user_id AND vendor_id = @vendor_id
RETURNING *;

-- name: VendorMemberList :many
-- VendorMemberList is a vendor's member accounts, oldest account first.
SELECT * FROM users WHERE vendor_id = @vendor_id ORDER BY id;

-- name: VendorMemberCount :one
SELECT count(*) FROM users WHERE vendor_id = @vendor_id;

-- name: VendorMemberRevokeSessions :execrows
-- VendorMemberRevokeSessions ends every live session of an account removed from its vendor:
-- its refresh tokens stop working, and live subscriptions (which check the session) end.
UPDATE sessions SET revoked_at = now(), revoke_reason = 'removed from its vendor'
WHERE user_id = @user_id AND revoked_at IS NULL;
