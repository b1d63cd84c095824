-- The upgrade path: install 1.0, route and work some leads with it, update
-- along the chain with ALTER EXTENSION (1.0 -> 1.1, then 1.1 -> the
-- current version), and check that the data is untouched, that the
-- invariants hold, and that routing goes on.  `make regress-upgrade`
-- runs this instead of `setup`, then the rest of the suite against the
-- updated database.
\set VERBOSITY default
SET timezone = 'UTC';
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning
CREATE EXTENSION leadflow VERSION '1.0';
SELECT extname, extversion FROM pg_extension WHERE extname = 'leadflow';
-- 1.0 has no invariant check yet.
SELECT to_regprocedure('leadflow.check_invariants()') IS NULL AS not_in_1_0;

INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day, hours) VALUES
    (1, 'Ada', 3, 100, 'mon-fri 09:00-17:00 UTC'),
    (2, 'Bob', 3, 100, 'mon-fri 09:00-17:00 Europe/Berlin'),
    (3, 'Cy',  100, 100, 'mon-fri 09:00-17:00 America/New_York');
SELECT setval('leadflow.rep_id_seq', 3);
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES
    ('web', 'round_robin', false), ('big', 'weighted', true);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('web', 1, 1), ('web', 2, 1), ('big', 3, 2), ('big', 2, 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'big companies', '{"employees": ["500+", "1000+"]}', 'big'),
    (2, 'web', '{"source": "web_form"}', 'web');
INSERT INTO leadflow.lead (external_id, email, source, attrs)
    SELECT 'web' || g, 'w' || g || '@gmail.com', 'web_form', '{}'
      FROM generate_series(1, 8) g;
INSERT INTO leadflow.lead (external_id, email, source, attrs)
    SELECT 'big' || g, 'buyer' || g || '@acme.test', 'event', '{"employees": "1000+"}'
      FROM generate_series(1, 3) g;
SELECT (leadflow.log_touch(id, 'call', 'connected')).outcome
  FROM leadflow.lead WHERE external_id = 'web1';
SELECT * FROM leadflow.sweep('2026-03-09 12:00:00+00') WHERE leads > 0;
SELECT external_id, queue, owner_id, stage FROM leadflow.lead ORDER BY id;
SELECT * FROM leadflow.check_counters();

-- What 1.0 wrote, to compare after the update.
CREATE TEMP TABLE before_lead AS SELECT * FROM leadflow.lead;
CREATE TEMP TABLE before_decision AS SELECT * FROM leadflow.decision;
CREATE TEMP TABLE before_rep_load AS SELECT * FROM leadflow.rep_load;
CREATE TEMP TABLE before_rep AS SELECT * FROM leadflow.rep;
CREATE TEMP TABLE before_touch AS SELECT * FROM leadflow.touch;
CREATE TEMP TABLE before_account AS SELECT * FROM leadflow.account;

ALTER EXTENSION leadflow UPDATE TO '1.1';
SELECT extname, extversion FROM pg_extension WHERE extname = 'leadflow';
ALTER EXTENSION leadflow UPDATE;
SELECT extname, extversion FROM pg_extension WHERE extname = 'leadflow';
SELECT extversion = default_version AS current
  FROM pg_extension, pg_available_extensions WHERE extname = 'leadflow' AND name = extname;

-- Nothing changed in the data: each table equals its copy, both ways
-- (in the columns 1.0 had: 1.2 adds some to the ledger and accounts).
CREATE TEMP VIEW decision_1_0 AS
    SELECT id, lead_id, at, kind, from_rep, to_rep, rule_id, queue, strategy, reason, candidates, txid
      FROM leadflow.decision;
CREATE TEMP VIEW account_1_0 AS
    SELECT id, domain, owner_id, owned_until, status, suppress_reason, pursue_other_contacts
      FROM leadflow.account;
SELECT 'lead' AS t, count(*) FROM (TABLE before_lead EXCEPT ALL SELECT * FROM leadflow.lead
                              UNION ALL (SELECT * FROM leadflow.lead EXCEPT ALL TABLE before_lead)) x
UNION ALL
SELECT 'decision', count(*) FROM (TABLE before_decision EXCEPT ALL SELECT * FROM decision_1_0
                              UNION ALL (SELECT * FROM decision_1_0 EXCEPT ALL TABLE before_decision)) x
UNION ALL
SELECT 'rep_load', count(*) FROM (TABLE before_rep_load EXCEPT ALL SELECT * FROM leadflow.rep_load
                              UNION ALL (SELECT * FROM leadflow.rep_load EXCEPT ALL TABLE before_rep_load)) x
UNION ALL
SELECT 'rep', count(*) FROM (SELECT id, name, hours::text, max_open FROM before_rep
                              EXCEPT ALL SELECT id, name, hours::text, max_open FROM leadflow.rep) x
UNION ALL
SELECT 'touch', count(*) FROM (TABLE before_touch EXCEPT ALL SELECT * FROM leadflow.touch
                              UNION ALL (SELECT * FROM leadflow.touch EXCEPT ALL TABLE before_touch)) x
UNION ALL
SELECT 'account', count(*) FROM (TABLE before_account EXCEPT ALL SELECT * FROM account_1_0
                              UNION ALL (SELECT * FROM account_1_0 EXCEPT ALL TABLE before_account)) x;
SELECT (SELECT count(*) FROM leadflow.lead) AS leads, (SELECT count(*) FROM leadflow.decision) AS decisions;

-- The decisions of 1.0 name no configuration version; the configuration
-- found at the update is the audit's baseline (3 reps, the default queue
-- and 2 more, 4 members, 2 rules, the built-in free-mail domains and
-- calling codes; the routed prospect accounts are no configuration).
SELECT count(*) AS decisions, count(config_version) AS with_a_version FROM leadflow.decision;
SELECT table_name, op, count(*) FROM leadflow.config_change GROUP BY 1, 2 ORDER BY 1, 2;

-- The data 1.0 wrote satisfies the current invariants.
SELECT * FROM leadflow.check_invariants();

-- Routing, touches and the sweep go on after the update.
INSERT INTO leadflow.lead (external_id, email, source, attrs)
    VALUES ('after', 'ceo@acme.test', 'event', '{"employees": "500+"}')
    RETURNING queue, owner_id;
SELECT kind, to_rep, reason, config_version = (SELECT max(id) FROM leadflow.config_change) AS names_the_baseline
  FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT (leadflow.log_touch(id, 'email', 'not_reached')).outcome
  FROM leadflow.lead WHERE external_id = 'after';
SELECT * FROM leadflow.sweep('2026-03-10 12:00:00+00') WHERE leads > 0;
SELECT * FROM leadflow.check_invariants();

-- Leave the database as `setup` does, for the tests that follow.
DROP VIEW decision_1_0, account_1_0;
DROP TABLE before_lead, before_decision, before_rep_load, before_rep, before_touch, before_account;
RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';
SELECT nspname FROM pg_namespace WHERE nspname = 'leadflow';
