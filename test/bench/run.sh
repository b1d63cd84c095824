#!/usr/bin/env bash
# Benchmarks: "bash test/bench/run.sh [name ...]" (default: all *.sql here).
#
# Builds and installs leadflow, starts a throwaway cluster, runs each
# benchmark script in a fresh database, and prints its figures.  Every
# figure is measured next to its baseline in the same run and printed as a
# ratio; timings vary with the machine and its load, so nothing here is a
# pass/fail test.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

BENCH_DIR=${LEADFLOW_BENCH_DIR:-/tmp/leadflow-bench}
BENCH_PORT=${LEADFLOW_BENCH_PORT:-5498}

ensure_packages || exit 1
build_and_install || exit 1
BINDIR=$($PG_CONFIG --bindir)

start_cluster "$BENCH_DIR" "$BENCH_PORT" \
	"shared_preload_libraries = 'leadflow'" \
	"shared_buffers = '1GB'" "max_wal_size = '4GB'" "checkpoint_timeout = '30min'" || exit 1
trap 'stop_cluster "$BENCH_DIR"' EXIT

PSQL=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$BENCH_DIR/sock" -p "$BENCH_PORT" -U postgres)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=($(ls test/bench/*.sql | xargs -n1 basename | sed 's/\.sql$//'))
for name in "${names[@]}"; do
	echo "== bench $name"
	"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS bench_$name" -c "CREATE DATABASE bench_$name" || exit 1
	"${PSQL[@]}" -d "bench_$name" -c "CREATE EXTENSION leadflow" -f test/bench/common.psql || exit 1
	"${PSQL[@]}" -d "bench_$name" -f "test/bench/$name.sql" || exit 1
done
