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
-- END cadence type

------------------------------------------------------------------------
-- BEGIN workhours type and business time (src/workhours.c, src/business_time.c)
------------------------------------------------------------------------

-- A weekly schedule in a named time zone:
--   'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'
CREATE TYPE leadflow.workhours;

CREATE FUNCTION leadflow.workhours_in(cstring) RETURNS leadflow.workhours
    AS 'MODULE_PATHNAME', 'workhours_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.workhours_out(leadflow.workhours) RETURNS cstring
    AS 'MODULE_PATHNAME', 'workhours_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.workhours_recv(internal) RETURNS leadflow.workhours
    AS 'MODULE_PATHNAME', 'workhours_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.workhours_send(leadflow.workhours) RETURNS bytea
    AS 'MODULE_PATHNAME', 'workhours_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Stored plain: values are small (under 1 kB) and read on hot paths.
CREATE TYPE leadflow.workhours (
    INPUT = leadflow.workhours_in,
    OUTPUT = leadflow.workhours_out,
    RECEIVE = leadflow.workhours_recv,
    SEND = leadflow.workhours_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = plain
);

COMMENT ON TYPE leadflow.workhours IS
'Weekly working hours in a named time zone, e.g. ''mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York''. Days are mon..sun, as lists or ranges (ranges may wrap); blocks are HH:MM-HH:MM (24:00 may end one); the zone must be a tz database name (see pg_timezone_names). Stored and printed in canonical form: Monday first, days with equal blocks grouped, adjacent blocks merged.';

CREATE FUNCTION leadflow.workhours_eq(leadflow.workhours, leadflow.workhours) RETURNS boolean
    AS 'MODULE_PATHNAME', 'workhours_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION leadflow.workhours_ne(leadflow.workhours, leadflow.workhours) RETURNS boolean
    AS 'MODULE_PATHNAME', 'workhours_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION leadflow.workhours_hash(leadflow.workhours) RETURNS integer
    AS 'MODULE_PATHNAME', 'workhours_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR leadflow.= (
    LEFTARG = leadflow.workhours, RIGHTARG = leadflow.workhours,
    FUNCTION = leadflow.workhours_eq,
    COMMUTATOR = OPERATOR(leadflow.=), NEGATOR = OPERATOR(leadflow.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES
);
CREATE OPERATOR leadflow.<> (
    LEFTARG = leadflow.workhours, RIGHTARG = leadflow.workhours,
    FUNCTION = leadflow.workhours_ne,
    COMMUTATOR = OPERATOR(leadflow.<>), NEGATOR = OPERATOR(leadflow.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR leadflow.= (leadflow.workhours, leadflow.workhours) IS
'Same schedule (values are canonical, so equal text means equal schedules)';
COMMENT ON OPERATOR leadflow.<> (leadflow.workhours, leadflow.workhours) IS
'Different schedules';

-- Hashing gives DISTINCT, GROUP BY, UNION and hash joins; schedules have no
-- meaningful order, so there is no btree class.
CREATE OPERATOR CLASS leadflow.workhours_hash_ops
    DEFAULT FOR TYPE leadflow.workhours USING hash AS
        OPERATOR 1 leadflow.= ,
        FUNCTION 1 leadflow.workhours_hash(leadflow.workhours);

CREATE FUNCTION leadflow.workhours_zone(h leadflow.workhours) RETURNS text
    AS 'MODULE_PATHNAME', 'workhours_zone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.workhours_zone(leadflow.workhours) IS
'The schedule''s time zone (canonical tz database spelling)';

CREATE FUNCTION leadflow.workhours_weekly(h leadflow.workhours) RETURNS interval
    AS 'MODULE_PATHNAME', 'workhours_weekly'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.workhours_weekly(leadflow.workhours) IS
'Working time of one week by the local clock, as hours (a week with a DST change can be an hour shorter or longer)';

-- Business time.  IMMUTABLE: the result depends only on the arguments and
-- the server's tz database (like timezone(text, timestamptz)).  Not STRICT
-- because a NULL holiday array means "no holidays"; a NULL timestamp,
-- interval, schedule or cadence gives NULL.

CREATE FUNCTION leadflow.add_business_time(ts timestamptz, d interval, h leadflow.workhours,
                                           holidays date[] DEFAULT '{}')
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_add_business_time'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.add_business_time(timestamptz, interval, leadflow.workhours, date[]) IS
'ts plus d of business time: start at next_open(ts); each day of d moves to the next working day at the same working time into the day (clamped to that day''s length); then the time part of d is counted in working time, giving the earliest instant at which it has elapsed (Mon 09:00 + 8 hours with 09:00-17:00 = Mon 17:00). Holidays are local dates without working time; NULL holidays or elements are ignored. Months or negative parts are an error (22023).';

CREATE FUNCTION leadflow.business_time_between(a timestamptz, b timestamptz, h leadflow.workhours,
                                               holidays date[] DEFAULT '{}')
    RETURNS interval
    AS 'MODULE_PATHNAME', 'leadflow_business_time_between'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.business_time_between(timestamptz, timestamptz, leadflow.workhours, date[]) IS
'Working time in [a, b) as hours, minutes and seconds (no day part), real elapsed time across DST changes; negative when b < a. For a time-only t, business_time_between(a, add_business_time(a, t, h), h) = t.';

CREATE FUNCTION leadflow.next_open(ts timestamptz, h leadflow.workhours,
                                   holidays date[] DEFAULT '{}')
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_next_open'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.next_open(timestamptz, leadflow.workhours, date[]) IS
'ts itself when it is inside working time [block start, block end) on a day that is not a holiday, else the start of the next block';

CREATE FUNCTION leadflow.next_touch(c leadflow.cadence, step int, anchor timestamptz,
                                    h leadflow.workhours, holidays date[] DEFAULT '{}',
                                    prev timestamptz DEFAULT NULL)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_next_touch'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.next_touch(leadflow.cadence, int, timestamptz, leadflow.workhours, date[], timestamptz) IS
'When step "step" (0-based) of cadence c falls due: anchor plus the step''s offset (days in the schedule''s local calendar, same wall-clock time), moved into working time with next_open. For steps of a day or more, when that instant is in the same part of the working day (morning, midday, afternoon: thirds of the day''s working time) as prev, it moves to the next part (afternoon -> next working day''s morning), so consecutive attempts rotate through the day. NULL after the last step or when c, step, anchor or h is NULL; a negative step is an error (22023).';
-- END workhours type and business time

------------------------------------------------------------------------
-- BEGIN schema
------------------------------------------------------------------------
-- END schema
