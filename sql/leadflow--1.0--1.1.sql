/* leadflow--1.0--1.1.sql: update leadflow 1.0 to 1.1 */

\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.1'" to load this file. \quit

-- There is no leadflow--1.1.sql: CREATE EXTENSION runs leadflow--1.0.sql and
-- then this script, so a fresh 1.1 and an updated 1.0 are built by the same
-- statements and cannot drift apart.
--
-- 1.1 adds row-level security for reps and the invariant check.

------------------------------------------------------------------------
-- BEGIN invariants
------------------------------------------------------------------------

-- END invariants

------------------------------------------------------------------------
-- BEGIN security
------------------------------------------------------------------------

-- END security
