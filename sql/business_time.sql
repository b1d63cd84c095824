-- Business time: next_open, add_business_time, business_time_between.
-- Timestamps print in UTC (test/regress.conf); local times are shown with
-- AT TIME ZONE next to them.  Hand checks are in the comments.
-- pg_regress sets PGTZ; print every timestamp in UTC.
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';

-- ------------------------------------------------------------------------
-- next_open: inside, outside and at block edges.
-- Schedule: mon-fri 09:00-12:30,13:30-17:30 New York (EST, UTC-5 until
-- 2026-03-08).  2026-03-02 is a Monday.
-- ------------------------------------------------------------------------
SELECT local, next_open((local || ' America/New_York')::timestamptz,
                        'mon-fri 09:00-12:30,13:30-17:30 America/New_York') AS utc,
       next_open((local || ' America/New_York')::timestamptz,
                 'mon-fri 09:00-12:30,13:30-17:30 America/New_York') AT TIME ZONE 'America/New_York' AS local_result
FROM (VALUES ('2026-03-02 10:00'),      -- inside: itself
             ('2026-03-02 08:00'),      -- before the day: 09:00
             ('2026-03-02 09:00'),      -- at a block start: itself
             ('2026-03-02 12:29:59'),   -- last second of a block: itself
             ('2026-03-02 12:30'),      -- at a block end (exclusive): 13:30
             ('2026-03-02 13:00'),      -- in the break: 13:30
             ('2026-03-02 17:30'),      -- day end: Tue 09:00
             ('2026-03-06 18:00'),      -- Friday evening: Mon 03-09 09:00 (now EDT)
             ('2026-03-07 12:00')       -- Saturday: Mon 03-09 09:00
     ) AS t(local);
SELECT next_open('infinity', 'mon 09:00-17:00 UTC') AS inf,
       next_open('-infinity', 'mon 09:00-17:00 UTC') AS minus_inf,
       next_open(NULL, 'mon 09:00-17:00 UTC') AS null_ts,
       next_open('2026-03-02 08:00+00', NULL) AS null_hours,
       next_open('2026-03-02 08:00+00', 'mon 09:00-17:00 UTC', NULL) AS null_holidays;

-- ------------------------------------------------------------------------
-- add_business_time, UTC schedules.  2026-03-02 is a Monday.
-- ------------------------------------------------------------------------
SELECT ts, d, add_business_time(ts::timestamptz, d::interval, h::leadflow.workhours) AS result,
       to_char(add_business_time(ts::timestamptz, d::interval, h::leadflow.workhours), 'Dy') AS dow
FROM (VALUES
    ('2026-03-02 09:00+00', '8 hours',          'mon-fri 09:00-17:00 UTC'),  -- Mon 17:00, not Tue 09:00
    ('2026-03-02 09:00+00', '8 hours 1 minute', 'mon-fri 09:00-17:00 UTC'),  -- Tue 09:01
    ('2026-03-06 16:00+00', '2 hours',          'mon-fri 09:00-17:00 UTC'),  -- Fri 16-17 + Mon 09-10: Mon 10:00
    ('2026-03-02 18:00+00', '0',                'mon-fri 09:00-17:00 UTC'),  -- zero: next_open, Tue 09:00
    ('2026-03-02 10:00+00', '1 day',            'mon-fri 09:00-17:00 UTC'),  -- Tue 10:00
    ('2026-03-02 10:00+00', '5 days',           'mon-fri 09:00-17:00 UTC'),  -- next Mon 10:00
    ('2026-03-02 10:00+00', '1 day 7 hours',    'mon-fri 09:00-17:00 UTC'),  -- Tue 10:00 + 7h = Tue 17:00
    ('2026-03-02 17:00+00', '1 day',            'mon-fri 09:00-17:00 UTC'),  -- open at Tue 09:00, +1 day: Wed 09:00
    ('2026-03-06 12:00+00', '1 day',            'mon-fri 09:00-17:00 UTC'),  -- Fri -> Mon 12:00
    ('2026-03-02 12:00+00', '1 hour',           'mon-fri 09:00-12:30,13:30-17:30 UTC'),  -- 12:00-12:30 + 13:30-14:00: 14:00
    ('2026-03-02 12:45+00', '1 day',            'mon-fri 09:00-12:30,13:30-17:30 UTC'),  -- open 13:30 (3.5 h in): Tue 13:30
    ('2026-03-02 09:00+00', '3 hours 30 minutes', 'mon-fri 09:00-12:30,13:30-17:30 UTC'), -- earliest: 12:30
    ('2026-03-06 16:00+00', '1 day',            'mon-fri 09:00-17:00; sat 10:00-13:00 UTC'), -- 7 h in > Sat's 3 h: Sat 13:00
    ('2026-03-06 16:00+00', '1 day 1 hour',     'mon-fri 09:00-17:00; sat 10:00-13:00 UTC'), -- Sat 13:00 + 1h: Mon 10:00
    ('2026-03-02 10:00+00', '40 hours',         'mon-fri 09:00-17:00 UTC'),  -- a week: Mon 03-09 10:00
    ('2026-03-02 10:00+00', '400 hours',        'mon-fri 09:00-17:00 UTC'),  -- ten weeks: Mon 05-11 10:00
    ('2026-03-02 10:00+00', '1000 days',        'mon-fri 09:00-17:00 UTC'),  -- 200 weeks = 1400 days: Mon 2029-12-31 10:00
    ('2026-03-07 22:00+00', '1 hour',           'sat 22:00-24:00; sun 00:00-02:00 UTC'), -- Sat 23:00
    ('2026-03-07 23:30+00', '1 hour',           'sat 22:00-24:00; sun 00:00-02:00 UTC')  -- across midnight: Sun 00:30
) AS t(ts, d, h);
SELECT add_business_time('infinity', '1 hour', 'mon 09:00-17:00 UTC') AS inf,
       add_business_time('2026-03-02 10:00+00', NULL, 'mon 09:00-17:00 UTC') AS null_interval;

-- ------------------------------------------------------------------------
-- business_time_between
-- ------------------------------------------------------------------------
SELECT a, b, business_time_between(a::timestamptz, b::timestamptz, h::leadflow.workhours) AS between
FROM (VALUES
    ('2026-03-06 10:00+00', '2026-03-09 10:00+00', 'mon-fri 09:00-17:00 UTC'),   -- Fri 7h + Mon 1h = 8h
    ('2026-03-09 10:00+00', '2026-03-06 10:00+00', 'mon-fri 09:00-17:00 UTC'),   -- -8h
    ('2026-03-09 10:00+00', '2026-03-09 10:00+00', 'mon-fri 09:00-17:00 UTC'),   -- 0
    ('2026-03-07 10:00+00', '2026-03-08 23:00+00', 'mon-fri 09:00-17:00 UTC'),   -- weekend only: 0
    ('2026-03-02 00:00+00', '2026-03-09 00:00+00', 'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 UTC'), -- 5 * 7.5h + 3h = 40.5h
    ('2026-03-02 12:00+00', '2026-03-02 14:00+00', 'mon-fri 09:00-12:30,13:30-17:30 UTC'), -- 30 + 30 min
    ('2026-01-01 00:00+00', '2027-01-01 00:00+00', 'mon-fri 09:00-17:00 UTC')    -- 261 weekdays * 8h = 2088h
) AS t(a, b, h);
SELECT business_time_between('2026-03-02 10:00+00', '2026-03-03 10:00+00', NULL) AS null_hours;

-- ------------------------------------------------------------------------
-- US DST, America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (spring),
-- 2026-11-01 02:00 EDT -> 01:00 EST (fall).
-- A block across the change counts its real elapsed length.  Local times
-- are read as timestamptz input reads them: a time in the spring gap with
-- the offset before the change, an ambiguous fall time with the one after.
-- Hand check:
--   sun 01:00-04:00 on 03-08: 01:00 EST = 06:00Z, 04:00 EDT = 08:00Z: 2h.
--   sun 01:00-04:00 on 03-01: 3h.
--   sun 01:00-04:00 on 11-01: 01:00 is ambiguous -> EST = 06:00Z,
--     04:00 EST = 09:00Z: 3h.  sun 00:00-04:00 on 11-01: 04:00Z-09:00Z: 5h.
--   sun 02:30-03:00 on 03-08: 02:30 (gap) -> EST = 07:30Z, 03:00 EDT =
--     07:00Z: the block ends before it starts in real time: 0.
-- ------------------------------------------------------------------------
SELECT h, day,
       business_time_between((day || ' 00:00 America/New_York')::timestamptz,
                             (day || ' 00:00 America/New_York')::timestamptz + interval '1 day',
                             h::leadflow.workhours) AS worked
FROM (VALUES ('sun 01:00-04:00 America/New_York', '2026-03-01'),
             ('sun 01:00-04:00 America/New_York', '2026-03-08'),
             ('sun 01:00-04:00 America/New_York', '2026-11-01'),
             ('sun 00:00-04:00 America/New_York', '2026-11-01'),
             ('sun 02:30-03:00 America/New_York', '2026-03-08'),
             ('sun 01:00-02:30,02:40-05:00 America/New_York', '2026-03-08')
     ) AS t(h, day);
-- 01:00-02:30,02:40-05:00 on 03-08: 01:00 EST=06:00Z..02:30->07:30Z, then
-- 02:40->07:40Z..05:00 EDT=09:00Z: 1h30 + 1h20 = 2h50 (the instants are
-- distinct, nothing counts twice).
SELECT next_open('2026-03-08 06:30+00', 'sun 01:00-04:00 America/New_York') AS inside_spring_block,
       add_business_time('2026-03-08 06:00+00', '2 hours', 'sun 01:00-04:00 America/New_York') AS spring_block_end,
       add_business_time('2026-03-08 06:00+00', '2 hours 1 minute', 'sun 01:00-04:00 America/New_York') AS next_sunday,
       add_business_time('2026-11-01 04:00+00', '4 hours', 'sun 00:00-04:00 America/New_York') AS fall_4h;
-- spring_block_end = 08:00Z (04:00 EDT); next_sunday = 03-15 01:00 EDT
-- (05:00Z) + 1 min = 05:01Z; fall_4h: 04:00Z + 4h = 08:00Z (03:00 EST).

-- A weekday schedule keeps its wall-clock hours across the change:
-- Fri 03-06 16:00 EST (21:00Z) + 2h = Fri 16-17 + Mon 09-10 EDT = 14:00Z.
SELECT add_business_time('2026-03-06 16:00 America/New_York', '2 hours', h) AS utc,
       add_business_time('2026-03-06 16:00 America/New_York', '2 hours', h) AT TIME ZONE 'America/New_York' AS local,
       business_time_between('2026-03-06 16:00 America/New_York', '2026-03-09 10:00 America/New_York', h) AS between,
       add_business_time('2026-10-30 16:00 America/New_York', '2 hours', h) AS fall_utc,
       add_business_time('2026-10-30 16:00 America/New_York', '2 hours', h) AT TIME ZONE 'America/New_York' AS fall_local,
       add_business_time('2026-03-06 11:00 America/New_York', '1 day', h) AT TIME ZONE 'America/New_York' AS day_across
FROM (SELECT 'mon-fri 09:00-17:00 America/New_York'::leadflow.workhours AS h) s;
-- fall: Fri 10-30 16:00 EDT (20:00Z) -> Mon 11-02 10:00 EST = 15:00Z.
-- day_across: Fri 11:00 + 1 working day = Mon 03-09 11:00 local (EDT).

-- ------------------------------------------------------------------------
-- EU DST, Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST, 2026-10-25
-- 03:00 CEST -> 02:00 CET.
-- Hand check: sun 01:00-04:00 on 03-29: 01:00 CET = 00:00Z, 04:00 CEST =
-- 02:00Z: 2h.  On 10-25: 01:00 CEST = 23:00Z (Sat), 04:00 CET = 03:00Z:
-- 4h.  sun 02:00-03:00 on 10-25: 02:00 ambiguous -> CET = 01:00Z, 03:00
-- CET = 02:00Z: 1h.
-- ------------------------------------------------------------------------
SELECT h, day,
       business_time_between((day || ' 00:00 Europe/Berlin')::timestamptz,
                             (day || ' 00:00 Europe/Berlin')::timestamptz + interval '1 day',
                             h::leadflow.workhours) AS worked
FROM (VALUES ('sun 01:00-04:00 Europe/Berlin', '2026-03-22'),
             ('sun 01:00-04:00 Europe/Berlin', '2026-03-29'),
             ('sun 01:00-04:00 Europe/Berlin', '2026-10-25'),
             ('sun 02:00-03:00 Europe/Berlin', '2026-10-25')
     ) AS t(h, day);
-- Fri 03-27 16:00 CET (15:00Z) + 2h -> Mon 03-30 10:00 CEST (08:00Z);
-- Fri 10-23 16:00 CEST (14:00Z) + 2h -> Mon 10-26 10:00 CET (09:00Z).
SELECT add_business_time('2026-03-27 16:00 Europe/Berlin', '2 hours', h) AS spring_utc,
       add_business_time('2026-03-27 16:00 Europe/Berlin', '2 hours', h) AT TIME ZONE 'Europe/Berlin' AS spring_local,
       add_business_time('2026-10-23 16:00 Europe/Berlin', '2 hours', h) AS autumn_utc,
       add_business_time('2026-10-23 16:00 Europe/Berlin', '2 hours', h) AT TIME ZONE 'Europe/Berlin' AS autumn_local
FROM (SELECT 'mon-fri 09:00-17:00 Europe/Berlin'::leadflow.workhours AS h) s;

-- ------------------------------------------------------------------------
-- Zones far east and west.
-- Asia/Kolkata (+05:30, no DST): Mon 03-09 00:00Z = 05:30 IST, opens 09:30
-- IST = 04:00Z; Mon 17:00 IST + 2h = 17-18 + Tue 09:30-10:30 = 05:00Z Tue.
-- Pacific/Auckland: NZDT (+13) -> NZST (+12) on 2026-04-05 03:00;
-- NZST -> NZDT on 2026-09-27 02:00.  Fri 04-03 16:00 NZDT (03:00Z) + 2h =
-- Mon 04-06 10:00 NZST = Sun 04-05 22:00Z.  sun 01:00-04:00 on 04-05:
-- 01:00 NZDT = 12:00Z, 04:00 NZST = 16:00Z: 4h; on 09-27: 01:00 NZST =
-- 13:00Z, 04:00 NZDT = 15:00Z: 2h.
-- America/Los_Angeles: Mon 03-09 12:00Z = 05:00 PDT, opens 08:00 PDT =
-- 15:00Z.  Pacific/Honolulu (-10): 18:00Z = 08:00 HST, opens 09:00 = 19:00Z.
-- ------------------------------------------------------------------------
SELECT next_open('2026-03-09 00:00+00', 'mon-fri 09:30-18:00 Asia/Kolkata') AS kolkata_open,
       add_business_time('2026-03-09 17:00 Asia/Kolkata', '2 hours', 'mon-fri 09:30-18:00 Asia/Kolkata') AS kolkata_add,
       add_business_time('2026-04-03 16:00 Pacific/Auckland', '2 hours', 'mon-fri 09:00-17:00 Pacific/Auckland') AS auckland_add,
       add_business_time('2026-04-03 16:00 Pacific/Auckland', '2 hours', 'mon-fri 09:00-17:00 Pacific/Auckland')
           AT TIME ZONE 'Pacific/Auckland' AS auckland_local,
       next_open('2026-03-09 12:00+00', 'mon-fri 08:00-17:00 America/Los_Angeles') AS la_open,
       next_open('2026-03-09 18:00+00', 'mon-fri 09:00-17:00 Pacific/Honolulu') AS honolulu_open;
SELECT business_time_between('2026-04-04 11:00+00', '2026-04-05 11:00+00', 'sun 01:00-04:00 Pacific/Auckland') AS nz_autumn,
       business_time_between('2026-09-26 11:00+00', '2026-09-27 11:00+00', 'sun 01:00-04:00 Pacific/Auckland') AS nz_spring;

-- ------------------------------------------------------------------------
-- Holidays (dates of the schedule's local calendar).
-- mon-fri 09:00-17:00 New York; Mon 2026-03-09, Tue 03-10.
-- ------------------------------------------------------------------------
SELECT label, add_business_time('2026-03-06 16:00 America/New_York', '2 hours',
                                 'mon-fri 09:00-17:00 America/New_York', hol) AT TIME ZONE 'America/New_York' AS local
FROM (VALUES ('none',                       '{}'::date[]),        -- Mon 10:00
             ('Monday',                     '{2026-03-09}'),      -- Tue 10:00
             ('Monday and Tuesday',         '{2026-03-10,2026-03-09}'), -- Wed 10:00
             ('duplicates and NULLs',       '{2026-03-09,NULL,2026-03-09}'), -- Tue 10:00
             ('a Saturday (no effect)',     '{2026-03-07}'),      -- Mon 10:00
             ('NULL array',                 NULL)                 -- Mon 10:00
     ) AS t(label, hol);
-- One working day a week, and it is a holiday: Wed 03-11 is skipped, so
-- the next opening is Wed 03-18.  Working days skip holidays too:
-- Mon 03-09 10:00 + 1 day with Tue 03-10 off = Wed 03-11 10:00.
SELECT next_open('2026-03-09 00:00+00', 'wed 09:00-17:00 UTC', '{2026-03-11}') AS only_day_is_holiday,
       add_business_time('2026-03-09 10:00+00', '1 day', 'mon-fri 09:00-17:00 UTC', '{2026-03-10}') AS day_over_holiday,
       business_time_between('2026-03-06 10:00+00', '2026-03-11 10:00+00', 'mon-fri 09:00-17:00 UTC',
                             '{2026-03-09,2026-03-10}') AS between_holidays;
-- between_holidays: Fri 7h + Wed 1h = 8h.
-- A whole year of holidays does not hang: the next opening is in 2027
-- (2027-01-01 is a Friday).
SELECT next_open('2026-01-01 00:00+00', 'mon-fri 09:00-17:00 UTC',
                 ARRAY(SELECT d::date FROM generate_series('2026-01-01'::date, '2026-12-31', '1 day') d)) AS after_a_year_off,
       add_business_time('2026-01-01 00:00+00', '1 day', 'mon-fri 09:00-17:00 UTC',
                 ARRAY(SELECT d::date FROM generate_series('2026-01-01'::date, '2026-12-31', '1 day') d)) AS plus_a_day;
-- plus_a_day: opens Fri 2027-01-01 09:00, one working day on: Mon 01-04 09:00.

-- ------------------------------------------------------------------------
-- Property: between(a, add(a, t)) = t, over starts every 7 h 13 min for
-- nine weeks around the US spring change, with holidays, multi-block days.
-- ------------------------------------------------------------------------
SELECT count(*) AS cases,
       count(*) FILTER (WHERE business_time_between(a, add_business_time(a, t, h, hol), h, hol) <> t) AS failures
FROM generate_series('2026-02-20 00:00+00'::timestamptz, '2026-04-20', '7 hours 13 minutes') AS a,
     (VALUES ('0'::interval), ('1 minute'), ('59 minutes 59 seconds'), ('3 hours 30 minutes'),
             ('8 hours'), ('43 hours'), ('123 hours 17 minutes'), ('1000 hours')) AS ts(t),
     (SELECT 'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'::leadflow.workhours AS h,
             '{2026-03-09,2026-03-10,2026-04-03}'::date[] AS hol) AS s;
-- Same over the autumn changes in Berlin and Auckland, with blocks that
-- touch midnight.
SELECT h, count(*) AS cases,
       count(*) FILTER (WHERE business_time_between(a, add_business_time(a, t, h), h) <> t) AS failures
FROM generate_series('2026-10-10 00:00+00'::timestamptz, '2026-11-10', '5 hours 7 minutes') AS a,
     (VALUES ('1 minute'::interval), ('2 hours'), ('25 hours'), ('61 hours 1 minute')) AS ts(t),
     (VALUES ('mon-fri 08:00-12:00,13:00-18:00; sun 00:00-04:00 Europe/Berlin'::leadflow.workhours),
             ('sat 20:00-24:00; sun 00:00-05:00; wed 09:00-17:00 Pacific/Auckland')) AS s(h)
GROUP BY h ORDER BY h::text;

-- ------------------------------------------------------------------------
-- Cross-check against a plain SQL reference (each block's local start and
-- end read with AT TIME ZONE, clipped to [a, b)), over two years of
-- New York time with holidays: every pair must agree.
-- ------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ref_between(a timestamptz, b timestamptz, hol date[]) RETURNS interval
LANGUAGE sql AS $$
    SELECT coalesce(sum(greatest(least(e, b) - greatest(s, a), interval '0')), interval '0')
    FROM (SELECT (d::date + bs) AT TIME ZONE 'America/New_York' AS s,
                 (d::date + be) AT TIME ZONE 'America/New_York' AS e
          FROM generate_series((a AT TIME ZONE 'America/New_York')::date - 1,
                               (b AT TIME ZONE 'America/New_York')::date + 1, interval '1 day') AS d,
               (VALUES (time '09:00', time '12:30'), (time '13:30', time '17:30')) AS bl(bs, be)
          WHERE extract(isodow FROM d) BETWEEN 1 AND 5 AND d::date <> ALL (hol)) AS spans
$$;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE business_time_between(a, b, h, hol) <> pg_temp.ref_between(a, b, hol)) AS mismatches
FROM (SELECT '2025-12-29 07:00+00'::timestamptz + (i * interval '13 hours 37 minutes') AS a,
             '2025-12-29 07:00+00'::timestamptz + (i * interval '13 hours 37 minutes') + ((i * 7919) % 900) * interval '1 hour' AS b
      FROM generate_series(0, 1300) AS i) AS p,
     (SELECT 'mon-fri 09:00-12:30,13:30-17:30 America/New_York'::leadflow.workhours AS h,
             '{2026-01-01,2026-05-25,2026-07-03,2026-11-26,2026-12-25,2027-01-01}'::date[] AS hol) AS s;

-- Huge intervals finish (whole weeks are skipped) and stay consistent.
SELECT add_business_time('2026-03-09 10:00 America/New_York', '100000 hours', h) AS far,
       business_time_between('2026-03-09 10:00 America/New_York',
                             add_business_time('2026-03-09 10:00 America/New_York', '100000 hours', h), h) AS back,
       add_business_time('2026-03-09 10:00 America/New_York', '100000 days', h) AT TIME ZONE 'America/New_York' AS far_days
FROM (SELECT 'mon-fri 09:00-17:00 America/New_York'::leadflow.workhours AS h) s;
-- far_days: 100000 working days = 20000 weeks = 140000 days after Mon
-- 2026-03-09 (no holidays): Mon 2409-06-29 10:00.
-- far: 100000 h = 2500 weeks of 40 h = 17500 days: Mon 2074-02-05 10:00 EST = 15:00Z.

-- ------------------------------------------------------------------------
-- Errors
-- ------------------------------------------------------------------------
\set VERBOSITY default
SELECT add_business_time('2026-03-02 10:00+00', '1 month', 'mon-fri 09:00-17:00 UTC');
SELECT add_business_time('2026-03-02 10:00+00', '-1 hour', 'mon-fri 09:00-17:00 UTC');
SELECT add_business_time('2026-03-02 10:00+00', '1 day -1 hour', 'mon-fri 09:00-17:00 UTC');
SELECT add_business_time('2026-03-02 10:00+00', '-2 days', 'mon-fri 09:00-17:00 UTC');
SELECT add_business_time('2026-03-02 10:00+00', '2000000000 hours', 'mon-fri 09:00-17:00 America/New_York');
SELECT add_business_time('294276-12-01 00:00+00', '200 days', 'mon-fri 09:00-17:00 UTC');
SELECT business_time_between('-infinity', '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC');
\set VERBOSITY terse
DO $$
DECLARE
    state text;
BEGIN
    BEGIN
        PERFORM add_business_time('2026-03-02 10:00+00', '1 year', 'mon-fri 09:00-17:00 UTC');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
        RAISE NOTICE 'months: %', state;
    END;
    BEGIN
        PERFORM add_business_time('2026-03-02 10:00+00', '-1 second', 'mon-fri 09:00-17:00 UTC');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
        RAISE NOTICE 'negative: %', state;
    END;
    BEGIN
        PERFORM add_business_time('294276-12-01 00:00+00', '200 days', 'mon-fri 09:00-17:00 UTC');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
        RAISE NOTICE 'out of range: %', state;
    END;
END $$;
\set VERBOSITY default

-- The functions are immutable and parallel safe.
SELECT proname, provolatile, proparallel, proisstrict
FROM pg_proc
WHERE pronamespace = 'leadflow'::regnamespace
  AND proname IN ('add_business_time', 'business_time_between', 'next_open')
ORDER BY proname;
