-- Bulk routing: INSERT ... SELECT of 50,000 and 500,000 leads, routed by
-- leadflow (200 reps, 10 queues of mixed strategies, half of them sticky,
-- 30 rules: routing_setup.psql) against the same rows inserted into an
-- identical table without leadflow's triggers.  Each size is measured for
-- both in the same run.  LEADFLOW_BENCH_SCALE=quick skips the 500,000.
\pset footer off
\ir routing_setup.psql

SELECT :'scale' <> 'quick' AS big \gset

-- Warm up caches and plans (not counted), then measure.
INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
CHECKPOINT;

INSERT INTO results SELECT 'bare', 50000, timed('INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(50000)');
CHECKPOINT;
SET leadflow.detect_duplicates = off;
INSERT INTO results SELECT 'routed, no duplicate check', 50000, timed($$INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(50000, 'a')$$);
CHECKPOINT;
RESET leadflow.detect_duplicates;
INSERT INTO results SELECT 'routed', 50000, timed($$INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(50000, 'b')$$);
CHECKPOINT;

\if :big
INSERT INTO results SELECT 'bare', 500000, timed($$INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500000, 'c')$$);
CHECKPOINT;
INSERT INTO results SELECT 'routed', 500000, timed($$INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500000, 'c')$$);
CHECKPOINT;
\endif

\echo 'Bulk INSERT ... SELECT, one session (200 reps, 10 queues, 30 rules):'
SELECT r.kind, r.leads,
       round(r.seconds::numeric, 2) AS seconds,
       round((r.leads / r.seconds)::numeric) AS leads_per_s,
       round((b.seconds / r.seconds)::numeric, 3) AS rate_vs_bare
  FROM results r JOIN results b ON b.kind = 'bare' AND b.leads = r.leads
 ORDER BY r.leads, r.seconds;

\echo 'What the routed runs did:'
SELECT kind, count(*) FROM leadflow.decision GROUP BY 1 ORDER BY 1;
SELECT count(*) AS accounts FROM leadflow.account;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
