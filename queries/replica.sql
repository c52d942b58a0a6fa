-- name: WalInsertLSN :one
-- WalInsertLSN is where the primary's next WAL record goes, in bytes from the start of the WAL:
-- every transaction that committed before this call ends at or before it, even an asynchronous
-- commit not yet flushed. Read-your-writes and the replica's lag are measured against it.
SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint AS lsn;

-- name: WalReplayLSN :one
-- WalReplayLSN is how far a replica has replayed the primary's WAL, in bytes; -1 on a server that is not
-- a replica (a promoted one, or the primary itself named by mistake).
SELECT COALESCE((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, -1)::bigint AS lsn;
