-- What if (issue 19, part 2): a month of history -- 100,000 leads over
-- 200 reps (routing_setup.psql: 10 queues of mixed strategies, half of
-- them sticky, 30 rules), four batches every day, a share of each day's
-- leads closed in the evening -- routed live, then replayed by
-- leadflow.backtest over the whole month.  The baseline is the live
-- routing of the same leads, measured in the same run: the ratio is the
-- replay's leads per second over live routing's.  The replay must also be
-- the ledger (no mismatch), which is printed with it.
-- LEADFLOW_BENCH_SCALE=quick: 20,000 leads.
\pset footer off
\ir routing_setup.psql

SELECT CASE WHEN :'scale' = 'quick' THEN 20000 ELSE 100000 END AS n \gset
SET bench.per_batch = :n;

-- Warm up caches and plans (not counted), before the month.
SET leadflow.clock = '2026-02-27 10:00:00+00';
INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500, 'w');
CHECKPOINT;

-- The month: 30 days from Sunday 1 March, batches at 09:00, 11:00, 14:00
-- and 16:00; at 18:00 a fifth of the day's open leads close (a third of
-- those won).  Only the INSERTs are timed.
DO $$
DECLARE
    d date;
    t interval;
    k integer := 0;
    per integer := current_setting('bench.per_batch')::int / 120;
BEGIN
    FOR d IN SELECT generate_series(date '2026-03-01', '2026-03-30', '1 day') LOOP
        FOREACH t IN ARRAY ARRAY[interval '9 hours', '11 hours', '14 hours', '16 hours'] LOOP
            k := k + 1;
            PERFORM set_config('leadflow.clock', (d + t)::text, false);
            INSERT INTO results
            SELECT 'routed live', per,
                   timed(format($f$INSERT INTO leadflow.lead (email, source, campaign, country, attrs)
                                   SELECT * FROM bench_rows(%s, %L)$f$, per, 'm' || k));
        END LOOP;
        PERFORM set_config('leadflow.clock', (d + interval '18 hours')::text, false);
        UPDATE leadflow.lead
           SET stage = CASE WHEN id % 3 = 0 THEN 'converted' ELSE 'rejected' END::leadflow.stage
         WHERE created_at >= d AND created_at < d + 1 AND stage = 'new' AND id % 5 = 0;
    END LOOP;
END $$;
RESET leadflow.clock;
CHECKPOINT;

-- The replay of the month: the per-lead function, then the per-rep one
-- (which runs the same replay and sums it), twice each.
INSERT INTO results SELECT 'backtest_leads', (SELECT sum(leads) FROM results WHERE kind = 'routed live'),
    timed($$SELECT count(*) FROM leadflow.backtest_leads('2026-03-01', '2026-03-31')$$)
  FROM generate_series(1, 2);
INSERT INTO results SELECT 'backtest', (SELECT sum(leads) FROM results WHERE kind = 'routed live'),
    timed($$SELECT count(*) FROM leadflow.backtest('2026-03-01', '2026-03-31')$$)
  FROM generate_series(1, 2);

\echo 'A month routed live, and replayed by backtest (200 reps, 10 queues, 30 rules):'
WITH live AS (
    SELECT sum(leads) AS leads, sum(seconds) AS seconds FROM results WHERE kind = 'routed live'
)
SELECT r.kind, max(r.leads) AS leads, round(min(r.seconds)::numeric, 2) AS seconds,
       round((max(r.leads) / min(r.seconds))::numeric) AS leads_per_s,
       round(((max(r.leads) / min(r.seconds)) / (l.leads / l.seconds))::numeric, 2) AS rate_vs_live
  FROM (SELECT kind, leads, seconds FROM results WHERE kind LIKE 'backtest%'
        UNION ALL SELECT 'routed live', leads, seconds FROM live) r, live l
 GROUP BY r.kind, l.leads, l.seconds ORDER BY r.kind DESC;

\echo 'What the replay found (it must be the ledger: no mismatch):'
SELECT count(*) AS leads, count(*) FILTER (WHERE same) AS same,
       count(*) FILTER (WHERE NOT same) AS mismatches,
       count(*) FILTER (WHERE not_replayed IS NOT NULL) AS not_replayed,
       count(DISTINCT actual_rep_id) AS reps, count(DISTINCT actual_queue) AS queues,
       count(*) FILTER (WHERE actual_reason = 'account_owner') AS to_account_owner
  FROM leadflow.backtest_leads('2026-03-01', '2026-03-31');
SELECT count(*) AS closed FROM leadflow.lead WHERE stage <> 'new';
