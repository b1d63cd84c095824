#!/usr/bin/env bash
# "make test": install what is missing, build, install, run every suite and
# end with one line "N passed, N failed" across all of them.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

ensure_packages || { echo "could not install the packages the tests need"; echo "0 passed, 1 failed"; exit 1; }
build_and_install || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

tree=$(runnable_tree)
cd "$tree"
as_run_user bash test/run-suites.sh
status=$?
cd - >/dev/null
exit $status
