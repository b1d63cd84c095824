#!/usr/bin/env bash
# make reference: docs/reference.md regenerated from the catalog of a fresh
# install, in a throwaway cluster (socket only, in /tmp; stopped and
# removed at the end).  Builds and installs leadflow first, as "make test"
# does (through sudo when not root).  Then runs the reference check, which
# lists every object without a comment and every SQLSTATE not explained.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
. test/lib.sh

dir=${LEADFLOW_REFERENCE_DIR:-/tmp/leadflow-reference-$$}
port=${LEADFLOW_REFERENCE_PORT:-5496}
build_and_install || exit 1
trap 'stop_cluster "$dir"' EXIT
# preloaded: the settings are read from pg_settings
start_cluster "$dir" "$port" "shared_preload_libraries = 'leadflow'" || exit 1
export PSQL=$($PG_CONFIG --bindir)/psql PG_CONFIG
connect=(-h "$dir/sock" -p "$port" -U postgres)
"$PSQL" -X -q -v ON_ERROR_STOP=1 "${connect[@]}" -d postgres -c 'CREATE DATABASE reference' || exit 1
"$PSQL" -X -q -v ON_ERROR_STOP=1 "${connect[@]}" -d reference -c 'CREATE EXTENSION leadflow' || exit 1
perl test/tools/reference.pl "${connect[@]}" -d reference >docs/reference.md.new &&
	mv docs/reference.md.new docs/reference.md || { rm -f docs/reference.md.new; exit 1; }
echo "make reference: docs/reference.md written"
perl test/tools/reference.pl --check "${connect[@]}" -d reference
