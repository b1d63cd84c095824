-- leadflow's settings: defaults, ranges, the reserved prefix, and the
-- fixed clock that every time-dependent function reads.
SET timezone = 'UTC';
SHOW leadflow.route_on_insert;
SHOW leadflow.sweep_batch_size;
SHOW leadflow.override_caps;
SHOW leadflow.clock;
SHOW leadflow.detect_duplicates;
SHOW leadflow.default_country;

-- The prefix is reserved: a misspelt setting is an error, not a placeholder.
SET leadflow.route_on_inserts = off;
SET leadflow.sweep_batch_size = 0;
SET leadflow.sweep_batch_size = 5000;
SHOW leadflow.sweep_batch_size;
RESET leadflow.sweep_batch_size;
SET leadflow.route_on_insert = maybe;

-- Without a clock, leadflow.now() is the transaction's start time.
BEGIN;
SELECT leadflow.now() = now() AS real_time;
COMMIT;

-- A fixed clock, written with an offset or in the session's time zone.
SET leadflow.clock = '2026-03-09 09:00:00+00';
SELECT leadflow.now();
SET leadflow.clock = '2026-03-09 09:00:00 America/New_York';
SELECT leadflow.now();
SET TIME ZONE 'Asia/Kolkata';
SET leadflow.clock = '2026-03-09 09:00';
SELECT leadflow.now();
RESET TIME ZONE;
SELECT leadflow.now();
-- The clock holds across statements and transactions.
SELECT leadflow.now() = leadflow.now() AS stable;
-- Tables default their timestamps to the clock.
CREATE TEMP TABLE clocked (at timestamptz DEFAULT leadflow.now());
INSERT INTO clocked DEFAULT VALUES;
SELECT at FROM clocked;
RESET leadflow.clock;
SELECT leadflow.now() = now() AS real_time_again;

-- Bad clocks are refused and leave the setting alone.
SET leadflow.clock = '2026-03-09 09:00:00+00';
SET leadflow.clock = 'next tuesday';
SET leadflow.clock = 'infinity';
SET leadflow.clock = '2026-02-30 09:00';
SHOW leadflow.clock;
RESET leadflow.clock;

-- Only a superuser may move the clock.
CREATE ROLE leadflow_guc_tester;
SET ROLE leadflow_guc_tester;
SET leadflow.clock = '2026-03-09 09:00:00+00';
SET leadflow.route_on_insert = off;
SHOW leadflow.route_on_insert;
RESET ROLE;
RESET leadflow.route_on_insert;
DROP ROLE leadflow_guc_tester;
