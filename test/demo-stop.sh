#!/usr/bin/env bash
# "make demo-stop": stop the demo cluster and remove its files.
set -uo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
DEMO_DIR=${LEADFLOW_DEMO_DIR:-/tmp/leadflow-demo}
claim_cluster_dir "$DEMO_DIR" || exit 1
stop_cluster "$DEMO_DIR"
echo "demo cluster removed"
