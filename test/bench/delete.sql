-- DELETE of 500 leads out of 200,000 (each with a touch, an event and an
-- alert; every tenth referred by another lead), against the same DELETE of
-- an identical table without leadflow's triggers and foreign keys.  What
-- it measures is mostly the foreign keys a delete walks (touch, event,
-- stage_history, referred_by, duplicate_of) and leadflow's delete trigger
-- (seat, "delete" decision, the lead's alerts): each needs an index.
\pset footer off
SET leadflow.clock = '2026-03-09 15:00:00+00';

INSERT INTO leadflow.rep (name, max_open, max_new_per_day)
SELECT 'rep' || g, 100000, 100000 FROM generate_series(1, 20) g;
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'default', id FROM leadflow.rep;

-- Loaded as a restore would (triggers off), counters set to match.
SET session_replication_role = replica;
INSERT INTO leadflow.lead (id, email, queue, owner_id, stage, assigned_at, referred_by, created_at)
SELECT g, 'p' || g || '@d' || (g % 5000) || '.example', 'default', 1 + g % 20, 'new',
       '2026-03-09 09:00+00', CASE WHEN g % 10 = 0 THEN g - 1 END, '2026-03-09 09:00+00'
  FROM generate_series(1, 200000) g;
SELECT setval('leadflow.lead_id_seq', 200000);
INSERT INTO leadflow.touch (lead_id, rep_id, at, channel, outcome)
SELECT g, 1 + g % 20, '2026-03-09 10:00+00', 'call', 'not_reached' FROM generate_series(1, 200000) g;
INSERT INTO leadflow.event (lead_id, kind, at) SELECT g, 'page_view', '2026-03-09 10:00+00'
  FROM generate_series(1, 200000) g;
INSERT INTO leadflow.decision (lead_id, at, kind, to_rep, queue, reason)
SELECT g, '2026-03-09 09:00+00', 'assign', 1 + g % 20, 'default', 'round_robin'
  FROM generate_series(1, 200000) g;
INSERT INTO leadflow.alert (kind, lead_id, rep_id, at)
SELECT 'backlog', g, NULL, '2026-03-09 09:00+00' FROM generate_series(1, 200000) g;
SET session_replication_role = origin;
INSERT INTO leadflow.rep_load (rep_id, open_count)
SELECT owner_id, count(*) FROM leadflow.lead GROUP BY owner_id
ON CONFLICT (rep_id) DO UPDATE SET open_count = EXCLUDED.open_count;
CREATE TABLE bare_lead (LIKE leadflow.lead INCLUDING ALL);
INSERT INTO bare_lead SELECT * FROM leadflow.lead;
VACUUM ANALYZE leadflow.lead, leadflow.touch, leadflow.event, leadflow.alert, bare_lead;
CHECKPOINT;

INSERT INTO results SELECT 'bare DELETE', 500, timed(
    $$DELETE FROM bare_lead WHERE id % 400 = 7$$);
INSERT INTO results SELECT 'DELETE FROM leadflow.lead', 500, timed(
    $$DELETE FROM leadflow.lead WHERE id % 400 = 7$$);

\echo 'DELETE of 500 of 200,000 leads (one session):'
SELECT b.leads,
       round(b.seconds::numeric * 1000, 1) AS bare_ms,
       round(d.seconds::numeric * 1000, 1) AS leadflow_ms,
       round((d.seconds / b.seconds)::numeric, 1) AS time_vs_bare
  FROM results b, results d WHERE b.kind = 'bare DELETE' AND d.kind = 'DELETE FROM leadflow.lead';
SELECT count(*) AS leads_left,
       (SELECT count(*) FROM leadflow.decision WHERE kind::text = 'delete') AS delete_decisions,
       (SELECT count(*) FROM leadflow.check_counters()) AS counter_errors
  FROM leadflow.lead;
