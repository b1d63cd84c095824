-- Routing: rules and matching, every strategy, eligibility, account
-- stickiness, suppression, backlog, manual moves, imports, the ledger and
-- explain -- with the counters checked after each step.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- a Monday afternoon
-- Start from nothing, so ids do not depend on the tests before this one.
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;

INSERT INTO leadflow.rep (id, name, max_new_per_day, skills) VALUES
    (1, 'Ada', 100, '{german}'),
    (2, 'Bob', 100, '{}'),
    (3, 'Cy',  100, '{german,spanish}'),
    (4, 'Dee', 100, '{}');
SELECT rep_id, open_count, new_count FROM leadflow.rep_load ORDER BY rep_id;

-- Who got what, in order.
CREATE VIEW owners AS
    SELECT l.id, l.email, l.source, l.queue, r.name AS owner, l.stage
      FROM leadflow.lead l LEFT JOIN leadflow.rep r ON r.id = l.owner_id;

------------------------------------------------------------------------
-- Round robin: least recently assigned first, ties to the lowest id.
------------------------------------------------------------------------
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('rr', 'round_robin', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('rr', 1), ('rr', 2), ('rr', 3);
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (10, 'web forms', '{"source": "web_form"}', 'rr');

-- The owner is known in the INSERT itself.
INSERT INTO leadflow.lead (email, source) VALUES ('p1@gmail.com', 'web_form')
    RETURNING queue, owner_id, assigned_at, next_touch_at, sla_due_at;
INSERT INTO leadflow.lead (email, source)
    SELECT 'p' || g || '@gmail.com', 'web_form' FROM generate_series(2, 6) g;
SELECT id, queue, owner FROM owners ORDER BY id;
SELECT * FROM leadflow.check_counters();

-- The ledger explains each decision.
SELECT lead_id, kind, to_rep, rule_id, queue, strategy, reason,
       jsonb_path_query_array(candidates, '$[*].rep') AS reps,
       jsonb_path_query_array(candidates, '$[*].chosen') AS chosen
  FROM leadflow.decision ORDER BY id LIMIT 3;
SELECT candidates FROM leadflow.decision ORDER BY id LIMIT 1;

------------------------------------------------------------------------
-- Weighted: smooth weighted round robin, 3:1 is exactly 30/10, interleaved.
------------------------------------------------------------------------
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('w', 'weighted', false);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('w', 1, 3), ('w', 2, 1);
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (20, 'spring campaign', '{"campaign": "spring"}', 'w');
INSERT INTO leadflow.lead (email, campaign)
    SELECT 'w' || g || '@gmail.com', 'spring' FROM generate_series(1, 40) g;
SELECT string_agg(left(owner, 1), '' ORDER BY id) AS sequence
  FROM owners WHERE queue = 'w';
SELECT owner, count(*) FROM owners WHERE queue = 'w' GROUP BY owner ORDER BY owner;

------------------------------------------------------------------------
-- Load balanced: lowest open/max_open first.
------------------------------------------------------------------------
-- Ada has 2 + 30 open of 150, Bob 2 + 10 of 150, Cy 2 of 150, Dee 0 of 10.
UPDATE leadflow.rep SET max_open = 10 WHERE id = 4;
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('lb', 'load_balanced', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('lb', 1), ('lb', 2), ('lb', 3), ('lb', 4);
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (30, 'partners', '{"source": ["partner", "reseller"]}', 'lb');
INSERT INTO leadflow.lead (email, source)
    SELECT 'lb' || g || '@gmail.com', CASE WHEN g % 2 = 0 THEN 'partner' ELSE 'reseller' END
      FROM generate_series(1, 6) g;
SELECT string_agg(owner, ',' ORDER BY id) AS sequence FROM owners WHERE queue = 'lb';
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Performance: conversion rates smoothed toward the queue's average.
------------------------------------------------------------------------
-- History is imported as given: closed leads with owners count toward
-- each rep's record and take no seat.
INSERT INTO leadflow.lead (email, owner_id, stage, source)
    SELECT 'hist' || g || '@gmail.com', CASE WHEN g <= 40 THEN 1 ELSE 2 END,
           CASE WHEN g <= 30 OR (g > 40 AND g <= 45) THEN 'converted' ELSE 'rejected' END::leadflow.stage,
           'history'
      FROM generate_series(1, 80) g;
SELECT rep_id, won_count, closed_count FROM leadflow.rep_load WHERE rep_id IN (1, 2) ORDER BY 1;
SELECT * FROM leadflow.check_counters();
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('perf', 'performance', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('perf', 1), ('perf', 2), ('perf', 4);
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (40, 'events', '{"source": "event"}', 'perf');
INSERT INTO leadflow.lead (email, source)
    SELECT 'ev' || g || '@gmail.com', 'event' FROM generate_series(1, 30) g;
-- Ada (30 of 40 won) gets the most, Bob (5 of 40) the fewest; Dee, new,
-- sits at the queue's average (35 of 80).  Weights: 1000 x (won + 20 x
-- average) / (closed + 20), plus 1.
SELECT owner, count(*) FROM owners WHERE queue = 'perf' GROUP BY owner ORDER BY count(*) DESC;
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, source) VALUES ('ev-pending@gmail.com', 'event');
RESET leadflow.route_on_insert;
SELECT rep, weight, chosen FROM leadflow.explain(
    (SELECT id FROM leadflow.lead WHERE email = 'ev-pending@gmail.com')) ORDER BY rep_id;
SELECT leadflow.route((SELECT id FROM leadflow.lead WHERE email = 'ev-pending@gmail.com')) IS NOT NULL AS routed;

------------------------------------------------------------------------
-- Matching forms: nested attrs, "not", score bounds, skills.
------------------------------------------------------------------------
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('dach', false), ('big', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('dach', 1), ('dach', 2), ('dach', 3), ('big', 4);
INSERT INTO leadflow.rule (priority, name, match, require_skills, queue)
    VALUES (5, 'german speakers', '{"country": ["DE", "AT", "CH"], "not": {"utm": {"medium": "cpc"}}}',
            '{german}', 'dach');
INSERT INTO leadflow.rule (priority, name, match, min_score, queue)
    VALUES (6, 'big scores', '{}', 80, 'big');
INSERT INTO leadflow.lead (email, country, attrs) VALUES
    ('de1@gmail.com', 'DE', '{}'),
    ('de2@gmail.com', 'AT', '{"utm": {"medium": "email"}}'),
    ('de3@gmail.com', 'CH', '{}');
-- Only Ada and Cy speak German: Bob is passed over every time.
SELECT id, queue, owner FROM owners WHERE queue = 'dach' ORDER BY id;
-- A paid-search lead from Germany is not for the DACH team, and a score
-- of 90 takes the "big scores" rule; 50 falls through to default.
-- (Dee is full at 10 open: raise her cap first.)
UPDATE leadflow.rep SET max_open = 20 WHERE id = 4;
INSERT INTO leadflow.lead (email, country, attrs, score) VALUES
    ('de4@gmail.com', 'DE', '{"utm": {"medium": "cpc"}}', 90),
    ('x1@gmail.com', 'FR', '{}', 50);
SELECT email, queue, owner FROM owners WHERE email IN ('de4@gmail.com', 'x1@gmail.com') ORDER BY email;
-- The default queue has no members: that lead waits in the backlog.
SELECT kind, queue, reason, candidates FROM leadflow.decision
 WHERE lead_id = (SELECT id FROM leadflow.lead WHERE email = 'x1@gmail.com');
SELECT kind, lead_id = (SELECT id FROM leadflow.lead WHERE email = 'x1@gmail.com') AS that_lead,
       detail FROM leadflow.alert WHERE kind = 'backlog';

------------------------------------------------------------------------
-- Eligibility: every reason a member is passed over, shown by explain.
------------------------------------------------------------------------
INSERT INTO leadflow.rep (id, name, max_new_per_day, max_open, active, away_until) VALUES
    (5, 'Eve', 100, 150, false, NULL),
    (6, 'Fay', 100, 150, true, '2026-03-16 00:00+00'),
    (7, 'Gus', 1, 150, true, NULL),
    (8, 'Hal', 100, 0, true, NULL),
    (9, 'Ivy', 100, 150, true, NULL);
UPDATE leadflow.rep SET hours = 'mon-fri 09:00-17:00 Asia/Tokyo' WHERE id = 9;
INSERT INTO leadflow.queue (name, sticky_account, require_available) VALUES ('hot', false, true);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES
    ('hot', 2), ('hot', 5), ('hot', 6), ('hot', 7), ('hot', 8), ('hot', 9);
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (1, 'inbound calls', '{"source": "inbound_call"}', 'hot');
INSERT INTO leadflow.lead (email, source) VALUES ('call1@gmail.com', 'inbound_call');
-- Bob (lowest id) took it.  explain treats an owned lead as a
-- reassignment: Bob is passed over as its owner, and Gus would get it.
SELECT rep, eligible, reason, open_count, max_open, new_today, max_new_per_day, weight, chosen
  FROM leadflow.explain((SELECT id FROM leadflow.lead WHERE email = 'call1@gmail.com'));
INSERT INTO leadflow.lead (email, source) VALUES ('call2@gmail.com', 'inbound_call');
SELECT email, owner FROM owners WHERE email LIKE 'call%' ORDER BY email;
-- Gus took the next one and is at his daily cap of 1.  explain of an
-- unrouted lead shows what would happen, and changes nothing.
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, source) VALUES ('call3@gmail.com', 'inbound_call');
RESET leadflow.route_on_insert;
SELECT rep, eligible, reason, chosen
  FROM leadflow.explain((SELECT id FROM leadflow.lead WHERE email = 'call3@gmail.com'));
SELECT owner, queue FROM owners WHERE email = 'call3@gmail.com';
SELECT leadflow.route((SELECT id FROM leadflow.lead WHERE email = 'call3@gmail.com')) AS routed_to;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Accounts: the first assignee in a sticky queue owns the account.
------------------------------------------------------------------------
INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for)
    VALUES ('sticky', 'round_robin', true, '14 days');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('sticky', 1), ('sticky', 2), ('sticky', 3);
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (2, 'trade show', '{"source": "walk_in"}', 'sticky');
INSERT INTO leadflow.lead (email, source) VALUES ('ann@Acme.com', 'walk_in');
SELECT domain, owner_id, owned_until, status FROM leadflow.account WHERE domain = 'acme.com';
-- Round robin would say Bob next, but Acme belongs to its owner.
INSERT INTO leadflow.lead (email, source) VALUES ('ben@acme.com', 'walk_in'), ('cat@beta.io', 'walk_in');
SELECT email, owner FROM owners WHERE source = 'walk_in' ORDER BY id;
SELECT l.email, d.reason FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
 WHERE l.source = 'walk_in' ORDER BY d.id;
-- Free-mail domains never make an account.
SELECT count(*) AS gmail_accounts FROM leadflow.account WHERE domain = 'gmail.com';
-- An owner who cannot take the lead (away) is passed; the account keeps its owner.
UPDATE leadflow.rep SET away_until = '2026-03-10 00:00+00' WHERE id = (SELECT owner_id FROM leadflow.account WHERE domain = 'acme.com');
INSERT INTO leadflow.lead (email, source) VALUES ('dan@acme.com', 'walk_in');
SELECT email, owner FROM owners WHERE email = 'dan@acme.com';
UPDATE leadflow.rep SET away_until = NULL;

------------------------------------------------------------------------
-- Suppression: by account and by rule.
------------------------------------------------------------------------
INSERT INTO leadflow.account (domain, status, suppress_reason)
    VALUES ('competitor.com', 'suppressed', 'competitor');
INSERT INTO leadflow.rule (priority, name, match, action)
    VALUES (0, 'test leads', '{"campaign": "test"}', 'suppress');
INSERT INTO leadflow.lead (email, source) VALUES ('spy@competitor.com', 'web_form')
    RETURNING stage, owner_id, queue, reject_reason;
INSERT INTO leadflow.lead (email, campaign) VALUES ('qa@gmail.com', 'test')
    RETURNING stage, owner_id, queue, reject_reason;
SELECT l.email, d.kind, d.reason FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
 WHERE l.email IN ('spy@competitor.com', 'qa@gmail.com') ORDER BY d.id;

------------------------------------------------------------------------
-- Backlog: nobody eligible, then capacity frees and route_pending drains.
------------------------------------------------------------------------
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('tiny', false);
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day) VALUES (10, 'Jo', 1, 100);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('tiny', 10);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (3, 'tiny', '{"campaign": "tiny"}', 'tiny');
INSERT INTO leadflow.lead (email, campaign)
    SELECT 't' || g || '@gmail.com', 'tiny' FROM generate_series(1, 3) g;
SELECT email, owner, queue FROM owners WHERE email LIKE 't_@gmail.com' ORDER BY email;
SELECT count(*) AS backlog_alerts FROM leadflow.alert WHERE kind = 'backlog';
SELECT leadflow.route_pending(10) AS assigned_while_full;
UPDATE leadflow.rep SET max_open = 2 WHERE id = 10;
SELECT leadflow.route_pending(10) AS assigned_after_raise;
SELECT email, owner FROM owners WHERE email LIKE 't_@gmail.com' ORDER BY email;
-- A retry that still finds nobody writes no second backlog decision.
SELECT count(*) AS backlog_decisions FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
 WHERE l.email = 't3@gmail.com' AND d.kind = 'backlog';
SELECT count(*) AS cap_alerts FROM leadflow.alert WHERE kind = 'cap_reached' AND detail->>'rep' = 'Jo';
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Follow-up: first touch due now in working time, SLA in business time.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-13 16:30:00+00';   -- Friday, 30 minutes before closing
INSERT INTO leadflow.lead (email, source) VALUES ('fri@gmail.com', 'web_form')
    RETURNING assigned_at, next_touch_at, sla_due_at, cadence = leadflow.cadence_named('10x30') AS cadence_10x30;
SET leadflow.clock = '2026-03-14 11:00:00+00';   -- Saturday
INSERT INTO leadflow.lead (email, source) VALUES ('sat@gmail.com', 'web_form')
    RETURNING assigned_at, next_touch_at, sla_due_at;
SET leadflow.clock = '2026-03-09 14:00:00+00';

------------------------------------------------------------------------
-- Manual moves: cap-checked, recorded, overridable by managers only.
------------------------------------------------------------------------
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE email = 'p1@gmail.com'), 4, 'customer asked for Dee');
SELECT owner FROM owners WHERE email = 'p1@gmail.com';
SELECT kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
-- Jo is full (2 of 2).
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE email = 'p2@gmail.com'), 10, 'try');
UPDATE leadflow.lead SET owner_id = 10 WHERE email = 'p2@gmail.com';
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE email = 'p2@gmail.com'), 10, NULL);
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE email = 'p2@gmail.com'), 99, 'nobody');
SELECT leadflow.assign(999999, 1, 'no such lead');
-- The override needs the setting and a manager.
SET leadflow.override_caps = on;
SELECT leadflow.assign((SELECT id FROM leadflow.lead WHERE email = 'p2@gmail.com'), 10, 'VIP');
SELECT kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
RESET leadflow.override_caps;
-- Without leadflow_manager, the setting does not lift the cap.
CREATE ROLE leadflow_test_clerk;
GRANT USAGE ON SCHEMA leadflow TO leadflow_test_clerk;
GRANT SELECT, UPDATE ON leadflow.lead TO leadflow_test_clerk;
SET ROLE leadflow_test_clerk;
SET leadflow.override_caps = on;
UPDATE leadflow.lead SET owner_id = 10 WHERE email = 'p3@gmail.com';
RESET leadflow.override_caps;
RESET ROLE;
DROP OWNED BY leadflow_test_clerk;
DROP ROLE leadflow_test_clerk;
-- A direct UPDATE is a manual move too.
UPDATE leadflow.lead SET owner_id = 3 WHERE email = 'p4@gmail.com';
SELECT kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT * FROM leadflow.check_counters();

-- Closing a lead frees its seat; reopening (explicitly) takes one, so it
-- is cap-checked too (Jo has 2 of 2 again after the close).
UPDATE leadflow.lead SET stage = 'rejected', reject_reason = 'no budget' WHERE email = 't1@gmail.com';
SELECT open_count FROM leadflow.rep_load WHERE rep_id = 10;
UPDATE leadflow.lead SET stage = 'new' WHERE email = 't1@gmail.com';
SELECT leadflow.reopen((SELECT id FROM leadflow.lead WHERE email = 't1@gmail.com'), 'budget found');
SELECT open_count FROM leadflow.rep_load WHERE rep_id = 10;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Imports: kept as given; an open lead with an owner takes a seat -- past
-- a cap too (Jo has 2 of 2): history already happened -- and gets the
-- follow-up plan it lacks.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email, owner_id, stage, queue) VALUES ('old1@gmail.com', 2, 'working', 'rr')
    RETURNING owner_id, stage, assigned_at, sla_due_at;
INSERT INTO leadflow.lead (email, owner_id, stage) VALUES ('old2@gmail.com', 10, 'working');
SELECT kind, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT * FROM leadflow.check_counters();

-- route() errors.
SELECT leadflow.route(999999);
SELECT leadflow.route((SELECT id FROM leadflow.lead WHERE email = 'qa@gmail.com'));
-- route() of a lead that has an owner returns that owner and changes nothing.
SELECT leadflow.route((SELECT id FROM leadflow.lead WHERE email = 'p1@gmail.com')) AS owner;
SELECT leadflow.route_pending(-1);

-- Totals: every lead is owned, backlogged or rejected, and ledgered.
SELECT count(*) FILTER (WHERE owner_id IS NOT NULL AND stage IN ('new', 'working')) AS owned_open,
       count(*) FILTER (WHERE owner_id IS NULL AND stage IN ('new', 'working')) AS waiting,
       count(*) FILTER (WHERE stage NOT IN ('new', 'working')) AS closed
  FROM leadflow.lead;
SELECT count(*) AS open_without_ledger FROM leadflow.lead l
 WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL
   AND NOT EXISTS (SELECT FROM leadflow.decision d WHERE d.lead_id = l.id AND d.to_rep = l.owner_id);
SELECT * FROM leadflow.check_counters();

RESET leadflow.clock;
