-- next_touch: when a cadence step falls due, in working time, rotating
-- attempts of a day or more through the parts of the working day.
-- Needs leadflow.cadence (the cadence branch).
-- pg_regress sets PGTZ; print every timestamp in UTC.
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET datestyle = 'ISO, YMD';

-- The walk helper: feeds each result back as prev, as the touch trigger
-- will.  "part" is the third of the 09:00-17:00 day (8 h: morning until
-- 11:40, midday until 14:20, afternoon until 17:00).
CREATE FUNCTION pg_temp.walk(c leadflow.cadence, anchor timestamptz, h leadflow.workhours,
                             hol date[] DEFAULT '{}')
RETURNS TABLE (step int, due timestamptz, local text, part text)
LANGUAGE plpgsql AS $$
DECLARE
    prev timestamptz := NULL;
    zone text := leadflow.workhours_zone(h);
BEGIN
    step := 0;
    LOOP
        due := leadflow.next_touch(c, step, anchor, h, hol, prev);
        local := to_char(due AT TIME ZONE zone, 'Dy YYYY-MM-DD HH24:MI');
        part := CASE WHEN due IS NULL THEN NULL
                     WHEN (due AT TIME ZONE zone)::time < '11:40' THEN 'morning'
                     WHEN (due AT TIME ZONE zone)::time < '14:20' THEN 'midday'
                     ELSE 'afternoon' END;
        RETURN NEXT;
        EXIT WHEN due IS NULL;
        prev := due;
        step := step + 1;
    END LOOP;
END $$;

-- 10 touches in 30 days from Mon 2026-03-02 10:00 EST (15:00Z); New York
-- springs forward on Sun 03-08, so from step 5 on 10:00 local is 14:00Z.
-- Hand check (offsets: 0, 1h, 1d, 2d, 4d, 7d, 11d, 16d, 22d, 30d):
--  0 Mon 03-02 10:00 (no prev)
--  1 Mon 11:00 (1 h: under a day, never rotated)
--  2 due Tue 10:00 morning = prev's part (11:00 morning): next part at the
--    same offset (1 h into the part) -> Tue 12:40 midday
--  3 due Wed 03-04 10:00 morning, prev midday -> Wed 10:00
--  4 due Fri 03-06 10:00 morning = prev -> Fri 12:40
--  5 due Mon 03-09 10:00 EDT (14:00Z) morning, prev midday -> kept
--  6 due Fri 03-13 10:00 morning = prev -> Fri 12:40
--  7 Wed 03-18 10:00;  8 due Tue 03-24 10:00 -> 12:40;  9 Wed 04-01 10:00
--  10 NULL (past the last step)
SELECT * FROM pg_temp.walk(
    'call@0, email@1h, call@1d, email@2d, call@4d, email@7d, call@11d, email@16d, call@22d, email@30d',
    '2026-03-02 10:00 America/New_York', 'mon-fri 09:00-17:00 America/New_York');

-- From the afternoon: rotation wraps to the next working day's morning.
-- Anchor Mon 03-02 15:00 (afternoon, 40 min into it).
--  0 Mon 15:00; 1 Mon 16:00
--  2 due Tue 15:00 afternoon = prev -> Wed 03-04 09:40 (40 min into the morning)
--  3 due Wed 15:00 afternoon, prev morning -> kept
--  4 due Fri 03-06 15:00 = prev's part -> Mon 03-09 09:40 EDT (13:40Z)
--  5 due Mon 03-09 15:00, prev morning -> kept
--  6 due Fri 03-13 15:00 = prev -> Mon 03-16 09:40
--  7 Wed 03-18 15:00; 8 due Tue 03-24 15:00 -> Wed 03-25 09:40; 9 Wed 04-01 15:00
SELECT * FROM pg_temp.walk(
    'call@0, email@1h, call@1d, email@2d, call@4d, email@7d, call@11d, email@16d, call@22d, email@30d',
    '2026-03-02 15:00 America/New_York', 'mon-fri 09:00-17:00 America/New_York');

-- From midday to afternoon: anchor Mon 12:00 (20 min into midday).
--  1 Mon 13:00 midday; 2 due Tue 12:00 midday = prev -> Tue 14:40
--  3 due Wed 12:00 midday, prev afternoon -> kept
SELECT * FROM pg_temp.walk('call@0, email@1h, call@1d, email@2d',
                           '2026-03-02 12:00 America/New_York', 'mon-fri 09:00-17:00 America/New_York');

-- Outside working hours and with holidays: anchor Fri 03-06 18:00, Mon
-- 03-09 is a holiday.
--  0 due Fri 18:00 -> Tue 03-10 09:00 (Mon is off)
--  1 due Fri 19:00 -> Tue 09:00 as well (under a day: not rotated)
--  2 due Sat 03-07 18:00 -> Tue 09:00 morning = prev's -> Tue 11:40 midday
--  3 due Sun 03-08 18:00 -> Tue 09:00 morning, prev midday -> Tue 09:00
-- Every step is anchored to the anchor, not to prev, so when a long gap
-- pushes several steps to the same opening they bunch up (and step 3 comes
-- before step 2 here): the rotation rule only keeps each attempt out of
-- prev's part of the day.
SELECT * FROM pg_temp.walk('call@0, email@1h, call@1d, email@2d',
                           '2026-03-06 18:00 America/New_York', 'mon-fri 09:00-17:00 America/New_York',
                           '{2026-03-09}');

-- Hours and minutes offsets run in elapsed time; days in the local
-- calendar.  Across the spring change "1d" keeps 10:00 local (23 h
-- later), "24h" is 24 elapsed hours (11:00 local).  Anchor Sat 03-07
-- 10:00 EST with a schedule open every day.
SELECT leadflow.next_touch('call@1d', 0, '2026-03-07 10:00 America/New_York', h) AS one_day,
       leadflow.next_touch('call@1d', 0, '2026-03-07 10:00 America/New_York', h) AT TIME ZONE 'America/New_York' AS one_day_local,
       leadflow.next_touch('call@24h', 0, '2026-03-07 10:00 America/New_York', h) AS hours_24,
       leadflow.next_touch('call@24h', 0, '2026-03-07 10:00 America/New_York', h) AT TIME ZONE 'America/New_York' AS hours_24_local
FROM (SELECT 'mon-sun 08:00-18:00 America/New_York'::leadflow.workhours AS h) s;

-- NULLs, the end of the plan, and a bad step.
SELECT leadflow.next_touch(NULL, 0, '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC') AS null_cadence,
       leadflow.next_touch('call@0', NULL, '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC') AS null_step,
       leadflow.next_touch('call@0', 0, NULL, 'mon-fri 09:00-17:00 UTC') AS null_anchor,
       leadflow.next_touch('call@0', 0, '2026-03-02 10:00+00', NULL) AS null_hours,
       leadflow.next_touch('call@0', 0, '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC', NULL, NULL) AS null_holidays_prev,
       leadflow.next_touch('call@0, email@1d', 2, '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC') AS past_last,
       leadflow.next_touch('call@0', 0, 'infinity', 'mon-fri 09:00-17:00 UTC') AS infinite_anchor;
\set VERBOSITY default
SELECT leadflow.next_touch('call@0', -1, '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC');
DO $$
BEGIN
    PERFORM leadflow.next_touch('call@0', -5, '2026-03-02 10:00+00', 'mon-fri 09:00-17:00 UTC');
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'negative step: %', SQLSTATE;
END $$;

-- Immutable, parallel safe, and not strict (prev and holidays may be NULL).
SELECT proname, provolatile, proparallel, proisstrict
FROM pg_proc
WHERE pronamespace = 'leadflow'::regnamespace AND proname = 'next_touch';
