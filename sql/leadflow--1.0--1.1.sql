/* leadflow--1.0--1.1.sql: update leadflow 1.0 to 1.1 */

\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.1'" to load this file. \quit

-- There is no leadflow--1.1.sql: CREATE EXTENSION runs leadflow--1.0.sql and
-- then this script, so a fresh 1.1 and an updated 1.0 are built by the same
-- statements and cannot drift apart.
--
-- 1.1 stores the ledger's candidates compactly, and adds row-level
-- security for reps and the invariant check.

------------------------------------------------------------------------
-- BEGIN ledger (src/candidates.c)
------------------------------------------------------------------------

-- The candidates of a decision, packed: a fixed record per member instead
-- of a jsonb object (about 28 bytes instead of 140).  Its text form is the
-- same JSON array jsonb would print, and it casts implicitly to jsonb, so
-- readers use jsonb functions and operators on the column as before.
CREATE TYPE leadflow.candidate_list;

CREATE FUNCTION leadflow.candidate_list_in(cstring) RETURNS leadflow.candidate_list
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list_out(leadflow.candidate_list) RETURNS cstring
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list_recv(internal) RETURNS leadflow.candidate_list
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list_send(leadflow.candidate_list) RETURNS bytea
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE leadflow.candidate_list (
    INPUT = leadflow.candidate_list_in,
    OUTPUT = leadflow.candidate_list_out,
    RECEIVE = leadflow.candidate_list_recv,
    SEND = leadflow.candidate_list_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE leadflow.candidate_list IS
    'The candidates of a routing decision, stored compactly; reads as a JSON array and casts to jsonb.';

CREATE FUNCTION leadflow.jsonb(leadflow.candidate_list) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_to_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_list(jsonb) RETURNS leadflow.candidate_list
    AS 'MODULE_PATHNAME', 'leadflow_candidate_list_from_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.candidate_count(leadflow.candidate_list) RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_candidate_count'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.candidate_count(leadflow.candidate_list) IS
    'How many candidates a decision considered.';

-- Implicit: jsonb_array_elements(candidates), candidates -> 0 and
-- jsonb_path_query(candidates, ...) work on the column as they did on 1.0.
CREATE CAST (leadflow.candidate_list AS jsonb)
    WITH FUNCTION leadflow.jsonb(leadflow.candidate_list) AS IMPLICIT;
CREATE CAST (jsonb AS leadflow.candidate_list)
    WITH FUNCTION leadflow.candidate_list(jsonb) AS ASSIGNMENT;

-- Rewrites the ledger once.  Packed lists compress well (small numbers in
-- 32-bit fields), so 1.0's toast_tuple_target of 8160 -- chosen to spare
-- jsonb lists a pglz pass -- goes back to the default: a queue of 200's
-- list (5.6 kB) is stored lz4-compressed in about 1.1 kB, which made the
-- sweep a quarter cheaper; lists of queues under about 70 members stay
-- below the threshold and are not compressed at all.
ALTER TABLE leadflow.decision
    ALTER COLUMN candidates TYPE leadflow.candidate_list
    USING leadflow.candidate_list(candidates);
ALTER TABLE leadflow.decision RESET (toast_tuple_target);
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE leadflow.decision ALTER COLUMN candidates SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;   -- no lz4 in this server: pglz it is
END;
$$;
COMMENT ON COLUMN leadflow.decision.candidates IS
    'Every member considered, with its load, caps and why it was passed over (a JSON array; casts to jsonb).';

-- END ledger

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

-- Row-level security narrows one kind of session only: a role that has the
-- privileges of leadflow_rep and of neither leadflow_manager nor
-- leadflow_admin (a "rep session").  It sees and works the leads it owns
-- (leadflow.rep.login = the role's name), their touches and events, the
-- alerts addressed to it, and the ledger entries about its leads or naming
-- it.  Every other role -- managers, admins, the table owner, and any role a
-- DBA granted table privileges to (a CRM back end) -- keeps exactly what its
-- table privileges give, as before 1.1.
--
-- How: each table gets a permissive policy for PUBLIC that admits every row
-- (so enabling RLS hides nothing from anyone by itself) and a RESTRICTIVE
-- policy for leadflow_rep, ANDed with it, which only members of
-- leadflow_rep ever evaluate.  The table owner and superusers bypass RLS
-- (it is not FORCEd): the SECURITY DEFINER triggers and functions see every
-- row and check the acting role themselves.  The policies are extension
-- members: CREATE EXTENSION makes them, pg_dump leaves them out.
--
-- Cost.  What a policy needs to know -- "my rep id", "does this session
-- see all rows", "the ids of my leads" -- comes from STABLE functions in
-- scalar sub-selects, so each is an InitPlan computed once per query, not
-- per row.  And every restrictive policy is an OR of index conditions, so
-- that a rep's query is an index look-up, not a scan of every lead:
--     id BETWEEN (SELECT rls_all_from()) AND (SELECT rls_all_to())
--     OR <the row is the rep's>
-- The first arm is "every row" in a session that sees all rows (the
-- bounds are the whole bigint range) and "no row" in a rep session (the
-- bounds are NULL); unlike a plain boolean "(SELECT sees_all_rows()) OR
-- ...", it can be answered from the primary key, so the planner can OR
-- two index scans (BitmapOr) instead of filtering a sequential scan.
-- (200,000 leads, 100 reps: a rep's SELECT count(*) FROM work_list went
-- from 31 ms to 0.5 ms.)

-- The rep the current role is mapped to (leadflow.rep.login), or NULL.
-- current_user, not session_user: policies judge the role whose privileges
-- a statement runs with (after SET ROLE; the owner inside SECURITY DEFINER
-- code), as PostgreSQL's own privilege checks and policy TO clauses do.
-- Outside SECURITY DEFINER code it is leadflow.acting_role().
CREATE FUNCTION leadflow.current_rep_id() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow
AS $$ SELECT r.id FROM leadflow.rep r WHERE r.login = current_user::text $$;
COMMENT ON FUNCTION leadflow.current_rep_id() IS
    'The id of the rep whose login is the current role (leadflow.rep.login = current_user), NULL when there is none; row-level security narrows a rep session to this rep''s rows.';

-- False only in a rep session (see above).  pg_has_role(..., 'USAGE') is
-- "has the privileges of", the test policy TO clauses use; a superuser has
-- every role's privileges, so it is never a rep session.
CREATE FUNCTION leadflow.sees_all_rows() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow
AS $$
    SELECT NOT pg_catalog.pg_has_role(current_user, 'leadflow_rep', 'USAGE')
           OR pg_catalog.pg_has_role(current_user, 'leadflow_manager', 'USAGE')
           OR pg_catalog.pg_has_role(current_user, 'leadflow_admin', 'USAGE')
$$;
COMMENT ON FUNCTION leadflow.sees_all_rows() IS
    'False when row-level security narrows the current role to its own rep''s rows: it has the privileges of leadflow_rep and of neither leadflow_manager nor leadflow_admin.';

-- The id range of the rows a session sees whole: every bigint when it
-- sees all rows, none (NULL bounds) in a rep session.
CREATE FUNCTION leadflow.rls_all_from() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow
AS $$ SELECT CASE WHEN leadflow.sees_all_rows() THEN (-9223372036854775807 - 1)::bigint END $$;
CREATE FUNCTION leadflow.rls_all_to() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow
AS $$ SELECT CASE WHEN leadflow.sees_all_rows() THEN 9223372036854775807::bigint END $$;
COMMENT ON FUNCTION leadflow.rls_all_from() IS
    'Lower bound of the ids row-level security lets the current role see regardless of owner: the smallest bigint when it sees all rows, NULL (none) in a rep session.';
COMMENT ON FUNCTION leadflow.rls_all_to() IS
    'Upper bound of the ids row-level security lets the current role see regardless of owner: the largest bigint when it sees all rows, NULL (none) in a rep session.';

-- The ids of the current rep's leads (NULL when it has none), as the
-- caller may see them.  For "lead_id = ANY (...)", which an index on
-- lead_id answers.
CREATE FUNCTION leadflow.current_rep_lead_ids() RETURNS bigint[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow
AS $$
    SELECT array_agg(l.id) FROM leadflow.lead l WHERE l.owner_id = leadflow.current_rep_id()
$$;
COMMENT ON FUNCTION leadflow.current_rep_lead_ids() IS
    'The ids of the leads the current role''s rep owns (NULL when none): what row-level security lets a rep session see of touches, events and the ledger.';

-- A rep's own leads and alerts are found through these indexes (the
-- owner index of 1.0 covers open leads only; touches, events and the
-- ledger ask about closed leads too).
CREATE INDEX lead_owner_idx ON leadflow.lead (owner_id);
CREATE INDEX alert_rep_idx ON leadflow.alert (rep_id);

ALTER TABLE leadflow.lead ENABLE ROW LEVEL SECURITY;
ALTER TABLE leadflow.touch ENABLE ROW LEVEL SECURITY;
ALTER TABLE leadflow.event ENABLE ROW LEVEL SECURITY;
ALTER TABLE leadflow.alert ENABLE ROW LEVEL SECURITY;
ALTER TABLE leadflow.decision ENABLE ROW LEVEL SECURITY;

-- Table privileges decide, as without row-level security.
CREATE POLICY table_privileges ON leadflow.lead AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);
CREATE POLICY table_privileges ON leadflow.touch AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);
CREATE POLICY table_privileges ON leadflow.event AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);
CREATE POLICY table_privileges ON leadflow.alert AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);
CREATE POLICY table_privileges ON leadflow.decision AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);

-- A rep session: the leads it owns.
CREATE POLICY rep_own_rows ON leadflow.lead AS RESTRICTIVE FOR ALL TO leadflow_rep
    USING (id BETWEEN (SELECT leadflow.rls_all_from()) AND (SELECT leadflow.rls_all_to())
           OR owner_id = (SELECT leadflow.current_rep_id()));

-- Touches and events of its leads (whoever logged them: the lead's history
-- is part of working it); a touch it logs is its own, on its own lead.
CREATE POLICY rep_own_rows ON leadflow.touch AS RESTRICTIVE FOR ALL TO leadflow_rep
    USING (id BETWEEN (SELECT leadflow.rls_all_from()) AND (SELECT leadflow.rls_all_to())
           OR lead_id = ANY ((SELECT leadflow.current_rep_lead_ids())::bigint[]))
    WITH CHECK ((SELECT leadflow.sees_all_rows())
                OR (rep_id = (SELECT leadflow.current_rep_id())
                    AND lead_id = ANY ((SELECT leadflow.current_rep_lead_ids())::bigint[])));
CREATE POLICY rep_own_rows ON leadflow.event AS RESTRICTIVE FOR ALL TO leadflow_rep
    USING (id BETWEEN (SELECT leadflow.rls_all_from()) AND (SELECT leadflow.rls_all_to())
           OR lead_id = ANY ((SELECT leadflow.current_rep_lead_ids())::bigint[]));

-- Alerts addressed to it.
CREATE POLICY rep_own_rows ON leadflow.alert AS RESTRICTIVE FOR ALL TO leadflow_rep
    USING (id BETWEEN (SELECT leadflow.rls_all_from()) AND (SELECT leadflow.rls_all_to())
           OR rep_id = (SELECT leadflow.current_rep_id()));

-- Ledger entries about its leads, or that name it (a lead it was given or
-- that was taken from it).  from_rep and to_rep have no index (the ledger
-- is the hottest insert path): a rep listing its whole ledger scans it,
-- one asking about a lead (WHERE lead_id = ...) does not.
CREATE POLICY rep_own_rows ON leadflow.decision AS RESTRICTIVE FOR SELECT TO leadflow_rep
    USING (id BETWEEN (SELECT leadflow.rls_all_from()) AND (SELECT leadflow.rls_all_to())
           OR to_rep = (SELECT leadflow.current_rep_id())
           OR from_rep = (SELECT leadflow.current_rep_id())
           OR lead_id = ANY ((SELECT leadflow.current_rep_lead_ids())::bigint[]));

-- Reps read the ledger (1.0 gave them none of it), without the candidates:
-- those are every other member's load and why each was passed over, which
-- is the managers' business.
GRANT SELECT (id, lead_id, at, kind, from_rep, to_rep, rule_id, queue, strategy,
              reason, txid)
    ON leadflow.decision TO leadflow_rep;

-- The work list is read by reps: it must see rows as its reader does, not
-- as its owner (a superuser, who bypasses row-level security).  Managers
-- and admins read the tables it reads.  The other views are granted to
-- managers and admins only and keep their owner's rights.
ALTER VIEW leadflow.work_list SET (security_invoker = true);

-- A touch in a rep session: the role must be mapped to a rep, the touch is
-- that rep's, and the lead one of its own.  The SECURITY DEFINER
-- touch_before_insert checks ownership against the acting role too, but
-- 1.0's check takes a rep_id named in the row, or the owner itself when the
-- role maps to no rep; row-level security (WITH CHECK of rep_own_rows)
-- refuses both, and this trigger says why before any work is done.  It
-- runs as the caller, so it sees the leads the caller may see: another
-- rep's lead and a lead that does not exist get the same answer.  Named to
-- fire before touch_evaluate (triggers fire in name order).
CREATE FUNCTION leadflow.touch_authorize() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    me integer;
BEGIN
    IF NOT current_setting('check_function_bodies')::boolean   -- a restore
       OR leadflow.sees_all_rows() THEN
        RETURN NEW;
    END IF;
    me := leadflow.current_rep_id();
    IF me IS NULL THEN
        RAISE EXCEPTION 'role "%" is not mapped to a rep', current_user
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'A member of leadflow_rep works the leads of the rep whose login is its role name.',
                  HINT = format('An admin maps it: UPDATE leadflow.rep SET login = %L WHERE id = ...;',
                                current_user);
    END IF;
    IF NEW.rep_id IS DISTINCT FROM me AND NEW.rep_id IS NOT NULL THEN
        RAISE EXCEPTION 'rep % cannot log a touch as rep %', me, NEW.rep_id
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Leave rep_id out: the touch is the acting rep''s.';
    END IF;
    IF NEW.lead_id IS NOT NULL   -- else touch_before_insert says what is wrong
       AND NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = NEW.lead_id) THEN
        RAISE EXCEPTION 'lead % is not one of rep %''s leads', NEW.lead_id, me
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the owner or a member of leadflow_manager may log a touch on a lead.';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER touch_authorize BEFORE INSERT ON leadflow.touch
    FOR EACH ROW EXECUTE FUNCTION leadflow.touch_authorize();

-- Privileges tightened.
--
-- Trigger functions were executable by PUBLIC.  They cannot be called
-- directly, but CREATE TRIGGER needs only EXECUTE: a role with USAGE on the
-- schema (every rep) could attach the SECURITY DEFINER ones to a temporary
-- table of its own with the right column names and have them run as the
-- extension's owner -- touch_before_insert on a fake touch naming another
-- rep's lead and its owner moves that lead; lead_before_insert claims cap
-- counters and writes the ledger for a lead that does not exist.  Triggers
-- fire without an EXECUTE check, so revoking it costs nothing.
REVOKE ALL ON FUNCTION leadflow.lead_before_insert(), leadflow.lead_before_update(),
    leadflow.flush_routing_state(), leadflow.touch_before_insert(),
    leadflow.lead_score_fit(), leadflow.rep_counters_create(),
    leadflow.queue_upsert_default(), leadflow.queue_keep_default(),
    leadflow.config_changed(), leadflow.touch_authorize()
    FROM PUBLIC;

-- Scoring reads the rules as the caller (src/scoring.c caches them per
-- backend): a rep who updated its lead's attrs (trigger lead_score_fit) or
-- called current_score or explain_score, both granted to reps, failed with
-- "permission denied for table scoring_rule" -- unless the backend
-- happened to have the rules cached already.  The rules are no secret from
-- reps (explain_score shows each one that counts for their leads).
GRANT SELECT ON leadflow.scoring_rule TO leadflow_rep;

-- Counter checking is an operator's tool (it reads rep_load).
REVOKE ALL ON FUNCTION leadflow.check_counters() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.check_counters() TO leadflow_manager, leadflow_admin;

-- search_path audit.
--
-- Every SQL and PL/pgSQL function pins search_path, and so does every C
-- function that runs SQL (through SPI: an operator or function in its
-- statements is resolved through search_path when the statement is
-- planned).  1.0 missed the scoring functions; these run SQL:
ALTER FUNCTION leadflow.fit_score(jsonb) SET search_path = pg_catalog, leadflow;
ALTER FUNCTION leadflow.rescore(bigint) SET search_path = pg_catalog, leadflow;
ALTER FUNCTION leadflow.current_score(bigint, timestamptz) SET search_path = pg_catalog, leadflow;
ALTER FUNCTION leadflow.explain_score(bigint, timestamptz) SET search_path = pg_catalog, leadflow;
ALTER FUNCTION leadflow.train(text[], text) SET search_path = pg_catalog, leadflow;
ALTER FUNCTION leadflow.predict(jsonb, text) SET search_path = pg_catalog, leadflow;
-- The C functions left without it run no SQL and look up nothing by an
-- unqualified name, so search_path cannot change what they do, and a SET
-- clause would cost a configuration save and restore on every call (type
-- input and output functions run for every value read or written): the
-- type I/O, equality and hash functions of cadence and workhours, the
-- business-time functions, the matchers (match_is_valid, check_match,
-- matches, lead_matches), cadence_named/steps/length,
-- workhours_zone/weekly, now, acting_role, and the trigger config_changed.
-- The security test lists them, so a new function without search_path
-- shows up there.

-- SECURITY DEFINER audit: why each one is (1.0 says so beside some).
-- lead_before_insert, lead_before_update, flush_routing_state (triggers on
--   lead): they write the ledger, rep_load and member_state, which no role
--   that inserts or updates leads may write directly.
-- route, route_pending, assign: the same writes; EXECUTE for managers
--   (route_pending also admins).  assign lets only members of
--   leadflow_manager override caps, judged on the caller (GetOuterUserId).
-- reopen: moves a lead and its counters; managers only.
-- sweep: reassigns, escalates, writes alerts and the ledger; managers and
--   admins only (and pg_cron).
-- touch_before_insert (trigger on touch): advances the lead's stage,
--   cadence and SLA clock, which reps may not UPDATE; it checks that the
--   acting role (leadflow.acting_role()) owns the lead or is a manager,
--   after touch_authorize (above, not SECURITY DEFINER) has checked a rep
--   session's mapping.
-- merge: rewrites the ledger and history; managers only.
-- All of them bypass row-level security; a rep reaches none of them except
-- through the triggers, which check the acting role as said.


-- END security

------------------------------------------------------------------------
-- BEGIN bad input
------------------------------------------------------------------------
-- What a careless CRM may send, refused with a message that names it
-- (sql/bad_input.sql tries it all).

-- Instants that records happened at are finite: an "infinity" creation or
-- touch time breaks every report and SLA computed from it.  A deal value
-- is a number: numeric also takes NaN and Infinity, and NaN sorts above
-- Infinity, so "< Infinity" refuses both.
ALTER TABLE leadflow.lead
    ADD CONSTRAINT lead_created_at_finite CHECK (isfinite(created_at)),
    ADD CONSTRAINT lead_value_finite CHECK (value < 'Infinity'::numeric);
ALTER TABLE leadflow.touch
    ADD CONSTRAINT touch_at_finite CHECK (isfinite(at));
ALTER TABLE leadflow.event
    ADD CONSTRAINT event_at_finite CHECK (isfinite(at));

-- Indexed text has a length limit (a btree entry holds a few kB at most);
-- past it the error would name the index, not the column.  A login is a
-- role name, so it is as short as one.
ALTER TABLE leadflow.lead
    ADD CONSTRAINT lead_external_id_length CHECK (octet_length(external_id) <= 1000);
ALTER TABLE leadflow.rep
    ADD CONSTRAINT rep_name_length CHECK (octet_length(name) <= 200),
    ADD CONSTRAINT rep_login_length CHECK (octet_length(login) < 64);

-- A touch without a lead id: touch_evaluate (which this runs before, by
-- name) would otherwise report "lead <NULL> does not exist".
CREATE FUNCTION leadflow.touch_check_input() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
BEGIN
    IF NEW.lead_id IS NULL THEN
        RAISE EXCEPTION 'a touch needs a lead id'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'Pass the id of the lead touched, e.g. leadflow.log_touch(42, ''call'', ''connected'').';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER touch_check_input BEFORE INSERT ON leadflow.touch
    FOR EACH ROW EXECUTE FUNCTION leadflow.touch_check_input();
-- Like every trigger function (see security): nobody calls it directly.
REVOKE ALL ON FUNCTION leadflow.touch_check_input() FROM PUBLIC;

-- END bad input
