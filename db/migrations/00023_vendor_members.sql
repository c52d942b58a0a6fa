-- +goose NO TRANSACTION
-- +goose Up
-- Member management (internal/vendor: vendorMemberAdd, vendorMemberRemove): a vendor's history
-- records the accounts added to and removed from it. ADD VALUE runs outside a transaction so
-- that it works on every supported PostgreSQL.
ALTER TYPE vendor_action ADD VALUE IF NOT EXISTS 'MEMBER_ADDED';
ALTER TYPE vendor_action ADD VALUE IF NOT EXISTS 'MEMBER_REMOVED';

-- +goose Down
-- PostgreSQL cannot drop an enum value: the type is rebuilt without them, and the history
-- entries that use them go (statement by statement: the file runs outside a transaction).
DELETE FROM vendor_events WHERE action::text IN ('MEMBER_ADDED', 'MEMBER_REMOVED');
ALTER TYPE vendor_action RENAME TO vendor_action_old;
CREATE TYPE vendor_action AS ENUM ('APPLIED', 'CREATED', 'APPROVED', 'REJECTED', 'SUSPENDED', 'REINSTATED', 'UPDATED');
ALTER TABLE vendor_events ALTER COLUMN action TYPE vendor_action USING action::text::vendor_action;
DROP TYPE vendor_action_old;
