-- The one rule splitting an order's refunds between its vendors (issue 16): a vendor's part of
-- the order's cumulative refunded total is analytics_share (migration 00022): in proportion to
-- its lines' total out of all the lines' total, rounded down, the total capped at the lines'
-- total. The vendor ledger and the sales analytics both apply it, so they agree to the minor
-- unit; the platform's own lines bear the rounding.

-- name: VendorLedgerRefundTargets :many
-- Per vendor of order @order_id, its part of a cumulative refunded total of @refunded.
WITH tot AS (SELECT COALESCE(sum(line_total), 0) AS t FROM order_lines WHERE order_id = @order_id)
SELECT l.vendor_id::bigint AS vendor_id,
       analytics_share(@refunded::bigint, sum(l.line_total), (SELECT t FROM tot))::bigint AS target
FROM order_lines l
WHERE l.order_id = @order_id AND l.vendor_id IS NOT NULL
GROUP BY l.vendor_id
ORDER BY l.vendor_id;
