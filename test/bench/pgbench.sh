#!/usr/bin/env bash
# Single-row INSERT transactions with pgbench at 1, 2, 4, 8 and 16 clients:
# into a bare copy of the lead table; into leadflow.lead, once with every
# lead routed into one queue (q4: round robin, sticky, by rule 4) and once
# spread over the ten queues by the rules; and into ref.lead (the PL/pgSQL
# reference router, plpgsql_router.sql, ten queues).  Same workload
# (routing_setup.psql: 200 reps, 10 queues, 30 rules), each run for
# LEADFLOW_BENCH_PGBENCH_SECONDS (15; quick: 5).
#
# During every run a sampler reads pg_stat_activity (and, for a backend
# waiting on a lock, its ungranted pg_locks row) every 100 ms: the top wait
# events per run are printed, a lock wait named by its lock type (the
# queue's routing lock and the contact key are advisory locks, told apart
# by their lock space).  WAL written per transaction comes from
# pg_current_wal_lsn() before and after each run, with the records and
# full-page images among it from pg_stat_wal (cluster-wide, so the
# sampler's few rows count too; backends report it as they finish, so a
# run's last transactions may be counted in the next).
# Prints tps and average latency with the ratios to the bare table and to
# the reference.  Run by run.sh (see there for the environment).
set -euo pipefail
cd "$(dirname "$0")"
: "${BENCH_DB:?run me through test/bench/run.sh}"
secs=${LEADFLOW_BENCH_PGBENCH_SECONDS:-$([ "$BENCH_SCALE" = quick ] && echo 5 || echo 15)}
clients=${LEADFLOW_BENCH_PGBENCH_CLIENTS:-1 2 4 8 16}
targets=${LEADFLOW_BENCH_PGBENCH_TARGETS:-bare one_queue ten_queues reference}
conn=(-h "$BENCH_SOCK" -p "$BENCH_PORT" -U postgres -d "$BENCH_DB")
psql=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}")

"${psql[@]}" -f routing_setup.psql
"${psql[@]}" -v router_only=1 -f plpgsql_router.sql
# pgbench's sessions see the same fixed clock as the bulk benchmarks.
"${psql[@]}" -c "ALTER DATABASE $BENCH_DB SET leadflow.clock = '2026-03-09 15:00:00+00'"
"${psql[@]}" <<'SQL'
CREATE TABLE pgbench_results (target text, clients int, seconds int, xacts bigint,
                              tps float8, latency_ms float8, wal_bytes numeric,
                              wal_records bigint, wal_fpi bigint);
CREATE TABLE pgbench_waits (target text, clients int, wait text);
SQL

work=$(mktemp -d /tmp/leadflow-pgbench.XXXXXX)
sampler=
trap '[ -z "$sampler" ] || kill "$sampler" 2>/dev/null; rm -rf "$work"' EXIT
# One lead per transaction (single_row.bash).
. ./single_row.bash
single_row_scripts "$work" $targets

# What every pgbench backend is doing, every 100 ms, until killed.
start_sampler() {
	"$BINDIR/psql" -X -q "${conn[@]}" >/dev/null 2>&1 <<SQL &
INSERT INTO pgbench_waits
SELECT '$1', $2,
       CASE WHEN a.wait_event_type IS NULL THEN 'CPU (no wait event)'
            WHEN l.locktype = 'advisory' AND l.classid = x'4C4651'::int THEN 'Lock: queue routing lock'
            WHEN l.locktype = 'advisory' AND l.classid = x'4C4644'::int THEN 'Lock: contact key'
            WHEN l.locktype = 'advisory' THEN 'Lock: advisory ' || l.classid || '/' || l.objsubid
            WHEN l.locktype IS NOT NULL THEN 'Lock: ' || l.locktype
            WHEN a.wait_event_type = 'Lock' THEN 'Lock: ' || a.wait_event || ' (gone from pg_locks)'
            ELSE a.wait_event_type || ': ' || a.wait_event END
  FROM pg_stat_activity a
  LEFT JOIN LATERAL (SELECT * FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) l ON true
 WHERE a.application_name = 'pgbench' AND a.state <> 'idle' AND a.pid <> pg_backend_pid()
\watch 0.1
SQL
	sampler=$!
}

for c in $clients; do
	for target in $targets; do
		"${psql[@]}" -c CHECKPOINT
		read -r lsn records fpi < <("${psql[@]}" -AtF' ' -c "SELECT pg_current_wal_lsn(), wal_records, wal_fpi FROM pg_stat_wal")
		start_sampler "$target" "$c"
		out=$("$BINDIR/pgbench" -n -M prepared -c "$c" -j "$((c < 2 ? c : 2))" -T "$secs" \
			-f "$work/$target.sql" "${conn[@]}" 2>&1) || { echo "$out"; exit 1; }
		kill "$sampler"; wait "$sampler" 2>/dev/null || true; sampler=
		xacts=$(echo "$out" | sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p')
		tps=$(echo "$out" | sed -n 's/^tps = \([0-9.]*\) .*/\1/p' | tail -1)
		lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
		failed=$(echo "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
		[ "${failed:-0}" = 0 ] || { echo "$out"; exit 1; }
		"${psql[@]}" -c "INSERT INTO pgbench_results VALUES ('$target', $c, $secs, $xacts, $tps, $lat,
			pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn'),
			(SELECT wal_records - $records FROM pg_stat_wal), (SELECT wal_fpi - $fpi FROM pg_stat_wal))"
	done
done

"${psql[@]}" <<'SQL'
\pset footer off
\echo 'Single-row INSERT transactions (pgbench -M prepared), routed by leadflow (into one queue, into ten) and by the PL/pgSQL reference, against a bare table:'
SELECT r.target, r.clients, r.seconds, r.xacts, round(r.tps::numeric) AS tps,
       round(r.latency_ms::numeric, 3) AS latency_ms,
       round((r.tps / b.tps)::numeric, 3) AS tps_vs_bare,
       round((r.tps / p.tps)::numeric, 2) AS tps_vs_reference,
       round(r.wal_bytes / nullif(r.xacts, 0)) AS wal_bytes_per_xact,
       round(r.wal_records::numeric / nullif(r.xacts, 0), 1) AS wal_records_per_xact,
       round(r.wal_fpi::numeric / nullif(r.xacts, 0), 2) AS fpi_per_xact
  FROM pgbench_results r
  LEFT JOIN pgbench_results b ON b.clients = r.clients AND b.target = 'bare'
  LEFT JOIN pgbench_results p ON p.clients = r.clients AND p.target = 'reference'
 ORDER BY r.clients, r.tps DESC;
\echo 'Top waits of the pgbench backends (share of 100 ms samples of non-idle backends; CPU = no wait event):'
SELECT target, clients, wait, share
  FROM (SELECT target, clients, wait,
               round(100.0 * count(*) / sum(count(*)) OVER (PARTITION BY target, clients), 1) AS share,
               row_number() OVER (PARTITION BY target, clients ORDER BY count(*) DESC) AS n
          FROM pgbench_waits GROUP BY target, clients, wait) w
 WHERE n <= 4
 ORDER BY clients, target, share DESC;
\echo 'Where the ten-queue runs sent their leads (every leadflow run but one_queue, whose leads all go to q4):'
SELECT d.queue, d.reason, count(*),
       round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS share
  FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
 WHERE NOT (l.source = 'web_form' AND l.campaign = 'c1' AND l.country = 'D4')
 GROUP BY d.queue, d.reason ORDER BY count(*) DESC LIMIT 12;
\echo 'What the routed runs did:'
SELECT 'leadflow' AS router, kind, count(*) FROM leadflow.decision GROUP BY kind
UNION ALL
SELECT 'PL/pgSQL reference', kind, count(*) FROM ref.decision GROUP BY kind ORDER BY 1, 2;
SELECT (SELECT count(*) FROM leadflow.check_counters()) AS leadflow_counter_errors,
       (SELECT sum(open_count) FROM ref.rep_load) = (SELECT count(*) FROM ref.lead) AS reference_counters_ok;
SQL
