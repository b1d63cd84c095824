-- The schema of the contract: tables, defaults, the default queue, dump
-- registration, roles, and the constraints that refuse impossible
-- configuration.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 09:00:00+00';

SELECT c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'leadflow' AND c.relkind = 'r'
 ORDER BY 1;

SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
  FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
 WHERE t.typnamespace = 'leadflow'::regnamespace
 GROUP BY t.typname ORDER BY 1;

-- Every table users fill is kept by pg_dump (sequences too).
SELECT c.relname, coalesce(cond, '') AS condition
  FROM pg_extension x,
       unnest(x.extconfig, x.extcondition) AS u(oid, cond)
       JOIN pg_class c ON c.oid = u.oid
 WHERE x.extname = 'leadflow'
 ORDER BY 1;

-- The default queue exists with the contract's defaults.
SELECT name, strategy, cadence = leadflow.cadence_named('10x30') AS cadence_10x30,
       first_touch_sla, touch_sla, max_reassignments, sticky_account,
       hold_for, then_queue, require_available
  FROM leadflow.queue;

-- A rep gets the contract's defaults.
INSERT INTO leadflow.rep (name) VALUES ('Ada');
SELECT name, hours, holidays, active, max_open, max_new_per_day, skills
  FROM leadflow.rep;

-- A lead gets the contract's defaults; created_at follows the clock.
INSERT INTO leadflow.lead (email) VALUES ('ada@example.com');
SELECT created_at, stage, score, touches, cadence_step, reassignments, attrs
  FROM leadflow.lead;

-- Free-mail domains are seeded, and the seeds are not dumped.
SELECT count(*) > 30 AS seeded, bool_and(builtin) AS all_builtin
  FROM leadflow.freemail_domain;

-- Roles exist and cannot log in.
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'leadflow\_%' ORDER BY 1;

-- Impossible configuration is refused, and nothing is written.
INSERT INTO leadflow.rep (name, max_open) VALUES ('Bob', -1);
INSERT INTO leadflow.rep (name, max_new_per_day) VALUES ('Bob', -5);
INSERT INTO leadflow.rep (name) VALUES ('   ');
INSERT INTO leadflow.rep (name) VALUES ('Ada');
INSERT INTO leadflow.rep (name, hours) VALUES ('Bob', 'mon-fri 09:00-17:00');
UPDATE leadflow.rep SET manager_id = id WHERE name = 'Ada';
INSERT INTO leadflow.queue (name, strategy) VALUES ('inbound', 'random');
INSERT INTO leadflow.queue (name, first_touch_sla) VALUES ('inbound', '-1 hour');
INSERT INTO leadflow.queue (name, touch_sla) VALUES ('inbound', '1 month');
INSERT INTO leadflow.queue (name, max_reassignments) VALUES ('inbound', -1);
INSERT INTO leadflow.queue (name, then_queue) VALUES ('inbound', 'default');
INSERT INTO leadflow.queue (name, hold_for, then_queue) VALUES ('inbound', '2 weeks', 'inbound');
INSERT INTO leadflow.queue (name, cadence) VALUES ('inbound', 'call@0, fax@1d');
INSERT INTO leadflow.queue_member (queue, rep_id, weight)
    SELECT 'default', id, 0 FROM leadflow.rep WHERE name = 'Ada';
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('nowhere', 1);
INSERT INTO leadflow.rule (name, match, queue) VALUES ('bad', '["web_form"]', 'default');
INSERT INTO leadflow.rule (name, match, queue) VALUES ('bad', '"web_form"', 'default');
INSERT INTO leadflow.rule (name, match) VALUES ('no queue', '{}');
INSERT INTO leadflow.rule (name, min_score, max_score, queue) VALUES ('bad', 50, 10, 'default');
INSERT INTO leadflow.rule (name, action, queue) VALUES ('bad', 'drop', 'default');
INSERT INTO leadflow.account (domain) VALUES ('Example.COM');
INSERT INTO leadflow.account (domain, status) VALUES ('example.com', 'suppressed');
INSERT INTO leadflow.scoring_rule (name, kind, points) VALUES ('bad', 'fit', 10);
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life)
    VALUES ('bad', 'engagement', 'page_view', 5, '-1 day');
INSERT INTO leadflow.lead (attrs) VALUES ('[1,2]');
INSERT INTO leadflow.lead (stage) VALUES ('won');
INSERT INTO leadflow.lead (predicted) VALUES (1.5);
INSERT INTO leadflow.touch (lead_id, channel, outcome)
    SELECT id, 'fax', 'connected' FROM leadflow.lead WHERE email = 'ada@example.com';
INSERT INTO leadflow.touch (lead_id, channel)
    SELECT id, 'call' FROM leadflow.lead WHERE email = 'ada@example.com';
INSERT INTO leadflow.touch (lead_id, channel, outcome) VALUES (999999, 'call', 'connected');
SELECT (SELECT count(*) FROM leadflow.rep) AS reps,
       (SELECT count(*) FROM leadflow.queue) AS queues,
       (SELECT count(*) FROM leadflow.rule) AS rules,
       (SELECT count(*) FROM leadflow.touch) AS touches;

-- Good configuration is accepted.
INSERT INTO leadflow.queue (name, strategy, hold_for, first_touch_sla)
    VALUES ('territory', 'load_balanced', NULL, '30 minutes'),
           ('inbound', 'round_robin', '2 weeks', '5 minutes');
UPDATE leadflow.queue SET then_queue = 'territory' WHERE name = 'inbound';
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (10, 'inbound calls', '{"source": "inbound_call"}', 'inbound');
SELECT name, strategy, hold_for, then_queue FROM leadflow.queue ORDER BY name;

-- The default queue can be configured but not removed or renamed;
-- inserting it again (as a restore does) configures it.
DELETE FROM leadflow.queue WHERE name = 'default';
UPDATE leadflow.queue SET name = 'fallback' WHERE name = 'default';
INSERT INTO leadflow.queue (name, strategy) VALUES ('default', 'weighted');
SELECT name, strategy FROM leadflow.queue WHERE name = 'default';
UPDATE leadflow.queue SET strategy = 'round_robin' WHERE name = 'default';

-- Clean up for the tests that follow.
DELETE FROM leadflow.rule;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.lead;
DELETE FROM leadflow.rep;
DELETE FROM leadflow.account;
TRUNCATE leadflow.decision, leadflow.alert;
RESET leadflow.clock;
