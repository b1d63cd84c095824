-- leadflow 1.1 -> 1.2
\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.2'" to load this file. \quit

-- There is no leadflow--1.2.sql: CREATE EXTENSION runs leadflow--1.0.sql,
-- leadflow--1.0--1.1.sql and then this script, so a fresh 1.2 and an
-- updated 1.0 or 1.1 are built by the same statements and cannot drift
-- apart (test/t/006_upgrade_objects.pl compares them object by object).
--
-- Every function this script creates or replaces pins
--     SET search_path = pg_catalog, leadflow, pg_temp
-- (pg_temp last, so that nothing a role creates in its temporary schema can
-- shadow what leadflow means), and names the schema of what it uses.
--
-- The script is kept in sections, one per concern, each between its BEGIN
-- and END lines; a section may use what an earlier one made.

-- BEGIN security
-- END security


-- BEGIN write_paths
-- END write_paths


-- BEGIN adoption
-- END adoption


-- BEGIN operations
-- END operations


-- BEGIN code_map
-- END code_map


-- BEGIN policy
-- END policy


-- BEGIN scoring
-- END scoring


-- BEGIN performance
-- END performance


-- BEGIN replication
-- Streaming standbys and logical replication (docs/replication.md).

-- Writing functions are refused at once where they cannot write.  Each
-- carries leadflow.primary_only = its name: entering it sets the setting,
-- whose check hook (src/standby.c) fails with SQLSTATE 25006 on a hot
-- standby (hint: the primary) and in a read-only transaction, before the
-- body has read or computed anything.  The rule: every VOLATILE leadflow
-- function that is not a trigger writes, and carries it; a function that
-- only reads must be STABLE (or IMMUTABLE) to serve on standbys.  Today
-- these are route, route_pending, assign, reopen, sweep, log_touch,
-- acknowledge_alert, merge, rescore, train, schedule_sweep and
-- unschedule_sweep; taken from the catalog, so that a writer another
-- section adds or re-signs is covered too.  Triggers need none:
-- PostgreSQL refuses the INSERT or UPDATE that would fire them.  Done
-- here, near the end: a CREATE OR REPLACE in an earlier section resets a
-- function's settings.  sql/replication.sql checks the rule.
DO $$
DECLARE
    writer record;
BEGIN
    FOR writer IN
        SELECT p.oid::pg_catalog.regprocedure AS signature, p.proname
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'leadflow'::pg_catalog.regnamespace
           AND p.provolatile = 'v'
           AND p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
         ORDER BY p.oid
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET leadflow.primary_only = %L',
                                  writer.signature, 'leadflow.' || writer.proname);
    END LOOP;
END;
$$;

-- The per-backend caches (routing configuration, scoring rules, models)
-- are dropped by a relcache invalidation that config_changed sends.  On a
-- streaming standby it arrives with the replayed commit.  On a logical
-- subscriber with leadflow installed, rows are applied with
-- session_replication_role = replica, where ordinary triggers do not
-- fire, and the apply worker fires row triggers only (its initial copy
-- and a replicated TRUNCATE fire statement triggers).  So config_changed
-- fires ALWAYS, and a row-level twin fires where rows are replicated
-- (REPLICA: never on the primary, which the statement trigger serves):
-- the subscriber's caches follow the configuration it receives.  The
-- trigger only sends the invalidation, so firing it there is safe.
DO $$
DECLARE
    config_table text;
BEGIN
    FOREACH config_table IN ARRAY ARRAY['rep', 'queue', 'queue_member', 'rule', 'freemail_domain',
                                        'country_calling_code', 'scoring_rule', 'model'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.%I ENABLE ALWAYS TRIGGER config_changed',
                                  config_table);
        EXECUTE pg_catalog.format('CREATE TRIGGER config_replicated AFTER INSERT OR UPDATE OR DELETE'
                                  ' ON leadflow.%I FOR EACH ROW EXECUTE FUNCTION leadflow.config_changed()',
                                  config_table);
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.%I ENABLE REPLICA TRIGGER config_replicated',
                                  config_table);
    END LOOP;
END;
$$;

-- The schema an analytics database needs to subscribe to leadflow's
-- tables without leadflow installed, as one SQL script: the enum types,
-- every table with its primary key (leadflow's C types as text --
-- candidate_list as jsonb -- which logical replication fills from their
-- text form), the helpers the reports call (leadflow.now() is the
-- subscriber's now(); workhours_zone reads the zone off the schedule's
-- text), the reporting views that need nothing else (business time and
-- cadences stay in leadflow: speed_to_lead and work_list are left out)
-- and leads_needed.  Generated from the catalog, so it follows the
-- installed version's columns.
CREATE FUNCTION leadflow.analytics_ddl() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    ns oid := 'leadflow'::pg_catalog.regnamespace;
    -- the functions of leadflow a copied view may call
    portable text[] := ARRAY['now', 'rate', 'minutes', 'workhours_zone'];
    ddl text[] := ARRAY['CREATE SCHEMA IF NOT EXISTS leadflow;'];
BEGIN
    -- leadflow off the path for the rest of the call (the function's own
    -- SET restores it), so that format_type, pg_get_viewdef and
    -- pg_get_functiondef write leadflow's names schema-qualified
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    ddl := ddl || ARRAY(
        SELECT pg_catalog.format('CREATE TYPE leadflow.%I AS ENUM (%s);', t.typname,
                   (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '
                                                 ORDER BY e.enumsortorder)
                      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid))
          FROM pg_catalog.pg_type t
         WHERE t.typnamespace = ns AND t.typtype = 'e'
         ORDER BY t.typname);
    ddl := ddl || ARRAY(
        SELECT pg_catalog.format(E'CREATE TABLE leadflow.%I (\n    %s%s\n);', c.relname,
                   (SELECT pg_catalog.string_agg(
                               pg_catalog.format('%I %s', a.attname,
                                   CASE WHEN t.typnamespace = ns AND t.typtype = 'b'
                                        THEN CASE WHEN t.typname = 'candidate_list' THEN 'jsonb' ELSE 'text' END
                                        WHEN et.typnamespace = ns AND et.typtype = 'b' THEN 'text[]'
                                        ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END),
                               E',\n    ' ORDER BY a.attnum)
                      FROM pg_catalog.pg_attribute a
                      JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                      LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem AND t.typlen = -1
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                   (SELECT E',\n    ' || pg_catalog.pg_get_constraintdef(k.oid)
                      FROM pg_catalog.pg_constraint k
                     WHERE k.conrelid = c.oid AND k.contype = 'p'))
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = ns AND c.relkind = 'r'
         ORDER BY c.relname);
    ddl := ddl || ARRAY[
        'CREATE FUNCTION leadflow.now() RETURNS timestamptz LANGUAGE sql STABLE'
            || ' AS $f$ SELECT pg_catalog.now() $f$;',
        'CREATE FUNCTION leadflow.workhours_zone(h text) RETURNS text LANGUAGE sql IMMUTABLE'
            || ' AS $f$ SELECT pg_catalog.substring(h, ''\S+$'') $f$;'];
    ddl := ddl || ARRAY(
        SELECT pg_catalog.pg_get_functiondef(p.oid) || ';'
          FROM pg_catalog.pg_proc p
         WHERE p.oid IN ('leadflow.rate(bigint, bigint)'::pg_catalog.regprocedure,
                         'leadflow.minutes(timestamptz, timestamptz)'::pg_catalog.regprocedure,
                         'leadflow.leads_needed(integer, text)'::pg_catalog.regprocedure)
         ORDER BY p.oid);
    ddl := ddl || ARRAY(
        SELECT pg_catalog.format(E'CREATE VIEW leadflow.%I AS\n%s', v.relname,
                                 pg_catalog.pg_get_viewdef(v.oid))
          FROM pg_catalog.pg_class v
         WHERE v.relnamespace = ns AND v.relkind = 'v'
           AND NOT EXISTS (
               SELECT FROM pg_catalog.pg_rewrite r
                 JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                                            AND d.objid = r.oid
                                            AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                 JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
                WHERE r.ev_class = v.oid AND p.pronamespace = ns
                  AND NOT p.proname = ANY (portable))
         ORDER BY v.oid);
    RETURN pg_catalog.array_to_string(ddl, E'\n') || E'\n';
END;
$$;
COMMENT ON FUNCTION leadflow.analytics_ddl() IS
    'The SQL that prepares a database without leadflow to subscribe to leadflow''s tables and run the reports (docs/replication.md).';
REVOKE ALL ON FUNCTION leadflow.analytics_ddl() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.analytics_ddl() TO leadflow_admin;
-- END replication


-- BEGIN reference
-- Comments on every object come last, once every object exists.
-- END reference
