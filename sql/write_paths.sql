-- Every way a CRM writes leads keeps leads, counters and ledger
-- consistent.  Each write path runs twice: first inside a savepoint that
-- is rolled back (nothing may change: counters, rotation, ledger, alerts,
-- events, accounts, leads), then for real; after each, check_invariants()
-- finds nothing and the counters equal a recount of the leads.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day) VALUES
    (1, 'Ada', 6, 100), (2, 'Bob', 6, 100), (3, 'Cy', 2, 100), (4, 'Dee', 100, 100);
-- round robin (sticky accounts), weighted, and a queue nobody is in
INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for) VALUES
    ('rr', 'round_robin', true, '7 days'), ('w', 'weighted', false, NULL),
    ('empty', 'round_robin', false, NULL), ('cy', 'round_robin', false, NULL);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('rr', 1, 1), ('rr', 2, 1), ('w', 3, 3), ('w', 4, 1), ('cy', 3, 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'weighted', '{"source": "w"}', 'w'),
    (2, 'nobody', '{"source": "empty"}', 'empty'),
    (3, 'cy', '{"source": "cy"}', 'cy'),
    (4, 'rest', '{}', 'rr');

-- What must hold after every statement: no invariant broken, every
-- counter equal to a recount of the leads.
CREATE FUNCTION pg_temp.ok() RETURNS TABLE (kind text, rep_id integer, lead_id bigint, detail text)
    LANGUAGE sql AS $$
    SELECT * FROM leadflow.check_invariants()
    UNION ALL
    SELECT 'recount', c.rep_id, NULL,
           format('counted %s open, owns %s', c.counted_open, c.actual_open)
      FROM leadflow.check_counters() c
$$;
-- Everything a write could leave behind, as one digest.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(concat_ws(' | ',
        (SELECT string_agg(concat_ws(',', rep_id, open_count, new_day, new_count, last_assigned_at,
                                     won_count, closed_count), ';' ORDER BY rep_id) FROM leadflow.rep_load),
        (SELECT string_agg(concat_ws(',', queue, rep_id, last_assigned_at, last_turn, current_weight),
                           ';' ORDER BY queue, rep_id) FROM leadflow.member_state),
        (SELECT string_agg(concat_ws(',', id, domain, owner_id, owned_until), ';' ORDER BY id)
           FROM leadflow.account),
        (SELECT string_agg(l::text, ';' ORDER BY id) FROM leadflow.lead l),
        (SELECT string_agg(d::text, ';' ORDER BY id) FROM leadflow.decision d),
        (SELECT string_agg(a::text, ';' ORDER BY id) FROM leadflow.alert a),
        (SELECT string_agg(e::text, ';' ORDER BY id) FROM leadflow.event e),
        (SELECT string_agg(t::text, ';' ORDER BY id) FROM leadflow.touch t),
        (SELECT string_agg(h::text, ';' ORDER BY id) FROM leadflow.stage_history h)))
$$;
-- Run a statement inside a savepoint (a PL/pgSQL block) and roll it back:
-- the state must be as before.  A statement that fails says so.
CREATE FUNCTION pg_temp.rolled_back(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    before text := pg_temp.state();
    failed text;
BEGIN
    BEGIN
        EXECUTE stmt;
        RAISE EXCEPTION USING ERRCODE = 'LF001';
    EXCEPTION
        WHEN SQLSTATE 'LF001' THEN NULL;
        WHEN OTHERS THEN failed := SQLSTATE || ' ' || SQLERRM;
    END;
    RETURN coalesce('failed: ' || failed || ', ', '')
        || CASE WHEN pg_temp.state() = before THEN 'nothing changed' ELSE 'CHANGED' END;
END
$$;
-- The owners and their counters, compactly.
CREATE FUNCTION pg_temp.counters() RETURNS TABLE (rep text, open integer, new_today integer, won bigint, closed bigint)
    LANGUAGE sql AS $$
    SELECT r.name, l.open_count, l.new_count, l.won_count, l.closed_count
      FROM leadflow.rep r JOIN leadflow.rep_load l ON l.rep_id = r.id ORDER BY r.id
$$;

------------------------------------------------------------------------
-- INSERT: one row, several, INSERT ... SELECT, COPY.
------------------------------------------------------------------------
SELECT pg_temp.rolled_back($$INSERT INTO leadflow.lead (external_id, email) VALUES ('a1', 'a1@one.test')$$);
INSERT INTO leadflow.lead (external_id, email) VALUES ('a1', 'a1@one.test') RETURNING id, owner_id, queue;
SELECT * FROM pg_temp.ok();

SELECT pg_temp.rolled_back($$INSERT INTO leadflow.lead (external_id, email, source) VALUES
    ('a2', 'a2@two.test', NULL), ('w1', 'w1@w.test', 'w'), ('w2', 'w2@w.test', 'w')$$);
INSERT INTO leadflow.lead (external_id, email, source) VALUES
    ('a2', 'a2@two.test', NULL), ('w1', 'w1@w.test', 'w'), ('w2', 'w2@w.test', 'w')
    RETURNING external_id, owner_id, queue;
SELECT * FROM pg_temp.ok();

SELECT pg_temp.rolled_back($$INSERT INTO leadflow.lead (external_id, email, source)
    SELECT 's' || g, 's' || g || '@three.test', CASE WHEN g % 2 = 0 THEN 'w' END
      FROM generate_series(1, 4) g$$);
INSERT INTO leadflow.lead (external_id, email, source)
    SELECT 's' || g, 's' || g || '@three.test', CASE WHEN g % 2 = 0 THEN 'w' END
      FROM generate_series(1, 4) g;
SELECT * FROM pg_temp.ok();

-- COPY, once rolled back to a savepoint, once for real.
BEGIN;
SELECT pg_temp.state() AS before \gset
SAVEPOINT s;
COPY leadflow.lead (external_id, email) FROM stdin;
c1	c1@copy.test
c2	c2@copy.test
\.
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.state() = :'before' AS nothing_changed;
COMMIT;
COPY leadflow.lead (external_id, email) FROM stdin;
c1	c1@copy.test
c2	c2@copy.test
\.
SELECT * FROM pg_temp.ok();
SELECT external_id, owner_id, queue FROM leadflow.lead WHERE external_id LIKE 'c_' ORDER BY 1;

-- An import: a lead that comes with its owner (and one closed).
SELECT pg_temp.rolled_back($$INSERT INTO leadflow.lead (external_id, email, owner_id, queue, stage)
    VALUES ('i1', 'i1@imp.test', 4, 'w', 'new'), ('i2', 'i2@imp.test', 4, 'w', 'converted')$$);
INSERT INTO leadflow.lead (external_id, email, owner_id, queue, stage)
    VALUES ('i1', 'i1@imp.test', 4, 'w', 'new'), ('i2', 'i2@imp.test', 4, 'w', 'converted');
SELECT * FROM pg_temp.ok();
SELECT * FROM pg_temp.counters();

------------------------------------------------------------------------
-- Upserts.  A row that conflicts is not inserted: it writes no decision,
-- claims no seat, takes no turn, creates or takes no account, raises no
-- alert and records no re-inquiry.  DO NOTHING leaves no trace; DO UPDATE
-- is the UPDATE it becomes, with the rules of an UPDATE.
------------------------------------------------------------------------
LISTEN leadflow_alert;
SELECT pg_temp.state() AS before \gset
-- against an open lead, with its own email (it would be its own duplicate)
INSERT INTO leadflow.lead (external_id, email) VALUES ('a1', 'a1@one.test')
    ON CONFLICT (external_id) DO NOTHING RETURNING id;
-- against an open lead, with a new domain (a new account, taken sticky)
INSERT INTO leadflow.lead (external_id, email) VALUES ('a2', 'x@brand-new.test')
    ON CONFLICT (external_id) DO NOTHING;
-- against a closed lead; into the weighted queue (it would take a turn)
INSERT INTO leadflow.lead (external_id, email, source) VALUES ('i2', 'i2@imp.test', 'w')
    ON CONFLICT (external_id) DO NOTHING;
-- into a queue nobody is in (it would be backlogged, with an alert)
INSERT INTO leadflow.lead (external_id, email, source) VALUES ('a1', 'z@empty.test', 'empty')
    ON CONFLICT DO NOTHING;
-- an import that conflicts takes no seat either
INSERT INTO leadflow.lead (external_id, email, owner_id) VALUES ('w1', 'w1@w.test', 3)
    ON CONFLICT (external_id) DO NOTHING;
SELECT pg_temp.state() = :'before' AS no_trace;
-- a row inserted earlier in the same statement: the second one conflicts
INSERT INTO leadflow.lead (external_id, email, source)
    VALUES ('u1', 'u1@same.test', 'w'), ('u1', 'u1b@same.test', 'w'), ('u2', 'u2@same.test', 'w')
    ON CONFLICT (external_id) DO NOTHING RETURNING external_id, email, owner_id;
SELECT * FROM pg_temp.ok();
SELECT kind, count(*) FROM leadflow.decision WHERE lead_id NOT IN (SELECT id FROM leadflow.lead)
 GROUP BY 1;
SELECT domain FROM leadflow.account WHERE domain IN ('brand-new.test', 'same.test') ORDER BY 1;
UNLISTEN leadflow_alert;

-- DO UPDATE: the update it becomes.  Against an open lead: a contact field
-- changes, nothing is routed.
SELECT pg_temp.rolled_back($$INSERT INTO leadflow.lead (external_id, email, name)
    VALUES ('a1', 'a1@one.test', 'Ann') ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name$$);
SELECT count(*) AS decisions FROM leadflow.decision \gset
INSERT INTO leadflow.lead (external_id, email, name) VALUES ('a1', 'a1@one.test', 'Ann')
    ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name RETURNING external_id, name, owner_id;
SELECT count(*) - :decisions AS new_decisions FROM leadflow.decision;
SELECT * FROM pg_temp.ok();
-- An update that moves the lead is a manual move: cap-checked and recorded.
-- Cy has one seat left; the conflicting row's own routing (queue cy) took
-- it, and gives it back before the update takes it.
UPDATE leadflow.rep SET max_open = 3 WHERE id = 3;
SELECT * FROM pg_temp.counters() WHERE rep = 'Cy';
INSERT INTO leadflow.lead (external_id, email, source) VALUES ('a2', 'a2@two.test', 'cy')
    ON CONFLICT (external_id) DO UPDATE SET owner_id = 3 RETURNING external_id, owner_id;
SELECT kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT * FROM pg_temp.ok();
-- Against a closed lead: it stays closed; it is not routed again.
INSERT INTO leadflow.lead (external_id, email) VALUES ('i2', 'i2@imp.test')
    ON CONFLICT (external_id) DO UPDATE SET campaign = 'again' RETURNING external_id, stage, owner_id, campaign;
SELECT * FROM pg_temp.ok();
-- A row inserted earlier in the same statement cannot be updated by it.
SELECT pg_temp.rolled_back($$INSERT INTO leadflow.lead (external_id, email)
    VALUES ('u3', 'u3@same.test'), ('u3', 'u3@same.test')
    ON CONFLICT (external_id) DO UPDATE SET name = 'twice'$$);
SELECT * FROM pg_temp.ok();

------------------------------------------------------------------------
-- MERGE (the SQL statement): matched rows are updated, others inserted.
------------------------------------------------------------------------
CREATE TEMPORARY TABLE crm (external_id text, email text, name text);
INSERT INTO crm VALUES ('a1', 'a1@one.test', 'Ann A.'), ('m1', 'm1@merge.test', 'Max'),
    ('m2', 'm2@merge.test', 'Mo');
SELECT pg_temp.rolled_back($$MERGE INTO leadflow.lead l USING crm c ON l.external_id = c.external_id
    WHEN MATCHED THEN UPDATE SET name = c.name
    WHEN NOT MATCHED THEN INSERT (external_id, email, name) VALUES (c.external_id, c.email, c.name)$$);
MERGE INTO leadflow.lead l USING crm c ON l.external_id = c.external_id
    WHEN MATCHED THEN UPDATE SET name = c.name
    WHEN NOT MATCHED THEN INSERT (external_id, email, name) VALUES (c.external_id, c.email, c.name);
SELECT external_id, name, owner_id IS NOT NULL AS owned FROM leadflow.lead
 WHERE external_id IN ('a1', 'm1', 'm2') ORDER BY 1;
SELECT * FROM pg_temp.ok();

------------------------------------------------------------------------
-- UPDATE of every column routing reads.
------------------------------------------------------------------------
SELECT pg_temp.rolled_back($$UPDATE leadflow.lead SET owner_id = 2 WHERE external_id = 'm1'$$);
UPDATE leadflow.lead SET owner_id = 2 WHERE external_id = 'm1';
SELECT * FROM pg_temp.ok();
SELECT pg_temp.rolled_back($$UPDATE leadflow.lead SET owner_id = NULL WHERE external_id = 'm2'$$);
UPDATE leadflow.lead SET owner_id = NULL WHERE external_id = 'm2';
SELECT * FROM pg_temp.ok();
SELECT pg_temp.rolled_back($$UPDATE leadflow.lead SET stage = 'nurture' WHERE external_id IN ('s1', 's2')$$);
UPDATE leadflow.lead SET stage = 'nurture' WHERE external_id IN ('s1', 's2');
SELECT * FROM pg_temp.ok();
SELECT pg_temp.rolled_back($$UPDATE leadflow.lead SET stage = 'new' WHERE external_id = 's1'$$);
UPDATE leadflow.lead SET stage = 'new' WHERE external_id = 's1';
SELECT * FROM pg_temp.ok();
SELECT pg_temp.rolled_back($$UPDATE leadflow.lead SET queue = 'w' WHERE external_id = 'a1'$$);
UPDATE leadflow.lead SET queue = 'w' WHERE external_id = 'a1';
SELECT kind, from_rep, to_rep, queue, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT * FROM pg_temp.ok();
SELECT pg_temp.rolled_back($$UPDATE leadflow.lead
    SET attrs = '{"employees": 500}', source = 'web', campaign = 'c', company = 'Acme',
        country = 'DE', email = 'new@one.test', score = 7, account_id = NULL,
        cadence = 'call@0', reassignments = 1
  WHERE external_id = 's3'$$);
UPDATE leadflow.lead
   SET attrs = '{"employees": 500}', source = 'web', campaign = 'c', company = 'Acme',
       country = 'DE', email = 'new@one.test', score = 7, account_id = NULL,
       cadence = 'call@0', reassignments = 1
 WHERE external_id = 's3';
SELECT * FROM pg_temp.ok();
-- A lead's id is what the ledger knows it by.
UPDATE leadflow.lead SET id = 9999 WHERE external_id = 's3';
-- Moves past a cap are refused, whole statements at once: Cy (max_open 3)
-- cannot take two more.
SELECT * FROM pg_temp.counters() WHERE rep = 'Cy';
UPDATE leadflow.lead SET owner_id = 3 WHERE external_id IN ('c1', 'c2');
SELECT * FROM pg_temp.ok();
SELECT * FROM pg_temp.counters();

------------------------------------------------------------------------
-- DELETE: the seat comes back; the ledger keeps the lead's decisions and
-- records the deletion; touches, events, history and alerts go; leads
-- that point at it (referrals, duplicates) no longer do.
------------------------------------------------------------------------
SELECT (leadflow.log_touch(id, 'call', 'connected', 'liked it')).outcome
  FROM leadflow.lead WHERE external_id = 'c1';
INSERT INTO leadflow.event (lead_id, kind) SELECT id, 'page_view' FROM leadflow.lead WHERE external_id = 'c1';
INSERT INTO leadflow.lead (external_id, email, referred_by)
    SELECT 'r1', 'r1@ref.test', id FROM leadflow.lead WHERE external_id = 'c1';
INSERT INTO leadflow.lead (external_id, email) VALUES ('c1dup', 'c1@copy.test')
    RETURNING stage, duplicate_of IS NOT NULL AS duplicate;
SELECT pg_temp.rolled_back($$DELETE FROM leadflow.lead WHERE external_id = 'c1'$$);
SELECT id AS c1, owner_id AS c1_owner FROM leadflow.lead WHERE external_id = 'c1' \gset
DELETE FROM leadflow.lead WHERE external_id = 'c1';
SELECT * FROM pg_temp.ok();
SELECT kind, from_rep, reason FROM leadflow.decision WHERE lead_id = :c1 ORDER BY id;
SELECT (SELECT count(*) FROM leadflow.touch WHERE lead_id = :c1) AS touches,
       (SELECT count(*) FROM leadflow.event WHERE lead_id = :c1) AS events,
       (SELECT count(*) FROM leadflow.stage_history WHERE lead_id = :c1) AS history,
       (SELECT count(*) FROM leadflow.alert WHERE lead_id = :c1) AS alerts;
SELECT external_id, referred_by, duplicate_of FROM leadflow.lead WHERE external_id IN ('r1', 'c1dup');
-- several at once, open and closed, owned and waiting
SELECT pg_temp.rolled_back($$DELETE FROM leadflow.lead WHERE external_id IN ('s2', 's4', 'm2', 'i2', 'u1')$$);
DELETE FROM leadflow.lead WHERE external_id IN ('s2', 's4', 'm2', 'i2', 'u1');
SELECT * FROM pg_temp.ok();
SELECT * FROM pg_temp.counters();

------------------------------------------------------------------------
-- The sweep and routing after all that still agree with the counters.
------------------------------------------------------------------------
SELECT * FROM leadflow.sweep('2026-03-09 12:00:00+00') WHERE leads > 0;
SELECT * FROM pg_temp.ok();

------------------------------------------------------------------------
-- TRUNCATE starts over: counters zero, rotation and ledger empty.
------------------------------------------------------------------------
SELECT pg_temp.rolled_back($$TRUNCATE leadflow.lead CASCADE$$);
TRUNCATE leadflow.lead CASCADE;
SELECT * FROM pg_temp.counters();
SELECT (SELECT count(*) FROM leadflow.decision) AS decisions, (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.member_state) AS rotation;
SELECT * FROM pg_temp.ok();
-- and routing goes on as from a fresh start
INSERT INTO leadflow.lead (email) VALUES ('after@truncate.test') RETURNING owner_id;
SELECT * FROM pg_temp.ok();

------------------------------------------------------------------------
-- merge(keep, drop).
------------------------------------------------------------------------
UPDATE leadflow.rep SET max_open = 100;
INSERT INTO leadflow.lead (external_id, email, name) VALUES
    ('p1', 'pat@work.test', 'Pat'), ('p2', 'pat@home.test', NULL),
    ('q1', 'quin@work.test', 'Quin'), ('q2', 'quin@home.test', 'Quin');
-- an inquiry with p2's email now: a duplicate of p2
INSERT INTO leadflow.lead (external_id, email) VALUES ('p2dup', 'pat@home.test')
    RETURNING stage, duplicate_of = (SELECT id FROM leadflow.lead WHERE external_id = 'p2') AS of_p2;
SELECT id AS p1, owner_id AS p1_owner FROM leadflow.lead WHERE external_id = 'p1' \gset
SELECT id AS p2, owner_id AS p2_owner FROM leadflow.lead WHERE external_id = 'p2' \gset
SELECT pg_temp.rolled_back(format('SELECT leadflow.merge(%s, %s)', :p1, :p2));
SELECT external_id, stage, owner_id, email FROM leadflow.merge(:p1, :p2);
SELECT external_id, stage, reject_reason, duplicate_of = :p1 AS points_at_p1
  FROM leadflow.lead WHERE external_id IN ('p2', 'p2dup') ORDER BY 1;
SELECT * FROM pg_temp.ok();
-- the same pair the other way round: the lead to keep was merged away
SELECT leadflow.merge(:p2, :p1);
-- an inquiry with the dropped lead's email now finds the lead that survived
INSERT INTO leadflow.lead (external_id, email) VALUES ('p3', 'pat@home.test')
    RETURNING stage, duplicate_of = :p1 AS of_p1, owner_id = :p1_owner AS p1s_owner;
SELECT * FROM pg_temp.ok();
-- refusals
SELECT leadflow.merge(:p1, :p1);
SELECT leadflow.merge(:p1, :p2);
SELECT leadflow.merge(NULL, :p1);
SELECT leadflow.merge(:p1, 999999);
UPDATE leadflow.lead SET stage = 'rejected' WHERE external_id = 'q2';
SELECT leadflow.merge((SELECT id FROM leadflow.lead WHERE external_id = 'q2'),
                      (SELECT id FROM leadflow.lead WHERE external_id = 'q1'));
-- a returning prospect: the new lead is a duplicate of the old one, which
-- cannot be merged into it
INSERT INTO leadflow.lead (external_id, email) VALUES ('q3', 'quin@home.test')
    RETURNING stage, duplicate_of IS NOT NULL AS returning;
SELECT leadflow.merge((SELECT id FROM leadflow.lead WHERE external_id = 'q3'),
                      (SELECT id FROM leadflow.lead WHERE external_id = 'q2'));
-- merging the survivor away moves its merged leads along
SELECT external_id FROM leadflow.merge((SELECT id FROM leadflow.lead WHERE external_id = 'q1'), :p1);
SELECT external_id, (SELECT external_id FROM leadflow.lead t WHERE t.id = l.duplicate_of) AS merged_into
  FROM leadflow.lead l WHERE external_id IN ('p1', 'p2', 'p2dup', 'p3') ORDER BY 1;
SELECT * FROM pg_temp.ok();

------------------------------------------------------------------------
-- forget(lead_id): a person's personal data erased, counts kept.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (external_id, email, name, phone, company, country, source, campaign, attrs)
    VALUES ('f1', 'Fay.Doe@Fay.test', ' Fay  Doe ', '030 1234567', 'Fay GmbH', 'DE', 'web_form', 'spring',
            '{"employees": 50, "linkedin": "fay-doe"}');
SELECT id AS f1, score AS f1_score FROM leadflow.lead WHERE external_id = 'f1' \gset
SELECT (leadflow.log_touch(:f1, 'call', 'connected', 'Fay says call her husband Tom')).outcome;
INSERT INTO leadflow.event (lead_id, kind, attrs) VALUES (:f1, 'form_fill', '{"message": "I am Fay"}');
INSERT INTO leadflow.lead (external_id, email, name) VALUES ('f2', 'fay.doe@fay.test', 'Fay');
SELECT (leadflow.log_touch(:f1, 'call', 'dead_referral', 'moved on: ask Ron',
                           '{"name": "Ron", "email": "ron@fay.test"}')).outcome;
SELECT count(*) AS leads, sum(qualified) AS qualified, sum(rejected) AS rejected
  FROM leadflow.source_performance WHERE source = 'web_form' \gset before_
SELECT reason, leads FROM leadflow.reject_reasons WHERE source = 'web_form' ORDER BY 1;
CREATE ROLE lf_wp_manager;
CREATE ROLE lf_wp_admin;
CREATE ROLE lf_wp_rep;
GRANT leadflow_manager TO lf_wp_manager;
GRANT leadflow_admin TO lf_wp_admin;
GRANT leadflow_rep TO lf_wp_rep;
SET ROLE lf_wp_rep;
SELECT leadflow.forget(:f1);
RESET ROLE;
SET ROLE lf_wp_manager;
SELECT pg_temp.rolled_back(format('SELECT leadflow.forget(%s)', :f1));
SELECT * FROM leadflow.forget(:f1, 'request #17') ORDER BY 1;
RESET ROLE;
SELECT external_id, name, email, phone, company, attrs, country, source, stage, reject_reason,
       score = :f1_score AS score_kept
  FROM leadflow.lead WHERE external_id IN ('f1', 'f2') ORDER BY 1;
SELECT outcome, note, referral FROM leadflow.touch WHERE lead_id = :f1 ORDER BY id;
SELECT kind, attrs FROM leadflow.event WHERE lead_id = :f1 ORDER BY id;
SELECT l.external_id, d.kind, d.reason FROM leadflow.decision d JOIN leadflow.lead l ON l.id = d.lead_id
 WHERE d.kind = 'forget' ORDER BY 1;
-- the referred person is someone else: their lead is theirs
SELECT name, email, referred_by = :f1 AS referred_by_f1 FROM leadflow.lead WHERE email = 'ron@fay.test';
SELECT count(*) = :before_leads AS same_leads, sum(qualified) = :before_qualified AS same_qualified,
       sum(rejected) = :before_rejected AS same_rejected
  FROM leadflow.source_performance WHERE source = 'web_form';
SELECT reason, leads FROM leadflow.reject_reasons WHERE source = 'web_form' ORDER BY 1;
SELECT * FROM pg_temp.ok();
SET ROLE lf_wp_admin;
SELECT count(*) AS forgotten_again FROM leadflow.forget(:f1);
RESET ROLE;
SELECT leadflow.forget(NULL);
SELECT leadflow.forget(999999);
REVOKE leadflow_manager FROM lf_wp_manager;
REVOKE leadflow_admin FROM lf_wp_admin;
REVOKE leadflow_rep FROM lf_wp_rep;
DROP ROLE lf_wp_manager, lf_wp_admin, lf_wp_rep;

------------------------------------------------------------------------
-- Intervals are bounded when configured, with the constraint's name.
------------------------------------------------------------------------
\set VERBOSITY terse
INSERT INTO leadflow.queue (name, hold_for) VALUES ('long', '300000 years');
INSERT INTO leadflow.queue (name, hold_for) VALUES ('long', '101 years');
INSERT INTO leadflow.queue (name, first_touch_sla) VALUES ('long', '365000 days');
INSERT INTO leadflow.queue (name, touch_sla) VALUES ('long', '367 days');
INSERT INTO leadflow.queue (name, touch_sla) VALUES ('long', '8785 hours');
INSERT INTO leadflow.queue (name, first_touch_sla) VALUES ('long', '1000 years');
UPDATE leadflow.queue SET hold_for = '1000000 days' WHERE name = 'rr';
\set VERBOSITY default
INSERT INTO leadflow.queue (name, first_touch_sla, touch_sla, hold_for)
    VALUES ('long', '366 days', '8784 hours', '100 years') RETURNING name;
DELETE FROM leadflow.queue WHERE name = 'long';

------------------------------------------------------------------------
-- The sweep goes on past a lead it cannot move: that lead is skipped with
-- an alert saying why.  Here a user's trigger refuses one account's
-- hand-off, and a user's constraint one lead's reassignment.
------------------------------------------------------------------------
TRUNCATE leadflow.lead CASCADE;
UPDATE leadflow.queue SET then_queue = 'w' WHERE name = 'rr';
INSERT INTO leadflow.lead (external_id, email) VALUES
    ('h1', 'h1@hand.test'), ('h2', 'h2@refused.test'), ('h3', 'h3@hand.test'),
    ('sla1', 'a@sla.test'), ('sla2', 'b@sla.test'), ('sla3', 'c@sla.test');
UPDATE leadflow.queue SET sticky_account = true WHERE name = 'w';
CREATE FUNCTION pg_temp.refuse_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.domain = 'refused.test' THEN
        RAISE EXCEPTION 'account % is frozen', NEW.domain;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_account BEFORE UPDATE ON leadflow.account
    FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_account();
ALTER TABLE leadflow.lead ADD CONSTRAINT wp_sla2_stays
    CHECK (external_id IS DISTINCT FROM 'sla2' OR reassignments = 0);
-- the SLA leads are overdue at noon; the hand-off leads' window ends in a week
UPDATE leadflow.lead SET sla_due_at = '2026-03-09 11:00+00' WHERE external_id LIKE 'sla%';
UPDATE leadflow.lead SET sla_due_at = '2026-03-20 11:00+00' WHERE external_id LIKE 'h%';
SELECT * FROM leadflow.sweep('2026-03-16 12:00:00+00') WHERE leads > 0;
SELECT l.external_id, a.kind, a.detail ->> 'action' AS action, a.detail ->> 'sqlstate' AS sqlstate,
       a.detail ->> 'error' AS error
  FROM leadflow.alert a JOIN leadflow.lead l ON l.id = a.lead_id
 WHERE a.kind = 'lead_skipped' ORDER BY 1;
SELECT external_id, queue, reassignments FROM leadflow.lead ORDER BY id;
SELECT * FROM pg_temp.ok();
DROP TRIGGER refuse_account ON leadflow.account;
ALTER TABLE leadflow.lead DROP CONSTRAINT wp_sla2_stays;
UPDATE leadflow.queue SET then_queue = NULL, sticky_account = false WHERE name = 'rr';
UPDATE leadflow.queue SET sticky_account = false WHERE name = 'w';

------------------------------------------------------------------------
-- sweep(as_of) does everything as of as_of: a replay of last Monday routes
-- the backlog on last Monday, and counts daily caps in that day.
------------------------------------------------------------------------
TRUNCATE leadflow.lead CASCADE;
UPDATE leadflow.rep SET max_new_per_day = 2 WHERE id = 4;
DELETE FROM leadflow.queue_member WHERE queue = 'w' AND rep_id = 3;
UPDATE leadflow.queue SET first_touch_sla = '2 days' WHERE name = 'w';
SET leadflow.clock = '2026-03-02 09:00:00+00';
-- Dee gets two leads (her cap for the day), two more wait in the backlog
INSERT INTO leadflow.lead (external_id, email, source)
    SELECT 'b' || g, 'b' || g || '@replay.test', 'w' FROM generate_series(1, 4) g;
SET leadflow.clock = '2026-03-09 15:00:00+00';   -- a week later
-- the replay of Monday 2026-03-02, noon: Dee's day is full, nothing moves
SELECT * FROM leadflow.sweep('2026-03-02 12:00:00+00') WHERE leads > 0;
-- the replay of Tuesday 2026-03-03: the backlog goes to Dee, that day
SELECT * FROM leadflow.sweep('2026-03-03 09:30:00+00') WHERE leads > 0;
SELECT external_id, owner_id, assigned_at, sla_due_at FROM leadflow.lead ORDER BY id;
SELECT kind, at, to_rep FROM leadflow.decision ORDER BY id;
SELECT new_day, new_count FROM leadflow.rep_load WHERE rep_id = 4;
SELECT * FROM pg_temp.ok();

RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';
