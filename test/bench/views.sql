-- The reporting views over N leads (90 days of a 200-rep floor: open,
-- converted, rejected, nurture; one assignment decision each), each timed
-- beside a plain full scan of the lead table; then again with the extra
-- indexes below, to see what they buy.  N is 1,000,000 (quick: 200,000;
-- LEADFLOW_BENCH_SCALE=full: 10,000,000, which takes a while: the leads
-- and decisions are generated here, about 10 GB with indexes).
\pset footer off
SET leadflow.clock = '2026-06-01 12:00:00+00';
SELECT CASE :'scale' WHEN 'quick' THEN 200000 WHEN 'full' THEN 10000000 ELSE 1000000 END AS n,
       CASE :'scale' WHEN 'quick' THEN '200,000' WHEN 'full' THEN '10,000,000' ELSE '1,000,000' END AS n_text \gset

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
  FROM generate_series(1, :n) g,
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
CHECKPOINT;

-- Each view read whole, three times (the first warms the cache; the
-- faster of the other two is reported, which damps a shared machine's
-- noise).  Every column is rendered (x::text), so the planner cannot skip
-- the joins a bare count(*) would not need.
CREATE FUNCTION time_view(v text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    q text := format('SELECT count(*) FROM (SELECT * FROM %s) x WHERE x::text IS NOT NULL', v);
BEGIN
    PERFORM timed(q);
    RETURN least(timed(q), timed(q));
END $$;
CREATE TABLE views (v text);
INSERT INTO views
VALUES ('leadflow.lead'), ('leadflow.rep_pipeline'), ('leadflow.source_performance'),
       ('leadflow.funnel'), ('leadflow.speed_to_lead'), ('leadflow.reject_reasons'),
       ('leadflow.overdue'), ('leadflow.backlog'), ('leadflow.fairness'),
       ('leadflow.capacity'), ('leadflow.duplicate_rates'),
       ('leadflow.work_list WHERE rep_id = 7'), ('leadflow.leads_needed(100)');
INSERT INTO results SELECT v, :n, time_view(v) FROM views;

-- Extra indexes (not part of leadflow), each aimed at a view that reads
-- a part of the leads or of the ledger:
--   open leads by owner, covering what rep_pipeline and capacity count
--   (index-only scans instead of reading every lead);
CREATE INDEX lead_open_owner_cover_idx ON leadflow.lead (owner_id)
    INCLUDE (next_touch_at, sla_due_at, last_touch_at) WHERE stage IN ('new', 'working');
--   open leads by due time, for overdue's two conditions (a BitmapOr);
CREATE INDEX lead_open_next_touch_idx ON leadflow.lead (next_touch_at) WHERE stage IN ('new', 'working');
CREATE INDEX lead_open_sla_due_idx ON leadflow.lead (sla_due_at) WHERE stage IN ('new', 'working');
--   the assignment decisions by queue and rep, covering fairness's count.
CREATE INDEX decision_given_idx ON leadflow.decision (queue, to_rep)
    WHERE kind IN ('assign', 'reassign_sla', 'handoff', 'escalate') AND to_rep IS NOT NULL;
VACUUM ANALYZE leadflow.lead;
VACUUM ANALYZE leadflow.decision;
CHECKPOINT;
CREATE TABLE results_indexed (LIKE results);
INSERT INTO results_indexed SELECT v, :n, time_view(v) FROM views;

\echo 'Reporting views over' :n_text 'leads (warm cache), against a full scan of leadflow.lead, without and with the extra indexes:'
SELECT r.kind AS view, round((r.seconds * 1000)::numeric, 1) AS ms,
       round((r.seconds / b.seconds)::numeric, 2) AS vs_full_scan,
       round((x.seconds * 1000)::numeric, 1) AS ms_extra_indexes,
       round((x.seconds / r.seconds)::numeric, 2) AS extra_indexes_vs_without
  FROM results r JOIN results_indexed x USING (kind), results b WHERE b.kind = 'leadflow.lead'
 ORDER BY r.seconds DESC;
\echo 'Sizes:'
SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) AS total,
       pg_size_pretty(pg_relation_size(oid)) AS heap
  FROM pg_class WHERE oid IN ('leadflow.lead'::regclass, 'leadflow.decision'::regclass)
UNION ALL
SELECT relname, pg_size_pretty(pg_relation_size(oid)), NULL
  FROM pg_class WHERE relname IN ('lead_open_owner_cover_idx', 'lead_open_next_touch_idx',
                                  'lead_open_sla_due_idx', 'decision_given_idx');
