# bench/lib.sh — helpers shared by bench/run.sh, bench/checkout.sh and bench/subs.sh.
# Source it after `cd "$ROOT"`; set BENCH_NAME first (used in error messages).
# shellcheck shell=bash

log() { printf '\n==> %s\n' "$*" >&2; }

die() {
	printf '%s: error: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
	exit 1
}

# require_tools: set PSQL, and PGBENCH unless SKIP_PGBENCH=1 or NEED_PGBENCH=0; check curl and go.
require_tools() {
	PSQL="$(command -v psql || true)"
	[[ -n "$PSQL" ]] || die "psql not found (apt-get install postgresql-client)"
	if [[ "${NEED_PGBENCH:-1}" == 1 ]]; then
		PGBENCH="$(command -v pgbench || true)"
		if [[ -z "$PGBENCH" && -x /usr/local/bin/pgbench ]]; then
			PGBENCH=/usr/local/bin/pgbench
		fi
		if [[ -z "$PGBENCH" ]] && compgen -G '/usr/lib/postgresql/*/bin/pgbench' >/dev/null; then
			PGBENCH="$(printf '%s\n' /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -n 1)"
		fi
		if [[ -z "$PGBENCH" && "${SKIP_PGBENCH:-0}" != 1 ]]; then
			die "pgbench not found (apt-get install postgresql-contrib, or SKIP_PGBENCH=1)"
		fi
	fi
	command -v curl >/dev/null || die "curl not found"
	command -v go >/dev/null || die "go not found"
}

# stop_pid PID: SIGTERM, wait up to 20 s for a graceful exit, then SIGKILL.
stop_pid() {
	local pid="$1"
	[[ -n "$pid" ]] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on, below the ephemeral range
# (32768-60999) that load generators' client sockets use.
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# sql STATEMENT: run one statement on DATABASE_URL, print unaligned tuples.
sql() { "$PSQL" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"; }

# has NAME: true when NAME is one of the words of SCENARIOS.
has() { [[ " $SCENARIOS " == *" $1 "* ]]; }

# cpu_snapshot: print "name ticks" lines, the CPU time (user + system, in clock ticks) used so
# far by each component on this machine: the server (SERVER_PID), PostgreSQL (every process
# named postgres), stripe-mock, this script's finished children (the load generator, when
# only it ran between two snapshots), and the whole machine (busy ticks of /proc/stat). Two
# snapshots around a run give each component's share of it (cpu_split).
cpu_snapshot() {
	local pids
	proc_ticks() { # PID...: summed utime + stime
		local p t=0 f
		for p in "$@"; do
			f="$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null)" || continue
			# fields after "comm)": state is $1, utime is $12, stime is $13
			t=$((t + $(awk '{print $12 + $13}' <<<"$f")))
		done
		echo "$t"
	}
	echo "server $(proc_ticks ${SERVER_PID:-})"
	pids="$(pgrep -x postgres | tr '\n' ' ')"
	# shellcheck disable=SC2086 # a list of pids
	echo "postgres $(proc_ticks $pids)"
	pids="$(pgrep -x stripe-mock | tr '\n' ' ')"
	# shellcheck disable=SC2086
	echo "stripe-mock $(proc_ticks $pids)"
	# `times` prints the shell's own user and system time, then its children's: NmS.SSSs NmS.SSSs.
	# It runs in this shell, not in a subshell, whose children would be others.
	local times_file
	times_file="$(mktemp)"
	times >"$times_file"
	echo "children $(awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] }
		printf "%d\n", t * hz }' "$times_file")"
	rm -f "$times_file"
	echo "machine $(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)"
	# steal: time the hypervisor gave this machine's cores to others (counted in machine).
	echo "stolen $(awk '/^cpu / {print $9}' /proc/stat)"
}

# cpu_split BEFORE AFTER UNITS LABEL: print each component's CPU milliseconds per unit (an
# order, a request) between two cpu_snapshot files; "other" is the rest of the machine's busy
# time (the kernel's own threads, anything else running).
cpu_split() {
	local hz
	hz="$(getconf CLK_TCK)"
	awk -v hz="$hz" -v units="$3" -v label="$4" '
		NR == FNR { before[$1] = $2; next }
		{ d[$1] = $2 - before[$1] }
		END {
			if (units <= 0) exit
			known = d["server"] + d["postgres"] + d["stripe-mock"] + d["children"] + d["stolen"]
			printf "CPU ms per %s: server %.2f, postgres %.2f, stripe-mock %.2f, load generator %.2f, stolen by the hypervisor %.2f, other %.2f, machine %.2f\n",
				label, d["server"] * 1000 / hz / units, d["postgres"] * 1000 / hz / units,
				d["stripe-mock"] * 1000 / hz / units, d["children"] * 1000 / hz / units,
				d["stolen"] * 1000 / hz / units, (d["machine"] - known) * 1000 / hz / units,
				d["machine"] * 1000 / hz / units
		}' "$1" "$2"
}

# results_dir SUFFIX: set STAMP, and OUT unless the caller chose it, to
# bench/results/<STAMP>SUFFIX[-quick]. Each script sets QUICK first by its own rule: what makes a
# run too short to compare differs per benchmark, the "-quick" marking of the directory does not.
results_dir() {
	STAMP="$(date -u +%Y-%m-%dT%H%M%SZ)"
	if [[ -z "${OUT:-}" ]]; then
		OUT="$ROOT/bench/results/$STAMP${1:-}"
		if ((QUICK)); then
			OUT+="-quick"
		fi
	fi
}

# drop_db NAME: drop database NAME on ADMIN_URL so that the benchmark starts from a clean one;
# WITH (FORCE) ends sessions still open on it, which would otherwise make the drop fail, and
# client_min_messages keeps the "does not exist, skipping" notice of a first run quiet.
drop_db() {
	PGOPTIONS='-c client_min_messages=warning' "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_URL" \
		-c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}

# add_server_tuning: append DB_MAX_CONNS, GOMAXPROCS, GOGC and GOMEMLIMIT to the server_env array when the
# caller set them: server_env inherits nothing else, so that the caller's shell cannot change
# what is measured unless asked to.
add_server_tuning() {
	local v
	for v in DB_MAX_CONNS GOMAXPROCS GOGC GOMEMLIMIT; do
		if [[ -n "${!v:-}" ]]; then
			server_env+=("$v=${!v}")
		fi
	done
}

# wait_ready PID URL LOG WHAT: wait up to a minute for the server PID to answer URL/readyz; if it
# exits or does not answer, show the end of its LOG and die with "WHAT did not become ready", so
# that no measured request meets a server that is still starting.
wait_ready() {
	local pid="$1" url="$2" log="$3" what="$4"
	for _ in $(seq 1 240); do
		kill -0 "$pid" 2>/dev/null || break
		if curl -fsS -o /dev/null --max-time 2 "$url/readyz" 2>/dev/null; then
			return 0
		fi
		sleep 0.25
	done
	tail -n 30 "$log" >&2 || true
	die "$what did not become ready on $url/readyz"
}

# loadavg_start / loadavg_stop: the machine is shared, so sample its load average every 5 seconds
# into OUT/loadavg.txt for the summary (loadavg_summary); cleanup traps call loadavg_stop too.
LOADAVG_PID=""
loadavg_start() {
	(
		while :; do
			printf '%s %s\n' "$(date -u +%H:%M:%S)" "$(cut -d' ' -f1-3 /proc/loadavg)"
			sleep 5
		done
	) >"$OUT/loadavg.txt" 2>/dev/null &
	LOADAVG_PID=$!
}

loadavg_stop() {
	if [[ -n "$LOADAVG_PID" ]]; then
		kill "$LOADAVG_PID" 2>/dev/null || true
		wait "$LOADAVG_PID" 2>/dev/null || true
		LOADAVG_PID=""
	fi
}

# loadavg_summary: the summary line that tells a reader whether other work competed with the run.
loadavg_summary() {
	echo "- Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown); 1-minute load during the run (sampled every 5 s, \`loadavg.txt\`): $(awk 'NR == 1 {lo = hi = $2} {if ($2 < lo) lo = $2; if ($2 > hi) hi = $2; s += $2} END {if (NR) printf "min %.2f, mean %.2f, max %.2f", lo, s / NR, hi; else print "n/a"}' "$OUT/loadavg.txt")"
}

# update_readme MARKER UPDATED MISSING: replace what lies between the <!-- MARKER:start --> and
# <!-- MARKER:end --> lines of bench/README.md with OUT/summary.md, so that the README shows the
# latest run without anyone pasting it; log UPDATED, or MISSING when the markers are absent.
update_readme() {
	local readme="$ROOT/bench/README.md" start="<!-- $1:start -->" end="<!-- $1:end -->"
	if grep -qF "$start" "$readme" && grep -qF "$end" "$readme"; then
		awk -v start="$start" -v end="$end" -v summary="$OUT/summary.md" '
			$0 == start { print; while ((getline line < summary) > 0) print line; skip = 1; next }
			$0 == end { skip = 0 }
			!skip { print }
		' "$readme" >"$TMP/README.md" && cat "$TMP/README.md" >"$readme"
		log "$2"
	else
		log "$3"
	fi
}
