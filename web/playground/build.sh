#!/usr/bin/env bash
# Rebuilds the embedded GraphiQL playground bundle into
# internal/httpapi/playground/assets/ (committed, so `go build` never needs npm).
#
#   web/playground/build.sh
#
# Needs node + npm (the npm registry for `npm ci`); versions are pinned in
# package.json / package-lock.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
npm ci --no-audit --no-fund
node build.mjs
