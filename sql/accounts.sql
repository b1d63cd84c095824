-- Accounts with names, attributes and parents; how a lead finds its
-- account (domain, company name, a similar company name with pg_trgm);
-- the account in the routing document, for rules and fit scoring; how the
-- account was found, in the ledger; duplicates carry their account; the
-- account's owner in the decision and in explain(); owners from history.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.scoring_rule RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

------------------------------------------------------------------------
-- The key company names are compared by.
------------------------------------------------------------------------
SELECT name, leadflow.company_key(name) AS key
  FROM unnest(ARRAY['ACME, Inc.', 'Acme Incorporated', 'acme inc', 'The Acme Company', 'Acmé Corp.',
                    'Smith & Co.', 'Smith and Co', 'Müller GmbH & Co. KG', 'MÜLLER', 'Ørsted A/S',
                    'Société Générale S.A.', 'O''Neil Ltd', 'O’Neil Limited', 'AT&T Inc.',
                    'Coca-Cola Co', 'Straße AG', 'Łódź', 'Café', 'Cafe' || U&'\0301',
                    'The Company', 'Inc', 'LLC', '  ', '...', '東京 Inc', 'Pty Ltd Pty']) AS name;
SELECT leadflow.company_key(NULL) IS NULL AS null_is_null;

------------------------------------------------------------------------
-- Accounts: a name, attributes, a parent; a domain or a name or both.
------------------------------------------------------------------------
INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (1, 'Ana', 100), (2, 'Ben', 100), (3, 'Cy', 100);
SELECT setval('leadflow.rep_id_seq', 3);
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('medical', 'round_robin', true);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('default', 1), ('default', 2), ('medical', 2), ('medical', 3);
INSERT INTO leadflow.account (id, domain, name, attrs) VALUES
    (1, 'acme.test', 'ACME, Inc.', '{"sector": "medical", "size": 1200, "location": "Boston"}'),
    (2, NULL, 'Globex Corporation', '{"sector": "energy", "size": 80}'),
    (3, 'initech.test', NULL, '{}'),
    (4, NULL, 'Umbrella Holdings', '{"sector": "medical"}');
INSERT INTO leadflow.account (id, name, parent_id, attrs) VALUES (5, 'Globex Medical', 2, '{"sector": "medical"}');
SELECT setval('leadflow.account_id_seq', 5);
SELECT id, domain, name, name_key, parent_id, attrs FROM leadflow.account ORDER BY id;
-- Bad accounts are refused, by name.
INSERT INTO leadflow.account (domain, name) VALUES (NULL, NULL);
INSERT INTO leadflow.account (name, attrs) VALUES ('Hooli', '[1, 2]');
INSERT INTO leadflow.account (name) VALUES ('   ');
UPDATE leadflow.account SET parent_id = id WHERE id = 2;
INSERT INTO leadflow.account (name, parent_id) VALUES ('Orphan', 999);
INSERT INTO leadflow.account (name, name_key) VALUES ('Keyed', 'keyed');
SELECT count(*) AS accounts FROM leadflow.account;

------------------------------------------------------------------------
-- Finding the account.  The routing document gains "account" (attrs,
-- name, status): a rule sends medical accounts to their queue.
------------------------------------------------------------------------
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (1, 'medical accounts', '{"account": {"sector": "medical"}}', 'medical');
INSERT INTO leadflow.lead (email, company) VALUES
    ('ann@acme.test', NULL),                 -- by domain
    ('bo@gmail.com', 'Acme Incorporated'),   -- free mail: by company name
    ('cy@yahoo.com', 'GLOBEX corp.'),        -- by company name (a name-only account)
    ('di@initech.test', 'Globex'),           -- by domain, the company is not looked at
    ('ed@newco.test', NULL),                 -- a new domain gets a new account
    ('fi@gmail.com', 'Umbrela Holdings'),    -- misspelt: no exact match
    ('gu@gmail.com', NULL),                  -- nothing to go by
    (NULL, 'Umbrella Holdings Ltd');         -- no email: by company name
SELECT l.id, l.email, l.company, a.name AS account, d.account_match, l.queue, d.rule_id
  FROM leadflow.lead l
  LEFT JOIN leadflow.account a ON a.id = l.account_id
  JOIN leadflow.decision d ON d.lead_id = l.id
 ORDER BY l.id;
SELECT id, domain, name FROM leadflow.account WHERE id > 5 ORDER BY id;
-- The same account, given by the writer.
INSERT INTO leadflow.lead (email, account_id) VALUES ('ho@gmail.com', 4)
    RETURNING id, account_id, queue;
SELECT account_id, account_match FROM leadflow.decision ORDER BY id DESC LIMIT 1;
-- leadflow.lead_matches and matches see the lead's columns, not its
-- account: a rule's document is richer than the row.
SELECT leadflow.matches('{"account": {"sector": "medical", "name": "ACME, Inc."}}',
                        '{"account": {"sector": "medical"}}') AS nested_matches;

------------------------------------------------------------------------
-- Similar company names: pg_trgm, when installed and switched on.
------------------------------------------------------------------------
SHOW leadflow.account_similarity;
-- Only a superuser may switch it on (it decides a lead's account).
CREATE ROLE lf_accounts_manager;
GRANT leadflow_manager TO lf_accounts_manager;
SET ROLE lf_accounts_manager;
SET leadflow.account_similarity = 0.5;
RESET ROLE;
SET leadflow.account_similarity = 1.5;
-- Switched on without pg_trgm: the search is skipped, nothing fails.
SET leadflow.account_similarity = 0.5;
INSERT INTO leadflow.lead (email, company) VALUES ('ja@gmail.com', 'Umbrela Holdings')
    RETURNING account_id;
CREATE EXTENSION pg_trgm;
INSERT INTO leadflow.lead (email, company) VALUES
    ('ka@gmail.com', 'Umbrela Holdings'),     -- similar enough
    ('lu@gmail.com', 'Acme Medical Supplies'),  -- not similar enough to anything
    ('mo@gmail.com', 'Globex Medicl');        -- the nearest of two similar names
SELECT l.email, l.company, a.name AS account, d.account_match
  FROM leadflow.lead l LEFT JOIN leadflow.account a ON a.id = l.account_id
  JOIN leadflow.decision d ON d.lead_id = l.id
 WHERE l.email IN ('ka@gmail.com', 'lu@gmail.com', 'mo@gmail.com') ORDER BY l.id;
-- Stricter, and the misspelling finds nothing.
SET leadflow.account_similarity = 0.9;
INSERT INTO leadflow.lead (email, company) VALUES ('no@gmail.com', 'Umbrela Holdings')
    RETURNING account_id;
-- pg_trgm in another schema, installed anew: found there.
DROP EXTENSION pg_trgm;
INSERT INTO leadflow.lead (email, company) VALUES ('ob@gmail.com', 'Umbrela Holdings')
    RETURNING account_id;
CREATE SCHEMA lf_trgm;
CREATE EXTENSION pg_trgm SCHEMA lf_trgm;
SET leadflow.account_similarity = 0.5;
INSERT INTO leadflow.lead (email, company) VALUES ('pi@gmail.com', 'Umbrela Holdings')
    RETURNING account_id;
-- The index a DBA adds for many accounts (pg_trgm's operator class).
CREATE INDEX lf_account_name_trgm ON leadflow.account USING gist (name_key lf_trgm.gist_trgm_ops);
INSERT INTO leadflow.lead (email, company) VALUES ('qu@gmail.com', 'Globex Medicl')
    RETURNING account_id;
DROP INDEX leadflow.lf_account_name_trgm;
DROP EXTENSION pg_trgm;
DROP SCHEMA lf_trgm;
RESET leadflow.account_similarity;

------------------------------------------------------------------------
-- Fit scoring reads the account too.
------------------------------------------------------------------------
INSERT INTO leadflow.scoring_rule (name, kind, match, points)
    VALUES ('big accounts', 'fit', '{"account": {"size": 1200}}', 25),
           ('customers', 'fit', '{"account": {"status": "customer"}}', 10);
UPDATE leadflow.account SET status = 'customer' WHERE id = 1;
INSERT INTO leadflow.lead (email) VALUES ('ru@acme.test'), ('sa@globex.test')
    RETURNING email, score;
-- ... and rescoring after an update, or by rescore(), too.
UPDATE leadflow.lead SET attrs = '{"budget": "yes"}' WHERE email = 'ru@acme.test' RETURNING score;
SELECT leadflow.rescore(id) FROM leadflow.lead WHERE email = 'ru@acme.test';
SELECT component, name, points FROM leadflow.explain_score((SELECT id FROM leadflow.lead WHERE email = 'ru@acme.test'))
 WHERE component = 'fit';
-- Its owner, a rep who may not read accounts, updates it: the score
-- keeps the account's points; the rep's explain_score leaves the account
-- out (and says the rules now give another number).
CREATE ROLE lf_accounts_rep;
GRANT leadflow_rep TO lf_accounts_rep;
UPDATE leadflow.rep SET login = 'lf_accounts_rep'
 WHERE id = (SELECT owner_id FROM leadflow.lead WHERE email = 'ru@acme.test');
SET ROLE lf_accounts_rep;
UPDATE leadflow.lead SET attrs = '{"budget": "no"}' WHERE email = 'ru@acme.test' RETURNING score;
SELECT component, name, detail, points FROM leadflow.explain_score((SELECT id FROM leadflow.lead WHERE email = 'ru@acme.test'))
 WHERE component = 'fit';
RESET ROLE;
UPDATE leadflow.rep SET login = NULL WHERE login = 'lf_accounts_rep';
DROP ROLE lf_accounts_rep;
DELETE FROM leadflow.scoring_rule;

------------------------------------------------------------------------
-- A suppressed account rejects its leads, found by name too.
------------------------------------------------------------------------
UPDATE leadflow.account SET status = 'suppressed', suppress_reason = 'competitor' WHERE id = 2;
INSERT INTO leadflow.lead (email, company) VALUES ('te@gmail.com', 'Globex Corp')
    RETURNING stage, reject_reason, account_id;
UPDATE leadflow.account SET status = 'prospect', suppress_reason = NULL WHERE id = 2;

------------------------------------------------------------------------
-- Duplicates carry their account: their own, else the open lead's.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email, company) VALUES ('bo@gmail.com', 'Someone Else')
    RETURNING stage, duplicate_of, account_id;
INSERT INTO leadflow.lead (email, company, phone, country) VALUES ('uv@gmail.com', 'Globex', '030 555 1234', 'DE')
    RETURNING account_id;
INSERT INTO leadflow.lead (phone, country) VALUES ('030 555 1234', 'DE')
    RETURNING stage, account_id;
SELECT kind, account_id, account_match FROM leadflow.decision WHERE kind = 'duplicate' ORDER BY id;

------------------------------------------------------------------------
-- The account's owner in the record: in the decision and in explain(),
-- with why it was passed over -- marked on its own entry when it is a
-- member of the queue, first when it is not.
------------------------------------------------------------------------
UPDATE leadflow.account SET owner_id = 1, owned_until = NULL WHERE id = 1;   -- Ana, not in "medical"
UPDATE leadflow.rep SET max_open = 0 WHERE id = 1;
INSERT INTO leadflow.lead (email) VALUES ('wa@acme.test') RETURNING owner_id;
SELECT reason, candidates FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT rep, eligible, reason, chosen, account_owner
  FROM leadflow.explain((SELECT id FROM leadflow.lead WHERE email = 'wa@acme.test'));
-- Ben owns the account and is a member: his own entry is marked.
UPDATE leadflow.account SET owner_id = 2 WHERE id = 1;
UPDATE leadflow.rep SET max_open = 150 WHERE id = 1;
UPDATE leadflow.rep SET away_until = '2026-03-10 00:00:00+00' WHERE id = 2;
INSERT INTO leadflow.lead (email) VALUES ('xe@acme.test') RETURNING owner_id;
SELECT reason, candidates FROM leadflow.decision ORDER BY id DESC LIMIT 1;
UPDATE leadflow.rep SET away_until = NULL WHERE id = 2;
-- Eligible, the owner takes it: it is the only candidate.
INSERT INTO leadflow.lead (email) VALUES ('yi@acme.test') RETURNING owner_id;
SELECT reason, candidates FROM leadflow.decision ORDER BY id DESC LIMIT 1;
-- The marked list reads back (a restore), and its key is only ever true.
SELECT (SELECT candidates FROM leadflow.decision WHERE lead_id =
            (SELECT id FROM leadflow.lead WHERE email = 'wa@acme.test'))::text::leadflow.candidate_list::text
     = (SELECT candidates FROM leadflow.decision WHERE lead_id =
            (SELECT id FROM leadflow.lead WHERE email = 'wa@acme.test'))::text AS round_trip;
SELECT '[{"rep": 1, "open": 0, "chosen": false, "reason": null, "weight": 1, "eligible": true, "max_open": 1, "new_today": 0, "account_owner": false, "max_new_per_day": 1}]'::leadflow.candidate_list;
SELECT leadflow.candidate_eligible_reps(candidates) FROM leadflow.decision ORDER BY id DESC LIMIT 1;

------------------------------------------------------------------------
-- Account owners from history: the owner of each account's most recent
-- open or won lead (active reps only), for good or for a while.
------------------------------------------------------------------------
UPDATE leadflow.account SET owner_id = NULL, owned_until = NULL;
INSERT INTO leadflow.lead (email, owner_id, stage, created_at) VALUES
    ('h1@hist.test', 3, 'converted', '2025-05-01'),
    ('h2@hist.test', 1, 'rejected', '2025-09-01'),   -- lost: not an owner
    ('h3@hist.test', 3, 'working', '2025-06-01');
SELECT leadflow.set_account_owners();
SELECT a.id, a.name, a.domain, r.name AS owner, a.owned_until
  FROM leadflow.account a LEFT JOIN leadflow.rep r ON r.id = a.owner_id ORDER BY a.id;
-- Again: nobody changes.  Overwriting with a hold: every account is held 30 days.
SELECT leadflow.set_account_owners();
SELECT leadflow.set_account_owners(interval '30 days', overwrite => true);
SELECT count(*) FILTER (WHERE owned_until = '2026-04-08 10:00:00+00') AS held_30_days FROM leadflow.account;
SELECT leadflow.set_account_owners(interval '-1 day');
SELECT leadflow.set_account_owners(NULL, NULL);
-- A manager may.
SET ROLE lf_accounts_manager;
SELECT leadflow.set_account_owners() >= 0 AS ran;
RESET ROLE;

SELECT * FROM leadflow.check_invariants();
SELECT * FROM leadflow.check_counters();

RESET leadflow.clock;
DROP ROLE lf_accounts_manager;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
