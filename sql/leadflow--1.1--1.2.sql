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
-- END replication


-- BEGIN reference
-- Comments on every object come last, once every object exists.
-- END reference
