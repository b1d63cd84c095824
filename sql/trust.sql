-- Trust: what no role can switch off or read.  Restore mode (the
-- triggers keep rows as given) only for a superuser or the extension's
-- owner; what reps may read of the model; contact keys that would take
-- another owner's prospect; touch times within reason.  (Alert payloads:
-- test/specs/alert_notify.spec.  Shadowing: sql/attack.sql.)
\set VERBOSITY default
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- a Monday afternoon
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.scoring_rule, leadflow.model,
    leadflow.stage_history RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.qualification_criterion;

CREATE ROLE lf_trust_rep_a;
CREATE ROLE lf_trust_rep_b;
CREATE ROLE lf_trust_manager;
CREATE ROLE lf_trust_crm;       -- a CRM back end: table grants, no leadflow role
GRANT leadflow_rep TO lf_trust_rep_a, lf_trust_rep_b;
GRANT leadflow_manager TO lf_trust_manager;
GRANT USAGE ON SCHEMA leadflow TO lf_trust_crm;
GRANT SELECT, INSERT, UPDATE ON leadflow.lead, leadflow.touch TO lf_trust_crm;
GRANT USAGE ON SEQUENCE leadflow.lead_id_seq, leadflow.touch_id_seq TO lf_trust_crm;

-- Ana and Ben work "sales"; Cy (max_open 1) is full; Mia manages.
INSERT INTO leadflow.rep (id, name, login, hours, max_open, max_new_per_day, manager_id) VALUES
    (3, 'Mia', 'lf_trust_manager', 'mon-sun 00:00-24:00 UTC', 50, 50, NULL),
    (1, 'Ana', 'lf_trust_rep_a', 'mon-sun 00:00-24:00 UTC', 50, 50, 3),
    (2, 'Ben', 'lf_trust_rep_b', 'mon-sun 00:00-24:00 UTC', 50, 50, 3),
    (4, 'Cy', NULL, 'mon-sun 00:00-24:00 UTC', 1, 50, 3);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('sales', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('sales', 1), ('sales', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'sales');
-- History for the model: a rival's domain and company with their outcomes.
INSERT INTO leadflow.lead (email, company, source, owner_id, stage)
SELECT 'h' || g || CASE WHEN g <= 4 THEN '@secret.test' ELSE '@other.test' END,
       CASE WHEN g <= 4 THEN 'Secret Corp' ELSE 'Other' END, 'web', 2,
       CASE WHEN g <= 4 OR g = 5 THEN 'converted' ELSE 'rejected' END::leadflow.stage
  FROM generate_series(1, 8) g;
SELECT model, positives, negatives FROM leadflow.train(ARRAY['company', 'domain']);
-- Open leads: 9 and 11 to Ana, 10 and 12 to Ben; 13 to Cy (now full).
INSERT INTO leadflow.lead (email, name, phone, country, company)
    SELECT 'p' || g || '@acme.test', 'Prospect ' || g, '030 100' || g, 'DE', 'Acme'
      FROM generate_series(9, 12) g;
INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('cy@acme.test', 4, 'sales');
SELECT id, email, phone, owner_id, stage, predicted IS NOT NULL AS predicted
  FROM leadflow.lead WHERE id > 8 ORDER BY id;

------------------------------------------------------------------------
-- Restore mode.  check_function_bodies is anyone's to SET; off, it used
-- to make every trigger keep rows as given.  For a manager it changes
-- nothing now: caps, stage rules, routing, the ledger and the touch
-- rules hold.
------------------------------------------------------------------------
SET ROLE lf_trust_manager;
SET check_function_bodies = off;
SELECT leadflow.restoring();
-- past a cap, without the override
UPDATE leadflow.lead SET owner_id = 4 WHERE id = 9;
-- a converted lead back to new
UPDATE leadflow.lead SET stage = 'converted' WHERE id = 12;
UPDATE leadflow.lead SET stage = 'new' WHERE id = 12;
-- an import past a cap: history is kept as given (issue 16), but counted
-- and recorded, not kept as a restore keeps it
INSERT INTO leadflow.lead (email, owner_id) VALUES ('imp@acme.test', 4)
    RETURNING owner_id, assigned_at IS NOT NULL AS has_follow_up;
SELECT kind, to_rep, reason FROM leadflow.decision
 WHERE lead_id = (SELECT id FROM leadflow.lead WHERE email = 'imp@acme.test');
-- a new lead is routed (and normalised), not kept as given
INSERT INTO leadflow.lead (email, phone, country) VALUES (' New@Acme.test ', '030 2000', 'DE')
    RETURNING id, email, phone, owner_id, queue, next_touch_at IS NOT NULL AS has_next_touch;
-- a touch advances its lead
SELECT lead_id, rep_id, outcome FROM leadflow.log_touch(10, 'call', 'connected');
SELECT id, stage, touches, cadence_step FROM leadflow.lead WHERE id = 10;
-- merge runs as the extension's owner (SECURITY DEFINER), but the acting
-- role is still the manager: the dropped lead's stage change is recorded
-- and its seat freed
SELECT id, stage, duplicate_of FROM leadflow.merge(11, 9);
SELECT id, stage, duplicate_of FROM leadflow.lead WHERE id = 9;
SELECT lead_id, from_stage, to_stage, by_role FROM leadflow.stage_history ORDER BY id;
RESET check_function_bodies;
RESET ROLE;
-- A rep who turns it off gets the touch rules too.
SET ROLE lf_trust_rep_a;
SET check_function_bodies = off;
SELECT leadflow.restoring();
INSERT INTO leadflow.touch (lead_id, rep_id, channel, outcome) VALUES (10, 2, 'call', 'dead');
RESET check_function_bodies;
RESET ROLE;
SELECT * FROM leadflow.check_counters();
SELECT * FROM leadflow.check_invariants();
-- A superuser restoring (as pg_restore and pg_dump scripts do) still has
-- rows kept as given: no routing, no counting, no ledger.
BEGIN;
SET LOCAL check_function_bodies = off;
SELECT leadflow.restoring();
INSERT INTO leadflow.lead (id, email, owner_id, queue, stage) VALUES (100, 'AS@GIVEN.test', 4, 'sales', 'new')
    RETURNING id, email, owner_id, next_touch_at;
SELECT count(*) AS decisions_about_100 FROM leadflow.decision WHERE lead_id = 100;
ROLLBACK;

------------------------------------------------------------------------
-- The model.  It holds every closed company and domain with its
-- outcomes; reps read the prediction stored on their own leads, nothing
-- else of it.
------------------------------------------------------------------------
SET ROLE lf_trust_rep_a;
SELECT * FROM leadflow.model;
SELECT leadflow.predict('{"company": "Secret Corp"}');
SELECT id, predicted IS NOT NULL AS has_prediction FROM leadflow.lead ORDER BY id;
-- explain_score of its own lead: fit, engagement and totals, no
-- per-feature ratios (a rep could set its lead's company to a rival's and
-- read the model's counts back)
-- Nor does its edit recompute the stored prediction: that would answer
-- for any company it writes.
SELECT predicted AS before_the_edit FROM leadflow.lead WHERE id = 11 \gset
UPDATE leadflow.lead SET company = 'Secret Corp' WHERE id = 11;
SELECT predicted = :before_the_edit AS prediction_unchanged FROM leadflow.lead WHERE id = 11;
SELECT component, name FROM leadflow.explain_score(11);
RESET ROLE;
SET ROLE lf_trust_manager;
SELECT component, name, detail FROM leadflow.explain_score(11) WHERE component = 'prediction';
RESET ROLE;

------------------------------------------------------------------------
-- Contact keys.  A re-inquiry goes to the owner of the open lead with its
-- email (or phone): a rep who gave its lead a colleague's prospect's
-- email would take that prospect.  Only managers may.
------------------------------------------------------------------------
SET ROLE lf_trust_rep_a;
SELECT id, email, phone FROM leadflow.lead ORDER BY id;
UPDATE leadflow.lead SET email = 'p10@acme.test' WHERE id = 11;        -- Ben's open lead's
UPDATE leadflow.lead SET email = ' P10@ACME.test ' WHERE id = 11;      -- the same, once normalised
UPDATE leadflow.lead SET phone = '+49 30 10010' WHERE id = 11;         -- Ben's lead's phone
UPDATE leadflow.lead SET email = 'cy@acme.test' WHERE id = 11;         -- Cy's
-- fine: a closed lead's, her own other open lead's, new ones, none changed
UPDATE leadflow.lead SET email = 'h1@secret.test' WHERE id = 11 RETURNING id, email;
UPDATE leadflow.lead SET email = 'new@acme.test' WHERE id = 11 RETURNING id, email;
UPDATE leadflow.lead SET email = 'mine@acme.test', phone = '030 5555' WHERE id = 11
    RETURNING id, email, phone;
UPDATE leadflow.lead SET name = 'Prospect Eleven', phone = '030 5555' WHERE id = 11
    RETURNING id, name, email, phone;
RESET ROLE;
-- A CRM back end with UPDATE is refused too; a manager may (and merges).
SET ROLE lf_trust_crm;
UPDATE leadflow.lead SET email = 'p10@acme.test' WHERE id = 11;
RESET ROLE;
SET ROLE lf_trust_manager;
UPDATE leadflow.lead SET email = 'p10@acme.test' WHERE id = 11 RETURNING id, email, owner_id;
RESET ROLE;
SELECT id, email, phone, owner_id FROM leadflow.lead WHERE id IN (10, 11) ORDER BY id;

------------------------------------------------------------------------
-- Touch times.  It is Tuesday noon; Ana's lead 11 and Ben's lead 10 were
-- assigned on Monday at 14:00.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-10 12:00:00+00';   -- Tuesday noon
SET ROLE lf_trust_rep_a;
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'call', 'not_reached', '2099-01-01 00:00+00');
\set VERBOSITY terse
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'call', 'not_reached', '294276-12-31 23:59:59+00');
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'call', 'not_reached', '2026-03-10 12:06+00');
\set VERBOSITY default
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'call', 'not_reached', '1990-01-01 00:00+00');
\set VERBOSITY terse
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'call', 'not_reached', '2026-03-09 13:59+00');
\set VERBOSITY default
-- within the skew, at the assignment, and in between: fine
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'call', 'not_reached', '2026-03-10 12:04+00')
    RETURNING lead_id, at;
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (11, 'email', 'not_reached', '2026-03-09 14:00+00')
    RETURNING lead_id, at;
SELECT lead_id, at FROM leadflow.log_touch(11, 'call', 'connected');
RESET ROLE;
-- A manager and a CRM back end (importing history, say) record other times.
SET ROLE lf_trust_manager;
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (10, 'call', 'not_reached', '2026-03-01 09:00+00')
    RETURNING lead_id, rep_id, at;
RESET ROLE;
SET ROLE lf_trust_crm;
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (10, 'email', 'not_reached', '2027-01-01 09:00+00')
    RETURNING lead_id, rep_id, at;
RESET ROLE;
SELECT lead_id, rep_id, at, outcome FROM leadflow.touch ORDER BY id;
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- Clean up: the roles are cluster-wide.
------------------------------------------------------------------------
UPDATE leadflow.rep SET login = NULL WHERE login LIKE 'lf_trust_%';
REVOKE ALL ON SCHEMA leadflow FROM lf_trust_crm;
REVOKE ALL ON leadflow.lead, leadflow.touch FROM lf_trust_crm;
REVOKE ALL ON SEQUENCE leadflow.lead_id_seq, leadflow.touch_id_seq FROM lf_trust_crm;
DROP ROLE lf_trust_rep_a, lf_trust_rep_b, lf_trust_manager, lf_trust_crm;
SELECT count(*) AS lf_trust_roles_left FROM pg_roles WHERE rolname LIKE 'lf_trust_%';
