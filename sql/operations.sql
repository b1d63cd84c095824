-- Operations: leadflow.health() with each check made to fail (or warn,
-- where that is its worst) and then pass, the record the sweep leaves,
-- record_invariants(), the metrics views, who may read what, and the
-- pg_cron functions' errors in a database pg_cron does not run in.
-- (pg_cron running for real: test/t/002_pg_cron_sweep.pl; not preloaded
-- and misspelt settings, and the exporter: test/t/007_prometheus_exporter.pl.)
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.sweep_stats, leadflow.sweep_action_total,
    leadflow.invariants_run RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';

SELECT d, leadflow.duration_text(d) FROM unnest(ARRAY[interval '0', '42.9 s', '70 s', '1 h',
    '1 h 30 min 12 s', '2 days 1 s', '1 day 3 h 4 min', '-5 s']) d;

-- Statuses of every check, and the detail and hint of those not ok.
CREATE FUNCTION pg_temp.statuses() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg("check" || '=' || status, ' ') FROM leadflow.health()
$$;
CREATE FUNCTION pg_temp.problems() RETURNS TABLE ("check" text, status text, detail text, hint text)
    LANGUAGE sql AS $$ SELECT * FROM leadflow.health() WHERE status <> 'ok' $$;

-- Nothing configured, nothing swept, nothing recorded.
SELECT * FROM leadflow.health();

-- A queue with two reps; rules route to it and escalate to "managers",
-- where nobody is.
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day) VALUES
    (1, 'Ana', 1, 10), (2, 'Ben', 5, 10), (3, 'Cy', 5, 10);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('managers', false);
INSERT INTO leadflow.queue (name, sticky_account, escalate_to) VALUES ('inside', false, 'managers');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('inside', 1), ('inside', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'inside');
SELECT * FROM pg_temp.problems() WHERE "check" = 'unstaffed_queues';
-- the default queue no longer counts (the rule takes every lead); a member
-- in "managers" who is inactive does not staff it; one away for 10 days
-- does not either; one back in 3 days does
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('managers', 3);
UPDATE leadflow.rep SET active = false WHERE id = 3;
SELECT * FROM pg_temp.problems() WHERE "check" = 'unstaffed_queues';
UPDATE leadflow.rep SET active = true, away_until = '2026-03-19 10:00+00' WHERE id = 3;
SELECT * FROM pg_temp.problems() WHERE "check" = 'unstaffed_queues';
-- holidays count too: away for 3 days and on holiday the whole week after
UPDATE leadflow.rep SET away_until = '2026-03-12 10:00+00',
    holidays = ARRAY(SELECT d::date FROM generate_series(date '2026-03-12', '2026-03-20', '1 day') d)
 WHERE id = 3;
SELECT * FROM pg_temp.problems() WHERE "check" = 'unstaffed_queues';
UPDATE leadflow.rep SET holidays = '{}' WHERE id = 3;
SELECT pg_temp.statuses();

-- Reps at a cap: Ana (max_open 1) takes the first lead.
INSERT INTO leadflow.lead (email) VALUES ('p1@acme.test');
SELECT * FROM pg_temp.problems() WHERE "check" = 'reps_at_cap';
-- and a new-per-day cap in the rep's own day
UPDATE leadflow.rep SET max_new_per_day = 0 WHERE id = 2;
SELECT * FROM pg_temp.problems() WHERE "check" = 'reps_at_cap';
-- at most ten are named
INSERT INTO leadflow.rep (id, name, max_open) SELECT g, 'Zed' || g, 0 FROM generate_series(10, 20) g;
SELECT detail FROM pg_temp.problems() WHERE "check" = 'reps_at_cap';
DELETE FROM leadflow.rep WHERE name LIKE 'Zed%';
UPDATE leadflow.rep SET max_new_per_day = 10 WHERE id = 2;

-- The backlog: Ben is away, Ana full; a lead waits.  Within the queue's
-- first-touch SLA (1 hour) a warning, past it a failure; an unrouted lead
-- (route_on_insert off) counts against the default queue's SLA.
UPDATE leadflow.rep SET away_until = '2026-03-20 00:00+00' WHERE id = 2;
INSERT INTO leadflow.lead (email) VALUES ('p2@acme.test');
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email) VALUES ('p3@acme.test');
RESET leadflow.route_on_insert;
SELECT id, queue, owner_id FROM leadflow.lead ORDER BY id;
SET leadflow.clock = '2026-03-09 10:30:00+00';
SELECT * FROM pg_temp.problems() WHERE "check" = 'backlog';
SET leadflow.clock = '2026-03-09 11:30:00+00';
SELECT * FROM pg_temp.problems() WHERE "check" = 'backlog';
SELECT * FROM leadflow.metrics_backlog ORDER BY queue;

-- Unacknowledged alerts (the backlog alert): an hour old warns, a day
-- old fails; acknowledged, they are gone.
SELECT id, kind FROM leadflow.alert ORDER BY id;
SELECT * FROM pg_temp.problems() WHERE "check" = 'unacknowledged_alerts';
SET leadflow.clock = '2026-03-10 11:00:00+00';
SELECT * FROM pg_temp.problems() WHERE "check" = 'unacknowledged_alerts';
SELECT count(*) FROM (SELECT leadflow.acknowledge_alert(id) FROM leadflow.alert) a;
SELECT * FROM pg_temp.problems() WHERE "check" = 'unacknowledged_alerts';

-- Settle the backlog: Ben is back, Ana may take more.
UPDATE leadflow.rep SET away_until = NULL WHERE id = 2;
UPDATE leadflow.rep SET max_open = 5 WHERE id = 1;
SELECT leadflow.route_pending();
UPDATE leadflow.lead SET queue = 'inside' WHERE queue IS NULL;   -- nobody routed p3
SELECT leadflow.route(3);
SELECT count(*) FROM (SELECT leadflow.acknowledge_alert(id) FROM leadflow.alert) a;

-- An open lead with an owner but no next touch: no work list asks for
-- it.  (Since 1.2 an import gets its follow-up plan; this one lost its
-- next touch by hand.)
INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('p4@acme.test', 2, 'inside');
UPDATE leadflow.lead SET next_touch_at = NULL WHERE id = 4;
SELECT id, owner_id, next_touch_at FROM leadflow.lead WHERE id = 4;
SELECT * FROM pg_temp.problems() WHERE "check" = 'no_next_touch';
SELECT (leadflow.log_touch(4, 'call', 'not_reached')).outcome;
SELECT next_touch_at IS NOT NULL AS has_next_touch FROM leadflow.lead WHERE id = 4;

-- check_invariants() as last recorded: a broken counter (by hand, as a
-- superuser) fails; mended and recorded again, ok; a day old, a warning.
UPDATE leadflow.rep_load SET open_count = open_count + 1 WHERE rep_id = 1;
SELECT leadflow.record_invariants();
SELECT violations, kinds FROM leadflow.invariants_run;
-- (when it ran and how long it took vary: masked)
SELECT "check", status,
       regexp_replace(detail, 'found (\d+) violations .* ago \(it took [0-9.]+ s\)', 'found \1 violations N ago (it took N s)') AS detail,
       hint
  FROM pg_temp.problems() WHERE "check" = 'invariants';
UPDATE leadflow.rep_load SET open_count = open_count - 1 WHERE rep_id = 1;
SELECT leadflow.record_invariants();
UPDATE leadflow.invariants_run SET checked_at = now() - interval '2 days', seconds = 14.96;
SELECT * FROM pg_temp.problems() WHERE "check" = 'invariants';
SELECT leadflow.record_invariants();

-- The sweep: each committed run is recorded (real time, whatever the
-- clock says); one run is not enough to know the interval.  Runs by
-- pg_cron are judged by their own record; here they are written by hand
-- (pg_cron runs them for real in test/t/002_pg_cron_sweep.pl).
SELECT * FROM pg_temp.problems() WHERE "check" = 'sweep';
SELECT action, leads FROM leadflow.sweep() WHERE leads > 0;
SELECT runs, cron_runs, last_started_at <= last_finished_at AS ordered,
       last_as_of = leadflow.now() AS as_of_recorded,
       last_finished_at > '2026-03-10 11:00:00+00' AS real_time
  FROM leadflow.sweep_stats;
SELECT "check", status, regexp_replace(detail, 'so far, .* ago', 'so far, N ago') AS detail, hint
  FROM pg_temp.problems() WHERE "check" = 'sweep';
-- a sweep that does not commit leaves no record
BEGIN;
SELECT count(*) FROM leadflow.sweep();
ROLLBACK;
SELECT runs FROM leadflow.sweep_stats;
-- pg_cron swept every minute until 10 minutes ago: a failure, with
-- where to look
BEGIN;
UPDATE leadflow.sweep_stats
   SET cron_runs = 40, last_cron_at = now() - interval '10 minutes',
       last_cron_finished_at = now() - interval '9 minutes 58 seconds', cron_gap = '1 minute';
SELECT * FROM pg_temp.problems() WHERE "check" = 'sweep';
-- on time, but slower than its interval: a warning
UPDATE leadflow.sweep_stats
   SET last_cron_at = now() - interval '70 seconds', last_cron_finished_at = now() - interval '5 seconds';
SELECT * FROM pg_temp.problems() WHERE "check" = 'sweep';
UPDATE leadflow.sweep_stats
   SET last_cron_at = now() - interval '30 seconds', last_cron_finished_at = now() - interval '29 seconds';
SELECT * FROM leadflow.health() WHERE "check" = 'sweep';
SELECT runs, cron_runs, last_duration_seconds >= 0 AS has_duration,
       last_finished_seconds_ago >= 0 AS has_age, last_cron_finished_seconds_ago
  FROM leadflow.metrics_sweep;
SELECT pg_temp.statuses();
COMMIT;

-- What the sweep moved is counted per action: Ana lets p1's SLA pass.
SET leadflow.clock = '2026-03-11 11:00:00+00';
SELECT action, leads FROM leadflow.sweep() WHERE leads > 0;
SELECT action, leads FROM leadflow.metrics_sweep_actions WHERE leads > 0 ORDER BY action;
SELECT * FROM leadflow.metrics_decisions WHERE decisions > 0 ORDER BY kind;
SELECT * FROM leadflow.metrics_reps;
SELECT * FROM leadflow.metrics_sla;
SELECT * FROM leadflow.metrics_health ORDER BY "check";

-- Who may read what.  The monitor reads the metrics views only; managers
-- and admins call health(); nobody but the sweep writes its record.
CREATE ROLE lf_test_monitor LOGIN IN ROLE leadflow_monitor;
CREATE ROLE lf_test_manager LOGIN IN ROLE leadflow_manager;
CREATE ROLE lf_test_admin LOGIN IN ROLE leadflow_admin;
CREATE ROLE lf_test_rep LOGIN IN ROLE leadflow_rep;
CREATE FUNCTION public.lf_test_try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;
SET ROLE lf_test_monitor;
SELECT stmt, lf_test_try(stmt) FROM unnest(ARRAY[
    'SELECT * FROM leadflow.metrics_backlog', 'SELECT * FROM leadflow.metrics_sla',
    'SELECT * FROM leadflow.metrics_decisions', 'SELECT * FROM leadflow.metrics_sweep',
    'SELECT * FROM leadflow.metrics_sweep_actions', 'SELECT * FROM leadflow.metrics_reps',
    'SELECT * FROM leadflow.metrics_health',
    'SELECT * FROM leadflow.health()', 'SELECT * FROM leadflow.health_checks',
    'SELECT id FROM leadflow.lead', 'SELECT name FROM leadflow.rep',
    'SELECT * FROM leadflow.sweep_stats', 'SELECT leadflow.record_invariants()']) stmt;
RESET ROLE;
SET ROLE lf_test_manager;
SELECT count(*) AS checks FROM leadflow.health();
SELECT leadflow.record_invariants();
SELECT lf_test_try($$SELECT leadflow.sweep_record(now(), now(), now(), true, '{}', '{}')$$);
SELECT lf_test_try('UPDATE leadflow.sweep_stats SET cron_runs = 0');
RESET ROLE;
SET ROLE lf_test_rep;
SELECT lf_test_try('SELECT * FROM leadflow.health()');
SELECT lf_test_try('SELECT * FROM leadflow.metrics_health');
RESET ROLE;

-- pg_cron lives in database "postgres" here (test/regress.conf): this
-- database's job is named after it, and an admin is told the command and
-- the grants a superuser makes once there.
SELECT leadflow.sweep_job_name();
SELECT leadflow.sweep_schedule_command('*/5 * * * *');
SET ROLE lf_test_admin;
SELECT leadflow.schedule_sweep('*/5 * * * *');
SELECT leadflow.unschedule_sweep();
SELECT leadflow.schedule_sweep('');
SELECT leadflow.schedule_sweep(NULL);
-- a schedule cannot smuggle SQL into the hint: it is quoted
SELECT leadflow.schedule_sweep($$* * * * *'); DROP TABLE x; --$$);
RESET ROLE;

DROP FUNCTION public.lf_test_try(text);
DROP ROLE lf_test_monitor, lf_test_manager, lf_test_admin, lf_test_rep;
RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.sweep_stats, leadflow.sweep_action_total,
    leadflow.invariants_run RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
