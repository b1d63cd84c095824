#!/usr/bin/env bash
# Run every suite in this (already built and installed) tree, as a user the
# server accepts, and count the results.  Called by test/run-tests.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${PG_CONFIG:=/usr/lib/postgresql/15/bin/pg_config}"
export LC_ALL=C.UTF-8 LANG=C.UTF-8
LOGS=test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"

passed=0
failed=0

# count SUITE LOG OK_PATTERN FAIL_PATTERN STATUS
# Adds the log's passes and failures to the totals.  A suite that failed
# without reporting any test (it could not start) counts as one failure.
count() {
	local suite=$1 log=$2 okpat=$3 failpat=$4 status=$5 ok bad
	ok=$(grep -cE "$okpat" "$log")
	bad=$(grep -cE "$failpat" "$log")
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1
		echo "   $suite did not run to the end; see $log"
		tail -n 20 "$log" | sed 's/^/   | /'
	fi
	printf '== %-10s %3d passed, %d failed\n' "$suite" "$ok" "$bad"
	passed=$((passed + ok))
	failed=$((failed + bad))
}

# A suite that hangs is stopped after LEADFLOW_SUITE_TIMEOUT seconds (30
# minutes by default) and counts as failed, so one hang cannot use up CI's
# time and hide the other suites' results.
SUITE_TIMEOUT=${LEADFLOW_SUITE_TIMEOUT:-1800}

run_suite() {
	local suite=$1 okpat=$2 failpat=$3
	shift 3
	echo "== running $suite: $*"
	timeout --kill-after=30 "$SUITE_TIMEOUT" "$@" >"$LOGS/$suite.log" 2>&1
	local status=$?
	[ "$status" -eq 124 ] && echo "   $suite was stopped after ${SUITE_TIMEOUT}s" >>"$LOGS/$suite.log"
	grep -E "$okpat|$failpat" "$LOGS/$suite.log" | sed 's/^/   /'
	count "$suite" "$LOGS/$suite.log" "$okpat" "$failpat" "$status"
	for diffs in regression.diffs test/output_iso/regression.diffs; do
		[ -s "$diffs" ] && [ "$status" -ne 0 ] && head -n 80 "$diffs" | sed 's/^/   | /'
	done
}

# pg_regress and pg_isolation_regress print "test NAME ... ok" per test.
PGR_OK='\.\.\. ok( |$)'
PGR_FAIL='\.\.\. (FAILED|failed)'

# The code map (test/tools/check_layout.pl): one line per header (it
# declares only what its .c defines) and per C file (on no call cycle)
run_suite layout '^layout .* \.\.\. ok$' '^layout .* \.\.\. FAILED$' perl test/tools/check_layout.pl src

# The routing core's rank step (src/rank.c) as plain C, no server:
# "rank CASE ... ok" per case (test/rank/run.sh)
run_suite rank '^rank .* \.\.\. ok$' '^rank .* \.\.\. FAILED$' env PG_CONFIG="$PG_CONFIG" bash test/rank/run.sh

run_suite regress "$PGR_OK" "$PGR_FAIL" make -s PG_CONFIG="$PG_CONFIG" regress
run_suite regress-upgrade "$PGR_OK" "$PGR_FAIL" make -s PG_CONFIG="$PG_CONFIG" regress-upgrade

if ls test/specs/*.spec >/dev/null 2>&1; then
	run_suite isolation "$PGR_OK" "$PGR_FAIL" make -s PG_CONFIG="$PG_CONFIG" isolation
fi

if ls test/t/*.pl >/dev/null 2>&1; then
	# prove -v prints every assertion as "ok N" / "not ok N"
	run_suite tap '^ok [0-9]+' '^not ok [0-9]+' make -s PG_CONFIG="$PG_CONFIG" tap
fi

if [ -f test/fuzz/run.sh ]; then
	run_suite fuzz '^fuzz .* ok' '^fuzz .* FAILED' bash test/fuzz/run.sh "${FUZZ_SECONDS:-5}"
fi

if [ -f test/client/package.json ]; then
	# node --test's TAP reporter prints "ok N - name" / "not ok N - name" for
	# each top-level test (and for a test file that failed to load) at the
	# start of the line; subtests are indented, so they are not counted twice
	run_suite client '^ok [0-9]+ - ' '^not ok [0-9]+ - ' bash test/client/run.sh
fi

if [ -f test/client/docs_test.py ]; then
	# unittest -v: "test_... (...) ... ok" per test, FAIL or ERROR when not
	run_suite python '\.\.\. ok$' '\.\.\. (FAIL|ERROR)$' bash test/client/run.sh python
fi


echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
