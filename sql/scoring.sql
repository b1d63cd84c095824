-- Scoring: fit rules (positive, negative, group caps), the fit score kept
-- up to date when a lead's document changes, engagement decay at several
-- ages, the floor, and explain_score.  Predictive models: prediction.sql.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 09:00:00+00';   -- Monday
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.scoring_rule, leadflow.model RESTART IDENTITY;
-- Scoring is what is tested here: leads wait unrouted.
SET leadflow.route_on_insert = off;

------------------------------------------------------------------------
-- Fit rules
------------------------------------------------------------------------
-- Groups are rules with the same name.  "region": two rules, capped at 15
-- (the smallest max_points of the group).  "penalties": two negative
-- rules, capped at 30 on the negative side too.
INSERT INTO leadflow.scoring_rule (name, kind, match, points, max_points) VALUES
    ('size', 'fit', '{"employees": ["1000+", "500-999"]}', 30, NULL),
    ('region', 'fit', '{"country": ["DE", "AT"]}', 10, 15),
    ('region', 'fit', '{"source": "web_form"}', 10, 40),
    ('penalties', 'fit', '{"domain": "gmail.com"}', -20, 30),
    ('penalties', 'fit', '{"title": "student"}', -20, NULL),
    ('public sector', 'fit', '{"not": {"sector": "private"}}', -5, NULL);
INSERT INTO leadflow.scoring_rule (name, kind, match, points, active) VALUES
    ('inactive', 'fit', '{}', 1000, false);

SELECT doc, leadflow.fit_score(doc::jsonb) AS fit
  FROM (VALUES
    ('{"sector": "private"}'),                                       -- 0: nothing matches
    ('{"sector": "private", "employees": "1000+"}'),                 -- 30
    ('{"sector": "private", "country": "DE"}'),                      -- 10
    ('{"sector": "private", "country": "AT", "source": "web_form"}'),-- 10 + 10 capped at 15
    ('{"sector": "private", "title": "student"}'),                   -- -20
    ('{"sector": "private", "title": "student", "domain": "gmail.com"}'), -- -40 capped at -30
    ('{}'),                                                          -- -5: "not" holds without the key
    ('{"employees": "500-999", "country": "DE", "source": "web_form", "sector": "gov"}') -- 30 + 15 - 5
  ) AS t(doc);
SELECT leadflow.fit_score('[1, 2]');   -- not an object

-- A lead's score: rescore stores what the rules give its document
-- (columns as routing sees them: the email's domain, source, country).
INSERT INTO leadflow.lead (email, source, country, attrs) VALUES
    ('ann@gmail.com', 'web_form', 'DE', '{"employees": "1000+", "sector": "private"}'),
    ('bo@acme.test', 'event', 'FR', '{"sector": "private"}');
SELECT leadflow.rescore(1) AS ann, leadflow.rescore(2) AS bo;   -- 30 + 15 - 20 = 25; 0
SELECT id, score FROM leadflow.lead ORDER BY id;
SELECT leadflow.rescore(99);                                    -- no such lead

-- When the document changes, the score follows (attrs, source, campaign,
-- company, country, email); other updates leave it alone.
UPDATE leadflow.lead SET email = 'ann@acme.test' WHERE id = 1 RETURNING id, score;      -- 45
UPDATE leadflow.lead SET attrs = attrs || '{"title": "student"}' WHERE id = 1 RETURNING id, score; -- 25
UPDATE leadflow.lead SET country = 'AT', source = 'web_form' WHERE id = 2 RETURNING id, score;  -- 15
UPDATE leadflow.lead SET name = 'Bo', score = 7 WHERE id = 2 RETURNING id, score;       -- 7, as set
-- A new rule is seen at once (the rules cache is invalidated).
INSERT INTO leadflow.scoring_rule (name, kind, match, points)
    VALUES ('france', 'fit', '{"country": "FR"}', 4);
UPDATE leadflow.lead SET country = 'FR' WHERE id = 2 RETURNING id, score;  -- web_form 10 + 4
DELETE FROM leadflow.scoring_rule WHERE name = 'france';
-- A restore (check_function_bodies off) keeps rows as given.
SET check_function_bodies = off;
UPDATE leadflow.lead SET attrs = '{"employees": "1000+"}' WHERE id = 2 RETURNING id, score;  -- still 14
RESET check_function_bodies;
SELECT leadflow.rescore(2);   -- size 30 + region 10 (web_form) - 5 (no sector: "not private") = 35

------------------------------------------------------------------------
-- Engagement and decay
------------------------------------------------------------------------
-- page_view: 10 points, half-life 1 day, group "views" capped at 25.
-- form_fill: 40 points, half-life 7 days.  webinar: 15, no decay.
-- unsubscribe: -50, half-life 30 days (negative points lower the score,
-- and fade back toward the fit score as well).
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life, max_points) VALUES
    ('views', 'engagement', 'page_view', 10, '1 day', 25),
    ('form', 'engagement', 'form_fill', 40, '7 days', NULL),
    ('webinar', 'engagement', 'webinar', 15, NULL, NULL),
    ('unsubscribed', 'engagement', 'unsubscribe', -50, '30 days', NULL);

INSERT INTO leadflow.lead (email, attrs) VALUES
    ('cy@acme.test', '{"sector": "private"}'),      -- 3: fit 0
    ('di@acme.test', '{"sector": "private"}'),      -- 4: fit 0
    ('ed@acme.test', '{"sector": "private"}');      -- 5: fit 0
UPDATE leadflow.lead SET score = leadflow.rescore(id) WHERE id IN (3, 4, 5);
-- Lead 3: one form fill at the clock's time.
INSERT INTO leadflow.event (lead_id, kind, at) VALUES (3, 'form_fill', '2026-03-09 09:00+00');
-- Ages 0, one half-life, two, ten, and before the event happened:
--   0 days: 40 * 0.5^0 = 40;  7 days: 40 * 0.5 = 20;  14 days: 40 * 0.25 = 10;
--   70 days: 40 * 0.5^10 = 0.0390625 -> rounds to 0;  a day before: the event is ignored.
SELECT as_of, leadflow.current_score(3, as_of) AS score
  FROM (VALUES (timestamptz '2026-03-09 09:00+00'), ('2026-03-16 09:00+00'),
               ('2026-03-23 09:00+00'), ('2026-05-18 09:00+00'),
               ('2026-03-08 09:00+00')) AS t(as_of);
SELECT leadflow.current_score(3) AS now_default, leadflow.current_score(3, NULL) AS null_as_of;
-- Half a half-life: 40 * 0.5^0.5 = 28.28 -> 28.
SELECT leadflow.current_score(3, '2026-03-12 21:00+00');
SELECT points FROM leadflow.explain_score(3, '2026-05-18 09:00+00')
 WHERE component = 'engagement' AND name = 'form';       -- 0.0390625 exactly

-- The floor: with positive points only, decay never takes the score below
-- the fit score, however old the events (lead 1 has fit 25).  Highest
-- at the page view: 10 + 40 * 0.5^4 (28 days) = 12.5 -> 25 + 12.5 = 37.5 -> 38.
INSERT INTO leadflow.event (lead_id, kind, at) VALUES
    (1, 'page_view', '2026-03-01 10:00+00'), (1, 'form_fill', '2026-02-01 10:00+00');
SELECT min(leadflow.current_score(1, t)) AS lowest, max(leadflow.current_score(1, t)) AS highest,
       bool_and(leadflow.current_score(1, t) >= l.score) AS never_below_fit
  FROM leadflow.lead l,
       generate_series(timestamptz '2026-03-01 10:00+00', '2027-03-01 10:00+00', '1 day') AS t
 WHERE l.id = 1;

-- The group cap: four page views at once are 40 points, capped at 25; a
-- day later 20, under the cap.  A webinar (no half-life) keeps its 15.
INSERT INTO leadflow.event (lead_id, kind, at) VALUES
    (4, 'page_view', '2026-03-09 09:00+00'), (4, 'page_view', '2026-03-09 09:00+00'),
    (4, 'page_view', '2026-03-09 09:00+00'), (4, 'page_view', '2026-03-09 09:00+00'),
    (4, 'webinar', '2026-03-09 09:00+00'), (4, 'newsletter', '2026-03-09 09:00+00');
SELECT leadflow.current_score(4) AS at_once,                           -- 25 + 15
       leadflow.current_score(4, '2026-03-10 09:00+00') AS a_day_later, -- 20 + 15
       leadflow.current_score(4, '2027-03-09 09:00+00') AS a_year_later;-- 0 + 15

-- Negative points: an unsubscribe takes 50 off, and fades back up to the
-- fit score: 30 days later -25, 300 days later -0.05 -> 0.
INSERT INTO leadflow.event (lead_id, kind, at) VALUES (5, 'unsubscribe', '2026-03-09 09:00+00');
SELECT leadflow.current_score(5) AS at_once,
       leadflow.current_score(5, '2026-04-08 09:00+00') AS after_30_days,
       leadflow.current_score(5, '2027-01-03 09:00+00') AS after_300_days;

SELECT leadflow.current_score(99);        -- no such lead
SELECT leadflow.current_score(NULL);      -- NULL

-- explain_score: each fit rule, cap, event and total.  Lead 1 (fit 25:
-- size 30, region 10 + 10 capped at 15, penalties -20) as of 2026-03-09
-- 09:00: the page view is 7 days 23 hours old, 10 * 0.5^7.9583 = 0.0402;
-- the form fill 35 days 23 hours, 40 * 0.5^(35.9583 / 7) = 1.1368;
-- 25 + 1.1770 = 26.18 -> 26.  Rows come fit rules (by group name), caps,
-- events (oldest first), then the totals.
SELECT component, name, detail, round(points::numeric, 4) AS points
  FROM leadflow.explain_score(1);
-- A lead whose rules changed since its score was stored says so.
UPDATE leadflow.scoring_rule SET points = 35 WHERE name = 'size';
SELECT component, name, detail, points FROM leadflow.explain_score(1)
 WHERE name = 'total';
UPDATE leadflow.scoring_rule SET points = 30 WHERE name = 'size';
SELECT * FROM leadflow.explain_score(99);

RESET leadflow.clock;
RESET leadflow.route_on_insert;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.scoring_rule, leadflow.model RESTART IDENTITY;
