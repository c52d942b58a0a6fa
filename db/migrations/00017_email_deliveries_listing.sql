-- +goose Up
-- Admins list email deliveries newest first (emailDeliveries), all of them or one
-- recipient's or one status's: keyset pages on (created_at, id), with the filter in front.
CREATE INDEX email_deliveries_created_idx ON email_deliveries (created_at DESC, id DESC);
CREATE INDEX email_deliveries_recipient_created_idx ON email_deliveries (recipient, created_at DESC, id DESC);
CREATE INDEX email_deliveries_status_created_idx ON email_deliveries (status, created_at DESC, id DESC);

-- +goose Down
DROP INDEX email_deliveries_status_created_idx;
DROP INDEX email_deliveries_recipient_created_idx;
DROP INDEX email_deliveries_created_idx;
