-- The decision ledger's compact candidate lists (leadflow.candidate_list):
-- the same JSON as before, jsonb operators through the implicit cast, strict
-- input for restores, binary I/O, and decisions written in batches that
-- keep their order and go away with a rolled-back statement.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';

SELECT atttypid::regtype FROM pg_attribute
 WHERE attrelid = 'leadflow.decision'::regclass AND attname = 'candidates';

-- routing.sql left decisions behind: every list reads back to itself
-- through text and through jsonb.
SELECT count(*) AS decisions_with_candidates,
       bool_and(candidates::text::leadflow.candidate_list::text = candidates::text) AS text_round_trip,
       bool_and(candidates::jsonb::leadflow.candidate_list::text = candidates::text) AS jsonb_round_trip,
       bool_and(leadflow.candidate_count(candidates) = jsonb_array_length(candidates)) AS counts_agree
  FROM leadflow.decision WHERE candidates IS NOT NULL;

-- jsonb functions and operators take the column as it is.
SELECT d.id, candidates -> 0 ->> 'rep' AS first_rep,
       jsonb_path_query_array(candidates, '$[*] ? (@.chosen == true).rep') AS chosen,
       (SELECT count(*) FROM jsonb_array_elements(d.candidates) c WHERE c ->> 'reason' = 'not_picked') AS not_picked
  FROM leadflow.decision d WHERE candidates IS NOT NULL ORDER BY id LIMIT 3;

-- Binary COPY round trip.
CREATE TEMP TABLE lists AS SELECT id, candidates FROM leadflow.decision WHERE candidates IS NOT NULL;
COPY lists TO '/tmp/leadflow_regress_candidates.bin' (FORMAT binary);
CREATE TEMP TABLE lists_back (LIKE lists);
COPY lists_back FROM '/tmp/leadflow_regress_candidates.bin' (FORMAT binary);
SELECT count(*) AS rows_back,
       bool_and(a.candidates::text = b.candidates::text) AS same
  FROM lists a JOIN lists_back b USING (id);

-- Input is strict: what a restore or a hand-written list must look like.
SELECT '{"rep": 1}'::leadflow.candidate_list;
SELECT '[1]'::leadflow.candidate_list;
SELECT '[{"rep": 1}]'::leadflow.candidate_list;
SELECT '[{"rep": 1, "open": 0, "chosen": true, "reason": "bribed", "weight": 1, "eligible": true, "max_open": 5, "new_today": 0, "max_new_per_day": 5}]'::leadflow.candidate_list;
SELECT '[{"rep": 1.5, "open": 0, "chosen": true, "reason": null, "weight": 1, "eligible": true, "max_open": 5, "new_today": 0, "max_new_per_day": 5}]'::leadflow.candidate_list;
SELECT '[{"rep": 3000000000, "open": 0, "chosen": true, "reason": null, "weight": 1, "eligible": true, "max_open": 5, "new_today": 0, "max_new_per_day": 5}]'::leadflow.candidate_list;
SELECT '[{"rep": 1, "open": 0, "chosen": "yes", "reason": null, "weight": 1, "eligible": true, "max_open": 5, "new_today": 0, "max_new_per_day": 5}]'::leadflow.candidate_list;
SELECT 'not json'::leadflow.candidate_list;
SELECT '[]'::leadflow.candidate_list AS empty,
       '[{"rep": 7, "open": 2, "chosen": false, "reason": "at_max_open", "weight": 3, "eligible": false, "max_open": 2, "new_today": 1, "max_new_per_day": 9}]'::leadflow.candidate_list AS one;

-- Decisions of one statement are written at its end, in routing order,
-- one per lead.
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
INSERT INTO leadflow.rep (id, name, max_new_per_day) VALUES (1, 'Ada', 100), (2, 'Bob', 100);
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ('ledger_rr', 'round_robin', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('ledger_rr', 1), ('ledger_rr', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'ledger_rr');
INSERT INTO leadflow.lead (email) SELECT 'l' || g || '@example.org' FROM generate_series(1, 2500) g;
SELECT count(*) AS decisions, count(DISTINCT lead_id) AS leads,
       bool_and(lead_id = id) AS in_lead_order,
       bool_and(to_rep = (SELECT owner_id FROM leadflow.lead l WHERE l.id = d.lead_id)) AS names_owner
  FROM leadflow.decision d;

-- A statement that fails takes its decisions with it; one that succeeds
-- after a rolled-back savepoint keeps only its own.
BEGIN;
SAVEPOINT s;
INSERT INTO leadflow.lead (email) SELECT 'm' || g || '@example.org' FROM generate_series(1, 1500) g;
ROLLBACK TO SAVEPOINT s;
INSERT INTO leadflow.lead (email) VALUES ('kept@example.org');
COMMIT;
INSERT INTO leadflow.lead (email, value)
    SELECT 'n' || g || '@example.org', CASE WHEN g = 1200 THEN -1 END FROM generate_series(1, 1300) g;
SELECT count(*) AS decisions, count(*) FILTER (WHERE lead_id > 2500) AS after_the_first_batch
  FROM leadflow.decision;
SELECT * FROM leadflow.check_counters();

-- A user's trigger that writes leads inside an exception block runs a
-- nested statement, whose end writes the ledger; when the block then
-- rolls back, the decisions of the statement that fired the trigger must
-- survive, and those of the rolled-back leads must not.
CREATE FUNCTION public.refer_and_regret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO leadflow.lead (email, source) VALUES ('regret-' || NEW.id || '@example.org', 'inner');
        RAISE EXCEPTION 'changed my mind';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    RETURN NULL;
END;
$$;
UPDATE leadflow.rep SET max_new_per_day = 10000;
CREATE TRIGGER refer_and_regret AFTER INSERT ON leadflow.lead
    FOR EACH ROW WHEN (NEW.source = 'outer') EXECUTE FUNCTION public.refer_and_regret();
INSERT INTO leadflow.lead (email, source) SELECT 'outer' || g || '@example.org', 'outer' FROM generate_series(1, 3) g;
DROP TRIGGER refer_and_regret ON leadflow.lead;
DROP FUNCTION public.refer_and_regret();
SELECT l.email, l.owner_id IS NOT NULL AS owned,
       (SELECT count(*) FROM leadflow.decision d WHERE d.lead_id = l.id) AS decisions
  FROM leadflow.lead l WHERE l.source IN ('outer', 'inner') ORDER BY l.id;
SELECT count(*) AS decisions_of_rolled_back_leads
  FROM leadflow.decision d WHERE NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = d.lead_id);
SELECT * FROM leadflow.check_invariants();
SELECT * FROM leadflow.check_counters();
