-- The reporting views on a small fixed-clock scenario whose numbers are
-- checked by hand (see the comments).
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- Monday
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
UPDATE leadflow.queue SET sticky_account = false WHERE name = 'default';

INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day) VALUES (1, 'Ana', 10, 20), (2, 'Ben', 5, 20);
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES
    ('web', 'round_robin', false), ('list', 'weighted', false), ('events', 'round_robin', false);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('web', 1, 1), ('web', 2, 1), ('list', 1, 3), ('list', 2, 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'web', '{"source": "web_form"}', 'web'),
    (2, 'list', '{"source": "purchased_list"}', 'list'),
    (3, 'events', '{"source": "event"}', 'events');

-- 4 web leads (Ana, Ben, Ana, Ben), 4 list leads (Ana, Ana, Ben, Ana), 1
-- event lead waiting (the events queue has no members).
INSERT INTO leadflow.lead (email, source, campaign)
    SELECT 'w' || g || '@x.test', 'web_form', 'spring' FROM generate_series(1, 4) g;
INSERT INTO leadflow.lead (email, source, campaign)
    SELECT 'l' || g || '@x.test', 'purchased_list', 'list-a' FROM generate_series(1, 4) g;
INSERT INTO leadflow.lead (email, source, campaign) VALUES ('e1@x.test', 'event', 'fair');
SELECT l.email, r.name AS owner FROM leadflow.lead l LEFT JOIN leadflow.rep r ON r.id = l.owner_id ORDER BY l.id;

-- Touches: w1 after 10 minutes (connected, then qualified, then converted),
-- w2 after 30 minutes (dead), w3 after 2 hours (past its 1-hour SLA), w4
-- never; l1 qualified after 20 minutes and converted; l2 unsubscribed.
SET leadflow.clock = '2026-03-09 14:10:00+00';
SELECT (leadflow.log_touch(1, 'call', 'connected')).outcome;
SELECT (leadflow.log_touch(1, 'call', 'qualified')).outcome;
UPDATE leadflow.lead SET stage = 'converted', value = 5000 WHERE id = 1;
SET leadflow.clock = '2026-03-09 14:20:00+00';
SELECT (leadflow.log_touch(5, 'call', 'qualified')).outcome;
UPDATE leadflow.lead SET stage = 'converted' WHERE id = 5;
SET leadflow.clock = '2026-03-09 14:30:00+00';
SELECT (leadflow.log_touch(2, 'call', 'dead', 'no budget')).outcome;
SELECT (leadflow.log_touch(6, 'email', 'unsubscribed')).outcome;
SET leadflow.clock = '2026-03-09 16:00:00+00';
SELECT (leadflow.log_touch(3, 'call', 'not_reached')).outcome;

-- Read the reports at Tuesday 09:30.
SET leadflow.clock = '2026-03-10 09:30:00+00';

-- Ana: open w3, l3? no -- l1 converted, l2 rejected, l4 open, w3 open -> open
--   = w3, l4 = 2 of 10 (0.2); won 2 (w1, l1), closed 3 (w1, l1, l2) -> 0.6667.
-- Ben: open w4, l3 = 2 of 5 (0.4); closed 1 (w2 rejected), won 0 -> 0.
-- overdue: every open lead's next touch is past (w3's step 2, "email@1h",
-- fell due Mon 15:00, before its late first touch); SLA: w3's runs a
-- working day from that (Tue 15:00, not yet), the others' one hour after
-- assignment -> breached.
-- win_rate is won / closed, conversion_rate converted / all its leads.
SELECT rep, open_leads, max_open, open_vs_cap, new_today, max_new_per_day, over_cap, overdue,
       sla_breached, touched_within_48h, touched_within_48h_rate, won, closed, win_rate,
       converted, leads, conversion_rate
  FROM leadflow.rep_pipeline ORDER BY rep_id;

-- web_form/spring: 4 leads, 3 contacted (w1, w2, w3), qualified+converted
-- 1 (w1), converted 1, rejected 1 (w2); first touches 10, 30, 120 minutes
-- after creation -> median 30.
-- purchased_list/list-a: 4 leads, contacted 2 (l1, l2), qualified 1 (l1),
-- converted 1, rejected 1; first touches 20, 30 -> median 25.
SELECT * FROM leadflow.source_performance ORDER BY source, campaign;

-- fair: 1 lead, nobody assigned; list-a: 4 assigned, 2 contacted, 1
-- qualified (l1, through the history), 1 converted; spring: likewise 4, 3,
-- 1, 1.
SELECT * FROM leadflow.funnel ORDER BY campaign;

-- Assigned at creation (0 minutes).  web/Ana: w1 touched after 10, w3
-- after 120 -> median 65, p90 10 + 0.9 x 110 = 109; SLA (1 working hour):
-- w1 met, w3 not -> 1 of 2.  web/Ben: w2 after 30 (met), w4 untouched and
-- past its SLA -> 1 of 2.  list/Ana: l1 after 20 and l2 after 30 (both
-- met), l4 untouched and past -> 2 of 3.  list/Ben: l3 untouched -> 0 of 1.
SELECT * FROM leadflow.speed_to_lead ORDER BY queue, rep;

-- dead (w2) and unsubscribed (l2): one each, half of the rejected.
SELECT * FROM leadflow.reject_reasons ORDER BY reason;

SELECT lead_id, rep, queue, stage, minutes_overdue, sla_breached, reassignments
  FROM leadflow.overdue ORDER BY lead_id;
SELECT lead_id, queue, minutes_waiting, last_decision FROM leadflow.backlog;

-- web: 4 assignments, 2 each, weights equal -> 1.00 each.  list: weights
-- 3:1, assignments 3:1 -> 1.00 each.
SELECT * FROM leadflow.fairness ORDER BY queue, rep;

-- Seats: web and list both Ana 10 + Ben 5 = 15, 4 open; intake 40 a day
-- against 4 leads in 7 days (0.6 a day).  events: no members, 1 waiting.
SELECT * FROM leadflow.capacity ORDER BY queue;

-- Closed: w1, w2, l1, l2 (converted 2 of 4) -> 10 conversions need 20
-- leads; web_form alone: w1, w2 (1 of 2) -> 3 need 6.
SELECT * FROM leadflow.leads_needed(10);
SELECT * FROM leadflow.leads_needed(3, 'web_form');
SELECT * FROM leadflow.leads_needed(0);
SELECT * FROM leadflow.leads_needed(5, 'event');

RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
UPDATE leadflow.queue SET sticky_account = true WHERE name = 'default';
