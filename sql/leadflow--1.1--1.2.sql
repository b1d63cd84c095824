-- leadflow 1.1 -> 1.2
\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.2'" to load this file. \quit

-- There is no leadflow--1.2.sql: CREATE EXTENSION runs leadflow--1.0.sql,
-- leadflow--1.0--1.1.sql and then this script, so a fresh 1.2 and an
-- updated 1.0 or 1.1 are built by the same statements and cannot drift
-- apart (test/t/006_upgrade_objects.pl compares them object by object).
--
-- Every function this script creates or replaces pins
--     SET search_path = pg_catalog, leadflow, pg_temp
-- (pg_temp last, so that nothing a role creates in its temporary schema can
-- shadow what leadflow means), and names the schema of what it uses.
--
-- The script is kept in sections, one per concern, each between its BEGIN
-- and END lines; a section may use what an earlier one made.

-- BEGIN security
-- END security


-- BEGIN write_paths
-- END write_paths


-- BEGIN adoption
-- END adoption


-- BEGIN operations
-- END operations


-- BEGIN code_map
-- END code_map


-- BEGIN policy
-- END policy


-- BEGIN scoring
-- Predictive scoring (src/predict.c, src/train.c, src/logistic.c): a
-- logistic regression beside naive Bayes, calibrated probabilities,
-- held-out figures, real outcomes only, lead.predicted kept current.

-- Each version records its kind and how it fared: on its training leads
-- (auc, log_loss) and on the leads held out from it.  Rows of 1.1 are
-- naive Bayes.
ALTER TABLE leadflow.model
    ADD COLUMN kind text NOT NULL DEFAULT 'naive_bayes'
        CONSTRAINT model_kind_known CHECK (kind IN ('logistic', 'naive_bayes')),
    ADD COLUMN log_loss float8,
    ADD COLUMN holdout_positives integer,
    ADD COLUMN holdout_negatives integer,
    ADD COLUMN holdout_auc float8,
    ADD COLUMN holdout_log_loss float8,
    ADD COLUMN holdout_calibration_error float8;
ALTER TABLE leadflow.model ALTER COLUMN kind DROP DEFAULT;
COMMENT ON TABLE leadflow.model IS
    'Predictive models learnt by leadflow.train (logistic regression or calibrated naive Bayes), versioned by training time, with their figures on training and held-out leads; leadflow.predict uses the newest version of a name.';

-- A lead's routing document as jsonb.  No search_path: C that runs no
-- SQL and resolves no name.
CREATE FUNCTION leadflow.routing_document(lead leadflow.lead) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'leadflow_routing_document'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.routing_document(leadflow.lead) IS
    'The routing document of a lead row: attrs, with source, campaign, company, country and the email''s domain over keys of the same name -- what routing rules, fit rules and predict read.';

-- predict: no SET search_path (a GUC save and restore on every call);
-- the C code pins the path itself while it loads a model, the only SQL
-- it runs.  A NULL model name is an error, not a NULL.
ALTER FUNCTION leadflow.predict(jsonb, text) CALLED ON NULL INPUT RESET search_path;
COMMENT ON FUNCTION leadflow.predict(jsonb, text) IS
    'Probability (0 to 1) that a lead with this routing document converts, by the newest version of the model (calibrated: of leads predicted p, about p convert); NULL for a NULL document; error 42704 when there is no such model.';

COMMENT ON FUNCTION leadflow.explain_score(bigint, timestamptz) IS
    'Why a lead scores what it does: each matched fit rule and group cap (fit), each event''s decayed points per rule (engagement), the intercept and each feature''s weight in log-odds under the ''default'' model (prediction, compared with lead.predicted), and the totals.';

-- SECURITY DEFINER: it writes lead.predicted of every lead, which the
-- admins who train models may not update.
CREATE FUNCTION leadflow.refresh_predictions() RETURNS bigint
    AS 'MODULE_PATHNAME', 'leadflow_refresh_predictions'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.refresh_predictions() IS
    'Set every lead''s predicted to the newest default model''s prediction of its routing document, in one UPDATE; returns how many changed (0 without a default model).  train(..., ''default'') calls it.';
REVOKE ALL ON FUNCTION leadflow.refresh_predictions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.refresh_predictions() TO leadflow_admin, leadflow_manager;

-- train gains a kind, a training filter or hold-out share, and reports
-- held-out figures: a new signature, so the old function goes.
DROP FUNCTION leadflow.train(text[], text);
CREATE FUNCTION leadflow.train(features text[], model text DEFAULT 'default',
                               kind text DEFAULT 'logistic',
                               training_leads bigint[] DEFAULT NULL,
                               created_before timestamptz DEFAULT NULL,
                               holdout float8 DEFAULT NULL,
                               l2 float8 DEFAULT NULL)
    RETURNS TABLE (model text, kind text, trained_at timestamptz,
                   positives integer, negatives integer, features integer, parameters integer,
                   auc float8, log_loss float8,
                   holdout_positives integer, holdout_negatives integer,
                   holdout_auc float8, holdout_log_loss float8,
                   holdout_calibration_error float8, refreshed bigint)
    AS 'MODULE_PATHNAME', 'leadflow_train'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.train(text[], text, text, bigint[], timestamptz, float8, float8) IS
    'Learn a model (logistic: L2-regularised logistic regression, the default; naive_bayes: Laplace-smoothed, Platt-calibrated) from the leads'' real outcomes (qualified, converted: positive; rejected: negative; duplicates and merged leads left out) over the given routing-document keys.  Trains on the leads training_leads and created_before admit, holding out the others; without a filter holds out a share (holdout, default 0.2) by a hash of the lead id.  Stores a new version in leadflow.model, reports AUC and log loss on training and held-out leads and the held-out calibration error, and refreshes lead.predicted when the model is ''default''.';
REVOKE ALL ON FUNCTION leadflow.train(text[], text, text, bigint[], timestamptz, float8, float8)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.train(text[], text, text, bigint[], timestamptz, float8, float8)
    TO leadflow_admin;
-- END scoring


-- BEGIN performance
-- END performance


-- BEGIN replication
-- END replication


-- BEGIN reference
-- Comments on every object come last, once every object exists.
-- END reference
