-- Predictive scoring on real data: the X Education leads (9,240 leads with
-- outcomes; ../shared/data/x_education, see its README.txt).  Run with
--   bash test/bench/run.sh x_education
-- (from the repository root; run.sh starts there).  Skips when the data
-- is absent.
--
-- Split: Lead Number mod 10 < 7 trains (70%), the rest tests (30%).
-- Training reads every closed lead, so the held-out leads are imported
-- open (stage new, routing off) and closed with their real outcome only
-- after they were predicted.  Feature selection uses a validation part of
-- the training 70% (mod 10 in 5, 6), also kept open until it is done, so
-- the test leads never influence a choice.
\set ON_ERROR_STOP 1
\set have_csv `test -r ../shared/data/x_education/Leads.csv && echo true || echo false`
\if :have_csv
\else
\echo 'x_education: SKIPPED -- ../shared/data/x_education/Leads.csv is absent (it is not part of the repository).'
\quit
\endif

\pset footer off
SET leadflow.route_on_insert = off;   -- scoring only: leads stay unrouted

CREATE TABLE csv (
    "Prospect ID" text, "Lead Number" bigint, "Lead Origin" text, "Lead Source" text,
    "Do Not Email" text, "Do Not Call" text, "Converted" int, "TotalVisits" text,
    "Total Time Spent on Website" text, "Page Views Per Visit" text, "Last Activity" text,
    "Country" text, "Specialization" text, "How did you hear about X Education" text,
    "What is your current occupation" text, "What matters most to you in choosing a course" text,
    "Search" text, "Magazine" text, "Newspaper Article" text, "X Education Forums" text,
    "Newspaper" text, "Digital Advertisement" text, "Through Recommendations" text,
    "Receive More Updates About Our Courses" text, "Tags" text, "Lead Quality" text,
    "Update me on Supply Chain Content" text, "Get updates on DM Content" text,
    "Lead Profile" text, "City" text, "Asymmetrique Activity Index" text,
    "Asymmetrique Profile Index" text, "Asymmetrique Activity Score" text,
    "Asymmetrique Profile Score" text, "I agree to pay the amount through cheque" text,
    "A free copy of Mastering The Interview" text, "Last Notable Activity" text);
\copy csv FROM '../shared/data/x_education/Leads.csv' WITH (FORMAT csv, HEADER true)

-- The pre-contact columns.  Left out because the sales team fills them in
-- after contact (they leak the outcome): Tags, Lead Quality, Lead Profile,
-- Asymmetrique*, Last Notable Activity.  'Select' means "not chosen":
-- missing.  Lead Source goes to lead.source, lower-cased ('Google' and
-- 'google' are one source); Country to lead.country.
CREATE FUNCTION cell(v text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN btrim(v) IN ('', 'Select') THEN NULL ELSE v END $$;
CREATE FUNCTION num(v text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN v ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*$' THEN to_jsonb(v::numeric) END $$;

CREATE TABLE split AS
SELECT "Prospect ID" AS external_id,
       CASE WHEN "Lead Number" % 10 < 5 THEN 'core'
            WHEN "Lead Number" % 10 < 7 THEN 'validation'
            ELSE 'test' END AS part,
       "Converted" = 1 AS won,
       lower(cell("Lead Source")) AS source,
       cell("Country") AS country,
       jsonb_strip_nulls(jsonb_build_object(
           'Lead Origin', cell("Lead Origin"),
           'Do Not Email', cell("Do Not Email"),
           'Do Not Call', cell("Do Not Call"),
           'TotalVisits', num("TotalVisits"),
           'Total Time Spent on Website', num("Total Time Spent on Website"),
           'Page Views Per Visit', num("Page Views Per Visit"),
           'Last Activity', cell("Last Activity"),
           'Specialization', cell("Specialization"),
           'How did you hear about X Education', cell("How did you hear about X Education"),
           'What is your current occupation', cell("What is your current occupation"),
           'What matters most to you in choosing a course', cell("What matters most to you in choosing a course"),
           'Search', cell("Search"),
           'Magazine', cell("Magazine"),
           'Newspaper Article', cell("Newspaper Article"),
           'X Education Forums', cell("X Education Forums"),
           'Newspaper', cell("Newspaper"),
           'Digital Advertisement', cell("Digital Advertisement"),
           'Through Recommendations', cell("Through Recommendations"),
           'Receive More Updates About Our Courses', cell("Receive More Updates About Our Courses"),
           'Update me on Supply Chain Content', cell("Update me on Supply Chain Content"),
           'Get updates on DM Content', cell("Get updates on DM Content"),
           'City', cell("City"),
           'I agree to pay the amount through cheque', cell("I agree to pay the amount through cheque"),
           'A free copy of Mastering The Interview', cell("A free copy of Mastering The Interview")))
           AS attrs
  FROM csv;

-- Every row is a normal INSERT: the training core closed as it ended
-- (an import), validation and test leads open for now.
INSERT INTO leadflow.lead (external_id, source, country, attrs, stage)
SELECT external_id, source, country, attrs,
       CASE WHEN part <> 'core' THEN 'new' WHEN won THEN 'converted' ELSE 'rejected' END::leadflow.stage
  FROM split ORDER BY external_id;

SELECT part, count(*) AS leads, count(*) FILTER (WHERE won) AS converted,
       round(100.0 * count(*) FILTER (WHERE won) / count(*), 1) AS pct
  FROM split GROUP BY part ORDER BY part;

-- Every feature: the attrs keys and the lead columns source and country.
CREATE TABLE all_features AS
SELECT array_agg(k ORDER BY k) || ARRAY['source', 'country'] AS f
  FROM (SELECT DISTINCT jsonb_object_keys(attrs) AS k FROM split) s;

-- The routing document predict sees for a lead.
CREATE FUNCTION doc(l leadflow.lead) RETURNS jsonb LANGUAGE sql STABLE AS
$$ SELECT l.attrs || jsonb_strip_nulls(jsonb_build_object('source', l.source, 'country', l.country)) $$;

-- Exact AUC (Mann-Whitney, average ranks for ties) of scores in a table.
CREATE TABLE scored (part text, model text, p float8, won boolean);
CREATE FUNCTION auc_of(which_part text, which_model text) RETURNS float8 LANGUAGE sql AS $$
    WITH ranked AS (
        SELECT won, rank() OVER (ORDER BY p) + (count(*) OVER (PARTITION BY p) - 1) / 2.0 AS r
          FROM scored WHERE part = which_part AND model = which_model)
    SELECT ((sum(r) FILTER (WHERE won)
             - count(*) FILTER (WHERE won) * (count(*) FILTER (WHERE won) + 1) / 2.0)
            / (count(*) FILTER (WHERE won) * count(*) FILTER (WHERE NOT won)))::float8
      FROM ranked $$;
CREATE FUNCTION score_part(which_part text, which_model text) RETURNS float8 LANGUAGE sql AS $$
    DELETE FROM scored WHERE part = which_part AND model = which_model;
    INSERT INTO scored
    SELECT s.part, which_model, leadflow.predict(doc(l), which_model), s.won
      FROM leadflow.lead l JOIN split s USING (external_id) WHERE s.part = which_part;
    SELECT auc_of(which_part, which_model) $$;

------------------------------------------------------------------------
-- Feature selection on the validation part (trained on the core only)
------------------------------------------------------------------------
-- Greedy forward selection: add the feature that raises validation AUC
-- most; stop when none raises it by 0.001.
CREATE TABLE selection_log (step int, added text, validation_auc float8);
DO $$
DECLARE
    pool text[] := (SELECT f FROM all_features);
    chosen text[] := '{}';
    best_auc float8 := 0.5;
    step int := 0;
    cand text;
    cand_auc float8;
    step_best text;
    step_auc float8;
BEGIN
    LOOP
        step := step + 1;
        step_best := NULL;
        step_auc := best_auc;
        FOREACH cand IN ARRAY pool LOOP
            PERFORM leadflow.train(chosen || cand, 'selection');
            cand_auc := score_part('validation', 'selection');
            IF cand_auc > step_auc + 0.001 THEN
                step_best := cand;
                step_auc := cand_auc;
            END IF;
        END LOOP;
        EXIT WHEN step_best IS NULL;
        chosen := chosen || step_best;
        pool := array_remove(pool, step_best);
        best_auc := step_auc;
        INSERT INTO selection_log VALUES (step, step_best, step_auc);
    END LOOP;
END $$;
\echo
\echo 'Forward feature selection (trained on 50%, validation AUC on 20%):'
SELECT step, added, round(validation_auc::numeric, 4) AS validation_auc FROM selection_log ORDER BY step;
CREATE TABLE selected AS SELECT array_agg(added ORDER BY step) AS f FROM selection_log;

-- The validation leads close with their outcomes: training now sees 70%.
UPDATE leadflow.lead l SET stage = CASE WHEN s.won THEN 'converted' ELSE 'rejected' END::leadflow.stage
  FROM split s WHERE s.external_id = l.external_id AND s.part = 'validation';

------------------------------------------------------------------------
-- Train on the 70%, test on the 30%
------------------------------------------------------------------------
\echo
\echo 'Training on 70% (leadflow.train):'
SELECT model, positives, negatives, features, parameters, round(auc::numeric, 4) AS training_auc
  FROM leadflow.train((SELECT f FROM all_features), 'all');
SELECT model, positives, negatives, features, parameters, round(auc::numeric, 4) AS training_auc
  FROM leadflow.train((SELECT f FROM selected), 'selected');
SELECT score_part('test', 'all') IS NOT NULL AS scored_all,
       score_part('test', 'selected') IS NOT NULL AS scored_selected;

-- Baseline: a plain naive Bayes written in SQL over the same split --
-- every value a category (no binning: numbers as their text), missing a
-- category, Laplace smoothing over the values seen plus one.
CREATE TABLE nb_obs AS
SELECT s.part, s.won, f.key AS feature, coalesce(d.doc ->> f.key, '(missing)') AS value, s.external_id
  FROM split s
  CROSS JOIN LATERAL (SELECT s.attrs || jsonb_strip_nulls(jsonb_build_object('source', s.source, 'country', s.country)) AS doc) d
  CROSS JOIN unnest((SELECT f FROM all_features)) AS f(key);
CREATE TABLE nb_counts AS
SELECT feature, value, count(*) FILTER (WHERE won) AS pos, count(*) FILTER (WHERE NOT won) AS neg
  FROM nb_obs WHERE part <> 'test' GROUP BY feature, value;
CREATE TABLE nb_classes AS
SELECT count(*) FILTER (WHERE won) AS p, count(*) FILTER (WHERE NOT won) AS n FROM split WHERE part <> 'test';
CREATE TABLE nb_slots AS SELECT feature, count(*) + 1 AS k FROM nb_counts GROUP BY feature;
INSERT INTO scored
SELECT 'test', 'sql_baseline', max(ln(c.p::float8 / c.n)) + sum(
           ln((coalesce(nc.pos, 0) + 1.0) / (c.p + k.k)) - ln((coalesce(nc.neg, 0) + 1.0) / (c.n + k.k))),
       bool_or(o.won)
  FROM nb_obs o CROSS JOIN nb_classes c JOIN nb_slots k USING (feature)
  LEFT JOIN nb_counts nc USING (feature, value)
 WHERE o.part = 'test'
 GROUP BY o.external_id;

\echo
\echo 'Test AUC on the 30% (leads never seen in training):'
SELECT 'leadflow.train, all ' || cardinality((SELECT f FROM all_features)) || ' features, quantile bins' AS model,
       round(auc_of('test', 'all')::numeric, 4) AS test_auc
UNION ALL
SELECT 'leadflow.train, ' || cardinality((SELECT f FROM selected)) || ' forward-selected features',
       round(auc_of('test', 'selected')::numeric, 4)
UNION ALL
SELECT 'baseline: plain naive Bayes in SQL, all categorical, no bins',
       round(auc_of('test', 'sql_baseline')::numeric, 4)
UNION ALL
SELECT 'reference: published logistic regression (same data, other splits)', NULL;
\echo 'Published logistic-regression figures on this data set: AUC about 0.84 to 0.90 (reference only, not computed here).'
SELECT CASE WHEN auc_of('test', 'selected') >= 0.86 OR auc_of('test', 'all') >= 0.86
            THEN 'target met: test AUC >= 0.86' ELSE 'TARGET MISSED: test AUC < 0.86' END AS target;

-- The held-out leads close too: every imported lead ends closed.
UPDATE leadflow.lead l SET stage = CASE WHEN s.won THEN 'converted' ELSE 'rejected' END::leadflow.stage
  FROM split s WHERE s.external_id = l.external_id AND s.part = 'test';
SELECT count(*) FILTER (WHERE stage IN ('converted', 'rejected')) AS closed, count(*) AS leads
  FROM leadflow.lead;

------------------------------------------------------------------------
-- Throughput over 1,000,000 calls
------------------------------------------------------------------------
-- predict: the 9,240 documents, repeated, under a model of every feature
-- as 'default' (the one the INSERT trigger will use): the most work.
SELECT 1 FROM leadflow.train((SELECT f FROM all_features), 'default');
CREATE TABLE docs AS
SELECT doc(l) AS doc FROM generate_series(1, 1000000) g
  JOIN leadflow.lead l ON l.id = 1 + g % 9240;
-- current_score: three engagement rules and about 3 events per lead.
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life, max_points) VALUES
    ('visits', 'engagement', 'page_view', 10, '1 day', 30),
    ('opens', 'engagement', 'email_open', 5, '3 days', NULL),
    ('forms', 'engagement', 'form_fill', 40, '7 days', NULL);
INSERT INTO leadflow.event (lead_id, kind, at)
SELECT l.id, (ARRAY['page_view', 'email_open', 'form_fill'])[1 + (l.id + e) % 3],
       leadflow.now() - (((l.id * 7 + e * 13) % 60) || ' days')::interval
  FROM leadflow.lead l, generate_series(1, 3) e;
CREATE TABLE ids AS SELECT 1 + g % 9240 AS id FROM generate_series(1, 1000000) g;
VACUUM ANALYZE docs, ids, leadflow.event, leadflow.lead;

-- The same score in SQL, to check the C result and as a second baseline.
CREATE FUNCTION sql_current_score(lead_id bigint) RETURNS int LANGUAGE sql STABLE AS $$
    SELECT (l.score + coalesce((
        SELECT sum(g.capped) FROM (
            SELECT CASE WHEN max(r.max_points) IS NULL THEN sum(x.pts)
                        ELSE greatest(-max(r.max_points), least(max(r.max_points), sum(x.pts))) END AS capped
              FROM leadflow.event e
              JOIN leadflow.scoring_rule r ON r.kind = 'engagement' AND r.active AND r.event_kind = e.kind
              CROSS JOIN LATERAL (SELECT r.points * CASE WHEN r.half_life IS NULL THEN 1
                     ELSE power(0.5, extract(epoch FROM leadflow.now() - e.at) / extract(epoch FROM r.half_life)) END AS pts) x
             WHERE e.lead_id = l.id AND e.at <= leadflow.now()
             GROUP BY r.name) g), 0))::numeric(20, 0)::int
      FROM leadflow.lead l WHERE l.id = lead_id $$;
SELECT count(*) FILTER (WHERE leadflow.current_score(id) <> sql_current_score(id)) AS c_vs_sql_mismatches
  FROM leadflow.lead;

SELECT timed('SELECT count(leadflow.predict(doc)) FROM docs') AS predict_s \gset
SELECT timed($$SELECT count(doc ->> 'Lead Origin') FROM docs$$) AS jsonb_access_s \gset
SELECT timed('SELECT count(leadflow.current_score(id)) FROM ids') AS current_score_s \gset
SELECT timed('SELECT count((SELECT score FROM leadflow.lead l WHERE l.id = ids.id)) FROM ids') AS lookup_s \gset
SELECT timed('SELECT count(sql_current_score(id)) FROM ids') AS sql_score_s \gset
\echo
\echo 'Throughput, 1,000,000 calls each:'
SELECT 'leadflow.predict (' || cardinality((SELECT f FROM all_features)) || ' features)' AS what,
       round(1e6 / :predict_s) AS calls_per_s,
       'doc ->> key over the same rows' AS baseline, round(1e6 / :jsonb_access_s) AS baseline_per_s,
       round((:predict_s / :jsonb_access_s)::numeric, 1) AS times_baseline_time
UNION ALL
SELECT 'leadflow.current_score (3 events)', round(1e6 / :current_score_s),
       'the lead''s score by primary key (subquery)', round(1e6 / :lookup_s),
       round((:current_score_s / :lookup_s)::numeric, 1)
UNION ALL
SELECT 'leadflow.current_score (3 events)', round(1e6 / :current_score_s),
       'the same score computed in SQL', round(1e6 / :sql_score_s),
       round((:current_score_s / :sql_score_s)::numeric, 2);
