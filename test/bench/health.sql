-- leadflow.health() over 1,000,000 leads (quick: 100,000): one third
-- open with an owner among 200 reps, 1% of the open ones in the backlog,
-- one assignment decision per lead with a real 200-member candidate list,
-- 100,000 alerts of which half unacknowledged.  health() is meant to be
-- polled every minute, so it is timed against a count(*) of the open
-- leads measured in the same run; check_invariants() (which health()
-- reports as last recorded instead of running) and the metrics views
-- the Prometheus exporter reads are timed too.
\pset footer off
SELECT CASE :'scale' WHEN 'quick' THEN 100000 ELSE 1000000 END AS n,
       CASE :'scale' WHEN 'quick' THEN '100,000' ELSE '1,000,000' END AS n_text \gset
SET leadflow.clock = '2026-03-09 15:00:00+00';   -- Monday, inside everyone's hours

INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day)
SELECT 'rep' || g, 'mon-fri 06:00-20:00 UTC', 100000, 100000 FROM generate_series(1, 200) g;
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'q', id FROM leadflow.rep;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
-- one lead routed for real, for a real candidate list
INSERT INTO leadflow.lead (email) VALUES ('first@routed.example');
SELECT candidates AS sample_candidates FROM leadflow.decision WHERE kind = 'assign' LIMIT 1 \gset
-- two sweeps by hand, so that the sweep's record exists
SELECT leadflow.sweep() IS NOT NULL AS swept;
SELECT leadflow.sweep() IS NOT NULL AS swept_again;

-- The rest loaded as a restore does (triggers off), as routed a week ago,
-- then the counters set to match.
SET session_replication_role = replica;
INSERT INTO leadflow.lead (email, queue, owner_id, stage, assigned_at, cadence, cadence_step,
                           next_touch_at, sla_due_at, created_at)
SELECT 'p' || g || '@d' || (g % 5000) || '.example', 'q',
       CASE WHEN g % 300 = 0 THEN NULL ELSE 1 + g % 200 END,
       CASE WHEN g % 3 = 0 THEN 'new' ELSE 'rejected' END::leadflow.stage,
       '2026-03-02 09:00+00', leadflow.cadence_named('10x30'), 0, '2026-03-09 16:00+00',
       '2026-03-10 15:00+00', '2026-03-02 09:00+00'
  FROM generate_series(2, :n) g;
INSERT INTO leadflow.decision (lead_id, at, kind, to_rep, queue, strategy, reason, candidates)
SELECT l.id, '2026-03-02 09:00+00', CASE WHEN l.owner_id IS NULL THEN 'backlog' ELSE 'assign' END::leadflow.decision_kind,
       l.owner_id, 'q', 'round_robin', 'rule', :'sample_candidates'
  FROM leadflow.lead l WHERE l.id > 1;
INSERT INTO leadflow.alert (at, kind, lead_id, rep_id, acknowledged_at)
SELECT '2026-03-09 09:00+00'::timestamptz + g * interval '1 second', 'backlog', g, 1 + g % 200,
       CASE WHEN g % 2 = 0 THEN timestamptz '2026-03-09 12:00+00' END
  FROM generate_series(1, :n / 10) g;
SET session_replication_role = origin;
INSERT INTO leadflow.rep_load (rep_id, open_count)
SELECT owner_id, count(*) FROM leadflow.lead
 WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL GROUP BY owner_id
ON CONFLICT (rep_id) DO UPDATE SET open_count = EXCLUDED.open_count;
VACUUM ANALYZE;
CHECKPOINT;

-- Each statement timed 5 times (after one warm-up run); the median counts.
CREATE TABLE runs (kind text, seconds float8);
CREATE FUNCTION timed_runs(kind text, sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM timed(sql);
    FOR i IN 1 .. 5 LOOP
        INSERT INTO runs VALUES (kind, timed(sql));
    END LOOP;
END
$$;
SELECT timed_runs('baseline: count(*) of open leads',
                  $$SELECT count(*) FROM leadflow.lead WHERE stage IN ('new', 'working')$$);
SELECT timed_runs('health()', $$SELECT * FROM leadflow.health()$$);
SELECT timed_runs('metrics_backlog', $$SELECT * FROM leadflow.metrics_backlog$$);
SELECT timed_runs('metrics_sla', $$SELECT * FROM leadflow.metrics_sla$$);
SELECT timed_runs('metrics_sweep, _sweep_actions, _reps',
                  $$SELECT * FROM leadflow.metrics_sweep, leadflow.metrics_reps,
                           (SELECT count(*) FROM leadflow.metrics_sweep_actions) a$$);
SELECT timed_runs('metrics_health', $$SELECT * FROM leadflow.metrics_health$$);
SELECT timed_runs('metrics_decisions (cached 60 s by the exporter)', $$SELECT * FROM leadflow.metrics_decisions$$);
-- once: it takes seconds
INSERT INTO runs SELECT 'record_invariants() (check_invariants())', timed($$SELECT leadflow.record_invariants()$$);

\echo 'health() and the metrics over' :n_text 'leads (median of 5 runs), against a count(*) of the open leads:'
WITH m AS (
    SELECT kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS seconds, min(ord) AS ord
      FROM (SELECT r.*, row_number() OVER () AS ord FROM runs r) x GROUP BY kind
)
SELECT m.kind, round((m.seconds * 1000)::numeric, 1) AS ms,
       round((m.seconds / b.seconds)::numeric, 2) AS vs_baseline
  FROM m, m b WHERE b.kind LIKE 'baseline%'
 ORDER BY m.ord;
SELECT count(*) FILTER (WHERE stage IN ('new', 'working')) AS open_leads,
       count(*) FILTER (WHERE stage IN ('new', 'working') AND owner_id IS NULL) AS backlog,
       (SELECT count(*) FROM leadflow.decision) AS decisions,
       (SELECT count(*) FROM leadflow.alert WHERE acknowledged_at IS NULL) AS unacknowledged_alerts
  FROM leadflow.lead;
SELECT "check", status, detail FROM leadflow.health();
SELECT violations, kinds FROM leadflow.invariants_run;
