#!/usr/bin/env bash
# "make demo-stop": stop the demo cluster and remove its files.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
DEMO_DIR=${LEADFLOW_DEMO_DIR:-/tmp/leadflow-demo}
if [ -f "$DEMO_DIR/data/postmaster.pid" ]; then
	as_run_user "$($PG_CONFIG --bindir)/pg_ctl" -D "$DEMO_DIR/data" -m fast stop
fi
as_root rm -rf "$DEMO_DIR"
echo "demo cluster removed"
