-- What if (issue 19, part 2): leadflow.backtest, backtest_queues and
-- backtest_leads replay a window of history through the routing core
-- under the configuration the calling transaction sees.  A draft with a
-- known outcome (round robin, then weights 1:3), cap drafts, the
-- identity over a generated history of every strategy, sticky accounts,
-- caps, business hours and the backlog (with the window starting inside
-- it), manual moves and a sweep reported as not replayed, that nothing
-- is written, bad input, and who may call it.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET leadflow.clock = '2026-03-02 09:00:00+00';
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.stage_history RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
UPDATE leadflow.queue SET strategy = 'round_robin', sticky_account = false WHERE name = 'default';

------------------------------------------------------------------------
-- A draft with a known outcome: 20 leads by round robin between two
-- reps, then weights 1:3.
------------------------------------------------------------------------
INSERT INTO leadflow.rep (name, max_new_per_day) VALUES ('Ann', 100), ('Bob', 100);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'default', id FROM leadflow.rep;
SET leadflow.clock = '2026-03-02 10:00:00+00';
INSERT INTO leadflow.lead (email) SELECT 'b' || i || '@x' || i || '.example' FROM generate_series(1, 20) i;
RESET leadflow.clock;
SELECT owner_id, count(*) FROM leadflow.lead GROUP BY 1 ORDER BY 1;

-- Unchanged, the backtest is the ledger.
SELECT * FROM leadflow.backtest('2026-03-02', '2026-03-03');
SELECT * FROM leadflow.backtest_queues('2026-03-02', '2026-03-03');
SELECT lead_id, actual_outcome, actual_rep_id, actual_queue, actual_reason,
       simulated_outcome, simulated_rep_id, simulated_queue, simulated_reason,
       same, not_replayed, config_differs, cap_refused
  FROM leadflow.backtest_leads('2026-03-02', '2026-03-03') WHERE lead_id <= 3;

-- The draft: weighted, Bob three times Ann's weight.  Smooth weighted
-- round robin gives exactly 5 and 15 of 20; each decision was taken under
-- another configuration than the draft's.
BEGIN;
UPDATE leadflow.queue SET strategy = 'weighted' WHERE name = 'default';
UPDATE leadflow.queue_member SET weight = 3 WHERE rep_id = 2;
SELECT rep_id, rep, actual, simulated, delta, cap_refusals, not_replayed, config_differs,
       expected_conversions_actual, expected_conversions_simulated
  FROM leadflow.backtest('2026-03-02', '2026-03-03');
SELECT string_agg(simulated_rep_id::text, '' ORDER BY lead_id) AS simulated_order,
       count(*) FILTER (WHERE same) AS same, bool_and(config_differs) AS config_differs
  FROM leadflow.backtest_leads('2026-03-02', '2026-03-03');
ROLLBACK;
-- Rolled back, the configuration is the ledger's again: 10 and 10.
SELECT rep_id, actual, simulated, delta FROM leadflow.backtest('2026-03-02', '2026-03-03');
-- A committed change routing does not read: every decision was taken
-- under an older version, and the replay is still the ledger.
UPDATE leadflow.rep SET email = 'ann@floor.example' WHERE name = 'Ann';
SELECT rep_id, actual, simulated, config_differs FROM leadflow.backtest('2026-03-02', '2026-03-03');
SELECT count(*) FILTER (WHERE same) AS same, count(*) FILTER (WHERE config_differs) AS config_differs
  FROM leadflow.backtest_leads('2026-03-02', '2026-03-03');

------------------------------------------------------------------------
-- Cap drafts: a lower daily cap, and a lower max_open.
------------------------------------------------------------------------
-- Ann may take 3 new leads a day: Bob takes the rest, and Ann is passed
-- over (at_max_new_per_day) for every lead after her third.
BEGIN;
UPDATE leadflow.rep SET max_new_per_day = 3 WHERE name = 'Ann';
SELECT rep_id, actual, simulated, delta, cap_refusals FROM leadflow.backtest('2026-03-02', '2026-03-03');
SELECT lead_id, actual_rep_id, simulated_rep_id, simulated_reason, cap_refused
  FROM leadflow.backtest_leads('2026-03-02', '2026-03-03') WHERE lead_id BETWEEN 5 AND 8;
ROLLBACK;
-- Two open leads each: four are assigned, sixteen wait in the backlog.
BEGIN;
UPDATE leadflow.rep SET max_open = 2;
SELECT rep_id, actual, simulated, delta, cap_refusals FROM leadflow.backtest('2026-03-02', '2026-03-03');
SELECT * FROM leadflow.backtest_queues('2026-03-02', '2026-03-03');
SELECT simulated_outcome, simulated_reason, count(*)
  FROM leadflow.backtest_leads('2026-03-02', '2026-03-03') GROUP BY 1, 2 ORDER BY 1, 2;
ROLLBACK;

------------------------------------------------------------------------
-- Identity: a generated history of four days (Monday 2 to Thursday 5
-- March), every strategy, a sticky queue with a hold, a queue that needs
-- reps in their working hours, reps in three time zones with small caps,
-- a rule needing a skill, a suppress rule; leads at four moments a day,
-- some closing, the backlog routed after each.  Replayed unchanged it is
-- the ledger, lead by lead, reasons and cap refusals included -- from
-- the start and from a moment inside it (the state at "from" rebuilt
-- from the ledger and the stage history).
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-01 12:00:00+00';
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.stage_history RESTART IDENTITY CASCADE;
INSERT INTO leadflow.rep (name, hours, max_open, max_new_per_day, skills) VALUES
    ('Ann', 'mon-fri 09:00-17:00 UTC', 6, 4, '{de}'),
    ('Bob', 'mon-fri 09:00-17:00 UTC', 8, 5, '{}'),
    ('Cid', 'mon-fri 09:00-17:00 America/New_York', 10, 6, '{}'),
    ('Dee', 'mon-fri 13:00-21:00 UTC', 5, 3, '{}'),
    ('Eve', 'mon-fri 09:00-17:00 Asia/Tokyo', 20, 9, '{de}'),
    ('Fay', 'mon-fri 09:00-17:00 UTC', 4, 2, '{de}');
INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for, require_available) VALUES
    ('rr', 'round_robin', false, NULL, false),
    ('wt', 'weighted', false, NULL, false),
    ('lb', 'load_balanced', false, NULL, false),
    ('perf', 'performance', false, NULL, false),
    ('acct', 'round_robin', true, '2 days', false),
    ('avail', 'round_robin', false, NULL, true);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('rr', 1, 1), ('rr', 2, 1), ('rr', 3, 1),
    ('wt', 2, 1), ('wt', 4, 2), ('wt', 5, 3),
    ('lb', 1, 1), ('lb', 3, 1), ('lb', 5, 1), ('lb', 6, 1),
    ('perf', 2, 1), ('perf', 3, 1), ('perf', 4, 1), ('perf', 5, 1),
    ('acct', 1, 1), ('acct', 2, 1), ('acct', 6, 1),
    ('avail', 3, 1), ('avail', 4, 1), ('avail', 5, 1),
    ('default', 5, 1);
INSERT INTO leadflow.rule (priority, name, match, queue, require_skills, action) VALUES
    (1, 'spam', '{"source": "spam"}', NULL, '{}', 'suppress'),
    (2, 'german', '{"source": "lb", "country": "DE"}', 'lb', '{de}', 'route'),
    (3, 'rr', '{"source": "rr"}', 'rr', '{}', 'route'),
    (3, 'wt', '{"source": "wt"}', 'wt', '{}', 'route'),
    (3, 'lb', '{"source": "lb"}', 'lb', '{}', 'route'),
    (3, 'perf', '{"source": "perf"}', 'perf', '{}', 'route'),
    (3, 'acct', '{"source": "acct"}', 'acct', '{}', 'route'),
    (3, 'avail', '{"source": "avail"}', 'avail', '{}', 'route');

-- A day of history: leads at four moments, some of them closing, the
-- backlog routed.  n numbers the leads.
CREATE TEMP SEQUENCE n;
CREATE FUNCTION pg_temp.leads(k integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO leadflow.lead (email, source, country)
    SELECT CASE WHEN s = 'acct' THEN 'p' || i || '@acme' || (i % 4) || '.example'
                WHEN i % 5 = 0 THEN 'p' || i || '@gmail.com'
                ELSE 'p' || i || '@firm' || i || '.example' END,
           s, CASE WHEN i % 3 = 0 THEN 'DE' ELSE 'US' END
      FROM (SELECT nextval('n') AS i FROM generate_series(1, k)) g,
           LATERAL (SELECT (ARRAY['rr', 'wt', 'lb', 'perf', 'acct', 'avail', 'spam', 'other'])[1 + (g.i % 8)] AS s) x
$$;
CREATE FUNCTION pg_temp.close_some(m integer) RETURNS void LANGUAGE sql AS $$
    UPDATE leadflow.lead
       SET stage = (ARRAY['converted', 'rejected', 'qualified', 'nurture'])[1 + (id % 4)]::leadflow.stage
     WHERE owner_id IS NOT NULL AND stage = 'new' AND id % m = 0
$$;
DO $$
DECLARE
    d timestamptz;
    t interval;
BEGIN
    FOR d IN SELECT generate_series(timestamptz '2026-03-02', '2026-03-05', '1 day') LOOP
        FOREACH t IN ARRAY ARRAY[interval '8 hours', '10 hours', '14 hours', '19 hours'] LOOP
            PERFORM set_config('leadflow.clock', (d + t)::text, false);
            PERFORM pg_temp.leads(10);
            PERFORM set_config('leadflow.clock', (d + t + interval '20 minutes')::text, false);
            PERFORM pg_temp.close_some(3);
            PERFORM set_config('leadflow.clock', (d + t + interval '40 minutes')::text, false);
            PERFORM leadflow.route_pending();
        END LOOP;
    END LOOP;
END;
$$;
RESET leadflow.clock;

-- What the ledger did: every strategy, account owners, backlogs.
SELECT d.queue, d.strategy, count(*) FILTER (WHERE d.kind = 'assign') AS assigned,
       count(*) FILTER (WHERE d.kind = 'backlog') AS backlogged,
       count(*) FILTER (WHERE d.reason = 'account_owner') AS to_owner,
       count(*) FILTER (WHERE d.kind = 'assign' AND d.at <> l.created_at) AS after_waiting
  FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS leads, count(DISTINCT created_at::date) AS days,
       count(*) FILTER (WHERE stage NOT IN ('new', 'working')) AS closed
  FROM leadflow.lead;

-- The replay: zero mismatches, the same reasons, the same cap refusals.
CREATE TEMP VIEW identity AS
WITH b AS (
    SELECT * FROM leadflow.backtest_leads('2026-03-02', '2026-03-06')
), ledger_refusals AS (
    SELECT d.lead_id, array_agg(DISTINCT (c ->> 'rep')::int ORDER BY (c ->> 'rep')::int) AS reps
      FROM leadflow.decision d, jsonb_array_elements(d.candidates::jsonb) c
     WHERE c ->> 'reason' IN ('at_max_open', 'at_max_new_per_day') GROUP BY 1
)
SELECT b.*, coalesce(r.reps, '{}') AS ledger_refused,
       (SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM unnest(b.cap_refused) x) AS replay_refused
  FROM b LEFT JOIN ledger_refusals r ON r.lead_id = b.lead_id;
SELECT actual_outcome, same, count(*),
       count(*) FILTER (WHERE actual_reason IS DISTINCT FROM simulated_reason) AS other_reason,
       count(*) FILTER (WHERE actual_at IS DISTINCT FROM simulated_at) AS other_time,
       count(*) FILTER (WHERE cardinality(ledger_refused) > 0) AS with_refusals,
       count(*) FILTER (WHERE ledger_refused <> replay_refused) AS other_refusals
  FROM identity GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) AS mismatches FROM identity WHERE NOT same OR not_replayed IS NOT NULL;
-- From Tuesday noon: counters, new leads of the day, turns, weights and
-- account owners as they stood then.
SELECT actual_outcome, same, count(*),
       count(*) FILTER (WHERE actual_reason IS DISTINCT FROM simulated_reason) AS other_reason
  FROM leadflow.backtest_leads('2026-03-03 12:00', '2026-03-06') GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM leadflow.backtest('2026-03-02', '2026-03-06');
-- conversion_rate: won / closed smoothed toward the floor's with 20 leads
SELECT bool_and(b.conversion_rate = round(((ld.won_count + 20 * f.rate) / (ld.closed_count + 20))::numeric, 4))
       AS rates_as_documented, count(*) AS reps
  FROM leadflow.backtest('2026-03-02', '2026-03-06') b
  JOIN leadflow.rep_load ld ON ld.rep_id = b.rep_id,
       (SELECT sum(won_count)::float8 / sum(closed_count) AS rate FROM leadflow.rep_load) f;
SELECT * FROM leadflow.backtest_queues('2026-03-02', '2026-03-06');

------------------------------------------------------------------------
-- What cannot be replayed: a manual move and a sweep's reassignments are
-- reported with their reason and applied as they happened, so the leads
-- after them still replay exactly.
------------------------------------------------------------------------
-- Friday: the week's open leads close; then leads, a manual move, a
-- sweep (which routes the backlog too), more leads.
SET leadflow.clock = '2026-03-06 08:30:00+00';
UPDATE leadflow.lead SET stage = 'rejected' WHERE owner_id IS NOT NULL AND stage = 'new';
SET leadflow.clock = '2026-03-06 09:00:00+00';
SELECT pg_temp.leads(16);
SET leadflow.clock = '2026-03-06 09:10:00+00';
SET leadflow.override_caps = on;
SELECT leadflow.assign(l.id, 5, 'the customer asked for Eve')
  FROM leadflow.lead l WHERE l.created_at = '2026-03-06 09:00:00+00' AND l.owner_id IS NOT NULL AND l.owner_id <> 5
 ORDER BY l.id LIMIT 1;
RESET leadflow.override_caps;
SET leadflow.clock = '2026-03-06 12:00:00+00';
SELECT action, sum(leads) FROM leadflow.sweep('2026-03-06 12:00:00+00') GROUP BY 1 ORDER BY 1;
SET leadflow.clock = '2026-03-06 13:00:00+00';
SELECT pg_temp.leads(16);
RESET leadflow.clock;
SELECT d.kind, count(*) FROM leadflow.decision d WHERE d.at >= '2026-03-06' GROUP BY 1 ORDER BY 1;
SELECT not_replayed, same, count(*) FROM leadflow.backtest_leads('2026-03-06', '2026-03-07')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT b.lead_id, b.actual_rep_id, b.not_replayed, d.kind, d.reason
  FROM leadflow.backtest_leads('2026-03-06', '2026-03-07') b
  JOIN leadflow.decision d ON d.lead_id = b.lead_id AND d.kind IN ('manual', 'reassign_sla')
 ORDER BY b.lead_id;
SELECT rep_id, actual, simulated, not_replayed FROM leadflow.backtest('2026-03-06', '2026-03-07');
SELECT not_replayed, same, count(*) FROM leadflow.backtest_leads('2026-03-02', '2026-03-07')
 GROUP BY 1, 2 ORDER BY 1, 2;

------------------------------------------------------------------------
-- It writes nothing: no row of any leadflow table, no counter, turn or
-- account owner, no sequence value, no alert or NOTIFY; inside a
-- transaction it never even gets a transaction id.  Read only is enough.
------------------------------------------------------------------------
CREATE FUNCTION pg_temp.state() RETURNS TABLE (what text, value text) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r' ORDER BY 1 LOOP
        what := 'rows of ' || r.relname;
        EXECUTE format('SELECT md5(coalesce(string_agg(t::text, %L ORDER BY t::text), %L)) FROM leadflow.%I t',
                       ',', '', r.relname) INTO value;
        RETURN NEXT;
    END LOOP;
    FOR r IN SELECT s.sequencename, s.last_value FROM pg_sequences s
              WHERE s.schemaname = 'leadflow' ORDER BY 1 LOOP
        what := 'sequence ' || r.sequencename;
        value := coalesce(r.last_value::text, 'unused');
        RETURN NEXT;
    END LOOP;
END;
$$;
CREATE TEMP TABLE before AS SELECT * FROM pg_temp.state();
SELECT count(*) FILTER (WHERE what LIKE 'rows of %') AS tables,
       count(*) FILTER (WHERE what LIKE 'sequence %') AS sequences FROM before;
LISTEN leadflow_alert;
SELECT sum(simulated) AS simulated FROM leadflow.backtest('2026-03-02', '2026-03-07');
BEGIN READ ONLY;
SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS written
  FROM pg_stat_xact_user_tables WHERE schemaname = 'leadflow' \gset
SELECT sum(simulated) AS simulated FROM leadflow.backtest('2026-03-02', '2026-03-07');
SELECT count(*) AS queues FROM leadflow.backtest_queues('2026-03-02', '2026-03-07');
SELECT count(*) AS leads FROM leadflow.backtest_leads('2026-03-02', '2026-03-07');
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_transaction_id;
SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) - :written AS rows_written
  FROM pg_stat_xact_user_tables WHERE schemaname = 'leadflow';
COMMIT;
UNLISTEN leadflow_alert;
SELECT b.what, b.value AS before, a.value AS after
  FROM before b FULL JOIN pg_temp.state() a ON a.what = b.what
 WHERE a.value IS DISTINCT FROM b.value;
-- A draft: the draft's own two rows (the member's, the audit's), nothing
-- more, and they go with it.
BEGIN;
UPDATE leadflow.queue_member SET weight = 5 WHERE queue = 'wt' AND rep_id = 2;
SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) AS written
  FROM pg_stat_xact_user_tables WHERE schemaname = 'leadflow' \gset
SELECT rep_id, actual, simulated FROM leadflow.backtest('2026-03-02', '2026-03-06') WHERE rep_id IN (2, 4, 5);
SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) - :written AS rows_written
  FROM pg_stat_xact_user_tables WHERE schemaname = 'leadflow';
ROLLBACK;
SELECT count(*) AS problems FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- Bad input.  NULL bounds and an empty window are errors; a window in
-- the future (or without leads) is an empty result: nothing happened in
-- it, which is an answer, not a mistake.
------------------------------------------------------------------------
SELECT * FROM leadflow.backtest(NULL, '2026-03-07');
SELECT :'SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.backtest_leads('2026-03-02', NULL);
SELECT :'SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.backtest('2026-03-07', '2026-03-02');
SELECT :'SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.backtest_queues('2026-03-07', '2026-03-07');
SELECT :'SQLSTATE' AS sqlstate;
SELECT count(*) AS leads FROM leadflow.backtest_leads('2036-01-01', '2036-02-01');
SELECT count(*) AS queues FROM leadflow.backtest_queues('2036-01-01', '2036-02-01');
SELECT sum(actual) AS actual, sum(simulated) AS simulated FROM leadflow.backtest('2036-01-01', '2036-02-01');

------------------------------------------------------------------------
-- Who may: managers and admins; a rep gets a permission error.
------------------------------------------------------------------------
CREATE ROLE lf_bt_rep;
GRANT leadflow_rep TO lf_bt_rep;
SET ROLE lf_bt_rep;
SELECT * FROM leadflow.backtest('2026-03-02', '2026-03-07');
SELECT :'SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.backtest_leads('2026-03-02', '2026-03-07');
SELECT :'SQLSTATE' AS sqlstate;
RESET ROLE;
SET ROLE leadflow_manager;
SELECT rep_id, actual, simulated FROM leadflow.backtest('2026-03-06', '2026-03-07');
RESET ROLE;
SET ROLE leadflow_admin;
SELECT count(*) AS queues FROM leadflow.backtest_queues('2026-03-06', '2026-03-07');
RESET ROLE;
SELECT p.proname, p.prosecdef AS security_definer, p.proconfig,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
  FROM pg_proc p WHERE p.pronamespace = 'leadflow'::regnamespace AND p.proname LIKE 'backtest%'
 ORDER BY 1;
DROP ROLE lf_bt_rep;
