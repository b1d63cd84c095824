-- leadflow.cadence: text and binary I/O, canonical form, equality and
-- hashing, named plans, and the functions that look inside.
\set VERBOSITY default
-- Offsets print as intervals; use the default style, not pg_regress's.
SET intervalstyle = postgres;

--
-- Text round trips and the canonical form
--
SELECT 'call@0, email@1h, call@1d'::leadflow.cadence;
SELECT c::leadflow.cadence AS canonical, c AS written
FROM (VALUES
    ('CALL@0,Email@60m'),                 -- case, no spaces
    (E'  call @ 0 ,\temail@ 90m\n, sms @1d  '), -- whitespace around tokens
    ('call@7d'),                          -- 7 days are a week
    ('call@0h, email@14d, sms@15d'),      -- 0h is 0
    ('call@0d, meeting@1w1d4h30m'),
    ('social@1440m'),                     -- 24 hours stay hours, not a day
    ('call@25h, email@1d2h'),             -- 25h < 1d2h nominally
    ('call@01h, email@0002d'),            -- leading zeros
    ('call@3660d')                        -- the largest offset
) AS t(c);

-- Output reads back as the same value.
SELECT c, c::text::leadflow.cadence OPERATOR(leadflow.=) c AS round_trip
FROM (VALUES ('call@0, email@1h30m, sms@1w6d23h59m'::leadflow.cadence),
             (leadflow.cadence_named('30x90'))) AS t(c);

-- 100 steps is the limit, and fine.
SELECT leadflow.cadence_length(string_agg('call@' || i || 'm', ',')::leadflow.cadence)
FROM generate_series(1, 100) AS i;

-- NULL in, NULL out (everything is strict).
SELECT NULL::leadflow.cadence IS NULL AS null_cadence,
       leadflow.cadence_named(NULL) IS NULL AS null_name,
       leadflow.cadence_length(NULL) IS NULL AS null_length,
       (SELECT count(*) FROM leadflow.cadence_steps(NULL)) AS null_steps;

--
-- Bad literals: a few with the full error report ...
--
SELECT ''::leadflow.cadence;
SELECT 'fax@1h'::leadflow.cadence;
SELECT 'call@0, email@2d, call@1d'::leadflow.cadence;
SELECT 'call@1d, email@24h'::leadflow.cadence;
SELECT 'call@1y'::leadflow.cadence;
SELECT 'call@0,,email@1h'::leadflow.cadence;
SELECT 'call@3661d'::leadflow.cadence;
SELECT 'call@0 ☃'::leadflow.cadence;
SELECT 'cäll@0, email@1h'::leadflow.cadence;

-- ... and the whole catalogue with SQLSTATE, detail and hint.
DO $$
DECLARE
    lit text;
    d text;
    h text;
BEGIN
    FOREACH lit IN ARRAY ARRAY[
        '',                                -- empty input
        '   ',                             -- only whitespace
        ',',                               -- a lone comma
        ',call@0',                         -- empty first step
        'call@0,,email@1h',                -- empty step in the middle
        'call@0,',                         -- trailing comma
        'call',                            -- missing "@"
        'call 1h',                         -- missing "@", space instead
        '@1h',                             -- missing channel
        'call@',                           -- missing offset
        'call@ , email@1h',                -- missing offset before a comma
        'fax@1h',                          -- unknown channel
        'cäll@0',                          -- unknown channel, non-ASCII
        'call1h',                          -- unknown channel, "@" forgotten
        'call@-1h',                        -- negative offset
        'call@soon',                       -- offset that is no number
        'call@@1h',                        -- two "@"
        'call@1y',                         -- unknown unit
        'call@1H',                         -- units are lower case
        'call@2hours',                     -- unit spelt out
        'call@15',                         -- number without unit
        'call@00',                         -- only a bare 0 has no unit
        'call@1d4',                        -- last number without unit
        'call@1.5h',                       -- fraction
        'call@1d1w',                       -- units out of order
        'call@1h1h',                       -- unit repeated
        'call@1d 4h',                      -- space inside an offset
        'call@0 email@1h',                 -- missing comma
        'call@1d;',                        -- trailing junk
        'call@0 ☃',                        -- trailing non-ASCII junk
        'call@0, email@0',                 -- equal offsets
        'call@0, email@2d, call@1d',       -- decreasing offsets
        'call@1d, email@24h',              -- equal nominally
        'call@3661d',                      -- too large
        'call@3660d1m',                    -- too large by a minute
        'call@87841h',                     -- too large in hours
        'call@99999999999999999999999w',   -- would overflow 64 bits
        (SELECT string_agg('sms@' || i || 'm', ',')  -- 101 steps
         FROM generate_series(1, 101) AS i)
    ] LOOP
        BEGIN
            PERFORM lit::leadflow.cadence;
            RAISE NOTICE '% accepted!', quote_literal(lit);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL,
                                    h = PG_EXCEPTION_HINT;
            RAISE NOTICE '% -> % % [%]', quote_literal(lit), SQLSTATE, d, h;
        END;
    END LOOP;
END
$$;

--
-- Equality and hashing
--
-- The operators live in schema leadflow: qualified, or with leadflow on the
-- search_path.
SELECT 'call@0'::leadflow.cadence OPERATOR(leadflow.=) 'CALL@0' AS qualified;
SET search_path = public, leadflow;
SELECT 'call@0, email@60m'::leadflow.cadence = ' CALL@0,EMAIL@1h' AS same_plan,
       'call@1d'::leadflow.cadence = 'call@24h' AS day_is_not_24h,
       'call@1d'::leadflow.cadence <> 'call@24h' AS differ,
       'call@0'::leadflow.cadence <> 'call@0' AS not_differ,
       'call@0'::leadflow.cadence = 'email@0' AS channel_matters;
SELECT leadflow.cadence_hash('call@0, email@60m') = leadflow.cadence_hash('call@0,email@1h') AS same_hash,
       leadflow.cadence_hash_extended('call@0, email@60m', 42) =
       leadflow.cadence_hash_extended('call@0,email@1h', 42) AS same_hash_extended;

-- DISTINCT and GROUP BY use the default hash operator class.
SELECT c FROM (
    SELECT DISTINCT c
    FROM (VALUES ('call@0, email@1h'::leadflow.cadence), ('CALL@0,EMAIL@60m'),
                 ('call@0, email@1h1m'), ('call@7d'), ('call@1w')) AS t(c)
) AS d ORDER BY c::text;
SELECT c, count(*)
FROM (VALUES ('call@0, email@1h'::leadflow.cadence), ('CALL@0,EMAIL@60m'),
             ('call@0, email@1h1m'), ('call@7d'), ('call@1w'), ('call@1w')) AS t(c)
GROUP BY c
ORDER BY c::text;

--
-- The type as a table column, with a hash index and a hash join
--
CREATE TEMP TABLE plan (id int PRIMARY KEY, c leadflow.cadence NOT NULL);
INSERT INTO plan VALUES
    (1, 'call@0, email@1h'),
    (2, leadflow.cadence_named('10x30')),
    (3, leadflow.cadence_named('30x90')),
    (4, 'sms@15m'),
    (5, 'call@0,email@60m');
CREATE INDEX ON plan USING hash (c);
SELECT id, c FROM plan ORDER BY id;
SELECT a.id, b.id FROM plan a JOIN plan b ON a.c = b.c AND a.id < b.id;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM plan WHERE c = 'call@0, email@1h';
SELECT id FROM plan WHERE c = 'call@0, email@1h' ORDER BY id;
RESET enable_seqscan;
UPDATE plan SET c = 'meeting@2d' WHERE id = 4;
SELECT id, c, leadflow.cadence_length(c) FROM plan WHERE id IN (1, 4) ORDER BY id;

--
-- Named plans
--
SELECT leadflow.cadence_named('10x30');
SELECT leadflow.cadence_named('10x30') =
       'call@0, email@1h, call@1d, email@2d, call@4d, email@7d, call@11d, email@16d, call@22d, email@30d'
       AS is_the_30_day_plan;
SELECT * FROM leadflow.cadence_steps(leadflow.cadence_named('10x30'));
SELECT leadflow.cadence_length(leadflow.cadence_named('30x90'));
SELECT * FROM leadflow.cadence_steps(leadflow.cadence_named('30x90'));
-- Calls and emails alternate, starting with a call.
SELECT channel, count(*), min(step), max(step)
FROM leadflow.cadence_steps(leadflow.cadence_named('30x90'))
WHERE (channel = 'call') = (step % 2 = 0)
GROUP BY channel ORDER BY channel;
SELECT leadflow.cadence_named('10X30');
SELECT leadflow.cadence_named('');

--
-- cadence_steps and cadence_length
--
SELECT * FROM leadflow.cadence_steps('call@0, email@1h, sms@1d4h, meeting@1w, social@1w2d23h59m');
SELECT leadflow.cadence_length('call@0');
-- Offsets are intervals with separate days and times (days stay calendar
-- days: adding them to a timestamptz keeps the wall-clock time across DST).
SELECT step, "offset", extract(day FROM "offset") AS days,
       extract(hour FROM "offset") AS hours
FROM leadflow.cadence_steps('call@25h, email@1d2h') ORDER BY step;
SET timezone = 'America/New_York';
SELECT '2024-03-09 10:00'::timestamptz + "offset" AS due
FROM leadflow.cadence_steps('call@1d, email@1d1m, sms@25h') ORDER BY step;
RESET timezone;

--
-- Binary send/receive, through COPY (FORMAT binary) to a file and back
--
SELECT '/tmp/leadflow_regress_cadence_' || pg_backend_pid() || '.bin' AS binfile \gset
CREATE TEMP TABLE plan_copy (LIKE plan);
COPY plan TO :'binfile' (FORMAT binary);
COPY plan_copy FROM :'binfile' (FORMAT binary);
SELECT count(*) AS rows, count(*) FILTER (WHERE p.c = q.c) AS equal
FROM plan p JOIN plan_copy q USING (id);

-- The wire format: int4 steps, then int4 channel, int4 days, int8 usecs.
SELECT leadflow.cadence_send('email@1d1m');

-- Bad binary values: write raw bytes as a bytea column, read them back as
-- a cadence column (a binary COPY file holds each field's raw bytes).
SET leadflow_test.binfile = :'binfile';
CREATE TEMP TABLE raw (what text, b bytea);
INSERT INTO raw VALUES
    ('good',            decode('00000002' || '00000000000000000000000000000000'
                                         || '00000001000000010000000003938700', 'hex')),
    ('no steps',        decode('00000000', 'hex')),
    ('101 steps',       decode('00000065', 'hex')),
    ('negative count',  decode('ffffffff', 'hex')),
    ('bad channel',     decode('00000001' || '00000005000000000000000000000000', 'hex')),
    ('negative days',   decode('00000001' || '00000000ffffffff0000000000000000', 'hex')),
    ('negative usecs',  decode('00000001' || '0000000000000000ffffffffffffffff', 'hex')),
    ('not minutes',     decode('00000001' || '00000000000000000000000000000001', 'hex')),
    ('too large',       decode('00000001' || '0000000000000001' || '00011f9aa3308000', 'hex')),
    ('usecs near int8 max', decode('00000001' || '0000000000000001' || '7ffffffffcbc3000', 'hex')),
    ('not increasing',  decode('00000002' || '00000000000000010000000000000000'
                                         || '0000000100000000000000141dd76000', 'hex')),
    ('short',           decode('00000002' || '00000000000000000000000000000000', 'hex')),
    ('trailing bytes',  decode('00000001' || '00000000000000000000000000000000ff', 'hex'));
CREATE TEMP TABLE raw_in (c leadflow.cadence);
DO $$
DECLARE
    r record;
    d text;
BEGIN
    FOR r IN SELECT what, b FROM raw LOOP
        EXECUTE format('COPY (SELECT %L::bytea) TO %L (FORMAT binary)',
                       r.b, current_setting('leadflow_test.binfile'));
        BEGIN
            EXECUTE format('COPY raw_in FROM %L (FORMAT binary)',
                           current_setting('leadflow_test.binfile'));
            RAISE NOTICE '%: accepted', r.what;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
            RAISE NOTICE '%: % % (%)', r.what, SQLSTATE, SQLERRM, d;
        END;
    END LOOP;
END
$$;
SELECT c FROM raw_in;

-- Remove the scratch file.
\set rmfile 'rm -f ' :binfile
COPY (SELECT 1) TO PROGRAM :'rmfile';
RESET leadflow_test.binfile;
RESET search_path;
