#!/usr/bin/env bash
#
# scripts/pgconns.sh — sample how many PostgreSQL connections a test run holds.
#
# Usage:
#   scripts/pgconns.sh ADMIN_URL APPLICATION_NAME PEAK_FILE
#
# Until it is killed, polls pg_stat_activity four times a second and writes to PEAK_FILE,
# whenever either grows, one line: the highest number of connections whose application_name
# is APPLICATION_NAME (one test run: `make test` sets PGAPPNAME for every test process, and
# pgtest writes it into the URLs it hands out), then the highest number of connections to any
# test database (datname LIKE 'sg%': sgtest_*, sgtemplate_*), which includes other runs on
# the same server. `make test` runs it beside `go test` and fails above its cap.
#
# Needs psql; without it, or when the server does not answer, PEAK_FILE says "unknown".
set -uo pipefail

url="${1:?usage: $0 ADMIN_URL APPLICATION_NAME PEAK_FILE}"
app="${2:?usage: $0 ADMIN_URL APPLICATION_NAME PEAK_FILE}"
out="${3:?usage: $0 ADMIN_URL APPLICATION_NAME PEAK_FILE}"

echo "unknown unknown" >"$out"
command -v psql >/dev/null 2>&1 || exit 0

peak_run=0 peak_all=0 seen=0
while :; do
	# The sampler's own connection has its own application name, and is not counted.
	if line="$(PGAPPNAME=shopgraph-pgconns PGCONNECT_TIMEOUT=2 psql -X -q -At -F ' ' -v app="$app" -d "$url" 2>/dev/null <<'SQL'
SELECT count(*) FILTER (WHERE application_name = :'app'),
       count(*) FILTER (WHERE datname LIKE 'sg%')
FROM pg_stat_activity;
SQL
	)"; then
		read -r run all <<<"$line"
		if ((seen == 0 || run > peak_run || all > peak_all)); then
			((run > peak_run)) && peak_run=$run
			((all > peak_all)) && peak_all=$all
			seen=1
			echo "$peak_run $peak_all" >"$out.tmp" && mv "$out.tmp" "$out"
		fi
	fi
	sleep 0.25
done
