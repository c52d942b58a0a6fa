-- +goose Up
-- catalog_visible is the one statement of who sees a product in the catalog's lists and
-- counts: everyone sees ACTIVE products; admins (see_archived) see every product; a vendor
-- (viewer_vendor_id) sees its own, archived ones included. internal/catalog/policy.go decides
-- the arguments from the viewer and states the same rule for single products.
-- It is plain SQL and IMMUTABLE so that the planner inlines it: with the arguments known (the
-- catalog's list queries are planned for their values), a customer's call folds to
-- status = 'ACTIVE' and an admin's to nothing, and the sort indexes serve every list as before.
-- +goose StatementBegin
CREATE FUNCTION catalog_visible(status product_status, vendor_id bigint, see_archived boolean, viewer_vendor_id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT status = 'ACTIVE' OR see_archived OR vendor_id = viewer_vendor_id $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION catalog_visible(product_status, bigint, boolean, bigint);
