#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The PouchDB side of the sync benchmark (tests/bench-sync.c): installs
# pouchdb-node and pouchdb-server from the npm registry into a cache
# directory (once), then runs tests/pouchdb/bench.js on DOCS.ndjson.
#
# Usage: build-aux/bench-pouchdb.sh DOCS.ndjson WORKDIR
# Env: RECOUP_BENCH_CACHE (default $XDG_CACHE_HOME/recoup-bench, else
#      ~/.cache/recoup-bench), POUCHDB_BATCH_SIZE, POUCHDB_SERVER_MEMORY=1.
# Exit status 77 when node/npm are missing or the install fails (a skip).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
docs=${1:?usage: bench-pouchdb.sh DOCS.ndjson WORKDIR}
work=${2:?usage: bench-pouchdb.sh DOCS.ndjson WORKDIR}
cache=${RECOUP_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/recoup-bench}

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench-pouchdb: $tool is not installed; skipping the PouchDB comparison" >&2
    exit 77
  fi
done

mkdir -p "$cache"
if [ ! -d "$cache/node_modules/pouchdb-node" ] || [ ! -d "$cache/node_modules/pouchdb-server" ]; then
  echo "bench-pouchdb: installing pouchdb-node and pouchdb-server into $cache (once)" >&2
  if ! (cd "$cache" && npm install --no-audit --no-fund --loglevel=error --no-save \
          pouchdb-node@9 pouchdb-server@4 >"$cache/npm-install.log" 2>&1); then
    echo "bench-pouchdb: npm install failed (see $cache/npm-install.log); skipping the PouchDB comparison" >&2
    exit 77
  fi
fi

echo "POUCHDB node=$(node --version) pouchdb-node=$(node -p "require('$cache/node_modules/pouchdb-node/package.json').version")" \
     "pouchdb-server=$(node -p "require('$cache/node_modules/pouchdb-server/package.json').version")"
mkdir -p "$work"
NODE_PATH="$cache/node_modules" exec node "$here/tests/pouchdb/bench.js" "$docs" "$work"
