#!/usr/bin/env bash
#
# bench/emails.sh — shopgraph's email benchmark, end to end (bench/README.md, "Emails").
#
# Recreates the database shopgraph_bench_emails (drop + create), builds bench/emailgen and
# runs it: one shopgraph instance in process working its job queue, its own SMTP server as the
# mail provider; ORDERS orders placed, each committing its confirmation job with it; then it
# waits for every email and checks that each arrived exactly once (PASS/FAIL), and reports
# the time from commit to delivery (p50/p90/p99/max) and the throughput in emails per second.
# The result goes to bench/results/<UTC date and time>-emails[-quick]/emails.json.
#
# Usage:
#   bench/emails.sh                      10,000 orders, 10,000 emails
#   ORDERS=2000 bench/emails.sh          a smaller run, marked "quick"
#   RATE=50 bench/emails.sh              with MAIL_RATE_PER_SECOND=50
#   ORDERS=3000 PLACE_RATE=50 bench/emails.sh   latency below saturation (orders at 50/s)
#
# Environment (defaults in brackets):
#   ORDERS         orders placed, emails expected [10000]   PLACERS  goroutines placing orders [8]
#   PLACE_RATE     orders placed per second at most [0: as fast as the placers go]
#   EMAIL_WORKERS  email jobs worked at once [0: the server's default, 10]
#   RATE           MAIL_RATE_PER_SECOND [0: unlimited]      DB_MAX_CONNS  the instance's pool [16]
#   SERVER_REDIS_URL  give the instance this REDIS_URL (the rate limit in Redis) [none]
#   BENCH_DB       [shopgraph_bench_emails]                OUT  results directory
#   DATABASE_ADMIN_URL  PostgreSQL server to use (see scripts/services.sh)
#
# Exit status: 0, or 1 when an email is missing or was sent twice.
#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_NAME="bench/emails.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh

ORDERS="${ORDERS:-10000}"
PLACERS="${PLACERS:-8}"
PLACE_RATE="${PLACE_RATE:-0}"
EMAIL_WORKERS="${EMAIL_WORKERS:-0}"
RATE="${RATE:-0}"
DB_MAX_CONNS="${DB_MAX_CONNS:-16}"
BENCH_DB="${BENCH_DB:-shopgraph_bench_emails}"
QUICK=0
if ((ORDERS < 10000)); then
	QUICK=1
fi

NEED_PGBENCH=0 require_tools
results_dir -emails
mkdir -p "$OUT"
ADMIN_URL="$(scripts/services.sh postgres-url)"

log "database $BENCH_DB (recreated)"
drop_db "$BENCH_DB"
DATABASE_URL="$(scripts/services.sh database-url "$BENCH_DB")"

BIN="$(mktemp -d)"
trap 'rm -rf "$BIN"' EXIT
log "building bench/emailgen"
go build -o "$BIN/emailgen" ./bench/emailgen

log "placing $ORDERS orders and waiting for their emails"
"$BIN/emailgen" -db "$DATABASE_URL" -orders "$ORDERS" -placers "$PLACERS" -place-rate "$PLACE_RATE" -email-workers "$EMAIL_WORKERS" \
	-rate "$RATE" -redis "${SERVER_REDIS_URL:-}" -db-max-conns "$DB_MAX_CONNS" -json "$OUT/emails.json"
{
	echo "machine: $(nproc) cores, $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "go: $(go version | cut -d' ' -f3); PostgreSQL: $("$PSQL" -X -At -d "$DATABASE_URL" -c 'SHOW server_version')"
} | tee "$OUT/machine.txt"
log "results in $OUT"
