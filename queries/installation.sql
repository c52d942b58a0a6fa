-- name: InstallationID :one
-- InstallationID is this database's identity (migration 00009), the namespace of its Redis
-- keys and channels.
SELECT id FROM installation;

-- name: InstallationRenew :one
-- InstallationRenew gives the database a new identity: for a copy that is to run as a shop of
-- its own (a cloned test database, a restored dump beside the original).
UPDATE installation SET id = gen_random_uuid() RETURNING id;
