-- name: NoticeVendorRecipients :many
-- NoticeVendorRecipients are vendors ids' names, contact addresses and their members' addresses
-- (in account order): a vendor's notices go to its contact address, or to its members when it
-- has none.
SELECT v.id, v.name, v.contact_email,
       COALESCE((SELECT array_agg(u.email ORDER BY u.id) FROM users u WHERE u.vendor_id = v.id), '{}')::text[] AS member_emails
FROM vendors v
WHERE v.id = ANY(@ids::bigint[])
ORDER BY v.id;

-- name: NoticeAdminEmails :many
-- NoticeAdminEmails are every admin account's address, in account order.
SELECT email FROM users WHERE role = 'ADMIN' ORDER BY id;

-- name: NoticeVariant :one
-- NoticeVariant is what a low-stock notice names: the variant's SKU and name, its product's name
-- and vendor (also for a variant deleted since).
SELECT v.id, v.sku, v.name, p.name AS product_name, p.vendor_id
FROM product_variants v JOIN products p ON p.id = v.product_id
WHERE v.id = @id;

-- name: NoticeVendorApplication :one
-- NoticeVendorApplication is what the admins are told of an application to sell: the vendor and
-- the account that applied (gone when it was deleted since).
SELECT v.id, v.name, v.slug, v.status, v.contact_email, v.description, v.created_at,
       u.email AS applicant_email, u.name AS applicant_name
FROM vendors v LEFT JOIN users u ON u.id = v.applicant_id
WHERE v.id = @id;

-- name: NoticeDeliveriesDone :many
-- NoticeDeliveriesDone are the deliveries of event keys that are over (sent or failed): a job
-- that sends several emails skips them before waiting for a turn under the send rate.
SELECT event_key, recipient FROM email_deliveries
WHERE event_key = ANY(@event_keys::text[]) AND status IN ('sent', 'failed');
