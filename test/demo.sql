-- The leadflow demo: the lead types, business time across time zones and
-- DST, and a small sales floor routing leads inside their INSERT.
-- Run by "make demo" against a fresh database with leadflow installed.
\pset footer off
SET search_path = public, leadflow;
SET timezone = 'UTC';

\echo
\echo '== 1. A touch plan is a type: leadflow.cadence'
\echo
SELECT leadflow.cadence_named('10x30') AS "the 30-day 10-touch plan";
SELECT step, channel, "offset" FROM leadflow.cadence_steps(leadflow.cadence_named('10x30'));
\echo 'Bad plans are refused with a pointer at the problem:'
\set ON_ERROR_STOP 0
SELECT 'call@0, email@2d, call@1d'::leadflow.cadence;
\set ON_ERROR_STOP 1

\echo
\echo '== 2. Working hours are a type too: leadflow.workhours'
\echo
SELECT 'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'::leadflow.workhours AS schedule,
       leadflow.workhours_weekly('mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York') AS per_week;

\echo
\echo '== 3. Business time, right across DST (US clocks go forward on Sun 2026-03-08)'
\echo
SELECT zone,
       leadflow.add_business_time('2026-03-06 20:00+00', '4 hours', h) AT TIME ZONE zone AS "Fri 20:00 UTC + 4 working hours, local",
       leadflow.business_time_between('2026-03-06 00:00+00', '2026-03-13 00:00+00', h) AS "working time that week"
  FROM (VALUES ('America/New_York'), ('Europe/Berlin'), ('Asia/Kolkata'))
         AS z(zone),
       LATERAL (SELECT ('mon-fri 09:00-17:00 ' || zone)::leadflow.workhours AS h) s;

\echo
\echo '== 4. A sales floor: 9 reps in 3 time zones, 3 queues, 4 rules'
\echo
SET leadflow.clock = '2026-03-09 15:30:00+00';   -- Monday: 10:30 in New York, 16:30 in Berlin, 21:00 in Kolkata
INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day, skills) VALUES
    ('Ana',   'mon-fri 09:00-17:00 America/New_York', 40, 20, '{enterprise}'),
    ('Ben',   'mon-fri 09:00-17:00 America/New_York', 40, 20, '{}'),
    ('Cleo',  'mon-fri 08:00-16:00 America/Chicago',  40, 20, '{enterprise}'),
    ('Dirk',  'mon-fri 09:00-17:00 Europe/Berlin',    40, 20, '{german}'),
    ('Elke',  'mon-fri 09:00-17:00 Europe/Berlin',    40, 20, '{german}'),
    ('Femi',  'mon-fri 09:00-17:00 Europe/London',    40, 20, '{}'),
    ('Gita',  'mon-fri 10:00-18:00 Asia/Kolkata',     40, 20, '{}'),
    ('Hari',  'mon-fri 10:00-18:00 Asia/Kolkata',     40, 20, '{}'),
    ('Ivo',   'mon-fri 09:00-17:00 Europe/Berlin',     5,  3, '{german}');
INSERT INTO leadflow.queue (name, strategy, sticky_account, require_available, first_touch_sla) VALUES
    ('inbound',    'round_robin',   true,  true,  '5 minutes'),
    ('enterprise', 'weighted',      true,  false, '1 hour'),
    ('dach',       'load_balanced', false, false, '2 hours');
INSERT INTO leadflow.queue_member (queue, rep_id, weight)
    SELECT 'inbound', id, 1 FROM leadflow.rep WHERE name IN ('Ana', 'Ben', 'Femi', 'Gita', 'Dirk')
    UNION ALL SELECT 'enterprise', id, CASE name WHEN 'Ana' THEN 3 ELSE 1 END
      FROM leadflow.rep WHERE name IN ('Ana', 'Cleo')
    UNION ALL SELECT 'dach', id, 1 FROM leadflow.rep WHERE name IN ('Dirk', 'Elke', 'Ivo')
    UNION ALL SELECT 'default', id, 1 FROM leadflow.rep WHERE name IN ('Ben', 'Femi', 'Gita', 'Hari');
INSERT INTO leadflow.rule (priority, name, match, min_score, require_skills, queue) VALUES
    (10, 'inbound calls',     '{"source": "inbound_call"}', NULL, '{}', 'inbound'),
    (20, 'big companies',     '{"employees": ["1000+", "5000+"]}', NULL, '{enterprise}', 'enterprise'),
    (30, 'german speaking',   '{"country": ["DE", "AT", "CH"]}', NULL, '{german}', 'dach');
INSERT INTO leadflow.rule (priority, name, match, action) VALUES
    (1, 'test submissions', '{"campaign": "qa-test"}', 'suppress');

\echo '300 leads arrive in one INSERT; each is routed inside it:'
\timing on
INSERT INTO leadflow.lead (email, source, campaign, country, attrs)
SELECT 'lead' || g || '@' || (ARRAY['acme.com', 'globex.de', 'initech.io', 'gmail.com', 'umbrella.co.uk'])[1 + g % 5],
       (ARRAY['web_form', 'inbound_call', 'purchased_list', 'event'])[1 + g % 4],
       CASE WHEN g % 50 = 0 THEN 'qa-test' ELSE 'spring' END,
       (ARRAY['US', 'DE', 'IN', 'GB', 'AT'])[1 + g % 5],
       jsonb_build_object('employees', (ARRAY['1-10', '11-200', '1000+', '5000+'])[1 + g % 4])
  FROM generate_series(1, 300) g;
\timing off

\echo
\echo 'Where they went (rule, queue, owner):'
SELECT coalesce(r.name, '(no rule: default)') AS rule, d.queue, d.kind,
       count(*) AS leads, string_agg(DISTINCT rep.name, ', ') AS owners
  FROM leadflow.decision d
  LEFT JOIN leadflow.rule r ON r.id = d.rule_id
  LEFT JOIN leadflow.rep rep ON rep.id = d.to_rep
 GROUP BY 1, 2, 3 ORDER BY 2, 1, 3;

\echo
\echo 'Pipeline caps hold: open leads per rep against max_open, new today against max_new_per_day'
SELECT r.name, l.open_count, r.max_open, l.new_count AS new_today, r.max_new_per_day,
       r.hours
  FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id ORDER BY r.id;

\echo
\echo 'Every decision explains itself.  Why did the first inbound call go where it went?'
SELECT l.id AS lead, l.email, rep.name AS owner, d.reason,
       jsonb_pretty(d.candidates) AS candidates
  FROM leadflow.lead l
  JOIN leadflow.decision d ON d.lead_id = l.id
  JOIN leadflow.rep rep ON rep.id = l.owner_id
 WHERE l.source = 'inbound_call' ORDER BY l.id LIMIT 1 \gx

\echo 'And what would routing do with that lead now (explain)?'
SELECT rep, eligible, reason, open_count, max_open, new_today, max_new_per_day, chosen
  FROM leadflow.explain((SELECT min(id) FROM leadflow.lead WHERE source = 'inbound_call'));

\echo
\echo 'Follow-up clocks run in each owner''s working hours (first touch due, SLA):'
SELECT rep.name AS owner, rep.hours, l.assigned_at, l.next_touch_at, l.sla_due_at
  FROM leadflow.lead l JOIN leadflow.rep rep ON rep.id = l.owner_id
 WHERE l.id IN (SELECT min(id) FROM leadflow.lead WHERE owner_id IS NOT NULL GROUP BY owner_id)
 ORDER BY rep.id;

\echo
\echo 'Leads nobody could take now wait in the backlog, with an alert:'
SELECT l.queue, count(*) AS waiting FROM leadflow.lead l
 WHERE owner_id IS NULL AND stage = 'new' GROUP BY 1 ORDER BY 1;
SELECT kind, count(*) FROM leadflow.alert GROUP BY 1 ORDER BY 1;

\echo
\echo 'A manual move over a cap is refused, with the rep, the cap and the count:'
\set ON_ERROR_STOP 0
SELECT leadflow.assign((SELECT min(id) FROM leadflow.lead WHERE owner_id IS NOT NULL),
                       (SELECT id FROM leadflow.rep WHERE name = 'Ivo'), 'asked for Ivo');
\set ON_ERROR_STOP 1

\echo
\echo 'Counters agree with the leads (no rows = all well):'
SELECT * FROM leadflow.check_counters();
RESET leadflow.clock;
