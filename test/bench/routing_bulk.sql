-- Bulk routing: INSERT ... SELECT of N leads, routed by leadflow (200 reps,
-- 10 queues of mixed strategies, half of them sticky, 30 rules) against
-- the same rows inserted into an identical table without leadflow's
-- triggers.  Each size is measured for both in the same run.
\pset footer off
SET leadflow.clock = '2026-03-09 15:00:00+00';   -- Monday, inside everyone's hours

-- Configuration: 200 reps in 10 queues of 20, caps high enough that the
-- run measures routing, not the backlog.
INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day, skills)
SELECT 'rep' || g,
       (ARRAY['mon-fri 08:00-18:00 America/New_York', 'mon-fri 08:00-18:00 Europe/Berlin',
              'mon-fri 06:00-20:00 UTC'])[1 + g % 3]::leadflow.workhours,
       100000, 100000,
       CASE WHEN g % 4 = 0 THEN '{enterprise}'::text[] ELSE '{}' END
  FROM generate_series(1, 200) g;
INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for)
SELECT 'q' || g,
       (ARRAY['round_robin', 'weighted', 'load_balanced', 'performance'])[1 + g % 4]::leadflow.strategy,
       g % 2 = 0, CASE WHEN g % 2 = 0 THEN interval '14 days' END
  FROM generate_series(0, 9) g;
INSERT INTO leadflow.queue_member (queue, rep_id, weight)
SELECT 'q' || ((id - 1) / 20), id, 1 + id % 3 FROM leadflow.rep;
INSERT INTO leadflow.queue_member (queue, rep_id)
SELECT 'default', id FROM leadflow.rep WHERE id % 10 = 0;
-- 30 rules: campaigns, countries with a "not", sources; a few need skills.
INSERT INTO leadflow.rule (priority, name, match, require_skills, queue)
SELECT g, 'rule ' || g,
       CASE g % 3
         WHEN 0 THEN jsonb_build_object('campaign', 'c' || g)
         WHEN 1 THEN jsonb_build_object('country', jsonb_build_array('C' || g, 'D' || g),
                                        'not', jsonb_build_object('source', 'purchased_list'))
         ELSE jsonb_build_object('source', 's' || g, 'segment', jsonb_build_array('smb', 'mid'))
       END,
       CASE WHEN g % 10 = 7 THEN '{enterprise}'::text[] ELSE '{}' END,
       'q' || (g % 10)
  FROM generate_series(1, 30) g;

-- The baseline table: leadflow.lead's columns, defaults, constraints and
-- indexes, without its triggers.
CREATE TABLE bare_lead (LIKE leadflow.lead INCLUDING ALL);

-- The rows: 5,000 company domains (accounts), plus free-mail addresses.
CREATE FUNCTION bench_rows(n int, tag text DEFAULT '')
RETURNS TABLE (email text, source text, campaign text, country text, attrs jsonb)
LANGUAGE sql AS $$
    SELECT 'p' || g || tag || CASE WHEN g % 4 = 0 THEN '@gmail.com' ELSE '@d' || (g % 5000) || '.example' END,
           (ARRAY['web_form', 'purchased_list', 's2', 's5', 's8', 's11'])[1 + g % 6],
           'c' || (g % 40),
           (ARRAY['C1', 'D4', 'C7', 'US', 'DE'])[1 + g % 5],
           jsonb_build_object('segment', (ARRAY['smb', 'mid', 'ent'])[1 + g % 3], 'employees', g % 1000)
      FROM generate_series(1, n) g
$$;


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

\echo 'Bulk INSERT ... SELECT, one session (200 reps, 10 queues, 30 rules):'
SELECT r.kind, r.leads,
       round(r.seconds::numeric, 2) AS seconds,
       round((r.leads / r.seconds)::numeric) AS leads_per_s,
       round((b.seconds / r.seconds)::numeric, 3) AS rate_vs_bare
  FROM results r, results b WHERE b.kind = 'bare'
 ORDER BY r.seconds;

\echo 'What the routed run did:'
SELECT kind, count(*) FROM leadflow.decision GROUP BY 1 ORDER BY 1;
SELECT count(*) AS accounts FROM leadflow.account;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
