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
# named postgres), stripe-mock, and the whole machine (busy ticks of /proc/stat). Two snapshots
# around a run give each component's share of it (cpu_split).
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
	echo "machine $(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)"
}

# cpu_split BEFORE AFTER UNITS LABEL: print each component's CPU milliseconds per unit (an
# order, a request) between two cpu_snapshot files; "other" is the rest of the machine's busy
# time (the load generator, and anything else running).
cpu_split() {
	local hz
	hz="$(getconf CLK_TCK)"
	awk -v hz="$hz" -v units="$3" -v label="$4" '
		NR == FNR { before[$1] = $2; next }
		{ d[$1] = $2 - before[$1] }
		END {
			if (units <= 0) exit
			known = d["server"] + d["postgres"] + d["stripe-mock"]
			printf "CPU ms per %s: server %.2f, postgres %.2f, stripe-mock %.2f, other (load generator, rest) %.2f, machine %.2f\n",
				label, d["server"] * 1000 / hz / units, d["postgres"] * 1000 / hz / units,
				d["stripe-mock"] * 1000 / hz / units, (d["machine"] - known) * 1000 / hz / units,
				d["machine"] * 1000 / hz / units
		}' "$1" "$2"
}
