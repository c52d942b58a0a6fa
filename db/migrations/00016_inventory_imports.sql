-- +goose Up
-- An inventory import: a CSV of absolute stock levels, validated whole when uploaded, then
-- applied all-or-nothing by a River job (inventory.ImportWorker). processed is written on its
-- own connection while the job runs, so that it is visible before the apply commits; status
-- SUCCEEDED commits in the same transaction as the stock it set, which is what makes a job run
-- again apply nothing twice.
CREATE TYPE inventory_import_status AS ENUM ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED');

CREATE TABLE inventory_imports (
    id          bigint                  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The admin or vendor who uploaded it; a vendor sees only their own imports.
    created_by  bigint                  NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    status      inventory_import_status NOT NULL DEFAULT 'PENDING',
    total       integer                 NOT NULL CHECK (total BETWEEN 1 AND 100000),
    processed   integer                 NOT NULL DEFAULT 0 CHECK (processed BETWEEN 0 AND total),
    -- Why the apply failed: [{"row": n, "column": "sku", "code": "NOT_FOUND", "message": "..."}].
    errors      jsonb                   NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(errors) = 'array'),
    created_at  timestamptz             NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX inventory_imports_created_by_idx ON inventory_imports (created_by, id DESC);

-- The validated rows of an import, written with COPY in the upload's transaction: one per
-- variant (duplicate SKUs are refused), applied in variant id order like every stock change.
-- No foreign key to the variant: one deleted before the apply fails the import instead.
CREATE TABLE inventory_import_rows (
    import_id  bigint  NOT NULL REFERENCES inventory_imports (id) ON DELETE CASCADE,
    variant_id bigint  NOT NULL,
    -- The line of the file (the header is line 1), for errors.
    line       integer NOT NULL,
    sku        text    NOT NULL,
    quantity   integer NOT NULL CHECK (quantity >= 0),
    reason     text    NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    PRIMARY KEY (import_id, variant_id)
);

-- +goose Down
DROP TABLE inventory_import_rows;
DROP TABLE inventory_imports;
DROP TYPE inventory_import_status;
