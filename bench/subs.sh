#!/usr/bin/env bash
#
# bench/subs.sh — shopgraph's live-tracking benchmark, end to end (bench/README.md, "Live tracking").
#
# Recreates the database shopgraph_bench_subs, migrates it, seeds 50 products, creates an admin
# (shopgraph admin create) and, through the API, a customer with two orders (cartItemAdd +
# checkout; the second is moved to PAID). The server is built with a benchmark-only debug
# listener (bench/subsgen/_overlay, through go build -overlay: the tree is not touched) that
# reports its goroutines and Go heap. Then:
#   S1  memory: for each layout (SUBS subscriptions as SUBS connections x 1, and as SUBS/20
#       connections x 20), RUNS times on a freshly started instance A: open them all to
#       orderStatusChanged(orderId, after: 0) of the PENDING order, wait for every first event,
#       read the server's RSS (/proc/<pid>/status) and Go figures against the baseline, hold
#       them idle (11 s, then HOLD seconds counting the server's CPU and the database's
#       transactions), close them (goroutines must return to the baseline).
#   S2  fan-out: instances A and B share PostgreSQL and Redis (same REDIS_KEY_PREFIX);
#       FANOUT_SUBS subscribers on B to orderStatusChanged of the PAID order; an admin moves the
#       order to PARTIALLY_REFUNDED EVENTS times through A, one every INTERVAL_MS; delivery
#       latency per subscriber and event, missing/duplicate deliveries. RUNS runs per selection
#       in FIELDS (full: with order { id status }; lean: the event alone).
# Raw results and summary.md go to bench/results/<UTC date and time>-subs[-quick]/.
#
# Usage:
#   bench/subs.sh                                              full (about 7 minutes on 2 cores)
#   RUNS=1 SUBS=2000 HOLD=5 EVENTS=10 FANOUT_SUBS=200 FIELDS=full bench/subs.sh
#                                                              quick run (about 1 minute), marked "quick"
#   UPDATE_README=1 bench/subs.sh                              also fill the live-tracking results of bench/README.md
#   SCENARIOS=S2 bench/subs.sh                                 only the fan-out
#
# Environment (defaults in brackets):
#   RUNS         runs per configuration, medians [3]
#   SUBS         S1 subscriptions [10000]               PER_CONN  S1 layouts: subscriptions per connection [1 20]
#   HOLD         S1 seconds held idle [30]              DIAL_C    dials in flight [32]
#   FANOUT_SUBS  S2 subscribers [1000]                  FANOUT_PER_CONN  subscriptions per connection [1]
#   EVENTS       S2 status changes per run [30]         INTERVAL_MS  one every [500] ms
#   FIELDS       S2 selections [full lean]              S1_FIELDS  S1 selection [full]
#   SCENARIOS    [S1 S2]                                BENCH_DB  [shopgraph_bench_subs]
#   PRODUCTS     seeded products [50]
#   BENCH_REDIS_URL  Redis for both instances [scripts/services.sh redis-url]; S2 needs it
#   SERVER_RATE_LIMIT_PER_IP  the servers' RATE_LIMIT_PER_IP [0: off; the default 1200/min
#                stops one IP from opening more than ~1,200 WebSockets a minute]
#   OUT          results directory                      UPDATE_README=1  write bench/README.md's section
#   DB_MAX_CONNS, GOMAXPROCS, GOGC, GOMEMLIMIT  passed to the servers when set
#   DATABASE_ADMIN_URL  PostgreSQL server to use (see scripts/services.sh)
#
# Exit status: 0, or 1 when a step fails or a delivery was missing, duplicated or out of order.
#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_NAME="bench/subs.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh

RUNS="${RUNS:-3}"
SUBS="${SUBS:-10000}"
PER_CONN="${PER_CONN:-1 20}"
HOLD="${HOLD:-30}"
DIAL_C="${DIAL_C:-32}"
FANOUT_SUBS="${FANOUT_SUBS:-1000}"
FANOUT_PER_CONN="${FANOUT_PER_CONN:-1}"
EVENTS="${EVENTS:-30}"
INTERVAL_MS="${INTERVAL_MS:-500}"
FIELDS="${FIELDS:-full lean}"
S1_FIELDS="${S1_FIELDS:-full}"
SCENARIOS="${SCENARIOS:-S1 S2}"
BENCH_DB="${BENCH_DB:-shopgraph_bench_subs}"
PRODUCTS="${PRODUCTS:-50}"
SERVER_RATE_LIMIT_PER_IP="${SERVER_RATE_LIMIT_PER_IP:-0}"
UPDATE_README="${UPDATE_README:-0}"

QUICK=0
if ((RUNS < 3 || SUBS < 10000 || FANOUT_SUBS < 1000 || EVENTS < 30 || HOLD < 30)); then
	QUICK=1
fi
results_dir -subs


# ---------------------------------------------------------------------------
# Tools and limits

NEED_PGBENCH=0 require_tools

# Every subscriber connection is a socket in the load generator and one in the server.
max_conns="$SUBS"
need_fds=$((max_conns + 1024))
if (($(ulimit -n) < need_fds)); then
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
(($(ulimit -n) >= need_fds)) ||
	die "open files limit $(ulimit -n) (hard $(ulimit -Hn)) is below the $need_fds that $max_conns connections need; lower SUBS or raise the hard limit"

TMP="$(mktemp -d -t shopgraph-subs-bench.XXXXXX)"
declare -A PIDS=() PORTS=() DEBUG_PORTS=()
REDIS_PREFIX="benchsubs:$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n'):"

stop_instance() { # NAME
	stop_pid "${PIDS[$1]:-}"
	PIDS[$1]=""
}

cleanup() {
	loadavg_stop
	stop_instance A
	stop_instance B
	if [[ -n "${REDIS_URL:-}" ]] && command -v redis-cli >/dev/null; then
		redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
			xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Database, binaries, catalog, accounts

mkdir -p "$OUT"
log "results: $OUT"

ADMIN_URL="$(scripts/services.sh postgres-url)"
STRIPE_API_BASE="$(scripts/services.sh stripe-mock-url)"
log "stripe-mock: $STRIPE_API_BASE"
REDIS_URL="${BENCH_REDIS_URL:-$(scripts/services.sh redis-url 2>/dev/null || true)}"
if [[ -n "$REDIS_URL" ]]; then
	log "redis: $REDIS_URL (key prefix $REDIS_PREFIX)"
elif has S2; then
	log "no Redis answers: S2 (two instances) is skipped; S1 runs with the in-process bus"
	SCENARIOS="${SCENARIOS//S2/}"
fi

log "recreating database $BENCH_DB"
drop_db "$BENCH_DB"
DATABASE_URL="$(scripts/services.sh database-url "$BENCH_DB")"
log "database: $DATABASE_URL"

log "building the server (with the benchmark debug listener) and subsgen"
printf '{"Replace":{"%s":"%s"}}\n' "$ROOT/zz_bench_debug.go" "$ROOT/bench/subsgen/_overlay/zz_bench_debug.go" >"$TMP/overlay.json"
go build -overlay "$TMP/overlay.json" -o "$TMP/shopgraph" .
go build -o "$TMP/subsgen" ./bench/subsgen
SG="$TMP/subsgen"

# The servers' environment: nothing inherited but PATH and HOME.
server_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" APP_ENV=test LOG_LEVEL=warn "DATABASE_URL=$DATABASE_URL"
	"STRIPE_API_BASE=$STRIPE_API_BASE" LOGIN_ATTEMPTS_PER_IP=1000000 LOGIN_ATTEMPTS_PER_EMAIL=1000000 LOGIN_ATTEMPTS_PER_EMAIL_IP=1000000
	"RATE_LIMIT_PER_IP=$SERVER_RATE_LIMIT_PER_IP")
add_server_tuning
if [[ -n "$REDIS_URL" ]]; then
	server_env+=("REDIS_URL=$REDIS_URL" "REDIS_KEY_PREFIX=$REDIS_PREFIX")
fi

"${server_env[@]}" "$TMP/shopgraph" migrate >"$TMP/migrate.log" 2>&1 || {
	cat "$TMP/migrate.log" >&2
	die "migrate failed"
}
log "seeding $PRODUCTS products"
"${server_env[@]}" "$TMP/shopgraph" seed --products "$PRODUCTS" >&2
VARIANT="$(sql "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
	WHERE p.status = 'ACTIVE' AND v.deleted_at IS NULL ORDER BY v.id LIMIT 1")"
[[ -n "$VARIANT" ]] || die "no variant to order"
sql "UPDATE product_variants SET stock = 1000 WHERE id = $VARIANT" >/dev/null

ADMIN_EMAIL="subs-admin@bench.example.com"
ADMIN_PASSWORD="bench-admin-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
"${server_env[@]}" "SHOPGRAPH_ADMIN_PASSWORD=$ADMIN_PASSWORD" \
	"$TMP/shopgraph" admin create --email "$ADMIN_EMAIL" >&2

start_instance() { # NAME
	local name="$1" port dport url
	port="$(free_port)" || die "no free port"
	dport="$(free_port)" || die "no free port"
	PORTS[$name]="$port"
	DEBUG_PORTS[$name]="$dport"
	"${server_env[@]}" "PORT=$port" "BENCH_DEBUG_ADDR=127.0.0.1:$dport" "$TMP/shopgraph" serve >>"$TMP/server-$name.log" 2>&1 &
	PIDS[$name]=$!
	url="http://127.0.0.1:$port"
	wait_ready "${PIDS[$name]}" "$url" "$TMP/server-$name.log" "instance $name"
	log "instance $name: $url (pid ${PIDS[$name]}, debug listener 127.0.0.1:$dport)"
}
gql_url() { echo "http://127.0.0.1:${PORTS[$1]}/graphql"; }

# ---------------------------------------------------------------------------
# Machine

git_rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ]]; then
	git_rev+=" (with uncommitted changes)"
fi
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)"
pg_version="$(sql "SHOW server_version")"
redis_version=""
if [[ -n "$REDIS_URL" ]] && command -v redis-cli >/dev/null; then
	redis_version=", Redis $(redis-cli -u "$REDIS_URL" INFO server 2>/dev/null | sed -n 's/^redis_version:\([^\r]*\).*/\1/p')"
fi
redis_desc="none (in-process bus)"
if [[ -n "$REDIS_URL" ]]; then
	redis_desc="$REDIS_URL, shared by the instances (one REDIS_KEY_PREFIX)"
fi
{
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) cores (${cpu:-unknown CPU}), ${mem:-? memory}, $(uname -sr); servers, PostgreSQL, Redis and the load generator on the same box"
	echo "- Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	if awk -v n="$(nproc)" '{exit !($1 > n)}' /proc/loadavg 2>/dev/null; then
		echo "- **Warning: the machine was busy before the run** (1-minute load average above $(nproc)): other work competed with the benchmark and the figures are noisy"
	fi
	echo "- Software: $(go version | cut -d' ' -f3), PostgreSQL $pg_version$redis_version, shopgraph $git_rev"
	echo "- Servers: APP_ENV=test LOG_LEVEL=warn, RATE_LIMIT_PER_IP=$SERVER_RATE_LIMIT_PER_IP, DB_MAX_CONNS=${DB_MAX_CONNS:-default}, GOGC=${GOGC:-default}, GOMEMLIMIT=${GOMEMLIMIT:-default}, Redis: $redis_desc; open files limit $(ulimit -n)$( ((QUICK)) && echo "; QUICK MODE (not comparable with full runs)")"
	echo "- S1: $SUBS subscriptions per layout (subscriptions per connection: $PER_CONN), selection $S1_FIELDS, $RUNS run(s) each on a fresh instance, held ${HOLD}s; S2: $FANOUT_SUBS subscribers ($FANOUT_PER_CONN per connection), $EVENTS changes every ${INTERVAL_MS} ms, selections: $FIELDS, $RUNS run(s) each"
} >"$OUT/machine.md"
cat "$OUT/machine.md" >&2

loadavg_start

# ---------------------------------------------------------------------------
# Customer and orders (through instance A)

start_instance A
"$SG" setup -url "$(gql_url A)" -admin-email "$ADMIN_EMAIL" -admin-password "$ADMIN_PASSWORD" \
	-variant "$VARIANT" -orders 2 -out "$TMP/state.json"
stop_instance A

DB_COMMITS_CMD="'$PSQL' -X -At -d '$ADMIN_URL' -c \"SELECT xact_commit FROM pg_stat_database WHERE datname = '$BENCH_DB'\""
FAIL=0

# ---------------------------------------------------------------------------
# S1: memory per subscription, one fresh instance per run

if has S1; then
	for per in $PER_CONN; do
		((SUBS % per == 0)) || die "SUBS ($SUBS) is not a multiple of $per"
		conns=$((SUBS / per))
		for i in $(seq 1 "$RUNS"); do
			log "S1 ${conns}x$per run $i: fresh instance A"
			start_instance A
			profiles=()
			if ((i == 1)); then
				profiles=(-heap-profile "$OUT/heap-${conns}x$per.pprof" -goroutine-profile "$OUT/goroutines-${conns}x$per.txt")
			fi
			"$SG" mem -url "$(gql_url A)" -state "$TMP/state.json" -conns "$conns" -per-conn "$per" \
				-pid "${PIDS[A]}" -debug "http://127.0.0.1:${DEBUG_PORTS[A]}" -fields "$S1_FIELDS" \
				-dial-c "$DIAL_C" -hold "${HOLD}s" -db-commits "$DB_COMMITS_CMD" -run "$i" "${profiles[@]}" \
				-json "$OUT/s1-${conns}x$per-run$i.json" | tee "$OUT/s1-${conns}x$per-run$i.txt" || FAIL=1
			stop_instance A
			if [[ -s "$OUT/heap-${conns}x$per.pprof" && ! -s "$OUT/heap-${conns}x$per.txt" ]]; then
				go tool pprof -top -sample_index=inuse_space -nodecount=30 "$TMP/shopgraph" "$OUT/heap-${conns}x$per.pprof" \
					>"$OUT/heap-${conns}x$per.txt" 2>/dev/null || true
			fi
		done
	done
fi

# ---------------------------------------------------------------------------
# S2: fan-out from A to subscribers on B

if has S2; then
	log "S2: instances A (status changes) and B (subscribers), sharing PostgreSQL and Redis"
	start_instance A
	start_instance B
	for fields in $FIELDS; do
		for i in $(seq 1 "$RUNS"); do
			log "S2 $fields run $i"
			"$SG" fanout -sub-url "$(gql_url B)" -mut-url "$(gql_url A)" -state "$TMP/state.json" \
				-subscribers "$FANOUT_SUBS" -per-conn "$FANOUT_PER_CONN" -events "$EVENTS" -interval "${INTERVAL_MS}ms" \
				-fields "$fields" -dial-c "$DIAL_C" -run "$i" \
				-json "$OUT/s2-$fields-run$i.json" | tee "$OUT/s2-$fields-run$i.txt" || FAIL=1
		done
	done
	stop_instance A
	stop_instance B
fi

loadavg_stop
for name in A B; do
	if [[ -s "$TMP/server-$name.log" ]]; then
		tail -n 50 "$TMP/server-$name.log" >"$OUT/server-$name.log"
	fi
done

# ---------------------------------------------------------------------------
# Summary

{
	echo "### Live tracking benchmark, $(date -u '+%Y-%m-%d')$( ((QUICK)) && echo " (quick mode)")"
	echo
	cat "$OUT/machine.md"
	loadavg_summary
	echo
	"$SG" report -dir "$OUT"
	echo "Raw results: \`${OUT#"$ROOT"/}/\`."
} >"$OUT/summary.md"

if [[ "$UPDATE_README" == 1 ]]; then
	update_readme subs-results "updated the live-tracking results of bench/README.md" \
		"bench/README.md has no live-tracking results markers; not updated"
fi

log "summary ($OUT/summary.md)"
cat "$OUT/summary.md"
((FAIL == 0)) || die "a run failed or a delivery was missing, duplicated or out of order (see above)"
