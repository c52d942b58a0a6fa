-- +goose Up
-- Earnings backfill (issue 16): orders paid before the vendor ledger (00021) have no entries.
-- Every order that was paid (PAID or any later state but CANCELLED) and holds vendor lines
-- but no ledger entry gets an EARNING per vendor line, at the line's commission rate (00021
-- gave older lines their vendor's rate then; a line still without one takes its vendor's
-- current rate), commission rounded half up on minor units as vendor.Commission does, dated at
-- the order's payment. A refunded order also gets one REVERSAL per vendor for its whole
-- refunded total, split by the one refund rule (analytics_share, queries/refund_split.sql).
-- Orders with any entry are left alone, so running it again writes nothing; the ledger is
-- append-only, so the down migration keeps what the up wrote.
WITH b AS (
    SELECT o.id, o.total_amount, o.currency, o.status,
           COALESCE((SELECT min(e.created_at) FROM order_events e WHERE e.order_id = o.id AND e.status = 'PAID'), o.created_at) AS paid_at
    FROM orders o
    WHERE o.status IN ('PAID', 'SHIPPED', 'DELIVERED', 'REFUNDED', 'PARTIALLY_REFUNDED')
      AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.vendor_id IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM vendor_ledger_entries le WHERE le.order_id = o.id)
), lines AS (
    SELECT l.vendor_id, b.id AS order_id, l.id AS line_id, l.currency, l.line_total, b.paid_at,
           r.bps, div(l.line_total::numeric * r.bps + 5000, 10000)::bigint AS commission
    FROM b
    JOIN order_lines l ON l.order_id = b.id AND l.vendor_id IS NOT NULL
    JOIN vendors v ON v.id = l.vendor_id
    CROSS JOIN LATERAL (SELECT COALESCE(l.commission_bps, v.commission_bps) AS bps) r
), earnings AS (
    INSERT INTO vendor_ledger_entries (vendor_id, order_id, order_line_id, kind, currency,
                                       gross_amount, commission_amount, net_amount, commission_bps, created_at)
    SELECT vendor_id, order_id, line_id, 'EARNING', currency, line_total, commission, line_total - commission, bps, paid_at
    FROM lines
    ORDER BY order_id, line_id
    ON CONFLICT (order_line_id) WHERE kind = 'EARNING' DO NOTHING
    RETURNING 1
), refunded AS (
    SELECT b.id, b.currency,
           LEAST((SELECT max(payment_refunded(
                      (SELECT COALESCE(sum(rf.amount), 0)::bigint FROM refunds rf WHERE rf.payment_id = p.id AND rf.status = 'SUCCEEDED'),
                      p.provider_refunded, p.amount_received))
                  FROM payments p WHERE p.order_id = b.id),
                 b.total_amount) AS through,
           (SELECT sum(line_total) FROM order_lines WHERE order_id = b.id) AS lines_total
    FROM b
    WHERE b.status IN ('REFUNDED', 'PARTIALLY_REFUNDED')
), earned AS (
    SELECT order_id, vendor_id, sum(line_total) AS gross, sum(commission) AS commission
    FROM lines GROUP BY order_id, vendor_id
), parts AS (
    SELECT r.id, r.currency, r.through, e.vendor_id, e.gross AS earned_gross, e.commission AS earned_commission,
           LEAST(analytics_share(r.through, e.gross, r.lines_total), e.gross) AS gross
    FROM refunded r JOIN earned e ON e.order_id = r.id
    WHERE r.through > 0
)
-- The commission given back follows the gross, rounded half up (vendor.Ledger's rule).
INSERT INTO vendor_ledger_entries (vendor_id, order_id, refunded_through, kind, currency,
                                   gross_amount, commission_amount, net_amount)
SELECT p.vendor_id, p.id, p.through, 'REVERSAL', p.currency, p.gross, c.commission, p.gross - c.commission
FROM parts p
CROSS JOIN LATERAL (SELECT CASE WHEN p.earned_gross = 0 THEN 0
                                ELSE div(p.earned_commission::numeric * p.gross * 2 + p.earned_gross, p.earned_gross * 2)::bigint END AS commission) c
WHERE p.gross > 0 AND (SELECT count(*) FROM earnings) >= 0
ORDER BY p.id, p.vendor_id
ON CONFLICT (order_id, refunded_through, vendor_id) WHERE kind = 'REVERSAL' DO NOTHING;

-- +goose Down
-- The ledger is append-only: the backfilled entries stay (the up finds them and writes nothing).
SELECT 1;
