-- The ledgers' entries as nodes (issue 16): one by its id, for node(id:).

-- name: StockMovementGet :one
SELECT sqlc.embed(m), v.product_id
FROM stock_movements m JOIN product_variants v ON v.id = m.variant_id
WHERE m.id = @id;

-- name: VendorLedgerEntryGet :one
SELECT * FROM vendor_ledger_entries WHERE id = @id;
