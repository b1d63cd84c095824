-- Bad input: what a careless CRM sends, at every entry point a CRM uses.
-- Each bad input must get a clear error (SQLSTATE, message, detail, hint)
-- or be handled safely; after each, bi_check() shows that nothing was
-- half-written: the counts of leads, decisions, alerts, touches, events
-- and stage changes, every lead row, the rep_load counters and the
-- configuration tables are as before.  bi_accept() marks an input that is
-- handled (and takes the new state as the reference).  The tally at the
-- end counts the bad inputs tried.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';   -- a Monday afternoon
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
TRUNCATE leadflow.scoring_rule, leadflow.model RESTART IDENTITY;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.qualification_criterion;

-- The whole state that a bad input must leave alone.  A row that was
-- written in any way has a new version (ctid, xmin), so versions stand for
-- contents and no megabyte row is read again.
CREATE VIEW bi_state AS
SELECT (SELECT count(*) FROM leadflow.lead) AS leads,
       (SELECT count(*) FROM leadflow.decision) AS decisions,
       (SELECT count(*) FROM leadflow.alert) AS alerts,
       (SELECT count(*) FROM leadflow.touch) AS touches,
       (SELECT count(*) FROM leadflow.event) AS events,
       (SELECT count(*) FROM leadflow.stage_history) AS stage_changes,
       (SELECT md5(coalesce(string_agg(l.ctid::text || l.xmin::text, ',' ORDER BY l.id), ''))
          FROM leadflow.lead l) AS lead_rows,
       (SELECT coalesce(string_agg(format('%s:%s/%s', r.rep_id, r.open_count, r.new_count),
                                   ' ' ORDER BY r.rep_id), '') FROM leadflow.rep_load r)
           AS rep_load,
       (SELECT md5(coalesce(string_agg(v, ',' ORDER BY v), '')) FROM (
            SELECT 'rep' || ctid::text || xmin::text FROM leadflow.rep UNION ALL
            SELECT 'queue' || ctid::text || xmin::text FROM leadflow.queue UNION ALL
            SELECT 'member' || ctid::text || xmin::text FROM leadflow.queue_member UNION ALL
            SELECT 'rule' || ctid::text || xmin::text FROM leadflow.rule UNION ALL
            SELECT 'scoring' || ctid::text || xmin::text FROM leadflow.scoring_rule UNION ALL
            SELECT 'model' || ctid::text || xmin::text FROM leadflow.model UNION ALL
            SELECT 'account' || ctid::text || xmin::text FROM leadflow.account) AS t(v))
           AS config;
CREATE TABLE bi_before (state jsonb);
CREATE TABLE bi_tally (tried integer, accepted integer);
INSERT INTO bi_tally VALUES (0, 0);
CREATE FUNCTION bi_rebase() RETURNS void LANGUAGE sql AS $$
    DELETE FROM bi_before;
    INSERT INTO bi_before SELECT to_jsonb(s) FROM bi_state s;
$$;
-- What changed since the reference state ('nothing written' if nothing).
CREATE FUNCTION bi_check() RETURNS text LANGUAGE sql AS $$
    UPDATE bi_tally SET tried = tried + 1;
    SELECT coalesce(string_agg(format('%s changed: %s -> %s', n.key, o.value, n.value),
                               '; ' ORDER BY n.key), 'nothing written')
      FROM jsonb_each((SELECT to_jsonb(s) FROM bi_state s)) n
      JOIN jsonb_each((SELECT state FROM bi_before)) o USING (key)
     WHERE n.value <> o.value;
$$;
CREATE FUNCTION bi_accept() RETURNS text LANGUAGE sql AS $$
    UPDATE bi_tally SET tried = tried + 1, accepted = accepted + 1;
    SELECT bi_rebase();
    SELECT 'handled';
$$;
-- After a failing statement: its SQLSTATE, and that nothing was written.
\set check 'SELECT :''SQLSTATE'' AS sqlstate, bi_check() AS written;'
-- After a bad input that is handled safely (its result shown just before).
\set accepted 'SELECT bi_accept() AS bad_input;'

-- Text a CRM may well send in any field: SQL, quotes, backslashes, an
-- escaped NUL as text, and a megabyte.
\set sqlish '''x''''; DROP TABLE leadflow.lead; --'''
\set quotes '''"O''''Brien" \\ \\0 \\x00 %s %% $1 ${x} <b>'''
\set megabyte 'repeat(''x'', 1000000)'
-- 1.3 MB that does not compress (hex of md5s)
\set noise '(SELECT string_agg(md5(g::text), '''') FROM generate_series(1, 40000) g)'

------------------------------------------------------------------------
-- A small floor: two reps in one queue, every lead routed to it.
------------------------------------------------------------------------
INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (1, 'Ada', 1000), (2, 'Bob', 1000);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 1), ('q', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (10, 'all', '{}', 'q');
INSERT INTO leadflow.lead (external_id, email, phone, country)
    VALUES ('crm-1', 'ann@acme.test', '030 1234567', 'DE'),
           ('crm-2', 'bo@beta.test', NULL, NULL),
           ('crm-3', 'cy@gamma.test', NULL, NULL);
SELECT leadflow.log_touch(3, 'call', 'dead');   -- lead 3 is closed
SELECT id, external_id, email, phone, stage, owner_id FROM leadflow.lead ORDER BY id;
SELECT bi_rebase();

------------------------------------------------------------------------
-- INSERT INTO leadflow.lead
------------------------------------------------------------------------
-- NULLs where values belong
INSERT INTO leadflow.lead (attrs) VALUES (NULL);
:check
INSERT INTO leadflow.lead (created_at) VALUES (NULL);
:check
INSERT INTO leadflow.lead (stage) VALUES (NULL);
:check
INSERT INTO leadflow.lead (score) VALUES (NULL);
:check
INSERT INTO leadflow.lead (touches) VALUES (NULL);
:check
-- (routing sets the cadence position of the lead it assigns)
INSERT INTO leadflow.lead (cadence_step) VALUES (NULL) RETURNING id, owner_id, cadence_step;
:accepted
-- unknown enum values
INSERT INTO leadflow.lead (stage) VALUES ('hot');
:check
INSERT INTO leadflow.lead (stage) VALUES ('New');
:check
INSERT INTO leadflow.lead (stage) VALUES ('');
:check
-- attrs that are not an object, or not JSON
INSERT INTO leadflow.lead (attrs) VALUES ('[]');
:check
INSERT INTO leadflow.lead (attrs) VALUES ('"x"');
:check
INSERT INTO leadflow.lead (attrs) VALUES ('null');
:check
INSERT INTO leadflow.lead (attrs) VALUES ('{"a": 1');
:check
INSERT INTO leadflow.lead (attrs) VALUES ('{"a": "\u0000"}');
:check
-- timestamps at infinity
INSERT INTO leadflow.lead (created_at) VALUES ('infinity');
:check
INSERT INTO leadflow.lead (created_at) VALUES ('-infinity');
:check
-- numbers out of their domain
INSERT INTO leadflow.lead (value) VALUES (-1);
:check
INSERT INTO leadflow.lead (value) VALUES ('NaN');
:check
INSERT INTO leadflow.lead (value) VALUES ('Infinity');
:check
INSERT INTO leadflow.lead (predicted) VALUES ('NaN');
:check
INSERT INTO leadflow.lead (predicted) VALUES (1.5);
:check
INSERT INTO leadflow.lead (touches) VALUES (-1);
:check
INSERT INTO leadflow.lead (cadence_step) VALUES (-1) RETURNING id, owner_id, cadence_step;
:accepted
INSERT INTO leadflow.lead (reassignments) VALUES (-1);
:check
-- unknown reps, queues and leads
INSERT INTO leadflow.lead (owner_id) VALUES (999);
:check
INSERT INTO leadflow.lead (owner_id) VALUES (-1);
:check
-- (routing decides the queue and the account of a lead it routes)
INSERT INTO leadflow.lead (queue) VALUES ('nope') RETURNING id, queue, owner_id;
:accepted
INSERT INTO leadflow.lead (referred_by) VALUES (999);
:check
INSERT INTO leadflow.lead (duplicate_of) VALUES (999);
:check
INSERT INTO leadflow.lead (account_id) VALUES (999) RETURNING id, account_id, owner_id;
:accepted
-- a cadence that does not parse, a duplicate CRM key
INSERT INTO leadflow.lead (cadence) VALUES ('call@0; DROP TABLE leadflow.lead');
:check
INSERT INTO leadflow.lead (external_id) VALUES ('crm-1');
:check
-- over-long CRM key (indexed): refused by length, not by the index
INSERT INTO leadflow.lead (external_id) VALUES (:noise);
:check
INSERT INTO leadflow.lead (external_id) VALUES (:megabyte);
:check
-- Invalid emails and phones are kept in attrs, the columns cleared: they
-- must never match or merge with anyone.
INSERT INTO leadflow.lead (email, phone) VALUES ('not an email', 'call me')
    RETURNING id, email, phone, attrs, owner_id;
:accepted
INSERT INTO leadflow.lead (email, phone) VALUES ('a@@b.test', '+1')
    RETURNING id, email, phone, attrs;
:accepted
INSERT INTO leadflow.lead (email, phone) VALUES ('@acme.test', '0000000000000000000')
    RETURNING id, email, phone, attrs;
:accepted
INSERT INTO leadflow.lead (email) VALUES (E'x@acme.test\n; DROP TABLE leadflow.lead; --')
    RETURNING id, email, attrs;
:accepted
-- a megabyte address (or phone) is no address: it must not reach the
-- index on email (which would fail with "index row requires ...")
INSERT INTO leadflow.lead (email, phone)
    VALUES (:noise || '@acme.test', repeat('9', 1000000))
    RETURNING id, email, phone, length(attrs ->> 'original_email') AS original_email_bytes,
              length(attrs ->> 'original_phone') AS original_phone_bytes, owner_id;
:accepted
INSERT INTO leadflow.lead (email) VALUES (repeat('a', 250) || '@b.test') RETURNING id, email;
:accepted
-- SQL-looking text, quotes and backslashes in every text column: stored
-- as sent (names trimmed), routed like any lead.
INSERT INTO leadflow.lead (external_id, source, campaign, name, company, country, reject_reason)
    VALUES (:sqlish, :sqlish, :quotes, :sqlish, :quotes, :sqlish, :quotes)
    RETURNING id, external_id, source, campaign, name, company, country, reject_reason, owner_id;
:accepted
-- a NUL byte cannot be text at all
INSERT INTO leadflow.lead (name) VALUES (E'a\000b');
:check
-- megabyte names, company, source and attrs values (not indexed: kept)
INSERT INTO leadflow.lead (name, company, source, campaign, attrs)
    VALUES (:megabyte, :megabyte, :noise, :megabyte, jsonb_build_object('note', :megabyte))
    RETURNING id, length(name), length(company), length(source), owner_id;
:accepted
-- deeply nested attrs (10,000 levels) and large ones (100,000 keys, an
-- array of 100,000 elements)
INSERT INTO leadflow.lead (attrs)
    VALUES ((repeat('{"a": ', 10000) || '1' || repeat('}', 10000))::jsonb)
    RETURNING id, owner_id;
:accepted
INSERT INTO leadflow.lead (attrs)
    SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 100000) g
    RETURNING id, owner_id, (SELECT count(*) FROM jsonb_object_keys(attrs)) AS keys;
:accepted
INSERT INTO leadflow.lead (attrs)
    SELECT jsonb_build_object('tags', jsonb_agg(g)) FROM generate_series(1, 100000) g
    RETURNING id, owner_id, jsonb_array_length(attrs -> 'tags') AS tags;
:accepted
-- keys that look like the routing columns or like SQL
INSERT INTO leadflow.lead (source, attrs)
    VALUES ('web', '{"source": "attrs", "domain": 5, "x''; DROP TABLE leadflow.lead; --": 1, "": ""}')
    RETURNING id, source, attrs, owner_id;
:accepted
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- UPDATE leadflow.lead
------------------------------------------------------------------------
UPDATE leadflow.lead SET stage = NULL WHERE id = 1;
:check
UPDATE leadflow.lead SET stage = 'bogus' WHERE id = 1;
:check
UPDATE leadflow.lead SET stage = 'new' WHERE id = 3;
:check
UPDATE leadflow.lead SET owner_id = 999 WHERE id = 1;
:check
UPDATE leadflow.lead SET attrs = NULL WHERE id = 1;
:check
UPDATE leadflow.lead SET attrs = '[1]' WHERE id = 1;
:check
UPDATE leadflow.lead SET created_at = 'infinity' WHERE id = 1;
:check
UPDATE leadflow.lead SET created_at = NULL WHERE id = 1;
:check
UPDATE leadflow.lead SET value = 'NaN' WHERE id = 1;
:check
UPDATE leadflow.lead SET id = NULL WHERE id = 1;
:check
UPDATE leadflow.lead SET queue = 'nope' WHERE id = 1;
:check
UPDATE leadflow.lead SET touches = -5 WHERE id = 1;
:check
UPDATE leadflow.lead SET external_id = :noise WHERE id = 1;
:check
UPDATE leadflow.lead SET duplicate_of = id WHERE id = 1;
:check
-- an invalid email on update: cleared, kept in attrs, score and routing
-- document follow
UPDATE leadflow.lead SET email = 'b@@' WHERE id = 2 RETURNING id, email, attrs;
:accepted
UPDATE leadflow.lead SET name = :sqlish, company = :quotes WHERE id = 2
    RETURNING id, name, company;
:accepted
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- log_touch (and INSERT INTO leadflow.touch)
------------------------------------------------------------------------
SELECT leadflow.log_touch(NULL, 'call', 'connected');
:check
SELECT leadflow.log_touch(999, 'call', 'connected');
:check
SELECT leadflow.log_touch(-1, 'call', 'connected');
:check
SELECT leadflow.log_touch(1, NULL, 'connected');
:check
SELECT leadflow.log_touch(1, 'call', NULL);
:check
SELECT leadflow.log_touch(1, 'fax', 'connected');
:check
SELECT leadflow.log_touch(1, 'call', 'maybe');
:check
SELECT leadflow.log_touch(1, 'Call', 'connected');
:check
SELECT leadflow.log_touch(3, 'call', 'connected');   -- closed
:check
-- referrals of the wrong shape
SELECT leadflow.log_touch(1, 'call', 'dead_referral', 'x', NULL);
:check
SELECT leadflow.log_touch(1, 'call', 'dead_referral', 'x', '[1]');
:check
SELECT leadflow.log_touch(1, 'call', 'dead_referral', 'x', '{}');
:check
SELECT leadflow.log_touch(1, 'call', 'dead_referral', 'x', '{"email": null}');
:check
SELECT leadflow.log_touch(1, 'call', 'dead_referral', 'x', '{"email": "r@ref.test", "attrs": [1]}');
:check
SELECT leadflow.log_touch(1, 'call', 'dead_referral', 'x', '{"email": "r@ref.test", "attrs": "s"}');
:check
-- touches at infinity, by unknown reps
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (1, 'call', 'connected', 'infinity');
:check
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (1, 'call', 'connected', '-infinity');
:check
INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (1, 'call', 'connected', NULL);
:check
INSERT INTO leadflow.touch (lead_id, channel, outcome, rep_id) VALUES (1, 'call', 'connected', 999);
:check
INSERT INTO leadflow.touch (lead_id, channel, outcome) VALUES (NULL, 'call', 'connected');
:check
-- a note of SQL, quotes and a megabyte: kept as written
SELECT (leadflow.log_touch(1, 'call', 'not_reached', :sqlish)).note;
:accepted
SELECT length((leadflow.log_touch(1, 'email', 'not_reached', :megabyte)).note);
:accepted
SELECT id, stage, touches, cadence_step FROM leadflow.lead WHERE id = 1;

------------------------------------------------------------------------
-- events (engagement)
------------------------------------------------------------------------
INSERT INTO leadflow.event (lead_id, kind) VALUES (NULL, 'open');
:check
INSERT INTO leadflow.event (lead_id, kind) VALUES (999, 'open');
:check
INSERT INTO leadflow.event (lead_id, kind) VALUES (1, NULL);
:check
INSERT INTO leadflow.event (lead_id, kind) VALUES (1, '  ');
:check
INSERT INTO leadflow.event (lead_id, kind, at) VALUES (1, 'open', 'infinity');
:check
INSERT INTO leadflow.event (lead_id, kind, at) VALUES (1, 'open', '-infinity');
:check
INSERT INTO leadflow.event (lead_id, kind, attrs) VALUES (1, 'open', '[]');
:check

------------------------------------------------------------------------
-- assign, route, route_pending, explain, reopen, merge
------------------------------------------------------------------------
SELECT leadflow.assign(NULL, 1, 'x');
:check
SELECT leadflow.assign(1, NULL, 'x');
:check
SELECT leadflow.assign(1, 2, NULL);
:check
SELECT leadflow.assign(1, 2, '');
:check
SELECT leadflow.assign(999, 1, 'x');
:check
SELECT leadflow.assign(1, 999, 'x');
:check
SELECT leadflow.assign(1, -1, 'x');
:check
-- a closed lead may change hands (no seat is taken); the ledger says so
SELECT leadflow.assign(3, 2, 'x');
SELECT lead_id, kind, from_rep, to_rep, reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
:accepted
-- a reason of SQL, then a megabyte one: kept in the ledger as written
SELECT leadflow.assign(1, 2, :sqlish);
SELECT reason FROM leadflow.decision ORDER BY id DESC LIMIT 1;
:accepted
SELECT leadflow.assign(1, 1, :megabyte);
SELECT length(reason) FROM leadflow.decision ORDER BY id DESC LIMIT 1;
:accepted
SELECT leadflow.route(NULL);   -- STRICT: NULL
:accepted
SELECT leadflow.route(999);
:check
SELECT leadflow.route(-1);
:check
SELECT leadflow.route(3);   -- closed, and owned: its owner, nothing done
:accepted
SELECT leadflow.route_pending(-1);
:check
SELECT leadflow.route_pending(NULL);   -- STRICT: NULL
:accepted
SELECT * FROM leadflow.explain(999);
:check
SELECT count(*) FROM leadflow.explain(NULL);   -- STRICT: no rows
:accepted
SELECT leadflow.reopen(NULL, 'x');
:check
SELECT leadflow.reopen(999, 'x');
:check
SELECT leadflow.reopen(3, NULL);
:check
SELECT leadflow.reopen(3, '');
:check
SELECT leadflow.reopen(1, 'x');   -- open, not rejected
:check
SELECT leadflow.merge(NULL, 1);
:check
SELECT leadflow.merge(1, NULL);
:check
SELECT leadflow.merge(1, 1);
:check
SELECT leadflow.merge(1, 999);
:check
SELECT leadflow.merge(999, 1);
:check
SELECT * FROM leadflow.check_counters();

------------------------------------------------------------------------
-- Scoring: explain_score, current_score, rescore, scoring rules
------------------------------------------------------------------------
SELECT * FROM leadflow.explain_score(999);
:check
SELECT count(*) FROM leadflow.explain_score(NULL);
:accepted
SELECT * FROM leadflow.explain_score(1, 'infinity');
:accepted
SELECT * FROM leadflow.explain_score(1, '-infinity');
:accepted
SELECT leadflow.current_score(999);
:check
SELECT leadflow.current_score(NULL);
:accepted
SELECT leadflow.current_score(1, 'infinity'), leadflow.current_score(1, '-infinity');
:accepted
SELECT leadflow.rescore(999);
:check
SELECT leadflow.fit_score('[]');
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('s', 'fit', NULL, 1);
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('s', 'fit', '[]', 1);
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('s', 'fit', '{"a": []}', 1);
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('s', 'fit', '{}', NULL);
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES (NULL, 'fit', '{}', 1);
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('s', 'great', '{}', 1);
:check
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life)
    VALUES ('s', 'engagement', 'open', 1, '-1 day');
:check
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life)
    VALUES ('s', 'engagement', 'open', 1, '0');
:check
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life)
    VALUES ('s', 'engagement', 'open', 1, '1 mon -30 days');
:check
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, max_points)
    VALUES ('s', 'engagement', 'open', 1, -1);
:check
INSERT INTO leadflow.scoring_rule (name, kind, match, event_kind, points)
    VALUES ('s', 'engagement', '{}', 'open', 1);
:check
-- points at the edge of integer: group totals saturate, nothing overflows
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES
    ('max', 'fit', '{}', 2147483647), ('max too', 'fit', '{}', 2147483647),
    ('min', 'fit', '{"never": 1}', -2147483648);
SELECT leadflow.fit_score('{}') AS max, leadflow.fit_score('{"never": 1}') AS max_plus_min;
:accepted
DELETE FROM leadflow.scoring_rule;
SELECT bi_rebase();

------------------------------------------------------------------------
-- train / predict
------------------------------------------------------------------------
SELECT * FROM leadflow.train(NULL);
:check
SELECT * FROM leadflow.train('{}');
:check
SELECT * FROM leadflow.train('{NULL}');
:check
SELECT * FROM leadflow.train('{""}');
:check
SELECT * FROM leadflow.train('{{a},{b}}');
:check
SELECT * FROM leadflow.train('{country,country}');
:check
SELECT * FROM leadflow.train('{country}', NULL);
:check
SELECT * FROM leadflow.train('{country}', '');
:check
SELECT * FROM leadflow.train('{country}', :megabyte);
:check
-- 100,000 features: refused at once (it ran out of memory after 90 s)
SELECT * FROM leadflow.train((SELECT array_agg('f' || g) FROM generate_series(1, 100000) g));
:check
SELECT * FROM leadflow.train('{country}', :sqlish);   -- one outcome only
:check
SELECT leadflow.predict('{}');
:check
SELECT leadflow.predict('{}', :sqlish);
:check
SELECT leadflow.predict('[]');
:check
SELECT leadflow.predict('{}', NULL);   -- a NULL model name
:check
SELECT leadflow.predict(NULL);   -- no document: NULL
:accepted

------------------------------------------------------------------------
-- Business time: add_business_time, business_time_between, next_open,
-- next_touch
------------------------------------------------------------------------
\set h '''mon-fri 09:00-17:00 UTC''::leadflow.workhours'
SELECT leadflow.add_business_time('2026-03-09 14:00+00', '-1 hour', :h);
:check
SELECT leadflow.add_business_time('2026-03-09 14:00+00', '1 day -1 hour', :h);
:check
SELECT leadflow.add_business_time('2026-03-09 14:00+00', '1 month', :h);
:check
SELECT leadflow.add_business_time('2026-03-09 14:00+00', '2000000000 hours', 'mon 09:00-09:01 UTC');
:check
SELECT leadflow.add_business_time('2026-03-09 14:00+00', '0', :h),
       leadflow.add_business_time('infinity', '1 hour', :h),
       leadflow.add_business_time('-infinity', '1 hour', :h),
       leadflow.add_business_time('2026-03-09 14:00+00', '1 hour', NULL),
       leadflow.add_business_time('2026-03-09 14:00+00', '1 hour', :h, NULL),
       leadflow.add_business_time('2026-03-09 14:00+00', '1 hour', :h, '{NULL}'),
       leadflow.add_business_time('2026-03-09 14:00+00', '1 hour', :h, '{infinity,-infinity}');
:accepted
-- every day a holiday for 75 years: the answer is past them
SELECT leadflow.add_business_time('2026-03-09 14:00+00', '1 hour', :h,
           (SELECT array_agg(d::date) FROM generate_series('2026-01-01'::date, '2100-01-01', '1 day') d));
:accepted
SELECT leadflow.business_time_between('-infinity', 'infinity', :h);
:check
SELECT leadflow.business_time_between('2026-03-09 14:00+00', 'infinity', :h);
:check
SELECT leadflow.business_time_between('2026-03-10 14:00+00', '2026-03-09 14:00+00', :h),
       leadflow.business_time_between('4000-01-01', '290000-01-01', :h);
:accepted
SELECT leadflow.next_open('294276-12-31', :h);
:check
SELECT leadflow.next_open('infinity', :h), leadflow.next_open('-infinity', :h),
       leadflow.next_open('2026-03-09 14:00+00', NULL);
:accepted
SELECT leadflow.next_touch('call@0', -1, '2026-03-09 14:00+00', :h);
:check
SELECT leadflow.next_touch('call@0', 2147483647, '2026-03-09 14:00+00', :h),
       leadflow.next_touch('call@0', NULL, '2026-03-09 14:00+00', :h),
       leadflow.next_touch('call@0', 0, 'infinity', :h),
       leadflow.next_touch('call@0, call@1d', 1, '2026-03-09 14:00+00', :h, '{}', 'infinity'),
       leadflow.next_touch('call@0, call@1d', 1, '2026-03-09 14:00+00', :h, '{}', '-infinity');
:accepted

------------------------------------------------------------------------
-- leadflow.clock
------------------------------------------------------------------------
SET leadflow.clock = 'infinity';
:check
SET leadflow.clock = '-infinity';
:check
SET leadflow.clock = 'soon';
:check
SET leadflow.clock = :sqlish;
:check
SHOW leadflow.clock;
SELECT * FROM leadflow.sweep('infinity');
:check
SELECT * FROM leadflow.sweep('-infinity');
:check

------------------------------------------------------------------------
-- cadence and workhours literals
------------------------------------------------------------------------
SELECT ''::leadflow.cadence;
:check
SELECT 'call@-1h'::leadflow.cadence;
:check
SELECT 'call@99999999999d'::leadflow.cadence;
:check
SELECT 'call@0, email@0'::leadflow.cadence;
:check
SELECT 'fax@0'::leadflow.cadence;
:check
SELECT E'call@0\\0'::leadflow.cadence;
:check
SELECT 'call@0''; DROP TABLE leadflow.lead; --'::leadflow.cadence;
:check
-- a megabyte literal: the message quotes its first 200 bytes, not all
SELECT (repeat('call@1h, ', 100000) || 'call@1h')::leadflow.cadence;
:check
SELECT string_agg('call@' || g || 'm', ', ')::leadflow.cadence FROM generate_series(1, 101) g;
:check
SELECT (repeat('x', 1000000) || '@0')::leadflow.cadence;
:check
SELECT leadflow.cadence_named('nope');
:check
SELECT leadflow.cadence_named(:megabyte);
:check
SELECT leadflow.cadence_named(NULL);
:accepted
SELECT ''::leadflow.workhours;
:check
SELECT 'mon-fri 17:00-09:00 UTC'::leadflow.workhours;
:check
SELECT 'mon-fri 09:00-09:00 UTC'::leadflow.workhours;
:check
SELECT 'mon-fri 09:00-25:00 UTC'::leadflow.workhours;
:check
SELECT 'mon-fri 09:00-17:00'::leadflow.workhours;
:check
SELECT 'mon-fri 09:00-17:00 Mars/Olympus'::leadflow.workhours;
:check
SELECT 'mon-fri 09:00-17:00 UTC''; DROP TABLE x; --'::leadflow.workhours;
:check
SELECT ('mon-fri 09:00-17:00 ' || repeat('A', 1000000))::leadflow.workhours;
:check
SELECT ('mon-fri 09:00-17:00' || repeat('; mon 01:00-02:00', 100000) || ' UTC')::leadflow.workhours;
:check

------------------------------------------------------------------------
-- Configuration: rules (match shapes), queues, members, reps
------------------------------------------------------------------------
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '[]', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '"x"', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', 'null', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '5', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', NULL, 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"a": []}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"a": [{"b": 1}]}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"a": [1, [2]]}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"not": 1}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"not": ["a"]}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"x": {"not": "y"}}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{"x": {"y": {"z": []}}}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue)
    VALUES ('r', ('{"x''; DROP TABLE leadflow.lead; --": ' || repeat('{"a": ', 3000) || '[]' || repeat('}', 3001))::jsonb, 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES (NULL, '{}', 'q');
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{}', NULL);
:check
INSERT INTO leadflow.rule (name, match, queue) VALUES ('r', '{}', 'nope');
:check
INSERT INTO leadflow.rule (name, match, queue, action) VALUES ('r', '{}', 'q', 'drop');
:check
INSERT INTO leadflow.rule (name, match, queue, min_score, max_score) VALUES ('r', '{}', 'q', 10, 1);
:check
INSERT INTO leadflow.rule (name, match, queue, require_skills) VALUES ('r', '{}', 'q', NULL);
:check
UPDATE leadflow.rule SET match = '{"source": {"not": 1}}' WHERE name = 'all';
:check
-- A rule nested 10,000 deep: refused by the validator, not by the stack.
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (1, 'deep', (repeat('{"a": ', 10000) || '1' || repeat('}', 10000))::jsonb, 'q');
:check
INSERT INTO leadflow.rule (priority, name, match, queue)
    VALUES (1, 'deep', (repeat('{"not": ', 1000) || '{}' || repeat('}', 1000))::jsonb, 'q');
:check
-- Deep and large rules within bounds match in bounded time: a rule 1,000
-- levels deep against leads 10,000 deep, and a rule listing 100,000 values
-- against leads with 100,000 tags (10^10 comparisons pairwise, minutes;
-- the list is sorted and searched instead).
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'deep', (repeat('{"a": ', 1000) || '1' || repeat('}', 1000))::jsonb, 'q'),
    (2, 'many', (SELECT jsonb_build_object('tag', jsonb_agg(g)) FROM generate_series(1, 100000) g), 'q');
SELECT id, name FROM leadflow.rule WHERE name IN ('deep', 'many') ORDER BY id;
INSERT INTO leadflow.lead (attrs)
    VALUES ((repeat('{"a": ', 1000) || '1' || repeat('}', 1000))::jsonb),
           ((repeat('{"a": ', 10000) || '1' || repeat('}', 10000))::jsonb),
           ((SELECT jsonb_build_object('tag', jsonb_agg(-g)) FROM generate_series(1, 100000) g)),
           ((SELECT jsonb_build_object('tag', jsonb_agg(-g) || '[99999]') FROM generate_series(1, 100000) g))
    RETURNING id, owner_id;
SELECT l.id, r.name AS rule FROM leadflow.lead l
  JOIN leadflow.decision d ON d.lead_id = l.id JOIN leadflow.rule r ON r.id = d.rule_id
 WHERE l.id > (SELECT max(id) - 4 FROM leadflow.lead) ORDER BY l.id;
:accepted
-- the sorted search agrees with the pairwise one, types and all
SELECT leadflow.matches(jsonb_build_object('t', jsonb_agg(g::text) || '[true, null, 7.0, {"x": 1}]'),
                        (SELECT jsonb_build_object('t', jsonb_agg(w)) FROM generate_series(1, 40) w))
           AS "7.0 = 7",
       leadflow.matches(jsonb_build_object('t', jsonb_agg(g::text) || '[{"x": 1}, [1]]'),
                        (SELECT jsonb_build_object('t', jsonb_agg(-w)) FROM generate_series(1, 40) w))
           AS "strings are not numbers",
       leadflow.matches(jsonb_build_object('t', jsonb_agg(g) || '[null]'),
                        (SELECT jsonb_build_object('t', jsonb_agg(w::text) || '[false, null]') FROM generate_series(1, 40) w))
           AS "null = null",
       leadflow.matches(jsonb_build_object('t', jsonb_agg(g::text) || '["ab"]'),
                        (SELECT jsonb_build_object('t', jsonb_agg('a' || repeat('b', w))) FROM generate_series(2, 40) w))
           AS "ab is no prefix match"
  FROM generate_series(100, 200) g;
DELETE FROM leadflow.rule WHERE name IN ('deep', 'many');
SELECT bi_rebase();

INSERT INTO leadflow.queue (name) VALUES (NULL);
:check
INSERT INTO leadflow.queue (name) VALUES (' ');
:check
INSERT INTO leadflow.queue (name) VALUES (:megabyte);
:check
INSERT INTO leadflow.queue (name, first_touch_sla) VALUES ('q2', '-1 hour');
:check
INSERT INTO leadflow.queue (name, first_touch_sla) VALUES ('q2', '0');
:check
INSERT INTO leadflow.queue (name, first_touch_sla) VALUES ('q2', NULL);
:check
INSERT INTO leadflow.queue (name, touch_sla) VALUES ('q2', '1 month');
:check
INSERT INTO leadflow.queue (name, touch_sla) VALUES ('q2', '-1 day');
:check
INSERT INTO leadflow.queue (name, hold_for) VALUES ('q2', '-1 day');
:check
INSERT INTO leadflow.queue (name, hold_for) VALUES ('q2', '0');
:check
INSERT INTO leadflow.queue (name, hold_for) VALUES ('q2', '1 mon -30 days');
:check
INSERT INTO leadflow.queue (name, then_queue) VALUES ('q2', 'q');
:check
INSERT INTO leadflow.queue (name, max_reassignments) VALUES ('q2', -1);
:check
INSERT INTO leadflow.queue (name, strategy) VALUES ('q2', 'random');
:check
INSERT INTO leadflow.queue (name, cadence) VALUES ('q2', NULL);
:check
INSERT INTO leadflow.queue (name, escalate_to) VALUES ('q2', 'q2');
:check
INSERT INTO leadflow.queue (name, escalate_to) VALUES ('q2', 'nope');
:check
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 999);
:check
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('nope', 1);
:check
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('q', 1, 0);
:check
-- a queue named like SQL is just a name
INSERT INTO leadflow.queue (name) VALUES (:sqlish) RETURNING name;
:accepted

INSERT INTO leadflow.rep (name) VALUES (NULL);
:check
INSERT INTO leadflow.rep (name) VALUES ('  ');
:check
INSERT INTO leadflow.rep (name) VALUES ('Ada');
:check
-- over-long indexed names: refused by length, not by the index
INSERT INTO leadflow.rep (name) VALUES (:noise);
:check
INSERT INTO leadflow.rep (name, login) VALUES ('Z', repeat('l', 64));
:check
INSERT INTO leadflow.rep (name, hours) VALUES ('Z', NULL);
:check
INSERT INTO leadflow.rep (name, hours) VALUES ('Z', 'always');
:check
INSERT INTO leadflow.rep (name, max_open) VALUES ('Z', -1);
:check
INSERT INTO leadflow.rep (name, max_new_per_day) VALUES ('Z', NULL);
:check
INSERT INTO leadflow.rep (name, holidays) VALUES ('Z', NULL);
:check
INSERT INTO leadflow.rep (name, skills) VALUES ('Z', NULL);
:check
INSERT INTO leadflow.rep (id, name, manager_id) VALUES (50, 'Z', 50);
:check
INSERT INTO leadflow.rep (name, manager_id) VALUES ('Z', 999);
:check
-- NULL or infinite holidays, NULL skills, an away time at infinity, an
-- invalid email, a name of SQL: the rep is stored and routing copes
INSERT INTO leadflow.rep (id, name, holidays, skills, away_until, email) VALUES
    (10, :sqlish, '{NULL,infinity,-infinity}', '{NULL}', NULL, 'not an email'),
    (11, :quotes, '{}', '{}', 'infinity', NULL);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('odd', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('odd', 10), ('odd', 11);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'odd', '{"odd": true}', 'odd');
INSERT INTO leadflow.lead (attrs) VALUES ('{"odd": true}'), ('{"odd": true}')
    RETURNING id, owner_id, next_touch_at, sla_due_at;
SELECT rep_id, rep, eligible, reason FROM leadflow.explain(currval('leadflow.lead_id_seq'));
:accepted

------------------------------------------------------------------------
-- Nothing half-written, counters true, and the tally.
------------------------------------------------------------------------
SELECT * FROM leadflow.check_counters();
SELECT tried AS bad_inputs_tried, accepted AS handled, tried - accepted AS refused FROM bi_tally;

DROP VIEW bi_state;
DROP TABLE bi_before, bi_tally;
DROP FUNCTION bi_rebase(), bi_check(), bi_accept();
