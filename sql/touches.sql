-- Touches, cadence and stages: every outcome, a 10-touch cadence walked to
-- nurture in the owner's working hours, the qualification matrix, a
-- referral chain, stage transitions, who may touch, the work list -- with
-- counters and history checked as we go.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- Monday 10:00 in New York
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.qualification_criterion;

-- Two reps who log in as themselves, and a manager.
CREATE ROLE ana_rep;
CREATE ROLE ben_rep;
CREATE ROLE max_manager;
GRANT leadflow_rep TO ana_rep, ben_rep;
GRANT leadflow_manager TO max_manager;
INSERT INTO leadflow.rep (id, name, login, hours, holidays, max_new_per_day) VALUES
    (1, 'Ana', 'ana_rep', 'mon-fri 09:00-17:00 America/New_York', '{2026-04-03}', 50),
    (2, 'Ben', 'ben_rep', 'mon-fri 09:00-17:00 America/New_York', '{}', 50);
INSERT INTO leadflow.queue (name, sticky_account, touch_sla) VALUES ('sales', false, '4 hours');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('sales', 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'sales');

CREATE VIEW lead_state AS
    SELECT l.id, l.email, l.stage, r.name AS owner, l.touches, l.cadence_step AS step,
           l.next_touch_at, l.sla_due_at, l.reject_reason
      FROM leadflow.lead l LEFT JOIN leadflow.rep r ON r.id = l.owner_id;

------------------------------------------------------------------------
-- A whole 10-touch cadence, the rep touching each time it falls due.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email, company) VALUES ('walk@acme.test', 'Acme');
SELECT id, stage, owner, step, next_touch_at, sla_due_at FROM lead_state;

CREATE TEMP TABLE walk (touch int, channel leadflow.channel, touched_at timestamptz,
                        stage leadflow.stage, step int, next_touch_at timestamptz,
                        sla_due_at timestamptz);
DO $$
DECLARE
    l leadflow.lead;
    n int := 0;
BEGIN
    LOOP
        SELECT * INTO l FROM leadflow.lead WHERE email = 'walk@acme.test';
        EXIT WHEN l.stage NOT IN ('new', 'working');
        -- the rep touches exactly when the step falls due
        PERFORM set_config('leadflow.clock', l.next_touch_at::text, false);
        n := n + 1;
        PERFORM leadflow.log_touch(l.id, leadflow.cadence_channel(l.cadence, l.cadence_step),
                                   'not_reached');
        INSERT INTO walk SELECT n, leadflow.cadence_channel(l.cadence, l.cadence_step),
                                l.next_touch_at, x.stage, x.cadence_step, x.next_touch_at,
                                x.sla_due_at
                           FROM leadflow.lead x WHERE x.id = l.id;
    END LOOP;
END $$;
-- Local New York times: every attempt inside 09:00-17:00 on a weekday,
-- and no two day-apart attempts in the same part of the day in a row.
SELECT touch, channel,
       to_char(touched_at AT TIME ZONE 'America/New_York', 'Dy YYYY-MM-DD HH24:MI') AS touched_local,
       stage, step,
       to_char(next_touch_at AT TIME ZONE 'America/New_York', 'Dy YYYY-MM-DD HH24:MI') AS next_local,
       to_char(sla_due_at AT TIME ZONE 'America/New_York', 'Dy MM-DD HH24:MI') AS sla_local
  FROM walk ORDER BY touch;
SELECT count(*) AS attempts_outside_hours
  FROM walk w
 WHERE leadflow.next_open(w.touched_at, 'mon-fri 09:00-17:00 America/New_York') <> w.touched_at;
-- Part of day from local time: 09:00-11:40 morning, -14:20 midday, after.
SELECT count(*) AS same_weekday_and_part_in_a_row
  FROM (SELECT touched_at,
               lag(touched_at) OVER (ORDER BY touch) AS prev,
               touch
          FROM walk) w
 WHERE touch > 2
   AND extract(isodow FROM touched_at AT TIME ZONE 'America/New_York')
     = extract(isodow FROM prev AT TIME ZONE 'America/New_York')
   AND width_bucket(extract(epoch FROM (touched_at AT TIME ZONE 'America/New_York')::time) / 60, 540, 1020, 3)
     = width_bucket(extract(epoch FROM (prev AT TIME ZONE 'America/New_York')::time) / 60, 540, 1020, 3);
-- The spent cadence sent the lead to nurture and out of Ana's pipeline.
SELECT stage, touches, cadence_step, next_touch_at, sla_due_at, first_touch_at IS NOT NULL AS touched
  FROM leadflow.lead WHERE email = 'walk@acme.test';
SELECT open_count FROM leadflow.rep_load WHERE rep_id = 1;
SELECT from_stage, to_stage, by_role FROM leadflow.stage_history ORDER BY id;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Outcomes.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-10 15:00:00+00';   -- Tuesday 11:00 in New York
INSERT INTO leadflow.lead (email, company, attrs) VALUES
    ('q@acme.test', 'Acme', '{"budget": "maybe"}'),
    ('d1@acme.test', 'Acme', '{}'),
    ('d2@beta.test', 'Beta', '{}'),
    ('d3@gamma.test', 'Gamma', '{}'),
    ('r1@delta.test', 'Delta', '{}'),
    ('c@acme.test', 'Acme', '{}');

-- connected: a live conversation, the cadence goes on, new -> working.
SELECT touch.outcome, touch.rep_id FROM leadflow.log_touch(
    (SELECT id FROM leadflow.lead WHERE email = 'c@acme.test'), 'call', 'connected', 'call back Friday') AS touch;
SELECT stage, touches, step, next_touch_at, sla_due_at FROM lead_state WHERE email = 'c@acme.test';

-- qualified needs the qualification matrix.
INSERT INTO leadflow.qualification_criterion (name, attribute, allowed, required) VALUES
    ('budget', 'budget', '{approved,planned}', true),
    ('timeline', 'timeline', NULL, true),
    ('authority', 'decision_maker', '{yes,no}', false);
SELECT * FROM leadflow.qualification_missing((SELECT id FROM leadflow.lead WHERE email = 'q@acme.test'));
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'q@acme.test'), 'call', 'qualified');
SELECT stage, touches FROM lead_state WHERE email = 'q@acme.test';
UPDATE leadflow.lead SET attrs = attrs || '{"budget": "approved", "timeline": "Q3"}' WHERE email = 'q@acme.test';
SELECT count(*) AS still_missing FROM leadflow.qualification_missing((SELECT id FROM leadflow.lead WHERE email = 'q@acme.test'));
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'q@acme.test'), 'call', 'qualified')).outcome;
SELECT stage, touches, next_touch_at, sla_due_at FROM lead_state WHERE email = 'q@acme.test';

-- dead, dead_other_contact, unsubscribed: rejected with the reason.
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'd1@acme.test'), 'call', 'dead', 'no budget this year')).outcome;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'd2@beta.test'), 'email', 'dead_other_contact')).outcome;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'd3@gamma.test'), 'email', 'unsubscribed')).outcome;
SELECT email, stage, reject_reason FROM lead_state WHERE email LIKE 'd_@%' ORDER BY email;
SELECT domain, pursue_other_contacts FROM leadflow.account ORDER BY domain;

-- dead_referral: a new lead, referred by this one, routed like any other.
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'r1@delta.test'), 'call', 'dead_referral');
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'r1@delta.test'), 'call', 'dead_referral',
        'wrong person, try Rita', '{"name": "Rita", "email": "rita@delta.test"}')).outcome;
-- and the referral passes on a referral in turn: a chain
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'rita@delta.test'), 'call', 'dead_referral',
        NULL, '{"name": "Sam", "phone": "+1 555 0100", "company": "Delta Labs"}')).outcome;
SELECT l.name, l.email, l.phone, l.company, l.source, l.stage, r.name AS owner,
       p.email AS referred_by
  FROM leadflow.lead l LEFT JOIN leadflow.rep r ON r.id = l.owner_id
  LEFT JOIN leadflow.lead p ON p.id = l.referred_by
 WHERE l.source = 'referral' OR l.email = 'r1@delta.test' ORDER BY l.id;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Who may touch, and what cannot be touched.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email) VALUES ('who@acme.test') RETURNING id AS who_id \gset
-- (Ben names the lead by id: row-level security hides Ana's leads from him.)
SET ROLE ben_rep;
SELECT leadflow.log_touch(:who_id, 'call', 'connected');
INSERT INTO leadflow.touch (lead_id, channel, outcome) VALUES (:who_id, 'call', 'connected');
RESET ROLE;
SET ROLE ana_rep;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'who@acme.test'), 'email', 'not_reached')).rep_id;
RESET ROLE;
SET ROLE max_manager;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'who@acme.test'), 'call', 'not_reached')).rep_id;
-- a manager may log a touch in another rep's name
INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome)
    SELECT id, 2, 'sms', 'not_reached' FROM leadflow.lead WHERE email = 'who@acme.test'
    RETURNING rep_id, channel, outcome;
RESET ROLE;
SELECT touches, step FROM lead_state WHERE email = 'who@acme.test';

SELECT leadflow.log_touch(999999, 'call', 'connected');
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'd1@acme.test'), 'call', 'connected');
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'q@acme.test'), 'call', 'connected');
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'who@acme.test'), 'call', 'voicemail');
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'who@acme.test'), 'fax', 'connected');
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'who@acme.test'), 'call', NULL);
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email) VALUES ('nobody@acme.test');
RESET leadflow.route_on_insert;
SELECT leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'nobody@acme.test'), 'call', 'connected');
-- nothing of the failed touches was written
SELECT count(*) AS touches_logged FROM leadflow.touch;
SELECT sum(touches) AS touches_counted FROM leadflow.lead;

------------------------------------------------------------------------
-- Stage changes: validated, recorded, counted.
------------------------------------------------------------------------
UPDATE leadflow.lead SET stage = 'converted', value = 12000 WHERE email = 'q@acme.test';
UPDATE leadflow.lead SET stage = 'working' WHERE email = 'q@acme.test';
UPDATE leadflow.lead SET stage = 'new' WHERE email = 'who@acme.test';
UPDATE leadflow.lead SET stage = 'new' WHERE email = 'd1@acme.test';
SELECT leadflow.reopen((SELECT id FROM leadflow.lead WHERE email = 'd1@acme.test'), NULL);
SELECT leadflow.reopen((SELECT id FROM leadflow.lead WHERE email = 'q@acme.test'), 'again');
SELECT leadflow.reopen(999999, 'no such lead');
SET leadflow.clock = '2026-03-11 20:30:00+00';   -- Wednesday 16:30 in New York
SELECT leadflow.reopen((SELECT id FROM leadflow.lead WHERE email = 'd1@acme.test'), 'budget found after all');
-- back in Ana's pipeline, touch due now, SLA in her working time
SELECT stage, owner, reject_reason, next_touch_at, sla_due_at FROM lead_state WHERE email = 'd1@acme.test';
SELECT attrs FROM leadflow.lead WHERE email = 'd1@acme.test';
-- a nurtured lead comes back to working: cap-checked, and its cadence
-- starts again from now
UPDATE leadflow.lead SET stage = 'working' WHERE email = 'walk@acme.test';
SELECT stage, step, next_touch_at, sla_due_at FROM lead_state WHERE email = 'walk@acme.test';
-- an imported open lead without a cadence is given its queue's (since
-- 1.2 at the import, so that the sweep covers it), which its first touch
-- follows
INSERT INTO leadflow.lead (email, owner_id, stage, queue) VALUES ('imported@acme.test', 1, 'working', 'sales');
SELECT cadence IS NULL AS no_cadence_yet FROM leadflow.lead WHERE email = 'imported@acme.test';
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'imported@acme.test'), 'call', 'not_reached')).outcome;
SELECT l.stage, l.cadence_step, l.cadence = q.cadence AS queue_cadence, l.next_touch_at
  FROM leadflow.lead l JOIN leadflow.queue q ON q.name = l.queue WHERE l.email = 'imported@acme.test';
SELECT l.email, h.from_stage, h.to_stage, h.at
  FROM leadflow.stage_history h JOIN leadflow.lead l ON l.id = h.lead_id
 WHERE l.email IN ('q@acme.test', 'd1@acme.test') ORDER BY h.id;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- A lead keeps the cadence it was assigned with.
------------------------------------------------------------------------
UPDATE leadflow.queue SET cadence = 'call@0, call@2d' WHERE name = 'sales';
INSERT INTO leadflow.lead (email) VALUES ('later@acme.test');
SELECT email, cadence, leadflow.cadence_length(cadence) AS steps
  FROM leadflow.lead WHERE email IN ('who@acme.test', 'later@acme.test') ORDER BY email;

------------------------------------------------------------------------
-- The work list: due and overdue first, most overdue first, then score.
------------------------------------------------------------------------
UPDATE leadflow.lead SET score = 90 WHERE email = 'later@acme.test';
UPDATE leadflow.lead SET score = 40 WHERE email = 'c@acme.test';
SET leadflow.clock = '2026-03-12 15:00:00+00';   -- Thursday 11:00 in New York
SELECT rep, priority, email, score, next_channel, next_step, cadence_steps,
       due, minutes_overdue, sla_breached, touches
  FROM leadflow.work_list WHERE rep = 'Ana' ORDER BY priority;
SET ROLE ana_rep;
SELECT count(*) AS my_open_leads FROM leadflow.work_list WHERE rep_id = 1;
RESET ROLE;

RESET leadflow.clock;
DROP VIEW lead_state;
DELETE FROM leadflow.qualification_criterion;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DROP ROLE ana_rep, ben_rep, max_manager;
