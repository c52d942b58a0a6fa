#!/usr/bin/env bash
#
# scripts/replica.sh — a throwaway PostgreSQL primary and its streaming replica, for the read
# replica's tests (internal/testutil/replicatest starts it). Never touches the machine's own
# cluster, its configuration or its pg_hba: both servers live in DIR and listen on 127.0.0.1.
#
# Usage:
#   scripts/replica.sh DIR PRIMARY_PORT REPLICA_PORT
#
# DIR must exist and be empty. The script runs initdb for a primary in DIR/primary
# (wal_level=replica), starts it, takes `pg_basebackup -R` into DIR/replica, starts the replica
# and prints "ready". It then reads commands from stdin, one a line, answering "ok" to each:
#   stop-replica    stop the replica at once (immediate shutdown)
# When stdin ends, or on SIGTERM/SIGINT/SIGHUP, both servers are stopped (immediate: nothing
# in them is worth a checkpoint), DIR is removed and the script exits. Run as root, the servers run as the
# `postgres` OS user (PostgreSQL refuses root) and DIR is given to it.
#
# The binaries come from $PG_BIN, else the newest /usr/lib/postgresql/*/bin, else PATH; the
# script fails, naming what is missing, when there are none.
set -euo pipefail

log() { printf 'replica.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

[[ $# -eq 3 ]] || die "usage: scripts/replica.sh DIR PRIMARY_PORT REPLICA_PORT"
DIR="$1"
PPORT="$2"
RPORT="$3"
[[ -d "$DIR" ]] || die "$DIR is not a directory"

find_pg_bin() {
	if [[ -n "${PG_BIN:-}" ]]; then
		printf '%s\n' "$PG_BIN"
		return
	fi
	local dir
	dir="$(printf '%s\n' /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV | head -n1)"
	if [[ -x "$dir/initdb" ]]; then
		printf '%s\n' "$dir"
		return
	fi
	if command -v initdb >/dev/null 2>&1; then
		dirname "$(command -v initdb)"
		return
	fi
	return 1
}
BIN="$(find_pg_bin)" || die "no PostgreSQL binaries (initdb, pg_ctl, pg_basebackup): install postgresql or set PG_BIN"
for tool in initdb pg_ctl pg_basebackup postgres; do
	[[ -x "$BIN/$tool" ]] || die "$BIN/$tool is missing: install postgresql or set PG_BIN"
done

as_pg() {
	if [[ "$(id -u)" -eq 0 ]]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}
if [[ "$(id -u)" -eq 0 ]]; then
	id -u postgres >/dev/null 2>&1 || die "running as root needs the postgres OS user"
	chown postgres: "$DIR"
	chmod 700 "$DIR"
fi

PRIMARY="$DIR/primary"
REPLICA="$DIR/replica"

stop_server() {
	if [[ -f "$1/postmaster.pid" ]]; then
		as_pg "$BIN/pg_ctl" -D "$1" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
	fi
}
teardown() {
	stop_server "$REPLICA"
	stop_server "$PRIMARY"
	rm -rf "$DIR"
}
trap teardown EXIT
trap 'exit 143' TERM INT HUP
# A test that died closed our stdout: the next echo must fail (and so end the script through
# its EXIT trap), not kill it with SIGPIPE, which would skip the teardown.
trap '' PIPE

start_server() { # DATA LOG
	if ! as_pg "$BIN/pg_ctl" -D "$1" -l "$2" -w -t 30 start >&2; then
		tail -n 20 "$2" >&2 || true
		die "pg_ctl start failed for $1"
	fi
}

as_pg "$BIN/initdb" -D "$PRIMARY" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null ||
	as_pg "$BIN/initdb" -D "$PRIMARY" -U postgres --auth=trust --encoding=UTF8 --no-locale --no-sync >/dev/null ||
	die "initdb failed"
# initdb's pg_hba trusts replication from 127.0.0.1 already (--auth=trust).
as_pg tee -a "$PRIMARY/postgresql.conf" >/dev/null <<-CONF

	# Written by scripts/replica.sh
	listen_addresses = '127.0.0.1'
	port = $PPORT
	unix_socket_directories = '$DIR'
	wal_level = replica
	max_wal_senders = 4
	max_connections = 40
	shared_buffers = 16MB
	fsync = off
	full_page_writes = off
CONF
start_server "$PRIMARY" "$DIR/primary.log"
as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p "$PPORT" -U postgres -D "$REPLICA" -R -X stream -c fast --no-sync ||
	die "pg_basebackup failed"
as_pg tee -a "$REPLICA/postgresql.conf" >/dev/null <<-CONF
	port = $RPORT
CONF
start_server "$REPLICA" "$DIR/replica.log"
echo ready

while IFS= read -r cmd; do
	case "$cmd" in
	stop-replica) stop_server "$REPLICA" ;;
	*) log "unknown command: $cmd" ;;
	esac
	echo ok
done
