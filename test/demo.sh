#!/usr/bin/env bash
# "make demo": install what is missing, build, install, start a throwaway
# cluster with pg_cron preloaded, play the demo script, and leave the
# cluster running so that you can explore it.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

DEMO_DIR=${LEADFLOW_DEMO_DIR:-/tmp/leadflow-demo}
DEMO_PORT=${LEADFLOW_DEMO_PORT:-5499}
DEMO_DB=leadflow_demo

claim_cluster_dir "$DEMO_DIR" || exit 1
started=$(date +%s)
ensure_packages || { echo "could not install the packages the demo needs"; exit 1; }
build_and_install || exit 1
BINDIR=$($PG_CONFIG --bindir)

echo "== starting a throwaway cluster in $DEMO_DIR (port $DEMO_PORT)"
start_cluster "$DEMO_DIR" "$DEMO_PORT" \
	"shared_preload_libraries = 'pg_cron,leadflow'" \
	"cron.database_name = '$DEMO_DB'" || exit 1
pwd -P >"$DEMO_DIR/owner"

PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$DEMO_DIR/sock" -p "$DEMO_PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DEMO_DB" || exit 1
"${PSQL[@]}" -d "$DEMO_DB" -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION leadflow" || exit 1

echo
"${PSQL[@]}" -d "$DEMO_DB" -f test/demo.sql || exit 1

cat <<TXT

The demo took $(($(date +%s) - started)) s.  Its cluster is still running, in $DEMO_DIR
(socket only, port $DEMO_PORT); sessions in $DEMO_DB see leadflow.clock set
to the demo's Friday evening (RESET leadflow.clock for the real date).  Explore it with:
    psql -h $DEMO_DIR/sock -p $DEMO_PORT -U postgres $DEMO_DB
Stop it with:
    make demo-stop      (or: runuser -u $RUN_USER -- $BINDIR/pg_ctl -D $DEMO_DIR/data stop)
TXT
