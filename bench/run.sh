#!/usr/bin/env bash
#
# bench/run.sh — shopgraph's catalog benchmark, end to end (see bench/README.md).
#
# Creates (or reuses) the database shopgraph_bench with a catalog of 100,000 products, builds the
# server and the load generator, measures the physical floor with pgbench, then for each server
# configuration (Redis cache; no Redis, i.e. the in-process cache) starts the server on a free
# port, runs the load generator for W1, W2, W3 and W4 and stops the server; last, the HTTP floor
# of W1 (bench/httpfloor: net/http answering the bytes of the server's own W1 answer from
# memory), driven by the same load generator, against which cached reads are judged. Raw results
# and a markdown summary go to bench/results/<UTC date and time>/; the summary is also printed.
#
# Usage:
#   bench/run.sh                          the full benchmark (about 10 minutes on 2 cores)
#   DURATION=5 RUNS=1 bench/run.sh        quick smoke run
#
# Environment (defaults in brackets):
#   DURATION      seconds per measured run [15]      WARMUP    warm-up seconds [5]
#   RUNS          measured runs, medians reported [3] CONCURRENCY  clients [64]
#   PRODUCTS      catalog size [100000]               BENCH_DB  database name [shopgraph_bench]
#   SCENARIOS     [W1 W2 W3 W4]                        CONFIGS   [redis in-process no-cache]
#   PGBENCH_JOBS  pgbench threads (-j) [2]             SKIP_PGBENCH=1  no floor measurement
#   SKIP_HTTP_FLOOR=1  no HTTP floor (measured only when SCENARIOS has W1)
#   BENCH_REDIS_URL  Redis of the "redis" configuration [redis://127.0.0.1:6379/0]
#   OUT           results directory [bench/results/<date>, with -quick when DURATION<15 or RUNS<3]
#   UPDATE_README=1  also write the summary between the results markers of bench/README.md
#   PROFILE=1     build the server with net/http/pprof (a go build -overlay file, the tree is not
#                 touched) and save a CPU profile of run 1 of every scenario: cpu-<W>-<config>.pprof
#                 and its top functions, cpu-<W>-<config>.txt
#   DB_MAX_CONNS, GOMAXPROCS, GOGC, GOMEMLIMIT  passed to the server when set
#   DATABASE_ADMIN_URL  PostgreSQL server to use (see scripts/services.sh)
#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BENCH_NAME="bench/run.sh"
# shellcheck source=bench/lib.sh
source bench/lib.sh

DURATION="${DURATION:-15}"
WARMUP="${WARMUP:-5}"
RUNS="${RUNS:-3}"
CONCURRENCY="${CONCURRENCY:-64}"
PRODUCTS="${PRODUCTS:-100000}"
BENCH_DB="${BENCH_DB:-shopgraph_bench}"
SCENARIOS="${SCENARIOS:-W1 W2 W3 W4}"
CONFIGS="${CONFIGS:-redis in-process no-cache}"
PGBENCH_JOBS="${PGBENCH_JOBS:-2}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}"
UPDATE_README="${UPDATE_README:-0}"
SKIP_PGBENCH="${SKIP_PGBENCH:-0}"
SKIP_HTTP_FLOOR="${SKIP_HTTP_FLOOR:-0}"
PROFILE="${PROFILE:-0}"

QUICK=0
if ((DURATION < 15 || RUNS < 3)); then
	QUICK=1
fi
results_dir ""


# ---------------------------------------------------------------------------
# Tools

require_tools

TMP="$(mktemp -d -t shopgraph-bench.XXXXXX)"
SERVER_PID=""
REDIS_PREFIX=""

FLOOR_PID=""

stop_server() {
	stop_pid "$SERVER_PID"
	SERVER_PID=""
}

redis_cleanup() {
	[[ -n "$REDIS_PREFIX" ]] || return 0
	if command -v redis-cli >/dev/null; then
		redis-cli -u "$BENCH_REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null |
			xargs -r -n 500 redis-cli -u "$BENCH_REDIS_URL" del >/dev/null 2>&1 || true
	fi
	REDIS_PREFIX=""
}

cleanup() {
	stop_server
	stop_pid "$FLOOR_PID"
	loadavg_stop
	redis_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# redis_up URL: true if Redis answers PING there.
redis_up() {
	if command -v redis-cli >/dev/null; then
		[[ "$(redis-cli -u "$1" ping 2>/dev/null)" == PONG ]]
	else
		local re='^rediss?://([^@/]*@)?([^:/]+)(:([0-9]+))?'
		[[ "$1" =~ $re ]] || return 1
		# shellcheck disable=SC2016 # expanded by the inner bash
		timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${BASH_REMATCH[2]}" "${BASH_REMATCH[4]:-6379}" 2>/dev/null
	fi
}

# ---------------------------------------------------------------------------
# Database and binaries

mkdir -p "$OUT"
log "results: $OUT"
loadavg_start

DATABASE_URL="$(scripts/services.sh database-url "$BENCH_DB")"
log "database: $DATABASE_URL"

log "building the server and the load generator"
if [[ "$PROFILE" == 1 ]]; then
	# An extra file of package main, present only in this build: pprof on BENCH_PPROF_ADDR.
	cat >"$TMP/pprof.go" <<-'EOF'
		package main

		import (
			"net"
			"net/http"
			_ "net/http/pprof"
			"os"
		)

		func init() {
			if addr := os.Getenv("BENCH_PPROF_ADDR"); addr != "" {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					panic(err)
				}
				go func() { _ = http.Serve(ln, nil) }()
			}
		}
	EOF
	printf '{"Replace":{"%s":"%s"}}\n' "$ROOT/zz_bench_pprof.go" "$TMP/pprof.go" >"$TMP/overlay.json"
	go build -overlay "$TMP/overlay.json" -o "$TMP/shopgraph" .
else
	go build -o "$TMP/shopgraph" .
fi
go build -o "$TMP/loadgen" ./bench/loadgen
go build -o "$TMP/httpfloor" ./bench/httpfloor

# The server's environment: nothing inherited but PATH and HOME, so that a REDIS_URL or PORT
# of the caller's shell cannot change what is measured.
server_env=(env -i "PATH=$PATH" "HOME=${HOME:-/tmp}" APP_ENV=test LOG_LEVEL=warn RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 "DATABASE_URL=$DATABASE_URL")
add_server_tuning

"${server_env[@]}" "$TMP/shopgraph" migrate >"$TMP/migrate.log" 2>&1 || {
	cat "$TMP/migrate.log" >&2
	die "migrate failed"
}
have="$(sql "SELECT count(*) FROM products")"
if ((have < PRODUCTS)); then
	need=$((PRODUCTS - have))
	log "the catalog has $have products; seeding $need more"
	"${server_env[@]}" "$TMP/shopgraph" seed --products "$need"
else
	log "reusing the catalog of $have products"
fi
sql "VACUUM (ANALYZE) products" >/dev/null
sql "VACUUM (ANALYZE) product_variants" >/dev/null
sql "VACUUM (ANALYZE) categories" >/dev/null
have="$(sql "SELECT count(*) FROM products")"
active="$(sql "SELECT count(*) FROM products WHERE status = 'ACTIVE'")"
sql "SELECT id FROM products WHERE status = 'ACTIVE' ORDER BY id" >"$TMP/ids.txt"
read -r minid maxid < <(sql "SELECT min(id), max(id) FROM products WHERE status = 'ACTIVE'" | tr '|' ' ')

# ---------------------------------------------------------------------------
# Machine

git_rev="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git status --porcelain 2>/dev/null | head -n 1)" ]]; then
	git_rev+=" (with uncommitted changes)"
fi
cpu="$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)"
mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || true)"
pg_version="$(sql "SHOW server_version")"
redis_version="$( (redis-cli -u "$BENCH_REDIS_URL" info server 2>/dev/null || true) | tr -d '\r' | awk -F: '/^redis_version/ {print $2}')"
{
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) cores (${cpu:-unknown CPU}), ${mem:-? memory}, $(uname -sr); server, PostgreSQL, Redis, pgbench and the load generator on the same box"
	echo "- Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	if awk -v n="$(nproc)" '{exit !($1 > n)}' /proc/loadavg 2>/dev/null; then
		echo "- **Warning: the machine was busy before the run** (1-minute load average above $(nproc)): other work competed with the benchmark and the figures are noisy; rerun on a quiet machine"
	fi
	echo "- Software: $(go version | cut -d' ' -f3), PostgreSQL $pg_version, Redis ${redis_version:-n/a}, shopgraph $git_rev"
	echo "- Catalog: $have products ($active ACTIVE) in database $BENCH_DB"
	echo "- Load: $CONCURRENCY concurrent clients, ${WARMUP}s warm-up, $RUNS x ${DURATION}s runs, medians; pgbench -c $CONCURRENCY -j $PGBENCH_JOBS -M prepared, same warm-up and runs"
	echo "- Server: APP_ENV=test LOG_LEVEL=warn, DB_MAX_CONNS=${DB_MAX_CONNS:-default}$( [[ "$PROFILE" == 1 ]] && echo "; CPU profiling during run 1")$( ((QUICK)) && echo "; QUICK MODE (not comparable with full runs)")"
} >"$OUT/machine.md"
cat "$OUT/machine.md" >&2

# ---------------------------------------------------------------------------
# Physical floor: pgbench

pgbench_run() { # SCENARIO SECONDS
	local file
	file="bench/pgbench/$(tr '[:upper:]' '[:lower:]' <<<"$1").sql"
	"$PGBENCH" -n -c "$CONCURRENCY" -j "$PGBENCH_JOBS" -T "$2" -M prepared \
		-D "minid=$minid" -D "maxid=$maxid" -f "$file" "$DATABASE_URL" 2>&1
}

if [[ "$SKIP_PGBENCH" != 1 ]]; then
	for s in $SCENARIOS; do
		log "pgbench floor $s: warm-up ${WARMUP}s, $RUNS x ${DURATION}s"
		: >"$OUT/pgbench-$s.txt"
		: >"$OUT/pgbench-$s.tps"
		if ((WARMUP > 0)); then
			pgbench_run "$s" "$WARMUP" >"$TMP/pgbench-warmup.txt" || {
				cat "$TMP/pgbench-warmup.txt" >&2
				die "pgbench $s failed"
			}
		fi
		for i in $(seq 1 "$RUNS"); do
			out="$(pgbench_run "$s" "$DURATION")" || {
				printf '%s\n' "$out" >&2
				die "pgbench $s failed"
			}
			printf '## run %s\n%s\n\n' "$i" "$out" >>"$OUT/pgbench-$s.txt"
			tps="$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | tail -n 1)"
			failed="$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' <<<"$out")"
			[[ -n "$tps" ]] || die "no tps in pgbench output: $out"
			if [[ -n "$failed" && "$failed" != 0 ]]; then
				die "pgbench $s: $failed failed transactions"
			fi
			echo "$tps" >>"$OUT/pgbench-$s.tps"
			printf '  run %s: %s tps, %s\n' "$i" "$tps" "$(grep -m1 '^latency average' <<<"$out")" >&2
		done
	done
fi

# ---------------------------------------------------------------------------
# The server under load

for config in $CONFIGS; do
	case "$config" in
	redis)
		if ! redis_up "$BENCH_REDIS_URL"; then
			log "skipping configuration redis: no Redis answers at $BENCH_REDIS_URL"
			continue
		fi
		REDIS_PREFIX="bench:$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n'):"
		extra=("REDIS_URL=$BENCH_REDIS_URL" "REDIS_KEY_PREFIX=$REDIS_PREFIX")
		;;
	in-process)
		extra=()
		;;
	no-cache)
		extra=("CACHE=off")
		;;
	*) die "unknown configuration '$config' (redis, in-process, no-cache)" ;;
	esac

	port="$(free_port)" || die "no free port"
	url="http://127.0.0.1:$port"
	if [[ "$PROFILE" == 1 ]]; then
		pport="$(free_port)" || die "no free port"
		extra+=("BENCH_PPROF_ADDR=127.0.0.1:$pport")
	fi
	log "configuration $config: starting the server on $url"
	"${server_env[@]}" "PORT=$port" "${extra[@]}" "$TMP/shopgraph" serve >"$TMP/server-$config.log" 2>&1 &
	SERVER_PID=$!
	wait_ready "$SERVER_PID" "$url" "$TMP/server-$config.log" "the server ($config)"
	if has W1 && [[ "$SKIP_HTTP_FLOOR" != 1 && ! -s "$OUT/httpfloor-W1.body" ]]; then
		# The floor answers what the first server answered, byte for byte.
		"$TMP/httpfloor" -fetch "$url/graphql" -out "$OUT/httpfloor-W1.body" ||
			die "could not fetch W1's answer for the HTTP floor"
	fi

	for s in $SCENARIOS; do
		log "loadgen $s [$config]"
		args=(-url "$url/graphql" -scenario "$s" -c "$CONCURRENCY" -warmup "${WARMUP}s"
			-duration "${DURATION}s" -runs "$RUNS" -label "$config" -json "$OUT/loadgen-$s-$config.json")
		if [[ "$s" == W2 ]]; then
			args+=(-ids-file "$TMP/ids.txt")
		fi
		prof_pid=""
		if [[ "$PROFILE" == 1 ]]; then
			# Starts a second after the warm-up and covers most of run 1.
			secs=$((DURATION > 2 ? DURATION - 2 : 1))
			(
				sleep $((WARMUP + 1))
				curl -fsS --max-time $((secs + 30)) -o "$OUT/cpu-$s-$config.pprof" \
					"http://127.0.0.1:$pport/debug/pprof/profile?seconds=$secs"
			) &
			prof_pid=$!
		fi
		"$TMP/loadgen" "${args[@]}" | tee "$OUT/loadgen-$s-$config.txt"
		if [[ -n "$prof_pid" ]]; then
			if wait "$prof_pid"; then
				go tool pprof -top -nodecount=40 "$TMP/shopgraph" "$OUT/cpu-$s-$config.pprof" \
					>"$OUT/cpu-$s-$config.txt" 2>/dev/null || true
			else
				log "warning: no CPU profile for $s [$config]"
			fi
		fi
	done

	stop_server
	redis_cleanup
	# Warnings and errors of the server (request logs are off at LOG_LEVEL=warn).
	if [[ -s "$TMP/server-$config.log" ]]; then
		tail -n 50 "$TMP/server-$config.log" >"$OUT/server-$config.log"
	fi
done

# ---------------------------------------------------------------------------
# HTTP floor: the same answer from memory, through net/http only

if [[ -s "$OUT/httpfloor-W1.body" ]]; then
	port="$(free_port)" || die "no free port"
	url="http://127.0.0.1:$port"
	log "HTTP floor W1: bench/httpfloor on $url, $(wc -c <"$OUT/httpfloor-W1.body") bytes"
	"$TMP/httpfloor" -addr "127.0.0.1:$port" -body "$OUT/httpfloor-W1.body" >"$TMP/httpfloor.log" 2>&1 &
	FLOOR_PID=$!
	wait_ready "$FLOOR_PID" "$url" "$TMP/httpfloor.log" "the HTTP floor"
	"$TMP/loadgen" -url "$url/graphql" -scenario W1 -c "$CONCURRENCY" -warmup "${WARMUP}s" \
		-duration "${DURATION}s" -runs "$RUNS" -label http-floor -json "$OUT/httpfloor-W1.json" |
		tee "$OUT/httpfloor-W1.txt"
	stop_pid "$FLOOR_PID"
	FLOOR_PID=""
fi

# ---------------------------------------------------------------------------
# Summary

{
	echo "### Catalog benchmark, $(date -u '+%Y-%m-%d')$( ((QUICK)) && echo " (quick mode)")"
	echo
	cat "$OUT/machine.md"
	loadavg_summary
	echo
	"$TMP/loadgen" -report "$OUT"
	echo
	echo "Raw results: \`bench/results/$(basename "$OUT")/\`."
} >"$OUT/summary.md"

if [[ "$UPDATE_README" == 1 ]]; then
	update_readme bench-results "updated the results section of bench/README.md" \
		"bench/README.md has no results markers; not updated"
fi

log "summary ($OUT/summary.md)"
cat "$OUT/summary.md"
