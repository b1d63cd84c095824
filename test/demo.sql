-- The leadflow demo: two weeks of a sales floor, played hour by hour with
-- leadflow.clock, then the reports a sales manager reads on Friday night.
-- Run by "make demo" against a fresh database with leadflow installed.
\pset footer off
\set ON_ERROR_STOP 1
SET search_path = public, leadflow;
SET timezone = 'UTC';
SET client_min_messages = warning;

\echo
\echo '== The lead types: a touch plan and a working week are values'
\echo
SELECT leadflow.cadence_named('10x30') AS "the 30-day 10-touch plan";
SELECT 'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'::leadflow.workhours AS "a working week",
       leadflow.add_business_time('2026-03-06 20:00+00', '4 hours',
           'mon-fri 09:00-17:00 America/New_York') AT TIME ZONE 'America/New_York'
           AS "Fri 15:00 New York + 4 working hours (across the DST change)";

\echo
\echo '== The floor: 27 reps and 3 managers in seven cities, 4 queues, 5 rules'
\echo
SELECT setseed(0.42) \gset
SET leadflow.clock = '2026-03-30 00:00:00+00';   -- Monday; Good Friday and Easter Monday in Berlin
INSERT INTO leadflow.rep (name, hours, holidays, max_open, max_new_per_day, skills)
SELECT r.name, r.hours::leadflow.workhours, r.holidays::date[], 60, 12, r.skills::text[]
  FROM (VALUES
    ('Maya (mgr NY)',  'mon-fri 09:00-17:00 America/New_York', '{}', '{enterprise}'),
    ('Karl (mgr BER)', 'mon-fri 09:00-17:00 Europe/Berlin', '{2026-04-03,2026-04-06}', '{german}'),
    ('Asha (mgr BLR)', 'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}')) AS r(name, hours, holidays, skills);
INSERT INTO leadflow.rep (name, hours, holidays, max_open, max_new_per_day, skills, manager_id)
SELECT name, hours::leadflow.workhours, holidays::date[], 60, 12, skills::text[],
       (SELECT id FROM leadflow.rep WHERE rep.name = m)
  FROM (VALUES
    ('Ana',  'mon-fri 09:00-17:00 America/New_York', '{}', '{enterprise}', 'Maya (mgr NY)'),
    ('Ben',  'mon-fri 09:00-17:00 America/New_York', '{}', '{}', 'Maya (mgr NY)'),
    ('Cleo', 'mon-fri 08:00-16:00 America/Chicago', '{}', '{enterprise}', 'Maya (mgr NY)'),
    ('Dev',  'mon-fri 09:00-17:00 America/New_York', '{}', '{}', 'Maya (mgr NY)'),
    ('Eli',  'mon-fri 09:00-17:00 America/New_York', '{}', '{}', 'Maya (mgr NY)'),
    ('Fay',  'mon-fri 09:00-17:00 America/New_York', '{}', '{}', 'Maya (mgr NY)'),
    ('Gus',  'mon-fri 10:00-18:00 America/Los_Angeles', '{}', '{}', 'Maya (mgr NY)'),
    ('Hana', 'mon-fri 09:00-17:00 America/New_York', '{}', '{enterprise}', 'Maya (mgr NY)'),
    ('Ines', 'mon-fri 09:00-17:00 Europe/Berlin', '{2026-04-03,2026-04-06}', '{german}', 'Karl (mgr BER)'),
    ('Jan',  'mon-fri 09:00-17:00 Europe/Berlin', '{2026-04-03,2026-04-06}', '{german}', 'Karl (mgr BER)'),
    ('Kai',  'mon-fri 08:30-16:30 Europe/Berlin', '{2026-04-03,2026-04-06}', '{german}', 'Karl (mgr BER)'),
    ('Lena', 'mon-fri 09:00-17:00 Europe/Berlin', '{2026-04-03,2026-04-06}', '{german}', 'Karl (mgr BER)'),
    ('Mats', 'mon-fri 09:00-17:00 Europe/Stockholm', '{2026-04-03,2026-04-06}', '{}', 'Karl (mgr BER)'),
    ('Nora', 'mon-fri 09:00-17:00 Europe/London', '{2026-04-03,2026-04-06}', '{}', 'Karl (mgr BER)'),
    ('Olaf', 'mon-fri 09:00-17:00 Europe/Berlin', '{2026-04-03,2026-04-06}', '{german}', 'Karl (mgr BER)'),
    ('Pia',  'mon-fri 09:00-17:00 Europe/Berlin', '{2026-04-03,2026-04-06}', '{}', 'Karl (mgr BER)'),
    ('Ravi', 'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Sana', 'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Tara', 'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Uma',  'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Vik',  'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Wen',  'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Xavi', 'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Yara', 'mon-fri 10:00-18:30 Asia/Kolkata', '{}', '{}', 'Asha (mgr BLR)'),
    ('Zoe',  'mon-fri 09:00-17:00 America/New_York', '{}', '{}', 'Maya (mgr NY)'),
    ('Omar', 'mon-fri 09:00-17:00 Europe/London', '{2026-04-03,2026-04-06}', '{}', 'Karl (mgr BER)'),
    ('Luis', 'mon-fri 09:00-17:00 America/New_York', '{}', '{}', 'Maya (mgr NY)')
  ) AS r(name, hours, holidays, skills, m);
-- Fay is on vacation for the first week.
UPDATE leadflow.rep SET away_until = '2026-04-06 00:00+00' WHERE name = 'Fay';

INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for, then_queue, require_available,
                            first_touch_sla, touch_sla, max_reassignments, escalate_to)
VALUES ('territory', 'load_balanced', true, NULL, NULL, false, '2 hours', '1 day', 2, NULL),
       ('inbound', 'round_robin', true, '7 days', 'territory', true, '15 minutes', '4 hours', 1, 'territory'),
       ('inside', 'weighted', false, NULL, NULL, false, '1 hour', '1 day', 2, NULL),
       ('lists', 'performance', false, NULL, NULL, false, '4 hours', '2 days', 1, NULL);
INSERT INTO leadflow.queue_member (queue, rep_id, weight)
SELECT q, r.id, CASE WHEN q = 'inside' AND r.name IN ('Ben', 'Lena') THEN 2 ELSE 1 END
  FROM leadflow.rep r,
       LATERAL (VALUES
         (CASE WHEN r.name IN ('Ana', 'Cleo', 'Ines', 'Jan', 'Nora') THEN 'inbound' END),
         (CASE WHEN r.name IN ('Ben', 'Dev', 'Eli', 'Fay', 'Gus', 'Kai', 'Lena', 'Mats', 'Omar') THEN 'inside' END),
         (CASE WHEN r.name IN ('Ana', 'Hana', 'Zoe', 'Luis', 'Olaf', 'Pia', 'Ines') THEN 'territory' END),
         (CASE WHEN r.name IN ('Ravi', 'Sana', 'Tara', 'Uma', 'Vik', 'Wen', 'Xavi', 'Yara') THEN 'lists' END)) m(q)
 WHERE q IS NOT NULL;
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'default', id FROM leadflow.rep WHERE name IN ('Ben', 'Zoe');
INSERT INTO leadflow.rule (priority, name, match, require_skills, queue, action) VALUES
    (1, 'test submissions', '{"campaign": "qa-test"}', '{}', NULL, 'suppress'),
    (10, 'inbound calls', '{"source": "inbound_call"}', '{}', 'inbound', 'route'),
    (20, 'purchased lists', '{"source": "purchased_list"}', '{}', 'lists', 'route'),
    (30, 'DACH web', '{"country": ["DE", "AT", "CH"], "source": ["web_form", "event"]}', '{german}', 'territory', 'route'),
    (40, 'web and events', '{"source": ["web_form", "event", "referral"]}', '{}', 'inside', 'route');
INSERT INTO leadflow.account (domain, status, suppress_reason) VALUES ('competitor.example', 'suppressed', 'competitor');

CREATE TEMP TABLE diligence AS
SELECT id AS rep_id,
       CASE WHEN name IN ('Gus', 'Mats', 'Vik') THEN 0.25    -- they sit on leads
            WHEN name LIKE '%(mgr%' THEN 0.9 ELSE 0.8 END AS p_work
  FROM leadflow.rep;
-- One day of the floor, hour by hour; returns a line for the progress report.
CREATE FUNCTION pg_temp.play_day(day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    hour timestamptz;
    started timestamptz := clock_timestamp();
    l record;
    n int;
    outcome leadflow.outcome;
    u float8;
    leads_before bigint := (SELECT count(*) FROM leadflow.lead);
    touches_before bigint := (SELECT count(*) FROM leadflow.touch);
    moved_before bigint := (SELECT count(*) FROM leadflow.decision
                             WHERE kind IN ('reassign_sla', 'escalate'));
BEGIN
    FOR hour IN SELECT generate_series(day::timestamp AT TIME ZONE 'UTC',
                                       day::timestamp AT TIME ZONE 'UTC' + interval '23 hours',
                                       '1 hour') LOOP
        PERFORM set_config('leadflow.clock', hour::text, false);
        -- leads arrive: more on weekdays and in the European and American day
        n := CASE WHEN extract(isodow FROM hour) > 5 THEN 2
                  WHEN extract(hour FROM hour) BETWEEN 7 AND 21 THEN 14 ELSE 3 END;
        INSERT INTO leadflow.lead (name, email, phone, company, country, source, campaign, attrs)
        SELECT 'Prospect ' || g, 'p' || (random() * 900000)::int || '@' || dom, '+1 555 01' || lpad((random() * 99)::int::text, 2, '0'),
               CASE WHEN dom IN ('gmail.com', 'yahoo.com') THEN NULL ELSE initcap(split_part(dom, '.', 1)) END,
               (ARRAY['US', 'US', 'DE', 'GB', 'IN', 'AT', 'US', 'CH', 'FR', 'US'])[1 + floor(random() * 10)::int],
               src,
               CASE WHEN random() < 0.02 THEN 'qa-test'
                    WHEN src = 'web_form' THEN (ARRAY['spring', 'webinar'])[1 + floor(random() * 2)::int]
                    WHEN src = 'purchased_list' THEN 'list-2026q1'
                    WHEN src = 'event' THEN 'trade-show' END,
               jsonb_build_object('employees', (ARRAY['1-10', '11-200', '201-1000', '1000+'])[1 + floor(random() * 4)::int])
          FROM generate_series(1, n) g,
               LATERAL (SELECT (ARRAY['acme.example', 'globex.example', 'initech.example', 'umbrella.example',
                                      'gmail.com', 'yahoo.com', 'hooli.example', 'stark.example',
                                      'wayne.example', 'wonka.example'])[1 + floor(random() * 10)::int] AS dom0,
                               (ARRAY['web_form', 'web_form', 'web_form', 'inbound_call', 'purchased_list',
                                      'purchased_list', 'event'])[1 + floor(random() * 7)::int] AS src) x,
               LATERAL (SELECT CASE WHEN random() < 0.03 THEN 'competitor.example' ELSE x.dom0 END AS dom) y;
        -- reps in their working hours take the touches that are due
        FOR l IN SELECT ld.id, ld.stage FROM leadflow.lead ld
                   JOIN leadflow.rep r ON r.id = ld.owner_id
                   JOIN diligence d ON d.rep_id = r.id
                  WHERE ld.stage IN ('new', 'working') AND ld.next_touch_at <= hour
                    AND leadflow.next_open(hour, r.hours, r.holidays) = hour
                    AND random() < d.p_work
                  ORDER BY ld.next_touch_at LIMIT 400 LOOP
            u := random();
            outcome := CASE WHEN u < 0.58 THEN 'not_reached' WHEN u < 0.82 THEN 'connected'
                            WHEN u < 0.86 THEN 'qualified' WHEN u < 0.93 THEN 'dead'
                            WHEN u < 0.95 THEN 'nurture' WHEN u < 0.97 THEN 'unsubscribed'
                            WHEN u < 0.99 THEN 'dead_other_contact' ELSE 'dead_referral' END;
            PERFORM leadflow.log_touch(l.id, 'call', outcome, NULL,
                CASE WHEN outcome = 'dead_referral'
                     THEN jsonb_build_object('name', 'Referral of ' || l.id, 'email', 'ref' || l.id || '@hooli.example') END);
        END LOOP;
        -- some qualified leads close the deal
        UPDATE leadflow.lead SET stage = 'converted', value = 1000 + (random() * 9000)::int
         WHERE stage = 'qualified' AND random() < 0.02;
        PERFORM leadflow.sweep();
    END LOOP;
    RETURN format('  %s: %s leads in, %s touches, %s taken away by the sweep (%s s)',
                  to_char(day, 'Dy DD Mon'),
                  (SELECT count(*) FROM leadflow.lead) - leads_before,
                  (SELECT count(*) FROM leadflow.touch) - touches_before,
                  (SELECT count(*) FROM leadflow.decision
                    WHERE kind IN ('reassign_sla', 'escalate')) - moved_before,
                  round(extract(epoch FROM clock_timestamp() - started)::numeric, 1));
END;
$$;
\echo 'Playing two weeks, hour by hour: leads arrive, reps work their lists (some sit on'
\echo 'theirs), the sweep runs every hour.  A line per day (15 to 30 s in all):'
\pset tuples_only on
\pset format unaligned
SELECT format('SELECT pg_temp.play_day(%L)', d::date)
  FROM generate_series(date '2026-03-30', date '2026-04-10', '1 day') d \gexec
\pset format aligned
\pset tuples_only off
SET leadflow.clock = '2026-04-10 22:00:00+00';   -- Friday night: the manager reads the reports

\echo
\echo '== What happened'
SELECT count(*) AS leads,
       count(*) FILTER (WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL) AS open_with_owner,
       count(*) FILTER (WHERE stage IN ('new', 'working') AND owner_id IS NULL) AS waiting,
       count(*) FILTER (WHERE stage = 'qualified') AS qualified,
       count(*) FILTER (WHERE stage = 'converted') AS converted,
       count(*) FILTER (WHERE stage = 'rejected') AS rejected,
       count(*) FILTER (WHERE stage = 'nurture') AS nurture,
       (SELECT count(*) FROM leadflow.touch) AS touches
  FROM leadflow.lead;
SELECT kind AS decision, count(*) FROM leadflow.decision GROUP BY 1 ORDER BY 2 DESC;

\echo
\echo '== Reps: pipeline against caps, overdue, and who wins (rep_pipeline)'
SELECT rep, open_leads AS open, max_open AS cap, overdue, sla_breached AS breached,
       touched_within_48h_rate AS touched_48h, won, closed, win_rate AS win
  FROM leadflow.rep_pipeline WHERE closed > 0 OR open_leads > 0
 ORDER BY win_rate DESC NULLS LAST, rep LIMIT 12;
\echo '... and who sat on leads: most SLA reassignments away from them'
SELECT f.name AS rep, count(*) AS leads_taken_away
  FROM leadflow.decision d JOIN leadflow.rep f ON f.id = d.from_rep
 WHERE d.kind IN ('reassign_sla', 'escalate') GROUP BY 1 ORDER BY 2 DESC LIMIT 5;

\echo
\echo '== Where good leads come from (source_performance)'
SELECT source, campaign, leads, contact_rate AS contacted, qualification_rate AS qualified,
       conversion_rate AS converted, median_minutes_to_first_touch AS first_touch_min
  FROM leadflow.source_performance WHERE leads >= 20 ORDER BY conversion_rate DESC LIMIT 10;

\echo
\echo '== Speed to lead by queue (minutes; SLA attainment as a fraction)'
SELECT queue, sum(leads) AS leads,
       round(avg(median_minutes_to_first_touch), 1) AS median_first_touch_min,
       round(sum(sla_met)::numeric / nullif(sum(leads), 0), 3) AS sla_met_share
  FROM leadflow.speed_to_lead GROUP BY queue ORDER BY queue;

\echo
\echo '== Why leads were rejected (reject_reasons, top 6)'
SELECT reason, sum(leads) AS leads FROM leadflow.reject_reasons GROUP BY 1 ORDER BY 2 DESC LIMIT 6;

\echo
\echo '== Fairness of the weighted inside-sales queue (share of leads vs share of weight)'
SELECT queue, rep, weight, weight_share, assignment_share, share_vs_weight
  FROM leadflow.fairness WHERE queue = 'inside' ORDER BY rep;

\echo
\echo '== Capacity per queue'
SELECT queue, members, available_members AS available, seats, open_leads, free_seats,
       new_per_day_capacity AS intake_per_day, inflow_per_day, backlog
  FROM leadflow.capacity ORDER BY queue;

\echo
\echo '== Next month: 60 conversions need how many leads? (leads_needed)'
SELECT * FROM leadflow.leads_needed(60);
SELECT * FROM leadflow.leads_needed(20, 'inbound_call');

\echo
\echo '== Monday morning for Ana (work_list, top 5)'
SET leadflow.clock = '2026-04-13 13:00:00+00';   -- Monday 09:00 in New York
SELECT priority, lead_id, company, stage, next_channel, next_step, due, minutes_overdue
  FROM leadflow.work_list WHERE rep = 'Ana' ORDER BY priority LIMIT 5;

\echo
\echo '== Every decision explains itself: the last SLA reassignment'
SELECT d.lead_id, f.name AS taken_from, t.name AS given_to, d.queue, d.reason,
       (SELECT string_agg(format('%s: %s', r.name, coalesce(c->>'reason', 'chosen')), ', ')
          FROM jsonb_array_elements(d.candidates) c JOIN leadflow.rep r ON r.id = (c->>'rep')::int)
           AS candidates
  FROM leadflow.decision d
  JOIN leadflow.rep f ON f.id = d.from_rep LEFT JOIN leadflow.rep t ON t.id = d.to_rep
 WHERE d.kind = 'reassign_sla' ORDER BY d.id DESC LIMIT 1 \gx

\echo 'Alerts for managers (and NOTIFY leadflow_alert to any listening front end):'
SELECT kind, count(*) FROM leadflow.alert GROUP BY 1 ORDER BY 2 DESC;
\echo 'Counters agree with the leads (no rows = all well):'
SELECT * FROM leadflow.check_counters();
RESET leadflow.clock;
-- Sessions that explore the demo afterwards see the floor as it stood on
-- Friday night, not as of today's date (when every open lead is overdue).
ALTER DATABASE leadflow_demo SET leadflow.clock = '2026-04-10 22:00:00+00';
