/* leadflow--1.0--1.1.sql: update leadflow 1.0 to 1.1 */

\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.1'" to load this file. \quit

-- There is no leadflow--1.1.sql: CREATE EXTENSION runs leadflow--1.0.sql and
-- then this script, so a fresh 1.1 and an updated 1.0 are built by the same
-- statements and cannot drift apart.
--
-- 1.1 adds row-level security for reps and the invariant check.

------------------------------------------------------------------------
-- BEGIN invariants
------------------------------------------------------------------------

-- leadflow.check_invariants(): what must hold between the leads, the
-- counters and the ledger, checked by reading them.  No rows means all is
-- well; each row is one violation: its kind, the rep and/or lead it is
-- about, and what was found.  Kinds:
--
--   open_count      rep_load.open_count differs from the rep's open leads.
--   new_count       rep_load.new_count is outside what the ledger allows for
--                   its day (new_day, the rep's local date, as in caps.c).
--                   Every seat counts as new, and every seat but one taken
--                   by reopening is written to the ledger, so the count lies
--                   between the routing decisions (assign, reassign_sla,
--                   handoff, escalate) to the rep that local day and those
--                   plus the manual decisions (a manual move of a closed
--                   lead takes no seat) plus the leads that came back into
--                   an open stage that day (reopen takes a seat without a
--                   decision: the owner does not change).
--   over_max_open   the rep holds more open leads than the cap in force at
--   over_max_new_per_day  its latest cap-checked seat, plus the leads it
--                   holds past the caps on purpose.  A cap may be lowered
--                   under a full pipeline -- that takes no lead away and is
--                   not a violation -- so the cap judged is the one routing
--                   recorded (candidates -> max_open / max_new_per_day of
--                   the chosen rep) when it gave the rep the most recent
--                   seat it still holds: after that claim no checked claim
--                   can have pushed the rep past it.  Seats past the caps on
--                   purpose are a manager's override (a manual decision
--                   whose reason ends in "(cap overridden by a manager)")
--                   and an escalation to the owner's manager (reason
--                   "escalated to the owner's manager").  A rep whose most
--                   recent seat was a manual move is not judged (a manual
--                   decision does not record the cap).
--   owner_missing   a lead's owner_id names no rep (only possible with the
--                   foreign keys bypassed).
--   ledger_owner    an open lead with an owner whose latest decision does
--                   not name that owner (or that has no decision at all).
--   backlog         an open lead without an owner must be in the backlog:
--                   either never routed (no queue and no decision, as with
--                   leadflow.route_on_insert off) or routed to a queue
--                   whose latest decision names no owner (backlog, a manual
--                   unassignment, or an unsuccessful sweep move).
--   ledger_queue    an open lead's queue differs from the queue of its latest
--                   decision (when that queue still exists: a renamed queue
--                   is renamed in leads, not in the append-only ledger).
--   duplicate_of    duplicate_of or referred_by names a lead that does not
--                   exist (only possible with the foreign keys bypassed).
--
-- Not invariants, by design: an inactive or away rep may still own open
-- leads (deactivating takes nothing away; the sweep moves them when their
-- SLA passes), and a deleted rep cannot own leads (the foreign key refuses
-- the delete).  An account's owner is a routing preference that managers
-- set freely; nothing ties it to the owners of the account's leads.
--
-- Known limits: a manager's override on reopen() is not recorded (no
-- decision is written), so it can show as over_max_*; the local day of a
-- decision is computed in the rep's current time zone.
CREATE FUNCTION leadflow.check_invariants()
    RETURNS TABLE (kind text, rep_id integer, lead_id bigint, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow
AS $$
WITH open_lead AS (
    SELECT l.*
      FROM leadflow.lead l
     WHERE l.stage IN ('new', 'working')
),
latest AS (
    -- the latest decision about each open lead
    SELECT DISTINCT ON (d.lead_id) d.*
      FROM leadflow.decision d
     WHERE d.lead_id IN (SELECT id FROM open_lead)
     ORDER BY d.lead_id, d.id DESC
),
seat AS (
    -- each open lead with an owner, with the decision that seated it
    SELECT l.owner_id, l.id AS lead_id, d.id AS decision_id, d.kind, d.candidates,
           (d.kind = 'manual' AND d.reason LIKE '%(cap overridden by a manager)')
           OR (d.kind = 'escalate' AND d.reason = 'escalated to the owner''s manager') AS forced
      FROM open_lead l
      JOIN latest d ON d.lead_id = l.id AND d.to_rep = l.owner_id
),
held AS (
    SELECT s.owner_id AS rep_id, count(*) AS open_leads,
           count(*) FILTER (WHERE s.forced) AS forced,
           max(s.decision_id) FILTER (WHERE NOT s.forced) AS last_checked
      FROM seat s
     GROUP BY s.owner_id
),
last_cap AS (
    -- the caps routing enforced when it gave the rep its latest checked
    -- seat (NULL when that seat was a manual move)
    SELECT h.rep_id, h.open_leads, h.forced, h.last_checked,
           (c ->> 'max_open')::integer AS max_open
      FROM held h
      JOIN leadflow.decision d ON d.id = h.last_checked
      LEFT JOIN LATERAL jsonb_array_elements(d.candidates) c
             ON (c ->> 'rep')::integer = h.rep_id AND (c ->> 'chosen')::boolean
),
actual AS (
    SELECT r.id, r.name, leadflow.workhours_zone(r.hours) AS zone, coalesce(rl.open_count, 0) AS open_count,
           rl.new_day, coalesce(rl.new_count, 0) AS new_count,
           (SELECT count(*) FROM open_lead l WHERE l.owner_id = r.id) AS open_leads
      FROM leadflow.rep r
      LEFT JOIN leadflow.rep_load rl ON rl.rep_id = r.id
),
day_seats AS (
    -- the seats the ledger records for each rep on its new_day
    SELECT a.id AS rep_id, a.new_day, a.new_count,
           count(d.id) FILTER (WHERE d.kind IN ('assign', 'reassign_sla', 'handoff', 'escalate'))
               AS routed,
           count(d.id) FILTER (WHERE d.kind = 'manual') AS manual,
           count(d.id) FILTER (WHERE d.kind = 'manual' AND d.reason LIKE '%(cap overridden by a manager)'
                               OR d.kind = 'escalate' AND d.reason = 'escalated to the owner''s manager')
               AS forced,
           max(d.id) FILTER (WHERE NOT (d.kind = 'manual' AND d.reason LIKE '%(cap overridden by a manager)'
                                        OR d.kind = 'escalate' AND d.reason = 'escalated to the owner''s manager'))
               AS last_checked,
           (SELECT count(*) FROM leadflow.stage_history sh
             WHERE sh.from_stage IN ('qualified', 'converted', 'nurture', 'rejected')
               AND sh.to_stage IN ('new', 'working')
               AND (sh.at AT TIME ZONE a.zone)::date = a.new_day)
               AS reopened
      FROM actual a
      LEFT JOIN leadflow.decision d
             ON d.to_rep = a.id
            AND d.kind IN ('assign', 'reassign_sla', 'handoff', 'escalate', 'manual')
            AND (d.at AT TIME ZONE a.zone)::date = a.new_day
     GROUP BY a.id, a.zone, a.new_day, a.new_count
)
SELECT 'open_count', a.id, NULL::bigint,
       pg_catalog.format('rep_load.open_count is %s but rep "%s" owns %s open leads',
                         a.open_count, a.name, a.open_leads)
  FROM actual a
 WHERE a.open_count <> a.open_leads
UNION ALL
SELECT 'new_count', s.rep_id, NULL,
       CASE WHEN s.new_day IS NULL
            THEN pg_catalog.format('rep_load.new_count is %s with no new_day', s.new_count)
            ELSE pg_catalog.format('rep_load.new_count is %s on %s but the ledger gives between %s and %s new seats that day',
                                   s.new_count, to_char(s.new_day, 'YYYY-MM-DD'), s.routed,
                                   s.routed + s.manual + s.reopened)
       END
  FROM day_seats s
 WHERE (s.new_day IS NULL AND s.new_count <> 0)
    OR s.new_count < s.routed
    OR s.new_count > s.routed + s.manual + s.reopened
UNION ALL
SELECT 'over_max_open', c.rep_id, NULL,
       pg_catalog.format('%s open leads; its latest cap-checked seat (decision %s) was under max_open = %s; %s held past the caps on purpose',
                         c.open_leads, c.last_checked, c.max_open, c.forced)
  FROM last_cap c
 WHERE c.max_open IS NOT NULL AND c.open_leads > c.max_open + c.forced
UNION ALL
SELECT 'over_max_new_per_day', s.rep_id, NULL,
       pg_catalog.format('%s new leads on %s; its latest cap-checked seat that day (decision %s) was under max_new_per_day = %s; %s given past the caps on purpose',
                         s.new_count, to_char(s.new_day, 'YYYY-MM-DD'), s.last_checked,
                         (c ->> 'max_new_per_day')::integer, s.forced)
  FROM day_seats s
  JOIN leadflow.decision d ON d.id = s.last_checked
  JOIN LATERAL jsonb_array_elements(d.candidates) c
       ON (c ->> 'rep')::integer = s.rep_id AND (c ->> 'chosen')::boolean
 WHERE s.new_count > (c ->> 'max_new_per_day')::integer
                     + (SELECT count(*) FROM leadflow.decision f
                         WHERE f.to_rep = s.rep_id AND f.id > s.last_checked
                           AND (f.kind = 'manual' AND f.reason LIKE '%(cap overridden by a manager)'
                                OR f.kind = 'escalate' AND f.reason = 'escalated to the owner''s manager'))
UNION ALL
SELECT 'owner_missing', l.owner_id, l.id,
       pg_catalog.format('lead %s is owned by rep %s, which does not exist', l.id, l.owner_id)
  FROM leadflow.lead l
 WHERE l.owner_id IS NOT NULL
   AND NOT EXISTS (SELECT FROM leadflow.rep r WHERE r.id = l.owner_id)
UNION ALL
SELECT 'ledger_owner', l.owner_id, l.id,
       CASE WHEN d.id IS NULL
            THEN pg_catalog.format('open lead %s has owner %s but no decision', l.id, l.owner_id)
            ELSE pg_catalog.format('open lead %s has owner %s but its latest decision (%s, %s) names %s',
                                   l.id, l.owner_id, d.id, d.kind, coalesce(d.to_rep::text, 'no owner'))
       END
  FROM open_lead l
  LEFT JOIN latest d ON d.lead_id = l.id
 WHERE l.owner_id IS NOT NULL AND d.to_rep IS DISTINCT FROM l.owner_id
UNION ALL
SELECT 'backlog', d.to_rep, l.id,
       CASE WHEN d.id IS NULL
            THEN pg_catalog.format('open lead %s without an owner is in queue "%s" but has no decision',
                                   l.id, l.queue)
            WHEN d.to_rep IS NOT NULL
            THEN pg_catalog.format('open lead %s has no owner but its latest decision (%s, %s) names %s',
                                   l.id, d.id, d.kind, d.to_rep)
            ELSE pg_catalog.format('open lead %s without an owner has decisions but no queue', l.id)
       END
  FROM open_lead l
  LEFT JOIN latest d ON d.lead_id = l.id
 WHERE l.owner_id IS NULL
   AND ((d.id IS NULL AND l.queue IS NOT NULL)
        OR d.to_rep IS NOT NULL
        OR (d.id IS NOT NULL AND l.queue IS NULL))
UNION ALL
SELECT 'ledger_queue', l.owner_id, l.id,
       pg_catalog.format('open lead %s is in %s but its latest decision (%s, %s) put it in queue "%s"',
                         l.id, coalesce('queue "' || l.queue || '"', 'no queue'), d.id, d.kind, d.queue)
  FROM open_lead l
  JOIN latest d ON d.lead_id = l.id
 WHERE d.queue IS NOT NULL AND l.queue IS DISTINCT FROM d.queue
   AND EXISTS (SELECT FROM leadflow.queue q WHERE q.name = d.queue)
UNION ALL
SELECT 'duplicate_of', l.owner_id, l.id,
       pg_catalog.format('lead %s: %s names lead %s, which does not exist', l.id, x.col, x.target)
  FROM leadflow.lead l,
       LATERAL (VALUES ('duplicate_of', l.duplicate_of), ('referred_by', l.referred_by)) x(col, target)
 WHERE x.target IS NOT NULL
   AND NOT EXISTS (SELECT FROM leadflow.lead t WHERE t.id = x.target)
ORDER BY 1, 2, 3
$$;
COMMENT ON FUNCTION leadflow.check_invariants() IS
    'What must hold between leads, rep counters and the decision ledger: one row per violation, none when all is well.';
REVOKE ALL ON FUNCTION leadflow.check_invariants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.check_invariants() TO leadflow_admin, leadflow_manager;


-- END invariants

------------------------------------------------------------------------
-- BEGIN security
------------------------------------------------------------------------

-- END security
