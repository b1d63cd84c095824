-- What the trust rules cost (issue 14): the contact-key check on a lead
-- UPDATE that changes an email, against the same UPDATE of a column that
-- is no contact key; and a rep session's touch (row-level security,
-- touch_authorize with its time bounds) against the same touch by a
-- superuser.  20,000 routed leads, 10 reps, one session.
\pset footer off
SET leadflow.clock = '2026-03-09 10:00:00+00';
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_trust_rep') THEN
        CREATE ROLE bench_trust_rep;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_trust_crm') THEN
        CREATE ROLE bench_trust_crm;
    END IF;
END $$;
GRANT leadflow_rep TO bench_trust_rep;
GRANT USAGE ON SCHEMA leadflow TO bench_trust_crm;
GRANT SELECT, UPDATE ON leadflow.lead TO bench_trust_crm;
GRANT INSERT ON results TO bench_trust_rep, bench_trust_crm;

INSERT INTO leadflow.rep (name, login, hours, max_open, max_new_per_day)
SELECT 'rep' || g, CASE WHEN g = 1 THEN 'bench_trust_rep' END, 'mon-sun 00:00-24:00 UTC',
       100000, 100000
  FROM generate_series(1, 10) g;
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) SELECT 'q', id FROM leadflow.rep;
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
INSERT INTO leadflow.lead (email, name)
SELECT 'p' || g || '@d' || (g % 500) || '.example', 'P' || g FROM generate_series(1, 20000) g;
VACUUM ANALYZE leadflow.lead;

-- A CRM back end (not a manager) changes 10,000 leads' names, then their
-- emails: each new email is looked up among the other owners' open leads.
SET ROLE bench_trust_crm;
INSERT INTO results SELECT 'UPDATE name', 10000, timed(
    $$UPDATE leadflow.lead SET name = name || '.' WHERE id <= 10000$$);
INSERT INTO results SELECT 'UPDATE email', 10000, timed(
    $$UPDATE leadflow.lead SET email = 'new' || id || '@d' || (id % 500) || '.example' WHERE id <= 10000$$);
RESET ROLE;
-- 1,000 touches on rep1's leads by rep1's own session, 1,000 on rep2's by
-- a superuser.
SET ROLE bench_trust_rep;
INSERT INTO results SELECT 'rep touch', 1000, timed(
    $$SELECT count(leadflow.log_touch(id, 'call', 'not_reached'))
        FROM (SELECT id FROM leadflow.lead WHERE owner_id = 1 ORDER BY id LIMIT 1000) l$$);
RESET ROLE;
INSERT INTO results SELECT 'superuser touch', 1000, timed(
    $$SELECT count(leadflow.log_touch(id, 'call', 'not_reached'))
        FROM (SELECT id FROM leadflow.lead WHERE owner_id = 2 ORDER BY id LIMIT 1000) l$$);

\echo 'The contact-key check (a CRM role UPDATE of 10,000 leads) and a rep session''s touch (1,000):'
SELECT b.kind AS baseline, t.kind AS measured,
       round((b.seconds * 1e6 / b.leads)::numeric, 1) AS baseline_us_per_row,
       round((t.seconds * 1e6 / t.leads)::numeric, 1) AS measured_us_per_row,
       round(((t.seconds / t.leads - b.seconds / b.leads) * 1e6)::numeric, 1) AS net_us_per_row,
       round(((t.seconds / t.leads) / (b.seconds / b.leads))::numeric, 2) AS time_vs_baseline
  FROM results b JOIN results t
    ON (b.kind, t.kind) IN (('UPDATE name', 'UPDATE email'), ('superuser touch', 'rep touch'))
 ORDER BY 1;
SELECT count(*) FILTER (WHERE email LIKE 'new%') AS emails_changed,
       sum(touches) AS touches,
       (SELECT count(*) FROM leadflow.check_invariants()) AS invariant_violations
  FROM leadflow.lead;

DROP OWNED BY bench_trust_rep, bench_trust_crm;
DROP ROLE bench_trust_rep, bench_trust_crm;
