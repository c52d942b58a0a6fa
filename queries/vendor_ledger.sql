-- The vendor ledger (internal/vendor/ledger.go): what each vendor earned on paid orders and
-- what refunds took back. Append-only; each entry is written once (unique indexes).

-- name: VendorLedgerOrderLines :many
-- The vendor lines of an order with the commission rate each took at checkout (lines written
-- before rates were kept read their vendor's rate then: the migration filled them in).
SELECT l.id, l.vendor_id::bigint AS vendor_id, l.currency, l.line_total, COALESCE(l.commission_bps, 0)::integer AS commission_bps
FROM order_lines l
WHERE l.order_id = @order_id AND l.vendor_id IS NOT NULL
ORDER BY l.id;

-- name: VendorLedgerEarningInsert :execrows
INSERT INTO vendor_ledger_entries (vendor_id, order_id, order_line_id, kind, currency,
                                   gross_amount, commission_amount, net_amount, commission_bps)
VALUES (@vendor_id, @order_id, @order_line_id, 'EARNING', @currency,
        @gross_amount, @commission_amount, @net_amount, @commission_bps)
ON CONFLICT (order_line_id) WHERE kind = 'EARNING' DO NOTHING;

-- name: VendorLedgerOrderTotals :many
-- Per vendor of an order: what it earned and what reversals took back so far.
SELECT vendor_id, currency,
       COALESCE(sum(gross_amount) FILTER (WHERE kind = 'EARNING'), 0)::bigint AS earned_gross,
       COALESCE(sum(commission_amount) FILTER (WHERE kind = 'EARNING'), 0)::bigint AS earned_commission,
       COALESCE(sum(gross_amount) FILTER (WHERE kind = 'REVERSAL'), 0)::bigint AS reversed_gross,
       COALESCE(sum(commission_amount) FILTER (WHERE kind = 'REVERSAL'), 0)::bigint AS reversed_commission
FROM vendor_ledger_entries
WHERE order_id = @order_id
GROUP BY vendor_id, currency
ORDER BY vendor_id;

-- name: VendorLedgerReversalInsert :execrows
INSERT INTO vendor_ledger_entries (vendor_id, order_id, refund_id, refunded_through, kind, currency,
                                   gross_amount, commission_amount, net_amount)
VALUES (@vendor_id, @order_id, @refund_id, @refunded_through, 'REVERSAL', @currency,
        @gross_amount, @commission_amount, @net_amount)
ON CONFLICT (order_id, refunded_through, vendor_id) WHERE kind = 'REVERSAL' DO NOTHING;

-- name: VendorLedgerStepRecorded :one
-- Whether the refund step of an order reaching refunded_through was recorded already.
SELECT EXISTS (SELECT 1 FROM vendor_ledger_entries
               WHERE order_id = @order_id AND refunded_through = @refunded_through AND kind = 'REVERSAL')::boolean;

-- name: VendorLedgerBalance :many
-- A vendor's balance per currency.
SELECT currency,
       COALESCE(sum(net_amount) FILTER (WHERE kind = 'EARNING'), 0)::bigint AS earned,
       COALESCE(sum(net_amount) FILTER (WHERE kind = 'REVERSAL'), 0)::bigint AS reversed
FROM vendor_ledger_entries
WHERE vendor_id = @vendor_id
GROUP BY currency
ORDER BY currency;

-- name: VendorLedgerList :many
-- A vendor's entries, newest first, after the keyset cursor (0: from the start).
SELECT * FROM vendor_ledger_entries
WHERE vendor_id = @vendor_id AND (@after_id::bigint = 0 OR id < @after_id::bigint)
ORDER BY id DESC
LIMIT @max_rows;

-- name: VendorLedgerCount :one
SELECT count(*)::integer FROM vendor_ledger_entries WHERE vendor_id = @vendor_id;
