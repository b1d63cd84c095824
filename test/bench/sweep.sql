-- The sweep over 1,000,000 open leads of which 100,000 are overdue, 200
-- reps in one round-robin queue, against the same 100,000 reassignments
-- done by a bare UPDATE of an identical table without leadflow's
-- triggers (no routing, no caps, no ledger).  One session.
\pset footer off
SET leadflow.clock = '2026-03-09 15:00:00+00';   -- Monday, inside everyone's hours

INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day)
SELECT 'rep' || g, 'mon-fri 06:00-20:00 UTC', 100000, 100000 FROM generate_series(1, 200) g;
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'q', id FROM leadflow.rep;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');

-- Load the leads as already routed, as a restore does (triggers off), then
-- set the counters to match.  Every tenth lead missed its SLA an hour ago.
SET session_replication_role = replica;
INSERT INTO leadflow.lead (email, queue, owner_id, stage, assigned_at, cadence, cadence_step,
                           next_touch_at, sla_due_at, created_at)
SELECT 'p' || g || '@d' || (g % 5000) || '.example', 'q', 1 + g % 200, 'new',
       '2026-03-09 09:00+00', leadflow.cadence_named('10x30'), 0, '2026-03-09 09:00+00',
       CASE WHEN g % 10 = 0 THEN timestamptz '2026-03-09 14:00+00' ELSE '2026-03-10 15:00+00' END,
       '2026-03-09 09:00+00'
  FROM generate_series(1, 1000000) g;
SET session_replication_role = origin;
INSERT INTO leadflow.rep_load (rep_id, open_count)
SELECT owner_id, count(*) FROM leadflow.lead GROUP BY owner_id
ON CONFLICT (rep_id) DO UPDATE SET open_count = EXCLUDED.open_count;
CREATE TABLE bare_lead (LIKE leadflow.lead INCLUDING ALL);
INSERT INTO bare_lead SELECT * FROM leadflow.lead;
VACUUM ANALYZE leadflow.lead;
VACUUM ANALYZE bare_lead;
CHECKPOINT;


INSERT INTO results SELECT 'bare UPDATE', 100000, timed(
    $$UPDATE bare_lead SET owner_id = 1 + owner_id % 200, reassignments = reassignments + 1,
                          assigned_at = '2026-03-09 15:00+00', sla_due_at = '2026-03-09 16:00+00'
       WHERE stage IN ('new', 'working') AND sla_due_at < '2026-03-09 15:00+00'$$);
CHECKPOINT;
SET leadflow.sweep_batch_size = 100000;
CREATE TABLE sweep_result AS SELECT * FROM leadflow.sweep('2026-03-09 15:00+00') WHERE false;
INSERT INTO results SELECT 'leadflow.sweep', 100000, timed(
    $$INSERT INTO sweep_result SELECT * FROM leadflow.sweep('2026-03-09 15:00+00')$$);

\echo 'The sweep over 1,000,000 open leads, 100,000 overdue (200 reps, one session):'
SELECT b.leads AS overdue,
       round(b.seconds::numeric, 2) AS bare_update_s,
       round(s.seconds::numeric, 2) AS sweep_s,
       round((b.leads / b.seconds)::numeric) AS bare_rows_per_s,
       round((s.leads / s.seconds)::numeric) AS sweep_leads_per_s,
       round((b.seconds / s.seconds)::numeric, 3) AS sweep_vs_bare_rate
  FROM results b, results s WHERE b.kind = 'bare UPDATE' AND s.kind = 'leadflow.sweep';
SELECT * FROM sweep_result WHERE leads > 0;
SELECT count(*) FILTER (WHERE reassignments = 1) AS moved_once,
       count(*) FILTER (WHERE reassignments > 1) AS moved_twice
  FROM leadflow.lead;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
