#!/usr/bin/env bash
# Single-row INSERT transactions with pgbench at 1, 2 and 8 clients: into a
# bare copy of the lead table, into leadflow.lead (routed by leadflow) and
# into ref.lead (routed by the PL/pgSQL reference router,
# plpgsql_router.sql), same workload (routing_setup.psql: 200 reps, 10
# queues, 30 rules), each for LEADFLOW_BENCH_PGBENCH_SECONDS (15; quick: 5).
# Prints tps and average latency with the ratios to the bare table and to
# the reference.  Run by run.sh (see there for the environment).
set -euo pipefail
cd "$(dirname "$0")"
: "${BENCH_DB:?run me through test/bench/run.sh}"
secs=${LEADFLOW_BENCH_PGBENCH_SECONDS:-$([ "$BENCH_SCALE" = quick ] && echo 5 || echo 15)}
clients=${LEADFLOW_BENCH_PGBENCH_CLIENTS:-1 2 8}
conn=(-h "$BENCH_SOCK" -p "$BENCH_PORT" -U postgres -d "$BENCH_DB")
psql=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}")

"${psql[@]}" -f routing_setup.psql
"${psql[@]}" -v router_only=1 -f plpgsql_router.sql
# pgbench's sessions see the same fixed clock as the bulk benchmarks.
"${psql[@]}" -c "ALTER DATABASE $BENCH_DB SET leadflow.clock = '2026-03-09 15:00:00+00'"
"${psql[@]}" -c "CREATE TABLE pgbench_results (target text, clients int, seconds int, xacts bigint, tps float8, latency_ms float8)"

work=$(mktemp -d /tmp/leadflow-pgbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
# One lead per transaction, the same rows bench_rows() makes, from a random
# number (collisions, hence duplicates, are negligible at 1e9).
for target in bare_lead leadflow.lead ref.lead; do
	cat >"$work/$target.sql" <<SQL
\set g random(1, 1000000000)
INSERT INTO $target (email, source, campaign, country, attrs)
VALUES ('p' || :g || CASE WHEN :g % 4 = 0 THEN '@gmail.com' ELSE '@d' || (:g % 5000) || '.example' END,
        (ARRAY['web_form', 'purchased_list', 's2', 's5', 's8', 's11'])[1 + :g % 6],
        'c' || (:g % 40),
        (ARRAY['C1', 'D4', 'C7', 'US', 'DE'])[1 + :g % 5],
        jsonb_build_object('segment', (ARRAY['smb', 'mid', 'ent'])[1 + :g % 3], 'employees', :g % 1000));
SQL
done

for c in $clients; do
	for target in bare_lead leadflow.lead ref.lead; do
		"${psql[@]}" -c CHECKPOINT
		out=$("$BINDIR/pgbench" -n -M prepared -c "$c" -j "$((c < 2 ? c : 2))" -T "$secs" \
			-f "$work/$target.sql" "${conn[@]}" 2>&1) || { echo "$out"; exit 1; }
		xacts=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
		tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | tail -1)
		lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
		failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
		[ "${failed:-0}" = 0 ] || { echo "$out"; exit 1; }
		"${psql[@]}" -c "INSERT INTO pgbench_results VALUES ('$target', $c, $secs, $xacts, $tps, $lat)"
	done
done

"${psql[@]}" <<'SQL'
\pset footer off
\echo 'Single-row INSERT transactions (pgbench -M prepared), routed by leadflow and by the PL/pgSQL reference, against a bare table:'
SELECT CASE r.target WHEN 'bare_lead' THEN 'bare' WHEN 'leadflow.lead' THEN 'leadflow'
                     ELSE 'PL/pgSQL reference' END AS target,
       r.clients, r.seconds, r.xacts, round(r.tps::numeric) AS tps,
       round(r.latency_ms::numeric, 3) AS latency_ms,
       round((r.tps / b.tps)::numeric, 3) AS tps_vs_bare,
       round((r.tps / p.tps)::numeric, 2) AS tps_vs_reference
  FROM pgbench_results r
  JOIN pgbench_results b ON b.clients = r.clients AND b.target = 'bare_lead'
  JOIN pgbench_results p ON p.clients = r.clients AND p.target = 'ref.lead'
 ORDER BY r.clients, r.tps DESC;
\echo 'What the routed runs did:'
SELECT 'leadflow' AS router, kind, count(*) FROM leadflow.decision GROUP BY kind
UNION ALL
SELECT 'PL/pgSQL reference', kind, count(*) FROM ref.decision GROUP BY kind ORDER BY 1, 2;
SELECT (SELECT count(*) FROM leadflow.check_counters()) AS leadflow_counter_errors,
       (SELECT sum(open_count) FROM ref.rep_load) = (SELECT count(*) FROM ref.lead) AS reference_counters_ok;
SQL
