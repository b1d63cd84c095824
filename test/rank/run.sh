#!/usr/bin/env bash
# Build test/rank/test_rank.c with src/rank.c against PostgreSQL's server
# headers (no server, no backend library: the test stubs palloc and
# qsort_arg) and run it.  Prints "rank CASE ... ok" / "... FAILED" per case
# (make test counts them: test/run-suites.sh); exits non-zero when the
# build or a case failed.
#
#   test/rank/run.sh          (PG_CONFIG as for the build)
set -u
cd "$(dirname "$0")/../.." || exit 2
: "${PG_CONFIG:=pg_config}"
build=test/rank/build
mkdir -p "$build"
includes=$("$PG_CONFIG" --includedir-server) || exit 2
# the extension's own warnings, and the sanitizers when the compiler has them
CFLAGS="-g -O1 -Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes"
SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
CC=${CC:-cc}
if ! echo 'int main(void){return 0;}' | $CC $SANITIZE -x c - -o "$build/probe" 2>/dev/null; then
	SANITIZE=
fi
if ! $CC $CFLAGS $SANITIZE -I"$includes" -Isrc test/rank/test_rank.c src/rank.c \
	-o "$build/test_rank" >"$build/build.log" 2>&1; then
	echo "rank build ... FAILED"
	sed 's/^/    /' "$build/build.log"
	exit 1
fi
# palloc never frees (a memory context would): no leak report
ASAN_OPTIONS=detect_leaks=0 "$build/test_rank"
