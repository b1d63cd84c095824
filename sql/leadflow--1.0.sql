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
-- END workhours type and business time

------------------------------------------------------------------------
-- BEGIN schema
------------------------------------------------------------------------
-- END schema
