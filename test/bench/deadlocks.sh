#!/usr/bin/env bash
# Deadlock counts of three races, each run for a bounded number of
# transactions by two pgbench clients at once (pgbench --failures-detailed
# counts the transactions PostgreSQL cancelled with 40P01):
#
#   import_routed   two sessions, each INSERT ... SELECT of 200 leads that
#                   routing sends into one queue (duplicate detection on)
#   import_owned    two sessions, each INSERT ... SELECT of 200 leads that
#                   arrive with an owner (imports: the owner's seat is
#                   claimed, cap-checked)
#   assign_sweep    one session moving random leads by hand
#                   (leadflow.assign), one running the sweep over leads
#                   that are due
#   import_moves    one session's 200-lead routed INSERTs against another's
#                   UPDATEs moving five leads at a time to one rep
#
# Not a benchmark of speed: it prints how many transactions of each race
# deadlocked.  Run by run.sh ("bash test/bench/run.sh deadlocks"; see there
# for the environment).  LEADFLOW_DEADLOCK_XACTS sets the transactions per
# client (default 100; quick: 30).
set -euo pipefail
cd "$(dirname "$0")"
: "${BENCH_DB:?run me through test/bench/run.sh}"
xacts=${LEADFLOW_DEADLOCK_XACTS:-$([ "$BENCH_SCALE" = quick ] && echo 30 || echo 100)}
conn=(-h "$BENCH_SOCK" -p "$BENCH_PORT" -U postgres -d "$BENCH_DB")
psql=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}")

# Deadlocks are detected after deadlock_timeout: keep it short so that a
# run takes seconds, not minutes.
"${psql[@]}" -c "ALTER DATABASE $BENCH_DB SET deadlock_timeout = '100ms'"
# One fixed day for every session, so that the sweep's as_of and the
# manual moves count new leads in the same day of the reps' counters.
"${psql[@]}" -c "ALTER DATABASE $BENCH_DB SET leadflow.clock = '2030-01-07 00:00:00+00'"
"${psql[@]}" <<'SQL'
INSERT INTO leadflow.rep (id, name, hours, max_open, max_new_per_day)
SELECT g, 'rep' || g, 'mon-sun 00:00-24:00 UTC', 1000000, 1000000 FROM generate_series(1, 20) g;
INSERT INTO leadflow.queue (name, sticky_account, max_reassignments)
    VALUES ('q', false, 1000000);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'q', g FROM generate_series(1, 20) g;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
-- leads for the moves and the sweep
INSERT INTO leadflow.lead (email) SELECT 's' || g || '@d' || (g % 97) || '.example' FROM generate_series(1, 2000) g;

-- A manual move that may be refused (the lead closed, a cap) but not
-- deadlock: 40P01 is not caught, so pgbench counts it.
CREATE FUNCTION race_assign(n bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM leadflow.assign(1 + n % 2000, (1 + n % 20)::integer, 'race');
EXCEPTION WHEN check_violation OR object_not_in_prerequisite_state OR no_data_found THEN
    NULL;
END $$;
SQL

work=$(mktemp -d /tmp/leadflow-deadlocks.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/import_routed.sql" <<'SQL'
INSERT INTO leadflow.lead (email, source)
SELECT 'i' || (random() * 1e12)::bigint || '@d' || g || '.example', 'import'
  FROM generate_series(1, 200) g;
SQL
cat >"$work/import_owned.sql" <<'SQL'
INSERT INTO leadflow.lead (email, source, owner_id, queue)
SELECT 'o' || (random() * 1e12)::bigint || '@d' || g || '.example', 'import',
       1 + (random() * 19)::integer, 'q'
  FROM generate_series(1, 200) g;
SQL
cat >"$work/assign.sql" <<'SQL'
\set n random(1, 1000000000)
SELECT race_assign(:n);
SQL
# The sweep at a random time of that day: the leads whose SLA (an hour
# after their last move) has passed by then move again.
cat >"$work/sweep.sql" <<'SQL'
\set m random(60, 1380)
SET leadflow.sweep_batch_size = 100;
SELECT count(*) FROM leadflow.sweep(timestamptz '2030-01-07 00:00+00' + :m * interval '1 minute');
SQL

cat >"$work/moves.sql" <<'SQL'
\set n random(1, 1000000000)
UPDATE leadflow.lead SET owner_id = 1 + :n % 20
 WHERE id IN (SELECT id FROM leadflow.lead
               WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL AND id % 97 = :n % 97
               LIMIT 5);
SQL

run() {
	local name=$1
	shift
	local out
	out=$("$BINDIR/pgbench" -n --max-tries=1 --failures-detailed "$@" "${conn[@]}" 2>&1) ||
		{ echo "$out"; exit 1; }
	local done deadlocks other
	done=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
	deadlocks=$(echo "$out" | sed -n 's/^number of deadlock failures: \([0-9]*\).*/\1/p')
	other=$(echo "$out" | sed -n 's/^number of serialization failures: \([0-9]*\).*/\1/p')
	"${psql[@]}" -c "INSERT INTO deadlock_results VALUES ('$name', ${done:-0} + ${deadlocks:-0} + ${other:-0}, ${deadlocks:-0})"
}

"${psql[@]}" -c "CREATE TABLE deadlock_results (race text, transactions int, deadlocked int)"
run import_routed -c 2 -j 2 -t "$xacts" -f "$work/import_routed.sql"
run import_owned -c 2 -j 2 -t "$xacts" -f "$work/import_owned.sql"
run assign_sweep -c 2 -j 2 -t "$((xacts * 5))" -f "$work/assign.sql@4" -f "$work/sweep.sql@1"
run import_moves -c 2 -j 2 -t "$xacts" -f "$work/import_routed.sql@1" -f "$work/moves.sql@1"

"${psql[@]}" <<'SQL'
\pset footer off
\echo 'Deadlocks (40P01) of two concurrent clients:'
SELECT race, transactions, deadlocked,
       round(100.0 * deadlocked / nullif(transactions, 0), 1) AS percent
  FROM deadlock_results;
SELECT kind AS invariant_violated, count(*) FROM leadflow.check_invariants() GROUP BY 1 ORDER BY 1;
SQL
