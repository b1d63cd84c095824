-- Scoring: fit rules (positive, negative, group caps), the fit score kept
-- up to date when a lead's document changes, engagement decay at several
-- ages, the floor, explain_score, and predictive scoring on a small
-- synthetic data set: the training report, the stored model, predictions,
-- versions, and the error cases.
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

------------------------------------------------------------------------
-- Predictive scoring
------------------------------------------------------------------------
-- Error cases first: no model, no closed leads, one outcome only, bad
-- features.
SELECT leadflow.predict('{}');
SELECT leadflow.predict('{}', 'nope');
SELECT * FROM leadflow.train(ARRAY['source']);
UPDATE leadflow.lead SET stage = 'rejected' WHERE id IN (1, 2);
SELECT * FROM leadflow.train(ARRAY['source']);
SELECT * FROM leadflow.train(NULL);
SELECT * FROM leadflow.train('{}');
SELECT * FROM leadflow.train(ARRAY['source', NULL]);
SELECT * FROM leadflow.train(ARRAY['source', 'source']);
SELECT * FROM leadflow.train(ARRAY['source'], '');
DELETE FROM leadflow.lead;

-- A synthetic history of 240 closed leads, imported closed (no routing),
-- and a few open or nurtured leads that training must ignore:
--   source: referral wins 2 in 3, web_form 1 in 4;
--   employees: 0..39, as JSON numbers (and every fifth as a string), with
--   36..39 always won; missing for every 17th lead;
--   industry: saas, retail, gov; tags: an array, which counts as missing.
INSERT INTO leadflow.lead (external_id, source, stage, attrs)
SELECT 'syn-' || g,
       CASE WHEN g % 2 = 0 THEN 'referral' ELSE 'web_form' END,
       CASE WHEN NOT won THEN 'rejected' WHEN g % 10 = 0 THEN 'qualified' ELSE 'converted' END::leadflow.stage,
       jsonb_strip_nulls(jsonb_build_object(
           'employees', CASE WHEN g % 17 = 0 THEN NULL
                             WHEN g % 5 = 0 THEN to_jsonb((g % 40)::text)
                             ELSE to_jsonb(g % 40) END,
           'industry', (ARRAY['saas', 'retail', 'gov'])[1 + g % 3],
           'tags', '["a"]'::jsonb))
  FROM generate_series(1, 240) AS g,
       LATERAL (SELECT (g % 2 = 0 AND g % 3 <> 0) OR (g % 2 = 1 AND g % 4 = 1)
                       OR g % 40 >= 36 AS won) AS w;
INSERT INTO leadflow.lead (external_id, source, stage, attrs) VALUES
    ('open-1', 'referral', 'new', '{"employees": 3}'),
    ('open-2', 'referral', 'working', '{"employees": 3}'),
    ('nurtured', 'web_form', 'nurture', '{"employees": 39}');
SELECT stage, count(*) FROM leadflow.lead GROUP BY stage ORDER BY stage;

SELECT * FROM leadflow.train(ARRAY['source', 'tags', 'zip']);   -- neither occurs

-- Training: 240 leads; parameters = 1 prior + source (2 values + missing
-- + unseen) + employees (bins + missing + other) + industry (3 + 2).
SELECT model, trained_at, positives, negatives, features, parameters, round(auc::numeric, 4) AS auc
  FROM leadflow.train(ARRAY['source', 'employees', 'industry']);
SELECT name, trained_at, features, positives, negatives, round(auc::numeric, 4) AS auc
  FROM leadflow.model;
-- The stored counts: source is categorical, employees numeric (quantile
-- cuts of 0..39; the strings count as numbers), industry categorical.
SELECT f ->> 'name' AS feature, f ->> 'kind' AS kind, f -> 'values' AS "values",
       f -> 'cuts' AS cuts, f -> 'bins' AS bins, f -> 'missing' AS missing, f -> 'other' AS other
  FROM leadflow.model, jsonb_array_elements(params -> 'features') AS f;

-- The training AUC, recomputed in SQL from the predictions (Mann-Whitney
-- with average ranks for ties): the same figure.
WITH scored AS (
    SELECT leadflow.predict(l.attrs || jsonb_build_object('source', l.source)) AS p, stage IN ('qualified', 'converted') AS won
      FROM leadflow.lead l WHERE stage IN ('qualified', 'converted', 'rejected')),
ranked AS (
    SELECT won, rank() OVER (ORDER BY p) + (count(*) OVER (PARTITION BY p) - 1) / 2.0 AS r
      FROM scored)
SELECT round(((sum(r) FILTER (WHERE won)
               - count(*) FILTER (WHERE won) * (count(*) FILTER (WHERE won) + 1) / 2.0)
              / (count(*) FILTER (WHERE won) * count(*) FILTER (WHERE NOT won)))::numeric, 4) AS auc
  FROM ranked;

-- Predictions, and one checked by hand from the stored counts: a referral
-- with no other feature known.  Its log-odds are log(P/N) plus source's
-- smoothed ratio (K = 4 slots: 2 values, missing, unseen); employees is
-- missing (seen missing in training: its own ratio) and industry missing
-- (never missing in training: no evidence, 0).
SELECT doc, round(leadflow.predict(doc::jsonb)::numeric, 6) AS p
  FROM (VALUES ('{"source": "referral", "employees": 38, "industry": "saas"}'),
               ('{"source": "referral", "employees": "38"}'),
               ('{"source": "web_form", "employees": 2, "industry": "gov"}'),
               ('{"source": "web_form", "employees": "many", "industry": "space"}'),
               ('{}')) AS t(doc);
WITH m AS (SELECT params AS p FROM leadflow.model),
     c AS (SELECT (p ->> 'positives')::float8 AS pos, (p ->> 'negatives')::float8 AS neg,
                  (p #>> '{features,0,values,referral,0}')::float8 AS ref_pos,
                  (p #>> '{features,0,values,referral,1}')::float8 AS ref_neg,
                  (p #>> '{features,1,missing,0}')::float8 AS miss_pos,
                  (p #>> '{features,1,missing,1}')::float8 AS miss_neg,
                  jsonb_array_length(p #> '{features,1,bins}') + 2 AS emp_slots
             FROM m)
SELECT round((1 / (1 + exp(-(ln(pos / neg)
                             + ln((ref_pos + 1) / (pos + 4)) - ln((ref_neg + 1) / (neg + 4))
                             + ln((miss_pos + 1) / (pos + emp_slots)) - ln((miss_neg + 1) / (neg + emp_slots))
                             ))))::numeric, 6) AS by_hand,
       round(leadflow.predict('{"source": "referral"}')::numeric, 6) AS predicted
  FROM c;
SELECT leadflow.predict('[1]');

-- explain_score lists each feature's contribution under the default model.
SELECT component, name, detail, round(points::numeric, 4) AS points
  FROM leadflow.explain_score((SELECT id FROM leadflow.lead WHERE external_id = 'open-1'))
 WHERE component IN ('prediction', 'score');

-- Versions: a later training is a new version, and predict uses it; the
-- old one stays.  Training again at the same moment replaces that version.
SET leadflow.clock = '2026-03-10 09:00:00+00';
SELECT model, trained_at, features, parameters FROM leadflow.train(ARRAY['industry']);
SELECT round(leadflow.predict('{"source": "referral", "industry": "saas"}')::numeric, 6) AS newest;
SELECT model, trained_at, features, parameters FROM leadflow.train(ARRAY['source']);
SELECT name, trained_at, features FROM leadflow.model ORDER BY trained_at;
SELECT round(leadflow.predict('{"source": "referral", "industry": "saas"}')::numeric, 6) AS newest;
-- Named models live beside the default one.
SELECT model, features, parameters FROM leadflow.train(ARRAY['employees'], 'size only');
SELECT round(leadflow.predict('{"employees": 38}', 'size only')::numeric, 6) AS size_only;
SELECT name, count(*) FROM leadflow.model GROUP BY name ORDER BY name;

-- Privileges: training is for admins.
SELECT p.proname, r.rolname, has_function_privilege(r.rolname, p.oid, 'EXECUTE') AS can
  FROM pg_proc p, pg_roles r
 WHERE p.pronamespace = 'leadflow'::regnamespace
   AND p.proname IN ('train', 'predict', 'current_score', 'explain_score', 'rescore')
   AND r.rolname IN ('leadflow_admin', 'leadflow_manager', 'leadflow_rep')
 ORDER BY 1, 2;

RESET leadflow.clock;
RESET leadflow.route_on_insert;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.scoring_rule, leadflow.model RESTART IDENTITY;
