#!/usr/bin/env bash
# Run the pg_regress suite against a server running under valgrind
# memcheck, and report the errors valgrind found in leadflow's code.
# Slow (minutes); not part of "make test".  Usage: bash test/valgrind.sh
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
command -v valgrind >/dev/null || as_root apt-get install -y -qq valgrind >/dev/null
ensure_packages || exit 1
build_and_install || exit 1
BINDIR=$($PG_CONFIG --bindir)
DIR=${LEADFLOW_VALGRIND_DIR:-/tmp/leadflow-valgrind}
PORT=5497
as_root rm -rf "$DIR"
mkdir -p "$DIR"
tree=$(runnable_tree)
is_root && chown -R "$RUN_USER" "$DIR"
as_run_user "$BINDIR/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >/dev/null || exit 1
cat test/regress.conf >>"$DIR/data/postgresql.conf"
echo "port = $PORT" >>"$DIR/data/postgresql.conf"
echo "unix_socket_directories = '$DIR'" >>"$DIR/data/postgresql.conf"
echo "listen_addresses = ''" >>"$DIR/data/postgresql.conf"
# Every backend runs under memcheck; errors go to one log per process.
as_run_user bash -c "valgrind --quiet --trace-children=yes --track-origins=no \
	--read-var-info=no --num-callers=20 --log-file=$DIR/vg.%p.log \
	--suppressions=$PWD/test/valgrind.supp \
	$BINDIR/postgres -D $DIR/data >$DIR/server.log 2>&1 &"
for i in $(seq 1 120); do
	as_run_user "$BINDIR/pg_isready" -h "$DIR" -p "$PORT" -q && break
	sleep 1
done
as_run_user "$BINDIR/psql" -X -q -h "$DIR" -p $PORT -U postgres -d postgres \
	-c "CREATE DATABASE contrib_regression" || exit 1
regress=$($PG_CONFIG --pkglibdir)/pgxs/src/test/regress/pg_regress
tests=$(sed -n '/^REGRESS =/,/^$/p' Makefile | grep -v REGRESS | tr -d '\\\t' | tr '\n' ' ')
(cd "$tree" && as_run_user "$regress" --use-existing --host="$DIR" --port=$PORT --user=postgres \
	--inputdir=. --dbname=contrib_regression $tests) | grep -E "\.\.\. |tests"
as_run_user "$BINDIR/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null
errors=$(cat "$DIR"/vg.*.log | grep -c "^==[0-9]*== \(Invalid\|Conditional\|Use of uninit\|Syscall param\)")
ours=$(grep -l "leadflow.so" "$DIR"/vg.*.log 2>/dev/null | wc -l)
echo "valgrind: $errors error reports, $ours process logs mention leadflow.so (logs in $DIR)"
