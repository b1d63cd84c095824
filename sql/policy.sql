-- Routing policy as data (issue 19, part 1): the configuration audit
-- (leadflow.config_change) of every configuration table and operation,
-- who may read it and that nobody may change it, decision.config_version,
-- and config_as_of() at several moments.
\set VERBOSITY default
SET timezone = 'UTC';
SELECT current_user AS superuser \gset

-- A clean floor, as of Sunday 2026-03-01.  Emptying the tables is itself
-- recorded (TRUNCATE and DELETE rows), so the audit explains every table
-- from here on.
SET leadflow.clock = '2026-03-01 09:00:00+00';
SELECT coalesce(max(id), 0) AS start FROM leadflow.config_change \gset
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.scoring_rule, leadflow.model,
    leadflow.stage_history, leadflow.qualification_criterion RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.freemail_domain WHERE NOT builtin;
DELETE FROM leadflow.country_calling_code WHERE NOT builtin;
UPDATE leadflow.queue SET strategy = 'round_robin', sticky_account = false WHERE name = 'default';

-- What the audit recorded since here: n counts from 1; "changed" is what
-- an UPDATE changed.  (That old and new hold the whole rows is shown by
-- rebuilding the tables from them, below.)
SELECT coalesce(max(id), 0) AS mark FROM leadflow.config_change \gset
CREATE TEMP VIEW audit AS
SELECT c.id - :mark AS n, c.id, c.table_name, c.op, c.key,
       CASE WHEN c.op = 'UPDATE'
            THEN (SELECT jsonb_object_agg(e.k, e.v) FROM jsonb_each(c.new) e(k, v)
                   WHERE c.old -> e.k IS DISTINCT FROM e.v) END AS changed,
       c.role_name, c.acting_role, c.txid
  FROM leadflow.config_change c
 WHERE c.id > :mark;
-- The clean-up's TRUNCATE (with what it cascaded to): one row per table.
SELECT table_name, op, key, old, new FROM leadflow.config_change
 WHERE id > :start AND id <= :mark AND op = 'TRUNCATE' ORDER BY id;

------------------------------------------------------------------------
-- Every configuration table, every operation.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-02 09:00:00+00';
-- reps: caps, hours, holidays, skills, active, away, manager, login
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day, hours) VALUES
    (1, 'Ada', 5, 20, 'mon-sun 00:00-24:00 UTC'),
    (2, 'Bob', 5, 20, 'mon-sun 00:00-24:00 UTC'),
    (3, 'Cy', 8, 20, 'mon-sun 00:00-24:00 UTC'),
    (9, 'Mia', 50, 50, 'mon-sun 00:00-24:00 UTC');
UPDATE leadflow.rep SET max_open = 6, max_new_per_day = 30 WHERE id = 1;
UPDATE leadflow.rep SET hours = 'mon-fri 08:00-18:00 Europe/Berlin', holidays = '{2026-04-03}' WHERE id = 2;
UPDATE leadflow.rep SET skills = '{german}' WHERE id = 2;
UPDATE leadflow.rep SET active = false, away_until = '2026-03-20 00:00+00' WHERE id = 2;
UPDATE leadflow.rep SET manager_id = 9 WHERE id = 1;
UPDATE leadflow.rep SET manager_id = 9 WHERE id = 3;
UPDATE leadflow.rep SET login = 'lf_pol_rep' WHERE id = 1;
UPDATE leadflow.rep SET max_open = max_open WHERE id = 1;   -- changes nothing: not recorded
DELETE FROM leadflow.rep WHERE id = 2;
-- queues, members and weights, rules
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('inside', 'round_robin', false);
UPDATE leadflow.queue SET strategy = 'weighted', first_touch_sla = '30 minutes' WHERE name = 'inside';
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('inside', 1, 1), ('inside', 3, 2);
UPDATE leadflow.queue_member SET weight = 3 WHERE queue = 'inside' AND rep_id = 3;
INSERT INTO leadflow.queue (name) VALUES ('spare');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('spare', 9);
DELETE FROM leadflow.queue_member WHERE queue = 'spare';
INSERT INTO leadflow.rule (id, priority, name, match, queue) VALUES
    (1, 1, 'web', '{"source": "web"}', 'inside'),
    (2, 5, 'spare', '{"source": "spare"}', 'spare');
UPDATE leadflow.rule SET match = '{"source": ["web", "form"]}' WHERE id = 1;
DELETE FROM leadflow.rule WHERE id = 2;
DELETE FROM leadflow.queue WHERE name = 'spare';
-- scoring rules, qualification criteria, free-mail domains, calling codes
INSERT INTO leadflow.scoring_rule (id, name, kind, match, points) VALUES (1, 'de', 'fit', '{"country": "DE"}', 10);
UPDATE leadflow.scoring_rule SET points = 15 WHERE id = 1;
DELETE FROM leadflow.scoring_rule WHERE id = 1;
INSERT INTO leadflow.qualification_criterion (name, attribute, allowed) VALUES ('budget', 'budget', '{yes}');
UPDATE leadflow.qualification_criterion SET allowed = '{yes,maybe}' WHERE name = 'budget';
DELETE FROM leadflow.qualification_criterion WHERE name = 'budget';
INSERT INTO leadflow.freemail_domain (domain) VALUES ('mail.test');
UPDATE leadflow.freemail_domain SET domain = 'post.test' WHERE domain = 'mail.test';
DELETE FROM leadflow.freemail_domain WHERE domain = 'post.test';
INSERT INTO leadflow.country_calling_code (country, calling_code, trunk_prefix) VALUES ('XK', '383', '0');
UPDATE leadflow.country_calling_code SET trunk_prefix = '' WHERE country = 'XK';
DELETE FROM leadflow.country_calling_code WHERE country = 'XK';
-- models (whatever columns a model has: the JSON names those it knows)
INSERT INTO leadflow.model
SELECT * FROM jsonb_populate_record(NULL::leadflow.model,
    '{"name": "policy", "trained_at": "2026-03-02 09:00+00", "kind": "naive_bayes", "features": ["source"],
      "params": {}, "positives": 1, "negatives": 1}');
UPDATE leadflow.model SET auc = 0.5 WHERE name = 'policy';
DELETE FROM leadflow.model WHERE name = 'policy';
-- accounts: a configured one (status, suppression) is recorded ...
INSERT INTO leadflow.account (id, domain, status, suppress_reason) VALUES (1, 'rival.test', 'suppressed', 'competitor');
UPDATE leadflow.account SET suppress_reason = 'competitor (since 2025)' WHERE id = 1;
INSERT INTO leadflow.account (id, domain) VALUES (2, 'acme.test');
UPDATE leadflow.account SET status = 'customer' WHERE id = 2;
UPDATE leadflow.account SET status = 'prospect' WHERE id = 2;
INSERT INTO leadflow.account (id, domain, status) VALUES (3, 'gone.test', 'customer');
DELETE FROM leadflow.account WHERE id = 3;
-- ... a prospect, its owner and routing's own accounts are not
INSERT INTO leadflow.account (id, domain) VALUES (4, 'plain.test');
UPDATE leadflow.account SET owner_id = 1, owned_until = '2026-04-01 00:00+00' WHERE id = 4;
UPDATE leadflow.account SET pursue_other_contacts = true WHERE id = 4;
DELETE FROM leadflow.account WHERE id = 4;
SELECT setval('leadflow.account_id_seq', 10);
SELECT n, table_name, op, key, changed FROM audit ORDER BY n;

-- Who, when, in which transaction.
SELECT count(*) AS rows, bool_and(at = '2026-03-02 09:00:00+00') AS at_the_clock,
       bool_and(role_name = :'superuser' AND acting_role = :'superuser') AS by_the_superuser,
       count(DISTINCT txid) AS transactions
  FROM leadflow.config_change WHERE id > :mark;
SELECT max(id) AS mark2 FROM leadflow.config_change \gset
BEGIN;
UPDATE leadflow.rep SET max_new_per_day = 25 WHERE id = 3;
UPDATE leadflow.queue_member SET weight = 2 WHERE queue = 'inside' AND rep_id = 3;
SELECT n, table_name, op, changed, txid = pg_current_xact_id() AS this_transaction
  FROM audit WHERE id > :mark2 ORDER BY n;
COMMIT;

-- TRUNCATE, table by table (rolled back): one row for the whole table.
BEGIN;
TRUNCATE leadflow.queue_member;
TRUNCATE leadflow.rule;
TRUNCATE leadflow.scoring_rule;
TRUNCATE leadflow.qualification_criterion;
TRUNCATE leadflow.freemail_domain;
TRUNCATE leadflow.country_calling_code;
TRUNCATE leadflow.model;
TRUNCATE leadflow.rep, leadflow.queue, leadflow.account CASCADE;
SELECT table_name, op, key, c.old, c.new FROM leadflow.config_change c
 WHERE txid = pg_current_xact_id() ORDER BY id;
ROLLBACK;

------------------------------------------------------------------------
-- Who may read it, and that nobody may change it.
------------------------------------------------------------------------
CREATE ROLE lf_pol_rep;
CREATE ROLE lf_pol_manager;
CREATE ROLE lf_pol_admin;
CREATE ROLE lf_pol_login;
GRANT leadflow_rep TO lf_pol_rep;
GRANT leadflow_manager TO lf_pol_manager;
GRANT leadflow_admin TO lf_pol_admin;
GRANT lf_pol_admin, lf_pol_manager TO lf_pol_login;

SELECT max(id) AS mark3 FROM leadflow.config_change \gset
SET ROLE lf_pol_rep;
SELECT count(*) FROM leadflow.config_change;
SELECT count(*) FROM leadflow.config_as_of('2026-03-02 10:00+00');
SELECT leadflow.current_config_version();
SELECT config_version FROM leadflow.decision;
RESET ROLE;

SET ROLE lf_pol_manager;
SELECT count(*) > 0 AS manager_reads FROM leadflow.config_change;
SELECT count(*) > 0 AS manager_rebuilds FROM leadflow.config_as_of('2026-03-02 10:00+00');
UPDATE leadflow.config_change SET role_name = 'nobody';
DELETE FROM leadflow.config_change;
INSERT INTO leadflow.config_change (at, role_name, acting_role, table_name, op, txid)
    VALUES (now(), 'x', 'x', 'rep', 'TRUNCATE', pg_current_xact_id());
TRUNCATE leadflow.config_change;
-- managers configure nothing, so they leave no trace either
UPDATE leadflow.rep SET max_open = 1 WHERE id = 1;
RESET ROLE;

-- An admin configures, and reads and rebuilds the audit, but cannot
-- change it, forge it, or keep a change out of it.
SET SESSION AUTHORIZATION lf_pol_login;
SET ROLE lf_pol_admin;
SELECT count(*) > 0 AS admin_reads FROM leadflow.config_change;
UPDATE leadflow.config_change SET role_name = 'nobody';
DELETE FROM leadflow.config_change WHERE id > :mark;
INSERT INTO leadflow.config_change (at, role_name, acting_role, table_name, op, txid)
    VALUES (now(), 'x', 'x', 'rep', 'TRUNCATE', pg_current_xact_id());
TRUNCATE leadflow.config_change;
SELECT nextval('leadflow.config_change_id_seq');
SET session_replication_role = replica;
ALTER TABLE leadflow.rep DISABLE TRIGGER config_audit;
SET check_function_bodies = off;   -- restore mode is a superuser's
SELECT leadflow.restoring(), leadflow.restoring_dump();
UPDATE leadflow.rep SET max_open = 7 WHERE id = 1;
RESET check_function_bodies;
RESET ROLE;
-- a change made by a SECURITY DEFINER function names the role that called it
RESET SESSION AUTHORIZATION;
CREATE FUNCTION public.lf_pol_raise_cap(which integer) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ UPDATE leadflow.rep SET max_open = max_open + 1 WHERE id = which $$;
ALTER FUNCTION public.lf_pol_raise_cap(integer) OWNER TO lf_pol_admin;
SET SESSION AUTHORIZATION lf_pol_login;
SET ROLE lf_pol_manager;
SELECT public.lf_pol_raise_cap(1);
RESET SESSION AUTHORIZATION;
SELECT n, table_name, op, changed, role_name, acting_role
  FROM audit WHERE id > :mark3 ORDER BY n;
DROP FUNCTION public.lf_pol_raise_cap(integer);

-- Not even a superuser changes it.
UPDATE leadflow.config_change SET role_name = 'nobody' WHERE id = :mark + 1;
DELETE FROM leadflow.config_change WHERE id = :mark + 1;
TRUNCATE leadflow.config_change;

------------------------------------------------------------------------
-- The configuration in force at any moment.
------------------------------------------------------------------------
-- Monday 09:00 (above): Ada 8 seats, Cy 8; "inside" weighted 1:2; rule
-- "web"; rival.test suppressed.
CREATE TEMP TABLE at_mon_rep AS SELECT * FROM leadflow.rep;
CREATE TEMP TABLE at_mon_queue AS SELECT * FROM leadflow.queue;
CREATE TEMP TABLE at_mon_queue_member AS SELECT * FROM leadflow.queue_member;
CREATE TEMP TABLE at_mon_rule AS SELECT * FROM leadflow.rule;
-- Tuesday: caps and weights change, a rule comes, the queue is renamed
-- (its members and rules follow), acme.test becomes a customer.
SET leadflow.clock = '2026-03-03 09:00:00+00';
UPDATE leadflow.rep SET max_open = 12 WHERE id = 1;
UPDATE leadflow.queue_member SET weight = 1 WHERE rep_id = 3;
INSERT INTO leadflow.rule (id, priority, name, match, queue) VALUES (3, 2, 'events', '{"source": "event"}', 'inside');
UPDATE leadflow.queue SET name = 'inbound' WHERE name = 'inside';
UPDATE leadflow.account SET status = 'customer' WHERE domain = 'acme.test';
CREATE TEMP TABLE at_tue_rep AS SELECT * FROM leadflow.rep;
CREATE TEMP TABLE at_tue_queue AS SELECT * FROM leadflow.queue;
CREATE TEMP TABLE at_tue_queue_member AS SELECT * FROM leadflow.queue_member;
CREATE TEMP TABLE at_tue_rule AS SELECT * FROM leadflow.rule;
-- Wednesday: Ada leaves the queue, a rule goes, the members are all
-- replaced (TRUNCATE, then the new ones), Bea joins.
SET leadflow.clock = '2026-03-04 09:00:00+00';
DELETE FROM leadflow.queue_member WHERE rep_id = 1;
DELETE FROM leadflow.rule WHERE id = 3;
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day, hours) VALUES
    (4, 'Bea', 4, 20, 'mon-sun 00:00-24:00 UTC');
TRUNCATE leadflow.queue_member;
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('inbound', 3, 1), ('inbound', 4, 3);
CREATE TEMP TABLE at_wed_rep AS SELECT * FROM leadflow.rep;
CREATE TEMP TABLE at_wed_queue AS SELECT * FROM leadflow.queue;
CREATE TEMP TABLE at_wed_queue_member AS SELECT * FROM leadflow.queue_member;
CREATE TEMP TABLE at_wed_rule AS SELECT * FROM leadflow.rule;

-- Reps, queues, members and rules rebuilt at each moment equal what the
-- tables held then (every row, every column, both ways).
CREATE FUNCTION pg_temp.differs(at timestamptz, t text, day text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('CREATE TEMP TABLE rebuilt AS SELECT * FROM leadflow.config_as_of(%L, NULL::leadflow.%I)',
                   at, t);
    EXECUTE format('SELECT count(*) FROM ((SELECT * FROM %1$I EXCEPT ALL SELECT * FROM rebuilt)'
                   ' UNION ALL (SELECT * FROM rebuilt EXCEPT ALL SELECT * FROM %1$I)) x',
                   'at_' || day || '_' || t)
       INTO n;
    DROP TABLE rebuilt;
    RETURN n;
END;
$$;
CREATE FUNCTION pg_temp.compare(at timestamptz, day text)
    RETURNS TABLE (moment timestamptz, reps bigint, queues bigint, members bigint, rules bigint)
    LANGUAGE sql
AS $$
    SELECT at, pg_temp.differs(at, 'rep', day), pg_temp.differs(at, 'queue', day),
           pg_temp.differs(at, 'queue_member', day), pg_temp.differs(at, 'rule', day)
$$;
SELECT * FROM pg_temp.compare('2026-03-02 09:00+00', 'mon');   -- the moment itself
SELECT * FROM pg_temp.compare('2026-03-02 18:30+00', 'mon');
SELECT * FROM pg_temp.compare('2026-03-03 09:00+00', 'tue');
SELECT * FROM pg_temp.compare('2026-03-03 23:59+00', 'tue');
SELECT * FROM pg_temp.compare('2026-03-04 12:00+00', 'wed');
SELECT * FROM pg_temp.compare('infinity', 'wed');
-- As a manager reads them: caps, members and weights, rules, accounts.
SELECT d AS day, r.id, r.name, r.max_open, r.max_new_per_day, r.manager_id
  FROM unnest(ARRAY['2026-03-02 12:00+00', '2026-03-03 12:00+00', '2026-03-04 12:00+00']::timestamptz[]) d,
       leadflow.config_as_of(d, NULL::leadflow.rep) r
 ORDER BY d, r.id;
SELECT d AS day, m.queue, m.rep_id, m.weight
  FROM unnest(ARRAY['2026-03-02 12:00+00', '2026-03-03 12:00+00', '2026-03-04 12:00+00']::timestamptz[]) d,
       leadflow.config_as_of(d, NULL::leadflow.queue_member) m
 ORDER BY d, m.queue, m.rep_id;
SELECT d AS day, r.id, r.name, r.match, r.queue
  FROM unnest(ARRAY['2026-03-02 12:00+00', '2026-03-03 12:00+00', '2026-03-04 12:00+00']::timestamptz[]) d,
       leadflow.config_as_of(d, NULL::leadflow.rule) r
 ORDER BY d, r.id;
SELECT d AS day, a.id, a.domain, a.status, a.suppress_reason, a.owner_id
  FROM unnest(ARRAY['2026-03-02 12:00+00', '2026-03-03 12:00+00']::timestamptz[]) d,
       leadflow.config_as_of(d, NULL::leadflow.account) a
 ORDER BY d, a.id;
-- The generic form: every row of every table (or of one), with the change
-- that set it.
SELECT table_name, key, value ->> 'max_open' AS max_open, change_id - :mark AS change_n, changed_at
  FROM leadflow.config_as_of('2026-03-03 12:00+00', 'rep') ORDER BY key;
-- Versions: the latest change at or before a moment; before the first
-- change of all, the baseline (what was there when the audit began).
SELECT leadflow.config_version_at('2026-03-02 09:00+00') - :mark AS monday,
       leadflow.config_version_at('2026-03-03 09:00+00') - :mark AS tuesday,
       leadflow.current_config_version() - :mark AS now,
       leadflow.config_version_at('-infinity') = (SELECT max(id) FROM leadflow.config_change WHERE op = 'BASELINE')
           AS before_all_is_the_baseline;
SELECT count(*) = (SELECT count(*) FROM leadflow.config_change WHERE op = 'BASELINE') AS baseline_rows,
       bool_or(table_name = 'freemail_domain' AND key = '{"domain": "gmail.com"}') AS with_builtin_gmail,
       bool_or(table_name = 'queue' AND key = '{"name": "default"}') AS with_the_default_queue
  FROM leadflow.config_as_of('-infinity');
-- Bad input.
\set SHOW_CONTEXT never
SELECT * FROM leadflow.config_as_of(NULL);
SELECT * FROM leadflow.config_as_of(NULL, NULL::leadflow.rep);
SELECT * FROM leadflow.config_at_version(NULL);
SELECT * FROM leadflow.config_as_of('2026-03-03 12:00+00', NULL::leadflow.lead);
SELECT * FROM leadflow.config_as_of('2026-03-03 12:00+00', 42);
SELECT * FROM leadflow.config_as_of('2026-03-03 12:00+00', 'rep_load');
SELECT count(*) AS nothing_before_version_1 FROM leadflow.config_at_version(0);
\set SHOW_CONTEXT errors

------------------------------------------------------------------------
-- Every decision names its configuration.
------------------------------------------------------------------------
-- Ada (12 seats) is back in "inbound" beside Cy (1) and Bea (3).
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('inbound', 1, 1);
INSERT INTO leadflow.lead (email, source) VALUES ('l1@one.test', 'web') RETURNING owner_id;
SELECT config_version = leadflow.current_config_version() AS latest_version
  FROM leadflow.decision ORDER BY id DESC LIMIT 1;
-- In the same transaction, after a change: the change's version; rolled
-- back, the next decision names the version before it.
BEGIN;
UPDATE leadflow.rep SET max_open = 2 WHERE id = 4;
INSERT INTO leadflow.lead (email, source) VALUES ('l2@two.test', 'web');
SELECT d.config_version = leadflow.current_config_version() AS names_the_uncommitted_change,
       c ->> 'max_open' AS beas_cap_used
  FROM leadflow.decision d, jsonb_array_elements(d.candidates) c
 WHERE d.lead_id = (SELECT max(id) FROM leadflow.lead) AND c ->> 'rep' = '4';
ROLLBACK;
INSERT INTO leadflow.lead (email, source) VALUES ('l3@three.test', 'web');
SELECT d.config_version = leadflow.current_config_version() AS names_the_version_before,
       c ->> 'max_open' AS beas_cap_used
  FROM leadflow.decision d, jsonb_array_elements(d.candidates) c
 WHERE d.lead_id = (SELECT max(id) FROM leadflow.lead) AND c ->> 'rep' = '4';
-- The next statement after a committed change, in the same session.
UPDATE leadflow.queue_member SET weight = 5 WHERE rep_id = 1;
INSERT INTO leadflow.lead (email, source) VALUES ('l4@four.test', 'web');
SELECT config_version = leadflow.current_config_version() AS after_the_weight_change
  FROM leadflow.decision ORDER BY id DESC LIMIT 1;
-- Changes of what routing does not cache move the version too.
UPDATE leadflow.account SET status = 'suppressed', suppress_reason = 'fraud' WHERE domain = 'acme.test';
INSERT INTO leadflow.lead (email, source) VALUES ('x@acme.test', 'web') RETURNING stage, reject_reason;
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('web', 'fit', '{"source": "web"}', 5);
INSERT INTO leadflow.lead (email, source) VALUES ('l5@five.test', 'web') RETURNING score;
SELECT d.kind, d.config_version = c.id AS names_it, c.table_name, c.op
  FROM leadflow.decision d
  JOIN leadflow.lead l ON l.id = d.lead_id
  JOIN leadflow.config_change c ON c.id = d.config_version
 WHERE l.email IN ('x@acme.test', 'l5@five.test') ORDER BY d.id;
-- Manual moves and merges too (a merge's decision is written by SQL: the
-- latest version its statement sees) ...
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE email = 'l1@one.test'), 3, 'asked for Cy');
SELECT (leadflow.merge((SELECT id FROM leadflow.lead WHERE email = 'l1@one.test'),
                       (SELECT id FROM leadflow.lead WHERE email = 'l3@three.test'))).email AS kept;
SELECT kind, count(*), bool_and(config_version = leadflow.current_config_version()) AS latest_version
  FROM leadflow.decision WHERE kind IN ('manual', 'merge') GROUP BY kind ORDER BY kind;
-- ... and the sweep's, after a change of the SLA.
UPDATE leadflow.queue SET first_touch_sla = '1 minute' WHERE name = 'inbound';
SELECT action, leads FROM leadflow.sweep('2026-03-04 10:00+00') WHERE leads > 0;
SELECT kind, count(*), bool_and(config_version = leadflow.current_config_version()) AS latest_version
  FROM leadflow.decision WHERE kind = 'reassign_sla' GROUP BY kind;
-- Every decision's candidates are what its version says: each member's
-- caps and weight, rebuilt from the audit.
SELECT count(*) AS candidates_checked,
       count(*) FILTER (WHERE (c ->> 'max_open')::int IS DISTINCT FROM r.max_open
                           OR (c ->> 'max_new_per_day')::int IS DISTINCT FROM r.max_new_per_day
                           OR (c ->> 'weight')::int IS DISTINCT FROM m.weight) AS not_as_the_version_says
  FROM leadflow.decision d
  CROSS JOIN LATERAL jsonb_array_elements(d.candidates) c
  LEFT JOIN LATERAL (SELECT * FROM leadflow.config_at_version(d.config_version, NULL::leadflow.rep) x
                      WHERE x.id = (c ->> 'rep')::int) r ON true
  LEFT JOIN LATERAL (SELECT * FROM leadflow.config_at_version(d.config_version, NULL::leadflow.queue_member) x
                      WHERE x.queue = d.queue AND x.rep_id = (c ->> 'rep')::int) m ON true
 WHERE d.candidates IS NOT NULL;
SELECT count(*) AS decisions, count(config_version) AS with_a_version FROM leadflow.decision;
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- The audit explains every configuration table as it is now: rebuilt at
-- the latest version, each equals the table (for accounts, the
-- configured ones, with what the audit records of them), both ways.
------------------------------------------------------------------------
CREATE FUNCTION pg_temp.live(t text) RETURNS TABLE (key jsonb, value jsonb)
    LANGUAGE plpgsql
AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT a.key, a.value FROM leadflow.%I x, leadflow.config_audit_row(x, %L, %L) a %s',
        t, (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_index i
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
             WHERE i.indrelid = ('leadflow.' || t)::regclass AND i.indisprimary),
        CASE WHEN t = 'account' THEN '{domain,status,suppress_reason}' END,
        CASE WHEN t = 'account' THEN 'WHERE x.status <> ''prospect'' OR x.suppress_reason IS NOT NULL' END);
END;
$$;
-- Holiday calendars are configuration too (reps follow them).
INSERT INTO leadflow.holiday_calendar (name, description) VALUES ('lf_pol_us', 'US offices');
INSERT INTO leadflow.holiday (calendar, day, name) VALUES ('lf_pol_us', '2026-12-25', 'Christmas');
UPDATE leadflow.rep SET calendar = 'lf_pol_us' WHERE id = 3;
SELECT table_name, op, key, new FROM leadflow.config_change
 WHERE id > (SELECT max(id) - 3 FROM leadflow.config_change) ORDER BY id;

SELECT t AS configuration_table, count(j.ckey) AS rebuilt, count(j.lkey) AS live,
       count(*) FILTER (WHERE j.cvalue IS DISTINCT FROM j.lvalue) AS differ
  FROM unnest(ARRAY['rep', 'queue', 'queue_member', 'rule', 'scoring_rule', 'qualification_criterion',
                    'freemail_domain', 'country_calling_code', 'model', 'account',
                    'holiday_calendar', 'holiday']) t
  LEFT JOIN LATERAL (
      SELECT c.key, c.value, l.key, l.value
        FROM (SELECT x.key, x.value FROM leadflow.config_at_version(leadflow.current_config_version()) x
               WHERE x.table_name = t) c
        FULL JOIN pg_temp.live(t) l ON l.key = c.key) j(ckey, cvalue, lkey, lvalue) ON true
 GROUP BY t ORDER BY t;

-- Clean up: the roles are cluster-wide.
UPDATE leadflow.rep SET login = NULL WHERE login = 'lf_pol_rep';
DROP ROLE lf_pol_rep, lf_pol_manager, lf_pol_admin, lf_pol_login;
RESET leadflow.clock;
