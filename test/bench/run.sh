#!/usr/bin/env bash
# Benchmarks: "bash test/bench/run.sh [name ...]" (default: every NAME.sql
# and NAME.sh here).  See test/bench/README.md.
#
# Builds and installs leadflow, starts a throwaway cluster, runs each
# benchmark in a fresh database, and prints its figures.  Every figure is
# measured next to its baseline in the same run and printed as a ratio;
# timings vary with the machine and its load, so nothing here is a
# pass/fail test.
#
# A benchmark is NAME.sql (run by psql in database bench_NAME, after
# common.psql) or NAME.sh (run by bash with the connection in the
# environment: BENCH_DB, BENCH_SOCK, BENCH_PORT, BINDIR, BENCH_SCALE; the
# database exists and has leadflow and common.psql loaded).
#
# Environment:
#   PG_CONFIG              which PostgreSQL to build against and run
#   LEADFLOW_BENCH_DIR     the throwaway cluster's directory (/tmp/leadflow-bench)
#   LEADFLOW_BENCH_PORT    its port (5498)
#   LEADFLOW_BENCH_SCALE   quick | default | full: how much to run (psql
#                          variable :scale in the scripts)
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

BENCH_DIR=${LEADFLOW_BENCH_DIR:-/tmp/leadflow-bench}
BENCH_PORT=${LEADFLOW_BENCH_PORT:-5498}
BENCH_SCALE=${LEADFLOW_BENCH_SCALE:-default}
case "$BENCH_SCALE" in
quick | default | full) ;;
*) echo "LEADFLOW_BENCH_SCALE must be quick, default or full (not $BENCH_SCALE)" >&2; exit 2 ;;
esac

ensure_packages || exit 1
build_and_install || exit 1
BINDIR=$($PG_CONFIG --bindir)

start_cluster "$BENCH_DIR" "$BENCH_PORT" \
	"shared_preload_libraries = 'leadflow'" \
	"shared_buffers = '1GB'" "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" \
	"max_connections = 50" || exit 1
trap 'stop_cluster "$BENCH_DIR"' EXIT

PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -v scale="$BENCH_SCALE" -h "$BENCH_DIR/sock" -p "$BENCH_PORT" -U postgres)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	names=($(ls test/bench/*.sql test/bench/*.sh | xargs -n1 basename | grep -vx run.sh |
		sed 's/\.sql$//; s/\.sh$//' | sort -u))
fi
echo "== scale: $BENCH_SCALE"
for name in "${names[@]}"; do
	echo "== bench $name ($(date +%H:%M:%S))"
	start=$SECONDS
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_$name" -c "CREATE DATABASE bench_$name" || exit 1
	"${PSQL[@]}" -d "bench_$name" -c "CREATE EXTENSION leadflow" -f test/bench/common.psql || exit 1
	if [ -f "test/bench/$name.sh" ]; then
		BENCH_DB="bench_$name" BENCH_SOCK="$BENCH_DIR/sock" BENCH_PORT="$BENCH_PORT" \
			BINDIR="$BINDIR" BENCH_SCALE="$BENCH_SCALE" bash "test/bench/$name.sh" || exit 1
	else
		"${PSQL[@]}" -d "bench_$name" -f "test/bench/$name.sql" || exit 1
	fi
	"${PSQL[@]}" -d postgres -c "DROP DATABASE bench_$name" || exit 1
	echo "== bench $name took $((SECONDS - start)) s"
done
