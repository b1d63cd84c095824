-- Importing history: COPY of a CRM's deals into leadflow.lead -- every row
-- kept as given (no cap refuses it), linked to its account by domain or
-- company name, its owner's counters kept, an open one given a follow-up
-- plan, each recorded in the ledger -- against a bare COPY of the same
-- file into a copy of the table without leadflow's triggers.  50,000
-- deals of 30 reps over two years (quick: 10,000), 100 accounts (85 by
-- domain), 20% from free mail with the company named.
\pset footer off
SET leadflow.clock = '2026-03-09 07:00:00+00';
SELECT CASE WHEN :'scale' = 'quick' THEN 10000 ELSE 50000 END AS deals \gset
SELECT '/tmp/leadflow-bench-import-' || pg_backend_pid() || '.csv' AS file \gset

INSERT INTO leadflow.rep (name, hours)
SELECT 'rep' || g, ('mon-fri 09:00-17:00 ' || (ARRAY['America/New_York', 'America/Chicago', 'America/Los_Angeles'])[1 + g % 3])::leadflow.workhours
  FROM generate_series(1, 30) g;
INSERT INTO leadflow.account (domain, name, attrs)
SELECT CASE WHEN g % 7 <> 3 THEN 'account' || g || '.example' END,
       'Account ' || g || (ARRAY[' Inc.', ', LLC', ' Corporation', ' Ltd', ' GmbH'])[1 + g % 5],
       jsonb_build_object('sector', (ARRAY['medical', 'energy', 'retail', 'software'])[1 + g % 4])
  FROM generate_series(1, 100) g;

-- The deals, as a CRM would export them.
CREATE TABLE history AS
SELECT 'crm-' || g AS external_id,
       '2024-03-09 07:00+00'::timestamptz + (g % 729) * interval '1 day' + (g % 13) * interval '1 hour' AS created_at,
       (ARRAY['web_form', 'inbound_call', 'event', 'purchased_list', 'referral'])[1 + g % 5] AS source,
       CASE WHEN g % 10 < 7 AND (g % 100) % 7 <> 2 THEN 'deal' || g || '@account' || 1 + g % 100 || '.example'
            WHEN g % 10 < 9 THEN 'deal' || g || '@gmail.com' END AS email,
       'Account ' || 1 + g % 100 || CASE WHEN g % 3 = 0 THEN ' incorporated' ELSE '' END AS company,
       'US' AS country,
       1 + g % 30 AS owner_id,
       (CASE WHEN g % 20 = 0 THEN 'working' WHEN g % 5 = 1 THEN 'converted' WHEN g % 5 = 2 THEN 'nurture'
             ELSE 'rejected' END)::leadflow.stage AS stage,
       1 + g % 6 AS touches,
       '2024-03-12 07:00+00'::timestamptz + (g % 726) * interval '1 day' AS last_touch_at
  FROM generate_series(1, :deals) g;
COPY history TO :'file' (FORMAT csv);
CREATE TABLE bare_lead (LIKE leadflow.lead INCLUDING ALL);
CHECKPOINT;

INSERT INTO results SELECT 'bare COPY', :deals, timed(format(
    'COPY bare_lead (external_id, created_at, source, email, company, country, owner_id, stage, touches, last_touch_at) FROM %L (FORMAT csv)',
    :'file'));
CHECKPOINT;
INSERT INTO results SELECT 'leadflow import (COPY into leadflow.lead)', :deals, timed(format(
    'COPY leadflow.lead (external_id, created_at, source, email, company, country, owner_id, stage, touches, last_touch_at) FROM %L (FORMAT csv)',
    :'file'));
CHECKPOINT;
COPY (SELECT 1) TO PROGRAM 'rm -f /tmp/leadflow-bench-import-*.csv';

\echo 'History imported with COPY, one session (30 reps, 100 accounts):'
SELECT r.kind, r.leads,
       round(r.seconds::numeric, 2) AS seconds,
       round((r.leads / r.seconds)::numeric) AS rows_per_s,
       round((b.seconds / r.seconds)::numeric, 3) AS rate_vs_bare
  FROM results r JOIN results b ON b.kind = 'bare COPY' AND b.leads = r.leads
 ORDER BY r.seconds;

\echo 'What the import did:'
SELECT count(*) AS leads, count(*) FILTER (WHERE stage IN ('new', 'working')) AS open,
       count(*) FILTER (WHERE stage IN ('new', 'working') AND next_touch_at IS NOT NULL
                          AND sla_due_at IS NOT NULL) AS open_with_a_plan
  FROM leadflow.lead;
SELECT coalesce(account_match::text, '(none)') AS account_match, count(*) AS decisions
  FROM leadflow.decision GROUP BY 1 ORDER BY 1;
SELECT count(*) AS counter_errors FROM leadflow.check_counters();
SELECT count(*) AS invariant_violations FROM leadflow.check_invariants();
SELECT sum(open_count) AS open_seats, sum(new_count) AS new_today, sum(closed_count) AS closed_counted
  FROM leadflow.rep_load;
