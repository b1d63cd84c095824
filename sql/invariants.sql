-- leadflow.check_invariants(): a scenario that goes through every way a
-- lead gets, keeps or loses an owner (routing, backlog, manual moves, a
-- manager's override, a lowered cap, escalation to a manager, reopen,
-- duplicates, merge, a lead left unrouted) reports nothing; then each
-- invariant is broken by hand, as a superuser, inside a transaction that
-- is rolled back, and each is reported.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day) VALUES
    (1, 'Ada', 4, 100),
    (2, 'Bob', 4, 100),
    (3, 'Cy',  1, 100),     -- the manager: escalations land on her whatever the caps
    (4, 'Dee', 100, 2);
UPDATE leadflow.rep SET manager_id = 3 WHERE id IN (1, 2);
-- Breaching the first-touch SLA escalates at once (max_reassignments 0).
INSERT INTO leadflow.queue (name, strategy, sticky_account, max_reassignments)
    VALUES ('q', 'round_robin', false, 0), ('d', 'round_robin', false, 3);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 1), ('q', 2), ('d', 4);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'dee', '{"source": "dee"}', 'd'),
    (2, 'web', '{}', 'q');

CREATE FUNCTION pg_temp.show() RETURNS TABLE (kind text, rep_id integer, lead_id bigint, detail text)
    LANGUAGE sql AS $$ SELECT * FROM leadflow.check_invariants() $$;

-- 10 leads for Ada and Bob (4 seats each, 2 wait in the backlog), 3 for
-- Dee (2 a day: 1 waits).
INSERT INTO leadflow.lead (external_id, email)
    SELECT 'w' || g, 'w' || g || '@x.test' FROM generate_series(1, 10) g;
INSERT INTO leadflow.lead (external_id, email, source)
    SELECT 'd' || g, 'd' || g || '@x.test', 'dee' FROM generate_series(1, 3) g;
SELECT owner_id, queue, count(*) FROM leadflow.lead GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM pg_temp.show();

-- A manager's override puts Ada past her cap; a lowered cap leaves Bob
-- past his: neither is a violation.
SET leadflow.override_caps = on;
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE external_id = 'w9'), 1, 'asked for Ada');
RESET leadflow.override_caps;
UPDATE leadflow.rep SET max_open = 2 WHERE id = 2;
SELECT r.name, r.max_open, l.open_count FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id
 WHERE r.id IN (1, 2) ORDER BY r.id;
SELECT * FROM pg_temp.show();
-- Without the override the cap holds.
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE external_id = 'w10'), 1, 'one more');

-- Ada touches one lead; the other leads of queue q miss their SLA and
-- escalate to Cy, the manager, whatever her cap of 1.  Dee's two miss
-- theirs and, with nobody else in queue d, stay with her (their SLA
-- restarted).  The sweep then routes queue q's backlog (d3 still waits:
-- Dee's seats of the day are taken).
SELECT (leadflow.log_touch(id, 'call', 'not_reached')).outcome
  FROM leadflow.lead WHERE external_id = 'w1';
SELECT * FROM leadflow.sweep('2026-03-09 12:00:00+00') WHERE leads > 0;
SELECT r.name, r.max_open, l.open_count FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id
 ORDER BY r.id;
SELECT * FROM pg_temp.show();

-- Closing and reopening, a duplicate, a merge, an inactive rep.
SET leadflow.clock = '2026-03-09 13:00:00+00';
SELECT (leadflow.log_touch(id, 'call', 'dead')).outcome FROM leadflow.lead WHERE external_id = 'w1';
SELECT leadflow.reopen(id, 'changed their mind') FROM leadflow.lead WHERE external_id = 'w1';
INSERT INTO leadflow.lead (external_id, email) VALUES ('again', 'w2@x.test')
    RETURNING stage, owner_id, duplicate_of;
SELECT id, stage, duplicate_of FROM leadflow.merge(
    (SELECT id FROM leadflow.lead WHERE external_id = 'd1'),
    (SELECT id FROM leadflow.lead WHERE external_id = 'd2'));
UPDATE leadflow.rep SET active = false WHERE id = 4;
-- A lead inserted with routing off waits, never routed, for route_pending.
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (external_id, email) VALUES ('unrouted', 'u@x.test');
RESET leadflow.route_on_insert;
SELECT * FROM pg_temp.show();
-- A routed row rolled back to a savepoint (here by the failing row after
-- it) takes its seat with it, and the transaction still commits.
BEGIN;
SAVEPOINT s;
\set VERBOSITY terse
INSERT INTO leadflow.lead (external_id, email, attrs)
    VALUES ('sp1', 'sp1@x.test', '{}'), ('sp2', 'sp2@x.test', '[]');
\set VERBOSITY default
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT count(*) AS kept FROM leadflow.lead WHERE external_id IN ('sp1', 'sp2');
SELECT * FROM pg_temp.show();
SELECT l.external_id, l.stage, l.queue, r.name AS owner, r.active
  FROM leadflow.lead l LEFT JOIN leadflow.rep r ON r.id = l.owner_id ORDER BY l.id;
SELECT r.name, r.max_open, r.max_new_per_day, l.open_count, l.new_day, l.new_count
  FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id ORDER BY r.id;

------------------------------------------------------------------------
-- Each invariant broken by hand.  session_replication_role = replica
-- switches off leadflow's triggers and the foreign keys, as a careless
-- bulk load would.
------------------------------------------------------------------------

-- open_count: a counter that drifted.
BEGIN;
UPDATE leadflow.rep_load SET open_count = open_count + 1 WHERE rep_id = 2;
SELECT * FROM pg_temp.show();
ROLLBACK;

-- new_count: fewer new leads than routing gave today, and a count with no day.
BEGIN;
UPDATE leadflow.rep_load SET new_count = 0 WHERE rep_id = 1;
UPDATE leadflow.rep_load SET new_day = NULL WHERE rep_id = 4;
SELECT * FROM pg_temp.show();
ROLLBACK;

-- over_max_open: routing gave Ada a third lead while the cap it claimed
-- against (recorded in the ledger) was 2; counters and ledger agree.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET owner_id = 1, queue = 'q' WHERE external_id = 'unrouted';
INSERT INTO leadflow.decision (lead_id, at, kind, to_rep, queue, strategy, reason, candidates)
    SELECT id, leadflow.now(), 'assign', 1, 'q', 'round_robin', 'round_robin',
           '[{"rep": 1, "open": 2, "chosen": true, "reason": null, "weight": 1, "eligible": true, "max_open": 2, "new_today": 7, "max_new_per_day": 100}]'
      FROM leadflow.lead WHERE external_id = 'unrouted';
UPDATE leadflow.rep_load SET open_count = open_count + 1, new_count = new_count + 1 WHERE rep_id = 1;
SELECT * FROM pg_temp.show();
ROLLBACK;

-- over_max_new_per_day: Dee's third new lead today, past her daily cap of 2.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET owner_id = 4, queue = 'd' WHERE external_id = 'unrouted';
INSERT INTO leadflow.decision (lead_id, at, kind, to_rep, queue, strategy, reason, candidates)
    SELECT id, leadflow.now(), 'assign', 4, 'd', 'round_robin', 'round_robin',
           '[{"rep": 4, "open": 2, "chosen": true, "reason": null, "weight": 1, "eligible": true, "max_open": 100, "new_today": 2, "max_new_per_day": 2}]'
      FROM leadflow.lead WHERE external_id = 'unrouted';
UPDATE leadflow.rep_load SET open_count = open_count + 1, new_count = new_count + 1 WHERE rep_id = 4;
SELECT * FROM pg_temp.show();
ROLLBACK;

-- owner_missing: a closed lead owned by a rep that does not exist.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET owner_id = 99 WHERE external_id = 'again';
SELECT * FROM pg_temp.show();
ROLLBACK;

-- queue_missing, account_missing: a lead in a queue and of an account that
-- do not exist (the foreign keys, off here, would refuse both).
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET queue = 'gone', account_id = 999999 WHERE external_id = 'again';
SELECT * FROM pg_temp.show();
ROLLBACK;

-- ledger_owner: the decision that gave a lead its owner is gone (the day's
-- count then disagrees with the ledger too), and a later one names nobody.
BEGIN;
DELETE FROM leadflow.decision
 WHERE id = (SELECT max(d.id) FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
              WHERE l.external_id = 'w10');
INSERT INTO leadflow.decision (lead_id, kind, queue, reason)
    SELECT id, 'backlog', 'q', 'no_eligible_member' FROM leadflow.lead WHERE external_id = 'w3';
SELECT * FROM pg_temp.show();
ROLLBACK;

-- backlog: an open lead without an owner whose ledger says it has one, one
-- with decisions but no queue, and one in a queue that was never routed.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET owner_id = NULL WHERE external_id = 'w10';
UPDATE leadflow.rep_load SET open_count = open_count - 1
 WHERE rep_id = (SELECT to_rep FROM leadflow.decision WHERE id =
                 (SELECT max(d.id) FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
                   WHERE l.external_id = 'w10'));
SELECT * FROM pg_temp.show();
ROLLBACK;
BEGIN;
SET LOCAL session_replication_role = replica;
-- the third waiting lead of Dee's queue, and the unrouted one
UPDATE leadflow.lead SET queue = NULL WHERE external_id = 'd3' AND owner_id IS NULL;
UPDATE leadflow.lead SET queue = 'q' WHERE external_id = 'unrouted';
SELECT * FROM pg_temp.show();
ROLLBACK;

-- ledger_queue: a lead moved to another queue behind the ledger's back
-- (an UPDATE of the queue is recorded as a manual decision).
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET queue = 'd' WHERE external_id = 'w10';
SELECT * FROM pg_temp.show();
ROLLBACK;

-- duplicate_of / referred_by naming leads that do not exist.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET duplicate_of = 9999 WHERE external_id = 'again';
UPDATE leadflow.lead SET referred_by = 9998 WHERE external_id = 'w3';
SELECT * FROM pg_temp.show();
ROLLBACK;

-- decision_lead_missing / alert_lead_missing / event_lead_missing: the
-- ledger, an alert and events about leads that do not exist (as an upsert
-- that conflicted used to leave: a decision and a re-inquiry for a lead
-- never inserted).  A deleted lead's decisions are not reported: its
-- last decision records the deletion.
BEGIN;
SET LOCAL session_replication_role = replica;
INSERT INTO leadflow.decision (lead_id, kind, to_rep, queue, reason)
    VALUES (99999, 'assign', 1, 'q', 'round_robin'), (99999, 'backlog', NULL, 'q', 'x');
INSERT INTO leadflow.alert (kind, lead_id, rep_id) VALUES ('backlog', 99998, NULL);
INSERT INTO leadflow.event (lead_id, kind) VALUES (99997, 'page_view');
INSERT INTO leadflow.event (lead_id, kind, attrs)
    SELECT id, 're_inquiry', '{"duplicate_lead": 99996}' FROM leadflow.lead WHERE external_id = 'w3';
SELECT * FROM pg_temp.show();
ROLLBACK;
BEGIN;
DELETE FROM leadflow.lead WHERE external_id = 'w3';
SELECT count(*) AS violations FROM pg_temp.show();
ROLLBACK;

-- duplicate_cycle: two leads each a duplicate of the other.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET duplicate_of = (SELECT id FROM leadflow.lead WHERE external_id = 'w5')
 WHERE external_id = 'w4';
UPDATE leadflow.lead SET duplicate_of = (SELECT id FROM leadflow.lead WHERE external_id = 'w4')
 WHERE external_id = 'w5';
SELECT * FROM pg_temp.show() WHERE kind = 'duplicate_cycle';
ROLLBACK;

-- merged_into_merged: d2 was merged into d1; d1 is then closed as merged
-- into d3 without d2 following it (merge() moves it along).
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET stage = 'rejected', stage_changed_at = '2026-03-09 14:00+00',
       duplicate_of = (SELECT id FROM leadflow.lead WHERE external_id = 'd3'),
       reject_reason = 'merged into lead ' || (SELECT id FROM leadflow.lead WHERE external_id = 'd3')
 WHERE external_id = 'd1';
SELECT * FROM pg_temp.show() WHERE kind LIKE 'merged%';
ROLLBACK;

-- merged_into_closed: the lead d2 was merged into had been rejected before.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET stage = 'rejected', stage_changed_at = '2026-03-09 12:30+00'
 WHERE external_id = 'd1';
SELECT * FROM pg_temp.show() WHERE kind LIKE 'merged%';
ROLLBACK;

-- Not when the rejection only waited for the merge: a touch whose
-- transaction began (12:30) before the merge's but that closed d1 after
-- the merge committed, as its stage_history row's id shows.
BEGIN;
SET LOCAL session_replication_role = replica;
UPDATE leadflow.lead SET stage = 'rejected', stage_changed_at = '2026-03-09 12:30+00'
 WHERE external_id = 'd1';
INSERT INTO leadflow.stage_history (lead_id, from_stage, to_stage, at)
SELECT id, 'new', 'rejected', '2026-03-09 12:30+00' FROM leadflow.lead WHERE external_id = 'd1';
SELECT * FROM pg_temp.show() WHERE kind LIKE 'merged%';
ROLLBACK;

-- All well again.
SELECT count(*) AS violations FROM leadflow.check_invariants();

-- Privileges: admins and managers may check; reps and PUBLIC may not.
SELECT r.rolname, has_function_privilege(r.rolname, 'leadflow.check_invariants()', 'EXECUTE') AS can
  FROM pg_roles r
 WHERE r.rolname IN ('leadflow_admin', 'leadflow_manager', 'leadflow_rep')
 ORDER BY 1;
SELECT has_function_privilege('public', 'leadflow.check_invariants()', 'EXECUTE') AS public_can;
SELECT provolatile, prosecdef, proconfig FROM pg_proc
 WHERE oid = 'leadflow.check_invariants()'::regprocedure;

RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';
