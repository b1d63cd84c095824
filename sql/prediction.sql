-- Predictive scoring on generated data: 4,000 closed leads drawn from a
-- known logistic model, with redundant features (channel repeats source,
-- size_band repeats employees) that make plain naive Bayes overconfident.
-- Tested: the errors; the logistic regression is the optimum of its
-- objective (its gradient, recomputed in SQL, is zero); calibration on
-- held-out leads for both kinds, against uncalibrated naive Bayes; the
-- held-out figures train() reports equal SQL's from predict; training
-- filters, the hold-out share and real outcomes only; the id-like and
-- overfitting warnings; value parsing; lead.predicted kept current
-- (retrain, attrs updates, rescore, explain_score, restores); the routing
-- document; predict without SET search_path under a hostile one; models
-- stored by 1.1; malformed params; privileges.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 09:00:00+00';
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.scoring_rule, leadflow.model RESTART IDENTITY;
SET leadflow.route_on_insert = off;

------------------------------------------------------------------------
-- Errors, before any model or outcome exists
------------------------------------------------------------------------
SELECT leadflow.predict('{}');
SELECT leadflow.predict('{}', 'nope');
SELECT leadflow.predict('{}', NULL);
SELECT leadflow.predict(NULL) IS NULL AS null_document_null_prediction;
SELECT leadflow.predict('[1]');
SELECT * FROM leadflow.train(ARRAY['source']);
INSERT INTO leadflow.lead (source, stage) VALUES ('web', 'rejected'), ('web', 'rejected');
SELECT * FROM leadflow.train(ARRAY['source']);
SELECT * FROM leadflow.train(NULL);
SELECT * FROM leadflow.train('{}');
SELECT * FROM leadflow.train(ARRAY['source', NULL]);
SELECT * FROM leadflow.train(ARRAY['source', 'source']);
SELECT * FROM leadflow.train(ARRAY['source'], '');
SELECT * FROM leadflow.train(ARRAY['source'], kind => 'forest');
SELECT * FROM leadflow.train(ARRAY['source'], kind => NULL);
SELECT * FROM leadflow.train(ARRAY['source'], kind => 'naive_bayes', l2 => 1);
SELECT * FROM leadflow.train(ARRAY['source'], l2 => 0);
SELECT * FROM leadflow.train(ARRAY['source'], l2 => 'NaN');
SELECT * FROM leadflow.train(ARRAY['source'], l2 => 'Infinity');
SELECT * FROM leadflow.train(ARRAY['source'], holdout => 1);
SELECT * FROM leadflow.train(ARRAY['source'], holdout => -0.1);
SELECT * FROM leadflow.train(ARRAY['source'], holdout => 'NaN');
SELECT * FROM leadflow.train(ARRAY['source'], holdout => 0.3, training_leads => '{1}');
SELECT * FROM leadflow.train(ARRAY['source'], training_leads => '{1, NULL}');
SELECT * FROM leadflow.train(ARRAY['source'], training_leads => '{{1}, {2}}');
SELECT count(*) AS models FROM leadflow.model;
TRUNCATE leadflow.lead RESTART IDENTITY CASCADE;

------------------------------------------------------------------------
-- The generated history
------------------------------------------------------------------------
-- The truth: log-odds = -1.6 + source effect + employees / 400 + industry
-- effect + 0.4 for plan 3; employees is missing for a tenth of the leads
-- (its effect still counts: the outcome knows it).  channel is a copy of
-- source under other names, size_band a coarse copy of employees: no new
-- evidence, which naive Bayes counts twice.  plan is a category of JSON
-- numbers 1-3 or "none".  Leads are created an hour apart.
SELECT setseed(0.2026);
CREATE TABLE gen AS
SELECT g, source, employees, industry, plan,
       random() < 1 / (1 + exp(-(-1.6 + s.effect + employees / 400.0 + i.effect
                                 + CASE WHEN plan = '3' THEN 0.4 ELSE 0 END))) AS won,
       random() < 0.1 AS employees_missing
  FROM (SELECT g, (ARRAY['web_form', 'referral', 'event', 'purchased_list'])[1 + floor(random() * 4)::int] AS source,
               floor(random() * 1000)::int AS employees,
               (ARRAY['saas', 'retail', 'gov', 'health', 'energy'])[1 + floor(random() * 5)::int] AS industry,
               (ARRAY['1', '2', '3', 'none', '1'])[1 + floor(random() * 5)::int] AS plan
          FROM generate_series(1, 4000) g) r
  JOIN (VALUES ('web_form', 0.0), ('referral', 1.2), ('event', 0.4), ('purchased_list', -1.0)) s(name, effect)
    ON s.name = r.source
  JOIN (VALUES ('saas', 0.5), ('retail', 0.0), ('gov', -0.5), ('health', 0.3), ('energy', -0.3)) i(name, effect)
    ON i.name = r.industry;
INSERT INTO leadflow.lead (external_id, source, stage, created_at, attrs)
SELECT 'gen-' || g, source,
       CASE WHEN NOT won THEN 'rejected' WHEN g % 10 = 0 THEN 'qualified' ELSE 'converted' END::leadflow.stage,
       timestamptz '2026-01-01 00:00+00' + g * interval '1 hour',
       jsonb_strip_nulls(jsonb_build_object(
           'employees', CASE WHEN employees_missing THEN NULL ELSE employees END,
           'size_band', CASE WHEN employees < 250 THEN 'small' WHEN employees < 750 THEN 'mid' ELSE 'large' END,
           'industry', industry,
           'channel', CASE source WHEN 'referral' THEN 'partner' WHEN 'event' THEN 'field'
                                  WHEN 'web_form' THEN 'inbound' ELSE 'outbound' END,
           'plan', CASE WHEN plan = 'none' THEN to_jsonb(plan) ELSE to_jsonb(plan::int) END))
  FROM gen ORDER BY g;
-- Leads without an outcome: training ignores them.
INSERT INTO leadflow.lead (external_id, source, stage, attrs) VALUES
    ('open-1', 'referral', 'new', '{"employees": 900, "industry": "saas", "plan": 3}'),
    ('open-2', 'web_form', 'working', '{"employees": 20}'),
    ('nurtured', 'referral', 'nurture', '{"employees": 999}');
SELECT stage, count(*) FROM leadflow.lead GROUP BY stage ORDER BY stage;
CREATE TABLE features AS
SELECT ARRAY['source', 'channel', 'employees', 'size_band', 'industry', 'plan'] AS f;

------------------------------------------------------------------------
-- Logistic regression: the optimum of its objective
------------------------------------------------------------------------
-- Trained on every lead (holdout 0), L2 1.  At the optimum of
--   sum of log losses + 1/2 * sum of squared weights
-- every slot's gradient  sum over its leads of (p - won) + weight  is 0,
-- and so is the intercept's  sum of (p - won): the predictions of the
-- training leads add up to their conversions.  Recomputed here from
-- predict and the stored weights, slot by slot.
SELECT model, kind, positives, negatives, features, parameters,
       round(auc::numeric, 4) AS auc, round(log_loss::numeric, 4) AS log_loss,
       holdout_positives, holdout_negatives, holdout_auc, refreshed
  FROM leadflow.train((SELECT f FROM features), 'all_leads', holdout => 0);
-- Each lead's slot of each feature of a model (missing, a bin, a value)
-- with its stored weight, and the lead's prediction.
CREATE FUNCTION slots_of(which text) RETURNS TABLE (id bigint, won boolean, p float8,
                                                    feature text, slot text, weight float8)
LANGUAGE sql AS $$
SELECT l.id, l.stage <> 'rejected',
       leadflow.predict(leadflow.routing_document(l), which),
       f ->> 'name', s.slot, (s.stored ->> 0)::float8
  FROM leadflow.lead l
  CROSS JOIN LATERAL (SELECT leadflow.routing_document(l) AS doc) d
  CROSS JOIN leadflow.model m
  CROSS JOIN LATERAL jsonb_array_elements(m.params -> 'features') f
  CROSS JOIN LATERAL (SELECT (SELECT count(*)::int FROM jsonb_array_elements(f -> 'cuts') c
                               WHERE c::text::float8 <= (d.doc ->> (f ->> 'name'))::float8) AS bin) b
  CROSS JOIN LATERAL (
      SELECT CASE WHEN jsonb_typeof(d.doc -> (f ->> 'name')) IS NULL THEN 'missing'
                  WHEN f ->> 'kind' = 'numeric' THEN 'bin ' || b.bin
                  ELSE 'value ' || (d.doc ->> (f ->> 'name')) END AS slot,
             CASE WHEN jsonb_typeof(d.doc -> (f ->> 'name')) IS NULL THEN f -> 'missing'
                  WHEN f ->> 'kind' = 'numeric' THEN f -> 'bins' -> b.bin
                  ELSE f -> 'values' -> (d.doc ->> (f ->> 'name')) END AS stored) s
 WHERE m.name = which AND l.stage IN ('qualified', 'converted', 'rejected')
   AND coalesce(l.reject_reason NOT LIKE 'duplicate of lead %'
                AND l.reject_reason NOT LIKE 'merged into lead %', true) $$;
-- The largest gradient of any slot: sum over its leads of (p - won) + l2 * weight.
CREATE FUNCTION largest_slot_gradient(which text, l2 float8) RETURNS float8 LANGUAGE sql AS $$
SELECT max(abs(g)) FROM (SELECT sum(p - won::int) + l2 * min(weight) AS g
                           FROM slots_of(which) GROUP BY feature, slot) s $$;
CREATE TABLE slot_of AS SELECT * FROM slots_of('all_leads');
SELECT count(DISTINCT (feature, slot)) AS slots_used,
       largest_slot_gradient('all_leads', 1) < 1e-4 AS slot_gradients_zero
  FROM slot_of;
SELECT round(sum(p)::numeric, 4) AS predicted_conversions, count(*) FILTER (WHERE won) AS conversions,
       abs(sum(p) - count(*) FILTER (WHERE won)) < 1e-4 AS intercept_gradient_zero
  FROM (SELECT DISTINCT id, p, won FROM slot_of) l;
-- The weights of a feature and its copy share the evidence: channel and
-- source get about half each of a single feature's weight (L2 splits it
-- evenly between identical columns).
SELECT v.key AS source, round((v.value ->> 0)::numeric, 3) AS source_weight,
       round((c.value ->> 0)::numeric, 3) AS channel_weight
  FROM leadflow.model m,
       jsonb_each(m.params #> '{features,0,values}') v,
       jsonb_each(m.params #> '{features,1,values}') c
 WHERE m.name = 'all_leads'
   AND c.key = CASE v.key WHEN 'referral' THEN 'partner' WHEN 'event' THEN 'field'
                          WHEN 'web_form' THEN 'inbound' ELSE 'outbound' END
 ORDER BY 1;

------------------------------------------------------------------------
-- Held-out leads: both kinds calibrated; figures equal SQL's
------------------------------------------------------------------------
-- Training filter: the leads with id mod 5 <> 0 train, the others (800)
-- are held out.  train() reports their AUC, log loss and calibration
-- error (10 equal-width bins: sum over bins of leads / all * |mean
-- predicted - share converted|), computed by the stored model.
CREATE TABLE filter_ids AS SELECT array_agg(id) AS ids FROM leadflow.lead WHERE id % 5 <> 0;
CREATE TABLE report AS
SELECT * FROM leadflow.train((SELECT f FROM features), 'lr', training_leads => (SELECT ids FROM filter_ids));
INSERT INTO report
SELECT * FROM leadflow.train((SELECT f FROM features), 'nb', kind => 'naive_bayes',
                             training_leads => (SELECT ids FROM filter_ids));
SELECT model, kind, positives, negatives, holdout_positives, holdout_negatives,
       round(holdout_auc::numeric, 3) AS holdout_auc, round(holdout_log_loss::numeric, 3) AS holdout_log_loss,
       round(holdout_calibration_error::numeric, 3) AS holdout_ece,
       holdout_calibration_error < 0.05 AS calibrated
  FROM report ORDER BY model;
CREATE TABLE held AS
SELECT m.model, l.stage <> 'rejected' AS won, leadflow.predict(leadflow.routing_document(l), m.model) AS p
  FROM leadflow.lead l, (VALUES ('lr'), ('nb')) m(model)
 WHERE l.id % 5 = 0 AND l.stage IN ('qualified', 'converted', 'rejected');
-- Naive Bayes of the same counts without calibration (as 1.1 predicted):
-- log(P/N) plus each feature's smoothed log-likelihood ratio.
INSERT INTO held
SELECT 'nb uncalibrated', s.won,
       1 / (1 + exp(-(ln((m.params ->> 'positives')::float8 / (m.params ->> 'negatives')::float8)
                      + sum(CASE WHEN (s.slot ->> 1)::float8 + (s.slot ->> 2)::float8 = 0 THEN 0
                                 ELSE ln(((s.slot ->> 1)::float8 + 1) / ((m.params ->> 'positives')::float8 + s.k))
                                    - ln(((s.slot ->> 2)::float8 + 1) / ((m.params ->> 'negatives')::float8 + s.k)) END))))
  FROM (SELECT l.id, l.stage <> 'rejected' AS won,
               CASE WHEN jsonb_typeof(d.doc -> (f ->> 'name')) IS NULL THEN f -> 'missing'
                    WHEN f ->> 'kind' = 'numeric'
                         THEN f -> 'bins' -> (SELECT count(*)::int FROM jsonb_array_elements(f -> 'cuts') c
                                               WHERE c::text::float8 <= (d.doc ->> (f ->> 'name'))::float8)
                    ELSE coalesce(f -> 'values' -> (d.doc ->> (f ->> 'name')), '[0, 0, 0]') END AS slot,
               CASE WHEN f ->> 'kind' = 'numeric' THEN jsonb_array_length(f -> 'bins') + 2
                    ELSE (SELECT count(*) FROM jsonb_object_keys(f -> 'values')) + 2 END AS k
          FROM leadflow.lead l
          CROSS JOIN LATERAL (SELECT leadflow.routing_document(l) AS doc) d
          CROSS JOIN leadflow.model m0
          CROSS JOIN LATERAL jsonb_array_elements(m0.params -> 'features') f
         WHERE m0.name = 'nb' AND l.id % 5 = 0 AND l.stage IN ('qualified', 'converted', 'rejected')) s,
       leadflow.model m
 WHERE m.name = 'nb'
 GROUP BY s.id, s.won, m.params;
CREATE FUNCTION held_auc(which text) RETURNS float8 LANGUAGE sql AS $$
    WITH ranked AS (
        SELECT won, rank() OVER (ORDER BY p) + (count(*) OVER (PARTITION BY p) - 1) / 2.0 AS r
          FROM held WHERE model = which)
    SELECT ((sum(r) FILTER (WHERE won) - count(*) FILTER (WHERE won) * (count(*) FILTER (WHERE won) + 1) / 2.0)
            / (count(*) FILTER (WHERE won) * count(*) FILTER (WHERE NOT won)))::float8
      FROM ranked $$;
CREATE FUNCTION held_log_loss(which text) RETURNS float8 LANGUAGE sql AS $$
    SELECT -avg(CASE WHEN won THEN ln(p) ELSE ln(1 - p) END) FROM held WHERE model = which $$;
CREATE FUNCTION held_ece(which text) RETURNS float8 LANGUAGE sql AS $$
    SELECT sum(abs(predicted - converted)) / sum(n)
      FROM (SELECT least(floor(p * 10), 9) AS bin, sum(p) AS predicted,
                   count(*) FILTER (WHERE won) AS converted, count(*) AS n
              FROM held WHERE model = which GROUP BY 1) b $$;
SELECT r.model,
       abs(r.holdout_auc - held_auc(r.model)) < 1e-9 AS auc_as_reported,
       abs(r.holdout_log_loss - held_log_loss(r.model)) < 1e-9 AS log_loss_as_reported,
       abs(r.holdout_calibration_error - held_ece(r.model)) < 1e-9 AS ece_as_reported
  FROM report r ORDER BY 1;
-- Calibration is what uncalibrated naive Bayes lacks: the same counts,
-- the same ranking power, but probabilities far from the rates.
SELECT model, round(held_auc(model)::numeric, 3) AS auc, round(held_log_loss(model)::numeric, 3) AS log_loss,
       round(held_ece(model)::numeric, 3) AS ece, round(avg(p)::numeric, 3) AS mean_predicted,
       round(avg(won::int)::numeric, 3) AS converted
  FROM held GROUP BY model ORDER BY model;
SELECT held_ece('nb') < held_ece('nb uncalibrated') / 2 AS calibration_halves_the_error,
       held_log_loss('nb') < held_log_loss('nb uncalibrated') AS calibration_lowers_log_loss;

------------------------------------------------------------------------
-- Which leads train: filters, the hold-out share, real outcomes only
------------------------------------------------------------------------
-- created_before: the leads created before noon of 2026-03-01 (hour 1428
-- of the history) train, the 2,573 from then on are held out.
SELECT model, positives + negatives AS trained_on, holdout_positives + holdout_negatives AS held_out
  FROM leadflow.train((SELECT f FROM features), 'early', created_before => '2026-03-01 12:00+00');
SELECT count(*) FILTER (WHERE created_at < '2026-03-01 12:00+00') AS created_before_noon
  FROM leadflow.lead WHERE stage IN ('qualified', 'converted', 'rejected');
-- Both filters: leads that pass both train.
SELECT positives + negatives AS trained_on, holdout_positives + holdout_negatives AS held_out
  FROM leadflow.train((SELECT f FROM features), 'early_even', created_before => '2026-03-01 12:00+00',
                      training_leads => (SELECT array_agg(id) FROM leadflow.lead WHERE id % 2 = 0));
-- Ids that are no lead, repeated ids, open leads: nothing more than the
-- closed leads named.
SELECT positives + negatives AS trained_on, holdout_positives + holdout_negatives AS held_out
  FROM leadflow.train(ARRAY['source'], 'named',
                      training_leads => ARRAY[1, 2, 2, 3, 999999, (SELECT id FROM leadflow.lead WHERE external_id = 'open-1')]::bigint[]);
-- A filter that leaves no training lead.
SELECT * FROM leadflow.train(ARRAY['source'], training_leads => '{}');
SELECT * FROM leadflow.train(ARRAY['source'], created_before => '2000-01-01');
-- The default share: 20% held out, by a hash of the lead id: the same
-- leads each time.
CREATE TABLE share AS
SELECT positives + negatives AS trained_on, holdout_positives + holdout_negatives AS held_out,
       holdout_auc
  FROM leadflow.train(ARRAY['source', 'industry'], 'share');
SELECT trained_on, held_out FROM share;
SELECT positives + negatives AS trained_on, holdout_positives + holdout_negatives AS held_out
  FROM leadflow.train(ARRAY['source', 'industry'], 'share_half', holdout => 0.5);
SELECT t.holdout_auc = s.holdout_auc AS same_split_same_figures
  FROM leadflow.train(ARRAY['source', 'industry'], 'share') t, share s;

-- Real outcomes only.  A duplicate closed as such and a lead merged into
-- another repeat a person: not outcomes.  A returning prospect (a new
-- lead whose duplicate_of points at an old closed one) is a real lead.
SET leadflow.route_on_insert = on;
INSERT INTO leadflow.lead (email, source, attrs) VALUES
    ('dup@example.test', 'referral', '{"industry": "saas"}'),
    ('keep@example.test', 'referral', '{}'), ('drop@example.test', 'referral', '{}');
INSERT INTO leadflow.lead (email, source, attrs) VALUES
    ('dup@example.test', 'referral', '{}'), ('dup@example.test', 'event', '{}');
SELECT (leadflow.merge(keep => (SELECT id FROM leadflow.lead WHERE email = 'keep@example.test'),
                       drop => (SELECT id FROM leadflow.lead WHERE email = 'drop@example.test'))).email AS kept;
INSERT INTO leadflow.lead (email, source, stage, attrs) VALUES ('back@example.test', 'event', 'rejected', '{}');
INSERT INTO leadflow.lead (email, source, attrs) VALUES ('back@example.test', 'event', '{}');
UPDATE leadflow.lead SET stage = 'converted'
 WHERE email = 'back@example.test' AND duplicate_of IS NOT NULL;
SET leadflow.route_on_insert = off;
SELECT email, stage, reject_reason, duplicate_of IS NOT NULL AS has_duplicate_of
  FROM leadflow.lead WHERE email IS NOT NULL ORDER BY id;
-- 4,000 generated outcomes, plus the returning prospect's two leads (a
-- rejection, a conversion); not the two duplicates nor the merged lead.
SELECT positives, negatives, positives + negatives AS trained_on,
       (SELECT count(*) FROM gen WHERE won) + 1 AS expected_positives,
       (SELECT count(*) FROM gen WHERE NOT won) + 1 AS expected_negatives
  FROM leadflow.train(ARRAY['source'], 'outcomes', holdout => 0);

------------------------------------------------------------------------
-- Warnings: an id-like feature, a model that fits its training leads only
------------------------------------------------------------------------
UPDATE leadflow.lead SET attrs = attrs || jsonb_build_object('visitor', 'v' || id)
 WHERE external_id LIKE 'gen-%';
-- With little regularisation a logistic model learns the ids by heart.
SELECT model, round(auc::numeric, 2) AS auc, round(holdout_auc::numeric, 2) AS holdout_auc
  FROM leadflow.train(ARRAY['source', 'visitor'], 'ids', l2 => 0.01);
-- 4,000 visitor slots: too many for Newton's dense system, so L-BFGS
-- fits it, to the same optimum conditions.
SELECT model, parameters FROM leadflow.train(ARRAY['source', 'visitor'], 'ids_all', holdout => 0);
SELECT largest_slot_gradient('ids_all', 1) < 1e-4 AS slot_gradients_zero;
-- Calibrated naive Bayes gives the ids no weight: an id never seen in the
-- other folds has no out-of-fold evidence, so its scale comes out 0.
SELECT model, round(auc::numeric, 2) AS auc, round(holdout_auc::numeric, 2) AS holdout_auc
  FROM leadflow.train(ARRAY['source', 'visitor'], 'ids_nb', kind => 'naive_bayes');
SELECT round((params #>> '{features,1,scale}')::numeric, 3) AS visitor_scale
  FROM leadflow.model WHERE name = 'ids_nb';
-- A feature shared by few leads each but not by most of them is fine.
SELECT model FROM leadflow.train(ARRAY['source', 'industry'], 'no_ids');
UPDATE leadflow.lead SET attrs = attrs - 'visitor';

------------------------------------------------------------------------
-- Values: numbers, categories, what is missing
------------------------------------------------------------------------
-- plan is categorical (a fifth of its values are "none"): the JSON
-- numbers 1, 1.0 and 1.00 and the string "1" are one category; 1.5 was
-- never seen.  employees is numeric: numbers beyond a double's range sit
-- in the top or bottom bin, tiny ones in 0's; hex, "inf" and "NaN" are
-- not numbers (the "other" slot), a number with blanks around is one.
SELECT model FROM leadflow.train((SELECT f FROM features), holdout => 0);
SELECT doc, round(leadflow.predict(doc::jsonb)::numeric, 4) AS p
  FROM (VALUES ('{"plan": 1}'), ('{"plan": 1.0}'), ('{"plan": 1.00}'), ('{"plan": "1"}'),
               ('{"plan": 3}'), ('{"plan": 3e0}'), ('{"plan": 1.5}'), ('{}')) t(doc);
SELECT doc, round(leadflow.predict(doc::jsonb)::numeric, 4) AS p
  FROM (VALUES ('{"employees": 999}'), ('{"employees": 1e400}'), ('{"employees": "1e400"}'),
               ('{"employees": 0}'), ('{"employees": -1e400}'), ('{"employees": "-1e400"}'),
               ('{"employees": "1e-400"}'), ('{"employees": " 64 "}'), ('{"employees": 64}'),
               ('{"employees": "0x40"}'), ('{"employees": "inf"}'), ('{"employees": "NaN"}'),
               ('{"employees": "banana"}'), ('{"employees": null}'), ('{"employees": [64]}'),
               ('{}')) t(doc);
-- How explain_score reads them.
INSERT INTO leadflow.lead (external_id, attrs) VALUES
    ('v-huge', '{"employees": 1e400, "plan": 1.0}'),
    ('v-hex', '{"employees": "0x40", "plan": "1"}'),
    ('v-blank', '{"employees": " 64 ", "plan": 1.5}');
SELECT l.external_id, e.name, e.detail
  FROM leadflow.lead l, leadflow.explain_score(l.id) e
 WHERE l.external_id LIKE 'v-%' AND e.name IN ('employees', 'plan')
 ORDER BY l.id, e.name;

------------------------------------------------------------------------
-- lead.predicted stays current
------------------------------------------------------------------------
-- The default model's training refreshed every lead (refreshed: how many
-- changed); named models leave predicted alone.
SELECT count(*) AS leads,
       count(*) FILTER (WHERE predicted IS DISTINCT FROM leadflow.predict(leadflow.routing_document(l))) AS stale
  FROM leadflow.lead l;
SELECT model, refreshed FROM leadflow.train(ARRAY['source'], 'named_only');
SELECT count(*) FILTER (WHERE predicted IS DISTINCT FROM leadflow.predict(leadflow.routing_document(l))) AS stale
  FROM leadflow.lead l;
SELECT leadflow.refresh_predictions() AS nothing_to_refresh;
-- A new default model: every prediction moves.
SELECT model, kind, refreshed FROM leadflow.train((SELECT f FROM features), kind => 'naive_bayes', holdout => 0);
SELECT count(*) FILTER (WHERE predicted IS DISTINCT FROM leadflow.predict(leadflow.routing_document(l))) AS stale
  FROM leadflow.lead l;
-- An UPDATE of the lead's document re-predicts it (attrs, or a column of
-- the document); other updates leave it; a value set by hand stays until
-- the document changes or rescore() stores the model's again.
CREATE TABLE watched AS SELECT id FROM leadflow.lead WHERE external_id = 'open-1';
CREATE VIEW w AS
SELECT round(predicted::numeric, 4) AS predicted,
       round(leadflow.predict(leadflow.routing_document(l))::numeric, 4) AS model_says
  FROM leadflow.lead l WHERE id = (SELECT id FROM watched);
SELECT * FROM w;
UPDATE leadflow.lead SET attrs = '{"employees": 10, "industry": "gov", "plan": 1}'
 WHERE id = (SELECT id FROM watched);
SELECT * FROM w;
UPDATE leadflow.lead SET source = 'purchased_list' WHERE id = (SELECT id FROM watched);
SELECT * FROM w;
UPDATE leadflow.lead SET predicted = 0.5 WHERE id = (SELECT id FROM watched);
SELECT * FROM w;
UPDATE leadflow.lead SET name = 'Ola' WHERE id = (SELECT id FROM watched);
SELECT * FROM w;
SELECT component, name, detail FROM leadflow.explain_score((SELECT id FROM watched))
 WHERE component = 'prediction' AND name = 'total';
SELECT leadflow.rescore((SELECT id FROM watched));
SELECT * FROM w;
SELECT component, name, detail, round(points::numeric, 4) AS points
  FROM leadflow.explain_score((SELECT id FROM watched)) WHERE component = 'prediction';
-- explain_score's terms add up to the stored prediction.
SELECT round((1 / (1 + exp(-sum(e.points) FILTER (WHERE e.name <> 'total'))))::numeric, 12)
           = round(min(l.predicted)::numeric, 12) AS terms_add_up
  FROM leadflow.explain_score((SELECT id FROM watched)) e, leadflow.lead l
 WHERE e.component = 'prediction' AND l.id = (SELECT id FROM watched);
-- A restore keeps rows as given.
SET check_function_bodies = off;
UPDATE leadflow.lead SET attrs = '{"employees": 990}' WHERE id = (SELECT id FROM watched);
RESET check_function_bodies;
SELECT * FROM w;
-- A new lead is predicted as it arrives.
INSERT INTO leadflow.lead (external_id, source, attrs) VALUES ('new-1', 'referral', '{"employees": 500}')
RETURNING round(predicted::numeric, 4) AS predicted,
          round(leadflow.predict('{"source": "referral", "employees": 500}')::numeric, 4) AS model_says;
-- Without a default model nothing is predicted or refreshed: predicted
-- keeps its last value.
DELETE FROM leadflow.model WHERE name = 'default';
SELECT leadflow.refresh_predictions() AS refreshed_without_model;
UPDATE leadflow.lead SET attrs = '{"employees": 5}' WHERE id = (SELECT id FROM watched)
RETURNING round(predicted::numeric, 4) AS predicted_kept;
SELECT leadflow.rescore((SELECT id FROM watched)) AS fit_score;
SELECT round(predicted::numeric, 4) AS predicted_kept FROM leadflow.lead WHERE id = (SELECT id FROM watched);

------------------------------------------------------------------------
-- The routing document
------------------------------------------------------------------------
-- Columns that are set hide attrs keys of the same name; NULL columns
-- leave them; the domain comes from the email.
INSERT INTO leadflow.lead (external_id, email, source, campaign, company, country, attrs) VALUES
    ('doc-1', 'Ann@Acme.TEST', 'web_form', 'spring', 'Acme', 'DE',
     '{"source": "hidden", "domain": "hidden", "industry": "saas", "nested": {"a": [1, 2]}}'),
    ('doc-2', NULL, NULL, NULL, NULL, NULL, '{"source": "from attrs", "country": "FR"}'),
    ('doc-3', NULL, NULL, NULL, NULL, NULL, '{}');
SELECT external_id, leadflow.routing_document(l) FROM leadflow.lead l
 WHERE external_id LIKE 'doc-%' ORDER BY id;
SELECT leadflow.routing_document(NULL::leadflow.lead) IS NULL AS null_row;

------------------------------------------------------------------------
-- predict runs no SET search_path, and a hostile one changes nothing
------------------------------------------------------------------------
SELECT p.oid::regprocedure AS function, p.proconfig, p.proisstrict
  FROM pg_proc p
 WHERE p.oid IN ('leadflow.predict(jsonb, text)'::regprocedure,
                 'leadflow.routing_document(leadflow.lead)'::regprocedure);
-- An operator in public for text = text, and a decoy model table in
-- pg_temp, with both first in the path: loading a model (after a new
-- version invalidated the cache) uses neither.
SELECT model FROM leadflow.train(ARRAY['source'], 'path');
CREATE FUNCTION public.lf_test_hijack(text, text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'hijacked: % = %', $1, $2; END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.lf_test_hijack);
CREATE TEMP TABLE model (name text, trained_at timestamptz, params jsonb);
INSERT INTO pg_temp.model VALUES ('path', 'infinity', '{"decoy": true}');
SET search_path = pg_temp, public, pg_catalog;
SELECT round(leadflow.predict('{"source": "referral"}', 'path')::numeric, 4) AS p;
RESET search_path;
SET search_path = public, leadflow;
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.lf_test_hijack(text, text);
DROP TABLE pg_temp.model;

------------------------------------------------------------------------
-- Models stored by 1.1, and params train did not write
------------------------------------------------------------------------
-- 1.1 stored naive Bayes counts: they load as the naive Bayes they were.
-- By hand: log(P/N) plus, per feature, log((pos + 1) / (P + K)) -
-- log((neg + 1) / (N + K)) with K slots: source 4 (2 values, missing,
-- unseen), employees 4 (2 bins, missing, other).
INSERT INTO leadflow.model (name, trained_at, features, params, positives, negatives, auc, kind)
VALUES ('legacy', '2025-06-01 00:00+00', '{source,employees}',
        '{"positives": 30, "negatives": 20, "alpha": 1, "features": [{"name": "source", "kind": "categorical", "values": {"referral": [20, 5], "web_form": [10, 15]}, "missing": [0, 0]}, {"name": "employees", "kind": "numeric", "cuts": [10], "bins": [[5, 1], [25, 19]], "other": [0, 0], "missing": [0, 0]}]}',
        30, 20, 0.7, 'naive_bayes');
SELECT round(leadflow.predict('{"source": "referral", "employees": 50}', 'legacy')::numeric, 6) AS predicted,
       round((1 / (1 + exp(-(ln(30.0 / 20) + ln(21.0 / 34) - ln(6.0 / 24)
                             + ln(26.0 / 34) - ln(20.0 / 24)))))::numeric, 6) AS by_hand,
       round(leadflow.predict('{"source": "unseen"}', 'legacy')::numeric, 6) AS unseen_is_the_prior,
       round(0.6, 6) AS prior;
UPDATE leadflow.model SET params = '{"format": 2, "positives": 3, "negatives": 2}' WHERE name = 'legacy';
SELECT leadflow.predict('{}', 'legacy');
UPDATE leadflow.model SET params = '{"format": 7, "positives": 3, "negatives": 2}' WHERE name = 'legacy';
SELECT leadflow.predict('{}', 'legacy');
UPDATE leadflow.model SET params = '[]' WHERE name = 'legacy';
SELECT leadflow.predict('{}', 'legacy');
DELETE FROM leadflow.model WHERE name = 'legacy';

------------------------------------------------------------------------
-- What the table keeps, and privileges
------------------------------------------------------------------------
SELECT name, kind, positives, negatives, round(auc::numeric, 3) AS auc,
       holdout_positives, holdout_negatives, round(holdout_auc::numeric, 3) AS holdout_auc,
       round(holdout_calibration_error::numeric, 3) AS holdout_ece
  FROM leadflow.model WHERE name IN ('lr', 'nb', 'all_leads') ORDER BY name;
SELECT p.proname, r.rolname, has_function_privilege(r.rolname, p.oid, 'EXECUTE') AS can
  FROM pg_proc p, pg_roles r
 WHERE p.pronamespace = 'leadflow'::regnamespace
   AND p.proname IN ('train', 'predict', 'refresh_predictions', 'routing_document', 'rescore')
   AND r.rolname IN ('leadflow_admin', 'leadflow_manager', 'leadflow_rep')
 ORDER BY 1, 2;

RESET leadflow.clock;
RESET leadflow.route_on_insert;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.scoring_rule, leadflow.model RESTART IDENTITY;
DROP TABLE gen, features, slot_of, filter_ids, report, held, share, watched CASCADE;
DROP FUNCTION held_auc(text), held_log_loss(text), held_ece(text), slots_of(text),
    largest_slot_gradient(text, float8);
