-- Bulk routing in CPU time: the backend's own user + system time (Linux
-- /proc/self/stat, read with pg_read_file: run.sh connects as superuser)
-- around a routed and a bare INSERT ... SELECT of the same rows, in
-- routing_bulk's configuration (routing_setup.psql).  Wall-clock ratios on
-- a shared machine move with whatever else runs between the two
-- statements; CPU time moves much less.  100,000 leads (quick: 20,000).
\pset footer off
\ir routing_setup.psql

SELECT CASE WHEN :'scale' = 'quick' THEN 20000 ELSE 100000 END AS n \gset
CREATE FUNCTION cpu_seconds() RETURNS float8 LANGUAGE sql AS $$
    SELECT (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) / 100.0
      FROM pg_read_file('/proc/self/stat') s
$$;
CREATE TABLE cpu_results (kind text, leads bigint, cpu float8, seconds float8);

-- Warm up caches and plans (not counted), then measure.
INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
CHECKPOINT;

SELECT cpu_seconds() AS c0 \gset
INSERT INTO cpu_results (kind, leads, seconds)
SELECT 'bare', :n, timed(format('INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s, %L)', :n, 'a'));
UPDATE cpu_results SET cpu = cpu_seconds() - :c0 WHERE kind = 'bare';
CHECKPOINT;
SELECT cpu_seconds() AS c0 \gset
INSERT INTO cpu_results (kind, leads, seconds)
SELECT 'routed', :n, timed(format('INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s, %L)', :n, 'b'));
UPDATE cpu_results SET cpu = cpu_seconds() - :c0 WHERE kind = 'routed';

\echo 'Bulk INSERT ... SELECT in CPU time, one session (200 reps, 10 queues, 30 rules):'
SELECT r.kind, r.leads, round(r.cpu::numeric, 2) AS cpu_s, round(r.seconds::numeric, 2) AS wall_s,
       round((r.cpu * 1e6 / r.leads)::numeric, 1) AS cpu_us_per_lead,
       round((b.cpu / r.cpu)::numeric, 3) AS cpu_rate_vs_bare,
       round((b.seconds / r.seconds)::numeric, 3) AS wall_rate_vs_bare
  FROM cpu_results r JOIN cpu_results b ON b.kind = 'bare'
 ORDER BY r.kind;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
