-- leadflow 1.1 -> 1.2
\echo Use "ALTER EXTENSION leadflow UPDATE TO '1.2'" to load this file. \quit

-- There is no leadflow--1.2.sql: CREATE EXTENSION runs leadflow--1.0.sql,
-- leadflow--1.0--1.1.sql and then this script, so a fresh 1.2 and an
-- updated 1.0 or 1.1 are built by the same statements and cannot drift
-- apart (test/t/006_upgrade_objects.pl compares them object by object).
--
-- Every function this script creates or replaces pins
--     SET search_path = pg_catalog, leadflow, pg_temp
-- (pg_temp last, so that nothing a role creates in its temporary schema can
-- shadow what leadflow means), and names the schema of what it uses.
--
-- The script is kept in sections, one per concern, each between its BEGIN
-- and END lines; a section may use what an earlier one made.

-- BEGIN security
-- END security


-- BEGIN write_paths
-- Every way a CRM writes leads -- INSERT in any form (COPY, INSERT ...
-- SELECT, MERGE), upserts, UPDATE, DELETE, TRUNCATE, merges, erasure --
-- keeps leads, counters and ledger consistent (src/pending.c,
-- src/lead_triggers.c, src/lead_batch.c).

ALTER TYPE leadflow.decision_kind ADD VALUE 'delete';
ALTER TYPE leadflow.decision_kind ADD VALUE 'forget';
ALTER TYPE leadflow.alert_kind ADD VALUE 'lead_skipped';

-- Routing only rows that are really inserted (src/pending.c).  Each
-- statement on leadflow.lead gets a mark at its start and gives it up at
-- its end (lead_flush, which now fires for DELETE too); a row's routing
-- is confirmed by the WHEN clause of lead_inserted the moment the row is
-- inserted, and undone when it was not (INSERT ... ON CONFLICT).
CREATE FUNCTION leadflow.lead_statement() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_statement'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
CREATE TRIGGER lead_statement BEFORE INSERT OR UPDATE OR DELETE ON leadflow.lead
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.lead_statement();
DROP TRIGGER lead_flush ON leadflow.lead;
CREATE TRIGGER lead_flush AFTER INSERT OR UPDATE OR DELETE ON leadflow.lead
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.flush_routing_state();

-- Called by PostgreSQL for each row as it is inserted; confirms only a row
-- this transaction really inserted (so calling it by hand does nothing),
-- and is false, so the trigger itself is never queued.  Every role that
-- inserts leads evaluates it.
CREATE FUNCTION leadflow.lead_row_inserted(lead_id bigint, row_ctid tid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_lead_row_inserted'
    LANGUAGE C VOLATILE
    SET search_path = pg_catalog, leadflow, pg_temp;
CREATE FUNCTION leadflow.lead_inserted() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_inserted'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
CREATE TRIGGER lead_inserted AFTER INSERT ON leadflow.lead
    FOR EACH ROW WHEN (leadflow.lead_row_inserted(NEW.id, NEW.ctid))
    EXECUTE FUNCTION leadflow.lead_inserted();

-- DELETE gives the seat back and writes a "delete" decision; TRUNCATE
-- starts leadflow over (see src/lead_triggers.c).
-- SECURITY DEFINER: writes the ledger and rep_load and removes alerts, which the deleting role may not write.
CREATE FUNCTION leadflow.lead_after_delete() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_after_delete'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp;
CREATE TRIGGER lead_deleted AFTER DELETE ON leadflow.lead
    FOR EACH ROW EXECUTE FUNCTION leadflow.lead_after_delete();
-- SECURITY DEFINER: empties the ledger and alerts and resets rep_load and member_state, which only leadflow writes.
CREATE FUNCTION leadflow.lead_truncated() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_truncated'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp;
CREATE TRIGGER lead_truncated AFTER TRUNCATE ON leadflow.lead
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.lead_truncated();

-- Every configured interval is bounded, so that no time arithmetic of
-- routing, cadences or the sweep can leave the timestamp range: SLAs are
-- at most 366 days of business time, an ownership window at most 100
-- years.  (Cadence offsets are bounded by the type: 3660 days.)  A queue
-- already past them stops the update, naming it.
DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(pg_catalog.format('%I', q.name), ', ' ORDER BY q.name) INTO bad
      FROM leadflow.queue q
     WHERE q.first_touch_sla > interval '366 days' OR q.touch_sla > interval '366 days'
        OR q.hold_for > interval '100 years';
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'queues with intervals out of bounds: %', bad
            USING ERRCODE = 'check_violation',
                  DETAIL = 'leadflow 1.2 bounds first_touch_sla and touch_sla to 366 days and hold_for to 100 years; longer ones overflow the timestamps routing and the sweep compute.',
                  HINT = 'Shorten them (UPDATE leadflow.queue ...) and run ALTER EXTENSION leadflow UPDATE again.';
    END IF;
END;
$$;
ALTER TABLE leadflow.queue
    ADD CONSTRAINT queue_first_touch_sla_bounded CHECK (first_touch_sla <= interval '366 days'),
    ADD CONSTRAINT queue_touch_sla_bounded CHECK (touch_sla <= interval '366 days'),
    ADD CONSTRAINT queue_hold_for_bounded CHECK (hold_for <= interval '100 years');

-- Foreign keys that a lead's DELETE (SET NULL, CASCADE) or a merge walks
-- get indexes: deleting 500 leads scanned the whole table for each one's
-- referrals.  (touch, event, stage_history and decision have them already;
-- duplicate_of's is partial, as is this one: most leads have none.)  Rep
-- deletes walk member_state and managers.
CREATE INDEX lead_referred_by_idx ON leadflow.lead (referred_by) WHERE referred_by IS NOT NULL;
CREATE INDEX alert_lead_idx ON leadflow.alert (lead_id);
CREATE INDEX member_state_rep_idx ON leadflow.member_state (rep_id);
CREATE INDEX rep_manager_idx ON leadflow.rep (manager_id) WHERE manager_id IS NOT NULL;

-- The contact locks of duplicate detection (src/duplicates.c), for merge:
-- an inquiry from either prospect waits for the merge, then finds the
-- lead that survived.
CREATE FUNCTION leadflow.lock_contacts(keys text[]) RETURNS void
    AS 'MODULE_PATHNAME', 'leadflow_lock_contacts'
    LANGUAGE C STRICT VOLATILE
    SET search_path = pg_catalog, leadflow, pg_temp;
REVOKE ALL ON FUNCTION leadflow.lock_contacts(text[]) FROM PUBLIC;

-- merge(keep, drop) refuses what would leave a prospect without an open
-- lead or with a loop: keeping a lead that is closed without a win
-- (rejected, nurture) or was merged away, dropping a lead merged away
-- already, merging a lead into itself or into one of its own duplicates.
-- Locks: both leads (lower id first), then their contact keys, then -- as
-- each statement ends -- rep counters.  Two merges of one pair in
-- opposite directions take turns; the second finds its kept lead merged
-- away and is refused.  Duplicates of the dropped lead point at the kept
-- one afterwards.
-- SECURITY DEFINER: rewrites the ledger, alerts and history of both leads, which managers may not write.
CREATE OR REPLACE FUNCTION leadflow.merge(keep bigint, drop bigint) RETURNS leadflow.lead
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    k leadflow.lead;
    d leadflow.lead;
    moved_touches integer;
    hop bigint;
    hops integer := 0;
BEGIN
    IF keep IS NULL OR drop IS NULL THEN
        RAISE EXCEPTION 'merge needs two lead ids' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF keep = drop THEN
        RAISE EXCEPTION 'cannot merge lead % into itself', keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM FROM leadflow.lead l WHERE l.id IN (keep, drop) ORDER BY l.id FOR NO KEY UPDATE;
    SELECT * INTO k FROM leadflow.lead l WHERE l.id = keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', keep USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO d FROM leadflow.lead l WHERE l.id = drop;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', drop USING ERRCODE = 'no_data_found';
    END IF;
    IF d.stage = 'converted' THEN
        RAISE EXCEPTION 'lead % is converted and cannot be merged away', drop
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Keep the converted lead and merge the other one into it.';
    END IF;
    IF k.duplicate_of IS NOT NULL AND k.reject_reason LIKE 'merged into lead %' THEN
        RAISE EXCEPTION 'lead % was merged into lead % and cannot be kept', keep, k.duplicate_of
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = pg_catalog.format('Keep lead %s instead.', k.duplicate_of);
    END IF;
    IF d.duplicate_of IS NOT NULL AND d.reject_reason LIKE 'merged into lead %' THEN
        RAISE EXCEPTION 'lead % was merged into lead % already', drop, d.duplicate_of
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF k.stage IN ('rejected', 'nurture') THEN
        RAISE EXCEPTION 'lead % is closed (stage %) and cannot be kept', keep, k.stage
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The lead kept is the prospect''s lead from now on: it must be open, qualified or converted.',
                  HINT = 'Keep the other lead, or reopen this one first.';
    END IF;
    -- the kept lead's duplicate_of chain must not lead to the dropped one
    hop := k.duplicate_of;
    WHILE hop IS NOT NULL AND hops < 1000 LOOP
        IF hop = drop THEN
            RAISE EXCEPTION 'lead % is a duplicate of lead % and cannot absorb it', keep, drop
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'Lead ' || drop || ' would become a duplicate of its own duplicate.',
                      HINT = 'Merge the other way round: keep lead ' || drop || '.';
        END IF;
        SELECT l.duplicate_of INTO hop FROM leadflow.lead l WHERE l.id = hop;
        hops := hops + 1;
    END LOOP;
    PERFORM leadflow.lock_contacts(ARRAY[k.email, k.phone, d.email, d.phone]);

    UPDATE leadflow.touch t SET lead_id = keep WHERE t.lead_id = drop;
    GET DIAGNOSTICS moved_touches = ROW_COUNT;
    UPDATE leadflow.event e SET lead_id = keep WHERE e.lead_id = drop;
    UPDATE leadflow.stage_history h SET lead_id = keep WHERE h.lead_id = drop;
    UPDATE leadflow.decision x SET lead_id = keep WHERE x.lead_id = drop;
    UPDATE leadflow.alert a SET lead_id = keep WHERE a.lead_id = drop;
    -- the dropped lead's duplicates are the kept lead's now
    UPDATE leadflow.lead l SET duplicate_of = keep WHERE l.duplicate_of = drop AND l.id <> keep;

    UPDATE leadflow.lead l
       SET name = coalesce(k.name, d.name), email = coalesce(k.email, d.email),
           phone = coalesce(k.phone, d.phone), company = coalesce(k.company, d.company),
           country = coalesce(k.country, d.country),
           account_id = coalesce(k.account_id, d.account_id),
           attrs = d.attrs || k.attrs,
           touches = k.touches + moved_touches,
           first_touch_at = least(k.first_touch_at, d.first_touch_at),
           last_touch_at = greatest(k.last_touch_at, d.last_touch_at),
           value = coalesce(k.value, d.value)
     WHERE l.id = keep;
    -- the dropped lead closes (freeing its owner's seat) and keeps a trace
    UPDATE leadflow.lead l
       SET stage = 'rejected', reject_reason = 'merged into lead ' || keep,
           duplicate_of = keep, touches = 0
     WHERE l.id = drop;

    INSERT INTO leadflow.decision (lead_id, at, kind, from_rep, to_rep, queue, reason)
    VALUES (keep, leadflow.now(), 'merge', d.owner_id, k.owner_id, k.queue,
            pg_catalog.format('merged lead %s (%s touches moved)', drop, moved_touches));
    SELECT * INTO k FROM leadflow.lead l WHERE l.id = keep;
    RETURN k;
END;
$$;

-- Erasing a person (a data-protection request): their leads -- the one
-- named and every lead linked to it by duplicate_of, either way -- lose
-- name, email, phone, company and attrs, the touches on them their notes
-- and referrals, their events their attrs, and a reject reason the note a
-- touch put in it.  What the ledger and the reports count stays: the rows,
-- stages, sources, campaigns, countries, owners, times, scores and the
-- ledger's decisions; each lead forgotten gets a "forget" decision saying
-- by whom.  Returns the ids of the leads forgotten.
-- SECURITY DEFINER: erases touches and events, which managers may not update and admins may not write, and writes the ledger.
CREATE FUNCTION leadflow.forget(lead_id bigint, reason text DEFAULT NULL)
    RETURNS SETOF bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    ids bigint[];
    scores integer[];
BEGIN
    IF forget.lead_id IS NULL THEN
        RAISE EXCEPTION 'forget needs the id of a lead of the person'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = forget.lead_id) THEN
        RAISE EXCEPTION 'lead % does not exist', forget.lead_id USING ERRCODE = 'no_data_found';
    END IF;
    WITH RECURSIVE person (id) AS (
        SELECT forget.lead_id
        UNION
        SELECT n.id
          FROM person p,
               LATERAL (SELECT l.id FROM leadflow.lead l WHERE l.duplicate_of = p.id
                        UNION ALL
                        SELECT l.duplicate_of FROM leadflow.lead l
                         WHERE l.id = p.id AND l.duplicate_of IS NOT NULL) n
    )
    SELECT array_agg(p.id ORDER BY p.id) INTO ids FROM person p;
    PERFORM FROM leadflow.lead l WHERE l.id = ANY (ids) ORDER BY l.id FOR NO KEY UPDATE;

    SELECT array_agg(l.score ORDER BY l.id) INTO scores FROM leadflow.lead l WHERE l.id = ANY (ids);
    UPDATE leadflow.lead l
       SET name = NULL, email = NULL, phone = NULL, company = NULL, attrs = '{}',
           reject_reason = CASE WHEN l.reject_reason LIKE '%:%'
                                THEN pg_catalog.split_part(l.reject_reason, ':', 1)
                                ELSE l.reject_reason END
     WHERE l.id = ANY (ids);
    -- the fit score is kept as it was: reports and routing history count it
    UPDATE leadflow.lead l SET score = s.score
      FROM unnest(ids, scores) AS s (id, score)
     WHERE l.id = s.id AND l.score IS DISTINCT FROM s.score;
    UPDATE leadflow.touch t SET note = NULL, referral = NULL
     WHERE t.lead_id = ANY (ids) AND (t.note IS NOT NULL OR t.referral IS NOT NULL);
    -- a re-inquiry keeps the id of the lead it came as (no personal data)
    UPDATE leadflow.event e
       SET attrs = CASE WHEN e.kind = 're_inquiry' AND e.attrs ? 'duplicate_lead'
                        THEN pg_catalog.jsonb_build_object('duplicate_lead', e.attrs -> 'duplicate_lead')
                        ELSE '{}' END
     WHERE e.lead_id = ANY (ids) AND e.attrs <> '{}';
    INSERT INTO leadflow.decision (lead_id, at, kind, from_rep, to_rep, queue, reason)
    SELECT l.id, leadflow.now(), 'forget', l.owner_id, l.owner_id, l.queue,
           'personal data erased by ' || leadflow.acting_role()
           || coalesce(': ' || forget.reason, '')
      FROM leadflow.lead l
     WHERE l.id = ANY (ids);
    RETURN QUERY SELECT unnest(ids);
END;
$$;
REVOKE ALL ON FUNCTION leadflow.forget(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.forget(bigint, text) TO leadflow_manager, leadflow_admin;

-- check_invariants() also sees what these write paths could break: ledger
-- rows, alerts and events about leads that do not exist, duplicate_of
-- cycles, leads merged into merged-away or (at the time) closed leads.
CREATE OR REPLACE FUNCTION leadflow.check_invariants()
    RETURNS TABLE (kind text, rep_id integer, lead_id bigint, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
WITH open_lead AS (
    SELECT l.*
      FROM leadflow.lead l
     WHERE l.stage IN ('new', 'working')
),
latest AS (
    -- the latest decision about each open lead's owner or queue (not its
    -- erasure: a forget decision only records that)
    SELECT DISTINCT ON (d.lead_id) d.*
      FROM leadflow.decision d
     WHERE d.lead_id IN (SELECT id FROM open_lead)
       AND d.kind::text NOT IN ('forget', 'delete')
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
UNION ALL
SELECT 'decision_lead_missing', NULL, d.lead_id,
       pg_catalog.format('%s decisions are about lead %s, which does not exist and was not deleted',
                         count(*), d.lead_id)
  FROM leadflow.decision d
 WHERE NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = d.lead_id)
 GROUP BY d.lead_id
HAVING max(d.id) IS DISTINCT FROM max(d.id) FILTER (WHERE d.kind::text = 'delete')
UNION ALL
SELECT 'alert_lead_missing', NULL, a.lead_id,
       pg_catalog.format('%s alerts are about lead %s, which does not exist', count(*), a.lead_id)
  FROM leadflow.alert a
 WHERE a.lead_id IS NOT NULL
   AND NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = a.lead_id)
 GROUP BY a.lead_id
UNION ALL
SELECT 'event_lead_missing', NULL, x.lead_id,
       pg_catalog.format('%s events %s lead %s, which does not exist', count(*), x.how, x.lead_id)
  FROM (SELECT e.lead_id, 'are about' AS how
          FROM leadflow.event e
         WHERE NOT EXISTS (SELECT FROM leadflow.lead l WHERE l.id = e.lead_id)
        UNION ALL
        -- a re-inquiry names the duplicate lead it came as
        SELECT (e.attrs ->> 'duplicate_lead')::bigint, 'record a re-inquiry by'
          FROM leadflow.event e
         WHERE e.kind = 're_inquiry' AND pg_catalog.jsonb_typeof(e.attrs -> 'duplicate_lead') = 'number'
           AND NOT EXISTS (SELECT FROM leadflow.lead l
                            WHERE l.id = (e.attrs ->> 'duplicate_lead')::bigint)) x
 GROUP BY x.lead_id, x.how
UNION ALL
SELECT 'duplicate_cycle', NULL, c.start,
       pg_catalog.format('lead %s is a duplicate of itself through %s', c.start,
                         pg_catalog.array_to_string(c.path, ' -> '))
  FROM (WITH RECURSIVE walk (start, id, path) AS (
            SELECT l.id, l.duplicate_of, ARRAY[l.id]
              FROM leadflow.lead l
             WHERE l.duplicate_of IS NOT NULL
            UNION ALL
            SELECT w.start, l.duplicate_of, w.path || l.id
              FROM walk w
              JOIN leadflow.lead l ON l.id = w.id
             WHERE l.duplicate_of IS NOT NULL
        ) CYCLE id SET looped USING visited
        SELECT w.start, w.path || w.id AS path
          FROM walk w
         WHERE w.id = w.start AND NOT w.looped) c
UNION ALL
SELECT 'merged_into_merged', l.owner_id, l.id,
       pg_catalog.format('lead %s was merged into lead %s, which was itself merged into lead %s',
                         l.id, t.id, t.duplicate_of)
  FROM leadflow.lead l
  JOIN leadflow.lead t ON t.id = l.duplicate_of
 WHERE l.reject_reason LIKE 'merged into lead %'
   AND t.duplicate_of IS NOT NULL AND t.reject_reason LIKE 'merged into lead %'
UNION ALL
-- the lead kept was closed without a win (rejected, nurture) when it was
-- kept: since its stage last changed (or ever, if it never did) it has
-- been closed, and the merge came after that
SELECT 'merged_into_closed', l.owner_id, l.id,
       pg_catalog.format('lead %s was merged into lead %s, which was already %s',
                         l.id, t.id, t.stage)
  FROM leadflow.lead l
  JOIN leadflow.lead t ON t.id = l.duplicate_of
  JOIN LATERAL (SELECT max(d.at) AS at FROM leadflow.decision d
                 WHERE d.lead_id = t.id AND d.kind = 'merge'
                   AND d.reason LIKE 'merged lead ' || l.id || ' (%') m ON true
 WHERE l.reject_reason LIKE 'merged into lead %'
   AND t.stage IN ('rejected', 'nurture')
   AND (t.stage_changed_at IS NULL OR t.stage_changed_at < m.at)
ORDER BY 1, 2, 3
$$;


REVOKE ALL ON FUNCTION leadflow.lead_statement(), leadflow.lead_inserted(),
    leadflow.lead_after_delete(), leadflow.lead_truncated() FROM PUBLIC;
-- END write_paths


-- BEGIN adoption
-- END adoption


-- BEGIN operations
-- END operations


-- BEGIN code_map
-- END code_map


-- BEGIN policy
-- END policy


-- BEGIN scoring
-- END scoring


-- BEGIN performance
-- END performance


-- BEGIN replication
-- END replication


-- BEGIN reference
-- Comments on every object come last, once every object exists.
-- END reference
