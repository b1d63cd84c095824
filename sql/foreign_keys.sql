-- The foreign keys of leadflow.lead to account, queue and rep, checked by
-- leadflow as each row is written (src/lead_keys.c) in place of
-- PostgreSQL's insert and update checks, which the extension script
-- disables.  Every write path that can name a key that does not exist
-- fails with PostgreSQL's own error, field for field: each runs with
-- leadflow's check, then again with PostgreSQL's triggers enabled.  A key
-- deleted by the same transaction is checked again; a rolled-back
-- savepoint forgets the keys it locked; with PostgreSQL's triggers
-- enabled leadflow checks nothing and health() says so.  (The race with a
-- concurrent DELETE is test/specs/fk_vs_delete.spec.)
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = pg_catalog, public, leadflow, pg_temp;
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.queue_member, leadflow.member_state;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name) VALUES (1, 'Ada'), (2, 'Bob');
INSERT INTO leadflow.queue (name) VALUES ('q');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 1), ('q', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
INSERT INTO leadflow.account (id, domain) VALUES (1000, 'known.example');
INSERT INTO leadflow.lead (external_id, email) VALUES ('old', 'p@known.example');

-- The constraints stay in the catalog, with their actions; PostgreSQL's
-- checks on the lead's side are off, leadflow's on.
SELECT conname, confrelid::regclass AS refers_to, confupdtype, confdeltype
  FROM pg_constraint
 WHERE conrelid = 'leadflow.lead'::regclass AND contype = 'f'
   AND confrelid <> 'leadflow.lead'::regclass
 ORDER BY 1;
SELECT constraint_name, checks, postgresql_checks, leadflow_checks
  FROM leadflow.lead_key_triggers ORDER BY 1, 2;
SELECT "check", status, detail, hint FROM leadflow.health() WHERE "check" = 'foreign_keys';

-- A statement's error, every field a client can read.
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hint text; sch text; tab text; con text; col text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
        hint = PG_EXCEPTION_HINT, sch = SCHEMA_NAME, tab = TABLE_NAME, con = CONSTRAINT_NAME,
        col = COLUMN_NAME;
    RETURN concat_ws(' | ', st, msg, nullif(det, ''), nullif(hint, ''),
                     nullif(concat_ws('.', nullif(sch, ''), nullif(tab, ''), nullif(con, ''), nullif(col, '')), ''));
END
$$;
-- PostgreSQL's check triggers of the three constraints on or off.
CREATE FUNCTION pg_temp.postgresql_checks(enable boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT k.trigger_name FROM leadflow.lead_key_triggers k LOOP
        EXECUTE format('ALTER TABLE leadflow.lead %s TRIGGER %I',
                       CASE WHEN enable THEN 'ENABLE' ELSE 'DISABLE' END, t.trigger_name);
    END LOOP;
END
$$;

-- A CRM's own BEFORE trigger, after leadflow's: the row as written is
-- checked, not the row as sent.
CREATE FUNCTION pg_temp.crm_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.attrs ? 'crm_account' THEN
        NEW.account_id := (NEW.attrs ->> 'crm_account')::bigint;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER zz_crm_account BEFORE INSERT OR UPDATE ON leadflow.lead
    FOR EACH ROW EXECUTE FUNCTION pg_temp.crm_account();

CREATE TEMP TABLE write_path (ord integer, path text, stmt text);
INSERT INTO write_path VALUES
 (1, 'INSERT, imported owner, unknown queue',
  $$INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('a@x.example', 1, 'nope')$$),
 (2, 'INSERT, imported owner, unknown account',
  $$INSERT INTO leadflow.lead (email, owner_id, account_id) VALUES ('a@x.example', 1, 99)$$),
 (3, 'INSERT, closed, unknown queue',
  $$INSERT INTO leadflow.lead (email, stage, queue) VALUES ('a@x.example', 'converted', 'nope')$$),
 (4, 'INSERT, routed, unknown account set by a BEFORE trigger',
  $$INSERT INTO leadflow.lead (email, attrs) VALUES ('a@x.example', '{"crm_account": 99}')$$),
 (5, 'INSERT, several rows, the second unknown',
  $$INSERT INTO leadflow.lead (email, owner_id, account_id) VALUES ('a@x.example', 1, 1000), ('b@x.example', 1, 98)$$),
 (6, 'INSERT, unknown queue and account (which is reported)',
  $$INSERT INTO leadflow.lead (email, owner_id, queue, account_id) VALUES ('a@x.example', 1, 'nope', 99)$$),
 (7, 'INSERT ... SELECT',
  $$INSERT INTO leadflow.lead (email, owner_id, queue) SELECT 'a' || g || '@x.example', 1, CASE WHEN g = 3 THEN 'nope' ELSE 'q' END FROM generate_series(1, 4) g$$),
 (8, 'COPY',
  $$COPY leadflow.lead (email, owner_id, account_id) FROM PROGRAM 'printf "c1@x.example,1,1000\nc2@x.example,1,97\n"' (FORMAT csv)$$),
 (9, 'upsert, inserting',
  $$INSERT INTO leadflow.lead (external_id, email, owner_id, queue) VALUES ('new', 'u@x.example', 1, 'nope') ON CONFLICT (external_id) DO UPDATE SET email = EXCLUDED.email$$),
 (10, 'upsert, updating',
  $$INSERT INTO leadflow.lead (external_id, email) VALUES ('old', 'p@known.example') ON CONFLICT (external_id) DO UPDATE SET account_id = 99$$),
 (11, 'MERGE, inserting',
  $$MERGE INTO leadflow.lead l USING (VALUES ('m', 'nope')) v(ext, q) ON l.external_id = v.ext WHEN MATCHED THEN UPDATE SET queue = v.q WHEN NOT MATCHED THEN INSERT (external_id, email, owner_id, queue) VALUES (v.ext, 'm@x.example', 1, v.q)$$),
 (12, 'MERGE, updating',
  $$MERGE INTO leadflow.lead l USING (VALUES ('old', 'nope')) v(ext, q) ON l.external_id = v.ext WHEN MATCHED THEN UPDATE SET queue = v.q WHEN NOT MATCHED THEN INSERT (external_id, email) VALUES (v.ext, 'm@x.example')$$),
 (13, 'UPDATE of the queue',
  $$UPDATE leadflow.lead SET queue = 'nope' WHERE external_id = 'old'$$),
 (14, 'UPDATE of the account',
  $$UPDATE leadflow.lead SET account_id = 99 WHERE external_id = 'old'$$),
 (15, 'UPDATE, unknown account set by a BEFORE trigger',
  $$UPDATE leadflow.lead SET attrs = '{"crm_account": 99}' WHERE external_id = 'old'$$),
 (16, 'UPDATE of the owner',
  $$UPDATE leadflow.lead SET owner_id = 99 WHERE external_id = 'old'$$),
 (17, 'UPDATE that keeps a key',
  $$UPDATE leadflow.lead SET name = 'Pat' WHERE external_id = 'old'$$),
 (18, 'a row within a savepoint rolled back, then a bad one',
  $$DO 'BEGIN BEGIN INSERT INTO leadflow.lead (email, owner_id, account_id) VALUES (''s@x.example'', 1, 1000); RAISE EXCEPTION ''undo''; EXCEPTION WHEN raise_exception THEN NULL; END; INSERT INTO leadflow.lead (email, owner_id, account_id) VALUES (''t@x.example'', 1, 99); END'$$);

-- A role that may not read lead.account_id is told no key, by both.
CREATE ROLE lf_fk_writer;
GRANT USAGE ON SCHEMA leadflow TO lf_fk_writer;
GRANT INSERT (email, owner_id, queue, account_id) ON leadflow.lead TO lf_fk_writer;
GRANT UPDATE (email, owner_id, queue, account_id) ON leadflow.lead TO lf_fk_writer;
GRANT USAGE ON SEQUENCE leadflow.lead_id_seq TO lf_fk_writer;
INSERT INTO write_path VALUES
 (19, 'INSERT by a role that may not read the lead',
  $$SET LOCAL ROLE lf_fk_writer; INSERT INTO leadflow.lead (email, owner_id, account_id) VALUES ('r@x.example', 1, 99)$$);

CREATE TEMP TABLE by_leadflow AS SELECT ord, pg_temp.error_of(stmt) AS error FROM write_path;
SELECT pg_temp.postgresql_checks(true);
SELECT constraint_name, checks, postgresql_checks FROM leadflow.lead_key_triggers ORDER BY 1, 2;
CREATE TEMP TABLE by_postgresql AS SELECT ord, pg_temp.error_of(stmt) AS error FROM write_path;
SELECT pg_temp.postgresql_checks(false);

SELECT w.ord, w.path, l.error, l.error = p.error AS same_as_postgresql
  FROM write_path w JOIN by_leadflow l USING (ord) JOIN by_postgresql p USING (ord)
 ORDER BY w.ord;
-- and every other write worked, and left nothing wrong
SELECT count(*) AS leads FROM leadflow.lead;
SELECT * FROM leadflow.check_invariants();

-- The transaction's own DELETE of an account it had locked: a lead naming
-- it afterwards fails (the lock no longer stands for the row).
BEGIN;
INSERT INTO leadflow.account (id, domain) VALUES (5000, 'five.example');
INSERT INTO leadflow.lead (external_id, email, owner_id, account_id) VALUES ('five', 'f@x.example', 1, 5000);
UPDATE leadflow.lead SET account_id = NULL WHERE external_id = 'five';
DELETE FROM leadflow.account WHERE id = 5000;
SELECT pg_temp.error_of($$INSERT INTO leadflow.lead (email, owner_id, account_id) VALUES ('g@x.example', 1, 5000)$$);
ROLLBACK;
-- ... and its own change of a queue's name (the leads follow, ON UPDATE
-- CASCADE; the old name is gone).
BEGIN;
INSERT INTO leadflow.queue (name) VALUES ('renamed');
INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('h@x.example', 1, 'renamed');
UPDATE leadflow.queue SET name = 'renamed2' WHERE name = 'renamed';
SELECT queue FROM leadflow.lead WHERE email = 'h@x.example';
SELECT pg_temp.error_of($$INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('i@x.example', 1, 'renamed')$$);
ROLLBACK;
-- A DELETE of a referenced rep still fails, of an account still empties
-- the leads' account_id.
SELECT pg_temp.error_of($$DELETE FROM leadflow.rep WHERE id = (SELECT owner_id FROM leadflow.lead WHERE external_id = 'old')$$);
BEGIN;
DELETE FROM leadflow.account WHERE id = 1000;
SELECT count(*) AS leads_of_the_account FROM leadflow.lead WHERE account_id = 1000;
ROLLBACK;

-- Only a role that may write leads may call the check by hand.
CREATE ROLE lf_fk_reader;
GRANT USAGE ON SCHEMA leadflow TO lf_fk_reader;
SET ROLE lf_fk_reader;
SELECT pg_temp.error_of($$SELECT leadflow.lead_keys_checked(1, 'q', 1)$$);
RESET ROLE;
SELECT leadflow.lead_keys_checked(1, 'q', 1) AS called_by_hand;

-- With PostgreSQL's triggers enabled (as pg_upgrade and ALTER TABLE ...
-- ENABLE TRIGGER ALL leave them) both would check; leadflow does not, and
-- health() says how to go back.
ALTER TABLE leadflow.lead ENABLE TRIGGER ALL;
SELECT constraint_name, checks, postgresql_checks FROM leadflow.lead_key_triggers ORDER BY 1, 2;
SELECT "check", status, detail, hint ~ '^As a superuser.*DISABLE TRIGGER "RI_ConstraintTrigger_c_' AS hint_disables
  FROM leadflow.health() WHERE "check" = 'foreign_keys';
SELECT pg_temp.error_of($$INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('j@x.example', 1, 'nope')$$);
-- leadflow noticed the ALTER TABLE: a queue that a data-modifying WITH
-- inserts after the lead (it runs when the INSERT is done) passes
-- PostgreSQL's check at the end of the statement, which leadflow's, at the
-- row, would refuse (below).
BEGIN;
SELECT pg_temp.error_of($$WITH q AS (INSERT INTO leadflow.queue (name) VALUES ('late'))
    INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('k@x.example', 1, 'late')$$);
ROLLBACK;
SELECT pg_temp.postgresql_checks(false);
SELECT "check", status FROM leadflow.health() WHERE "check" = 'foreign_keys';
BEGIN;
SELECT pg_temp.error_of($$WITH q AS (INSERT INTO leadflow.queue (name) VALUES ('late'))
    INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('k@x.example', 1, 'late')$$);
ROLLBACK;
-- Nothing checking at all is a failure.
BEGIN;
ALTER TABLE leadflow.lead DISABLE TRIGGER lead_keys_inserted;
SELECT "check", status, detail, hint FROM leadflow.health() WHERE "check" = 'foreign_keys';
ROLLBACK;

DROP TRIGGER zz_crm_account ON leadflow.lead;
REVOKE ALL ON leadflow.lead FROM lf_fk_writer;
REVOKE ALL ON SEQUENCE leadflow.lead_id_seq FROM lf_fk_writer;
REVOKE ALL ON SCHEMA leadflow FROM lf_fk_writer, lf_fk_reader;
DROP ROLE lf_fk_writer, lf_fk_reader;
