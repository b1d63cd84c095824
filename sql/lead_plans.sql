-- Per-lead look-ups of leadflow.lead by id, and the write of a lead's
-- routing, once a transaction has run them while the table was small:
-- saved statements settled there on a generic plan that scans the whole
-- lead table, and kept it while one long transaction (an import routing
-- row by row) made the table large.  Counted in scans of the lead table
-- within one transaction, not timed.
SET timezone = 'UTC';
SET search_path = pg_catalog, public, leadflow, pg_temp;
SET leadflow.clock = '2026-03-09 09:00:00+00';   -- Monday, opening time
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (4, 'Mia', 100000);
INSERT INTO leadflow.rep (id, name, manager_id, max_new_per_day)
    VALUES (1, 'Ana', 4, 100000), (2, 'Ben', 4, 100000), (3, 'Cy', 4, 100000);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('inside', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('inside', 1), ('inside', 2), ('inside', 3);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'inside');
-- leads of campaign 'later' wait in a queue nobody is in
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('later', false);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (0, 'later', '{"campaign": "later"}', 'later');

CREATE ROLE lp_rep IN ROLE leadflow_rep;
UPDATE leadflow.rep SET login = 'lp_rep' WHERE id = 1;

ANALYZE leadflow.lead;   -- while it is empty
CREATE FUNCTION pg_temp.lead_seq_scans() RETURNS bigint LANGUAGE sql
    AS $$SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'leadflow.lead'::regclass$$;
-- Each path run ten times, counting the scans of the lead table; the
-- paths after the first take the ten leads it inserted (and routed).
CREATE FUNCTION pg_temp.run_paths(run text) RETURNS TABLE (path text, scans bigint)
LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    i int;
    first bigint;
    p text[];
BEGIN
    s := pg_temp.lead_seq_scans();
    FOR i IN 0 .. 9 LOOP
        INSERT INTO leadflow.lead (email) VALUES ('s' || run || '-' || i || '@x.test');
    END LOOP;
    first := currval('leadflow.lead_id_seq') - 9;
    path := 'single-row INSERT'; scans := pg_temp.lead_seq_scans() - s; RETURN NEXT;
    s := pg_temp.lead_seq_scans();
    FOR i IN 0 .. 9 LOOP
        INSERT INTO leadflow.lead (email, campaign) VALUES ('w' || run || '-' || i || '@x.test', 'later');
        PERFORM leadflow.route(currval('leadflow.lead_id_seq'));
    END LOOP;
    path := 'route(id) of a waiting lead'; scans := pg_temp.lead_seq_scans() - s; RETURN NEXT;
    FOREACH p SLICE 1 IN ARRAY ARRAY[
        ['route(id) of an owned lead', 'SELECT leadflow.route(%s)'],
        ['explain(id)', 'SELECT count(*) FROM leadflow.explain(%s)'],
        ['assign(id)', 'SELECT leadflow.assign(%1$s, 1 + %1$s %% 3, ''test'')'],
        ['rescore(id)', 'SELECT leadflow.rescore(%s)'],
        ['touch of a lead', 'INSERT INTO leadflow.touch (lead_id, channel, outcome) VALUES (%s, ''call'', ''connected'')'],
        ['rejected by hand', 'UPDATE leadflow.lead SET stage = ''rejected'', reject_reason = ''test'' WHERE id = %s'],
        ['reopen(id)', 'SELECT leadflow.reopen(%s, ''test'')']]
    LOOP
        s := pg_temp.lead_seq_scans();
        FOR i IN 0 .. 9 LOOP
            EXECUTE format(p[2], first + i);
        END LOOP;
        path := p[1]; scans := pg_temp.lead_seq_scans() - s; RETURN NEXT;
    END LOOP;
    -- a duplicate of a lead with no account: the account of the lead it
    -- duplicates is looked up (free-mail domains make no account)
    FOR i IN 0 .. 9 LOOP
        INSERT INTO leadflow.lead (email) VALUES ('f' || run || '-' || i || '@gmail.com');
    END LOOP;
    s := pg_temp.lead_seq_scans();
    FOR i IN 0 .. 9 LOOP
        INSERT INTO leadflow.lead (email) VALUES ('f' || run || '-' || i || '@gmail.com');
    END LOOP;
    path := 'duplicate INSERT'; scans := pg_temp.lead_seq_scans() - s; RETURN NEXT;
    -- a rep gives its lead another email: is it another owner's prospect?
    first := (SELECT min(id) FROM leadflow.lead WHERE owner_id = 1);
    SET LOCAL ROLE lp_rep;
    s := pg_temp.lead_seq_scans();
    FOR i IN 0 .. 9 LOOP
        EXECUTE format('UPDATE leadflow.lead SET email = %L WHERE id = %s', 'r' || run || '-' || i || '@x.test', first);
    END LOOP;
    path := 'email changed by a rep'; scans := pg_temp.lead_seq_scans() - s; RETURN NEXT;
    RESET ROLE;
END $$;

-- On a large table no path scans it: not leadflow's look-ups, nor
-- PostgreSQL's own foreign-key checks of the lead (touch.lead_id,
-- stage_history.lead_id, decision.lead_id), saved plans of its own that
-- leadflow makes it plan again by invalidating the lead table's cache
-- entry once the table has doubled (spi_plans.c).
BEGIN;   -- the counts of this transaction's scans only grow until it ends
-- while the table is small: each path runs more than five times
SELECT * FROM pg_temp.run_paths('small');
-- the import goes on: the table is large now
INSERT INTO leadflow.lead (email, campaign)
    SELECT 'b' || g || '@x.test', 'later' FROM generate_series(1, 3000) g;
SELECT * FROM pg_temp.run_paths('large');
COMMIT;
SELECT count(*) AS leads, count(owner_id) AS owned FROM leadflow.lead;
SELECT * FROM leadflow.check_counters();
SELECT * FROM leadflow.check_invariants();

UPDATE leadflow.rep SET login = NULL WHERE id = 1;
DROP ROLE lp_rep;
RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
