-- The hot path's look-ups read straight from their indexes (src/index_probe.c):
-- an account by domain, id or company key, the leads with an email or phone.
-- They must find what the SQL statements they replaced found: the same
-- account document, the same duplicate among several leads with a contact,
-- rows made earlier in the same INSERT; and they must keep working when the
-- index is rebuilt under a new OID or cannot be used (a table scan then).
SET leadflow.clock = '2026-03-09 10:00:00+00';   -- a Monday morning, in UTC
SET timezone = 'UTC';
TRUNCATE leadflow.rule, leadflow.account, leadflow.lead, leadflow.decision, leadflow.rep
    RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (1, 'Ana', 100), (2, 'Ben', 100);
SELECT setval('leadflow.rep_id_seq', 2);
INSERT INTO leadflow.queue (name, strategy) VALUES ('gold', 'round_robin'), ('named', 'round_robin'),
    ('held', 'round_robin');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('default', 1), ('gold', 2), ('named', 2), ('held', 1);

------------------------------------------------------------------------
-- The account document: attrs, then the account's name (when it has one)
-- and status over attrs' keys of the same name.
------------------------------------------------------------------------
INSERT INTO leadflow.account (id, domain, name, attrs, status, suppress_reason) VALUES
    (1, 'attrs-name.test', NULL, '{"name": "From Attrs", "tier": "gold"}', 'prospect', NULL),
    (2, 'real-name.test', 'Real Name', '{"name": "Stale", "status": "stale"}', 'customer', NULL),
    (3, NULL, 'Keyed Co', '{"tier": "silver"}', 'prospect', NULL),
    (4, NULL, 'Keyed Company', '{"tier": "gold"}', 'prospect', NULL),
    (5, 'held.test', 'Held', '{}', 'suppressed', 'asked us not to call');
SELECT setval('leadflow.account_id_seq', 5);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'attrs name kept', '{"account": {"name": "From Attrs", "tier": "gold"}}', 'gold'),
    (2, 'own name and status win', '{"account": {"name": "Real Name", "status": "customer"}}', 'named'),
    (3, 'silver', '{"account": {"tier": "silver"}}', 'held');
INSERT INTO leadflow.lead (email, company) VALUES
    ('a@attrs-name.test', NULL),    -- gold: attrs' name stays, the account has none
    ('b@real-name.test', NULL),     -- named: the account's name and status
    ('c@gmail.com', 'Keyed Co.'),   -- by company key: the oldest of the two accounts with it
    ('d@held.test', NULL),          -- suppressed: not routed
    ('e@gmail.com', 'keyed co');    -- the same key again
SELECT l.email, l.account_id, d.account_match, l.queue, l.owner_id, l.stage, l.reject_reason
  FROM leadflow.lead l JOIN leadflow.decision d ON d.lead_id = l.id ORDER BY l.id;
-- Accounts 3 and 4 both have the key when 4 is renamed: the oldest (3) still wins.
UPDATE leadflow.account SET name = 'Keyed Co' WHERE id = 4;
INSERT INTO leadflow.lead (email, company) VALUES ('f@gmail.com', 'KEYED CO') RETURNING account_id, queue;
-- By account_id given: the same document.
INSERT INTO leadflow.lead (email, account_id) VALUES ('g@gmail.com', 2) RETURNING account_id, queue;

------------------------------------------------------------------------
-- Duplicates: of several leads with an email, an open one first, then one
-- that is not itself a duplicate, then the newest.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email, stage, owner_id, reject_reason) VALUES
    ('p@dup.test', 'nurture', 1, NULL), ('p@dup.test', 'nurture', 1, NULL),
    ('p@dup.test', 'rejected', NULL, 'duplicate of lead 1');
-- all closed: the newest that is not itself a duplicate is the prospect's
INSERT INTO leadflow.lead (email) VALUES ('p@dup.test')
    RETURNING duplicate_of = (SELECT min(id) + 1 FROM leadflow.lead WHERE email = 'p@dup.test') AS newest_non_duplicate,
              stage, owner_id IS NOT NULL AS routed;
-- now an open one exists (the lead just routed): the next is its duplicate
INSERT INTO leadflow.lead (email) VALUES ('p@dup.test')
    RETURNING duplicate_of = (SELECT max(id) FROM leadflow.lead WHERE email = 'p@dup.test') AS newest_open,
              stage, reject_reason LIKE 'duplicate of lead %' AS is_duplicate;
-- in one statement: the second row is a duplicate of the first, which the
-- probe sees (a command counter increment before it, as SPI made)
INSERT INTO leadflow.lead (email, phone) VALUES ('q@dup.test', NULL), ('q@dup.test', NULL),
    (NULL, '+15550100'), (NULL, '+15550100');
SELECT email, phone, duplicate_of IS NOT NULL AS duplicate, stage
  FROM leadflow.lead WHERE email = 'q@dup.test' OR phone = '+15550100' ORDER BY id;

------------------------------------------------------------------------
-- Rebuilt indexes (a new OID) and an index that cannot be used: the probes
-- follow, or scan the table, and find the same rows.
------------------------------------------------------------------------
REINDEX INDEX CONCURRENTLY leadflow.lead_email_idx;
REINDEX INDEX CONCURRENTLY leadflow.account_domain_key;
INSERT INTO leadflow.lead (email) VALUES ('q@dup.test'), ('h@real-name.test')
    RETURNING duplicate_of IS NOT NULL AS duplicate, account_id, queue;
BEGIN;
UPDATE pg_catalog.pg_index SET indisvalid = false
 WHERE indexrelid IN ('leadflow.lead_email_idx'::regclass, 'leadflow.account_domain_key'::regclass,
                      'leadflow.account_name_key_idx'::regclass);
INSERT INTO leadflow.lead (email, company) VALUES ('q@dup.test', NULL), ('i@real-name.test', NULL),
    ('j@gmail.com', 'Keyed Co')
    RETURNING duplicate_of IS NOT NULL AS duplicate, account_id, queue;
ROLLBACK;
INSERT INTO leadflow.lead (email) VALUES ('q@dup.test') RETURNING duplicate_of IS NOT NULL AS duplicate;

------------------------------------------------------------------------
-- Rights: explain() runs as its caller; a probe is refused where the SQL
-- statement it replaced was refused.
------------------------------------------------------------------------
CREATE ROLE probe_admin IN ROLE leadflow_admin;
SELECT id AS b_lead FROM leadflow.lead WHERE email = 'b@real-name.test' \gset
SET ROLE probe_admin;
SELECT count(*) > 0 AS explained FROM leadflow.explain(:b_lead);
RESET ROLE;
BEGIN;
REVOKE SELECT ON leadflow.account FROM leadflow_admin;
SET ROLE probe_admin;
SELECT count(*) > 0 AS explained FROM leadflow.explain(:b_lead);
ROLLBACK;
DROP ROLE probe_admin;

SELECT count(*) AS invariant_violations FROM leadflow.check_invariants();
