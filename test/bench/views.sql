-- The reporting views over 1,000,000 leads (90 days of a 200-rep floor:
-- open, converted, rejected, nurture; one assignment decision each),
-- each timed beside a plain full scan of the lead table.
\pset footer off
SET leadflow.clock = '2026-06-01 12:00:00+00';

INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day)
SELECT 'rep' || g, 'mon-fri 08:00-18:00 UTC', 100000, 100000 FROM generate_series(1, 200) g;
INSERT INTO leadflow.queue (name, strategy, sticky_account)
SELECT 'q' || g, 'round_robin', false FROM generate_series(0, 9) g;
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'q' || ((id - 1) / 20), id FROM leadflow.rep;

SET session_replication_role = replica;   -- load as a restore would
INSERT INTO leadflow.lead (email, source, campaign, queue, owner_id, stage, created_at,
                           assigned_at, first_touch_at, last_touch_at, touches, cadence,
                           cadence_step, next_touch_at, sla_due_at, reject_reason, score)
SELECT 'p' || g || '@d' || (g % 20000) || '.example',
       (ARRAY['web_form', 'inbound_call', 'purchased_list', 'event', 'referral'])[1 + g % 5],
       'c' || (g % 40),
       'q' || (g % 10),
       1 + (g % 10) * 20 + (g / 10) % 20,
       st,
       created,
       created + interval '1 minute',
       CASE WHEN g % 7 <> 0 THEN created + (g % 300) * interval '1 minute' END,
       CASE WHEN g % 7 <> 0 THEN created + (g % 300) * interval '1 minute' END,
       CASE WHEN g % 7 <> 0 THEN 1 + g % 5 ELSE 0 END,
       leadflow.cadence_named('10x30'), 1,
       created + interval '1 day', created + interval '2 days',
       CASE WHEN st = 'rejected' THEN (ARRAY['dead', 'unsubscribed', 'dead_other_contact'])[1 + g % 3] END,
       g % 100
  FROM generate_series(1, 1000000) g,
       LATERAL (SELECT timestamptz '2026-03-03 08:00+00' + (g % 90) * interval '1 day'
                       + (g % 600) * interval '1 minute' AS created,
                       (CASE WHEN g % 10 < 3 THEN 'working' WHEN g % 10 < 4 THEN 'converted'
                             WHEN g % 10 < 5 THEN 'qualified' WHEN g % 10 < 8 THEN 'rejected'
                             ELSE 'nurture' END)::leadflow.stage AS st) x;
INSERT INTO leadflow.decision (lead_id, at, kind, to_rep, queue, strategy, reason)
SELECT id, assigned_at, 'assign', owner_id, queue, 'round_robin', 'round_robin' FROM leadflow.lead;
SET session_replication_role = origin;
INSERT INTO leadflow.rep_load (rep_id, open_count)
SELECT owner_id, count(*) FROM leadflow.lead WHERE stage IN ('new', 'working') GROUP BY owner_id
ON CONFLICT (rep_id) DO UPDATE SET open_count = EXCLUDED.open_count;
VACUUM ANALYZE;

-- Each view read whole, twice (the second run is reported: warm cache).
-- Every column is rendered (x::text), so the planner cannot skip the
-- joins a bare count(*) would not need.
CREATE FUNCTION time_view(v text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    q text := format('SELECT count(*) FROM (SELECT * FROM %s) x WHERE x::text IS NOT NULL', v);
BEGIN
    PERFORM timed(q);
    RETURN timed(q);
END $$;
INSERT INTO results
SELECT v, 1000000, time_view(v)
  FROM unnest(ARRAY['leadflow.lead', 'leadflow.rep_pipeline', 'leadflow.source_performance',
                    'leadflow.funnel', 'leadflow.speed_to_lead', 'leadflow.reject_reasons',
                    'leadflow.overdue', 'leadflow.backlog', 'leadflow.fairness',
                    'leadflow.capacity', 'leadflow.duplicate_rates',
                    'leadflow.work_list WHERE rep_id = 7', 'leadflow.leads_needed(100)']) v;

\echo 'Reporting views over 1,000,000 leads (warm cache), against a full scan of leadflow.lead:'
SELECT r.kind AS view, round((r.seconds * 1000)::numeric, 1) AS ms,
       round((r.seconds / b.seconds)::numeric, 2) AS vs_full_scan
  FROM results r, results b WHERE b.kind = 'leadflow.lead'
 ORDER BY r.seconds DESC;
