#!/usr/bin/env bash
# Single-row INSERT transactions in backend CPU time: one pgbench client
# (-M prepared, one lead per transaction, the rows and the ten-queue match
# of pgbench.sh) into leadflow.lead and into the bare copy, alternated
# (LEADFLOW_BENCH_SINGLE_ROUNDS rounds, 3; quick: 2), with
# synchronous_commit off so that the commit's WAL flush does not stand in
# for CPU.  After a second of warm-up, the pgbench backend's user + system
# time (/proc/PID/stat, Linux) and the lead id sequence are read, and again
# LEADFLOW_BENCH_SINGLE_SECONDS (8; quick: 4) later: CPU per transaction is
# their ratio.  The pgbench client's own CPU is not counted.
#
# LEADFLOW_BENCH_PERF=DIR also records each round's backend with
# "perf record -g" into DIR/TARGET-ROUND.data (run as root).
# Prints CPU us per transaction, each round and the range, and the routed
# against the bare.  Run by run.sh (see there for the environment).
set -euo pipefail
cd "$(dirname "$0")"
: "${BENCH_DB:?run me through test/bench/run.sh}"
rounds=${LEADFLOW_BENCH_SINGLE_ROUNDS:-$([ "$BENCH_SCALE" = quick ] && echo 2 || echo 3)}
secs=${LEADFLOW_BENCH_SINGLE_SECONDS:-$([ "$BENCH_SCALE" = quick ] && echo 4 || echo 8)}
targets=${LEADFLOW_BENCH_SINGLE_TARGETS:-bare ten_queues}
perf_dir=${LEADFLOW_BENCH_PERF:-}
conn=(-h "$BENCH_SOCK" -p "$BENCH_PORT" -U postgres -d "$BENCH_DB")
psql=("$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "${conn[@]}")
hz=$(getconf CLK_TCK)

"${psql[@]}" -f routing_setup.psql
"${psql[@]}" -c "ALTER DATABASE $BENCH_DB SET leadflow.clock = '2026-03-09 15:00:00+00'" \
	-c "ALTER DATABASE $BENCH_DB SET synchronous_commit = off" \
	-c "CREATE TABLE single_cpu (target text, round int, xacts bigint, cpu_s float8, wall_s float8)"

work=$(mktemp -d /tmp/leadflow-single.XXXXXX)
bench=
trap '[ -z "$bench" ] || kill "$bench" 2>/dev/null; rm -rf "$work"' EXIT
. ./single_row.bash
single_row_scripts "$work" $targets

# Backend CPU ticks of process $1.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
last_id() { "${psql[@]}" -At -c "SELECT last_value FROM leadflow.lead_id_seq"; }

for round in $(seq 1 "$rounds"); do
	for target in $targets; do
		"${psql[@]}" -c CHECKPOINT
		"$BINDIR/pgbench" -n -M prepared -c 1 -T "$((secs + 2))" -f "$work/$target.sql" \
			"${conn[@]}" >"$work/out" 2>&1 &
		bench=$!
		sleep 1
		pid=$("${psql[@]}" -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'")
		[ -n "$pid" ] || { cat "$work/out"; exit 1; }
		perf=
		if [ -n "$perf_dir" ]; then
			mkdir -p "$perf_dir"
			perf record -q -g -p "$pid" -o "$perf_dir/$target-$round.data" -- sleep "$secs" \
				>/dev/null 2>&1 &
			perf=$!
		fi
		t0=$(date +%s.%N); c0=$(cpu_ticks "$pid"); n0=$(last_id)
		sleep "$secs"
		t1=$(date +%s.%N); c1=$(cpu_ticks "$pid"); n1=$(last_id)
		[ -z "$perf" ] || wait "$perf" || true
		wait "$bench" || { cat "$work/out"; exit 1; }
		bench=
		"${psql[@]}" -c "INSERT INTO single_cpu VALUES ('$target', $round, $n1 - $n0,
			($c1 - $c0)::float8 / $hz, $t1 - $t0)"
	done
done

"${psql[@]}" <<'SQL'
\pset footer off
\echo 'Single-row INSERT transactions, one pgbench client, synchronous_commit off: backend CPU per transaction'
SELECT target, round, xacts, round((xacts / wall_s)::numeric) AS tps,
       round((cpu_s * 1e6 / xacts)::numeric, 1) AS cpu_us_per_xact,
       round((100 * cpu_s / wall_s)::numeric) AS backend_cpu_pct
  FROM single_cpu ORDER BY round, target;
WITH per AS (SELECT target, cpu_s * 1e6 / xacts AS us FROM single_cpu)
SELECT p.target, round(min(us)::numeric, 1) AS min_us, round(avg(us)::numeric, 1) AS mean_us,
       round(max(us)::numeric, 1) AS max_us,
       round((avg(b.mean) / avg(us))::numeric, 3) AS cpu_rate_vs_bare
  FROM per p, (SELECT avg(us) AS mean FROM per WHERE target = 'bare') b
 GROUP BY p.target ORDER BY p.target;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
SQL
