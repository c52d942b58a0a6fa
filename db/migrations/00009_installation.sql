-- +goose Up
-- The identity of this database, as opposed to its name or address: several shops (or test
-- databases) may share one Redis with the same REDIS_KEY_PREFIX, and every Redis key and
-- channel of a shop is namespaced by this id so that they never read each other's cache,
-- rate limits or order events. One row, created with the schema.
-- A copy of the database made to run as another shop (CREATE DATABASE ... TEMPLATE, a restored
-- dump beside the original) must be given its own id:
--   UPDATE installation SET id = gen_random_uuid();
CREATE TABLE installation (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO installation DEFAULT VALUES;

-- +goose Down
DROP TABLE installation;
