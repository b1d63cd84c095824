-- What the configuration audit costs (issue 19): routing, which it must
-- not slow (it writes only on configuration changes), measured with the
-- audit's triggers on and off in the same run, on the routing_bulk
-- workload with a new account for every lead (the worst case: the only
-- audit trigger on routing's path is the WHEN test on account INSERTs);
-- the configuration changes themselves (an UPDATE of 200 reps, with and
-- without the audit); and config_as_of over a long history.
\pset footer off
\ir routing_setup.psql

SELECT CASE WHEN :'scale' = 'quick' THEN 2000 ELSE 5000 END AS n,
       CASE WHEN :'scale' = 'quick' THEN 4 ELSE 8 END AS rounds \gset

-- Every lead of its own company: each one creates an account.
CREATE FUNCTION new_domain_rows(n int, tag text)
RETURNS TABLE (email text, source text, campaign text, country text, attrs jsonb)
LANGUAGE sql AS $$
    SELECT 'p' || g || '@' || tag || g || '.example', r.source, r.campaign, r.country, r.attrs
      FROM generate_series(1, n) g, LATERAL (SELECT * FROM bench_rows(1) b) r
$$;
-- The audit's triggers on the account table, on or off.
CREATE FUNCTION account_audit(on_off boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['config_audit_insert', 'config_audit_update', 'config_audit_delete',
                             'config_audit_statement'] LOOP
        EXECUTE format('ALTER TABLE leadflow.account %s TRIGGER %I',
                       CASE WHEN on_off THEN 'ENABLE' ELSE 'DISABLE' END, t);
    END LOOP;
END $$;

-- Warm up caches and plans (not counted), then alternate on and off,
-- round after round (the machine is noisy: the medians are compared).
INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM new_domain_rows(500, 'w');
CHECKPOINT;
SET bench.n = :n;
CREATE TEMP TABLE round_plan AS
SELECT row_number() OVER (ORDER BY r, NOT audit) AS k, 'r' || r || CASE WHEN audit THEN 'on' ELSE 'off' END AS tag, audit
  FROM generate_series(1, :rounds) r, unnest(ARRAY[true, false]) audit;
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT * FROM round_plan ORDER BY k LOOP
        PERFORM account_audit(p.audit);
        INSERT INTO results
        SELECT CASE WHEN p.audit THEN 'routed, audit on' ELSE 'routed, audit off' END,
               current_setting('bench.n')::int,
               timed(format($f$INSERT INTO leadflow.lead (email, source, campaign, country, attrs)
                               SELECT * FROM new_domain_rows(%s, %L)$f$, current_setting('bench.n'), p.tag));
    END LOOP;
    PERFORM account_audit(true);
END $$;

\echo 'Bulk INSERT ... SELECT, a new account per lead, the audit''s account triggers on and off (median of the rounds):'
SELECT kind, count(*) AS rounds, sum(leads) AS leads,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric, 3) AS median_seconds,
       round((max(leads) / percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric) AS leads_per_s,
       round(((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FROM results WHERE kind = 'routed, audit off')
              / percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric, 3) AS rate_vs_audit_off
  FROM results WHERE kind LIKE 'routed%' GROUP BY kind ORDER BY kind DESC;
SELECT count(*) AS accounts, (SELECT count(*) FROM leadflow.config_change WHERE table_name = 'account') AS audited
  FROM leadflow.account;
SELECT count(*) AS decisions, count(*) FILTER (WHERE config_version = leadflow.current_config_version()) AS named_current
  FROM leadflow.decision;

-- A configuration change itself: one UPDATE of 200 reps, 20 times, with
-- and without the audit on rep.
CREATE FUNCTION rep_audit(on_off boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE leadflow.rep %1$s TRIGGER config_audit, %1$s TRIGGER config_audit_statement',
                   CASE WHEN on_off THEN 'ENABLE' ELSE 'DISABLE' END);
END $$;
INSERT INTO results SELECT 'UPDATE 200 reps, audit on', 4000,
    timed($$DO 'BEGIN FOR i IN 1..20 LOOP UPDATE leadflow.rep SET max_open = max_open + 1; END LOOP; END'$$);
SELECT rep_audit(false);
INSERT INTO results SELECT 'UPDATE 200 reps, audit off', 4000,
    timed($$DO 'BEGIN FOR i IN 1..20 LOOP UPDATE leadflow.rep SET max_open = max_open + 1; END LOOP; END'$$);
SELECT rep_audit(true);
\echo 'A configuration change (20 UPDATEs of 200 reps):'
SELECT kind, leads AS rows, round((seconds * 1e6 / leads)::numeric, 1) AS us_per_row
  FROM results WHERE kind LIKE 'UPDATE%' ORDER BY kind;

-- config_as_of over a history of 10,000 weight changes (quick: 2,000): each
-- member's weight changes every 200.
INSERT INTO results SELECT 'weight changes', CASE WHEN :'scale' = 'quick' THEN 2000 ELSE 10000 END,
    timed(format($$DO 'BEGIN FOR i IN 1..%s LOOP
                            UPDATE leadflow.queue_member SET weight = 1 + (i / 200) %% 5
                             WHERE rep_id = 1 + i %% 200;
                        END LOOP; END'$$, CASE WHEN :'scale' = 'quick' THEN 2000 ELSE 10000 END));
INSERT INTO results SELECT 'config_as_of(now): every row', (SELECT count(*) FROM leadflow.config_change),
    timed($$SELECT count(*) FROM leadflow.config_as_of('infinity')$$);
INSERT INTO results SELECT 'config_as_of(now, queue_member)', (SELECT count(*) FROM leadflow.config_change),
    timed($$SELECT count(*) FROM leadflow.config_as_of('infinity', NULL::leadflow.queue_member)$$);
\echo 'config_as_of over the audit (rows = audit rows read):'
SELECT kind, leads AS audit_rows, round((seconds * 1000)::numeric, 1) AS ms
  FROM results WHERE kind LIKE 'config_as_of%' ORDER BY kind;
SELECT count(*) AS differ FROM (
    (SELECT * FROM leadflow.queue_member EXCEPT SELECT * FROM leadflow.config_as_of('infinity', NULL::leadflow.queue_member))
    UNION ALL
    (SELECT * FROM leadflow.config_as_of('infinity', NULL::leadflow.queue_member) EXCEPT SELECT * FROM leadflow.queue_member)) x;
