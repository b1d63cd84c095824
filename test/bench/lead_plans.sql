-- An import row by row in one transaction, on a lead table ANALYZEd while
-- empty (sql/lead_plans.sql counts the scans this used to cost): n leads
-- (20,000; 5,000 with LEADFLOW_BENCH_SCALE=quick) each inserted by its own
-- statement, routed on insert, or inserted unrouted and then routed by
-- leadflow.route(id) (which reads the lead by id and writes its routing),
-- against the same single-row INSERTs into a table without leadflow's
-- triggers.  Each kind starts from an empty, freshly ANALYZEd table.
\pset footer off
\ir routing_setup.psql

SELECT CASE WHEN :'scale' = 'quick' THEN 5000 ELSE 20000 END AS n \gset

CREATE FUNCTION import_rows(target text, n int, tag text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r record;
    lead_id bigint;
BEGIN
    IF target = 'by id' THEN
        PERFORM set_config('leadflow.route_on_insert', 'off', true);
    END IF;
    FOR r IN SELECT * FROM bench_rows(n, tag) LOOP
        IF target = 'bare' THEN
            INSERT INTO bare_lead (email, source, campaign, country, attrs)
                VALUES (r.email, r.source, r.campaign, r.country, r.attrs);
        ELSE
            INSERT INTO leadflow.lead (email, source, campaign, country, attrs)
                VALUES (r.email, r.source, r.campaign, r.country, r.attrs) RETURNING id INTO lead_id;
            IF target = 'by id' THEN
                PERFORM leadflow.route(lead_id);
            END IF;
        END IF;
    END LOOP;
END $$;

SET client_min_messages = warning;   -- the TRUNCATEs' cascade notices
TRUNCATE bare_lead;
ANALYZE bare_lead;
INSERT INTO results SELECT 'bare', :n, timed(format('SELECT import_rows(%L, %s, %L)', 'bare', :n, 'a'));
TRUNCATE leadflow.lead CASCADE;
ANALYZE leadflow.lead;
INSERT INTO results SELECT 'routed on insert', :n, timed(format('SELECT import_rows(%L, %s, %L)', 'insert', :n, 'b'));
TRUNCATE leadflow.lead CASCADE;
ANALYZE leadflow.lead;
INSERT INTO results SELECT 'inserted, then route(id)', :n, timed(format('SELECT import_rows(%L, %s, %L)', 'by id', :n, 'c'));

\echo 'Single-row INSERTs in one transaction, lead table ANALYZEd empty:'
SELECT r.kind, r.leads,
       round(r.seconds::numeric, 2) AS seconds,
       round((r.leads / r.seconds)::numeric) AS leads_per_s,
       round((b.seconds / r.seconds)::numeric, 3) AS rate_vs_bare
  FROM results r JOIN results b ON b.kind = 'bare' AND b.leads = r.leads
 ORDER BY r.seconds;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
