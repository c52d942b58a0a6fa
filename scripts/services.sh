#!/usr/bin/env bash
#
# scripts/services.sh — find (or start) the PostgreSQL and Redis servers that
# shopgraph needs for `make run` and `make test`.
#
# Usage:
#   scripts/services.sh postgres-url        print an admin URL of a running PostgreSQL
#   scripts/services.sh database-url NAME   create database NAME if missing, print its URL
#   scripts/services.sh redis-url           print a Redis URL, or nothing if none is reachable
#   scripts/services.sh stripe-mock-url     start (or reuse) stripe-mock on 127.0.0.1:12111, print its URL
#   scripts/services.sh stop-stripe-mock    stop the stripe-mock this script started
#   scripts/services.sh with-stripe-mock CMD...
#                                           run CMD with STRIPE_API_BASE set to a stripe-mock
#                                           (started if none answers) and stop the one it
#                                           started when CMD ends (make run)
#   scripts/services.sh mailpit-url         start (or reuse) Mailpit on 127.0.0.1:1025, print its SMTP_URL
#   scripts/services.sh stop-mailpit        stop the Mailpit this script started
#   scripts/services.sh with-mailpit CMD... run CMD with SMTP_URL set to a Mailpit (a local mail
#                                           catcher with a web inbox, started if none answers;
#                                           nothing is started when SMTP_URL is already set),
#                                           print the inbox's URL, and stop the one it started
#                                           when CMD ends (make run). Composes with
#                                           with-stripe-mock: with-mailpit services.sh with-stripe-mock CMD
#   scripts/services.sh with-paypal-standin CMD...
#                                           run CMD with PAYPAL_API_BASE set to the local PayPal
#                                           stand-in (cmd/paypal-standin on 127.0.0.1:12140,
#                                           started if none answers; nothing is started when a
#                                           PAYPAL_CLIENT_ID or PAYPAL_API_BASE is set) and stop
#                                           the one it started when CMD ends (make run)
#   scripts/services.sh stop-paypal-standin stop the PayPal stand-in this script started
#   scripts/services.sh start-system        (CI) start the machine's own PostgreSQL/Redis if down
#   scripts/services.sh stop-private        stop the private cluster under ./.data if it runs
#
# Only the URL is written to stdout; every progress or error message goes to
# stderr, so `url=$(scripts/services.sh postgres-url)` is safe.
#
# How postgres-url picks a server, first match wins:
#   1. $DATABASE_ADMIN_URL, if set, is printed as is.
#   2. A PostgreSQL answering on 127.0.0.1:5432 (trust auth, user postgres).
#   3. A private cluster in <repo>/.data/postgres on 127.0.0.1:54329 (trust
#      auth, superuser postgres, log in <repo>/.data/postgres.log), created and
#      started on first use and reused afterwards. initdb/pg_ctl come from PATH
#      or the newest /usr/lib/postgresql/*/bin; if PostgreSQL is not installed
#      it is installed with apt-get when running as root. As root the cluster
#      is owned by and run as the `postgres` OS user (PostgreSQL refuses root).
#
# Environment:
#   DATABASE_ADMIN_URL    use this server instead of looking for one
#   REDIS_URL             redis-url prints this instead of probing 127.0.0.1:6379
#   SHOPGRAPH_PRIVATE_PG  set to 1 to always use the private cluster (skips 1 and 2)
#   STRIPE_MOCK_PORT      stripe-mock's port (default 12111)
#   STRIPE_MOCK_BIN       the stripe-mock binary (default: built into .data/bin from tools/go.mod)
#   STRIPE_MOCK_DIR       where its binary, pid and log files go (default .data)
#   MAILPIT_SMTP_PORT     Mailpit's SMTP port (default 1025)
#   MAILPIT_UI_PORT       Mailpit's web inbox port (default 8025)
#   MAILPIT_BIN           the Mailpit binary (default: built into .data/bin from tools/go.mod)
#   MAILPIT_DIR           where its binary, pid and log files go (default .data)
#
# Examples:
#   DATABASE_URL=$(scripts/services.sh database-url shopgraph) go run . serve
#   scripts/services.sh with-stripe-mock go run . serve
#   scripts/services.sh stop-private
#
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$ROOT/.data"
# Where stripe-mock's binary, pid and log files live (tests point it elsewhere).
STRIPE_MOCK_DIR="${STRIPE_MOCK_DIR:-$DATA_DIR}"
# Where Mailpit's binary, pid and log files live (tests point it elsewhere).
MAILPIT_DIR="${MAILPIT_DIR:-$DATA_DIR}"

SYSTEM_PG_HOST=127.0.0.1
SYSTEM_PG_PORT=5432
PRIVATE_PG_HOST=127.0.0.1
PRIVATE_PG_PORT=54329
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

# Set by private_paths: where the private cluster lives.
PG_DIR=""
PG_SOCK=""
PG_LOG=""
# Set by find_pg_bin: directory holding initdb and pg_ctl.
PG_BIN=""

log() { printf 'services.sh: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# pg_url HOST PORT DBNAME
pg_url() { printf 'postgres://postgres@%s:%s/%s?sslmode=disable\n' "$1" "$2" "$3"; }

# ---------------------------------------------------------------------------
# Probes

# tcp_open HOST PORT: true if a TCP connection succeeds within 2 seconds.
# shellcheck disable=SC2016 # expanded by the inner bash
tcp_open() {
	timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# pg_ready HOST PORT: true if a PostgreSQL server accepts connections there.
pg_ready() {
	local isready=""
	if command -v pg_isready >/dev/null 2>&1; then
		isready=pg_isready
	elif [[ -n "$PG_BIN" && -x "$PG_BIN/pg_isready" ]]; then
		isready="$PG_BIN/pg_isready"
	fi
	if [[ -n "$isready" ]]; then
		"$isready" -q -h "$1" -p "$2" -t 2 >/dev/null 2>&1
	else
		tcp_open "$1" "$2"
	fi
}

# redis_ready HOST PORT: true if a Redis server answers PING with PONG.
# shellcheck disable=SC2016 # expanded by the inner bash
redis_ready() {
	if command -v redis-cli >/dev/null 2>&1; then
		[[ "$(timeout 3 redis-cli -h "$1" -p "$2" ping 2>/dev/null)" == PONG ]]
	else
		timeout 3 bash -c '
			exec 3<>"/dev/tcp/$1/$2" || exit 1
			printf "PING\r\n" >&3
			IFS= read -r line <&3 || exit 1
			[[ "$line" == +PONG* ]]
		' _ "$1" "$2" 2>/dev/null
	fi
}

# wait_for SECONDS CMD...: retry CMD every half second until it succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.5
	done
}

# ---------------------------------------------------------------------------
# PostgreSQL binaries

# find_pg_bin: set PG_BIN to a directory holding initdb and pg_ctl, or fail.
find_pg_bin() {
	[[ -n "$PG_BIN" ]] && return 0
	local dir candidates=()
	# A cluster that already exists must be run by its own major version.
	if [[ -n "$PG_DIR" && -r "$PG_DIR/PG_VERSION" ]]; then
		local want
		want="$(<"$PG_DIR/PG_VERSION")"
		if [[ -x "/usr/lib/postgresql/$want/bin/pg_ctl" ]]; then
			PG_BIN="/usr/lib/postgresql/$want/bin"
			return 0
		fi
	fi
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		candidates+=("$(dirname "$(command -v pg_ctl)")")
	fi
	if compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null; then
		while IFS= read -r dir; do
			candidates+=("$dir")
		done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
	fi
	for dir in "${candidates[@]}"; do
		if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
			PG_BIN="$dir"
			return 0
		fi
	done
	return 1
}

# install_postgres: install PostgreSQL with apt-get (root only) or explain how.
install_postgres() {
	if ! is_root; then
		log "error: PostgreSQL is not running on $SYSTEM_PG_HOST:$SYSTEM_PG_PORT and is not installed."
		log "Install it with:   sudo apt-get install postgresql"
		log "or point shopgraph at an existing server: DATABASE_URL=postgres://... make run"
		log "(or DATABASE_ADMIN_URL=postgres://... for this script)."
		exit 1
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "PostgreSQL is not installed and apt-get is unavailable; install PostgreSQL or set DATABASE_URL"
	log "PostgreSQL is not installed; running: apt-get update && apt-get install -y postgresql"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2 || die "apt-get update failed"
	apt-get install -y postgresql >&2 || die "apt-get install -y postgresql failed"
}

# ---------------------------------------------------------------------------
# Private cluster

# ensure_pg_user: as root, make sure the `postgres` OS user exists.
ensure_pg_user() {
	id -u postgres >/dev/null 2>&1 && return 0
	log "creating system user postgres"
	useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
		--shell /bin/bash postgres >&2 || die "could not create OS user postgres"
}

# as_pg CMD...: run CMD as the cluster owner (postgres when we are root).
as_pg() {
	if is_root; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

# private_paths: set PG_DIR, PG_SOCK and PG_LOG.
#
# As root the server runs as `postgres`, which must be able to reach the data
# directory; a clone under /root (mode 700) is not reachable, so then the
# cluster lives in /var/tmp/shopgraph-<hash of repo path> instead.
private_paths() {
	local base="$DATA_DIR"
	if is_root && id -u postgres >/dev/null 2>&1 &&
		! (cd / && runuser -u postgres -- test -x "$ROOT/.") 2>/dev/null; then
		local hash
		hash="$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
		base="/var/tmp/shopgraph-$hash"
	fi
	PG_DIR="$base/postgres"
	PG_SOCK="$base/postgres-run"
	PG_LOG="$base/postgres.log"
}

# private_conf: (re)write the settings that make the cluster private.
private_conf() {
	local sockdirs="$PG_SOCK"
	# Unix socket paths are limited to 107 bytes; go TCP-only if too long.
	if ((${#PG_SOCK} + 16 > 100)); then
		sockdirs=""
	fi
	as_pg tee "$PG_DIR/shopgraph.conf" >/dev/null <<-EOF
		# Written by scripts/services.sh on every start; edits are overwritten.
		listen_addresses = '$PRIVATE_PG_HOST'
		port = $PRIVATE_PG_PORT
		unix_socket_directories = '$sockdirs'
		synchronous_commit = off
	EOF
}

# private_init: create the cluster if it does not exist yet.
private_init() {
	[[ -f "$PG_DIR/PG_VERSION" ]] && return 0
	log "creating private PostgreSQL cluster in $PG_DIR (initdb from $PG_BIN)"
	if [[ "$PG_DIR" != "$DATA_DIR"/* ]]; then
		log "(not under $DATA_DIR: the postgres OS user cannot reach $ROOT)"
	fi
	mkdir -p "$(dirname "$PG_DIR")"
	rm -rf "$PG_DIR"
	mkdir -p "$PG_DIR"
	chmod 700 "$PG_DIR"
	if is_root; then
		chown postgres:postgres "$PG_DIR"
	fi
	as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >&2 ||
		as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust \
			--encoding=UTF8 --no-locale >&2 ||
		die "initdb failed for $PG_DIR"
	as_pg tee -a "$PG_DIR/postgresql.conf" >/dev/null <<-'EOF'

		# Added by scripts/services.sh
		include_if_exists = 'shopgraph.conf'
	EOF
}

# private_start: start the cluster (initialising it first if needed).
private_start() {
	private_init
	mkdir -p "$PG_SOCK"
	touch "$PG_LOG"
	if is_root; then
		chown postgres:postgres "$PG_SOCK" "$PG_LOG"
	fi
	private_conf
	log "starting private PostgreSQL on $PRIVATE_PG_HOST:$PRIVATE_PG_PORT (log: $PG_LOG)"
	# 9>&-: the server must not inherit (and so hold forever) the start lock.
	if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_LOG" -w -t 60 start >&2 9>&-; then
		log "pg_ctl start failed; last lines of $PG_LOG:"
		tail -n 20 "$PG_LOG" >&2 || true
		exit 1
	fi
	wait_for 30 pg_ready "$PRIVATE_PG_HOST" "$PRIVATE_PG_PORT" ||
		die "private PostgreSQL started but does not answer on $PRIVATE_PG_HOST:$PRIVATE_PG_PORT"
}

# private_running: true if the server process of our cluster is alive.
private_running() {
	[[ -f "$PG_DIR/postmaster.pid" ]] || return 1
	find_pg_bin || return 1
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1
}

# private_url: print the URL of the private cluster, starting it if needed.
private_url() {
	private_paths
	if ! pg_ready "$PRIVATE_PG_HOST" "$PRIVATE_PG_PORT"; then
		mkdir -p "$DATA_DIR" "$(dirname "$PG_DIR")"
		if is_root; then
			# The postgres user must be able to reach its data directory.
			chmod 755 "$(dirname "$PG_DIR")"
		fi
		# Serialise concurrent callers (parallel make, several terminals).
		local lock
		lock="$(dirname "$PG_DIR")/.services.lock"
		exec 9>"$lock"
		if command -v flock >/dev/null 2>&1; then
			flock -w 120 9 || die "timed out waiting for $lock"
		fi
		if ! pg_ready "$PRIVATE_PG_HOST" "$PRIVATE_PG_PORT"; then
			if ! find_pg_bin; then
				install_postgres
				# On a machine with systemd the package starts its own server.
				if [[ "${SHOPGRAPH_PRIVATE_PG:-}" != 1 ]] &&
					wait_for 5 pg_ready "$SYSTEM_PG_HOST" "$SYSTEM_PG_PORT"; then
					exec 9>&-
					pg_url "$SYSTEM_PG_HOST" "$SYSTEM_PG_PORT" postgres
					return 0
				fi
				find_pg_bin || die "PostgreSQL was installed but initdb/pg_ctl were not found"
			fi
			if is_root; then
				ensure_pg_user
				private_paths # the postgres user may be new
			fi
			private_start
		fi
		exec 9>&-
	fi
	pg_url "$PRIVATE_PG_HOST" "$PRIVATE_PG_PORT" postgres
}

# ---------------------------------------------------------------------------
# Subcommands

cmd_postgres_url() {
	if [[ "${SHOPGRAPH_PRIVATE_PG:-}" != 1 ]]; then
		if [[ -n "${DATABASE_ADMIN_URL:-}" ]]; then
			printf '%s\n' "$DATABASE_ADMIN_URL"
			return 0
		fi
		if pg_ready "$SYSTEM_PG_HOST" "$SYSTEM_PG_PORT"; then
			pg_url "$SYSTEM_PG_HOST" "$SYSTEM_PG_PORT" postgres
			return 0
		fi
		log "no PostgreSQL on $SYSTEM_PG_HOST:$SYSTEM_PG_PORT; using the private cluster"
	fi
	private_url
}

# find_psql: print the path of psql, or fail.
find_psql() {
	if command -v psql >/dev/null 2>&1; then
		command -v psql
	elif [[ -x /usr/bin/psql ]]; then
		echo /usr/bin/psql
	elif find_pg_bin && [[ -x "$PG_BIN/psql" ]]; then
		echo "$PG_BIN/psql"
	else
		return 1
	fi
}

# with_db URL NAME: print URL with its database name replaced by NAME.
with_db() {
	local re='^(postgres(ql)?://[^/?]*)(/[^?]*)?(\?.*)?$'
	[[ "$1" =~ $re ]] || die "cannot derive a database URL from '$1' (expected postgres://...)"
	printf '%s/%s%s\n' "${BASH_REMATCH[1]}" "$2" "${BASH_REMATCH[4]}"
}

# db_exists PSQL ADMIN_URL NAME: true if database NAME exists.
db_exists() {
	local out
	out="$(PGCONNECT_TIMEOUT=5 "$1" -X -q -At -v ON_ERROR_STOP=1 -v name="$3" -d "$2" \
		<<<"SELECT 1 FROM pg_database WHERE datname = :'name';")" || return 1
	[[ "$out" == 1 ]]
}

cmd_database_url() {
	local name="${1:-}"
	[[ -n "$name" ]] || die "usage: $0 database-url NAME"
	[[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] ||
		die "database name '$name' must match [A-Za-z0-9_-]+"
	local admin psql_bin
	admin="$(cmd_postgres_url)"
	psql_bin="$(find_psql)" || die "psql not found; install it with: sudo apt-get install postgresql-client"

	if ! db_exists "$psql_bin" "$admin" "$name"; then
		log "creating database $name"
		# A concurrent caller may win the race; that is fine if it now exists.
		if ! PGCONNECT_TIMEOUT=5 "$psql_bin" -X -q -v ON_ERROR_STOP=1 -v name="$name" \
			-d "$admin" <<<'CREATE DATABASE :"name";' >&2 &&
			! db_exists "$psql_bin" "$admin" "$name"; then
			die "could not create database $name"
		fi
	fi
	with_db "$admin" "$name"
}

cmd_redis_url() {
	if [[ -n "${REDIS_URL:-}" ]]; then
		printf '%s\n' "$REDIS_URL"
	elif redis_ready "$REDIS_HOST" "$REDIS_PORT"; then
		printf 'redis://%s:%s/0\n' "$REDIS_HOST" "$REDIS_PORT"
	fi
	return 0
}

start_system_postgres() {
	if pg_ready "$SYSTEM_PG_HOST" "$SYSTEM_PG_PORT"; then
		log "PostgreSQL already answers on $SYSTEM_PG_HOST:$SYSTEM_PG_PORT"
		return 0
	fi
	if [[ ! -d /etc/postgresql ]] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
		log "no system PostgreSQL installed (no /etc/postgresql or pg_ctlcluster); postgres-url will use a private cluster"
		return 0
	fi
	local version
	version="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -n 1)"
	if [[ -z "$version" || ! -d "/etc/postgresql/$version/main" ]]; then
		log "no PostgreSQL cluster 'main' under /etc/postgresql; postgres-url will use a private cluster"
		return 0
	fi
	log "starting system PostgreSQL $version/main"
	if ! pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2; then
		log "warning: pg_ctlcluster $version main start failed; postgres-url will use a private cluster"
		return 0
	fi
	if wait_for 30 pg_ready "$SYSTEM_PG_HOST" "$SYSTEM_PG_PORT"; then
		log "PostgreSQL is up on $SYSTEM_PG_HOST:$SYSTEM_PG_PORT"
	else
		log "warning: PostgreSQL did not answer on $SYSTEM_PG_HOST:$SYSTEM_PG_PORT within 30s"
	fi
}

start_system_redis() {
	if redis_ready "$REDIS_HOST" "$REDIS_PORT"; then
		log "Redis already answers on $REDIS_HOST:$REDIS_PORT"
		return 0
	fi
	if ! command -v redis-server >/dev/null 2>&1; then
		log "redis-server not installed; shopgraph will use its in-process cache and pub/sub"
		return 0
	fi
	local dir=/var/lib/redis logdir=/var/log/redis
	mkdir -p "$dir" "$logdir" 2>/dev/null || true
	if [[ ! -w "$dir" || ! -w "$logdir" ]]; then
		dir="$DATA_DIR/redis"
		logdir="$DATA_DIR"
		mkdir -p "$dir"
	fi
	log "starting redis-server on $REDIS_HOST:$REDIS_PORT"
	if ! redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir "$dir" --logfile "$logdir/ci.log" >&2; then
		log "warning: redis-server failed to start; shopgraph will use its in-process cache and pub/sub"
		return 0
	fi
	if wait_for 30 redis_ready "$REDIS_HOST" "$REDIS_PORT"; then
		log "Redis is up on $REDIS_HOST:$REDIS_PORT"
	else
		log "warning: Redis did not answer on $REDIS_HOST:$REDIS_PORT within 30s (log: $logdir/ci.log)"
	fi
}

# ---------------------------------------------------------------------------
# stripe-mock: Stripe's own mock of its API, pinned in tools/go.mod (go tool).

STRIPE_MOCK_PORT="${STRIPE_MOCK_PORT:-12111}"
# Set by ensure_stripe_mock: the pid of the stripe-mock it started, or empty if one was
# already answering.
STRIPE_MOCK_STARTED_PID=""

# stripe_mock_files: the pid and log files of the stripe-mock on STRIPE_MOCK_PORT.
stripe_mock_pidfile() {
	if [[ "$STRIPE_MOCK_PORT" == 12111 ]]; then
		echo "$STRIPE_MOCK_DIR/stripe-mock.pid"
	else
		echo "$STRIPE_MOCK_DIR/stripe-mock-$STRIPE_MOCK_PORT.pid"
	fi
}

# ensure_stripe_mock: reuse the stripe-mock answering on STRIPE_MOCK_PORT, or start one and
# set STRIPE_MOCK_STARTED_PID.
ensure_stripe_mock() {
	if tcp_open 127.0.0.1 "$STRIPE_MOCK_PORT"; then
		return 0
	fi
	local bin="${STRIPE_MOCK_BIN:-$STRIPE_MOCK_DIR/bin/stripe-mock}"
	local pidfile log
	pidfile="$(stripe_mock_pidfile)"
	log="${pidfile%.pid}.log"
	mkdir -p "$STRIPE_MOCK_DIR"
	if [[ ! -x "$bin" ]]; then
		log "building stripe-mock (pinned in tools/go.mod)"
		mkdir -p "$(dirname "$bin")"
		(cd "$ROOT" && go build -modfile=tools/go.mod -o "$bin" github.com/stripe/stripe-mock) >&2
	fi
	log "starting stripe-mock on 127.0.0.1:$STRIPE_MOCK_PORT (log: $log)"
	nohup "$bin" -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" >"$log" 2>&1 </dev/null &
	STRIPE_MOCK_STARTED_PID=$!
	echo "$STRIPE_MOCK_STARTED_PID" >"$pidfile"
	wait_for 30 tcp_open 127.0.0.1 "$STRIPE_MOCK_PORT" || die "stripe-mock did not start; see $log"
}

cmd_stripe_mock_url() {
	ensure_stripe_mock
	printf 'http://127.0.0.1:%s\n' "$STRIPE_MOCK_PORT"
}

# stop_stripe_mock PID: stop the stripe-mock with this pid, if the pid file still names it (a
# pid file left by another start must not make us kill an unrelated process).
stop_stripe_mock() {
	local pid="$1" pidfile
	pidfile="$(stripe_mock_pidfile)"
	[[ -f "$pidfile" && "$(<"$pidfile")" == "$pid" ]] || return 0
	kill "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

cmd_stop_stripe_mock() {
	local pidfile
	pidfile="$(stripe_mock_pidfile)"
	[[ -f "$pidfile" ]] || return 0
	stop_stripe_mock "$(<"$pidfile")"
}

# cmd_with_stripe_mock CMD...: run CMD with STRIPE_API_BASE set to a stripe-mock, and stop
# that stripe-mock when CMD ends if this call started it; one that was already running (for
# `make test`, another terminal) is left alone. Its exit status is CMD's.
cmd_with_stripe_mock() {
	[[ $# -gt 0 ]] || die "usage: $0 with-stripe-mock CMD [ARG...]"
	ensure_stripe_mock
	if [[ -n "$STRIPE_MOCK_STARTED_PID" ]]; then
		local started="$STRIPE_MOCK_STARTED_PID"
		# shellcheck disable=SC2064 # expand $started now
		trap "stop_stripe_mock $started" EXIT
		# Ctrl-C reaches CMD too (same process group); once it has stopped, exit through the
		# EXIT trap. (Background processes of a script ignore SIGINT: without this, the
		# stripe-mock outlived `make run`.)
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	local status=0
	STRIPE_API_BASE="http://127.0.0.1:$STRIPE_MOCK_PORT" "$@" || status=$?
	return "$status"
}

# ---------------------------------------------------------------------------
# Mailpit: a local mail catcher with a web inbox, pinned in tools/go.mod, so that `make run`
# sends its emails somewhere one can read them.

MAILPIT_SMTP_PORT="${MAILPIT_SMTP_PORT:-1025}"
MAILPIT_UI_PORT="${MAILPIT_UI_PORT:-8025}"
# Set by ensure_mailpit: the pid of the Mailpit it started, or empty if one was already
# answering.
MAILPIT_STARTED_PID=""

mailpit_pidfile() {
	if [[ "$MAILPIT_SMTP_PORT" == 1025 ]]; then
		echo "$MAILPIT_DIR/mailpit.pid"
	else
		echo "$MAILPIT_DIR/mailpit-$MAILPIT_SMTP_PORT.pid"
	fi
}

# ensure_mailpit: reuse the Mailpit answering on MAILPIT_SMTP_PORT, or start one and set
# MAILPIT_STARTED_PID.
ensure_mailpit() {
	if tcp_open 127.0.0.1 "$MAILPIT_SMTP_PORT"; then
		return 0
	fi
	local bin="${MAILPIT_BIN:-$MAILPIT_DIR/bin/mailpit}"
	local pidfile log
	pidfile="$(mailpit_pidfile)"
	log="${pidfile%.pid}.log"
	mkdir -p "$MAILPIT_DIR"
	if [[ ! -x "$bin" ]]; then
		log "building Mailpit (pinned in tools/go.mod)"
		mkdir -p "$(dirname "$bin")"
		(cd "$ROOT" && go build -modfile=tools/go.mod -o "$bin" github.com/axllent/mailpit) >&2
	fi
	log "starting Mailpit: SMTP on 127.0.0.1:$MAILPIT_SMTP_PORT, inbox on 127.0.0.1:$MAILPIT_UI_PORT (log: $log)"
	nohup "$bin" --smtp "127.0.0.1:$MAILPIT_SMTP_PORT" --listen "127.0.0.1:$MAILPIT_UI_PORT" >"$log" 2>&1 </dev/null &
	MAILPIT_STARTED_PID=$!
	echo "$MAILPIT_STARTED_PID" >"$pidfile"
	wait_for 30 tcp_open 127.0.0.1 "$MAILPIT_SMTP_PORT" || die "Mailpit did not start; see $log"
}

cmd_mailpit_url() {
	ensure_mailpit
	printf 'smtp://127.0.0.1:%s\n' "$MAILPIT_SMTP_PORT"
}

# stop_mailpit PID: stop the Mailpit with this pid, if the pid file still names it.
stop_mailpit() {
	local pid="$1" pidfile
	pidfile="$(mailpit_pidfile)"
	[[ -f "$pidfile" && "$(<"$pidfile")" == "$pid" ]] || return 0
	kill "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

cmd_stop_mailpit() {
	local pidfile
	pidfile="$(mailpit_pidfile)"
	[[ -f "$pidfile" ]] || return 0
	stop_mailpit "$(<"$pidfile")"
}

# cmd_with_mailpit CMD...: run CMD with SMTP_URL set to a Mailpit and print where its inbox
# is; stop that Mailpit when CMD ends if this call started it (one already running is left
# alone). With SMTP_URL already set, CMD runs as is. Its exit status is CMD's.
cmd_with_mailpit() {
	[[ $# -gt 0 ]] || die "usage: $0 with-mailpit CMD [ARG...]"
	if [[ -n "${SMTP_URL:-}" ]]; then
		local status=0
		"$@" || status=$?
		return "$status"
	fi
	ensure_mailpit
	if [[ -n "$MAILPIT_STARTED_PID" ]]; then
		local started="$MAILPIT_STARTED_PID"
		# shellcheck disable=SC2064 # expand $started now
		trap "stop_mailpit $started" EXIT
		# As in cmd_with_stripe_mock: Ctrl-C stops CMD, then we exit through the EXIT trap.
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	log "emails go to Mailpit; read them at http://127.0.0.1:$MAILPIT_UI_PORT"
	local status=0
	SMTP_URL="smtp://127.0.0.1:$MAILPIT_SMTP_PORT" "$@" || status=$?
	return "$status"
}

# ---------------------------------------------------------------------------
# PayPal stand-in: PayPal has no local mock; cmd/paypal-standin serves the parts of its API
# shopgraph calls, an approval page, and sends its webhooks to the server.

# Not 12112: stripe-mock serves HTTPS there, next to its HTTP on 12111.
PAYPAL_STANDIN_PORT="${PAYPAL_STANDIN_PORT:-12140}"
PAYPAL_STANDIN_DIR="${PAYPAL_STANDIN_DIR:-$DATA_DIR}"
PAYPAL_STANDIN_STARTED_PID=""

paypal_standin_pidfile() {
	echo "$PAYPAL_STANDIN_DIR/paypal-standin-$PAYPAL_STANDIN_PORT.pid"
}

# ensure_paypal_standin: reuse the stand-in answering on PAYPAL_STANDIN_PORT, or build and
# start one (its webhooks go to the server on $PORT) and set PAYPAL_STANDIN_STARTED_PID.
ensure_paypal_standin() {
	if tcp_open 127.0.0.1 "$PAYPAL_STANDIN_PORT"; then
		return 0
	fi
	local bin="$PAYPAL_STANDIN_DIR/bin/paypal-standin" pidfile log
	pidfile="$(paypal_standin_pidfile)"
	log="${pidfile%.pid}.log"
	mkdir -p "$PAYPAL_STANDIN_DIR/bin"
	log "building the PayPal stand-in (cmd/paypal-standin)"
	(cd "$ROOT" && go build -o "$bin" ./cmd/paypal-standin) >&2
	log "starting the PayPal stand-in on 127.0.0.1:$PAYPAL_STANDIN_PORT (log: $log)"
	nohup "$bin" -addr "127.0.0.1:$PAYPAL_STANDIN_PORT" \
		-webhook-url "http://127.0.0.1:${PORT:-8080}/webhooks/paypal" >"$log" 2>&1 </dev/null &
	PAYPAL_STANDIN_STARTED_PID=$!
	echo "$PAYPAL_STANDIN_STARTED_PID" >"$pidfile"
	wait_for 30 tcp_open 127.0.0.1 "$PAYPAL_STANDIN_PORT" || die "the PayPal stand-in did not start; see $log"
}

# stop_paypal_standin PID: stop the stand-in with this pid, if the pid file still names it.
stop_paypal_standin() {
	local pid="$1" pidfile
	pidfile="$(paypal_standin_pidfile)"
	[[ -f "$pidfile" && "$(<"$pidfile")" == "$pid" ]] || return 0
	kill "$pid" 2>/dev/null || true
	rm -f "$pidfile"
}

cmd_stop_paypal_standin() {
	local pidfile
	pidfile="$(paypal_standin_pidfile)"
	[[ -f "$pidfile" ]] || return 0
	stop_paypal_standin "$(<"$pidfile")"
}

# cmd_with_paypal_standin CMD...: as cmd_with_stripe_mock, for the PayPal stand-in; with PayPal
# configured (PAYPAL_CLIENT_ID or PAYPAL_API_BASE set) CMD runs as is.
cmd_with_paypal_standin() {
	[[ $# -gt 0 ]] || die "usage: $0 with-paypal-standin CMD [ARG...]"
	if [[ -n "${PAYPAL_CLIENT_ID:-}" || -n "${PAYPAL_API_BASE:-}" ]]; then
		local status=0
		"$@" || status=$?
		return "$status"
	fi
	ensure_paypal_standin
	if [[ -n "$PAYPAL_STANDIN_STARTED_PID" ]]; then
		local started="$PAYPAL_STANDIN_STARTED_PID"
		# shellcheck disable=SC2064 # expand $started now
		trap "stop_paypal_standin $started" EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	log "PayPal payments go to the local stand-in: approve them at the payment's approvalUrl"
	local status=0
	PAYPAL_API_BASE="http://127.0.0.1:$PAYPAL_STANDIN_PORT" "$@" || status=$?
	return "$status"
}

cmd_start_system() {
	start_system_postgres
	start_system_redis
}

cmd_stop_private() {
	private_paths
	if ! private_running; then
		log "private PostgreSQL ($PG_DIR) is not running"
		return 0
	fi
	log "stopping private PostgreSQL ($PG_DIR)"
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w -t 60 stop >&2
}

usage() {
	sed -n '3,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
}

main() {
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	case "$cmd" in
	postgres-url) cmd_postgres_url ;;
	database-url) cmd_database_url "$@" ;;
	redis-url) cmd_redis_url ;;
	stripe-mock-url) cmd_stripe_mock_url ;;
	stop-stripe-mock) cmd_stop_stripe_mock ;;
	with-stripe-mock) cmd_with_stripe_mock "$@" ;;
	mailpit-url) cmd_mailpit_url ;;
	stop-mailpit) cmd_stop_mailpit ;;
	with-mailpit) cmd_with_mailpit "$@" ;;
	with-paypal-standin) cmd_with_paypal_standin "$@" ;;
	stop-paypal-standin) cmd_stop_paypal_standin ;;
	start-system) cmd_start_system ;;
	stop-private) cmd_stop_private ;;
	-h | --help | help)
		usage
		;;
	*)
		usage
		[[ -z "$cmd" ]] || log "error: unknown command '$cmd'"
		exit 2
		;;
	esac
}

main "$@"
