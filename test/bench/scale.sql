-- Scale: how routing cost grows when one dimension grows tenfold.  The
-- base is routing_setup.psql's shape (200 reps in 10 queues of mixed
-- strategies, half sticky; 30 rules) over a lead table already holding
-- 100,000 leads; then, one at a time, 2,000 reps (10 queues of 200),
-- 300 rules (the extra rules never match, so an unmatched lead tries all
-- 300: the worst case), and 1,000,000 leads already in the table; and
-- the base with the four extra indexes views.sql tries (their cost to
-- routing).  Each
-- variant times a routed INSERT ... SELECT of M leads (20,000; quick:
-- 5,000) next to the same rows into a bare table of the same size, in a
-- freshly configured database state, one session.  The base is measured
-- first and last, and cost_vs_base divides by the mean of the two.
\pset footer off
SET client_min_messages = warning;
SET leadflow.clock = '2026-03-09 15:00:00+00';   -- Monday, inside everyone's hours
SELECT CASE WHEN :'scale' = 'quick' THEN 5000 ELSE 20000 END AS m,
       CASE WHEN :'scale' = 'quick' THEN 10000 ELSE 100000 END AS preload \gset

CREATE TABLE bare_lead (LIKE leadflow.lead INCLUDING ALL);

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

-- A fresh state: nreps reps in 10 queues, nrules rules, npre leads already
-- routed (loaded as a restore would, counters set to match) in both tables.
CREATE PROCEDURE configure(nreps int, nrules int, npre int) LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.account,
             leadflow.rule, leadflow.queue_member, leadflow.member_state,
             leadflow.rep_load, leadflow.rep, bare_lead RESTART IDENTITY CASCADE;
    DELETE FROM leadflow.queue WHERE name <> 'default';
    INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day, skills)
    SELECT 'rep' || g,
           (ARRAY['mon-fri 08:00-18:00 America/New_York', 'mon-fri 08:00-18:00 Europe/Berlin',
                  'mon-fri 06:00-20:00 UTC'])[1 + g % 3]::leadflow.workhours,
           1000000, 1000000,
           CASE WHEN g % 4 = 0 THEN '{enterprise}'::text[] ELSE '{}' END
      FROM generate_series(1, nreps) g;
    INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for)
    SELECT 'q' || g,
           (ARRAY['round_robin', 'weighted', 'load_balanced', 'performance'])[1 + g % 4]::leadflow.strategy,
           g % 2 = 0, CASE WHEN g % 2 = 0 THEN interval '14 days' END
      FROM generate_series(0, 9) g;
    INSERT INTO leadflow.queue_member (queue, rep_id, weight)
    SELECT 'q' || ((id - 1) / (nreps / 10)), id, 1 + id % 3 FROM leadflow.rep;
    INSERT INTO leadflow.queue_member (queue, rep_id)
    SELECT 'default', id FROM leadflow.rep WHERE id % 10 = 0;
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
      FROM generate_series(1, nrules) g;
    IF npre > 0 THEN
        SET LOCAL session_replication_role = replica;
        INSERT INTO leadflow.lead (email, source, campaign, country, attrs, queue, owner_id,
                                   assigned_at, cadence, next_touch_at, sla_due_at, created_at)
        SELECT b.email, b.source, b.campaign, b.country, b.attrs, 'q0', 1 + g % nreps,
               '2026-03-02 09:00+00', leadflow.cadence_named('10x30'), '2026-03-09 16:00+00',
               '2026-03-10 16:00+00', '2026-03-02 09:00+00'
          FROM bench_rows(npre, 'pre') WITH ORDINALITY b(email, source, campaign, country, attrs, g);
        INSERT INTO bare_lead SELECT * FROM leadflow.lead;
        INSERT INTO leadflow.rep_load (rep_id, open_count)
        SELECT owner_id, count(*) FROM leadflow.lead GROUP BY owner_id
        ON CONFLICT (rep_id) DO UPDATE SET open_count = EXCLUDED.open_count;
    END IF;
END $$;

CREATE TABLE scale_results (variant text, reps int, rules int, preloaded int, leads int,
                            bare_s float8, routed_s float8);
CREATE PROCEDURE measure(variant text, nreps int, nrules int, npre int, n int,
                         view_indexes boolean DEFAULT false) LANGUAGE plpgsql AS $$
DECLARE
    b float8;
BEGIN
    CALL configure(nreps, nrules, npre);
    -- The extra indexes views.sql tries for the reporting views: what do
    -- they cost routing?
    DROP INDEX IF EXISTS leadflow.lead_open_owner_cover_idx, leadflow.lead_open_next_touch_idx,
                         leadflow.lead_open_sla_due_idx, leadflow.decision_given_idx;
    IF view_indexes THEN
        CREATE INDEX lead_open_owner_cover_idx ON leadflow.lead (owner_id)
            INCLUDE (next_touch_at, sla_due_at, last_touch_at) WHERE stage IN ('new', 'working');
        CREATE INDEX lead_open_next_touch_idx ON leadflow.lead (next_touch_at) WHERE stage IN ('new', 'working');
        CREATE INDEX lead_open_sla_due_idx ON leadflow.lead (sla_due_at) WHERE stage IN ('new', 'working');
        CREATE INDEX decision_given_idx ON leadflow.decision (queue, to_rep)
            WHERE kind IN ('assign', 'reassign_sla', 'handoff', 'escalate') AND to_rep IS NOT NULL;
    END IF;
    COMMIT;
    -- warm-up (not counted): 200 leads each
    INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(200, 'w');
    INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(200, 'w');
    COMMIT;
    ANALYZE;
    CHECKPOINT;
    b := timed(format('INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s)', n));
    COMMIT;
    CHECKPOINT;
    INSERT INTO scale_results
    SELECT variant, nreps, nrules, npre, n, b,
           timed(format('INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s)', n));
    COMMIT;
    IF EXISTS (SELECT FROM leadflow.check_counters()) THEN
        RAISE EXCEPTION 'counters wrong after %', variant;
    END IF;
END $$;

CALL measure('base', 200, 30, :preload, :m);
CALL measure('10x reps', 2000, 30, :preload, :m);
CALL measure('10x rules', 200, 300, :preload, :m);
CALL measure('10x leads in table', 200, 30, 10 * :preload, :m);
CALL measure('base + views.sql''s extra indexes', 200, 30, :preload, :m, true);
CALL measure('base, again', 200, 30, :preload, :m);   -- how much the machine drifted

\echo 'Routing cost at 10x (routed INSERT ... SELECT against a bare table of the same size, one session):'
SELECT s.variant, s.reps, s.rules, s.preloaded, s.leads,
       round(s.bare_s::numeric, 2) AS bare_s,
       round(s.routed_s::numeric, 2) AS routed_s,
       round((s.leads / s.routed_s)::numeric) AS leads_per_s,
       round((s.bare_s / s.routed_s)::numeric, 3) AS rate_vs_bare,
       round((s.routed_s * 1e6 / s.leads)::numeric) AS us_per_lead,
       round((s.routed_s / b.routed_s)::numeric, 2) AS cost_vs_base
  FROM scale_results s,
       (SELECT avg(routed_s) AS routed_s FROM scale_results WHERE variant IN ('base', 'base, again')) b
 ORDER BY s.ctid;
