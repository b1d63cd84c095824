-- The replay: a CRM's history adopted by leadflow, then a week of new
-- traffic routed and swept with nobody touching anything.
--
-- Generated (setseed, so every run is the same): two years of history,
-- 5,000 deals of 30 reps in three US regions with their managers and a
-- head of sales, 100 accounts with names, sectors, sizes, regions and a
-- few parents -- 85 known by domain, 15 by name only -- and deals from
-- free-mail addresses that name their company (some misspelt).  The
-- history is imported at the default caps in one INSERT, account owners
-- are taken from it, and then for each hour of a week the hour's new
-- leads arrive and the sweep runs.  Then:
--   * no lead is without an owner while a rep could take it,
--   * every alert has a recipient,
--   * check_invariants() is empty,
--   * each reporting view equals an independent SQL recomputation,
-- and the figures the issue asks for: how the leads found their
-- accounts, and which leads ended without an owner and why.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
-- The checks below are big queries over small tables: compiling them
-- would take longer than running them.
SET jit = off;
SET leadflow.clock = '2026-03-09 07:00:00+00';   -- Monday, before anyone's working day
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.holiday_calendar;
SELECT setseed(0.1616);

------------------------------------------------------------------------
-- The sales floor: a head of sales, three regional managers, ten reps a
-- region, one US holiday calendar (two reps add days of their own).
------------------------------------------------------------------------
INSERT INTO leadflow.holiday_calendar (name, description) VALUES ('US', 'US federal holidays');
INSERT INTO leadflow.holiday (calendar, day, name)
SELECT 'US', d::date, n FROM (VALUES
    ('2024-05-27', 'Memorial Day'), ('2024-07-04', 'Independence Day'), ('2024-09-02', 'Labor Day'),
    ('2024-11-28', 'Thanksgiving'), ('2024-12-25', 'Christmas Day'), ('2025-01-01', 'New Year'),
    ('2025-01-20', 'MLK Day'), ('2025-02-17', 'Presidents Day'), ('2025-05-26', 'Memorial Day'),
    ('2025-06-19', 'Juneteenth'), ('2025-07-04', 'Independence Day'), ('2025-09-01', 'Labor Day'),
    ('2025-11-27', 'Thanksgiving'), ('2025-12-25', 'Christmas Day'), ('2026-01-01', 'New Year'),
    ('2026-01-19', 'MLK Day'), ('2026-02-16', 'Presidents Day'), ('2026-05-25', 'Memorial Day')) h(d, n);

CREATE TEMP TABLE region (r int PRIMARY KEY, name text, zone text);
INSERT INTO region VALUES (0, 'east', 'America/New_York'), (1, 'central', 'America/Chicago'),
                          (2, 'west', 'America/Los_Angeles');
INSERT INTO leadflow.rep (id, name, hours, calendar) VALUES
    (1, 'Head of Sales', 'mon-fri 08:00-18:00 America/New_York', 'US');
INSERT INTO leadflow.rep (id, name, hours, calendar, manager_id)
SELECT 2 + r, 'Manager ' || name, ('mon-fri 08:00-18:00 ' || zone)::leadflow.workhours, 'US', 1
  FROM region;
INSERT INTO leadflow.rep (id, name, hours, calendar, manager_id, holidays)
SELECT 11 + r * 10 + k, initcap(name) || ' rep ' || (k + 1),
       ((ARRAY['mon-fri 08:00-16:00 ', 'mon-fri 09:00-17:00 ', 'mon-fri 10:00-18:00 '])[1 + k % 3] || zone)::leadflow.workhours,
       'US', 2 + r,
       CASE WHEN r = 0 AND k = 4 THEN '{2026-03-10, 2026-03-11}'::date[]   -- a long weekend of one's own
            WHEN r = 2 AND k = 7 THEN '{2026-03-13}'::date[] ELSE '{}' END
  FROM region, generate_series(0, 9) k;
SELECT setval('leadflow.rep_id_seq', 40);
SELECT count(*) AS reps, count(*) FILTER (WHERE manager_id IS NOT NULL) AS with_a_manager,
       count(DISTINCT manager_id) AS managers
  FROM leadflow.rep;

-- Queues: an inbound call group of two senior closers per region (only
-- in their working hours, accounts held three days, then handed to the
-- account's territory by the rules); a territory queue per region, whose
-- manager hears of its leads; the default queue for everyone else.
INSERT INTO leadflow.queue (name, strategy, sticky_account, require_available, hold_for,
                            handoff_by_rules, first_touch_sla, manager_id)
    VALUES ('inbound', 'round_robin', true, true, '3 days', true, '15 minutes', 1);
INSERT INTO leadflow.queue (name, strategy, sticky_account, manager_id)
SELECT 'territory_' || name, 'load_balanced', true, 2 + r FROM region;
UPDATE leadflow.queue SET manager_id = 1, strategy = 'round_robin', sticky_account = false
 WHERE name = 'default';
INSERT INTO leadflow.queue_member (queue, rep_id)
SELECT 'territory_' || name, 11 + r * 10 + k FROM region, generate_series(0, 9) k;
INSERT INTO leadflow.queue_member (queue, rep_id)
SELECT 'inbound', 11 + r * 10 + k FROM region, generate_series(0, 1) k;
INSERT INTO leadflow.queue_member (queue, rep_id)
SELECT 'default', 11 + r * 10 + k FROM region, generate_series(5, 9) k;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'inbound calls', '{"source": "inbound_call"}', 'inbound');
INSERT INTO leadflow.rule (priority, name, match, queue)
SELECT 10 + r, name || ' accounts', jsonb_build_object('account', jsonb_build_object('region', name)),
       'territory_' || name FROM region;
INSERT INTO leadflow.rule (priority, name, match, queue)
SELECT 20 + r, name || ' prospects', jsonb_build_object('region', name), 'territory_' || name FROM region;

------------------------------------------------------------------------
-- 100 accounts: names with legal forms, sector, size, region; 85 with a
-- domain; the medical arms of the first ten belong to their systems arm.
------------------------------------------------------------------------
CREATE TEMP TABLE word (i int PRIMARY KEY, w text);
INSERT INTO word SELECT n - 1, w FROM unnest(ARRAY[
    'Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Wonka', 'Tyrell', 'Cyberdyne', 'Soylent',
    'Hooli', 'Vandelay', 'Massive', 'Dunder', 'Prestige', 'Oscorp', 'Gringott', 'Monarch', 'Aperture',
    'Nakatomi']) WITH ORDINALITY AS x(w, n);
CREATE TEMP TABLE arm (j int PRIMARY KEY, w text, sector text);
INSERT INTO arm VALUES (0, 'Medical', 'medical'), (1, 'Energy', 'energy'), (2, 'Logistics', 'logistics'),
                       (3, 'Foods', 'retail'), (4, 'Systems', 'software');
INSERT INTO leadflow.account (id, domain, name, attrs)
SELECT 1 + i * 5 + j,
       CASE WHEN (i * 5 + j) % 7 <> 3 OR i * 5 + j >= 98 THEN lower(word.w) || '-' || lower(arm.w) || '.test' END,
       word.w || ' ' || arm.w || (ARRAY[' Inc.', ', LLC', ' Corporation', ' Ltd', ' GmbH'])[1 + (i + j) % 5],
       jsonb_build_object('sector', arm.sector, 'size', (ARRAY[40, 250, 1200, 8000])[1 + (i * 3 + j) % 4],
                          'region', (SELECT name FROM region WHERE r = (i + j) % 3))
  FROM word, arm;
SELECT setval('leadflow.account_id_seq', 100);
UPDATE leadflow.account c SET parent_id = p.id
  FROM leadflow.account p
 WHERE c.id <= 50 AND (c.id - 1) % 5 = 0 AND p.id = c.id + 4;
SELECT count(*) AS accounts, count(domain) AS with_domain, count(*) - count(domain) AS name_only,
       count(parent_id) AS with_parent
  FROM leadflow.account;

-- What a company name looks like in the CRM: as the account has it, in
-- capitals with another legal form, or misspelt (a letter dropped).
CREATE FUNCTION pg_temp.spelling(name text, how int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE how
        WHEN 0 THEN name
        WHEN 1 THEN upper(split_part(name, ' ', 1) || ' ' || split_part(replace(name, ',', ''), ' ', 2)) || ', Inc'
        ELSE left(name, 3) || substr(name, 5)
    END
$$;

-- Company names are also matched by similarity (pg_trgm), from the import on.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SET leadflow.account_similarity = 0.5;

------------------------------------------------------------------------
-- Two years of history: 5,000 deals.  Old ones are mostly closed; the
-- last weeks' are mostly open.  70% come from the account's domain, 20%
-- from free mail with the company named, 10% with no email at all.  One
-- rep, East rep 1, sits on 160 open deals: more than the default cap.
------------------------------------------------------------------------
CREATE TEMP TABLE history AS
SELECT g,
       '2024-03-09 07:00+00'::timestamptz + (random() * interval '729 days') AS created_at,
       1 + floor(random() * 100)::int AS account,
       random() AS how_found, random() AS who, random() AS fate, random() AS spelt
  FROM generate_series(1, 5000) g;
INSERT INTO history
SELECT 5000 + g, '2025-10-01 07:00+00'::timestamptz + (random() * interval '150 days'),
       1 + floor(random() * 100)::int, random(), -1, 0.5, random()
  FROM generate_series(1, 160) g;

WITH imported AS (
INSERT INTO leadflow.lead (external_id, created_at, source, email, phone, company, country,
                           owner_id, queue, stage, touches, last_touch_at, cadence_step, reject_reason)
SELECT 'crm-' || h.g, h.created_at,
       (ARRAY['web_form', 'inbound_call', 'event', 'purchased_list', 'referral'])[1 + h.g % 5],
       CASE WHEN h.how_found < 0.7 AND a.domain IS NOT NULL THEN 'deal' || h.g || '@' || a.domain
            WHEN h.how_found < 0.9 THEN 'deal' || h.g || '@' || (ARRAY['gmail.com', 'yahoo.com', 'outlook.com'])[1 + h.g % 3]
       END,
       CASE WHEN h.how_found >= 0.9 THEN '+1 555 ' || lpad(h.g::text, 7, '0') END,
       pg_temp.spelling(a.name, CASE WHEN h.spelt < 0.7 THEN 0 WHEN h.spelt < 0.9 THEN 1 ELSE 2 END),
       'US',
       CASE WHEN h.who < 0 THEN 11 ELSE 11 + (a.attrs ->> 'region' = 'central')::int * 10
                                           + (a.attrs ->> 'region' = 'west')::int * 20 + floor(h.who * 10)::int END,
       'territory_' || (a.attrs ->> 'region'),
       st.stage,
       CASE WHEN st.stage = 'new' THEN 0 ELSE 1 + h.g % 6 END,
       CASE WHEN st.stage <> 'new' THEN least(h.created_at + interval '3 days', '2026-03-06 20:00+00') END,
       CASE WHEN st.stage = 'working' THEN 1 + h.g % 5 ELSE 0 END,
       CASE WHEN st.stage = 'rejected' THEN (ARRAY['no budget', 'no need', 'went with a competitor'])[1 + h.g % 3] END
  FROM history h
  JOIN leadflow.account a ON a.id = h.account
  CROSS JOIN LATERAL (SELECT (CASE
           WHEN h.created_at > '2026-02-01' AND h.fate < 0.6 OR h.fate < 0.04 OR h.who < 0
               THEN CASE WHEN h.g % 3 = 0 THEN 'new' ELSE 'working' END
           WHEN h.fate < 0.22 THEN 'converted'
           WHEN h.fate < 0.28 THEN 'qualified'
           WHEN h.fate < 0.45 THEN 'nurture'
           ELSE 'rejected' END)::leadflow.stage AS stage) st
 ORDER BY h.created_at, h.g
RETURNING 1)
SELECT count(*) AS imported_deals FROM imported;
SELECT stage IN ('new', 'working') AS open, count(*) FROM leadflow.lead GROUP BY 1 ORDER BY 1;
-- Imported at the default caps: nobody was refused, East rep 1 holds more
-- than a cap allows, and nothing of the history counts as new today.
SELECT rep, open_leads, max_open, new_today, over_cap FROM leadflow.rep_pipeline
 WHERE over_cap OR new_today > 0 ORDER BY rep_id;
SELECT count(*) FILTER (WHERE stage IN ('new', 'working') AND next_touch_at IS NOT NULL
                          AND sla_due_at >= leadflow.now() AND assigned_at IS NOT NULL) AS open_with_a_plan,
       count(*) FILTER (WHERE stage IN ('new', 'working')) AS open
  FROM leadflow.lead;
-- The account owners, from the history.
SELECT leadflow.set_account_owners() AS accounts_given_owners;
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- A week of new traffic, and the sweep every hour; nobody touches
-- anything.
------------------------------------------------------------------------
CREATE TEMP TABLE sweeps (hour int, action text, leads int);
CREATE TEMP TABLE arrivals AS
SELECT h AS hour, g,
       random() AS kind, random() AS pick, random() AS src, random() AS spelt
  FROM generate_series(0, 167) h,
       LATERAL generate_series(1, CASE WHEN h / 24 >= 5 THEN 1                           -- the weekend
                                       WHEN (h + 7) % 24 BETWEEN 13 AND 23 THEN 15       -- US office hours
                                       ELSE 2 END) g;
SELECT count(*) AS new_leads FROM arrivals;

DO $$
DECLARE
    hr int;
    at timestamptz;
BEGIN
    FOR hr IN 0..167 LOOP
        at := '2026-03-09 07:00:00+00'::timestamptz + hr * interval '1 hour';
        PERFORM set_config('leadflow.clock', at::text, false);
        INSERT INTO leadflow.lead (external_id, created_at, source, email, phone, company, country, attrs)
        SELECT 'new-' || x.hour || '-' || x.g, at,
               (ARRAY['web_form', 'web_form', 'inbound_call', 'purchased_list', 'event', 'referral'])[1 + floor(x.src * 6)::int],
               CASE WHEN x.kind < 0.40 THEN 'buyer' || x.hour || '_' || x.g || '@' || coalesce(a.domain, 'gmail.com')
                    WHEN x.kind < 0.60 THEN 'buyer' || x.hour || '_' || x.g || '@gmail.com'
                    WHEN x.kind < 0.90 THEN 'buyer' || x.hour || '_' || x.g || '@newco' || floor(x.pick * 300)::int || '.test'
                    WHEN x.kind < 0.95 THEN 'buyer' || x.hour || '_' || x.g || '@hotmail.com'
                    ELSE (SELECT o.email FROM leadflow.lead o WHERE o.stage IN ('new', 'working') AND o.email IS NOT NULL
                           ORDER BY o.id OFFSET floor(x.pick * 400)::int LIMIT 1)
               END,
               CASE WHEN x.kind >= 0.55 AND x.kind < 0.60 THEN '+1 555 9' || lpad((x.hour * 100 + x.g)::text, 6, '0') END,
               CASE WHEN x.kind < 0.60 THEN pg_temp.spelling(a.name, CASE WHEN x.spelt < 0.6 THEN 0 WHEN x.spelt < 0.8 THEN 1 ELSE 2 END)
                    WHEN x.kind < 0.90 THEN 'Newco ' || floor(x.pick * 300)::int || ' Inc' END,
               'US',
               jsonb_build_object('region', (ARRAY['east', 'central', 'west'])[1 + floor(x.src * 3 + x.pick * 7)::int % 3])
          FROM arrivals x
          LEFT JOIN leadflow.account a ON a.id = 1 + floor(x.pick * 100)::int
         WHERE x.hour = hr
         ORDER BY x.g;
        INSERT INTO sweeps SELECT hr, s.action, s.leads FROM leadflow.sweep(at) s;
    END LOOP;
END;
$$;
SET leadflow.clock = '2026-03-16 06:59:59+00';   -- the end of the week

SELECT action, sum(leads) AS leads FROM sweeps GROUP BY 1 ORDER BY 1;
SELECT kind, count(*) FROM leadflow.decision GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------
-- How the leads found their accounts (the decision that first placed
-- each lead: its import, or its first routing).
------------------------------------------------------------------------
SELECT coalesce(d.account_match::text, '(none)') AS account_match,
       count(*) FILTER (WHERE l.external_id LIKE 'crm-%') AS history,
       count(*) FILTER (WHERE l.external_id LIKE 'new-%') AS new_traffic
  FROM leadflow.lead l
  JOIN LATERAL (SELECT account_match FROM leadflow.decision WHERE lead_id = l.id ORDER BY id LIMIT 1) d ON true
 GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------
-- No lead without an owner while a rep could take it: every open lead
-- without an owner has no member of its queue who is active, present,
-- under both caps (new today in the rep's own day) and, for the inbound
-- group, in working hours.  And why those leads wait.
------------------------------------------------------------------------
SELECT count(*) AS waiting_while_a_rep_could_take_it
  FROM leadflow.lead l
 WHERE l.stage IN ('new', 'working') AND l.owner_id IS NULL
   AND EXISTS (
       SELECT FROM leadflow.queue_member m
         JOIN leadflow.rep r ON r.id = m.rep_id
         JOIN leadflow.queue q ON q.name = m.queue
        WHERE m.queue = coalesce(l.queue, 'default')
          AND r.active AND (r.away_until IS NULL OR r.away_until <= leadflow.now())
          AND (SELECT count(*) FROM leadflow.lead o WHERE o.owner_id = r.id AND o.stage IN ('new', 'working')) < r.max_open
          AND coalesce((SELECT rl.new_count FROM leadflow.rep_load rl
                         WHERE rl.rep_id = r.id
                           AND rl.new_day = (leadflow.now() AT TIME ZONE leadflow.workhours_zone(r.hours))::date), 0)
              < r.max_new_per_day
          AND (NOT q.require_available
               OR leadflow.next_open(leadflow.now(), r.hours, leadflow.rep_holidays(r)) = leadflow.now()));
SELECT coalesce(w.queue, '(none)') AS queue, count(DISTINCT w.id) AS waiting,
       string_agg(DISTINCT e.reason, ', ') AS members_passed_over_for
  FROM leadflow.lead w, leadflow.explain(w.id) e
 WHERE w.stage IN ('new', 'working') AND w.owner_id IS NULL
 GROUP BY 1 ORDER BY 1;
-- Nothing the sweep touched went to a backlog: waiting leads never had an owner.
SELECT count(*) AS waiting_leads_that_had_an_owner
  FROM leadflow.lead l
 WHERE l.stage IN ('new', 'working') AND l.owner_id IS NULL
   AND EXISTS (SELECT FROM leadflow.decision d WHERE d.lead_id = l.id AND d.to_rep IS NOT NULL);

-- Every alert has a recipient.
SELECT kind, count(*) AS alerts, count(*) FILTER (WHERE rep_id IS NULL) AS without_recipient
  FROM leadflow.alert GROUP BY 1 ORDER BY 1;
SELECT * FROM leadflow.check_invariants();
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Each view against an independent recomputation over the same rows:
-- the number of rows in one and not the other, both ways (0 = equal).
------------------------------------------------------------------------
CREATE TEMP VIEW own_lead AS   -- leads that are not someone we already had
SELECT * FROM leadflow.lead
 WHERE reject_reason IS NULL
    OR (reject_reason NOT LIKE 'duplicate of lead %' AND reject_reason NOT LIKE 'merged into lead %');
CREATE FUNCTION pg_temp.frac(a bigint, b bigint) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b = 0 THEN NULL ELSE round(a::numeric / b, 4) END $$;
CREATE FUNCTION pg_temp.one(b boolean) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b THEN 1 ELSE 0 END $$;
CREATE FUNCTION pg_temp.differ(view_query text, recomputed text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('WITH v AS MATERIALIZED (%s), r AS MATERIALIZED (%s)'
                   ' SELECT count(*) FROM ((TABLE v EXCEPT ALL TABLE r) UNION ALL (TABLE r EXCEPT ALL TABLE v)) d',
                   view_query, recomputed) INTO n;
    RETURN n;
END $$;

SELECT 'rep_pipeline' AS view, pg_temp.differ(
    'SELECT rep_id, open_leads, max_open, new_today, over_cap, overdue, sla_breached, touched_within_48h,
            won, closed, win_rate, converted, leads, conversion_rate FROM leadflow.rep_pipeline',
    $q$SELECT r.id, x.open, r.max_open, x.new_today, x.open > r.max_open OR x.new_today > r.max_new_per_day,
              x.overdue, x.breached, x.touched, x.won, x.closed, pg_temp.frac(x.won, x.closed),
              x.converted, x.open + x.closed, pg_temp.frac(x.converted, x.open + x.closed)
         FROM leadflow.rep r,
         LATERAL (SELECT
             (SELECT count(*) FROM leadflow.lead l WHERE l.owner_id = r.id AND l.stage IN ('new', 'working')) AS open,
             -- the seats given today in the rep's day (the imports were history)
             (SELECT count(*) FROM leadflow.decision d
               WHERE d.to_rep = r.id AND d.kind IN ('assign', 'reassign_sla', 'handoff', 'escalate')
                 AND (d.at AT TIME ZONE leadflow.workhours_zone(r.hours))::date
                     = (leadflow.now() AT TIME ZONE leadflow.workhours_zone(r.hours))::date) AS new_today,
             (SELECT count(*) FROM leadflow.lead l WHERE l.owner_id = r.id AND l.stage IN ('new', 'working')
                 AND l.next_touch_at < leadflow.now()) AS overdue,
             (SELECT count(*) FROM leadflow.lead l WHERE l.owner_id = r.id AND l.stage IN ('new', 'working')
                 AND l.sla_due_at < leadflow.now()) AS breached,
             (SELECT count(*) FROM leadflow.lead l WHERE l.owner_id = r.id AND l.stage IN ('new', 'working')
                 AND l.last_touch_at >= leadflow.now() - interval '2 days') AS touched,
             (SELECT count(*) FROM own_lead l WHERE l.owner_id = r.id AND l.stage IN ('qualified', 'converted')) AS won,
             (SELECT count(*) FROM own_lead l WHERE l.owner_id = r.id AND l.stage = 'converted') AS converted,
             (SELECT count(*) FROM own_lead l WHERE l.owner_id = r.id AND l.stage NOT IN ('new', 'working')) AS closed) x$q$)
    AS rows_differ
UNION ALL
SELECT 'source_performance', pg_temp.differ(
    'SELECT source, campaign, leads, contacted, qualified, converted, rejected, contact_rate,
            qualification_rate, conversion_rate, median_minutes_to_first_touch FROM leadflow.source_performance',
    $q$SELECT coalesce(source, '(none)'), coalesce(campaign, '(none)'), count(*),
              sum(pg_temp.one(first_touch_at IS NOT NULL)), sum(pg_temp.one(stage IN ('qualified', 'converted'))),
              sum(pg_temp.one(stage = 'converted')), sum(pg_temp.one(stage = 'rejected')),
              pg_temp.frac(sum(pg_temp.one(first_touch_at IS NOT NULL)), count(*)),
              pg_temp.frac(sum(pg_temp.one(stage IN ('qualified', 'converted'))), count(*)),
              pg_temp.frac(sum(pg_temp.one(stage = 'converted')), count(*)),
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_touch_at - created_at)) / 60)::numeric, 1)
         FROM own_lead GROUP BY 1, 2$q$)
UNION ALL
SELECT 'funnel', pg_temp.differ(
    'SELECT campaign, leads, assigned, contacted, ever_qualified, converted, contact_rate,
            ever_qualified_rate, conversion_rate FROM leadflow.funnel',
    $q$SELECT c, n, a, t, q, v, pg_temp.frac(t, n), pg_temp.frac(q, n), pg_temp.frac(v, n)
         FROM (SELECT coalesce(l.campaign, '(none)') AS c, count(*) AS n,
                      sum(pg_temp.one(l.owner_id IS NOT NULL OR l.assigned_at IS NOT NULL)) AS a,
                      sum(pg_temp.one(l.first_touch_at IS NOT NULL)) AS t,
                      sum(pg_temp.one(l.stage IN ('qualified', 'converted')
                           OR l.id IN (SELECT lead_id FROM leadflow.stage_history WHERE to_stage = 'qualified'))) AS q,
                      sum(pg_temp.one(l.stage = 'converted')) AS v
                 FROM own_lead l GROUP BY 1) f$q$)
UNION ALL
SELECT 'speed_to_lead', pg_temp.differ(
    'SELECT queue, rep, leads, median_minutes_to_assignment, p90_minutes_to_assignment,
            median_minutes_to_first_touch, p90_minutes_to_first_touch, touched, sla_met, sla_attainment
       FROM leadflow.speed_to_lead',
    $q$SELECT queue, rep, count(*),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a)::numeric, 1),
              round(percentile_cont(0.9) WITHIN GROUP (ORDER BY a)::numeric, 1),
              round(percentile_cont(0.5) WITHIN GROUP (ORDER BY t)::numeric, 1),
              round(percentile_cont(0.9) WITHIN GROUP (ORDER BY t)::numeric, 1),
              count(t), sum(pg_temp.one(here AND first_touch_at <= due)),
              pg_temp.frac(sum(pg_temp.one(here AND first_touch_at <= due)),
                           sum(pg_temp.one(here OR (first_touch_at IS NULL AND due < leadflow.now()))))
         FROM (SELECT coalesce(l.queue, '(none)') AS queue, r.name AS rep, l.first_touch_at,
                      extract(epoch FROM l.assigned_at - l.created_at) / 60 AS a,
                      extract(epoch FROM l.first_touch_at - l.created_at) / 60 AS t,
                      l.first_touch_at >= l.assigned_at AS here,
                      leadflow.add_business_time(l.assigned_at, q.first_touch_sla, r.hours,
                          r.holidays || ARRAY(SELECT h.day FROM leadflow.holiday h WHERE h.calendar = r.calendar)) AS due
                 FROM leadflow.lead l
                 JOIN leadflow.rep r ON r.id = l.owner_id
                 JOIN leadflow.queue q ON q.name = coalesce(l.queue, 'default')
                WHERE l.assigned_at IS NOT NULL) s
        GROUP BY 1, 2$q$)
UNION ALL
SELECT 'reject_reasons', pg_temp.differ(
    'SELECT reason, source, campaign, leads, share_of_rejected FROM leadflow.reject_reasons',
    $q$SELECT split_part(coalesce(reject_reason, '(none)'), ':', 1), coalesce(source, '(none)'),
              coalesce(campaign, '(none)'), count(*),
              pg_temp.frac(count(*), (SELECT count(*) FROM leadflow.lead WHERE stage = 'rejected'))
         FROM leadflow.lead WHERE stage = 'rejected' GROUP BY 1, 2, 3$q$)
UNION ALL
SELECT 'overdue', pg_temp.differ(
    'SELECT lead_id, rep_id, queue, minutes_overdue, sla_breached, reassignments FROM leadflow.overdue',
    $q$SELECT l.id, l.owner_id, l.queue,
              greatest(0, round((extract(epoch FROM leadflow.now() - l.next_touch_at) / 60)::numeric, 1)),
              l.sla_due_at < leadflow.now(), l.reassignments
         FROM leadflow.lead l
        WHERE l.owner_id IS NOT NULL AND l.stage IN ('new', 'working')
          AND least(l.next_touch_at, l.sla_due_at) < leadflow.now()$q$)
UNION ALL
SELECT 'backlog', pg_temp.differ(
    'SELECT lead_id, queue, minutes_waiting, last_decision FROM leadflow.backlog',
    $q$SELECT l.id, coalesce(l.queue, '(not routed)'),
              round((extract(epoch FROM leadflow.now() - l.created_at) / 60)::numeric, 1),
              (SELECT d.reason FROM leadflow.decision d WHERE d.lead_id = l.id
                ORDER BY d.at DESC, d.id DESC LIMIT 1)
         FROM leadflow.lead l WHERE l.owner_id IS NULL AND l.stage IN ('new', 'working')$q$)
UNION ALL
SELECT 'fairness', pg_temp.differ(
    'SELECT queue, rep, weight, weight_share, assignments, assignment_share, share_vs_weight, times_eligible
       FROM leadflow.fairness',
    $q$WITH seen AS (SELECT d.queue, (c ->> 'rep')::int AS rep_id, count(*) AS times
                       FROM leadflow.decision d, jsonb_array_elements(d.candidates) c
                      WHERE (c ->> 'eligible')::boolean GROUP BY 1, 2),
            given AS (SELECT d.queue, d.to_rep AS rep_id, count(*) AS n FROM leadflow.decision d
                       WHERE d.kind IN ('assign', 'reassign_sla', 'handoff', 'escalate') GROUP BY 1, 2),
            m AS (SELECT m.queue, r.name, m.weight, coalesce(g.n, 0) AS a, coalesce(e.times, 0) AS te
                    FROM leadflow.queue_member m JOIN leadflow.rep r ON r.id = m.rep_id
                    LEFT JOIN given g ON g.queue = m.queue AND g.rep_id = m.rep_id
                    LEFT JOIN seen e ON e.queue = m.queue AND e.rep_id = m.rep_id)
       SELECT m.queue, m.name, m.weight, ws, m.a, sh, round(sh / nullif(ws, 0), 2), m.te
         FROM m,
         LATERAL (SELECT CASE WHEN m.te > 0 THEN pg_temp.frac(m.weight,
                             (SELECT sum(o.weight) FROM m o WHERE o.queue = m.queue AND o.te > 0)::bigint) END AS ws,
                         pg_temp.frac(m.a, (SELECT sum(o.a) FROM m o WHERE o.queue = m.queue)::bigint) AS sh) s$q$)
UNION ALL
SELECT 'capacity', pg_temp.differ(
    'SELECT queue, members, available_members, seats, open_leads, free_seats, new_per_day_capacity,
            inflow_per_day, backlog FROM leadflow.capacity',
    $q$SELECT q.name, (SELECT count(*) FROM leadflow.queue_member m WHERE m.queue = q.name),
              (SELECT count(*) FROM leadflow.queue_member m JOIN leadflow.rep r ON r.id = m.rep_id
                WHERE m.queue = q.name AND r.active AND coalesce(r.away_until <= leadflow.now(), true)),
              coalesce((SELECT sum(r.max_open) FROM leadflow.queue_member m JOIN leadflow.rep r ON r.id = m.rep_id
                         WHERE m.queue = q.name AND r.active), 0),
              coalesce((SELECT sum(o.n) FROM leadflow.queue_member m JOIN leadflow.rep r ON r.id = m.rep_id,
                               LATERAL (SELECT count(*) AS n FROM leadflow.lead l
                                         WHERE l.owner_id = r.id AND l.stage IN ('new', 'working')) o
                         WHERE m.queue = q.name AND r.active), 0),
              coalesce((SELECT sum(greatest(0, r.max_open - o.n)) FROM leadflow.queue_member m
                          JOIN leadflow.rep r ON r.id = m.rep_id,
                               LATERAL (SELECT count(*) AS n FROM leadflow.lead l
                                         WHERE l.owner_id = r.id AND l.stage IN ('new', 'working')) o
                         WHERE m.queue = q.name AND r.active), 0),
              coalesce((SELECT sum(r.max_new_per_day) FROM leadflow.queue_member m JOIN leadflow.rep r ON r.id = m.rep_id
                         WHERE m.queue = q.name AND r.active AND coalesce(r.away_until <= leadflow.now(), true)), 0),
              round((SELECT count(*) FROM leadflow.decision d
                      WHERE d.queue = q.name AND d.kind IN ('assign', 'backlog')
                        AND d.at > leadflow.now() - interval '7 days') / 7.0, 1),
              (SELECT count(*) FROM leadflow.lead l
                WHERE l.queue = q.name AND l.owner_id IS NULL AND l.stage IN ('new', 'working'))
         FROM leadflow.queue q$q$)
UNION ALL
SELECT 'duplicate_rates', pg_temp.differ(
    'SELECT source, campaign, leads, duplicates_of_open, returning_prospects, duplicate_rate FROM leadflow.duplicate_rates',
    $q$SELECT coalesce(source, '(none)'), coalesce(campaign, '(none)'), count(*),
              sum(pg_temp.one(reject_reason LIKE 'duplicate of lead %')),
              sum(pg_temp.one(duplicate_of IS NOT NULL AND coalesce(reject_reason NOT LIKE 'duplicate of lead %'
                                                                   AND reject_reason NOT LIKE 'merged into lead %', true))),
              round(sum(pg_temp.one(duplicate_of IS NOT NULL AND coalesce(reject_reason NOT LIKE 'merged into lead %', true)))::numeric
                    / count(*), 4)
         FROM leadflow.lead GROUP BY 1, 2$q$)
UNION ALL
SELECT 'work_list', pg_temp.differ(
    'SELECT rep_id, lead_id, priority, due, minutes_overdue, sla_breached FROM leadflow.work_list',
    $q$SELECT l.owner_id, l.id,
              (SELECT count(*) FROM leadflow.lead o
                WHERE o.owner_id = l.owner_id AND o.stage IN ('new', 'working')
                  -- o comes first or is l: due before not due, the most overdue first,
                  -- then the higher score, the earlier next touch, the lower id
                  AND (coalesce(o.next_touch_at <= leadflow.now(), false),
                       coalesce(CASE WHEN o.next_touch_at <= leadflow.now() THEN -extract(epoch FROM o.next_touch_at) END, 0),
                       o.score, -extract(epoch FROM o.next_touch_at), -o.id)
                      >= (coalesce(l.next_touch_at <= leadflow.now(), false),
                          coalesce(CASE WHEN l.next_touch_at <= leadflow.now() THEN -extract(epoch FROM l.next_touch_at) END, 0),
                          l.score, -extract(epoch FROM l.next_touch_at), -l.id)),
              l.next_touch_at <= leadflow.now(),
              greatest(0, floor(extract(epoch FROM leadflow.now() - l.next_touch_at) / 60))::integer,
              l.sla_due_at < leadflow.now()
         FROM leadflow.lead l WHERE l.owner_id IS NOT NULL AND l.stage IN ('new', 'working')$q$)
UNION ALL
SELECT 'leads_needed', pg_temp.differ(
    'SELECT closed_leads, converted, close_rate, leads_to_generate FROM leadflow.leads_needed(100)',
    $q$SELECT count(*), sum(pg_temp.one(stage = 'converted')), round(sum(pg_temp.one(stage = 'converted'))::numeric / count(*), 4),
              ceil(100 * count(*)::numeric / sum(pg_temp.one(stage = 'converted')))::bigint
         FROM own_lead WHERE stage IN ('converted', 'rejected', 'nurture')$q$);

RESET leadflow.account_similarity;
DROP EXTENSION pg_trgm;
RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
UPDATE leadflow.queue SET manager_id = NULL, strategy = 'round_robin', sticky_account = true WHERE name = 'default';
DELETE FROM leadflow.holiday_calendar;
