-- The edges of a touch that touches.sql leaves out, pinned since the
-- trigger became C (src/touches.c): referrals that ->> reads as missing
-- (JSON null, not an object), a touch with no time, a manager's touch
-- for another rep, a lead without a queue's plan, a spent plan's last step.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
-- Monday 10:00 in New York; leads and reps numbered from 1
SET leadflow.clock = '2026-03-09 14:00:00+00';
TRUNCATE leadflow.lead, leadflow.rule, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

CREATE ROLE edge_rep;
CREATE ROLE edge_manager;
GRANT leadflow_rep TO edge_rep;
GRANT leadflow_manager TO edge_manager;
INSERT INTO leadflow.rep (id, name, login, hours, max_new_per_day) VALUES
    (1, 'Eva', 'edge_rep', 'mon-fri 09:00-17:00 America/New_York', 50),
    (2, 'Hal', NULL, 'mon-fri 09:00-17:00 Europe/Berlin', 50);
INSERT INTO leadflow.queue (name, sticky_account, touch_sla, cadence)
    VALUES ('two', false, '2 hours', 'call@0, email@1d');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('two', 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'two');
INSERT INTO leadflow.lead (email, company, country, campaign)
SELECT 'e' || g || '@edge.test', 'Edge', 'US', 'spring' FROM generate_series(1, 6) g;

CREATE VIEW edge_state AS
    SELECT l.id, l.stage, l.owner_id, l.touches, l.cadence_step AS step,
           l.first_touch_at, l.last_touch_at, l.next_touch_at, l.sla_due_at, l.reject_reason
      FROM leadflow.lead l ORDER BY l.id;

-- Referrals that give no email or phone to ->>: refused before the CHECK
-- on the column sees them, and nothing is written.
SELECT leadflow.log_touch(1, 'call', 'dead_referral', NULL, '{"name": "N", "email": null, "phone": null}');
SELECT leadflow.log_touch(1, 'call', 'dead_referral', NULL, '{"name": "N"}');
INSERT INTO leadflow.touch (lead_id, channel, outcome, referral) VALUES (1, 'call', 'dead_referral', '["a@b.test"]');
INSERT INTO leadflow.touch (lead_id, channel, outcome, referral) VALUES (1, 'call', 'dead_referral', '"a@b.test"');
-- a phone alone will do; the referral takes the company, country and
-- campaign of the lead when it names none
SELECT (leadflow.log_touch(1, 'call', 'dead_referral', 'try Ned', '{"name": "Ned", "phone": "+1 212 555 0100"}')).outcome;
SELECT id, name, phone, company, country, campaign, source, referred_by
  FROM leadflow.lead WHERE referred_by = 1;

-- The first step of the plan is the first touch: connected moves the lead
-- to the second step (1 day after assignment, in Eva's hours) with the
-- SLA 2 working hours after it; the second touch spends the plan.
SELECT (leadflow.log_touch(2, 'call', 'connected')).outcome;
SELECT * FROM edge_state WHERE id = 2;
SELECT (leadflow.log_touch(2, 'email', 'not_reached')).outcome;
SELECT * FROM edge_state WHERE id = 2;

-- A lead imported with an owner and no plan takes its queue's.
INSERT INTO leadflow.lead (email, owner_id, assigned_at, queue)
    VALUES ('imported@edge.test', 2, '2026-03-06 09:00+00', 'two');
UPDATE leadflow.lead SET cadence = NULL WHERE email = 'imported@edge.test';
SELECT (leadflow.log_touch(id, 'call', 'not_reached')).outcome FROM leadflow.lead WHERE email = 'imported@edge.test';
SELECT cadence, cadence_step, next_touch_at, sla_due_at FROM leadflow.lead WHERE email = 'imported@edge.test';

-- A manager logs a touch for another rep; a rep may not name another.
SET ROLE edge_manager;
INSERT INTO leadflow.touch (lead_id, rep_id, at, channel, outcome, note)
    VALUES (3, 2, '2026-03-09 13:00+00', 'call', 'dead', 'gone') RETURNING lead_id, rep_id, outcome;
RESET ROLE;
SELECT id, stage, reject_reason FROM edge_state WHERE id = 3;
SET ROLE edge_rep;
INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (4, 2, 'call', 'connected');
-- a rep's touch in the allowed skew, and one past it
INSERT INTO leadflow.touch (lead_id, at, channel, outcome)
    VALUES (4, '2026-03-09 14:05:00+00', 'call', 'connected') RETURNING rep_id;
INSERT INTO leadflow.touch (lead_id, at, channel, outcome)
    VALUES (5, '2026-03-09 14:05:01+00', 'call', 'connected');
RESET ROLE;

-- A touch with no time: the NOT NULL on the column refuses it, and the
-- lead is as it was.
\set VERBOSITY terse
INSERT INTO leadflow.touch (lead_id, at, channel, outcome) VALUES (6, NULL, 'call', 'connected');
\set VERBOSITY default
SELECT * FROM edge_state WHERE id = 6;

SELECT count(*) AS invariant_violations FROM leadflow.check_invariants();
DROP VIEW edge_state;
DROP OWNED BY edge_rep, edge_manager;
DROP ROLE edge_rep, edge_manager;
