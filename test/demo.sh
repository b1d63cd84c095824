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
BINDIR=$($PG_CONFIG --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

ensure_packages || { echo "could not install the packages the demo needs"; exit 1; }
build_and_install || exit 1
BINDIR=$($PG_CONFIG --bindir)

# A previous demo cluster is stopped and replaced.
if [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
	as_run_user "$BINDIR/pg_ctl" -D "$DEMO_DIR/data" -m fast stop >/dev/null 2>&1
fi
as_root rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR/sock"
is_root && chown -R "$RUN_USER" "$DEMO_DIR"
chmod 755 "$DEMO_DIR"

echo "== starting a throwaway cluster in $DEMO_DIR (port $DEMO_PORT)"
as_run_user "$BINDIR/initdb" -D "$DEMO_DIR/data" -U postgres --auth=trust \
	--encoding=UTF8 --no-locale >"$DEMO_DIR/initdb.log" 2>&1 ||
	{ cat "$DEMO_DIR/initdb.log"; exit 1; }
cat >>"$DEMO_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $DEMO_PORT
unix_socket_directories = '$DEMO_DIR/sock'
shared_preload_libraries = 'pg_cron,leadflow'
cron.database_name = '$DEMO_DB'
timezone = 'UTC'
CONF
as_run_user "$BINDIR/pg_ctl" -D "$DEMO_DIR/data" -l "$DEMO_DIR/server.log" -w start >/dev/null ||
	{ cat "$DEMO_DIR/server.log"; exit 1; }

PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$DEMO_DIR/sock" -p "$DEMO_PORT" -U postgres)
"${PSQL[@]}" -d postgres -c "CREATE DATABASE $DEMO_DB" || exit 1
"${PSQL[@]}" -d "$DEMO_DB" -c "CREATE EXTENSION pg_cron" -c "CREATE EXTENSION leadflow" || exit 1

echo
"${PSQL[@]}" -d "$DEMO_DB" -f test/demo.sql || exit 1

cat <<TXT

The demo cluster is still running.  Explore it with:
    psql -h $DEMO_DIR/sock -p $DEMO_PORT -U postgres $DEMO_DB
Stop it with:
    make demo-stop      (or: runuser -u $RUN_USER -- $BINDIR/pg_ctl -D $DEMO_DIR/data stop)
TXT
