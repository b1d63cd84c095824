-- The sweep reads the ledger once per batch, whatever the number of its
-- leads, also when the ledger was ANALYZEd while empty.  A look-up saved
-- per lead ran once per lead and, with those statistics, settled on a
-- plan that scans the whole ledger: minutes for a hundred thousand leads
-- once the ledger is large.  Counted in scans of the ledger, not timed.
SET timezone = 'UTC';
SET search_path = pg_catalog, public, leadflow, pg_temp;
SET leadflow.clock = '2026-03-09 09:00:00+00';   -- Monday, opening time
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (4, 'Mia', 100);
INSERT INTO leadflow.rep (id, name, manager_id, max_new_per_day)
    VALUES (1, 'Ana', 4, 100), (2, 'Ben', 4, 100), (3, 'Cy', 4, 100);
INSERT INTO leadflow.queue (name, sticky_account, max_reassignments) VALUES ('inside', false, 5);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('inside', 1), ('inside', 2), ('inside', 3);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'inside');

ANALYZE leadflow.decision;   -- while it is empty
INSERT INTO leadflow.lead (email) SELECT 'l' || g || '@x.test' FROM generate_series(1, 40) g;

-- One batch of 40 leads, each lead passing over its previous owner.
SET leadflow.sweep_batch_size = 40;
CREATE FUNCTION pg_temp.ledger_seq_scans() RETURNS bigint LANGUAGE sql
    AS $$SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = 'leadflow.decision'::regclass$$;
BEGIN;   -- the counts of this transaction's scans only grow until it ends
SELECT pg_temp.ledger_seq_scans() AS scans_before \gset
SELECT * FROM leadflow.sweep('2026-03-09 10:01:00+00') WHERE leads > 0;
SELECT pg_temp.ledger_seq_scans() - :scans_before <= 1 AS ledger_scanned_at_most_once_per_batch;
COMMIT;
-- Again an hour later, with two previous owners each: the third rep.
BEGIN;   -- the counts of this transaction's scans only grow until it ends
SELECT pg_temp.ledger_seq_scans() AS scans_before \gset
SELECT * FROM leadflow.sweep('2026-03-09 11:02:00+00') WHERE leads > 0;
SELECT pg_temp.ledger_seq_scans() - :scans_before <= 1 AS ledger_scanned_at_most_once_per_batch;
COMMIT;
-- The backlog the same way: route_pending reads the ledger once for its
-- batch.  Twenty leads wait in a queue nobody is in yet.
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('later', false);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (0, 'later', '{"campaign": "later"}', 'later');
INSERT INTO leadflow.lead (email, campaign) SELECT 'w' || g || '@x.test', 'later' FROM generate_series(1, 20) g;
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('later', 1), ('later', 2);
BEGIN;
SELECT pg_temp.ledger_seq_scans() AS scans_before \gset
SELECT leadflow.route_pending(100) AS routed;
SELECT pg_temp.ledger_seq_scans() - :scans_before <= 1 AS ledger_scanned_at_most_once_per_batch;
COMMIT;
SELECT count(*) AS moved_to_a_previous_owner FROM leadflow.decision d
 WHERE d.kind = 'reassign_sla' AND EXISTS
       (SELECT FROM leadflow.decision e
         WHERE e.lead_id = d.lead_id AND e.id < d.id AND d.to_rep IN (e.from_rep, e.to_rep));
SELECT reassignments, count(*) FROM leadflow.lead GROUP BY 1 ORDER BY 1;
SELECT * FROM leadflow.check_counters();
SELECT * FROM leadflow.check_invariants();

RESET leadflow.sweep_batch_size;
RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
