-- Duplicates and data hygiene: normalisation (emails, phones in several
-- formats, names), free-mail domains, duplicates of open and closed
-- leads, merging with touches on both sides, the duplicate report --
-- with counters checked after each step.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (1, 'Ana', 100), (2, 'Ben', 100);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('default', 1), ('default', 2);
UPDATE leadflow.queue SET sticky_account = false WHERE name = 'default';

------------------------------------------------------------------------
-- Normalisation: what a CRM sends, what is stored, what is kept.
------------------------------------------------------------------------
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (external_id, name, company, email, phone, country) VALUES
    ('n1', '  Ada   Lovelace ', ' Analytical  Engines Ltd ', '  Ada.Lovelace@Example.COM ', '+1 (555) 010-0199', NULL),
    ('n2', 'Bob', 'Acme', 'bob@acme.test', '(555) 010-0199', 'US'),
    ('n3', 'Carl', 'Beta', 'carl@beta.test', '0049 30 1234567', 'DE'),
    ('n4', 'Dora', 'Beta', 'dora@beta.test', '030 1234567', ' de '),
    ('n5', 'Eve', 'Gamma', 'eve@gamma.test', '07700 900123', 'GB'),
    ('n6', 'Fyodor', 'Delta', 'fyodor@delta.test', '8 (495) 123-45-67', 'RU'),
    ('n7', 'Gus', 'Eps', 'gus@eps.test', '1 555 010 0199', 'US'),
    ('n8', 'Hal', 'Zeta', 'hal@zeta.test', '555-0199', NULL),
    ('n9', 'Ivy', 'Eta', 'not-an-email', 'n/a', 'FR'),
    ('n10', 'Jo', 'Theta', 'jo@', '+1234567890123456', 'US'),
    ('n11', 'Kai', 'Iota', 'kai @iota.test', '12', 'XX'),
    ('n12', ' ', '   ', 'two@@iota.test', '   ', 'US');
SET leadflow.default_country = 'US';
INSERT INTO leadflow.lead (external_id, name, email, phone) VALUES ('n13', 'Lu', 'lu@kappa.test', '555-0199');
RESET leadflow.default_country;
SET leadflow.default_country = 'Narnia';
INSERT INTO leadflow.lead (external_id, name, email, phone) VALUES ('n14', 'Mo', 'mo@kappa.test', '555-0199');
RESET leadflow.default_country;
RESET leadflow.route_on_insert;
SELECT external_id, name, company, email, phone FROM leadflow.lead ORDER BY id;
SELECT external_id, attrs FROM leadflow.lead WHERE attrs <> '{}' ORDER BY id;
-- Updates are normalised too, and only the columns that change.
UPDATE leadflow.lead SET email = ' Bob.New@ACME.test ' WHERE external_id = 'n2';
UPDATE leadflow.lead SET company = 'Acme  Corp ' WHERE external_id = 'n2';
SELECT email, company, phone, attrs FROM leadflow.lead WHERE external_id = 'n2';
DELETE FROM leadflow.lead;

------------------------------------------------------------------------
-- Free-mail domains never make an account.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email) VALUES ('someone@GMAIL.com'), ('cfo@acme.test');
SELECT l.email, a.domain FROM leadflow.lead l LEFT JOIN leadflow.account a ON a.id = l.account_id ORDER BY l.id;
INSERT INTO leadflow.freemail_domain (domain) VALUES ('acme-mail.test');
INSERT INTO leadflow.lead (email) VALUES ('x@acme-mail.test');
SELECT count(*) AS accounts_for_acme_mail FROM leadflow.account WHERE domain = 'acme-mail.test';

------------------------------------------------------------------------
-- A duplicate of an open lead goes to its owner, closed: one prospect,
-- one owner, one open lead -- and the open lead hears of it.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email, source, campaign) VALUES ('ann@acme.test', 'web_form', 'spring')
    RETURNING id, owner_id, stage;
INSERT INTO leadflow.lead (email, source, campaign) VALUES (' ANN@Acme.Test ', 'webinar', 'spring-webinar')
    RETURNING id, owner_id, stage, duplicate_of, reject_reason;
SELECT kind, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT lead_id, kind, attrs FROM leadflow.event ORDER BY id;
SELECT rep_id, open_count FROM leadflow.rep_load ORDER BY rep_id;
SELECT * FROM leadflow.check_counters();
-- By phone, when the new lead has no email.
INSERT INTO leadflow.lead (name, phone, country) VALUES ('Pat', '030 555 1234', 'DE')
    RETURNING id, owner_id, stage;
INSERT INTO leadflow.lead (name, phone) VALUES ('Pat again', '+49 30 5551234')
    RETURNING owner_id, stage, duplicate_of, reject_reason;

------------------------------------------------------------------------
-- A prospect who comes back after the lead was closed is a new lead,
-- routed anew, linked to the old one.
------------------------------------------------------------------------
UPDATE leadflow.lead SET stage = 'rejected', reject_reason = 'no budget'
 WHERE email = 'ann@acme.test' AND duplicate_of IS NULL;
INSERT INTO leadflow.lead (email, source, campaign) VALUES ('ann@acme.test', 'event', 'fair')
    RETURNING owner_id IS NOT NULL AS routed, stage, duplicate_of, reject_reason;
SELECT kind FROM leadflow.decision ORDER BY id DESC LIMIT 1;
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Merge: the same person as two leads, each with touches.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (name, email, phone, company, attrs)
    VALUES ('Quinn', 'quinn@omega.test', NULL, 'Omega', '{"budget": "approved"}');
INSERT INTO leadflow.lead (name, email, phone, company, attrs, country)
    VALUES ('Quinn Q.', 'q.private@gmail.com', '+44 20 7946 0958', NULL, '{"budget": "maybe", "timeline": "Q3"}', 'GB');
SELECT email, owner_id FROM leadflow.lead WHERE email IN ('quinn@omega.test', 'q.private@gmail.com') ORDER BY id;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'quinn@omega.test'), 'call', 'not_reached')).outcome;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'q.private@gmail.com'), 'email', 'connected')).outcome;
SELECT (leadflow.log_touch((SELECT id FROM leadflow.lead WHERE email = 'q.private@gmail.com'), 'call', 'not_reached')).outcome;
SELECT id, name, email, phone, company, attrs, touches, stage, owner_id
  FROM leadflow.merge((SELECT id FROM leadflow.lead WHERE email = 'quinn@omega.test'),
                      (SELECT id FROM leadflow.lead WHERE email = 'q.private@gmail.com'));
SELECT l.email, count(t.id) AS touches_now FROM leadflow.lead l LEFT JOIN leadflow.touch t ON t.lead_id = l.id
 WHERE l.email IN ('quinn@omega.test', 'q.private@gmail.com') GROUP BY l.id, l.email ORDER BY l.id;
SELECT email, stage, reject_reason, duplicate_of = (SELECT id FROM leadflow.lead WHERE email = 'quinn@omega.test') AS points_at_kept
  FROM leadflow.lead WHERE email = 'q.private@gmail.com';
SELECT kind, reason FROM leadflow.decision WHERE kind = 'merge';
SELECT count(*) AS decisions_left_on_dropped FROM leadflow.decision
 WHERE lead_id = (SELECT id FROM leadflow.lead WHERE email = 'q.private@gmail.com');
SELECT * FROM leadflow.check_counters();
-- What cannot be merged.
SELECT leadflow.merge(1, 1);
SELECT leadflow.merge((SELECT id FROM leadflow.lead WHERE email = 'cfo@acme.test'), 999999);
SELECT leadflow.merge(NULL, 1);
UPDATE leadflow.lead SET stage = 'converted' WHERE email = 'quinn@omega.test';
SELECT leadflow.merge((SELECT id FROM leadflow.lead WHERE email = 'cfo@acme.test'),
                      (SELECT id FROM leadflow.lead WHERE email = 'quinn@omega.test'));

------------------------------------------------------------------------
-- The report: purchased lists full of known prospects show up.
------------------------------------------------------------------------
INSERT INTO leadflow.lead (email, source, campaign)
    SELECT 'list' || g || '@acme.test', 'purchased_list', 'list-a' FROM generate_series(1, 4) g;
INSERT INTO leadflow.lead (email, source, campaign)
    SELECT 'list' || g || '@acme.test', 'purchased_list', 'list-b' FROM generate_series(1, 6) g;
SELECT * FROM leadflow.duplicate_rates ORDER BY source, campaign;
SELECT * FROM leadflow.check_counters();

-- A duplicate of an open lead imported with an owner and no queue (the
-- routing result has no queue: this crashed the backend).
BEGIN;
INSERT INTO leadflow.lead (email, owner_id) SELECT 'imp@acme.test', min(id) FROM leadflow.rep
    RETURNING queue, owner_id IS NOT NULL AS owned, stage;
INSERT INTO leadflow.lead (email) VALUES ('imp@acme.test')
    RETURNING queue, owner_id IS NOT NULL AS owned, stage, duplicate_of IS NOT NULL AS duplicate, cadence;
ROLLBACK;

RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.freemail_domain WHERE NOT builtin;
UPDATE leadflow.queue SET sticky_account = true WHERE name = 'default';
