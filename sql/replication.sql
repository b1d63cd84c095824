-- Replication: what makes leadflow safe on a hot standby and on a logical
-- subscriber, checked in the catalog and on this (primary) server.  The
-- standby and the subscribers themselves are in test/t/007-009.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET timezone = 'UTC';

------------------------------------------------------------------------
-- Every function that writes is refused at once where it cannot write.
------------------------------------------------------------------------
-- Each VOLATILE function of leadflow that is not a trigger (or a
-- trigger's WHEN clause, lead_row_inserted and lead_keys_checked) carries
-- leadflow.primary_only = its own name (none is listed: one that a later
-- update script creates or replaces without it shows up here).
SELECT p.oid::regprocedure AS function_without_the_standby_refusal
  FROM pg_proc p
 WHERE p.pronamespace = 'leadflow'::regnamespace
   AND p.provolatile = 'v'
   AND p.prorettype <> 'trigger'::regtype
   AND p.oid <> 'leadflow.lead_row_inserted(bigint, tid)'::regprocedure
   AND p.proname <> 'lead_keys_checked'
   AND NOT coalesce('leadflow.primary_only=leadflow.' || p.proname = ANY (p.proconfig), false)
 ORDER BY 1;
-- ... and no read-only function does: they must work on a standby.
SELECT p.oid::regprocedure AS read_only_function_refused_on_standbys
  FROM pg_proc p
 WHERE p.pronamespace = 'leadflow'::regnamespace
   AND p.provolatile <> 'v'
   AND EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'leadflow.primary_only=%')
 ORDER BY 1;

-- On a primary the same check refuses them in a read-only transaction,
-- before they read anything (lead 999999 does not exist: the refusal
-- comes first).
BEGIN READ ONLY;
SELECT leadflow.route(999999);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN READ ONLY;
SELECT * FROM leadflow.sweep();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SET default_transaction_read_only = on;
SELECT leadflow.log_touch(999999, 'call', 'not_reached');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM leadflow.train(ARRAY['source']);
\echo :LAST_ERROR_SQLSTATE
-- Reading works there as usual.
SELECT count(*) AS invariant_violations FROM leadflow.check_invariants();
SELECT count(*) >= 0 AS reports_read FROM leadflow.rep_pipeline;
RESET default_transaction_read_only;
-- In a read-write transaction the function runs (and says the lead is unknown).
SELECT leadflow.route(999999);

-- The setting itself switches nothing: set by hand it does nothing on a
-- primary, and it is not for configuration files.
SET leadflow.primary_only = 'leadflow.route';
SELECT count(*) >= 0 AS still_reads FROM leadflow.lead;
RESET leadflow.primary_only;
ALTER SYSTEM SET leadflow.primary_only = 'x';
SHOW leadflow.primary_only;

------------------------------------------------------------------------
-- The caches' invalidation triggers fire on a logical subscriber too: the
-- apply worker runs with session_replication_role = replica and fires row
-- triggers only.  A: always (statement); R: only where rows are
-- replicated (row).
------------------------------------------------------------------------
SELECT c.relname, t.tgname, t.tgenabled,
       CASE WHEN t.tgtype & 1 = 1 THEN 'row' ELSE 'statement' END AS level
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'leadflow'::regnamespace
   AND t.tgname IN ('config_changed', 'config_replicated')
 ORDER BY 1, 2;

------------------------------------------------------------------------
-- analytics_ddl(): the schema a subscriber without leadflow needs.
------------------------------------------------------------------------
SELECT r.rolname, has_function_privilege(r.rolname, 'leadflow.analytics_ddl()', 'EXECUTE') AS can
  FROM pg_roles r
 WHERE r.rolname IN ('leadflow_admin', 'leadflow_manager', 'leadflow_rep')
 ORDER BY 1;
SELECT has_function_privilege('public', 'leadflow.analytics_ddl()', 'EXECUTE') AS public_can;
-- None of leadflow's C types is left in it (they do not exist there) ...
SELECT regexp_matches(leadflow.analytics_ddl(), 'leadflow\.(cadence|workhours|candidate_list)\M', 'g')
    AS c_type_left;
-- ... every table is there with its primary key ...
SELECT c.relname AS table_missing
  FROM pg_class c
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
   AND strpos(leadflow.analytics_ddl(), format('CREATE TABLE leadflow.%I (', c.relname)) = 0;
SELECT count(*) AS tables, count(*) FILTER (WHERE m[2] ~ 'PRIMARY KEY') AS with_primary_key
  FROM regexp_matches(leadflow.analytics_ddl(), 'CREATE TABLE leadflow\.(\w+) \(([^;]*)\);', 'g') m;
-- ... with the C types' columns as text (candidates as jsonb) ...
SELECT m[1] AS column_definition
  FROM regexp_matches(leadflow.analytics_ddl(),
                      '\n    ((hours|cadence|candidates) \w+)', 'g') m
 ORDER BY 1;
-- ... and the reporting views that need business time or cadences (C)
-- are left out.
SELECT v.relname AS view_left_out
  FROM pg_class v
 WHERE v.relnamespace = 'leadflow'::regnamespace AND v.relkind = 'v'
   AND strpos(leadflow.analytics_ddl(), format('CREATE VIEW leadflow.%I AS', v.relname)) = 0
 ORDER BY 1;
