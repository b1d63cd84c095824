-- Adopting leadflow on an existing CRM: history imported as given (caps,
-- "new today" in the rep's local day, the follow-up plan, COPY), shared
-- holiday calendars, a sweep that never strands a lead, alerts that
-- always have a recipient, hand-offs resolved by the rules, waiting leads
-- given back to a previous owner, and the fixed views.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- Monday: 10:00 in New York, 14:00 in London
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, hours, max_open, max_new_per_day) VALUES
    (9, 'Vera', 'mon-fri 09:00-17:00 UTC', 150, 7);                       -- head of sales
INSERT INTO leadflow.rep (id, name, hours, max_open, max_new_per_day, manager_id) VALUES
    (1, 'Ana', 'mon-fri 09:00-17:00 America/New_York', 3, 2, 9),
    (2, 'Ben', 'mon-fri 09:00-17:00 Europe/London', 150, 7, 9),
    (3, 'Cy',  'mon-fri 09:00-17:00 UTC', 150, 7, NULL);
SELECT setval('leadflow.rep_id_seq', 9);
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('sales', 'round_robin', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('sales', 1), ('sales', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (100, 'everyone', '{}', 'sales');
INSERT INTO leadflow.account (domain, name, attrs) VALUES ('acme.test', 'Acme Inc', '{"sector": "medical"}');

------------------------------------------------------------------------
-- History kept as given.  Ana (cap 3 open, 2 new a day) had five open
-- deals: all five are imported, past her cap -- it already happened.
-- Only the one assigned today in New York counts as new today: 02:00 UTC
-- was still Sunday there.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (external_id, email, owner_id, stage, queue, created_at, assigned_at,
                           last_touch_at, touches, cadence_step) VALUES
    ('h1', 'h1@acme.test', 1, 'working', 'sales', '2025-11-03 15:00+00', NULL, '2026-03-02 15:00+00', 2, 2),
    ('h2', 'h2@acme.test', 1, 'working', 'sales', '2025-12-01 15:00+00', '2025-12-02 15:00+00', NULL, 0, 0),
    ('h3', 'h3@gmail.com', 1, 'new', 'sales', '2026-03-08 10:00+00', NULL, NULL, 0, 0),
    ('h4', 'h4@other.test', 1, 'new', NULL, '2026-03-09 02:00+00', NULL, NULL, 0, 0),
    ('h5', 'h5@other.test', 1, 'new', 'sales', '2026-03-09 13:00+00', NULL, NULL, 0, 0);
SELECT external_id, account_id, assigned_at, cadence IS NOT NULL AS has_cadence, cadence_step,
       next_touch_at, sla_due_at
  FROM leadflow.lead ORDER BY id;
-- Ben's day is London's: the same 02:00 UTC import is today for him.
INSERT INTO leadflow.lead (external_id, email, owner_id, stage, created_at)
    VALUES ('h6', 'h6@other.test', 2, 'new', '2026-03-09 02:00+00');
-- Closed history counts toward the record, takes no seat, and says how
-- it found its account.
INSERT INTO leadflow.lead (external_id, email, company, owner_id, stage, created_at) VALUES
    ('c1', 'c1@acme.test', NULL, 2, 'converted', '2025-06-01'),
    ('c2', 'c2@gmail.com', 'ACME, inc.', 2, 'rejected', '2025-07-01'),
    ('c3', NULL, NULL, NULL, 'nurture', '2025-08-01');
SELECT rep_id, open_count, new_day, new_count, won_count, closed_count
  FROM leadflow.rep_load WHERE rep_id IN (1, 2) ORDER BY rep_id;
SELECT l.external_id, d.kind, d.to_rep, d.reason, d.account_id, d.account_match
  FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id ORDER BY d.id;
-- rep_pipeline shows who is over a cap.
SELECT rep, open_leads, max_open, new_today, max_new_per_day, over_cap
  FROM leadflow.rep_pipeline WHERE rep_id IN (1, 2) ORDER BY rep_id;
-- The ledger and counters agree with leads held past a cap through imports.
SELECT * FROM leadflow.check_invariants();
-- ... and a real violation is still seen.
BEGIN;
UPDATE leadflow.rep_load SET open_count = open_count - 1 WHERE rep_id = 1;
SELECT kind, rep_id, detail FROM leadflow.check_invariants();
ROLLBACK;
-- A move by hand is cap-checked as before; routing passes Ana over.
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE external_id = 'h6'), 1, 'hand over');
INSERT INTO leadflow.lead (email, queue) VALUES ('new1@other.test', NULL) RETURNING owner_id;

-- The bulk path: COPY into leadflow.lead, the same rules per row.
COPY leadflow.lead (external_id, email, company, owner_id, stage, created_at, last_touch_at, touches)
    FROM stdin (FORMAT csv);
k1,k1@acme.test,,2,working,2026-01-05 10:00+00,2026-03-03 10:00+00,3
k2,k2@gmail.com,Acme Incorporated,2,converted,2025-02-01 10:00+00,,5
k3,,Nobody Ltd,3,rejected,2025-03-01 10:00+00,,1
\.
SELECT l.external_id, l.account_id, l.assigned_at, l.next_touch_at, l.sla_due_at, d.account_match
  FROM leadflow.lead l JOIN leadflow.decision d ON d.lead_id = l.id
 WHERE l.external_id LIKE 'k%' ORDER BY l.id;
SELECT * FROM leadflow.check_counters();

-- The sweep covers imported leads: their SLAs run out like any other's,
-- and they move to Ben; his own imported lead has nobody else and stays.
SELECT * FROM leadflow.sweep('2026-03-10 16:00:00+00') WHERE leads > 0;
SELECT l.external_id, r.name AS owner, l.reassignments
  FROM leadflow.lead l JOIN leadflow.rep r ON r.id = l.owner_id
 WHERE l.external_id LIKE 'h%' ORDER BY l.id;
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- Shared holiday calendars: a rep follows one and adds its own days;
-- routing, the sweep, touches and speed_to_lead count them.
------------------------------------------------------------------------
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule RESTART IDENTITY CASCADE;
UPDATE leadflow.rep_load SET open_count = 0, new_day = NULL, new_count = 0;
SET leadflow.clock = '2026-04-02 16:30:00+00';   -- Thursday before Easter, London
INSERT INTO leadflow.holiday_calendar (name, description) VALUES ('UK', 'England and Wales');
INSERT INTO leadflow.holiday (calendar, day, name) VALUES
    ('UK', '2026-04-03', 'Good Friday'), ('UK', '2026-04-06', 'Easter Monday');
UPDATE leadflow.rep SET calendar = 'UK', holidays = '{2026-04-07}' WHERE id = 2;   -- Ben adds a day
SELECT name, calendar, holidays, leadflow.rep_holidays(r) FROM leadflow.rep r ORDER BY id;
TRUNCATE leadflow.queue_member, leadflow.member_state;
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('default', 2);
-- Routed on Thursday at 17:30 in London, after hours: the next touch is
-- Wednesday at 09:00 there, the hour's SLA ends at 10:00.
INSERT INTO leadflow.lead (email) VALUES ('e1@other.test')
    RETURNING owner_id, next_touch_at, sla_due_at;
-- A day added to the calendar reaches routing at once.
INSERT INTO leadflow.holiday (calendar, day, name) VALUES ('UK', '2026-04-08', 'made up');
INSERT INTO leadflow.lead (email) VALUES ('e2@other.test')
    RETURNING owner_id, next_touch_at, sla_due_at;
-- A touch plans the next one around the holidays.
SELECT (leadflow.log_touch(id, 'call', 'not_reached')).outcome FROM leadflow.lead WHERE email = 'e1@other.test';
SELECT next_touch_at, sla_due_at FROM leadflow.lead WHERE email = 'e1@other.test';
-- The sweep does not see a breach over the holidays.
SELECT * FROM leadflow.sweep('2026-04-08 12:00:00+00') WHERE leads > 0;
-- speed_to_lead judges the SLA in the owner's business time, calendar
-- included: touched on Thursday 09:15 after the holidays, within the hour.
SET leadflow.clock = '2026-04-09 09:15:00+00';
SELECT (leadflow.log_touch(id, 'call', 'connected')).outcome FROM leadflow.lead WHERE email = 'e2@other.test';
SELECT queue, rep, leads, touched, sla_met, sla_attainment FROM leadflow.speed_to_lead;
-- A calendar in use cannot be dropped; renamed, reps follow.
DELETE FROM leadflow.holiday_calendar WHERE name = 'UK';
UPDATE leadflow.holiday_calendar SET name = 'GB' WHERE name = 'UK';
SELECT name, calendar FROM leadflow.rep WHERE id = 2;
INSERT INTO leadflow.holiday (calendar, day) VALUES ('XX', '2026-01-01');
INSERT INTO leadflow.holiday (calendar, day) VALUES ('GB', 'infinity');
UPDATE leadflow.rep SET calendar = NULL, holidays = '{}' WHERE id = 2;
TRUNCATE leadflow.queue_member, leadflow.member_state;

------------------------------------------------------------------------
-- The sweep never strands a lead.  Nobody else can take it: it stays
-- with its owner, its SLA starts again, the owner's manager hears of it.
------------------------------------------------------------------------
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert RESTART IDENTITY CASCADE;
UPDATE leadflow.rep_load SET open_count = 0, new_day = NULL, new_count = 0;
SET leadflow.clock = '2026-03-09 09:00:00+00';
UPDATE leadflow.rep SET hours = 'mon-fri 09:00-17:00 UTC';
INSERT INTO leadflow.queue (name, strategy, sticky_account, max_reassignments) VALUES
    ('solo', 'round_robin', false, 2), ('lone', 'round_robin', false, 0);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('solo', 2), ('lone', 3);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'solo', '{"campaign": "solo"}', 'solo'), (2, 'lone', '{"campaign": "lone"}', 'lone');
INSERT INTO leadflow.lead (email, campaign) VALUES ('s1@other.test', 'solo'), ('l1@other.test', 'lone');
SELECT * FROM leadflow.sweep('2026-03-09 10:30:00+00') WHERE leads > 0;
SELECT email, owner_id, reassignments, sla_due_at FROM leadflow.lead ORDER BY id;
SELECT l.email, d.kind, d.from_rep, d.to_rep, d.queue, d.reason, leadflow.candidate_count(d.candidates) AS considered
  FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id WHERE d.kind = 'keep' ORDER BY d.id;
-- Ben's breach goes to his manager Vera.  Cy has no manager, and queue
-- "lone" escalates at once with nobody to escalate to: kept, and the
-- alert goes to the head of sales (Vera: a manager without a manager).
SELECT a.kind, l.email, r.name AS recipient FROM leadflow.alert a
  JOIN leadflow.lead l ON l.id = a.lead_id JOIN leadflow.rep r ON r.id = a.rep_id ORDER BY a.id;
-- A queue's manager hears of its leads whose rep has no manager.
UPDATE leadflow.queue SET manager_id = 2 WHERE name = 'lone';
SELECT * FROM leadflow.sweep('2026-03-09 12:00:00+00') WHERE leads > 0;
SELECT a.kind, l.email, r.name AS recipient FROM leadflow.alert a
  JOIN leadflow.lead l ON l.id = a.lead_id JOIN leadflow.rep r ON r.id = a.rep_id
 WHERE a.id > 2 ORDER BY a.id;
-- Past max_reassignments the solo lead escalates to Ben's manager.
SELECT * FROM leadflow.sweep('2026-03-09 15:00:00+00') WHERE leads > 0;
SELECT email, owner_id, reassignments FROM leadflow.lead WHERE email = 's1@other.test';
-- Every alert has a recipient; backlog alerts go to the queue's manager.
UPDATE leadflow.rep SET max_open = 0 WHERE id = 3;
INSERT INTO leadflow.lead (email, campaign) VALUES ('l2@other.test', 'lone') RETURNING owner_id;
SELECT a.kind, r.name AS recipient FROM leadflow.alert a JOIN leadflow.rep r ON r.id = a.rep_id
 WHERE a.kind = 'backlog';
SELECT count(*) AS alerts_without_recipient FROM leadflow.alert WHERE rep_id IS NULL;
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- A waiting lead whose only possible owners are its previous owners goes
-- back to one of them.
------------------------------------------------------------------------
UPDATE leadflow.rep SET max_open = 150 WHERE id = 3;
SELECT leadflow.assign(id, 2, 'covering') FROM leadflow.lead WHERE email = 'l2@other.test';
SELECT leadflow.assign(id, 3, 'back') FROM leadflow.lead WHERE email = 'l2@other.test';
UPDATE leadflow.lead SET owner_id = NULL WHERE email = 'l2@other.test';
-- Cy, its only member, was an owner before: explain says so, and what
-- route() then does -- it goes back to Cy.
SELECT rep, eligible, reason, chosen FROM leadflow.explain((SELECT id FROM leadflow.lead WHERE email = 'l2@other.test'));
SELECT leadflow.route(id) AS owner FROM leadflow.lead WHERE email = 'l2@other.test';
SELECT reason, candidates -> 0 ->> 'reason' AS cy_was FROM leadflow.decision ORDER BY id DESC LIMIT 1;

------------------------------------------------------------------------
-- Hand-off by the rules: at the end of the ownership window an inbound
-- lead goes to its account's territory.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-10 09:00:00+00';
UPDATE leadflow.rep SET max_new_per_day = 20 WHERE id = 1;
INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for, handoff_by_rules, then_queue, touch_sla)
    VALUES ('west', 'round_robin', true, NULL, false, NULL, '30 days'),
           ('inbound', 'round_robin', true, '2 days', true, NULL, '30 days');
INSERT INTO leadflow.queue (name, handoff_by_rules) VALUES ('nohold', true);
UPDATE leadflow.queue SET then_queue = 'solo' WHERE name = 'inbound';
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('inbound', 1), ('west', 3);
INSERT INTO leadflow.account (domain, name, attrs) VALUES
    ('w.test', 'West Co', '{"region": "west"}'), ('n.test', 'North Co', '{"region": "north"}');
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (0, 'inbound calls', '{"source": "call"}', 'inbound'),
    (5, 'west', '{"account": {"region": "west"}}', 'west');
INSERT INTO leadflow.lead (email, source) VALUES ('i1@w.test', 'call'), ('i2@n.test', 'call');
SELECT email, queue, owner_id FROM leadflow.lead WHERE source = 'call' ORDER BY id;
SELECT * FROM leadflow.sweep('2026-03-12 09:30:00+00') WHERE leads > 0 AND action LIKE 'hand%';
-- The west account's lead went to the west territory; the other matched
-- no territory and went to then_queue ("solo").
SELECT l.email, l.queue, r.name AS owner, d.kind
  FROM leadflow.lead l JOIN leadflow.rep r ON r.id = l.owner_id
  JOIN LATERAL (SELECT kind FROM leadflow.decision WHERE lead_id = l.id ORDER BY id DESC LIMIT 1) d ON true
 WHERE l.source = 'call' ORDER BY l.id;
-- Nobody in the territory can take it yet: it stays, tried again later.
INSERT INTO leadflow.account (domain, name, attrs) VALUES ('w2.test', 'West Two', '{"region": "west"}');
INSERT INTO leadflow.lead (email, source) VALUES ('i3@w2.test', 'call') RETURNING owner_id;
SELECT (leadflow.log_touch(id, 'call', 'connected')).outcome FROM leadflow.lead WHERE email = 'i3@w2.test';
UPDATE leadflow.rep SET active = false WHERE id = 3;
SELECT * FROM leadflow.sweep('2026-03-14 10:00:00+00') WHERE action LIKE 'hand%';
SELECT email, queue, owner_id FROM leadflow.lead WHERE email = 'i3@w2.test';
UPDATE leadflow.rep SET active = true WHERE id = 3;
SELECT * FROM leadflow.sweep('2026-03-14 10:05:00+00') WHERE action LIKE 'hand%';
SELECT email, queue, owner_id FROM leadflow.lead WHERE email = 'i3@w2.test';
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- The views: free seats per member, fairness over members that were
-- eligible, one definition per rate.
------------------------------------------------------------------------
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
UPDATE leadflow.rep_load SET open_count = 0, new_day = NULL, new_count = 0, won_count = 0, closed_count = 0;
SET leadflow.clock = '2026-03-16 10:00:00+00';
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('fair', 'weighted', false);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('fair', 1, 1), ('fair', 2, 1), ('fair', 3, 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'fair', '{}', 'fair');
UPDATE leadflow.rep SET max_open = 150, max_new_per_day = 100, away_until = NULL;
UPDATE leadflow.rep SET away_until = '2026-04-01' WHERE id = 3;   -- Cy is away all along
INSERT INTO leadflow.lead (email) SELECT 'f' || g || '@other.test' FROM generate_series(1, 6) g;
SELECT queue, rep, weight, weight_share, assignments, assignment_share, share_vs_weight, times_eligible
  FROM leadflow.fairness ORDER BY rep;
-- Ana's cap lowered under her pipeline: the others' seats still count.
UPDATE leadflow.rep SET max_open = 1 WHERE id = 1;
SELECT queue, members, seats, open_leads, free_seats FROM leadflow.capacity WHERE queue = 'fair';
-- Rates: win_rate = won / closed, conversion_rate = converted / leads.
SELECT (leadflow.log_touch(id, 'call', 'qualified')).outcome FROM leadflow.lead WHERE email = 'f1@other.test';
UPDATE leadflow.lead SET stage = 'converted' WHERE email = 'f2@other.test';
UPDATE leadflow.lead SET stage = 'rejected', reject_reason = 'no budget' WHERE email = 'f3@other.test';
SELECT rep, open_leads, won, closed, win_rate, converted, leads, conversion_rate
  FROM leadflow.rep_pipeline WHERE leads > 0 ORDER BY rep_id;
SELECT campaign, leads, contacted, ever_qualified, converted, contact_rate, ever_qualified_rate, conversion_rate
  FROM leadflow.funnel;
SELECT source, leads, contacted, qualified, converted, contact_rate, qualification_rate, conversion_rate
  FROM leadflow.source_performance;
SELECT scope, closed_leads, converted, close_rate FROM leadflow.leads_needed(10);
SELECT * FROM leadflow.check_invariants();

RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.holiday_calendar;
