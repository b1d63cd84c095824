/* leadflow--1.0--1.1.sql: update leadflow 1.0 to 1.1 */

\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.1'" to load this file. \quit

-- There is no leadflow--1.1.sql: CREATE EXTENSION runs leadflow--1.0.sql and
-- then this script, so a fresh 1.1 and an updated 1.0 are built by the same
-- statements and cannot drift apart.
--
-- 1.1 stores the ledger's candidates compactly, and adds row-level
-- security for reps and the invariant check.

------------------------------------------------------------------------
-- BEGIN ledger (src/candidates.c)
------------------------------------------------------------------------

-- The candidates of a decision, packed: a fixed record per member instead
-- of a jsonb object (about 28 bytes instead of 140).  Its text form is the
-- same JSON array jsonb would print, and it casts implicitly to jsonb, so
-- readers use jsonb functions and operators on the column as before.
CREATE TYPE leadflow.candidate_list;

CREATE FUNCTION leadflow.candidate_list_in(cstring) RETURNS leadflow.candidate_list
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list_out(leadflow.candidate_list) RETURNS cstring
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list_recv(internal) RETURNS leadflow.candidate_list
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list_send(leadflow.candidate_list) RETURNS bytea
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE leadflow.candidate_list (
    INPUT = leadflow.candidate_list_in,
    OUTPUT = leadflow.candidate_list_out,
    RECEIVE = leadflow.candidate_list_recv,
    SEND = leadflow.candidate_list_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE leadflow.candidate_list IS
    'The candidates of a routing decision, stored compactly; reads as a JSON array and casts to jsonb.';

CREATE FUNCTION leadflow.jsonb(leadflow.candidate_list) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_to_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list(jsonb) RETURNS leadflow.candidate_list
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_from_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_count(leadflow.candidate_list) RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_candidate_count'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.candidate_count(leadflow.candidate_list) IS
    'How many candidates a decision considered.';

-- Implicit: jsonb_array_elements(candidates), candidates -> 0 and
-- jsonb_path_query(candidates, ...) work on the column as they did on 1.0.
CREATE CAST (leadflow.candidate_list AS jsonb)
    WITH FUNCTION leadflow.jsonb(leadflow.candidate_list) AS IMPLICIT;
CREATE CAST (jsonb AS leadflow.candidate_list)
    WITH FUNCTION leadflow.candidate_list(jsonb) AS ASSIGNMENT;

-- Rewrites the ledger once.  lz4 (where the server has it) still
-- compresses the lists of very large queues.
ALTER TABLE leadflow.decision
    ALTER COLUMN candidates TYPE leadflow.candidate_list
    USING leadflow.candidate_list(candidates);
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE leadflow.decision ALTER COLUMN candidates SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;   -- no lz4 in this server: pglz it is
END;
$$;
COMMENT ON COLUMN leadflow.decision.candidates IS
    'Every member considered, with its load, caps and why it was passed over (a JSON array; casts to jsonb).';

-- END ledger

------------------------------------------------------------------------
-- BEGIN invariants
------------------------------------------------------------------------

-- END invariants

------------------------------------------------------------------------
-- BEGIN security
------------------------------------------------------------------------

-- END security
