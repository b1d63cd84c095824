-- Business time and scoring throughput: calls per second of
-- leadflow.next_touch, add_business_time, business_time_between, next_open
-- and predict, each over N rows of arguments (1,000,000; quick: 200,000),
-- against the same scan computing a trivial expression of the same
-- arguments (ts + d for business time, doc -> 'segment' for predict), so
-- the ratio is the functions' own cost.  One backend, no parallel workers;
-- each query runs twice and the faster run counts.
--
-- The arguments mix six schedules in six time zones (lunch breaks, a
-- Saturday, a Sunday-Thursday week, the southern hemisphere, a zone
-- without DST, UTC), holidays on a fifth of the rows, and instants in the
-- days around the 2026 DST changes (US 8 March and 1 November, EU 29 March
-- and 25 October, Australia 5 April and 4 October).
\pset footer off
SET max_parallel_workers_per_gather = 0;
SELECT CASE WHEN :'scale' = 'quick' THEN 200000 ELSE 1000000 END AS n \gset

CREATE UNLOGGED TABLE bt_args AS
SELECT g,
       (ARRAY['mon-fri 09:00-17:00 America/New_York',
              'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 Europe/Berlin',
              'sun-thu 08:00-16:00 Asia/Jerusalem',
              'mon-fri 09:00-17:00 Australia/Sydney',
              'mon-fri 10:00-19:00 Asia/Kolkata',
              'mon,wed,fri 10:00-14:00; tue,thu 12:00-20:00 UTC'])[1 + g % 6]::leadflow.workhours AS h,
       CASE WHEN g % 5 = 0 THEN '{2026-03-30,2026-04-03,2026-04-06,2026-10-26,2026-11-03}'::date[]
            ELSE '{}' END AS holidays,
       t.ts,
       make_interval(days => g % 3, mins => (g * 37) % 600) AS d,
       t.ts + (g % 20000) * interval '1 minute' AS b,
       leadflow.cadence_named(CASE WHEN g % 2 = 0 THEN '10x30' ELSE '30x90' END) AS c,
       g % 10 AS step,
       CASE WHEN g % 3 = 0 THEN t.ts - interval '1 day' END AS prev
  FROM generate_series(1, :n) g,
       LATERAL (SELECT (ARRAY[timestamptz '2026-03-06 12:00+00', '2026-03-27 12:00+00',
                              '2026-04-03 12:00+00', '2026-10-02 12:00+00',
                              '2026-10-23 12:00+00', '2026-10-30 12:00+00'])[1 + (g / 7) % 6]
                       + (g % 4000) * interval '1 minute 7 seconds' AS ts) t;

-- The model predict applies: trained on 20,000 closed leads, imported.
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, source, country, attrs, stage)
SELECT 'p' || g || '@d' || (g % 500) || '.example',
       (ARRAY['web_form', 'inbound_call', 'purchased_list', 'event', 'referral'])[1 + g % 5],
       (ARRAY['US', 'DE', 'IL', 'AU', 'IN'])[1 + g % 7 % 5],
       jsonb_build_object('segment', (ARRAY['smb', 'mid', 'ent'])[1 + g % 3],
                          'employees', (g * 13) % 5000,
                          'industry', (ARRAY['saas', 'retail', 'finance', 'health'])[1 + g % 4]),
       CASE WHEN (g * 7919) % 100 < 15 + 10 * (g % 3) + 5 * (g % 5 / 4) THEN 'converted'
            ELSE 'rejected' END::leadflow.stage
  FROM generate_series(1, 20000) g;
RESET leadflow.route_on_insert;
SELECT model, positives, negatives, features, parameters, round(auc::numeric, 3) AS training_auc
  FROM leadflow.train(ARRAY['segment', 'employees', 'industry', 'source', 'country']);

CREATE UNLOGGED TABLE predict_args AS
SELECT g, jsonb_build_object(
           'segment', (ARRAY['smb', 'mid', 'ent'])[1 + g % 3],
           'employees', (g * 17) % 6000,
           'industry', (ARRAY['saas', 'retail', 'finance', 'health', 'energy'])[1 + g % 5],
           'source', (ARRAY['web_form', 'inbound_call', 'purchased_list', 'event', 'referral'])[1 + g % 5],
           'country', (ARRAY['US', 'DE', 'IL', 'AU', 'IN', 'FR'])[1 + g % 6],
           'domain', 'd' || (g % 500) || '.example') AS doc
  FROM generate_series(1, :n) g;
VACUUM ANALYZE bt_args;
VACUUM ANALYZE predict_args;

CREATE FUNCTION best_of_2(q text) RETURNS float8 LANGUAGE plpgsql AS $$
BEGIN
    RETURN least(timed(q), timed(q));
END $$;

CREATE TABLE bt_results (fn text, baseline text, calls bigint, seconds float8);
INSERT INTO bt_results
SELECT fn, baseline, :n, best_of_2(format('SELECT count(%s) FROM %s', expr, tab))
  FROM (VALUES
        ('baseline: ts + d', NULL, 'ts + d', 'bt_args'),
        ('baseline: doc -> ''segment''', NULL, 'doc -> ''segment''', 'predict_args'),
        ('next_touch', 'baseline: ts + d', 'leadflow.next_touch(c, step, ts, h, holidays, prev)', 'bt_args'),
        ('add_business_time', 'baseline: ts + d', 'leadflow.add_business_time(ts, d, h, holidays)', 'bt_args'),
        ('business_time_between', 'baseline: ts + d', 'leadflow.business_time_between(ts, b, h, holidays)', 'bt_args'),
        ('next_open', 'baseline: ts + d', 'leadflow.next_open(ts, h, holidays)', 'bt_args'),
        ('predict', 'baseline: doc -> ''segment''', 'leadflow.predict(doc)', 'predict_args')
       ) v(fn, baseline, expr, tab);

\echo 'Business time and scoring, calls per second (one backend), against a trivial expression over the same rows:'
SELECT r.fn AS function, r.calls,
       round(r.seconds::numeric, 3) AS seconds,
       round((r.calls / r.seconds)::numeric) AS calls_per_s,
       round((r.seconds / b.seconds)::numeric, 2) AS time_vs_baseline,
       round(((r.seconds - b.seconds) / r.calls * 1e6)::numeric, 3) AS net_us_per_call
  FROM bt_results r LEFT JOIN bt_results b ON b.fn = coalesce(r.baseline, r.fn)
 ORDER BY r.baseline NULLS FIRST, r.seconds;

\echo 'Sanity: results are not NULL where they must not be, and round trips hold:'
SELECT count(*) FILTER (WHERE leadflow.next_open(ts, h, holidays) IS NULL) AS next_open_nulls,
       count(*) FILTER (WHERE leadflow.add_business_time(ts, d, h, holidays) < ts) AS add_went_back,
       count(*) FILTER (WHERE extract(day FROM d) = 0
                          AND leadflow.business_time_between(ts, leadflow.add_business_time(ts, d, h, holidays), h, holidays) <> d)
           AS round_trip_errors
  FROM bt_args WHERE g % 100 = 0;
