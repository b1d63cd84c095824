#!/usr/bin/env bash
# The Node.js client suite: leadflow driven through node-postgres (the "pg"
# package from npm), the way a CRM back end uses it.
#
#   bash test/client/run.sh           node-postgres: every *.test.js here
#   bash test/client/run.sh python    psycopg (Debian's python3-psycopg):
#                                     docs_test.py, the Python examples of
#                                     docs/integration.md
#
# Run in a tree whose leadflow is built and installed, as a user the server
# accepts (test/run-suites.sh does both).  Installs the locked packages with
# "npm ci" when test/client/node_modules is missing, starts a throwaway
# cluster with leadflow preloaded, runs "node --test" with the TAP reporter
# against a fresh database, stops the cluster (also on failure) and exits
# with node's status.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
. test/lib.sh

CLIENT=${1:-node}
CLIENT_DIR=${LEADFLOW_CLIENT_DIR:-/tmp/leadflow-client-$$}
CLIENT_PORT=${LEADFLOW_CLIENT_PORT:-5495}
CLIENT_DB=leadflow_client
# bounds the whole node run (the tests bound their own waits too; the suite
# takes about a second)
CLIENT_TIMEOUT=${LEADFLOW_CLIENT_TIMEOUT:-120}

if [ "$CLIENT" = python ]; then
	# Debian's python3 with its python3-psycopg, whatever python3 PATH finds first
	PYTHON=${LEADFLOW_PYTHON:-/usr/bin/python3}
	"$PYTHON" -c 'import psycopg' || { echo "client: $PYTHON has no psycopg (apt-get install python3-psycopg)"; exit 1; }
elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "client: node and npm are needed (test/lib.sh's ensure_packages installs them)"
	exit 1
fi

if [ "$CLIENT" = node ] && [ ! -d test/client/node_modules ]; then
	# npm keeps its cache and logs under $HOME; the run user may have none
	if [ -z "${HOME:-}" ] || [ ! -d "$HOME" ] || [ ! -w "$HOME" ]; then
		export HOME=$PWD/test/client/.home
		mkdir -p "$HOME" || exit 1
	fi
	echo "client: npm ci in test/client"
	(cd test/client && npm ci --no-audit --no-fund) || { echo "client: npm ci failed"; exit 1; }
fi

trap 'stop_cluster "$CLIENT_DIR"' EXIT
echo "client: starting a throwaway cluster in $CLIENT_DIR (port $CLIENT_PORT)"
start_cluster "$CLIENT_DIR" "$CLIENT_PORT" "shared_preload_libraries = 'leadflow'" || exit 1
"$($PG_CONFIG --bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$CLIENT_DIR/sock" -p "$CLIENT_PORT" \
	-U postgres -d postgres -c "CREATE DATABASE $CLIENT_DB" || exit 1

export PGHOST=$CLIENT_DIR/sock PGPORT=$CLIENT_PORT PGDATABASE=$CLIENT_DB PGUSER=postgres
if [ "$CLIENT" = python ]; then
	# unittest -v prints "test_... ... ok" (or FAIL, ERROR, skipped) per test
	timeout "$CLIENT_TIMEOUT" "$PYTHON" test/client/docs_test.py -v
	status=$?
	[ "$status" -eq 124 ] && echo "client: python did not finish within ${CLIENT_TIMEOUT}s"
	exit "$status"
fi
# --test-force-exit (node >= 20.14): a connection left open by a failed test
# must not keep node waiting after the last test
force_exit=
node --help 2>/dev/null | grep -q -- '--test-force-exit' && force_exit=--test-force-exit
timeout "$CLIENT_TIMEOUT" node --test --test-reporter=tap $force_exit test/client/
status=$?
[ "$status" -eq 124 ] && echo "client: node --test did not finish within ${CLIENT_TIMEOUT}s"
exit "$status"
