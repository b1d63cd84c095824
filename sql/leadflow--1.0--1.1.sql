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

------------------------------------------------------------------------
-- BEGIN bad input
------------------------------------------------------------------------
-- What a careless CRM may send, refused with a message that names it
-- (sql/bad_input.sql tries it all).

-- Instants that records happened at are finite: an "infinity" creation or
-- touch time breaks every report and SLA computed from it.  A deal value
-- is a number: numeric also takes NaN and Infinity, and NaN sorts above
-- Infinity, so "< Infinity" refuses both.
ALTER TABLE leadflow.lead
    ADD CONSTRAINT lead_created_at_finite CHECK (isfinite(created_at)),
    ADD CONSTRAINT lead_value_finite CHECK (value < 'Infinity'::numeric);
ALTER TABLE leadflow.touch
    ADD CONSTRAINT touch_at_finite CHECK (isfinite(at));
ALTER TABLE leadflow.event
    ADD CONSTRAINT event_at_finite CHECK (isfinite(at));

-- Indexed text has a length limit (a btree entry holds a few kB at most);
-- past it the error would name the index, not the column.  A login is a
-- role name, so it is as short as one.
ALTER TABLE leadflow.lead
    ADD CONSTRAINT lead_external_id_length CHECK (octet_length(external_id) <= 1000);
ALTER TABLE leadflow.rep
    ADD CONSTRAINT rep_name_length CHECK (octet_length(name) <= 200),
    ADD CONSTRAINT rep_login_length CHECK (octet_length(login) < 64);

-- A touch without a lead id: touch_evaluate (which this runs before, by
-- name) would otherwise report "lead <NULL> does not exist".
CREATE FUNCTION leadflow.touch_check_input() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
BEGIN
    IF NEW.lead_id IS NULL THEN
        RAISE EXCEPTION 'a touch needs a lead id'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Pass the id of the lead touched, e.g. leadflow.log_touch(42, ''call'', ''connected'').';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER touch_check_input BEFORE INSERT ON leadflow.touch
    FOR EACH ROW EXECUTE FUNCTION leadflow.touch_check_input();

-- END bad input
