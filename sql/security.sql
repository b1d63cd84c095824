-- Security: roles, row-level security and the privilege audit.  Acts as
-- rep A, rep B, a leadflow_rep role mapped to no rep, a manager, a manager
-- who is also a member of leadflow_rep, an admin, a CRM back-end role
-- granted table privileges by a DBA, and a role with nothing -- and shows,
-- for each, the rows it sees and what it is refused (SQLSTATE: message).
\set VERBOSITY default
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- a Monday afternoon
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.scoring_rule, leadflow.model
    RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.qualification_criterion;

------------------------------------------------------------------------
-- What 1.1 installs: row-level security on the tables reps read, a
-- permissive policy for PUBLIC (table privileges decide) and a restrictive
-- one for leadflow_rep.
------------------------------------------------------------------------
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r' AND c.relrowsecurity
 ORDER BY 1;
SELECT tablename, policyname, permissive, roles, cmd
  FROM pg_policies WHERE schemaname = 'leadflow' ORDER BY 1, 2;
-- The policies are extension members: pg_dump leaves them to CREATE EXTENSION.
SELECT count(*) AS policies_not_in_extension
  FROM pg_policy p
 WHERE p.polrelid::regclass::text LIKE 'leadflow.%'
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_policy'::regclass AND d.objid = p.oid
                      AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e');

------------------------------------------------------------------------
-- Roles (cluster-wide, so prefixed lf_test_ and dropped at the end) and
-- a small floor: Ana and Ben work queue "sales", Mia manages them.
------------------------------------------------------------------------
CREATE ROLE lf_test_rep_a;
CREATE ROLE lf_test_rep_b;
CREATE ROLE lf_test_rep_x;          -- a rep role no rep row names
CREATE ROLE lf_test_manager;
CREATE ROLE lf_test_manager_rep;    -- a manager who also holds leadflow_rep
CREATE ROLE lf_test_admin;
CREATE ROLE lf_test_crm;            -- a CRM back end: table grants, no leadflow role
CREATE ROLE lf_test_nobody;         -- nothing at all
GRANT leadflow_rep TO lf_test_rep_a, lf_test_rep_b, lf_test_rep_x, lf_test_manager_rep;
GRANT leadflow_manager TO lf_test_manager, lf_test_manager_rep;
GRANT leadflow_admin TO lf_test_admin;
GRANT USAGE ON SCHEMA leadflow TO lf_test_crm;
GRANT SELECT, INSERT ON leadflow.lead, leadflow.touch TO lf_test_crm;
GRANT SELECT ON leadflow.decision, leadflow.alert, leadflow.rep TO lf_test_crm;
GRANT USAGE ON SEQUENCE leadflow.lead_id_seq, leadflow.touch_id_seq TO lf_test_crm;

INSERT INTO leadflow.rep (id, name, login, max_new_per_day, manager_id) VALUES
    (3, 'Mia', 'lf_test_manager', 50, NULL),
    (1, 'Ana', 'lf_test_rep_a', 50, 3),
    (2, 'Ben', 'lf_test_rep_b', 50, 3);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('sales', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('sales', 1), ('sales', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'sales');
INSERT INTO leadflow.account (domain, status, suppress_reason)
    VALUES ('rival.test', 'suppressed', 'competitor');
-- Round robin: leads 1 and 3 to Ana, 2 and 4 to Ben; lead 5 is suppressed
-- and has no owner.
INSERT INTO leadflow.lead (email, name)
    SELECT 'p' || g || '@acme.test', 'Prospect ' || g FROM generate_series(1, 4) g;
INSERT INTO leadflow.lead (email, name) VALUES ('x@rival.test', 'Rival');
INSERT INTO leadflow.event (lead_id, kind) VALUES (1, 'page_view'), (2, 'page_view'), (3, 'email_open');
INSERT INTO leadflow.alert (kind, lead_id, rep_id, detail) VALUES
    ('cap_reached', NULL, 1, '{"for": "Ana"}'),
    ('cap_reached', NULL, 2, '{"for": "Ben"}'),
    ('sla_breach', 2, 3, '{"for": "Mia"}');
SELECT id, email, owner_id, stage FROM leadflow.lead ORDER BY id;

-- Helper: run one statement as whoever calls it, and say what happened.
-- Not SECURITY DEFINER: it acts with the caller's rights.
CREATE FUNCTION public.lf_test_try(stmt text) RETURNS text
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE stmt;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN 'ok, ' || n || ' rows';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END;
$$;

-- Helper: which InitPlans a query's plan has, and how often each ran.
CREATE FUNCTION public.lf_test_initplans(query text)
    RETURNS TABLE (initplan text, loops integer)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON, TIMING OFF, SUMMARY OFF) ' || query INTO plan;
    RETURN QUERY
        SELECT DISTINCT p ->> 'Subplan Name', (p ->> 'Actual Loops')::integer
          FROM jsonb_path_query(plan, 'strict $.**') p
         WHERE jsonb_typeof(p) = 'object' AND p ->> 'Subplan Name' LIKE 'InitPlan%'
         ORDER BY 1;
END;
$$;

------------------------------------------------------------------------
-- Rep A (Ana) works leads 1 and 3.
------------------------------------------------------------------------
SET ROLE lf_test_rep_a;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT id, owner_id, stage FROM leadflow.lead ORDER BY id;
SELECT rep_id, priority, lead_id, name, next_channel, due FROM leadflow.work_list ORDER BY priority;
SELECT lead_id, kind FROM leadflow.event ORDER BY id;
SELECT rep_id, kind, detail FROM leadflow.alert ORDER BY id;
SELECT lead_id, kind, from_rep, to_rep FROM leadflow.decision ORDER BY id;
-- What it may do: touch, record an event on, and edit its own leads, and
-- acknowledge its own alerts.
SELECT lead_id, rep_id, channel, outcome FROM leadflow.log_touch(1, 'call', 'connected', 'left a message');
SELECT lead_id, rep_id, channel, outcome FROM leadflow.log_touch(3, 'email', 'not_reached');
INSERT INTO leadflow.event (lead_id, kind) VALUES (1, 'form_fill') RETURNING lead_id, kind;
UPDATE leadflow.lead SET attrs = '{"budget": "yes"}', phone = '+1 555 0100'
 WHERE id IN (1, 2, 3, 4, 5) RETURNING id, attrs, phone;
SELECT id, rep_id, acknowledged_at FROM leadflow.acknowledge_alert(1);
SELECT leadflow.current_score(1) AS score_of_own_lead;
SELECT lead_id, rep_id, outcome FROM leadflow.touch ORDER BY id;
-- What it must not do.
SELECT stmt, lf_test_try(stmt) AS result FROM unnest(ARRAY[
    -- other reps' rows are not there to change
    $q$UPDATE leadflow.lead SET attrs = '{"x": 1}' WHERE id = 2$q$,
    $q$UPDATE leadflow.alert SET acknowledged_at = leadflow.now() WHERE rep_id <> 1$q$,
    $q$SELECT leadflow.acknowledge_alert(2)$q$,
    -- nor to touch, or to log a touch as someone else
    $q$SELECT leadflow.log_touch(2, 'call', 'dead')$q$,
    $q$INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (2, 2, 'call', 'dead')$q$,
    $q$INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (1, 2, 'call', 'connected')$q$,
    $q$SELECT leadflow.log_touch(5, 'call', 'connected')$q$,
    $q$SELECT leadflow.log_touch(99, 'call', 'connected')$q$,
    $q$INSERT INTO leadflow.event (lead_id, kind) VALUES (2, 'page_view')$q$,
    $q$SELECT leadflow.current_score(2)$q$,
    $q$SELECT * FROM leadflow.explain_score(2)$q$,
    -- its own lead's routing fields are not its to write
    $q$UPDATE leadflow.lead SET owner_id = 2 WHERE id = 1$q$,
    $q$UPDATE leadflow.lead SET stage = 'converted' WHERE id = 1$q$,
    $q$DELETE FROM leadflow.touch$q$,
    -- the ledger's candidates are the managers'
    $q$SELECT candidates FROM leadflow.decision$q$,
    $q$SELECT * FROM leadflow.decision$q$,
    -- caps, counters, rules, queues, other reps
    $q$UPDATE leadflow.rep SET max_open = 500 WHERE id = 1$q$,
    $q$UPDATE leadflow.rep SET max_new_per_day = 0 WHERE id = 2$q$,
    $q$SELECT * FROM leadflow.rep_load$q$,
    $q$SELECT * FROM leadflow.member_state$q$,
    $q$INSERT INTO leadflow.rule (name, queue) VALUES ('mine', 'sales')$q$,
    $q$UPDATE leadflow.queue SET strategy = 'weighted'$q$,
    $q$INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('default', 1, 9)$q$,
    $q$UPDATE leadflow.queue_member SET weight = 9 WHERE rep_id = 1$q$,
    $q$UPDATE leadflow.scoring_rule SET points = 100$q$,
    $q$SELECT * FROM leadflow.account$q$,
    $q$SELECT * FROM leadflow.stage_history$q$,
    $q$SELECT * FROM leadflow.rep_pipeline$q$,
    $q$SELECT * FROM leadflow.overdue$q$,
    -- the managers' and admins' functions
    $q$SELECT leadflow.route(5)$q$,
    $q$SELECT leadflow.route_pending()$q$,
    $q$SELECT leadflow.assign(2, 1, 'mine now')$q$,
    $q$SELECT * FROM leadflow.sweep()$q$,
    $q$SELECT leadflow.merge(1, 3)$q$,
    $q$SELECT leadflow.reopen(5, 'try again')$q$,
    $q$SELECT * FROM leadflow.train(ARRAY['budget'])$q$,
    $q$SELECT leadflow.rescore(1)$q$,
    $q$SELECT * FROM leadflow.explain(1)$q$,
    $q$SELECT * FROM leadflow.check_counters()$q$,
    $q$SELECT leadflow.schedule_sweep()$q$,
    $q$SET leadflow.clock = '2030-01-01'$q$,
    -- a SECURITY DEFINER trigger function attached to a table of its own
    $q$CREATE TEMP TABLE fake_touch (lead_id bigint, rep_id int, at timestamptz,
          channel leadflow.channel, outcome leadflow.outcome, note text, referral jsonb);
       CREATE TRIGGER t BEFORE INSERT ON fake_touch
          FOR EACH ROW EXECUTE FUNCTION leadflow.touch_before_insert()$q$,
    $q$CREATE TEMP TABLE fake_lead (LIKE leadflow.lead);
       CREATE TRIGGER t BEFORE INSERT ON fake_lead
          FOR EACH ROW EXECUTE FUNCTION leadflow.lead_before_insert()$q$
]) AS stmt;
-- The policies' facts are InitPlans, each run once per query, not once
-- per row (the scans themselves depend on statistics, so only these are
-- shown).
SELECT * FROM lf_test_initplans('SELECT * FROM leadflow.lead');
SELECT * FROM lf_test_initplans('SELECT * FROM leadflow.touch');
RESET ROLE;
-- Behind the triggers that name the refusal (touch_authorize and the
-- touch checks), the policy alone keeps a rep's touches to its own
-- leads, as itself.
BEGIN;
ALTER TABLE leadflow.touch DISABLE TRIGGER USER;
SET LOCAL ROLE lf_test_rep_a;
SELECT stmt, lf_test_try(stmt) AS result FROM unnest(ARRAY[
    $q$INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (1, 1, 'call', 'not_reached')$q$,
    $q$INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (2, 1, 'call', 'not_reached')$q$,
    $q$INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (1, 2, 'call', 'not_reached')$q$,
    $q$INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (99, 1, 'call', 'not_reached')$q$
]) AS stmt;
ROLLBACK;

------------------------------------------------------------------------
-- Rep B (Ben) works leads 2 and 4; nothing Ana did shows but his lead's.
------------------------------------------------------------------------
SET ROLE lf_test_rep_b;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT id, owner_id, stage, attrs FROM leadflow.lead ORDER BY id;
SELECT rep_id, priority, lead_id, name FROM leadflow.work_list ORDER BY priority;
SELECT lead_id, rep_id, outcome FROM leadflow.touch ORDER BY id;
SELECT lead_id, kind FROM leadflow.event ORDER BY id;
SELECT rep_id, kind, acknowledged_at FROM leadflow.alert ORDER BY id;
SELECT lead_id, kind, from_rep, to_rep FROM leadflow.decision ORDER BY id;
RESET ROLE;

------------------------------------------------------------------------
-- A manager moves lead 3 from Ana to Ben.  The move's ledger entry names
-- Ana: she still reads it, but no longer the lead, its touches or events;
-- Ben now reads lead 3 with its whole history, Ana's touch included.
------------------------------------------------------------------------
SET ROLE lf_test_manager;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT leadflow.assign(3, 2, 'coverage');
SELECT id, owner_id, stage FROM leadflow.lead ORDER BY id;
SELECT rep_id, lead_id FROM leadflow.work_list ORDER BY rep_id, priority;
SELECT lead_id, rep_id, outcome FROM leadflow.touch ORDER BY id;
SELECT count(*) AS events, (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.decision WHERE candidates IS NOT NULL) AS decisions_with_candidates
  FROM leadflow.event;
-- A manager may touch any lead (as its own rep, or on the owner's behalf)...
SELECT lead_id, rep_id, outcome FROM leadflow.log_touch(4, 'call', 'connected');
-- ... but configures nothing.
SELECT stmt, lf_test_try(stmt) AS result FROM unnest(ARRAY[
    $q$UPDATE leadflow.rep SET max_open = 10 WHERE id = 1$q$,
    $q$INSERT INTO leadflow.rule (name, queue) VALUES ('x', 'sales')$q$,
    $q$SELECT * FROM leadflow.train(ARRAY['budget'])$q$
]) AS stmt;
RESET ROLE;

SET ROLE lf_test_rep_a;
SELECT id, owner_id FROM leadflow.lead ORDER BY id;
SELECT lead_id, rep_id, outcome FROM leadflow.touch ORDER BY id;
SELECT lead_id, kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id;
SELECT lf_test_try($q$SELECT leadflow.log_touch(3, 'call', 'connected')$q$);
RESET ROLE;
SET ROLE lf_test_rep_b;
SELECT id, owner_id FROM leadflow.lead ORDER BY id;
SELECT lead_id, rep_id, outcome FROM leadflow.touch ORDER BY id;
SELECT lead_id, kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id;
SELECT lead_id, kind FROM leadflow.event ORDER BY id;
RESET ROLE;

------------------------------------------------------------------------
-- A leadflow_rep role that no rep row names sees nothing, and may not log
-- a touch on anyone's behalf (1.0 took it for the lead's owner).
------------------------------------------------------------------------
SET ROLE lf_test_rep_x;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT count(*) AS leads, (SELECT count(*) FROM leadflow.touch) AS touches,
       (SELECT count(*) FROM leadflow.event) AS events,
       (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.decision) AS decisions,
       (SELECT count(*) FROM leadflow.work_list) AS work_list
  FROM leadflow.lead;
SELECT leadflow.log_touch(1, 'call', 'dead');
SELECT stmt, lf_test_try(stmt) AS result FROM unnest(ARRAY[
    $q$INSERT INTO leadflow.touch (lead_id, channel, outcome) VALUES (1, 'call', 'dead')$q$,
    $q$INSERT INTO leadflow.event (lead_id, kind) VALUES (1, 'page_view')$q$,
    $q$UPDATE leadflow.lead SET attrs = '{}'$q$
]) AS stmt;
RESET ROLE;
SELECT count(*) AS touches_of_lead_1 FROM leadflow.touch WHERE lead_id = 1;

-- SET SESSION AUTHORIZATION narrows as SET ROLE does.
SET SESSION AUTHORIZATION lf_test_rep_b;
SELECT session_user, current_user, leadflow.current_rep_id(),
       (SELECT array_agg(id ORDER BY id) FROM leadflow.lead) AS leads;
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------
-- A manager who also holds leadflow_rep is not narrowed.
------------------------------------------------------------------------
SET ROLE lf_test_manager_rep;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT count(*) AS leads, (SELECT count(*) FROM leadflow.touch) AS touches,
       (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.decision) AS decisions,
       (SELECT count(*) FROM leadflow.work_list) AS work_list
  FROM leadflow.lead;
RESET ROLE;

------------------------------------------------------------------------
-- An admin configures and reads everything, but works no lead.
------------------------------------------------------------------------
SET ROLE lf_test_admin;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT count(*) AS leads, (SELECT count(*) FROM leadflow.touch) AS touches,
       (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.decision) AS decisions,
       (SELECT count(*) FROM leadflow.work_list) AS work_list
  FROM leadflow.lead;
UPDATE leadflow.rep SET max_open = 120 WHERE id = 1 RETURNING id, max_open;
SELECT stmt, lf_test_try(stmt) AS result FROM unnest(ARRAY[
    $q$SELECT leadflow.log_touch(1, 'call', 'connected')$q$,
    $q$UPDATE leadflow.lead SET attrs = '{}' WHERE id = 1$q$,
    $q$SELECT leadflow.assign(1, 2, 'x')$q$
]) AS stmt;
RESET ROLE;

------------------------------------------------------------------------
-- Roles outside the leadflow roles keep what their table privileges
-- give: row-level security hides nothing from a CRM back end, and a role
-- with no privileges is refused outright, as before.
------------------------------------------------------------------------
SET ROLE lf_test_crm;
SELECT current_user, leadflow.current_rep_id(), leadflow.sees_all_rows();
SELECT count(*) AS leads, (SELECT count(*) FROM leadflow.touch) AS touches,
       (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.decision) AS decisions
  FROM leadflow.lead;
-- It logs touches for the owner, as a CRM front end does.
SELECT lead_id, rep_id, outcome FROM leadflow.log_touch(2, 'email', 'connected');
INSERT INTO leadflow.lead (email) VALUES ('p6@acme.test') RETURNING id, owner_id;
RESET ROLE;
SET ROLE lf_test_nobody;
SELECT lf_test_try($q$SELECT count(*) FROM leadflow.lead$q$);
RESET ROLE;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- The catalog audit (search_path, SECURITY DEFINER, who may execute,
-- read and write what) is sql/audit.sql, against docs/security.md.
------------------------------------------------------------------------

------------------------------------------------------------------------
-- Clean up: the roles are cluster-wide.
------------------------------------------------------------------------
DROP FUNCTION public.lf_test_try(text), public.lf_test_initplans(text);
UPDATE leadflow.rep SET login = NULL WHERE login LIKE 'lf_test_%';
REVOKE ALL ON SCHEMA leadflow FROM lf_test_crm;
REVOKE ALL ON leadflow.lead, leadflow.touch, leadflow.decision, leadflow.alert, leadflow.rep
    FROM lf_test_crm;
REVOKE ALL ON SEQUENCE leadflow.lead_id_seq, leadflow.touch_id_seq FROM lf_test_crm;
DROP ROLE lf_test_rep_a, lf_test_rep_b, lf_test_rep_x, lf_test_manager, lf_test_manager_rep,
    lf_test_admin, lf_test_crm, lf_test_nobody;
SELECT count(*) AS lf_test_roles_left FROM pg_roles WHERE rolname LIKE 'lf_test_%';
