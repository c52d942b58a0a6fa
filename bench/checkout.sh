#!/usr/bin/env bash
#
# bench/checkout.sh — shopgraph's checkout benchmark, end to end (bench/README.md, "Checkout").
#
# Recreates the database shopgraph_bench_checkout (drop + create, so stock and orders start
# clean), migrates it, seeds 2,000 products, sets the stock, builds the server and
# bench/checkoutgen, starts the server (APP_ENV=test LOG_LEVEL=warn, Stripe = stripe-mock),
# registers the virtual customers before anything is timed, then:
#   C1  throughput at concurrency 16 (2 × cartItemAdd + checkout per iteration = one order),
#       interleaved run by run with its floor, pgbench's built-in TPC-B at the same concurrency
#       on a scratch database (pgbench -i -s 16, dropped afterwards); medians of RUNS runs;
#       then checks the stock bookkeeping in the database.
#   C2  hot product: every worker buys the one variant with stock HOT_STOCK until it sells
#       out; then checks the stock invariant in the database and prints PASS/FAIL.
# Raw results and summary.md go to bench/results/<UTC date and time>-checkout[-quick]/.
#
# Usage:
#   bench/checkout.sh                              the full benchmark (about 3 minutes on 2 cores)
#   DURATION=5 WARMUP=2 RUNS=1 bench/checkout.sh   quick run (about 50 seconds), marked "quick"
#   UPDATE_README=1 bench/checkout.sh              also fill the checkout results of bench/README.md
#   SCENARIOS=C2 bench/checkout.sh                 only the hot product
#
# Environment (defaults in brackets):
#   DURATION     seconds per measured run [15]        WARMUP   warm-up seconds [5]
#   RUNS         measured runs, medians [3]            CONCURRENCY  workers and pgbench -c [16]
#   PRODUCTS     products seeded [2000]                USERS    C1 customers [256]
#   C1_STOCK     stock of every variant for C1 [10000] HOT_STOCK  the C2 variant's stock S [500]
#   C2_USERS     C2 customers [64]                     SCENARIOS  [C1 C2]
#   BENCH_DB     [shopgraph_bench_checkout]            PGBENCH_DB  scratch database [shopgraph_bench_pgbench]
#   PGBENCH_SCALE  pgbench -i -s [16]                  PGBENCH_JOBS  pgbench -j [2]
#   PGBENCH_ARGS   extra pgbench arguments, e.g. "-M prepared" [none: the built-in defaults]
#   SKIP_PGBENCH=1  no floor                           OUT  results directory
#   SKIP_SQL_ALONE=1  no run of the SQL alone (bench/pgbench/checkout_sql.sql in SQL_DB)
#   SQL_DB       the shop's copy for the SQL alone [shopgraph_bench_checkout_sql]
#   UPDATE_README=1  write the summary between the checkout markers of bench/README.md
#   SERVER_REDIS_URL  give the server this REDIS_URL [none: in-process cache and rate limiter]
#   DB_MAX_CONNS, GOMAXPROCS, GOGC, GOMEMLIMIT  passed to the server when set
#   PROFILE=1    CPU profiles of the server and the load generator during C1 run 1
#                (c1-server-cpu.pprof, c1-loadgen-cpu.pprof; go tool pprof)
#   DATABASE_ADMIN_URL  PostgreSQL server to use (see scripts/services.sh)
#
# Exit status: 0, or 1 when a step fails or a stock invariant does not hold.
#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_NAME="bench/checkout.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh

DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-5}"
RUNS="${RUNS:-3}"
CONCURRENCY="${CONCURRENCY:-16}"
PRODUCTS="${PRODUCTS:-2000}"
USERS="${USERS:-256}"
C2_USERS="${C2_USERS:-64}"
C1_STOCK="${C1_STOCK:-10000}"
HOT_STOCK="${HOT_STOCK:-500}"
SCENARIOS="${SCENARIOS:-C1 C2}"
BENCH_DB="${BENCH_DB:-shopgraph_bench_checkout}"
PGBENCH_DB="${PGBENCH_DB:-shopgraph_bench_pgbench}"
PGBENCH_SCALE="${PGBENCH_SCALE:-16}"
PGBENCH_JOBS="${PGBENCH_JOBS:-2}"
PGBENCH_ARGS="${PGBENCH_ARGS:-}"
SKIP_PGBENCH="${SKIP_PGBENCH:-0}"
SKIP_SQL_ALONE="${SKIP_SQL_ALONE:-$SKIP_PGBENCH}"
SQL_DB="${SQL_DB:-shopgraph_bench_checkout_sql}"
UPDATE_README="${UPDATE_README:-0}"
SERVER_REDIS_URL="${SERVER_REDIS_URL:-}"

QUICK=0
if ((DURATION < 15 || RUNS < 3)); then
	QUICK=1
fi
results_dir -checkout


# ---------------------------------------------------------------------------
# Tools

require_tools

TMP="$(mktemp -d -t shopgraph-checkout-bench.XXXXXX)"
SERVER_PID=""
PGBENCH_CREATED=0
SQL_DB_CREATED=0

stop_server() {
	stop_pid "$SERVER_PID"
	SERVER_PID=""
}

drop_pgbench_db() {
	((PGBENCH_CREATED)) || return 0
	drop_db "$PGBENCH_DB" >/dev/null 2>&1 || true
	PGBENCH_CREATED=0
}

drop_sql_db() {
	((SQL_DB_CREATED)) || return 0
	drop_db "$SQL_DB" >/dev/null 2>&1 || true
	SQL_DB_CREATED=0
}

cleanup() {
	loadavg_stop
	stop_server
	drop_pgbench_db
	drop_sql_db
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# Database, binaries, catalog and stock

mkdir -p "$OUT"
log "results: $OUT"

ADMIN_URL="$(scripts/services.sh postgres-url)"
STRIPE_API_BASE="$(scripts/services.sh stripe-mock-url)"
log "stripe-mock: $STRIPE_API_BASE"
curl -sS -o /dev/null --max-time 5 "$STRIPE_API_BASE/v1/payment_intents" -u sk_test_123: ||
	die "stripe-mock does not answer at $STRIPE_API_BASE"

log "recreating database $BENCH_DB"
drop_db "$BENCH_DB"
DATABASE_URL="$(scripts/services.sh database-url "$BENCH_DB")"
log "database: $DATABASE_URL"

log "building the server and checkoutgen"
go build -o "$TMP/shopgraph" .
go build -o "$TMP/checkoutgen" ./bench/checkoutgen
CG="$TMP/checkoutgen"

# The server's environment: nothing inherited but PATH and HOME.
server_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" APP_ENV=test LOG_LEVEL=warn "DATABASE_URL=$DATABASE_URL"
	"STRIPE_API_BASE=$STRIPE_API_BASE" LOGIN_ATTEMPTS_PER_IP=1000000 LOGIN_ATTEMPTS_PER_EMAIL=1000000 LOGIN_ATTEMPTS_PER_EMAIL_IP=1000000
	RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 REGISTER_PER_IP_PER_HOUR=0 CHECKOUT_PER_USER=0)
if [[ "${PROFILE:-0}" == 1 ]]; then
	ADMIN_PORT="$(free_port)" || die "no free port"
	server_env+=("ADMIN_ADDR=127.0.0.1:$ADMIN_PORT")
fi
add_server_tuning
if [[ -n "$SERVER_REDIS_URL" ]]; then
	server_env+=("REDIS_URL=$SERVER_REDIS_URL" "REDIS_KEY_PREFIX=benchco:$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n'):")
fi

"${server_env[@]}" "$TMP/shopgraph" migrate >"$TMP/migrate.log" 2>&1 || {
	cat "$TMP/migrate.log" >&2
	die "migrate failed"
}
log "seeding $PRODUCTS products"
"${server_env[@]}" "$TMP/shopgraph" seed --products "$PRODUCTS" >&2

# The hot variant (C2): the first variant of an ACTIVE product. Every other live variant of an
# ACTIVE product is C1's pool, with C1_STOCK units each so that C1 measures checkouts, not
# sell-outs (the seed's 0..39 units would run out within a run).
HOT="$(sql "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
	WHERE p.status = 'ACTIVE' AND v.deleted_at IS NULL ORDER BY v.id LIMIT 1")"
[[ -n "$HOT" ]] || die "no variant to use as the hot product"
sql "UPDATE product_variants SET stock = $C1_STOCK WHERE deleted_at IS NULL AND id <> $HOT" >/dev/null
sql "UPDATE product_variants SET stock = $HOT_STOCK WHERE id = $HOT" >/dev/null
sql "SELECT v.id FROM product_variants v JOIN products p ON p.id = v.product_id
	WHERE p.status = 'ACTIVE' AND v.deleted_at IS NULL AND v.stock > 0 AND v.id <> $HOT ORDER BY v.id" >"$TMP/variants.txt"
sql "VACUUM (ANALYZE)" >/dev/null
POOL="$(wc -l <"$TMP/variants.txt" | tr -d ' ')"
log "hot variant $HOT (stock $HOT_STOCK); C1 pool: $POOL variants with $C1_STOCK each"

# The SQL alone runs in a copy of the shop as seeded (its orders must not enter C1's
# bookkeeping), with customers of its own, written directly: it needs their rows, not logins.
# pgbench draws variants from a range, so the pool must be one.
if has C1 && [[ "$SKIP_SQL_ALONE" != 1 ]]; then
	read -r VFIRST VLAST < <(sort -n "$TMP/variants.txt" | sed -n '1p;$p' | paste -sd' ')
	((VLAST - VFIRST + 1 == POOL)) || die "the C1 pool is not a contiguous range of variant ids ($VFIRST..$VLAST, $POOL variants): set SKIP_SQL_ALONE=1"
	drop_db "$SQL_DB"
	sql "CREATE DATABASE $SQL_DB TEMPLATE $BENCH_DB" >/dev/null
	SQL_DB_CREATED=1
	SQL_URL="$(scripts/services.sh database-url "$SQL_DB")"
	read -r UFIRST ULAST < <("$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$SQL_URL" -c "
		WITH u AS (INSERT INTO users (email, password_hash, name)
		           SELECT 'sql-alone-' || i || '@bench.example.com', 'unused', 'SQL alone ' || i
		           FROM generate_series(1, $USERS) AS i RETURNING id)
		SELECT min(id), max(id) FROM u" | tr '|' ' ')
	[[ -n "$UFIRST" ]] || die "could not create the SQL alone's customers"
fi

# ---------------------------------------------------------------------------
# Machine

git_rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ]]; then
	git_rev+=" (with uncommitted changes)"
fi
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)"
pg_version="$(sql "SHOW server_version")"
pgbench_desc="pgbench -c $CONCURRENCY -j $PGBENCH_JOBS -T $DURATION${PGBENCH_ARGS:+ $PGBENCH_ARGS}, built-in TPC-B (tpcb-like), scale $PGBENCH_SCALE, scratch database $PGBENCH_DB"
{
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) cores (${cpu:-unknown CPU}), ${mem:-? memory}, $(uname -sr); server, PostgreSQL, stripe-mock, pgbench and the load generator on the same box"
	echo "- Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	if awk -v n="$(nproc)" '{exit !($1 > n)}' /proc/loadavg 2>/dev/null; then
		echo "- **Warning: the machine was busy before the run** (1-minute load average above $(nproc)): other work competed with the benchmark and the figures are noisy"
	fi
	echo "- Software: $(go version | cut -d' ' -f3), PostgreSQL $pg_version, shopgraph $git_rev"
	echo "- Data: $PRODUCTS products seeded into $BENCH_DB (recreated); C1 pool $POOL variants at stock $C1_STOCK; hot variant $HOT at stock $HOT_STOCK"
	echo "- Load: $CONCURRENCY workers; C1 ${WARMUP}s warm-up then $RUNS x ${DURATION}s, medians, customers $USERS; C2 customers $C2_USERS"
	if [[ "$SKIP_PGBENCH" != 1 ]]; then
		echo "- Floor: $pgbench_desc; ${WARMUP}s warm-up, then one pgbench run before each C1 run (interleaved), median tps"
	fi
	echo "- Server: APP_ENV=test LOG_LEVEL=warn, STRIPE_API_BASE=stripe-mock, DB_MAX_CONNS=${DB_MAX_CONNS:-default}, Redis: ${SERVER_REDIS_URL:-none (in-process)}$( ((QUICK)) && echo "; QUICK MODE (not comparable with full runs)")"
} >"$OUT/machine.md"
cat "$OUT/machine.md" >&2

loadavg_start

# ---------------------------------------------------------------------------
# Server and customers

port="$(free_port)" || die "no free port"
url="http://127.0.0.1:$port"
log "starting the server on $url"
"${server_env[@]}" "PORT=$port" "$TMP/shopgraph" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
wait_ready "$SERVER_PID" "$url" "$TMP/server.log" "the server"


# Registration costs an argon2id hash each: done here, before anything is timed. Access tokens
# live 15 minutes, longer than the timed part of a run.
if has C1; then
	log "registering $USERS C1 customers"
	"$CG" register -url "$url/graphql" -n "$USERS" -out "$TMP/users-c1.tsv"
fi
if has C2; then
	log "registering $C2_USERS C2 customers"
	"$CG" register -url "$url/graphql" -n "$C2_USERS" -out "$TMP/users-c2.tsv"
fi

# ---------------------------------------------------------------------------
# C1: throughput, interleaved with its pgbench floor

pgbench_run() { # SECONDS
	# shellcheck disable=SC2086 # PGBENCH_ARGS is a list of words
	"$PGBENCH" -c "$CONCURRENCY" -j "$PGBENCH_JOBS" -T "$1" $PGBENCH_ARGS "$PGBENCH_URL" 2>&1
}

sql_alone_run() { # SECONDS
	"$PGBENCH" -n -M prepared -c "$CONCURRENCY" -j "$PGBENCH_JOBS" -T "$1" -f bench/pgbench/checkout_sql.sql \
		-D ufirst="$UFIRST" -D ulast="$ULAST" -D vfirst="$VFIRST" -D vlast="$VLAST" "$SQL_URL" 2>&1
}

# warm_up LABEL RUNNER: RUNNER for WARMUP seconds, its output discarded unless it fails.
warm_up() {
	"$2" "$WARMUP" >"$TMP/warm-up.txt" || {
		cat "$TMP/warm-up.txt" >&2
		die "$1 warm-up failed"
	}
}

# measure_tps RUN LABEL NAME RUNNER: RUNNER (pgbench) for DURATION seconds; its output goes
# to $OUT/NAME.txt and its tps to $OUT/NAME.tps. A failed run or a failed transaction stops
# the benchmark.
measure_tps() {
	local out tps failed
	out="$("$4" "$DURATION")" || {
		printf '%s\n' "$out" >&2
		die "$2 failed"
	}
	printf '## run %s\n%s\n\n' "$1" "$out" >>"$OUT/$3.txt"
	tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | tail -n 1)"
	failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")"
	[[ -n "$tps" ]] || die "no tps in the output of $2: $out"
	if [[ -n "$failed" && "$failed" != 0 ]]; then
		die "$2: $failed failed transactions"
	fi
	echo "$tps" >>"$OUT/$3.tps"
	printf '  %s run %s: %s tps, %s\n' "$2" "$1" "$tps" "$(grep -m1 '^latency average' <<<"$out")" >&2
}

if has C1; then
	if [[ "$SKIP_PGBENCH" != 1 ]]; then
		log "pgbench floor: scratch database $PGBENCH_DB, pgbench -i -s $PGBENCH_SCALE"
		drop_db "$PGBENCH_DB"
		PGBENCH_URL="$(scripts/services.sh database-url "$PGBENCH_DB")"
		PGBENCH_CREATED=1
		"$PGBENCH" -i -q -s "$PGBENCH_SCALE" "$PGBENCH_URL" >"$OUT/pgbench-init.txt" 2>&1 || {
			cat "$OUT/pgbench-init.txt" >&2
			die "pgbench -i failed"
		}
		: >"$OUT/pgbench-c1.txt"
		: >"$OUT/pgbench-c1.tps"
	fi

	log "C1 warm-up: pgbench ${WARMUP}s, SQL alone ${WARMUP}s, checkout ${WARMUP}s"
	if [[ "$SKIP_PGBENCH" != 1 ]] && ((WARMUP > 0)); then
		warm_up pgbench pgbench_run
	fi
	if ((SQL_DB_CREATED)); then
		: >"$OUT/sql-alone.txt"
		: >"$OUT/sql-alone.tps"
		if ((WARMUP > 0)); then
			warm_up "the SQL alone" sql_alone_run
		fi
	fi
	if ((WARMUP > 0)); then
		"$CG" run -scenario C1 -url "$url/graphql" -users "$TMP/users-c1.tsv" -variants-file "$TMP/variants.txt" \
			-c "$CONCURRENCY" -warmup "${WARMUP}s" -runs 0 -duration "${DURATION}s" -label warm-up \
			-json "$OUT/c1-warmup.json" | tee "$OUT/c1-warmup.txt"
	fi
	for i in $(seq 1 "$RUNS"); do
		if [[ "$SKIP_PGBENCH" != 1 ]]; then
			log "C1 run $i: pgbench ${DURATION}s"
			measure_tps "$i" pgbench pgbench-c1 pgbench_run
		fi
		if ((SQL_DB_CREATED)); then
			log "C1 run $i: SQL alone ${DURATION}s"
			"$PSQL" -X -q -d "$SQL_URL" -c "VACUUM (ANALYZE)" >/dev/null
			measure_tps "$i" "the SQL alone" sql-alone sql_alone_run
		fi
		log "C1 run $i: checkout ${DURATION}s"
		# As pgbench does for its tables before each run (its default): vacuum, and refresh the
		# planner's statistics, which the orders, carts and jobs of earlier runs have outdated
		# (autovacuum may be off, as on the development machines).
		sql "VACUUM (ANALYZE)" >/dev/null
		cpu_snapshot >"$TMP/cpu-before"
		if [[ "${PROFILE:-0}" == 1 && "$i" == 1 ]]; then
			curl -fsS -o "$OUT/c1-server-cpu.pprof" "http://127.0.0.1:$ADMIN_PORT/debug/pprof/profile?seconds=$((DURATION > 2 ? DURATION - 2 : 1))" &
		fi
		profile=()
		if [[ "${PROFILE:-0}" == 1 && "$i" == 1 ]]; then
			profile=(-cpuprofile "$OUT/c1-loadgen-cpu.pprof")
		fi
		"$CG" run -scenario C1 -url "$url/graphql" -users "$TMP/users-c1.tsv" -variants-file "$TMP/variants.txt" \
			-c "$CONCURRENCY" -warmup 0 -runs 1 -run-offset $((i - 1)) -duration "${DURATION}s" -label "run $i" \
			-json "$OUT/c1-run$i.json" "${profile[@]}" | tee "$OUT/c1-run$i.txt"
		cpu_snapshot >"$TMP/cpu-after"
		orders="$(grep -o '"ok": *[0-9]*' "$OUT/c1-run$i.json" | head -n 1 | grep -o '[0-9]*$')"
		printf 'run %s: %s\n' "$i" "$(cpu_split "$TMP/cpu-before" "$TMP/cpu-after" "${orders:-0}" order)" | tee -a "$OUT/c1-cpu.txt" >&2
	done
	drop_pgbench_db
	drop_sql_db

	# Bookkeeping: every variant of the pool started at C1_STOCK (the hot one is not in it).
	{
		echo "stock_taken $(sql "SELECT coalesce(sum($C1_STOCK - stock), 0) FROM product_variants WHERE deleted_at IS NULL AND id <> $HOT")"
		echo "line_units $(sql "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE variant_id <> $HOT")"
		echo "orders $(sql "SELECT count(*) FROM orders")"
		echo "negative_stock_rows $(sql "SELECT count(*) FROM product_variants WHERE stock < 0")"
	} >"$OUT/c1-db.txt"
	log "C1 bookkeeping"
	"$CG" verify -scenario C1 -dir "$OUT" || C1_FAIL=1
fi

# ---------------------------------------------------------------------------
# C2: hot product

if has C2; then
	log "C2: $CONCURRENCY workers buying variant $HOT (stock $HOT_STOCK) until it sells out"
	"$CG" run -scenario C2 -url "$url/graphql" -users "$TMP/users-c2.tsv" -hot-variant "$HOT" \
		-c "$CONCURRENCY" -json "$OUT/c2.json" | tee "$OUT/c2.txt"
	{
		echo "hot_stock $(sql "SELECT stock FROM product_variants WHERE id = $HOT")"
		echo "hot_units $(sql "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE variant_id = $HOT")"
		echo "hot_orders $(sql "SELECT count(DISTINCT order_id) FROM order_lines WHERE variant_id = $HOT")"
		echo "hot_orders_other_lines $(sql "SELECT count(*) FROM order_lines WHERE variant_id <> $HOT
			AND order_id IN (SELECT order_id FROM order_lines WHERE variant_id = $HOT)")"
		echo "hot_orders_not_pending $(sql "SELECT count(*) FROM orders WHERE status <> 'PENDING'
			AND id IN (SELECT order_id FROM order_lines WHERE variant_id = $HOT)")"
		echo "negative_stock_rows $(sql "SELECT count(*) FROM product_variants WHERE stock < 0")"
		echo "stock_check_constraint $(sql "SELECT (count(*) > 0)::int FROM pg_constraint
			WHERE conrelid = 'product_variants'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%stock >= 0%'")"
	} >"$OUT/c2-db.txt"
	log "C2 stock invariant"
	"$CG" verify -scenario C2 -dir "$OUT" -hot-stock "$HOT_STOCK" | tee "$OUT/c2-invariant.txt" || C2_FAIL=1
fi

stop_server
loadavg_stop
if [[ -s "$TMP/server.log" ]]; then
	tail -n 50 "$TMP/server.log" >"$OUT/server.log"
fi

# ---------------------------------------------------------------------------
# Summary

{
	echo "### Checkout benchmark, $(date -u '+%Y-%m-%d')$( ((QUICK)) && echo " (quick mode)")"
	echo
	cat "$OUT/machine.md"
	loadavg_summary
	echo
	"$CG" report -dir "$OUT" -hot-stock "$HOT_STOCK"
	if [[ -s "$OUT/c1-cpu.txt" ]]; then
		echo "Where C1's CPU went (\`c1-cpu.txt\`, from /proc between the start and end of each run):"
		echo
		sed 's/^/- /' "$OUT/c1-cpu.txt"
		echo
	fi
	echo "Raw results: \`${OUT#"$ROOT"/}/\`."
} >"$OUT/summary.md"

if [[ "$UPDATE_README" == 1 ]]; then
	update_readme checkout-results "updated the checkout results of bench/README.md" \
		"bench/README.md has no checkout results markers; not updated"
fi

log "summary ($OUT/summary.md)"
cat "$OUT/summary.md"
if [[ -n "${C1_FAIL:-}" || -n "${C2_FAIL:-}" ]]; then
	die "a stock invariant does not hold (see above)"
fi
