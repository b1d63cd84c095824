/* leadflow--1.0.sql: install script for leadflow 1.0 */

\echo Use "CREATE EXTENSION leadflow" to load this file. \quit

-- Every object lives in schema leadflow (the extension is not relocatable).
-- Functions pin search_path so that nothing a caller puts first on theirs
-- can change what they call.

------------------------------------------------------------------------
-- Enums
------------------------------------------------------------------------

-- Open stages (new, working) count against the owner's pipeline cap.
CREATE TYPE leadflow.stage AS ENUM
    ('new', 'working', 'qualified', 'converted', 'nurture', 'rejected');

-- Order matters: the C code maps channel codes to these labels by position.
CREATE TYPE leadflow.channel AS ENUM
    ('call', 'email', 'sms', 'meeting', 'social');

CREATE TYPE leadflow.outcome AS ENUM
    ('not_reached', 'connected', 'qualified', 'nurture', 'dead',
     'dead_referral', 'dead_other_contact', 'unsubscribed');

------------------------------------------------------------------------
-- Clock
------------------------------------------------------------------------

-- leadflow.clock when set (superuser only), else the transaction start.
CREATE FUNCTION leadflow.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_now_sql'
    LANGUAGE C STABLE PARALLEL SAFE;

------------------------------------------------------------------------
-- BEGIN cadence type (src/cadence.c)
------------------------------------------------------------------------
-- An ordered touch plan: "call@0, email@1h, call@1d".  Offsets count from
-- the assignment; days are calendar days (same wall-clock time), hours and
-- minutes are elapsed time.  Text and binary input enforce the same rules.
CREATE TYPE leadflow.cadence;

CREATE FUNCTION leadflow.cadence_in(cstring) RETURNS leadflow.cadence
    AS 'MODULE_PATHNAME', 'cadence_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_out(leadflow.cadence) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cadence_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_recv(internal) RETURNS leadflow.cadence
    AS 'MODULE_PATHNAME', 'cadence_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_send(leadflow.cadence) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cadence_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE leadflow.cadence (
    INPUT = leadflow.cadence_in,
    OUTPUT = leadflow.cadence_out,
    RECEIVE = leadflow.cadence_recv,
    SEND = leadflow.cadence_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    ALIGNMENT = double
);

COMMENT ON TYPE leadflow.cadence IS
    'Ordered touch plan, e.g. ''call@0, email@1h, call@1d'': channel@offset steps with strictly increasing offsets from the assignment (at most 100)';

-- Equality: the stored form is canonical, so equal plans are equal bytes.
CREATE FUNCTION leadflow.cadence_eq(leadflow.cadence, leadflow.cadence)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'cadence_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION leadflow.cadence_ne(leadflow.cadence, leadflow.cadence)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'cadence_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION leadflow.cadence_hash(leadflow.cadence) RETURNS integer
    AS 'MODULE_PATHNAME', 'cadence_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_hash_extended(leadflow.cadence, bigint)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'cadence_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR leadflow.= (
    LEFTARG = leadflow.cadence,
    RIGHTARG = leadflow.cadence,
    FUNCTION = leadflow.cadence_eq,
    COMMUTATOR = OPERATOR(leadflow.=),
    NEGATOR = OPERATOR(leadflow.<>),
    RESTRICT = eqsel,
    JOIN = eqjoinsel,
    HASHES
);

CREATE OPERATOR leadflow.<> (
    LEFTARG = leadflow.cadence,
    RIGHTARG = leadflow.cadence,
    FUNCTION = leadflow.cadence_ne,
    COMMUTATOR = OPERATOR(leadflow.<>),
    NEGATOR = OPERATOR(leadflow.=),
    RESTRICT = neqsel,
    JOIN = neqjoinsel
);

COMMENT ON OPERATOR leadflow.= (leadflow.cadence, leadflow.cadence) IS
    'same steps: same channels at the same offsets';
COMMENT ON OPERATOR leadflow.<> (leadflow.cadence, leadflow.cadence) IS
    'different steps';

-- Default hash class: GROUP BY, DISTINCT, UNION, hash joins and hash
-- partitioning.  There is no ordering, so no btree class.
CREATE OPERATOR CLASS leadflow.cadence_hash_ops
    DEFAULT FOR TYPE leadflow.cadence USING hash AS
        OPERATOR 1 leadflow.= (leadflow.cadence, leadflow.cadence),
        FUNCTION 1 leadflow.cadence_hash(leadflow.cadence),
        FUNCTION 2 leadflow.cadence_hash_extended(leadflow.cadence, bigint);

CREATE FUNCTION leadflow.cadence_named(name text) RETURNS leadflow.cadence
    AS 'MODULE_PATHNAME', 'cadence_named'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION leadflow.cadence_named(text) IS
    'Built-in plan by name: ''10x30'' (30 days, 10 touches) or ''30x90'' (90 days, 30 touches)';

CREATE FUNCTION leadflow.cadence_steps(c leadflow.cadence,
    OUT step integer, OUT channel leadflow.channel, OUT "offset" interval)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'cadence_steps'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION leadflow.cadence_steps(leadflow.cadence) IS
    'The steps of a cadence, numbered from 0, with each offset as an interval of days and clock time';

CREATE FUNCTION leadflow.cadence_length(c leadflow.cadence) RETURNS integer
    AS 'MODULE_PATHNAME', 'cadence_length'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION leadflow.cadence_length(leadflow.cadence) IS
    'Number of steps in a cadence';

-- END cadence type

------------------------------------------------------------------------
-- BEGIN workhours type and business time (src/workhours.c, src/business_time.c)
------------------------------------------------------------------------
-- END workhours type and business time

------------------------------------------------------------------------
-- BEGIN schema
------------------------------------------------------------------------
-- END schema
