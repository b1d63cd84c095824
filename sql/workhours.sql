-- leadflow.workhours: input, canonical output, equality, hashing, binary
-- I/O and the error catalogue.
-- Operators live in schema leadflow, like everything else.
-- pg_regress sets PGTZ; print every timestamp in UTC.
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET intervalstyle = 'postgres';

-- Canonical form: Monday first, equal days grouped, consecutive days as
-- ranges, adjacent blocks merged, zone in its tz database spelling.
SELECT input, input::leadflow.workhours AS canonical
FROM (VALUES
    ('mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'),
    ('mon-fri 09:00-17:00 UTC'),
    ('fri-mon 9:00-17:00 utc'),
    ('mon,wed,fri 09:00-17:00 Europe/Berlin'),
    ('sun,sat 10:00-12:00; tue 08:00-09:00 Asia/Kolkata'),
    ('MON 12:00-13:00,13:00-14:00,09:00-12:00 UTC'),
    ('  mon - tue 09:00 - 17:00 ; sun 00:00-24:00   america/los_angeles  '),
    ('mon-fri 09:00-12:00; mon-fri 13:00-17:00 Pacific/Auckland'),
    ('mon 09:00-12:00; tue-fri 09:00-12:00 Pacific/Honolulu'),
    ('sun-sat 00:00-24:00 Etc/GMT+5'),
    ('thu 22:00-24:00; fri 00:00-06:00 EST5EDT'),
    ('mon,tue,thu 09:00-17:00 UTC')
) AS t(input);

-- The canonical text reads back to the same value.
SELECT h::text::leadflow.workhours = h AS round_trips
FROM (VALUES ('fri-mon 9:00-17:00 utc'::leadflow.workhours),
             ('mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York')) AS t(h);

-- Accessors.
SELECT leadflow.workhours_zone('mon 09:00-17:00 america/new_york') AS zone,
       leadflow.workhours_weekly('mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 UTC') AS weekly,
       leadflow.workhours_weekly('sun-sat 00:00-24:00 UTC') AS whole_week;

-- Equality is on the canonical form; DISTINCT and GROUP BY use the hash class.
SELECT 'fri-mon 09:00-17:00 UTC'::leadflow.workhours = 'mon,fri,sat,sun 09:00-17:00 utc' AS eq,
       'mon 09:00-17:00 UTC'::leadflow.workhours <> 'mon 09:00-17:00 Europe/Berlin' AS ne,
       'mon 09:00-17:00 UTC'::leadflow.workhours = 'mon 09:00-17:01 UTC' AS eq_minute;
SELECT count(*) AS distinct_schedules FROM (SELECT DISTINCT h
FROM (VALUES ('mon-fri 09:00-17:00 UTC'::leadflow.workhours),
             ('MON-FRI 9:00-17:00 utc'),
             ('mon,tue,wed,thu,fri 09:00-12:00,12:00-17:00 UTC'),
             ('mon-fri 09:00-17:00 Europe/Berlin'),
             ('mon-fri 09:00-17:00 europe/berlin')) AS t(h)) AS d;
SELECT h, count(*) FROM (VALUES ('mon 09:00-10:00 UTC'::leadflow.workhours),
                               ('mon 09:00-10:00 utc'), ('tue 09:00-10:00 UTC')) AS t(h)
GROUP BY h ORDER BY h::text;
SELECT leadflow.workhours_hash('mon-fri 09:00-17:00 UTC') = leadflow.workhours_hash('MON-FRI 9:00-17:00 utc') AS same_hash_equal_values,
       leadflow.workhours_hash('mon-fri 09:00-17:00 UTC') = leadflow.workhours_hash('mon-fri 09:00-17:00 UTC') AS hash_stable;

-- Binary round trip through COPY (the regression user is a superuser).
CREATE TEMP TABLE wh_bin (id int, h leadflow.workhours);
INSERT INTO wh_bin VALUES
    (1, 'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'),
    (2, 'sun-sat 00:00-24:00 Etc/GMT+5'),
    (3, 'mon,wed 08:00-09:00,10:00-11:00,12:00-13:00 Asia/Kolkata');
COPY wh_bin TO '/tmp/leadflow_regress_workhours_bin.copy' WITH (FORMAT binary);
CREATE TEMP TABLE wh_bin2 (LIKE wh_bin);
COPY wh_bin2 FROM '/tmp/leadflow_regress_workhours_bin.copy' WITH (FORMAT binary);
SELECT a.id, a.h = b.h AS same, b.h FROM wh_bin a JOIN wh_bin2 b USING (id) ORDER BY id;
-- without leadflow on search_path the operator is spelled out
SET search_path = public;
SELECT 'mon 09:00-10:00 UTC'::leadflow.workhours OPERATOR(leadflow.=) 'mon 09:00-10:00 utc' AS qualified_eq;
SET search_path = public, leadflow;
SET intervalstyle = 'postgres';
-- What send produces: nblocks, then (day, start, end) per block as int16s,
-- then the zone: mon 09:00-17:00 UTC.
SELECT leadflow.workhours_send('mon 09:00-17:00 UTC');

-- recv applies the rules of text input.  Each payload is written as a
-- one-row binary COPY file (through a large object) and read back.
CREATE TEMP TABLE wh_bad (h leadflow.workhours);
DO $$
DECLARE
    header bytea := '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea;
    payload record;
    state text;
    msg text;
    detail text;
BEGIN
    FOR payload IN SELECT * FROM (VALUES
        ('good: mon 09:00-15:00 utc', '\x000000010001021c0384757463'::bytea),
        ('end before start',          '\x0000000100010384021c555443'),
        ('overlapping blocks',        '\x00000002000101e002580001021c0384555443'),
        ('touching blocks',           '\x00000002000101e0021c0001021c0384555443'),
        ('day 9',                     '\x000000010009021c0384555443'),
        ('end 24:01',                 '\x000000010001021c05a1555443'),
        ('no zone',                   '\x000000010001021c0384'),
        ('Mars/Olympus',              '\x000000010001021c03844d6172732f4f6c796d707573'),
        ('FOO5BAR, a POSIX rule',     '\x000000010001021c0384464f4f35424152'),
        ('no blocks',                 '\x00000000555443'),
        ('truncated block',           '\x00000001000102')
    ) AS t(label, p)
    LOOP
        BEGIN
            PERFORM lo_from_bytea(4242424, header || '\x0001'::bytea
                                  || int4send(length(payload.p)) || payload.p || '\xffff'::bytea);
            PERFORM lo_export(4242424, '/tmp/leadflow_regress_workhours_bad.copy');
            PERFORM lo_unlink(4242424);
            TRUNCATE wh_bad;
            COPY wh_bad FROM '/tmp/leadflow_regress_workhours_bad.copy' WITH (FORMAT binary);
            RAISE NOTICE '%: accepted as %', payload.label, (SELECT h::text FROM wh_bad);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
            RAISE NOTICE '%: % % (%)', payload.label, state, msg, detail;
        END;
    END LOOP;
END $$;
SELECT count(*) AS leftover_large_objects FROM pg_largeobject_metadata WHERE oid = 4242424;

-- Bad literals: each error points at the offending part.
\set VERBOSITY default
SELECT ''::leadflow.workhours;
SELECT 'mon 09:00-17:00 Mars/Olympus'::leadflow.workhours;
SELECT 'mox 09:00-17:00 UTC'::leadflow.workhours;
SELECT 'monday 09:00-17:00 UTC'::leadflow.workhours;
SELECT 'mon 9h-17:00 UTC'::leadflow.workhours;
SELECT 'mon 25:00-26:00 UTC'::leadflow.workhours;
SELECT 'mon 09:75-10:00 UTC'::leadflow.workhours;
SELECT 'mon 09:00-24:30 UTC'::leadflow.workhours;
SELECT 'mon 24:00-24:00 UTC'::leadflow.workhours;
SELECT 'mon 17:00-09:00 UTC'::leadflow.workhours;
SELECT 'mon 09:00-09:00 UTC'::leadflow.workhours;
SELECT 'mon 09:00-12:00,11:00-13:00 UTC'::leadflow.workhours;
SELECT 'mon-fri 09:00-17:00; mon 12:00-13:00 UTC'::leadflow.workhours;
SELECT 'mon-fri,wed 09:00-17:00 UTC'::leadflow.workhours;
SELECT 'mon 00:00-01:00,02:00-03:00,04:00-05:00,06:00-07:00,08:00-09:00,10:00-11:00,12:00-13:00,14:00-15:00,16:00-17:00,18:00-19:00,20:00-21:00,22:00-23:00,23:30-24:00 UTC'::leadflow.workhours;
SELECT 'mon-fri 09:00-17:00'::leadflow.workhours;
SELECT 'mon-fri 09:00-17:00 Americaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/New_York'::leadflow.workhours;
SELECT 'mon-fri 09:00-17:00 UTC please'::leadflow.workhours;
SELECT 'mon 09:00-17:00 tue 10:00-11:00 UTC'::leadflow.workhours;
SELECT 'mon 09:00-17:00; UTC'::leadflow.workhours;
SELECT 'mon 09:00-10:00 10:00-11:00 UTC'::leadflow.workhours;
SELECT 'mon UTC'::leadflow.workhours;
SELECT 'mon 09:00 UTC'::leadflow.workhours;
SELECT 'mon 09:00-10:00;;tue 09:00-10:00 UTC'::leadflow.workhours;
SELECT 'mon 09:00-17:00 Europe/Berlin!'::leadflow.workhours;
SELECT 'mon 09:00-17:00 FOO5BAR'::leadflow.workhours;
SELECT 'mon 09:00-17:00 UTC+3'::leadflow.workhours;
SELECT 'mon 09:00-17:00 posixrules'::leadflow.workhours;
-- positions count characters, not bytes
SELECT 'mön 09:00-17:00 UTC'::leadflow.workhours;
SELECT 'sun 09:00-10:00; mön 09:00-17:00 UTC'::leadflow.workhours;
\set VERBOSITY terse

-- The same catalogue as SQLSTATEs (all 22P02).
DO $$
DECLARE
    lit text;
    state text;
    detail text;
BEGIN
    FOREACH lit IN ARRAY ARRAY[
        '', '   ', 'mon 09:00-17:00 Mars/Olympus', 'mox 09:00-17:00 UTC', 'mon 9h-17:00 UTC',
        'mon 25:00-26:00 UTC', 'mon 09:75-10:00 UTC', 'mon 17:00-09:00 UTC',
        'mon-fri 09:00-17:00; mon 12:00-13:00 UTC', 'mon,mon 09:00-17:00 UTC',
        'mon 0:00-1:00,2:00-3:00,4:00-5:00,6:00-7:00,8:00-9:00,10:00-11:00,12:00-13:00,14:00-15:00,16:00-17:00,18:00-19:00,20:00-21:00,22:00-23:00,23:30-24:00 UTC',
        'mon-fri 09:00-17:00', 'mon 09:00-17:00 ' || repeat('x', 65), 'mon 09:00-17:00 UTC x',
        'mon 09:00-17:00 FOO5BAR', 'mon', ';', 'mon 09:00-', 'mon 09:00-17:00 U@C']
    LOOP
        BEGIN
            PERFORM lit::leadflow.workhours;
            RAISE NOTICE '% accepted', quote_literal(lit);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
            RAISE NOTICE '% %: %', state, quote_literal(left(lit, 40)), detail;
        END;
    END LOOP;
END $$;
\set VERBOSITY default
