-- The sweep: SLA breach and reassignment, a second breach, escalation
-- (to a queue, to a manager), a lead nobody else can take (it stays with
-- its owner), the ownership window hand-off, the backlog, a touched lead
-- left alone, a sweep that finds nothing, batches, alerts, and the
-- pg_cron functions.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 09:00:00+00';   -- Monday, opening time
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (4, 'Mia', 50);  -- the manager
INSERT INTO leadflow.rep (id, name, manager_id, max_new_per_day) VALUES
    (1, 'Ana', 4, 50), (2, 'Ben', 4, 50), (3, 'Cy', 4, 50),
    (5, 'Ivy', 4, 50), (6, 'Tom', 4, 50), (7, 'Sol', NULL, 50);
INSERT INTO leadflow.queue (name, sticky_account, max_reassignments) VALUES ('escalations', false, 5);
INSERT INTO leadflow.queue (name, sticky_account, max_reassignments, escalate_to)
    VALUES ('inside', false, 2, 'escalations');
INSERT INTO leadflow.queue (name, sticky_account, max_reassignments) VALUES ('direct', false, 0);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('solo', false), ('territory', true);
INSERT INTO leadflow.queue (name, sticky_account, hold_for, then_queue, touch_sla)
    VALUES ('inbound', true, '14 days', 'territory', '30 days');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES
    ('inside', 1), ('inside', 2), ('inside', 3), ('escalations', 4),
    ('direct', 7), ('solo', 1), ('inbound', 5), ('territory', 6);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'inside', '{"campaign": "inside"}', 'inside'),
    (2, 'direct', '{"campaign": "direct"}', 'direct'),
    (3, 'solo', '{"campaign": "solo"}', 'solo'),
    (4, 'inbound', '{"source": "inbound_call"}', 'inbound');

CREATE VIEW leads AS
    SELECT l.email, l.queue, r.name AS owner, l.stage, l.reassignments AS moves,
           l.cadence_step AS step, l.assigned_at, l.sla_due_at
      FROM leadflow.lead l LEFT JOIN leadflow.rep r ON r.id = l.owner_id;
CREATE VIEW ledger AS
    SELECT l.email, d.kind, f.name AS from_rep, t.name AS to_rep, d.queue, d.reason, d.at
      FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
      LEFT JOIN leadflow.rep f ON f.id = d.from_rep LEFT JOIN leadflow.rep t ON t.id = d.to_rep;

INSERT INTO leadflow.lead (email, campaign) VALUES ('a@x.test', 'inside'), ('b@x.test', 'inside');
SELECT email, owner, sla_due_at FROM leads ORDER BY email;

-- Nothing is due yet: a sweep that finds nothing.
SELECT * FROM leadflow.sweep('2026-03-09 09:30:00+00');
-- Ben touches his lead in time; Ana does not.
SET leadflow.clock = '2026-03-09 09:45:00+00';
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'b@x.test'), 'call', 'connected')).outcome;

------------------------------------------------------------------------
-- First breach: Ana's lead goes to someone else (never Ana), and her
-- manager hears of it.
------------------------------------------------------------------------
SELECT * FROM leadflow.sweep('2026-03-09 10:01:00+00');
SELECT email, owner, moves, step, assigned_at, sla_due_at FROM leads ORDER BY email;
SELECT email, kind, from_rep, to_rep, queue, reason FROM ledger WHERE kind <> 'assign' ORDER BY at, email;
SELECT kind, r.name AS addressee, detail FROM leadflow.alert a LEFT JOIN leadflow.rep r ON r.id = a.rep_id ORDER BY a.id;
SELECT * FROM leadflow.check_counters();
-- The same moment again: nothing left to do.
SELECT * FROM leadflow.sweep('2026-03-09 10:01:00+00');

------------------------------------------------------------------------
-- Second breach, then escalation past max_reassignments (2).
------------------------------------------------------------------------
SELECT * FROM leadflow.sweep('2026-03-09 11:02:00+00') WHERE leads > 0;
SELECT email, owner, moves FROM leads WHERE email = 'a@x.test';
SELECT * FROM leadflow.sweep('2026-03-09 12:03:00+00') WHERE leads > 0;
SELECT email, queue, owner, moves FROM leads WHERE email = 'a@x.test';
SELECT kind, from_rep, to_rep, queue, reason FROM ledger WHERE email = 'a@x.test' ORDER BY at;
SELECT kind, r.name AS addressee, detail FROM leadflow.alert a LEFT JOIN leadflow.rep r ON r.id = a.rep_id
 WHERE a.kind = 'escalated';

-- A queue without escalate_to escalates to the owner's manager directly
-- (whatever her caps); with no manager either, the lead stays with its
-- owner, its SLA restarted -- never stranded.
SET leadflow.clock = '2026-03-09 13:00:00+00';
INSERT INTO leadflow.lead (email, campaign) VALUES ('d@x.test', 'direct');
UPDATE leadflow.rep SET manager_id = 4 WHERE id = 7;
UPDATE leadflow.rep SET max_open = 0 WHERE id = 4;
-- (a@x.test breaches again under Mia: its queue has nobody else, so it
-- stays with her -- the sla_kept 1 here)
SELECT * FROM leadflow.sweep('2026-03-09 14:01:00+00') WHERE leads > 0;
SELECT email, queue, owner, moves FROM leads WHERE email = 'd@x.test';
SELECT kind, from_rep, to_rep, reason FROM ledger WHERE email = 'd@x.test' ORDER BY at;
UPDATE leadflow.rep SET max_open = 150 WHERE id = 4;
INSERT INTO leadflow.lead (email, campaign, owner_id, stage, queue)
    VALUES ('d2@x.test', 'direct', 7, 'working', 'direct');
UPDATE leadflow.rep SET manager_id = NULL WHERE id = 7;
UPDATE leadflow.lead SET sla_due_at = '2026-03-09 14:30:00+00' WHERE email = 'd2@x.test';
SELECT * FROM leadflow.sweep('2026-03-09 15:00:00+00') WHERE leads > 0;
SELECT email, queue, owner, moves FROM leads WHERE email = 'd2@x.test';

------------------------------------------------------------------------
-- Nobody else can take it: it stays with its owner, its SLA restarted
-- (the touch SLA), and the next breach finds the rep who joined since.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-10 09:00:00+00';
INSERT INTO leadflow.lead (email, campaign) VALUES ('s@x.test', 'solo');
-- (b@x.test's day-long SLA ends too and it is reassigned; d@x.test, past
-- its queue's max_reassignments with a manager who has none, stays too)
SELECT * FROM leadflow.sweep('2026-03-10 10:01:00+00') WHERE leads > 0;
SELECT email, queue, owner, moves, sla_due_at FROM leads WHERE email = 's@x.test';
SELECT count(*) AS sla_backlog_alerts FROM leadflow.alert a
  JOIN leadflow.lead l ON l.id = a.lead_id WHERE l.email = 's@x.test' AND a.kind = 'backlog';
-- Ana was its only possible owner; Ben joins the queue, and when the
-- restarted SLA runs out the lead goes to him.
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('solo', 2);
SELECT * FROM leadflow.sweep('2026-03-10 10:05:00+00') WHERE leads > 0;
SELECT email, queue, owner FROM leads WHERE email = 's@x.test';
SELECT * FROM leadflow.sweep('2026-03-11 10:02:00+00') WHERE leads > 0;
SELECT email, queue, owner FROM leads WHERE email = 's@x.test';
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- The ownership window: an inbound closer holds the account for two
-- weeks, then the lead passes to the territory queue.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-10 09:00:00+00';
INSERT INTO leadflow.lead (email, source) VALUES ('cfo@bigco.test', 'inbound_call');
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'cfo@bigco.test'), 'call', 'connected')).outcome;
SELECT domain, r.name AS account_owner, owned_until FROM leadflow.account a
  JOIN leadflow.rep r ON r.id = a.owner_id WHERE domain = 'bigco.test';
-- Not yet after 13 days (the other counts are leads from before whose
-- SLAs ran out meanwhile) ...
SELECT * FROM leadflow.sweep('2026-03-23 09:00:00+00') WHERE leads > 0;
-- ... handed off after 14.
SELECT * FROM leadflow.sweep('2026-03-24 09:00:01+00') WHERE leads > 0;
SELECT email, queue, owner, moves, stage FROM leads WHERE email = 'cfo@bigco.test';
SELECT kind, from_rep, to_rep, queue FROM ledger WHERE email = 'cfo@bigco.test' ORDER BY at;
SELECT domain, r.name AS account_owner, owned_until FROM leadflow.account a
  JOIN leadflow.rep r ON r.id = a.owner_id WHERE domain = 'bigco.test';

------------------------------------------------------------------------
-- Batches, bad input, alerts, pg_cron.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-11 09:00:00+00';
INSERT INTO leadflow.lead (email, campaign)
    SELECT 'batch' || g || '@x.test', 'inside' FROM generate_series(1, 3) g;
SET leadflow.sweep_batch_size = 2;
SELECT * FROM leadflow.sweep('2026-03-11 10:01:00+00') WHERE leads > 0;
SELECT * FROM leadflow.sweep('2026-03-11 10:01:00+00') WHERE leads > 0;
RESET leadflow.sweep_batch_size;
SELECT * FROM leadflow.sweep('infinity');
-- as_of defaults to leadflow.now()
SET leadflow.clock = '2026-03-11 09:30:00+00';
SELECT * FROM leadflow.sweep() WHERE leads > 0;

SELECT kind, count(*) FROM leadflow.alert GROUP BY kind ORDER BY kind;
SELECT (leadflow.acknowledge_alert(1)).acknowledged_at;
SELECT (leadflow.acknowledge_alert(1)).acknowledged_at;   -- the first time is kept
SELECT leadflow.acknowledge_alert(999999);

-- pg_cron lives in database "postgres" here (test/regress.conf), so this
-- database cannot schedule the sweep itself: the hint says what to run.
SELECT leadflow.schedule_sweep();
SELECT leadflow.schedule_sweep('*/5 * * * *');
SELECT leadflow.unschedule_sweep();

-- Everything that moved has its ledger row; the counters agree.
SELECT count(*) AS owned_without_ledger FROM leadflow.lead l
 WHERE owner_id IS NOT NULL AND NOT EXISTS
       (SELECT FROM leadflow.decision d WHERE d.lead_id = l.id AND d.to_rep = l.owner_id);
SELECT * FROM leadflow.check_counters();

RESET leadflow.clock;
DROP VIEW leads, ledger;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
