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
------------------------------------------------------------------------
-- Trust (issue 14): no role can escalate through leadflow or switch its
-- rules off.  sql/audit.sql checks the catalog against what is said here
-- and in docs/security.md (roles, privileges); sql/attack.sql and
-- sql/trust.sql try the attacks.
------------------------------------------------------------------------

-- search_path: pg_temp last.
--
-- Up to 1.1 every function pinned "pg_catalog, leadflow".  A path that
-- does not name pg_temp searches the session's temporary schema *first*
-- for relations and types, and every role may create there: a rep's
-- temporary domain named text, name or float8 whose CHECK calls a
-- temporary function was evaluated inside the SECURITY DEFINER triggers
-- with the extension owner's rights (ALTER ROLE ... SUPERUSER).  Named
-- last, pg_temp cannot shadow anything pg_catalog or leadflow has, and
-- PostgreSQL never looks for functions or operators in it.
ALTER FUNCTION leadflow.is_business_interval(interval) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.queue_upsert_default() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.queue_keep_default() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.lead_before_insert() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.lead_before_update() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.flush_routing_state() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.route(bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.route_pending(integer) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.explain(bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.assign(bigint, integer, text) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.check_counters() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.cadence_channel(leadflow.cadence, integer) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.qualification_missing(bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.log_touch(bigint, leadflow.channel, leadflow.outcome, text, jsonb)
    SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.reopen(bigint, text) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.sweep(timestamptz) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.schedule_sweep(text) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.unschedule_sweep() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.acknowledge_alert(bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.merge(bigint, bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.rate(bigint, bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.minutes(timestamptz, timestamptz) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.leads_needed(integer, text) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.fit_score(jsonb) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.rescore(bigint) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.lead_score_fit() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.current_score(bigint, timestamptz) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.train(text[], text) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.predict(jsonb, text) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.explain_score(bigint, timestamptz) SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.check_invariants() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.current_rep_id() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.sees_all_rows() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.rls_all_from() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.rls_all_to() SET search_path = pg_catalog, leadflow, pg_temp;
ALTER FUNCTION leadflow.touch_check_input() SET search_path = pg_catalog, leadflow, pg_temp;
-- (rep_counters_create, touch_before_insert, touch_authorize and
-- current_rep_lead_ids are replaced below, with the same path.)
--
-- The C functions without a SET clause run no SQL and resolve no name
-- through search_path (type I/O, operators, business time, the matchers,
-- the clock, acting_role, restoring, the trigger config_changed):
-- sql/audit.sql lists each with its reason, and fails for any other.

-- Restore mode only for a superuser or the extension's owner.
--
-- The triggers kept rows as given whenever check_function_bodies was off,
-- which is how pg_dump scripts and pg_restore sessions run -- and which any
-- session may SET: a manager without the cap override moved leads past
-- caps, took a converted lead back to new and imported leads past caps,
-- none of it in the ledger.  leadflow.restoring() (src/roles.c) also asks
-- that the acting role -- the session's, after SET ROLE, not the owner a
-- SECURITY DEFINER trigger runs as -- be a superuser or the extension's
-- owner, who can write the ledger and counters directly anyway.
CREATE FUNCTION leadflow.restoring() RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_restoring_sql'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.restoring() IS
    'True while a restore loads data: check_function_bodies is off (as in pg_dump scripts and pg_restore) and the acting role is a superuser or the extension''s owner.  leadflow''s triggers then keep rows as given.';

CREATE OR REPLACE FUNCTION leadflow.rep_counters_create() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
BEGIN
    IF NOT leadflow.restoring() THEN   -- a restore brings the counter rows
        INSERT INTO leadflow.rep_load (rep_id)
        SELECT id FROM new_reps
        ON CONFLICT (rep_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

-- As in 1.0, but for the restore signal.  SECURITY DEFINER: the lead's
-- stage, cadence position and SLA clock are written by leadflow only; the
-- acting role (leadflow.acting_role()) is what is checked.
CREATE OR REPLACE FUNCTION leadflow.touch_before_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    l          leadflow.lead;
    owner      leadflow.rep;
    q          leadflow.queue;
    acting     name := leadflow.acting_role();
    is_manager boolean := pg_catalog.pg_has_role(leadflow.acting_role(), 'leadflow_manager', 'USAGE');
    touching   integer;
    missing    text;
    next_step  integer;
    next_at    timestamptz;
    new_stage  leadflow.stage;
    reason     text;
BEGIN
    -- A restore (check_function_bodies off, run by a superuser or the
    -- owner) brings back touches whose effects the dump already holds.
    IF leadflow.restoring() THEN
        RETURN NEW;
    END IF;

    IF NEW.outcome IS NULL OR NEW.channel IS NULL THEN
        RAISE EXCEPTION 'a touch needs a channel and an outcome'
            USING ERRCODE = 'not_null_violation',
                  DETAIL = 'Every touch evaluates the lead: not_reached, connected, qualified, nurture, dead, dead_referral, dead_other_contact or unsubscribed.';
    END IF;
    SELECT * INTO l FROM leadflow.lead WHERE id = NEW.lead_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', NEW.lead_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF l.stage NOT IN ('new', 'working') THEN
        RAISE EXCEPTION 'lead % is closed (stage %)', l.id, l.stage
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Touches are logged on leads in stage new or working.',
                  HINT = CASE WHEN l.stage IN ('rejected', 'nurture')
                              THEN 'Reopen it first: leadflow.reopen(lead_id, reason) for a rejected lead, UPDATE its stage for a nurtured one.'
                              ELSE 'It needs no more touches.' END;
    END IF;
    IF l.owner_id IS NULL THEN
        RAISE EXCEPTION 'lead % has no owner', l.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Route it (leadflow.route) or assign it (leadflow.assign) first.';
    END IF;

    -- Who is touching: the rep named, else the acting role's rep, else the owner.
    touching := coalesce(NEW.rep_id,
                         (SELECT id FROM leadflow.rep WHERE login = acting),
                         l.owner_id);
    IF touching <> l.owner_id AND NOT is_manager THEN
        RAISE EXCEPTION 'lead % belongs to rep %, not rep %', l.id, l.owner_id, touching
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the owner or a member of leadflow_manager may log a touch on a lead.';
    END IF;
    NEW.rep_id := touching;

    SELECT * INTO owner FROM leadflow.rep WHERE id = l.owner_id;
    SELECT * INTO q FROM leadflow.queue WHERE name = coalesce(l.queue, 'default');
    new_stage := CASE WHEN l.stage = 'new' THEN 'working' ELSE l.stage END;
    -- an imported lead may come without a plan: it takes its queue's
    l.cadence := coalesce(l.cadence, q.cadence);
    next_step := l.cadence_step;
    next_at := l.next_touch_at;

    CASE NEW.outcome
    WHEN 'not_reached', 'connected' THEN
        -- The touch is the current step; the next one falls due in the
        -- owner's working time, rotated away from this attempt.
        next_step := l.cadence_step + 1;
        next_at := leadflow.next_touch(l.cadence, next_step, coalesce(l.assigned_at, NEW.at),
                                       owner.hours, owner.holidays, NEW.at);
        IF next_at IS NULL THEN
            new_stage := 'nurture';   -- the cadence is spent without a qualification
        END IF;
    WHEN 'qualified' THEN
        SELECT string_agg(format('%s (%s)', m.criterion,
                                 CASE WHEN m.answer IS NULL OR btrim(m.answer) = '' THEN 'no answer'
                                      ELSE format('answer %L not in %s', m.answer, m.allowed) END),
                          ', ')
          INTO missing FROM leadflow.qualification_missing(l.id) m;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'lead % cannot be qualified yet', l.id
                USING ERRCODE = 'check_violation',
                      DETAIL = 'Missing or not allowed: ' || missing || '.',
                      HINT = 'Record the answers in the lead''s attrs; leadflow.qualification_missing(lead_id) lists them.';
        END IF;
        new_stage := 'qualified';
    WHEN 'nurture' THEN
        new_stage := 'nurture';
    ELSE   -- dead, dead_referral, dead_other_contact, unsubscribed
        new_stage := 'rejected';
        reason := NEW.outcome::text || coalesce(': ' || NEW.note, '');
        IF NEW.outcome = 'dead_referral'
           AND (NEW.referral IS NULL OR coalesce(NEW.referral ->> 'email', NEW.referral ->> 'phone') IS NULL) THEN
            RAISE EXCEPTION 'a dead_referral touch needs the referral''s email or phone'
                USING ERRCODE = 'not_null_violation',
                      HINT = 'Pass referral => ''{"name": "...", "email": "..."}''.';
        END IF;
    END CASE;

    UPDATE leadflow.lead
       SET cadence = l.cadence,
           touches = touches + 1,
           first_touch_at = coalesce(first_touch_at, NEW.at),
           last_touch_at = greatest(last_touch_at, NEW.at),
           stage = new_stage,
           cadence_step = next_step,
           next_touch_at = CASE WHEN new_stage IN ('new', 'working') THEN next_at END,
           sla_due_at = CASE WHEN new_stage IN ('new', 'working')
                             THEN leadflow.add_business_time(next_at, q.touch_sla, owner.hours, owner.holidays) END,
           reject_reason = coalesce(reason, reject_reason)
     WHERE id = l.id;

    IF NEW.outcome = 'dead_other_contact' AND l.account_id IS NOT NULL THEN
        UPDATE leadflow.account SET pursue_other_contacts = true WHERE id = l.account_id;
    END IF;
    IF NEW.outcome = 'dead_referral' THEN
        -- the referral is a new lead, routed like any other
        INSERT INTO leadflow.lead (name, email, phone, company, country, source, campaign,
                                   attrs, referred_by)
        VALUES (NEW.referral ->> 'name', NEW.referral ->> 'email', NEW.referral ->> 'phone',
                coalesce(NEW.referral ->> 'company', l.company),
                coalesce(NEW.referral ->> 'country', l.country), 'referral', l.campaign,
                coalesce(NEW.referral -> 'attrs', '{}'), l.id);
    END IF;
    RETURN NEW;
END;
$$;

-- Touch times within reason for reps.
--
-- A touch's time moves the lead's cadence and SLA clock (the next touch
-- is computed from it) and every report of speed to lead.  Reps dated
-- touches freely (1990, 2099, year 294276): a touch dated next week
-- pushed the lead's SLA past the sweep.  A rep session now records a
-- touch at most 5 minutes after leadflow.now() -- room for the clock of a
-- laptop or phone that runs a little fast, well short of moving an SLA of
-- an hour -- and not before the lead was assigned (created, for a lead
-- imported without assigned_at): a touch from before that was another
-- owner's.  Managers and CRM back ends (imports of history) record any
-- finite time.  As in 1.1, this trigger runs as the caller, so a rep sees
-- only its own leads; the rest is unchanged.
CREATE OR REPLACE FUNCTION leadflow.touch_authorize() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    me integer;
    since timestamptz;   -- when the lead became the rep's
BEGIN
    IF leadflow.restoring() OR leadflow.sees_all_rows() THEN
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
    SELECT coalesce(l.assigned_at, l.created_at) INTO since FROM leadflow.lead l WHERE l.id = NEW.lead_id;
    IF NOT FOUND AND NEW.lead_id IS NOT NULL THEN   -- else touch_check_input says what is wrong
        RAISE EXCEPTION 'lead % is not one of rep %''s leads', NEW.lead_id, me
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the owner or a member of leadflow_manager may log a touch on a lead.';
    END IF;
    IF NEW.at > leadflow.now() + interval '5 minutes' THEN
        RAISE EXCEPTION 'touch time % is in the future', NEW.at
            USING ERRCODE = 'datetime_field_overflow',
                  DETAIL = format('A rep records a touch at most 5 minutes after leadflow.now() (%s), for clock skew.',
                                  leadflow.now()),
                  HINT = 'Leave "at" out to record the touch now; a manager may record other times.';
    END IF;
    IF NEW.at < since THEN
        RAISE EXCEPTION 'touch time % is before lead % was assigned (%)', NEW.at, NEW.lead_id, since
            USING ERRCODE = 'datetime_field_overflow',
                  DETAIL = 'A rep records the touches it made since the lead became its own.',
                  HINT = 'A manager may record touches from before the assignment.';
    END IF;
    RETURN NEW;
END;
$$;

-- What reps may read of the model.
--
-- leadflow.model holds every feature value's counts of closed leads --
-- every rep's customers' companies and domains with their outcomes -- and
-- predict(doc) answers for any document a rep makes up.  Reps read the
-- prediction leadflow stored on their own leads (lead.predicted) and
-- explain_score of their own leads without its prediction rows (see
-- src/scoring.c); managers and admins keep everything.
REVOKE SELECT ON leadflow.model FROM leadflow_rep;
REVOKE EXECUTE ON FUNCTION leadflow.predict(jsonb, text) FROM leadflow_rep;

-- The ids of a rep's leads, for the policies on touch, event and decision.
-- 1.1 compared owner_id with leadflow.current_rep_id() itself, which (a SQL
-- function with a SET clause, never inlined) then ran twice for each of the
-- rep's leads: a rep with 2,000 leads paid about 60 ms per statement, a
-- touch twice that (test/bench/trust.sql).  As a scalar sub-select it runs
-- once.
CREATE OR REPLACE FUNCTION leadflow.current_rep_lead_ids() RETURNS bigint[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    SELECT array_agg(l.id) FROM leadflow.lead l WHERE l.owner_id = (SELECT leadflow.current_rep_id())
$$;

-- A touch a rep session writes is checked by looking up its one lead
-- (the primary key), not by building the list of all the rep's leads:
-- with 2,000 leads that list cost a rep about 2 ms for every touch it
-- logged (test/bench/trust.sql).  Reading keeps the list, which an index
-- on lead_id answers for every touch of the rep's leads at once.
ALTER POLICY rep_own_rows ON leadflow.touch
    WITH CHECK ((SELECT leadflow.sees_all_rows())
                OR (rep_id = (SELECT leadflow.current_rep_id())
                    AND EXISTS (SELECT FROM leadflow.lead l
                                 WHERE l.id = touch.lead_id
                                   AND l.owner_id = (SELECT leadflow.current_rep_id()))));

-- Alerts: NOTIFY cannot be restricted by row-level security -- any role
-- that LISTENs leadflow_alert hears every alert -- so since 1.2 a payload
-- carries only {"id", "kind", "lead_id", "rep_id"} (src/ledger.c); a front
-- end reads the row, through row-level security, for the rest.
--
-- Contact keys: a lead's email or phone may become that of another
-- owner's open lead only when a manager sets it (src/lead_triggers.c,
-- src/duplicates.c): else a rep could take the other owner's prospect's
-- re-inquiries as duplicates of its own lead.

-- SECURITY DEFINER audit: every such function, and why it must be one
-- (listed with the same reasons in docs/security.md; sql/audit.sql fails when
-- the two lists differ).  All run with the path above and bypass
-- row-level security; none is executable by PUBLIC.
--   lead_before_insert (trigger): routes, claims seats and writes the
--     ledger and alerts, which no role that inserts leads may write.
--   lead_before_update (trigger): claims and releases seats, writes the
--     ledger and stage history for manual moves and stage changes, and
--     looks for other owners' open leads with a new contact key.
--   flush_routing_state (trigger): writes the statement's counters,
--     rotation state and ledger rows.
--   touch_before_insert (trigger): advances the lead's stage, cadence and
--     SLA clock, which reps may not UPDATE; checks the acting role.
--   route, route_pending, assign, reopen: move leads and write counters
--     and the ledger; managers (route_pending also admins).
--   sweep: reassigns, escalates, hands off, writes alerts and the ledger;
--     managers and admins (and pg_cron).
--   merge: moves touches, events, history and ledger rows between leads;
--     managers.
-- SECURITY INVOKER would need grants on rep_load, member_state, decision,
-- alert and stage_history, which would let those roles write them
-- directly.
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
-- inserts leads evaluates it.  No SET search_path: it runs no SQL and
-- resolves no name (it compares the row's ctid with the routing it
-- confirms), and a SET clause -- a GUC save and restore -- on every
-- inserted row cost 1.7 us, more than the function itself.
CREATE FUNCTION leadflow.lead_row_inserted(lead_id bigint, row_ctid tid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_lead_row_inserted'
    LANGUAGE C VOLATILE;
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
-- jit = off: the planner's estimates for this many joins and anti-joins
-- run to millions of rows, so PostgreSQL compiled the whole query with
-- LLVM first: 7 of the 9 s on 200,000 leads went to JIT (inlining and
-- optimisation), for one run of a plan that is mostly index probes.
CREATE OR REPLACE FUNCTION leadflow.check_invariants()
    RETURNS TABLE (kind text, rep_id integer, lead_id bigint, detail text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
    SET jit = off
AS $$
-- Cost: linear in the leads and the ledger.  The CTEs keep only the
-- columns the checks read (a decision's candidates are decoded only for
-- the one seat per rep that is checked against its caps), and counts per
-- rep or per day are grouped once, not counted again for each rep.
WITH open_lead AS (
    SELECT l.id, l.owner_id, l.queue
      FROM leadflow.lead l
     WHERE l.stage IN ('new', 'working')
),
open_by_owner AS (
    SELECT l.owner_id, count(*) AS open_leads
      FROM open_lead l
     WHERE l.owner_id IS NOT NULL
     GROUP BY l.owner_id
),
latest AS (
    -- the latest decision about each open lead's owner or queue (not its
    -- erasure: a forget decision only records that)
    SELECT DISTINCT ON (d.lead_id) d.id, d.lead_id, d.kind, d.to_rep, d.queue, d.reason
      FROM leadflow.decision d
     WHERE d.lead_id IN (SELECT id FROM open_lead)
       AND d.kind::text NOT IN ('forget', 'delete')
     ORDER BY d.lead_id, d.id DESC
),
seat AS (
    -- each open lead with an owner, with the decision that seated it
    SELECT l.owner_id, l.id AS lead_id, d.id AS decision_id, d.kind,
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
           (SELECT (c ->> 'max_open')::integer
              FROM leadflow.decision d, jsonb_array_elements(d.candidates) c
             WHERE d.id = h.last_checked
               AND (c ->> 'rep')::integer = h.rep_id AND (c ->> 'chosen')::boolean
             LIMIT 1) AS max_open
      FROM held h
),
actual AS (
    SELECT r.id, r.name, leadflow.workhours_zone(r.hours) AS zone, coalesce(rl.open_count, 0) AS open_count,
           rl.new_day, coalesce(rl.new_count, 0) AS new_count,
           coalesce(o.open_leads, 0) AS open_leads
      FROM leadflow.rep r
      LEFT JOIN leadflow.rep_load rl ON rl.rep_id = r.id
      LEFT JOIN open_by_owner o ON o.owner_id = r.id
),
reopened_day AS (
    -- leads reopened on each rep's new_day in its time zone, once per
    -- (zone, day)
    SELECT z.zone, z.new_day, count(sh.id) AS reopened
      FROM (SELECT DISTINCT a.zone, a.new_day FROM actual a WHERE a.new_day IS NOT NULL) z
      LEFT JOIN leadflow.stage_history sh
             ON sh.from_stage IN ('qualified', 'converted', 'nurture', 'rejected')
            AND sh.to_stage IN ('new', 'working')
            AND (sh.at AT TIME ZONE z.zone)::date = z.new_day
     GROUP BY z.zone, z.new_day
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
           coalesce((SELECT o.reopened FROM reopened_day o
                      WHERE o.zone = a.zone AND o.new_day = a.new_day), 0) AS reopened
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
                         s.max_new_per_day, s.forced)
  FROM (SELECT s.*,
               (SELECT (c ->> 'max_new_per_day')::integer
                  FROM leadflow.decision d, jsonb_array_elements(d.candidates) c
                 WHERE d.id = s.last_checked
                   AND (c ->> 'rep')::integer = s.rep_id AND (c ->> 'chosen')::boolean
                 LIMIT 1) AS max_new_per_day
          FROM day_seats s) s
 WHERE s.new_count > s.max_new_per_day
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
-- (the foreign keys, checked by leadflow, refuse these; a superuser
-- writing with them off can leave them).  Joins, not a look-up per lead.
SELECT x.kind, l.owner_id, l.id,
       pg_catalog.format('lead %s %s, which does not exist', l.id,
                         CASE x.kind WHEN 'queue_missing' THEN pg_catalog.format('is in queue "%s"', l.queue)
                                     ELSE pg_catalog.format('names account %s', l.account_id) END)
  FROM leadflow.lead l
  LEFT JOIN leadflow.queue q ON q.name = l.queue
  LEFT JOIN leadflow.account a ON a.id = l.account_id,
       LATERAL (VALUES ('queue_missing', l.queue IS NOT NULL AND q.name IS NULL),
                       ('account_missing', l.account_id IS NOT NULL AND a.id IS NULL)) x(kind, missing)
 WHERE x.missing
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
-- been closed, and the merge came after that.  Times are transactions'
-- starts: a touch that began before the merge and then waited for the
-- merge's lock on the lead closes it later with an earlier time.  Its
-- stage_history row then has a higher id than the one the merge wrote for
-- the dropped lead (both were written holding the kept lead's lock), and
-- that order, when both rows are there, decides.
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
   AND NOT EXISTS (SELECT FROM leadflow.stage_history ht, leadflow.stage_history hl
                    WHERE ht.lead_id = t.id AND ht.to_stage = t.stage
                      AND ht.at = t.stage_changed_at
                      AND hl.lead_id = l.id AND hl.to_stage = 'rejected' AND hl.at = m.at
                      AND ht.id > hl.id)
ORDER BY 1, 2, 3
$$;


REVOKE ALL ON FUNCTION leadflow.lead_statement(), leadflow.lead_inserted(),
    leadflow.lead_after_delete(), leadflow.lead_truncated() FROM PUBLIC;
-- END write_paths


-- BEGIN adoption
------------------------------------------------------------------------
-- Adopting leadflow on an existing CRM (issue 16): history imported as
-- given, accounts with names and attributes that leads find by domain or
-- by company name, a sweep that never strands a lead, alerts that always
-- have a recipient, hand-offs resolved per lead, a complete record, shared
-- holiday calendars, and the view fixes.  sql/adoption.sql, sql/accounts.sql,
-- sql/explain_agreement.sql and sql/replay.sql test it.
------------------------------------------------------------------------

-- Company names compared by a key: lower case, accents folded, punctuation
-- and legal forms (Inc, Corp, Ltd, LLC, GmbH, SA, ...) gone (see
-- src/company_name.c).  IMMUTABLE: account.name_key stores it.  C that
-- runs no SQL, so no search_path (sql/audit.sql lists it).
CREATE FUNCTION leadflow.company_key(name text) RETURNS text
    AS 'MODULE_PATHNAME', 'leadflow_company_key'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.company_key(text) IS
    'The key company names are matched by: lower case, accented Latin letters folded to ASCII, ".", "/" and apostrophes dropped, "&" read as "and", other punctuation a word break, a leading "the" and trailing legal forms (Inc, Corp, Corporation, Ltd, LLC, GmbH, SA, ...) removed.  NULL when nothing is left.';

-- Accounts: a name, attributes and a parent.  An account may be known by
-- its name only (no domain): leads from free-mail addresses find it by
-- their company.
ALTER TABLE leadflow.account
    ALTER COLUMN domain DROP NOT NULL,
    ADD COLUMN name text
        CONSTRAINT account_name_not_blank CHECK (btrim(name) <> '')
        CONSTRAINT account_name_length CHECK (octet_length(name) <= 1000),
    ADD COLUMN attrs jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT account_attrs_is_object CHECK (jsonb_typeof(attrs) = 'object'),
    ADD COLUMN parent_id bigint REFERENCES leadflow.account (id) ON DELETE SET NULL,
    ADD CONSTRAINT account_not_own_parent CHECK (parent_id <> id),
    ADD CONSTRAINT account_has_domain_or_name CHECK (domain IS NOT NULL OR name IS NOT NULL);
-- What a company name is matched against; kept by PostgreSQL itself.
ALTER TABLE leadflow.account
    ADD COLUMN name_key text GENERATED ALWAYS AS (leadflow.company_key(name)) STORED;
CREATE INDEX account_name_key_idx ON leadflow.account (name_key);
CREATE INDEX account_parent_idx ON leadflow.account (parent_id);
COMMENT ON COLUMN leadflow.account.name IS 'The company''s name; leads without a company email find the account by it (name_key).';
COMMENT ON COLUMN leadflow.account.attrs IS 'Sector, size, location, ...: the routing document''s "account" object, with name and status.';
COMMENT ON COLUMN leadflow.account.parent_id IS 'The parent company''s account, if any.';
COMMENT ON COLUMN leadflow.account.name_key IS 'leadflow.company_key(name): what company names are compared by.';

-- How a lead's account was found, recorded with each decision.
CREATE TYPE leadflow.account_match AS ENUM
    ('given', 'domain', 'new_domain', 'company', 'similar_company', 'duplicate');
COMMENT ON TYPE leadflow.account_match IS
    'How a lead''s account was found (decision.account_match): given, domain, new_domain, company, similar_company, duplicate.';
ALTER TABLE leadflow.decision
    ADD COLUMN account_id bigint,
    ADD COLUMN account_match leadflow.account_match;
COMMENT ON COLUMN leadflow.decision.account_id IS 'The lead''s account as routing (or the import) found it.';
COMMENT ON COLUMN leadflow.decision.account_match IS
    'How the account was found: given (account_id set by the writer), domain (email domain), new_domain (an account made for a new domain), company (exact company name key), similar_company (pg_trgm similarity of the key at least leadflow.account_similarity), duplicate (the account of the open lead it duplicates).';
GRANT SELECT (account_id, account_match) ON leadflow.decision TO leadflow_rep;

-- A sweep that finds nobody else for a lead leaves it with its owner and
-- restarts its SLA: a "keep" decision.  (A new enum value cannot be used
-- in the transaction that adds it; nothing in this script does.)
ALTER TYPE leadflow.decision_kind ADD VALUE 'keep';

-- Shared holiday calendars.  A rep follows one calendar (rep.calendar) and
-- may add days of its own (rep.holidays); leadflow.rep_holidays(rep) is
-- the union, which routing, the sweep, touches and speed_to_lead use.
CREATE TABLE leadflow.holiday_calendar (
    name        text PRIMARY KEY
                CONSTRAINT holiday_calendar_name_not_blank CHECK (btrim(name) <> '')
                CONSTRAINT holiday_calendar_name_length CHECK (octet_length(name) <= 200),
    description text
);
COMMENT ON TABLE leadflow.holiday_calendar IS 'Named holiday calendars that reps follow (rep.calendar).';
COMMENT ON COLUMN leadflow.holiday_calendar.name IS 'The calendar''s name (rep.calendar names it; renames cascade); not blank, at most 200 bytes.';
COMMENT ON COLUMN leadflow.holiday_calendar.description IS 'What it is for people (a country, a region, an office).  NULL: none.';
CREATE TABLE leadflow.holiday (
    calendar text NOT NULL REFERENCES leadflow.holiday_calendar (name)
             ON UPDATE CASCADE ON DELETE CASCADE,
    day      date NOT NULL CONSTRAINT holiday_day_finite CHECK (isfinite(day)),
    name     text,
    PRIMARY KEY (calendar, day)
);
COMMENT ON TABLE leadflow.holiday IS 'The days of each holiday calendar: no working time on them.';
COMMENT ON COLUMN leadflow.holiday.calendar IS 'The calendar the day belongs to (deleted with it).';
COMMENT ON COLUMN leadflow.holiday.day IS 'A date with no working time for the reps that follow the calendar, in each rep''s own time zone.';
COMMENT ON COLUMN leadflow.holiday.name IS 'The holiday''s name for people.  NULL: none.';
ALTER TABLE leadflow.rep
    ADD COLUMN calendar text REFERENCES leadflow.holiday_calendar (name) ON UPDATE CASCADE;
CREATE INDEX rep_calendar_idx ON leadflow.rep (calendar);
COMMENT ON COLUMN leadflow.rep.calendar IS 'The holiday calendar the rep follows; rep.holidays adds days of its own.';
SELECT pg_catalog.pg_extension_config_dump('leadflow.holiday_calendar', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.holiday', '');
-- Routing caches each rep's holidays (src/config_cache.c): a change
-- reloads it everywhere.
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.holiday_calendar FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.holiday FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
GRANT SELECT, INSERT, UPDATE, DELETE ON leadflow.holiday_calendar, leadflow.holiday TO leadflow_admin;
GRANT SELECT ON leadflow.holiday_calendar, leadflow.holiday TO leadflow_manager, leadflow_rep;

-- The one definition of a rep's days off.  The configuration cache loads
-- it with the reps (src/config_cache.c); SQL that computes business time
-- calls it.
CREATE FUNCTION leadflow.rep_holidays(r leadflow.rep) RETURNS date[]
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    SELECT r.holidays || coalesce((SELECT pg_catalog.array_agg(h.day ORDER BY h.day)
                                     FROM leadflow.holiday h
                                    WHERE h.calendar = r.calendar), '{}'::date[])
$$;
COMMENT ON FUNCTION leadflow.rep_holidays(leadflow.rep) IS
    'A rep''s days without working time: its calendar''s days and its own (rep.holidays).';

-- Queues: who hears of their leads when nobody else would (every alert
-- has a recipient), and hand-offs resolved per lead by the rules.
-- manager_id names a rep without a foreign key, as alert.rep_id does: with
-- one, TRUNCATE leadflow.rep CASCADE would empty the queues (the default
-- queue with them).  A rep id that names no rep is ignored.
ALTER TABLE leadflow.queue
    ADD COLUMN manager_id integer,
    ADD COLUMN handoff_by_rules boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT queue_handoff_by_rules_needs_hold_for
        CHECK (NOT handoff_by_rules OR hold_for IS NOT NULL);
COMMENT ON COLUMN leadflow.queue.manager_id IS
    'The rep (a manager or an admin) who receives the alerts about the queue''s leads that no rep''s manager receives (backlog, a rep without a manager); an id that names no rep is ignored.';
COMMENT ON COLUMN leadflow.queue.handoff_by_rules IS
    'At the end of hold_for, route the lead by the rules again (skipping rules into this queue) instead of to then_queue; then_queue, else default, when no rule matches.';

-- As in 1.0 with the new columns: inserting "default" again configures it.
CREATE OR REPLACE FUNCTION leadflow.queue_upsert_default() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
BEGIN
    IF NEW.name = 'default' AND EXISTS (SELECT FROM leadflow.queue WHERE name = 'default') THEN
        UPDATE leadflow.queue q
           SET strategy = NEW.strategy, cadence = NEW.cadence,
               first_touch_sla = NEW.first_touch_sla, touch_sla = NEW.touch_sla,
               max_reassignments = NEW.max_reassignments, escalate_to = NEW.escalate_to,
               sticky_account = NEW.sticky_account, hold_for = NEW.hold_for,
               then_queue = NEW.then_queue, require_available = NEW.require_available,
               manager_id = NEW.manager_id, handoff_by_rules = NEW.handoff_by_rules
         WHERE q.name = 'default';
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;

-- Account owners from history: each account without a current owner is
-- given the owner of its most recent open or won lead (active reps only),
-- for hold_for or for good.  After an import of history.
CREATE FUNCTION leadflow.set_account_owners(hold_for interval DEFAULT NULL,
                                            overwrite boolean DEFAULT false)
    RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    IF hold_for <= interval '0' THEN
        RAISE EXCEPTION 'hold_for must be positive, not %', hold_for
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass NULL to give the accounts to their owners for good.';
    END IF;
    IF overwrite IS NULL THEN
        RAISE EXCEPTION 'overwrite must be true or false'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    WITH latest AS (
        SELECT DISTINCT ON (l.account_id) l.account_id, l.owner_id
          FROM leadflow.lead l
          JOIN leadflow.rep r ON r.id = l.owner_id AND r.active
         WHERE l.account_id IS NOT NULL
           AND l.stage IN ('new', 'working', 'qualified', 'converted')
         ORDER BY l.account_id, coalesce(l.assigned_at, l.created_at) DESC, l.id DESC)
    UPDATE leadflow.account a
       SET owner_id = latest.owner_id,
           owned_until = leadflow.now() + set_account_owners.hold_for
      FROM latest
     WHERE a.id = latest.account_id
       AND (set_account_owners.overwrite OR a.owner_id IS NULL OR a.owned_until <= leadflow.now())
       AND (a.owner_id IS DISTINCT FROM latest.owner_id
            OR a.owned_until IS DISTINCT FROM leadflow.now() + set_account_owners.hold_for);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION leadflow.set_account_owners(interval, boolean) IS
    'Give each account without a current owner (every account, with overwrite) the owner of its most recent open or won lead whose owner is active, until now + hold_for (NULL: for good).  Returns how many accounts changed.';
REVOKE ALL ON FUNCTION leadflow.set_account_owners(interval, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.set_account_owners(interval, boolean) TO leadflow_admin, leadflow_manager;

-- The reps a decision found eligible, read from the packed list (for the
-- fairness view, which would otherwise expand every list as jsonb).
CREATE FUNCTION leadflow.candidate_eligible_reps(leadflow.candidate_list) RETURNS integer[]
    AS 'MODULE_PATHNAME', 'leadflow_candidate_eligible_reps'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.candidate_eligible_reps(leadflow.candidate_list) IS
    'The rep ids of a decision''s candidates that were eligible (chosen or not).';

-- explain() says which candidate is the account's owner.
DROP FUNCTION leadflow.explain(bigint);
CREATE FUNCTION leadflow.explain(lead_id bigint)
    RETURNS TABLE (rep_id integer, rep text, eligible boolean, reason text,
                   open_count integer, max_open integer, new_today integer,
                   max_new_per_day integer, last_assigned_at timestamptz,
                   weight integer, chosen boolean, account_owner boolean)
    AS 'MODULE_PATHNAME', 'leadflow_explain'
    LANGUAGE C STRICT STABLE
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.explain(bigint) IS
    'What routing would do with the lead now, exactly as leadflow.route() (or, for a lead with an owner, the sweep) would: one row per candidate -- the account''s owner first when the queue is sticky -- with why each is passed over.';
REVOKE ALL ON FUNCTION leadflow.explain(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.explain(bigint) TO leadflow_manager, leadflow_admin;

-- Fit scoring reads the lead's account (the routing document's "account"),
-- which not every role that updates leads may read (reps, CRM back ends
-- granted only the lead table).  SECURITY DEFINER: the trigger rescoring
-- a lead on UPDATE reads the account and the scoring rules as the
-- extension's owner; it writes nothing but the row's score.
ALTER FUNCTION leadflow.lead_score_fit() SECURITY DEFINER;

-- Touches compute the next touch and the SLA with the owner's calendar:
-- as in the security section above, with leadflow.rep_holidays(owner)
-- where it read owner.holidays.
CREATE OR REPLACE FUNCTION leadflow.touch_before_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    l          leadflow.lead;
    owner      leadflow.rep;
    q          leadflow.queue;
    acting     name := leadflow.acting_role();
    is_manager boolean := pg_catalog.pg_has_role(leadflow.acting_role(), 'leadflow_manager', 'USAGE');
    touching   integer;
    missing    text;
    next_step  integer;
    next_at    timestamptz;
    new_stage  leadflow.stage;
    reason     text;
    days_off   date[];
BEGIN
    -- A restore (check_function_bodies off, run by a superuser or the
    -- owner) brings back touches whose effects the dump already holds.
    IF leadflow.restoring() THEN
        RETURN NEW;
    END IF;

    IF NEW.outcome IS NULL OR NEW.channel IS NULL THEN
        RAISE EXCEPTION 'a touch needs a channel and an outcome'
            USING ERRCODE = 'not_null_violation',
                  DETAIL = 'Every touch evaluates the lead: not_reached, connected, qualified, nurture, dead, dead_referral, dead_other_contact or unsubscribed.';
    END IF;
    SELECT * INTO l FROM leadflow.lead WHERE id = NEW.lead_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', NEW.lead_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF l.stage NOT IN ('new', 'working') THEN
        RAISE EXCEPTION 'lead % is closed (stage %)', l.id, l.stage
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'Touches are logged on leads in stage new or working.',
                  HINT = CASE WHEN l.stage IN ('rejected', 'nurture')
                              THEN 'Reopen it first: leadflow.reopen(lead_id, reason) for a rejected lead, UPDATE its stage for a nurtured one.'
                              ELSE 'It needs no more touches.' END;
    END IF;
    IF l.owner_id IS NULL THEN
        RAISE EXCEPTION 'lead % has no owner', l.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Route it (leadflow.route) or assign it (leadflow.assign) first.';
    END IF;

    -- Who is touching: the rep named, else the acting role's rep, else the owner.
    touching := coalesce(NEW.rep_id,
                         (SELECT id FROM leadflow.rep WHERE login = acting),
                         l.owner_id);
    IF touching <> l.owner_id AND NOT is_manager THEN
        RAISE EXCEPTION 'lead % belongs to rep %, not rep %', l.id, l.owner_id, touching
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Only the owner or a member of leadflow_manager may log a touch on a lead.';
    END IF;
    NEW.rep_id := touching;

    SELECT * INTO owner FROM leadflow.rep WHERE id = l.owner_id;
    days_off := leadflow.rep_holidays(owner);
    SELECT * INTO q FROM leadflow.queue WHERE name = coalesce(l.queue, 'default');
    new_stage := CASE WHEN l.stage = 'new' THEN 'working' ELSE l.stage END;
    -- an imported lead may come without a plan: it takes its queue's
    l.cadence := coalesce(l.cadence, q.cadence);
    next_step := l.cadence_step;
    next_at := l.next_touch_at;

    CASE NEW.outcome
    WHEN 'not_reached', 'connected' THEN
        -- The touch is the current step; the next one falls due in the
        -- owner's working time, rotated away from this attempt.
        next_step := l.cadence_step + 1;
        next_at := leadflow.next_touch(l.cadence, next_step, coalesce(l.assigned_at, NEW.at),
                                       owner.hours, days_off, NEW.at);
        IF next_at IS NULL THEN
            new_stage := 'nurture';   -- the cadence is spent without a qualification
        END IF;
    WHEN 'qualified' THEN
        SELECT string_agg(format('%s (%s)', m.criterion,
                                 CASE WHEN m.answer IS NULL OR btrim(m.answer) = '' THEN 'no answer'
                                      ELSE format('answer %L not in %s', m.answer, m.allowed) END),
                          ', ')
          INTO missing FROM leadflow.qualification_missing(l.id) m;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'lead % cannot be qualified yet', l.id
                USING ERRCODE = 'check_violation',
                      DETAIL = 'Missing or not allowed: ' || missing || '.',
                      HINT = 'Record the answers in the lead''s attrs; leadflow.qualification_missing(lead_id) lists them.';
        END IF;
        new_stage := 'qualified';
    WHEN 'nurture' THEN
        new_stage := 'nurture';
    ELSE   -- dead, dead_referral, dead_other_contact, unsubscribed
        new_stage := 'rejected';
        reason := NEW.outcome::text || coalesce(': ' || NEW.note, '');
        IF NEW.outcome = 'dead_referral'
           AND (NEW.referral IS NULL OR coalesce(NEW.referral ->> 'email', NEW.referral ->> 'phone') IS NULL) THEN
            RAISE EXCEPTION 'a dead_referral touch needs the referral''s email or phone'
                USING ERRCODE = 'not_null_violation',
                      HINT = 'Pass referral => ''{"name": "...", "email": "..."}''.';
        END IF;
    END CASE;

    UPDATE leadflow.lead
       SET cadence = l.cadence,
           touches = touches + 1,
           first_touch_at = coalesce(first_touch_at, NEW.at),
           last_touch_at = greatest(last_touch_at, NEW.at),
           stage = new_stage,
           cadence_step = next_step,
           next_touch_at = CASE WHEN new_stage IN ('new', 'working') THEN next_at END,
           sla_due_at = CASE WHEN new_stage IN ('new', 'working')
                             THEN leadflow.add_business_time(next_at, q.touch_sla, owner.hours, days_off) END,
           reject_reason = coalesce(reason, reject_reason)
     WHERE id = l.id;

    IF NEW.outcome = 'dead_other_contact' AND l.account_id IS NOT NULL THEN
        UPDATE leadflow.account SET pursue_other_contacts = true WHERE id = l.account_id;
    END IF;
    IF NEW.outcome = 'dead_referral' THEN
        -- the referral is a new lead, routed like any other
        INSERT INTO leadflow.lead (name, email, phone, company, country, source, campaign,
                                   attrs, referred_by)
        VALUES (NEW.referral ->> 'name', NEW.referral ->> 'email', NEW.referral ->> 'phone',
                coalesce(NEW.referral ->> 'company', l.company),
                coalesce(NEW.referral ->> 'country', l.country), 'referral', l.campaign,
                coalesce(NEW.referral -> 'attrs', '{}'), l.id);
    END IF;
    RETURN NEW;
END;
$$;

------------------------------------------------------------------------
-- Reporting.  One definition per rate, in every view that has it (the
-- docs/reports.md lists them):
--   contact_rate        contacted / leads
--   qualification_rate  qualified or converted now / leads
--   ever_qualified_rate qualified at some time (or converted) / leads
--   conversion_rate     converted / leads
--   win_rate            won (qualified or converted) / closed
--   close_rate          converted / closed (converted, rejected, nurture)
-- 1.1's rep_pipeline.conversion_rate was a win rate and funnel named its
-- rates otherwise: both views are rebuilt with these names.
------------------------------------------------------------------------
DROP VIEW leadflow.rep_pipeline;
CREATE VIEW leadflow.rep_pipeline AS
SELECT r.id AS rep_id,
       r.name AS rep,
       r.active,
       coalesce(o.open_leads, 0) AS open_leads,
       r.max_open,
       leadflow.rate(coalesce(o.open_leads, 0), r.max_open) AS open_vs_cap,
       n.new_today,
       r.max_new_per_day,
       -- history imported as given may hold more than a cap allows now
       coalesce(o.open_leads, 0) > r.max_open OR n.new_today > r.max_new_per_day AS over_cap,
       coalesce(o.overdue, 0) AS overdue,
       coalesce(o.sla_breached, 0) AS sla_breached,
       coalesce(o.touched_48h, 0) AS touched_within_48h,
       leadflow.rate(coalesce(o.touched_48h, 0), coalesce(o.open_leads, 0)) AS touched_within_48h_rate,
       coalesce(c.won, 0) AS won,
       coalesce(c.closed, 0) AS closed,
       leadflow.rate(coalesce(c.won, 0), coalesce(c.closed, 0)) AS win_rate,
       coalesce(c.converted, 0) AS converted,
       coalesce(o.open_leads, 0) + coalesce(c.closed, 0) AS leads,
       leadflow.rate(coalesce(c.converted, 0), coalesce(o.open_leads, 0) + coalesce(c.closed, 0))
           AS conversion_rate
  FROM leadflow.rep r
  LEFT JOIN leadflow.rep_load l ON l.rep_id = r.id
  CROSS JOIN LATERAL (SELECT CASE WHEN l.new_day = (leadflow.now() AT TIME ZONE leadflow.workhours_zone(r.hours))::date
                                  THEN l.new_count ELSE 0 END AS new_today) n
  LEFT JOIN (SELECT owner_id,
                    count(*) AS open_leads,
                    count(*) FILTER (WHERE next_touch_at < leadflow.now()) AS overdue,
                    count(*) FILTER (WHERE sla_due_at < leadflow.now()) AS sla_breached,
                    count(*) FILTER (WHERE last_touch_at >= leadflow.now() - interval '48 hours') AS touched_48h
               FROM leadflow.lead WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL
              GROUP BY owner_id) o ON o.owner_id = r.id
  LEFT JOIN (SELECT owner_id,
                    count(*) FILTER (WHERE stage IN ('qualified', 'converted')) AS won,
                    count(*) FILTER (WHERE stage = 'converted') AS converted,
                    count(*) AS closed
               FROM leadflow.lead WHERE stage NOT IN ('new', 'working') AND owner_id IS NOT NULL
                AND coalesce(reject_reason NOT LIKE 'duplicate of lead %'
                             AND reject_reason NOT LIKE 'merged into lead %', true)
              GROUP BY owner_id) c ON c.owner_id = r.id;
COMMENT ON VIEW leadflow.rep_pipeline IS
    'Per rep: open leads against the cap, new today (assignments in the rep''s local day) against the daily cap, over_cap, overdue, SLA breached, touched within 48 hours, win_rate (won / closed) and conversion_rate (converted / leads).';
COMMENT ON COLUMN leadflow.rep_pipeline.over_cap IS 'open_leads above max_open or new_today above max_new_per_day: history imported as given, or a cap lowered since.';
COMMENT ON COLUMN leadflow.rep_pipeline.win_rate IS 'won / closed (a fraction; NULL when nothing closed).';
COMMENT ON COLUMN leadflow.rep_pipeline.converted IS 'Closed leads the rep owns that were converted (duplicates and merged leads left out).';
COMMENT ON COLUMN leadflow.rep_pipeline.leads IS 'open_leads + closed: every lead the rep owns (duplicates and merged leads left out).';

DROP VIEW leadflow.funnel;
CREATE VIEW leadflow.funnel AS
SELECT campaign, leads, assigned, contacted, ever_qualified, converted,
       leadflow.rate(contacted, leads) AS contact_rate,
       leadflow.rate(ever_qualified, leads) AS ever_qualified_rate,
       leadflow.rate(converted, leads) AS conversion_rate
  FROM (SELECT coalesce(l.campaign, '(none)') AS campaign,
               count(*) AS leads,
               count(*) FILTER (WHERE l.owner_id IS NOT NULL OR l.assigned_at IS NOT NULL) AS assigned,
               count(l.first_touch_at) AS contacted,
               count(*) FILTER (WHERE l.stage IN ('qualified', 'converted')
                                   OR EXISTS (SELECT FROM leadflow.stage_history h
                                               WHERE h.lead_id = l.id AND h.to_stage = 'qualified'))
                   AS ever_qualified,
               count(*) FILTER (WHERE l.stage = 'converted') AS converted
          FROM leadflow.lead l
         WHERE coalesce(l.reject_reason NOT LIKE 'duplicate of lead %'
                        AND l.reject_reason NOT LIKE 'merged into lead %', true)
         GROUP BY 1) f;
COMMENT ON VIEW leadflow.funnel IS
    'Per campaign: how far leads got -- assigned, contacted, qualified at some time, converted -- as counts and as fractions of all leads (contact_rate, ever_qualified_rate, conversion_rate).';
GRANT SELECT ON leadflow.rep_pipeline, leadflow.funnel TO leadflow_manager, leadflow_admin;

-- Free seats are counted per member: one member over a lowered cap does
-- not hide the others' free seats.
CREATE OR REPLACE VIEW leadflow.capacity AS
WITH inflow AS (
    SELECT d.queue, count(*) AS routed_7d
      FROM leadflow.decision d
     WHERE d.kind IN ('assign', 'backlog') AND d.at > leadflow.now() - interval '7 days'
     GROUP BY 1),
members AS (
    SELECT m.queue,
           count(*) AS members,
           count(*) FILTER (WHERE r.active AND (r.away_until IS NULL OR r.away_until <= leadflow.now())) AS available,
           sum(r.max_open) FILTER (WHERE r.active) AS seats,
           sum(coalesce(o.open_leads, 0)) FILTER (WHERE r.active) AS open_leads,
           sum(greatest(r.max_open - coalesce(o.open_leads, 0), 0)) FILTER (WHERE r.active) AS free_seats,
           sum(r.max_new_per_day) FILTER (WHERE r.active AND (r.away_until IS NULL OR r.away_until <= leadflow.now()))
               AS new_per_day
      FROM leadflow.queue_member m
      JOIN leadflow.rep r ON r.id = m.rep_id
      LEFT JOIN (SELECT owner_id, count(*) AS open_leads FROM leadflow.lead
                  WHERE stage IN ('new', 'working') GROUP BY owner_id) o ON o.owner_id = r.id
     GROUP BY 1)
SELECT q.name AS queue,
       coalesce(m.members, 0) AS members,
       coalesce(m.available, 0) AS available_members,
       coalesce(m.seats, 0) AS seats,
       coalesce(m.open_leads, 0) AS open_leads,
       coalesce(m.free_seats, 0) AS free_seats,
       coalesce(m.new_per_day, 0) AS new_per_day_capacity,
       round(coalesce(i.routed_7d, 0) / 7.0, 1) AS inflow_per_day,
       round(coalesce(m.new_per_day, 0) / nullif(coalesce(i.routed_7d, 0) / 7.0, 0), 2) AS capacity_vs_inflow,
       (SELECT count(*) FROM leadflow.lead b
         WHERE b.queue = q.name AND b.owner_id IS NULL AND b.stage IN ('new', 'working')) AS backlog
  FROM leadflow.queue q
  LEFT JOIN members m ON m.queue = q.name
  LEFT JOIN inflow i ON i.queue = q.name;
COMMENT ON VIEW leadflow.capacity IS
    'Per queue: members (available now), seats, open leads and free seats (each active member''s max_open less its open leads, never below 0), daily intake capacity against the last 7 days'' inflow per day, and the backlog.';

-- A member's share of the weight counts only members that were eligible
-- for at least one of the queue's leads: a member away all along (or
-- always at its cap) does not dilute the others' shares.
CREATE OR REPLACE VIEW leadflow.fairness AS
WITH given AS (
    SELECT d.queue, d.to_rep, count(*) AS assignments
      FROM leadflow.decision d
     WHERE d.kind IN ('assign', 'reassign_sla', 'handoff', 'escalate') AND d.to_rep IS NOT NULL
     GROUP BY 1, 2),
eligible AS (
    SELECT d.queue, e.rep_id, count(*) AS times_eligible
      FROM leadflow.decision d,
           LATERAL unnest(leadflow.candidate_eligible_reps(d.candidates)) AS e(rep_id)
     WHERE d.queue IS NOT NULL AND d.candidates IS NOT NULL
     GROUP BY 1, 2),
member AS (
    SELECT m.queue, r.name AS rep, m.weight,
           coalesce(g.assignments, 0) AS assignments,
           coalesce(e.times_eligible, 0) AS times_eligible
      FROM leadflow.queue_member m
      JOIN leadflow.rep r ON r.id = m.rep_id
      LEFT JOIN given g ON g.queue = m.queue AND g.to_rep = m.rep_id
      LEFT JOIN eligible e ON e.queue = m.queue AND e.rep_id = m.rep_id),
shares AS (
    SELECT queue, rep, weight, assignments, times_eligible,
           CASE WHEN times_eligible > 0
                THEN leadflow.rate(weight, (sum(weight) FILTER (WHERE times_eligible > 0)
                                            OVER (PARTITION BY queue))::bigint) END AS weight_share,
           leadflow.rate(assignments, (sum(assignments) OVER (PARTITION BY queue))::bigint) AS assignment_share
      FROM member)
SELECT queue, rep, weight, weight_share, assignments, assignment_share,
       round(assignment_share / nullif(weight_share, 0), 2) AS share_vs_weight,
       times_eligible
  FROM shares;
COMMENT ON VIEW leadflow.fairness IS
    'Per queue and member: share of the queue''s assignments against share of the weight of the members that were eligible at least once (share_vs_weight 1.00 = exactly fair); times_eligible = decisions of the queue that found the member eligible.';
COMMENT ON COLUMN leadflow.fairness.times_eligible IS 'Decisions of the queue whose candidates found the member eligible (0: never eligible, left out of weight_share).';

-- The current owner's first-touch SLA in its own business time, with its
-- calendar's days (each rep's days computed once, not once per lead).
CREATE OR REPLACE VIEW leadflow.speed_to_lead AS
WITH rep_days AS MATERIALIZED (
    SELECT r.id, r.name, r.hours, leadflow.rep_holidays(r) AS holidays FROM leadflow.rep r)
SELECT queue,
       rep,
       count(*) AS leads,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY to_assignment)::numeric, 1)
           AS median_minutes_to_assignment,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY to_assignment)::numeric, 1)
           AS p90_minutes_to_assignment,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY to_first_touch)::numeric, 1)
           AS median_minutes_to_first_touch,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY to_first_touch)::numeric, 1)
           AS p90_minutes_to_first_touch,
       count(to_first_touch) AS touched,
       count(*) FILTER (WHERE touched_here AND first_touch_at <= sla_due) AS sla_met,
       leadflow.rate(count(*) FILTER (WHERE touched_here AND first_touch_at <= sla_due),
                     count(*) FILTER (WHERE touched_here
                                         OR (first_touch_at IS NULL AND sla_due < leadflow.now())))
           AS sla_attainment
  FROM (SELECT coalesce(l.queue, '(none)') AS queue,
               r.name AS rep,
               extract(epoch FROM l.assigned_at - l.created_at) / 60 AS to_assignment,
               -- speed to lead: from the inquiry to the first touch, whoever made it
               extract(epoch FROM l.first_touch_at - l.created_at) / 60 AS to_first_touch,
               l.first_touch_at,
               -- the SLA is the current owner's; a lead touched before it
               -- moved to them is not counted either way
               l.first_touch_at >= l.assigned_at AS touched_here,
               leadflow.add_business_time(l.assigned_at, q.first_touch_sla, r.hours, r.holidays) AS sla_due
          FROM leadflow.lead l
          JOIN rep_days r ON r.id = l.owner_id
          JOIN leadflow.queue q ON q.name = coalesce(l.queue, 'default')
         WHERE l.assigned_at IS NOT NULL) x
 GROUP BY queue, rep;
-- END adoption


-- BEGIN operations
------------------------------------------------------------------------
-- Operations: the sweep scheduled once per database, a record of each
-- sweep, leadflow.health(), and the figures the Prometheus exporter reads
-- (ops/prometheus/leadflow-queries.yaml).
------------------------------------------------------------------------

-- A role for the monitoring system (the Prometheus exporter's login is
-- granted it): it reads the metrics views -- counts, ages and check
-- statuses, never a lead, a rep or a detail text -- and nothing else.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'leadflow_monitor') THEN
        CREATE ROLE leadflow_monitor NOLOGIN;
    END IF;
END;
$$;
GRANT USAGE ON SCHEMA leadflow TO leadflow_monitor;

-- What every committed sweep leaves behind (written by leadflow.sweep(),
-- src/operations.c).  One row.  Times are real time, not leadflow.clock:
-- they say when the sweep ran.  A run by pg_cron (its background worker
-- or its libpq connection) also moves the cron_* columns, which health()
-- judges the schedule by; the gaps are between the starts of the last two
-- runs.  Not dumped: it describes this server's runs, and a restored
-- database has not been swept yet.
CREATE TABLE leadflow.sweep_stats (
    singleton             boolean PRIMARY KEY DEFAULT true
                          CONSTRAINT sweep_stats_one_row CHECK (singleton),
    runs                  bigint NOT NULL DEFAULT 0,
    last_started_at       timestamptz,
    last_finished_at      timestamptz,
    last_as_of            timestamptz,
    run_gap               interval,
    cron_runs             bigint NOT NULL DEFAULT 0,
    last_cron_at          timestamptz,
    last_cron_finished_at timestamptz,
    cron_gap              interval
);
COMMENT ON TABLE leadflow.sweep_stats IS
    'The last sweep (and the last one run by pg_cron): when it started and finished, and how many ran.';

-- Leads moved by the sweep since the extension was created, per action.
CREATE TABLE leadflow.sweep_action_total (
    action text PRIMARY KEY,
    leads  bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE leadflow.sweep_action_total IS
    'Leads moved by every sweep so far, per action (sla_reassigned, sla_escalated, ...).';

-- The last leadflow.record_invariants(): check_invariants() reads every
-- open lead and its ledger (about 15 s on a million leads), too slow for
-- health() to run each minute, so health() reports the recorded result.
CREATE TABLE leadflow.invariants_run (
    singleton  boolean PRIMARY KEY DEFAULT true
               CONSTRAINT invariants_run_one_row CHECK (singleton),
    checked_at timestamptz NOT NULL,
    seconds    float8 NOT NULL,
    violations bigint NOT NULL,
    kinds      jsonb NOT NULL
);
COMMENT ON TABLE leadflow.invariants_run IS
    'The result of the last leadflow.record_invariants(): when, how long, how many violations of each kind.';

CREATE FUNCTION leadflow.sweep_record(started timestamptz, finished timestamptz,
                                      as_of timestamptz, by_cron boolean,
                                      actions text[], leads bigint[])
    RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
INSERT INTO leadflow.sweep_stats AS s
       (singleton, runs, last_started_at, last_finished_at, last_as_of,
        cron_runs, last_cron_at, last_cron_finished_at)
VALUES (true, 1, started, finished, as_of,
        CASE WHEN by_cron THEN 1 ELSE 0 END,
        CASE WHEN by_cron THEN started END, CASE WHEN by_cron THEN finished END)
ON CONFLICT (singleton) DO UPDATE SET
    runs = s.runs OPERATOR(pg_catalog.+) 1,
    run_gap = EXCLUDED.last_started_at OPERATOR(pg_catalog.-) s.last_started_at,
    last_started_at = EXCLUDED.last_started_at,
    last_finished_at = EXCLUDED.last_finished_at,
    last_as_of = EXCLUDED.last_as_of,
    cron_runs = s.cron_runs OPERATOR(pg_catalog.+) EXCLUDED.cron_runs,
    cron_gap = CASE WHEN by_cron THEN EXCLUDED.last_cron_at OPERATOR(pg_catalog.-) s.last_cron_at
                    ELSE s.cron_gap END,
    last_cron_at = coalesce(EXCLUDED.last_cron_at, s.last_cron_at),
    last_cron_finished_at = coalesce(EXCLUDED.last_cron_finished_at, s.last_cron_finished_at);
INSERT INTO leadflow.sweep_action_total AS t (action, leads)
SELECT u.a, u.n FROM ROWS FROM (pg_catalog.unnest(actions), pg_catalog.unnest(leads)) AS u(a, n)
ON CONFLICT (action) DO UPDATE SET leads = t.leads OPERATOR(pg_catalog.+) EXCLUDED.leads;
$$;
COMMENT ON FUNCTION leadflow.sweep_record(timestamptz, timestamptz, timestamptz, boolean, text[], bigint[]) IS
    'Called by leadflow.sweep() at its end: records the run in sweep_stats and its counts in sweep_action_total.';
-- Only the sweep (running as the extension's owner) writes the record.
REVOKE ALL ON FUNCTION leadflow.sweep_record(timestamptz, timestamptz, timestamptz, boolean, text[], bigint[])
    FROM PUBLIC;

-- SECURITY DEFINER: the record must be what check_invariants() found, so
-- no role writes invariants_run itself (a manager could otherwise record
-- "no violations"); the body runs check_invariants() and writes its counts.
CREATE FUNCTION leadflow.record_invariants() RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    t0 timestamptz := pg_catalog.clock_timestamp();
    found jsonb;
    total bigint;
BEGIN
    SELECT coalesce(pg_catalog.jsonb_object_agg(k.kind, k.n), '{}'), coalesce(sum(k.n), 0)
      INTO found, total
      FROM (SELECT i.kind, count(*) AS n FROM leadflow.check_invariants() i GROUP BY i.kind) k;
    INSERT INTO leadflow.invariants_run AS r (singleton, checked_at, seconds, violations, kinds)
    VALUES (true, pg_catalog.clock_timestamp(),
            pg_catalog.date_part('epoch', pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) t0),
            total, found)
    ON CONFLICT (singleton) DO UPDATE
       SET checked_at = EXCLUDED.checked_at, seconds = EXCLUDED.seconds,
           violations = EXCLUDED.violations, kinds = EXCLUDED.kinds;
    RETURN total;
END;
$$;
COMMENT ON FUNCTION leadflow.record_invariants() IS
    'Run check_invariants() and record how many violations of each kind it found, for health(); returns the count.  Schedule it (hourly, say) with pg_cron.';
REVOKE ALL ON FUNCTION leadflow.record_invariants() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.record_invariants() TO leadflow_admin, leadflow_manager;
GRANT SELECT ON leadflow.invariants_run TO leadflow_admin, leadflow_manager;
GRANT SELECT ON leadflow.sweep_stats, leadflow.sweep_action_total TO leadflow_admin, leadflow_manager;

CREATE FUNCTION leadflow.preloaded() RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_preloaded'
    LANGUAGE C STABLE
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.preloaded() IS
    'Whether this session got leadflow from shared_preload_libraries (only then are leadflow.* settings checked from the session''s start).';
REVOKE ALL ON FUNCTION leadflow.preloaded() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.preloaded() TO leadflow_admin, leadflow_manager, leadflow_monitor;

------------------------------------------------------------------------
-- The sweep's pg_cron job: one per database.
------------------------------------------------------------------------

-- The job's name carries the database, so the jobs of two leadflow
-- databases of one cluster never replace each other (pg_cron keys jobs
-- by name and owner).  pg_cron's job names are at most 63 bytes: a
-- longer one takes the database name's md5 instead.
CREATE FUNCTION leadflow.sweep_job_name() RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    SELECT CASE WHEN pg_catalog.octet_length('leadflow-sweep-' OPERATOR(pg_catalog.||) pg_catalog.current_database()) <= 63
                THEN 'leadflow-sweep-' OPERATOR(pg_catalog.||) pg_catalog.current_database()
                ELSE 'leadflow-sweep-' OPERATOR(pg_catalog.||) pg_catalog.md5(pg_catalog.current_database())
           END
$$;
COMMENT ON FUNCTION leadflow.sweep_job_name() IS
    'The name of this database''s pg_cron sweep job: leadflow-sweep-<database>.';

-- SECURITY DEFINER because cron.database_name is readable only by
-- superusers, and the hint that leadflow_admin gets must name the database.
CREATE FUNCTION leadflow.cron_database() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$ SELECT pg_catalog.current_setting('cron.database_name', true) $$;
COMMENT ON FUNCTION leadflow.cron_database() IS
    'The database pg_cron runs in (cron.database_name), NULL without pg_cron.';

-- The command that schedules this database's sweep from pg_cron's
-- database.  pg_cron updates the job when it exists (same name and
-- owner), so running it again is harmless.
CREATE FUNCTION leadflow.sweep_schedule_command(schedule text DEFAULT '* * * * *') RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    SELECT pg_catalog.format('SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                             leadflow.sweep_job_name(), schedule, 'SELECT leadflow.sweep()',
                             pg_catalog.current_database())
$$;
COMMENT ON FUNCTION leadflow.sweep_schedule_command(text) IS
    'The SQL to run in pg_cron''s database to schedule this database''s sweep (idempotent).';

-- From a database pg_cron does not run in: an error whose hint is the
-- command to run there.
CREATE FUNCTION leadflow.cron_elsewhere(command text, what text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    cron_db text := leadflow.cron_database();
    grants text := '';
BEGIN
    IF cron_db IS NULL THEN
        RAISE EXCEPTION 'pg_cron is not installed'
            USING ERRCODE = 'undefined_object',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, and CREATE EXTENSION pg_cron there -- or call leadflow.sweep() from another scheduler.';
    END IF;
    IF cron_db OPERATOR(pg_catalog.=) pg_catalog.current_database() THEN
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', cron_db
            USING ERRCODE = 'undefined_object',
                  HINT = 'Run CREATE EXTENSION pg_cron here (as a superuser).';
    END IF;
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
        grants := ' A role that is not a superuser needs, granted once there by a superuser: '
                  'GRANT USAGE ON SCHEMA cron TO leadflow_admin;';
        IF what OPERATOR(pg_catalog.=) 'schedules' THEN
            grants := grants OPERATOR(pg_catalog.||)
                      ' GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO leadflow_admin;';
        END IF;
    END IF;
    RAISE EXCEPTION 'pg_cron runs in database "%", not in "%"', cron_db, pg_catalog.current_database()
        USING ERRCODE = 'object_not_in_prerequisite_state',
              DETAIL = pg_catalog.format('pg_cron %s jobs only from the database named by cron.database_name, and runs a job as the role that scheduled it.%s',
                                         what, grants),
              HINT = pg_catalog.format('Connect to database %I and run: %s', cron_db, command);
END;
$$;
REVOKE ALL ON FUNCTION leadflow.cron_elsewhere(text, text) FROM PUBLIC;

-- In pg_cron's database: the checks pg_cron would fail with a bare
-- message, made into errors that say what to do.
CREATE FUNCTION leadflow.cron_check_caller() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.has_schema_privilege('cron', 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema cron'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = pg_catalog.format('Scheduling with pg_cron needs USAGE on schema cron, which role "%s" does not have.', current_user),
                  HINT = 'A superuser runs, once, in this database: GRANT USAGE ON SCHEMA cron TO leadflow_admin;';
    END IF;
    IF NOT (SELECT r.rolcanlogin FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) current_user) THEN
        RAISE EXCEPTION 'pg_cron would run the sweep as role "%", which cannot log in', current_user
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'pg_cron runs a job as the role that scheduled it.',
                  HINT = 'Schedule it as a login role that is a member of leadflow_admin (RESET ROLE first).';
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION leadflow.cron_check_caller() FROM PUBLIC;

CREATE OR REPLACE FUNCTION leadflow.schedule_sweep(schedule text DEFAULT '* * * * *') RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    job_name text := leadflow.sweep_job_name();
    job bigint;
    command text;
BEGIN
    IF schedule IS NULL OR pg_catalog.btrim(schedule) OPERATOR(pg_catalog.=) '' THEN
        RAISE EXCEPTION 'a sweep schedule is required'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a cron schedule: ''* * * * *'' (the default) sweeps every minute.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        command := leadflow.sweep_schedule_command(schedule);
        PERFORM leadflow.cron_elsewhere(command, 'schedules');
    END IF;
    PERFORM leadflow.cron_check_caller();
    IF EXISTS (SELECT FROM cron.job j
                WHERE j.jobname OPERATOR(pg_catalog.=) job_name::name
                  AND j.username OPERATOR(pg_catalog.=) current_user
                  AND j.database OPERATOR(pg_catalog.<>) pg_catalog.current_database()) THEN
        RAISE EXCEPTION 'pg_cron job "%" of role "%" sweeps another database', job_name, current_user
            USING ERRCODE = 'duplicate_object',
                  HINT = 'Rename or remove that job with cron.alter_job or cron.unschedule; leadflow will not change it.';
    END IF;
    -- 1.0 and 1.1 called this database's job "leadflow-sweep": replace it
    PERFORM cron.unschedule(j.jobid) FROM cron.job j
      WHERE j.jobname OPERATOR(pg_catalog.=) 'leadflow-sweep'
        AND j.username OPERATOR(pg_catalog.=) current_user
        AND j.database OPERATOR(pg_catalog.=) pg_catalog.current_database();
    -- the same name again: pg_cron updates the job instead of adding one
    SELECT cron.schedule(job_name, schedule, 'SELECT leadflow.sweep()') INTO job;
    RETURN job;
END;
$$;
COMMENT ON FUNCTION leadflow.schedule_sweep(text) IS
    'Schedule this database''s sweep with pg_cron as job leadflow-sweep-<database> (idempotent); returns the job id.  Elsewhere than pg_cron''s database, the error''s hint is the command to run there.';

CREATE OR REPLACE FUNCTION leadflow.unschedule_sweep() RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    removed bigint;
    command text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'pg_cron') THEN
        IF leadflow.cron_database() IS NULL THEN
            RETURN false;   -- no pg_cron anywhere: nothing is scheduled
        END IF;
        command := pg_catalog.format('SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN (%L, %L) AND database = %L;',
                                     leadflow.sweep_job_name(), 'leadflow-sweep', pg_catalog.current_database());
        PERFORM leadflow.cron_elsewhere(command, 'removes');
    END IF;
    PERFORM leadflow.cron_check_caller();
    -- this database's jobs only, old name included; cron.job shows a role
    -- its own jobs (a superuser every job)
    SELECT count(*) INTO removed
      FROM (SELECT cron.unschedule(j.jobid) FROM cron.job j
             WHERE j.jobname OPERATOR(pg_catalog.=) ANY (ARRAY[leadflow.sweep_job_name(), 'leadflow-sweep']::name[])
               AND j.database OPERATOR(pg_catalog.=) pg_catalog.current_database()) u;
    RETURN removed > 0;
END;
$$;
COMMENT ON FUNCTION leadflow.unschedule_sweep() IS
    'Remove this database''s pg_cron sweep job; false when there was none.  Never touches another database''s job.';

------------------------------------------------------------------------
-- leadflow.health(): one row per check, for an operator or a script.
------------------------------------------------------------------------

-- An interval as health() prints it, whatever IntervalStyle: its largest
-- unit and the next one when not zero ("1 d 3 h", "2 d", "1 h 30 min",
-- "42 s"), rounded down.
CREATE FUNCTION leadflow.duration_text(d interval) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    WITH part AS (
        SELECT u.ord, u.unit, u.n
          FROM (SELECT pg_catalog.floor(pg_catalog.date_part('epoch', d))::bigint AS secs) t,
               LATERAL (VALUES (1, 'd', t.secs OPERATOR(pg_catalog./) 86400),
                               (2, 'h', t.secs OPERATOR(pg_catalog.%) 86400 OPERATOR(pg_catalog./) 3600),
                               (3, 'min', t.secs OPERATOR(pg_catalog.%) 3600 OPERATOR(pg_catalog./) 60),
                               (4, 's', t.secs OPERATOR(pg_catalog.%) 60)) u(ord, unit, n)
    ),
    first AS (SELECT min(p.ord) AS ord FROM part p WHERE p.n OPERATOR(pg_catalog.<>) 0)
    SELECT coalesce(pg_catalog.string_agg(p.n OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) p.unit, ' ' ORDER BY p.ord), '0 s')
      FROM part p, first f
     WHERE p.n OPERATOR(pg_catalog.<>) 0
       AND p.ord OPERATOR(pg_catalog.<=) (f.ord OPERATOR(pg_catalog.+) 1)
$$;
REVOKE ALL ON FUNCTION leadflow.duration_text(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.duration_text(interval) TO leadflow_admin, leadflow_manager, leadflow_monitor;

-- PostgreSQL's insert and update check triggers of the foreign keys that
-- leadflow checks itself (src/lead_keys.c; section foreign_keys), with
-- who checks: health() reads it, the script disables them by it.
CREATE VIEW leadflow.lead_key_triggers AS
SELECT c.conname::text AS constraint_name,
       a.attname::text AS column_name,
       t.tgname::text AS trigger_name,
       CASE WHEN t.tgfoid = 'pg_catalog."RI_FKey_check_ins"'::pg_catalog.regproc
            THEN 'insert' ELSE 'update' END AS checks,
       t.tgenabled IN ('O', 'A') AS postgresql_checks,
       coalesce((SELECT o.tgenabled IN ('O', 'A') FROM pg_catalog.pg_trigger o
                  WHERE o.tgrelid = c.conrelid
                    AND o.tgname = CASE WHEN t.tgfoid = 'pg_catalog."RI_FKey_check_ins"'::pg_catalog.regproc
                                        THEN 'lead_keys_inserted' ELSE 'lead_keys_updated' END),
                false) AS leadflow_checks
  FROM pg_catalog.pg_constraint c
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
  JOIN pg_catalog.pg_trigger t ON t.tgconstraint = c.oid AND t.tgrelid = c.conrelid
 WHERE c.conrelid = 'leadflow.lead'::pg_catalog.regclass
   AND c.contype = 'f'
   AND pg_catalog.cardinality(c.conkey) = 1
   AND a.attname IN ('account_id', 'queue', 'owner_id')
   AND t.tgfoid IN ('pg_catalog."RI_FKey_check_ins"'::pg_catalog.regproc,
                    'pg_catalog."RI_FKey_check_upd"'::pg_catalog.regproc);
COMMENT ON VIEW leadflow.lead_key_triggers IS
    'PostgreSQL''s insert and update check triggers of the foreign keys of lead.account_id, lead.queue and lead.owner_id, which leadflow checks itself where they are disabled; health() reads it.';
REVOKE ALL ON leadflow.lead_key_triggers FROM PUBLIC;

-- A view with its owner's rights, like the reporting views: health() and
-- the monitoring views read it, so those who may call health() need no
-- rights on the tables.  Every check is an index look-up or reads a small
-- table; check_invariants() is too slow for that and is reported as
-- last recorded by record_invariants().  Ages of leads and alerts are
-- measured on leadflow.now(); the sweep's and the invariants' on real
-- time.  Details name queues and reps, never a lead's data.
CREATE VIEW leadflow.health_checks AS
WITH sweep AS (
    SELECT s.runs, s.last_started_at, s.last_finished_at,
           coalesce(s.cron_runs, 0) > 0 AS by_cron,
           CASE WHEN s.cron_runs > 0 THEN s.cron_runs ELSE coalesce(s.runs, 0) END AS n,
           CASE WHEN s.cron_runs > 0 THEN s.last_cron_at ELSE s.last_started_at END AS last_at,
           CASE WHEN s.cron_runs > 0 THEN s.last_cron_finished_at ELSE s.last_finished_at END AS last_end,
           CASE WHEN s.cron_runs > 0 THEN s.cron_gap ELSE s.run_gap END AS gap,
           EXISTS (SELECT FROM pg_catalog.pg_extension x WHERE x.extname = 'pg_cron') AS cron_here,
           leadflow.cron_database() AS cron_db
      FROM (SELECT) one
      LEFT JOIN leadflow.sweep_stats s ON true
),
sweep_hint AS (
    SELECT w.*,
           CASE WHEN w.cron_here THEN 'SELECT leadflow.schedule_sweep();'
                WHEN w.cron_db IS NOT NULL
                THEN pg_catalog.format('Connect to database %I and run: %s', w.cron_db, leadflow.sweep_schedule_command())
                ELSE 'pg_cron is not loaded: add it to shared_preload_libraries (see the README), or have another scheduler run SELECT leadflow.sweep() every minute.'
           END AS schedule_hint,
           CASE WHEN w.cron_db IS NOT NULL
                THEN pg_catalog.format('%sSee why in pg_cron''s history: SELECT start_time, status, return_message FROM cron.job_run_details WHERE jobid IN (SELECT jobid FROM cron.job WHERE jobname = %L) ORDER BY start_time DESC LIMIT 5;',
                                       CASE WHEN w.cron_here THEN '' ELSE pg_catalog.format('Connect to database %I. ', w.cron_db) END,
                                       leadflow.sweep_job_name())
                ELSE 'Check the scheduler that runs SELECT leadflow.sweep().'
           END AS history_hint
      FROM sweep w
),
backlog AS (
    SELECT count(*) AS leads, min(l.created_at) AS oldest,
           count(*) FILTER (WHERE leadflow.now() - l.created_at > coalesce(q.first_touch_sla, d.first_touch_sla)) AS late
      FROM leadflow.lead l
      LEFT JOIN leadflow.queue q ON q.name = l.queue
      CROSS JOIN (SELECT first_touch_sla FROM leadflow.queue WHERE name = 'default') d
     WHERE l.stage IN ('new', 'working') AND l.owner_id IS NULL
),
routed_queue AS (
    SELECT r.queue AS name FROM leadflow.rule r WHERE r.active AND r.action = 'route'
    UNION
    -- the default queue catches what no rule matches, unless a rule matches everything
    SELECT 'default'
     WHERE NOT EXISTS (SELECT FROM leadflow.rule r
                        WHERE r.active AND r.match = '{}'::jsonb AND r.min_score IS NULL AND r.max_score IS NULL)
),
target_queue AS (
    SELECT name FROM routed_queue
    UNION
    SELECT x.target
      FROM leadflow.queue q
      JOIN routed_queue rq ON rq.name = q.name,
           LATERAL (VALUES (q.escalate_to), (q.then_queue)) x(target)
     WHERE x.target IS NOT NULL
),
staffing AS (
    SELECT t.name,
           count(r.id) FILTER (WHERE r.active) AS active_members,
           count(r.id) FILTER (WHERE r.active AND leadflow.next_open(
                                   greatest(leadflow.now(), coalesce(r.away_until, leadflow.now())),
                                   r.hours, r.holidays) < leadflow.now() + interval '7 days') AS working_soon
      FROM target_queue t
      LEFT JOIN leadflow.queue_member m ON m.queue = t.name
      LEFT JOIN leadflow.rep r ON r.id = m.rep_id
     GROUP BY t.name
),
unstaffed AS (
    SELECT count(*) FILTER (WHERE s.active_members = 0 OR s.working_soon = 0) AS queues,
           count(*) AS routed,
           pg_catalog.array_to_string((pg_catalog.array_agg(pg_catalog.format('"%s" (%s)', s.name,
                                     CASE WHEN s.active_members = 0 THEN 'no active member'
                                          ELSE 'no member works in the next 7 days' END)
                                 ORDER BY s.name)
               FILTER (WHERE s.active_members = 0 OR s.working_soon = 0))[1:10], ', ') AS names
      FROM staffing s
),
rep_cap AS (
    SELECT r.id, r.name, r.max_open, r.max_new_per_day,
           coalesce(l.open_count, 0) >= r.max_open AS at_open,
           CASE WHEN l.new_day = (leadflow.now() AT TIME ZONE leadflow.workhours_zone(r.hours))::date
                THEN l.new_count ELSE 0 END >= r.max_new_per_day AS at_new
      FROM leadflow.rep r
      LEFT JOIN leadflow.rep_load l ON l.rep_id = r.id
     WHERE r.active
),
at_cap AS (
    SELECT count(*) AS active,
           count(*) FILTER (WHERE c.at_open OR c.at_new) AS reps,
           -- the first ten by name: a detail stays readable
           pg_catalog.array_to_string((pg_catalog.array_agg(pg_catalog.format('%s (%s)', c.name,
                                     CASE WHEN c.at_open THEN 'max_open ' || c.max_open
                                          ELSE 'max_new_per_day ' || c.max_new_per_day END)
                                 ORDER BY c.name) FILTER (WHERE c.at_open OR c.at_new))[1:10], ', ') AS names
      FROM rep_cap c
),
alerts AS (
    SELECT count(*) AS n, min(a.at) AS oldest,
           count(*) FILTER (WHERE a.at < leadflow.now() - interval '1 hour') AS hour_old,
           count(*) FILTER (WHERE a.at < leadflow.now() - interval '1 day') AS day_old
      FROM leadflow.alert a
     WHERE a.acknowledged_at IS NULL
),
untouched AS (
    SELECT count(*) AS leads
      FROM leadflow.lead l
     WHERE l.stage IN ('new', 'working') AND l.owner_id IS NOT NULL AND l.next_touch_at IS NULL
),
invariants AS (
    SELECT i.checked_at, i.violations, i.seconds,
           (SELECT pg_catalog.string_agg(k.key || ' ' || k.value, ', ' ORDER BY k.key)
              FROM pg_catalog.jsonb_each_text(i.kinds) k) AS kinds
      FROM (SELECT) one
      LEFT JOIN leadflow.invariants_run i ON true
),
unknown_setting AS (
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%s (%s)', u.name,
               CASE WHEN u.setrole = 0 THEN 'ALTER DATABASE ' || pg_catalog.quote_ident(pg_catalog.current_database())
                    WHEN u.setdatabase = 0 THEN 'ALTER ROLE ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(u.setrole))
                    ELSE 'ALTER ROLE ' || pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(u.setrole))
                         || ' IN DATABASE ' || pg_catalog.quote_ident(pg_catalog.current_database()) END),
               ', ') AS names,
           count(*) AS n
      FROM (SELECT pg_catalog.lower(pg_catalog.split_part(c.cfg, '=', 1)) AS name, d.setdatabase, d.setrole
              FROM pg_catalog.pg_db_role_setting d, pg_catalog.unnest(d.setconfig) c(cfg)
             WHERE d.setdatabase IN (0, (SELECT b.oid FROM pg_catalog.pg_database b
                                          WHERE b.datname = pg_catalog.current_database()))) u
     WHERE u.name LIKE 'leadflow.%'
       AND u.name NOT IN (SELECT pg_catalog.lower(s.name) FROM pg_catalog.pg_settings s)
),
key_checks AS (
    SELECT pg_catalog.string_agg(DISTINCT k.constraint_name, ', ') FILTER (WHERE k.postgresql_checks) AS doubled,
           pg_catalog.string_agg(pg_catalog.format('ALTER TABLE leadflow.lead DISABLE TRIGGER %I;', k.trigger_name),
                                 ' ' ORDER BY k.trigger_name) FILTER (WHERE k.postgresql_checks) AS fix,
           pg_catalog.string_agg(DISTINCT k.constraint_name, ', ')
               FILTER (WHERE NOT k.postgresql_checks AND NOT k.leadflow_checks) AS unchecked
      FROM leadflow.lead_key_triggers k
)
SELECT 1 AS ord, 'sweep'::text AS "check",
       CASE WHEN w.n = 0 THEN 'fail'
            WHEN w.n = 1 THEN 'warn'
            WHEN pg_catalog.now() - w.last_at > 2 * w.gap THEN 'fail'
            WHEN w.last_end - w.last_at > w.gap THEN 'warn'
            ELSE 'ok' END AS status,
       CASE WHEN w.n = 0 THEN
                CASE WHEN w.runs > 0
                     THEN pg_catalog.format('no sweep run by pg_cron is recorded in database "%s"; the last sweep (by hand) started %s ago',
                                            pg_catalog.current_database(),
                                            leadflow.duration_text(pg_catalog.now() - w.last_started_at))
                     ELSE pg_catalog.format('no sweep is recorded in database "%s"', pg_catalog.current_database()) END
            WHEN w.n = 1 THEN
                pg_catalog.format('one sweep %s so far, %s ago; its interval is not known yet',
                                  CASE WHEN w.by_cron THEN 'by pg_cron' ELSE '(by hand or another scheduler)' END,
                                  leadflow.duration_text(pg_catalog.now() - w.last_at))
            ELSE pg_catalog.format('the last sweep %s started %s ago and took %s s; the one before started %s earlier',
                                   CASE WHEN w.by_cron THEN 'by pg_cron' ELSE '(by hand or another scheduler; none by pg_cron yet)' END,
                                   leadflow.duration_text(pg_catalog.now() - w.last_at),
                                   pg_catalog.round(pg_catalog.date_part('epoch', w.last_end - w.last_at)::numeric, 3),
                                   leadflow.duration_text(w.gap))
       END AS detail,
       CASE WHEN w.n = 0 OR NOT w.by_cron THEN w.schedule_hint
            WHEN pg_catalog.now() - w.last_at > 2 * w.gap THEN w.history_hint
            WHEN w.last_end - w.last_at > w.gap THEN 'The sweep takes longer than its interval: schedule it less often, or lower leadflow.sweep_batch_size.'
       END AS hint
  FROM sweep_hint w
UNION ALL
SELECT 2, 'backlog',
       CASE WHEN b.leads = 0 THEN 'ok' WHEN b.late > 0 THEN 'fail' ELSE 'warn' END,
       CASE WHEN b.leads = 0 THEN 'no open lead is without an owner'
            ELSE pg_catalog.format('%s open leads without an owner; the oldest arrived %s ago; %s waited longer than their queue''s first_touch_sla',
                                   b.leads, leadflow.duration_text(leadflow.now() - b.oldest), b.late) END,
       CASE WHEN b.leads > 0 THEN 'SELECT * FROM leadflow.backlog and leadflow.explain(lead_id) say why nobody took them; add members or raise caps, then SELECT leadflow.route_pending();' END
  FROM backlog b
UNION ALL
SELECT 3, 'unstaffed_queues',
       CASE WHEN u.queues > 0 THEN 'fail' ELSE 'ok' END,
       CASE WHEN u.queues > 0 THEN pg_catalog.format('%s of %s queues that leads are routed to have nobody to take them: %s%s', u.queues, u.routed, u.names,
                                                     CASE WHEN u.queues > 10 THEN pg_catalog.format(' and %s more', u.queues - 10) ELSE '' END)
            ELSE pg_catalog.format('each of the %s queues that leads are routed to has an active member working in the next 7 days', u.routed) END,
       CASE WHEN u.queues > 0 THEN 'Add active members (leadflow.queue_member) or fix their hours and away_until; until then their leads wait in the backlog.' END
  FROM unstaffed u
UNION ALL
SELECT 4, 'reps_at_cap',
       CASE WHEN c.reps > 0 THEN 'warn' ELSE 'ok' END,
       CASE WHEN c.reps > 0 THEN pg_catalog.format('%s of %s active reps are at a cap: %s%s', c.reps, c.active, c.names,
                                                   CASE WHEN c.reps > 10 THEN pg_catalog.format(' and %s more', c.reps - 10) ELSE '' END)
            ELSE pg_catalog.format('none of the %s active reps is at a cap', c.active) END,
       CASE WHEN c.reps > 0 THEN 'A rep at a cap takes no new lead: see leadflow.rep_pipeline; raise max_open or max_new_per_day in leadflow.rep if they can take more.' END
  FROM at_cap c
UNION ALL
SELECT 5, 'unacknowledged_alerts',
       CASE WHEN a.day_old > 0 THEN 'fail' WHEN a.hour_old > 0 THEN 'warn' ELSE 'ok' END,
       CASE WHEN a.n = 0 THEN 'every alert is acknowledged'
            ELSE pg_catalog.format('%s alerts are unacknowledged, %s of them older than an hour and %s older than a day; the oldest is %s old',
                                   a.n, a.hour_old, a.day_old, leadflow.duration_text(leadflow.now() - a.oldest)) END,
       CASE WHEN a.hour_old > 0 THEN 'Managers and reps read leadflow.alert and mark what they handled with leadflow.acknowledge_alert(alert_id).' END
  FROM alerts a
UNION ALL
SELECT 6, 'no_next_touch',
       CASE WHEN t.leads > 0 THEN 'warn' ELSE 'ok' END,
       CASE WHEN t.leads > 0 THEN pg_catalog.format('%s open leads have an owner but no next touch, so no work list asks for them', t.leads)
            ELSE 'every open lead with an owner has a next touch' END,
       CASE WHEN t.leads > 0 THEN 'Imported open leads without a cadence get none until touched: SELECT id, owner_id FROM leadflow.lead WHERE stage IN (''new'', ''working'') AND owner_id IS NOT NULL AND next_touch_at IS NULL; a touch, or leadflow.assign, starts their queue''s cadence.' END
  FROM untouched t
UNION ALL
SELECT 7, 'invariants',
       CASE WHEN i.checked_at IS NULL THEN 'warn' WHEN i.violations > 0 THEN 'fail'
            WHEN i.checked_at < pg_catalog.now() - interval '25 hours' THEN 'warn' ELSE 'ok' END,
       CASE WHEN i.checked_at IS NULL THEN 'check_invariants() has not been recorded (health() does not run it: it reads every open lead and its ledger)'
            ELSE pg_catalog.format('check_invariants() found %s violations %s ago (it took %s s)%s',
                                   i.violations, leadflow.duration_text(pg_catalog.now() - i.checked_at),
                                   pg_catalog.round(i.seconds::numeric, 1),
                                   CASE WHEN i.violations > 0 THEN ': ' || i.kinds ELSE '' END) END,
       CASE WHEN i.violations > 0 THEN 'SELECT * FROM leadflow.check_invariants(); lists them; this is a bug to report, with that list.'
            WHEN i.checked_at IS NULL OR i.checked_at < pg_catalog.now() - interval '25 hours'
            THEN 'SELECT leadflow.record_invariants(); records it; schedule that hourly with pg_cron, beside the sweep.' END
  FROM invariants i
UNION ALL
SELECT 8, 'preloaded',
       CASE WHEN leadflow.preloaded() THEN 'ok' ELSE 'warn' END,
       CASE WHEN leadflow.preloaded() THEN 'leadflow is in shared_preload_libraries: leadflow.* settings are checked from the start of every session'
            ELSE 'leadflow is not preloaded: until it loads in a session, PostgreSQL takes any leadflow.* name, misspelt or not, without a word' END,
       CASE WHEN NOT leadflow.preloaded() THEN 'Add leadflow to shared_preload_libraries (shared_preload_libraries = ''pg_cron,leadflow'') and restart the server.' END
UNION ALL
SELECT 9, 'unknown_settings',
       CASE WHEN s.n > 0 THEN 'fail' ELSE 'ok' END,
       CASE WHEN s.n > 0 THEN pg_catalog.format('%s stored leadflow.* settings are not leadflow settings and do nothing: %s', s.n, s.names)
            ELSE 'no stored leadflow.* setting is misspelt' END,
       CASE WHEN s.n > 0 THEN 'Remove them with ALTER DATABASE/ROLE ... RESET and set the right name (SELECT name FROM pg_settings WHERE name LIKE ''leadflow.%'').' END
  FROM unknown_setting s
UNION ALL
SELECT 10, 'foreign_keys',
       CASE WHEN k.unchecked IS NOT NULL THEN 'fail' WHEN k.doubled IS NOT NULL THEN 'warn' ELSE 'ok' END,
       CASE WHEN k.unchecked IS NOT NULL
            THEN pg_catalog.format('nothing checks %s of written leads: PostgreSQL''s check triggers and leadflow''s (lead_keys_inserted, lead_keys_updated) are both disabled', k.unchecked)
            WHEN k.doubled IS NOT NULL
            THEN pg_catalog.format('PostgreSQL''s own check triggers of %s are enabled (pg_upgrade, or ALTER TABLE ... ENABLE TRIGGER ALL, does that): the keys are checked, by PostgreSQL instead of leadflow, which costs routing about a quarter of its speed', k.doubled)
            ELSE 'leadflow checks the keys of written leads to accounts, queues and reps' END,
       CASE WHEN k.unchecked IS NOT NULL
            THEN 'ALTER TABLE leadflow.lead ENABLE TRIGGER lead_keys_inserted; ALTER TABLE leadflow.lead ENABLE TRIGGER lead_keys_updated;'
            WHEN k.doubled IS NOT NULL
            THEN 'As a superuser (they are internal triggers): ' || k.fix END
  FROM key_checks k;
COMMENT ON VIEW leadflow.health_checks IS
    'What leadflow.health() returns, with each check''s position (ord).';
REVOKE ALL ON leadflow.health_checks FROM PUBLIC;
GRANT SELECT ON leadflow.health_checks TO leadflow_admin, leadflow_manager;

CREATE FUNCTION leadflow.health()
    RETURNS TABLE ("check" text, status text, detail text, hint text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    SELECT h."check", h.status, h.detail, h.hint FROM leadflow.health_checks h ORDER BY h.ord
$$;
COMMENT ON FUNCTION leadflow.health() IS
    'One row per operational check: check, status (ok, warn, fail), detail, hint.  Cheap enough to poll every minute.';
REVOKE ALL ON FUNCTION leadflow.health() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.health() TO leadflow_admin, leadflow_manager;

------------------------------------------------------------------------
-- Figures for Prometheus (ops/prometheus/leadflow-queries.yaml reads
-- them through prometheus-postgres-exporter).  Views with their owner's
-- rights that show counts, ages and statuses only, so leadflow_monitor
-- reads no lead, rep or detail.  Ages in seconds.
------------------------------------------------------------------------

-- Open leads without an owner, per queue ('' for leads never routed).
CREATE VIEW leadflow.metrics_backlog AS
SELECT q.name AS queue, count(l.id) AS leads,
       coalesce(pg_catalog.date_part('epoch', leadflow.now() - min(l.created_at)), 0) AS oldest_seconds
  FROM leadflow.queue q
  LEFT JOIN leadflow.lead l
         ON l.queue = q.name AND l.stage IN ('new', 'working') AND l.owner_id IS NULL
 GROUP BY q.name
UNION ALL
SELECT '', count(*), coalesce(pg_catalog.date_part('epoch', leadflow.now() - min(l.created_at)), 0)
  FROM leadflow.lead l
 WHERE l.stage IN ('new', 'working') AND l.owner_id IS NULL AND l.queue IS NULL
HAVING count(*) > 0;

-- Open leads whose owner let the SLA pass and that the sweep has not
-- moved yet (it moves them on its next run).
CREATE VIEW leadflow.metrics_sla AS
SELECT count(*) AS breached_leads,
       coalesce(pg_catalog.date_part('epoch', leadflow.now() - min(l.sla_due_at)), 0) AS oldest_breach_seconds
  FROM leadflow.lead l
 WHERE l.stage IN ('new', 'working') AND l.owner_id IS NOT NULL AND l.sla_due_at < leadflow.now();

-- Every ledger decision so far, per kind (assign = a lead routed to a rep;
-- reassign_sla, escalate, handoff, backlog, manual, ...).  The ledger is
-- append-only, so these are counters; counting it reads the whole table,
-- which is why the queries file caches it.
CREATE VIEW leadflow.metrics_decisions AS
SELECT k.kind::text AS kind, count(d.id) AS decisions
  FROM pg_catalog.unnest(pg_catalog.enum_range(NULL::leadflow.decision_kind)) k(kind)
  LEFT JOIN leadflow.decision d ON d.kind = k.kind
 GROUP BY k.kind;

-- The sweep: runs, the last run's duration and how long ago it finished.
CREATE VIEW leadflow.metrics_sweep AS
SELECT coalesce(s.runs, 0) AS runs, coalesce(s.cron_runs, 0) AS cron_runs,
       coalesce(pg_catalog.date_part('epoch', s.last_finished_at - s.last_started_at), 0) AS last_duration_seconds,
       pg_catalog.date_part('epoch', pg_catalog.now() - s.last_finished_at) AS last_finished_seconds_ago,
       pg_catalog.date_part('epoch', pg_catalog.now() - s.last_cron_finished_at) AS last_cron_finished_seconds_ago
  FROM (SELECT) one
  LEFT JOIN leadflow.sweep_stats s ON true;

-- Leads the sweep moved so far, per action (counters).
CREATE VIEW leadflow.metrics_sweep_actions AS
SELECT t.action, t.leads FROM leadflow.sweep_action_total t;

-- Active reps, and those at a cap now.
CREATE VIEW leadflow.metrics_reps AS
SELECT count(*) AS active,
       count(*) FILTER (WHERE coalesce(l.open_count, 0) >= r.max_open) AS at_max_open,
       count(*) FILTER (WHERE CASE WHEN l.new_day = (leadflow.now() AT TIME ZONE leadflow.workhours_zone(r.hours))::date
                                   THEN l.new_count ELSE 0 END >= r.max_new_per_day) AS at_max_new_per_day
  FROM leadflow.rep r
  LEFT JOIN leadflow.rep_load l ON l.rep_id = r.id
 WHERE r.active;

-- Each health check's status (0 ok, 1 warn, 2 fail), without its detail.
CREATE VIEW leadflow.metrics_health AS
SELECT h."check", h.status,
       CASE h.status WHEN 'ok' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END AS severity
  FROM leadflow.health_checks h;

COMMENT ON VIEW leadflow.metrics_backlog IS 'Prometheus: open leads without an owner per queue, and the oldest one''s age in seconds.';
COMMENT ON VIEW leadflow.metrics_sla IS 'Prometheus: open leads past their SLA that the sweep has not moved yet, and the oldest breach''s age.';
COMMENT ON VIEW leadflow.metrics_decisions IS 'Prometheus: ledger decisions so far per kind (counters).';
COMMENT ON VIEW leadflow.metrics_sweep IS 'Prometheus: sweep runs, the last duration, seconds since the last one finished.';
COMMENT ON VIEW leadflow.metrics_sweep_actions IS 'Prometheus: leads moved by the sweep so far per action (counters).';
COMMENT ON VIEW leadflow.metrics_reps IS 'Prometheus: active reps and those at max_open or max_new_per_day.';
COMMENT ON VIEW leadflow.metrics_health IS 'Prometheus: each health() check''s status and severity (0 ok, 1 warn, 2 fail).';
REVOKE ALL ON leadflow.metrics_backlog, leadflow.metrics_sla, leadflow.metrics_decisions,
    leadflow.metrics_sweep, leadflow.metrics_sweep_actions, leadflow.metrics_reps,
    leadflow.metrics_health FROM PUBLIC;
GRANT SELECT ON leadflow.metrics_backlog, leadflow.metrics_sla, leadflow.metrics_decisions,
    leadflow.metrics_sweep, leadflow.metrics_sweep_actions, leadflow.metrics_reps,
    leadflow.metrics_health TO leadflow_monitor, leadflow_manager, leadflow_admin;

-- The helpers the views and health() call run as the caller.
REVOKE ALL ON FUNCTION leadflow.sweep_job_name(), leadflow.cron_database(),
    leadflow.sweep_schedule_command(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.sweep_job_name(), leadflow.cron_database(),
    leadflow.sweep_schedule_command(text) TO leadflow_admin, leadflow_manager, leadflow_monitor;
-- schedule_sweep and unschedule_sweep call these as their caller
GRANT EXECUTE ON FUNCTION leadflow.cron_elsewhere(text, text), leadflow.cron_check_caller()
    TO leadflow_admin;
-- END operations


-- BEGIN code_map
-- The touch logic in C (issue 18): touch_before_insert is src/touches.c,
-- beside src/stages.c, which owns the stage rules it applies (which
-- stages take touches, which outcome moves the lead where).  It does what
-- the PL/pgSQL of the security and adoption sections above did, with the
-- same errors; fixes to it no longer need an upgrade script.
--
-- SECURITY DEFINER: the lead's stage, cadence position and SLA clock are
-- written by leadflow only; the acting role (leadflow.acting_role()) is
-- what is checked.
CREATE OR REPLACE FUNCTION leadflow.touch_before_insert() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_touch_before_insert'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp;

-- The two triggers that run before it, by name, in C beside it: both run
-- as the caller, so touch_authorize reads the lead through row-level
-- security (a rep sees only its own leads), as in the security section.
CREATE OR REPLACE FUNCTION leadflow.touch_authorize() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_touch_authorize'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
CREATE OR REPLACE FUNCTION leadflow.touch_check_input() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_touch_check_input'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
-- END code_map


-- BEGIN policy
------------------------------------------------------------------------
-- Routing policy as data (issue 19, part 1).  Every change of the
-- configuration is recorded in leadflow.config_change; every decision
-- names the configuration it was taken under (decision.config_version);
-- config_as_of() rebuilds the configuration in force at any moment.
------------------------------------------------------------------------

-- The configuration audit.  Append-only: written by the trigger
-- config_audit only, never updated or deleted (nobody but the owner has
-- a privilege beyond SELECT on it, and the trigger below refuses even
-- the owner).
--
--   at           leadflow.now() of the changing transaction, like every
--                time leadflow writes (decision.at, lead.created_at): the
--                transaction's start, or leadflow.clock.  The change takes
--                effect when the transaction commits.
--   role_name    session_user: who logged in.
--   acting_role  leadflow.acting_role(): the role whose rights made the
--                change -- after SET ROLE, and the caller's inside
--                SECURITY DEFINER code (current_user there is the
--                function's owner, which says nothing about who asked).
--   op           INSERT, UPDATE, DELETE, TRUNCATE, or BASELINE: a row that
--                was there when the audit began (the update to 1.2, or
--                CREATE EXTENSION), recorded once.
--   key          the row's primary key as a JSON object: after the change
--                (INSERT, UPDATE, BASELINE), before it (DELETE); NULL for
--                TRUNCATE, which removes every row of the table.
--   old, new     the row before and after (to_jsonb); for account only
--                its key, domain, status and suppress_reason.
--   txid         the changing transaction.
--
-- Ids follow commit order: a transaction that changes the configuration
-- takes a lock (SHARE UPDATE EXCLUSIVE on this table, which no role but
-- the owner can take and which neither readers nor routing wait for)
-- before its first audit row and keeps it to commit, so configuration
-- changes commit one after the other.  Hence every snapshot sees all the
-- changes up to some id and none after it: "the configuration at
-- version v" -- every change with id <= v -- is exactly what a snapshot
-- that saw v as the latest saw.
CREATE TABLE leadflow.config_change (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    role_name   text NOT NULL,
    acting_role text NOT NULL,
    table_name  text NOT NULL,
    op          text NOT NULL
                CONSTRAINT config_change_op
                CHECK (op IN ('BASELINE', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
    key         jsonb,
    old         jsonb,
    new         jsonb,
    txid        xid8 NOT NULL,
    CONSTRAINT config_change_rows CHECK (
        CASE op WHEN 'TRUNCATE' THEN key IS NULL AND old IS NULL AND new IS NULL
                WHEN 'DELETE' THEN key IS NOT NULL AND old IS NOT NULL AND new IS NULL
                WHEN 'UPDATE' THEN key IS NOT NULL AND old IS NOT NULL AND new IS NOT NULL
                ELSE key IS NOT NULL AND old IS NULL AND new IS NOT NULL END)
);
CREATE INDEX config_change_at_idx ON leadflow.config_change (at);
SELECT pg_catalog.pg_extension_config_dump('leadflow.config_change', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.config_change_id_seq', '');
-- Managers and admins read it; reps do not (it names every rep's caps,
-- logins and managers, and every suppressed competitor); nobody writes it.
GRANT SELECT ON leadflow.config_change TO leadflow_manager, leadflow_admin;

CREATE FUNCTION leadflow.config_change_append_only() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'leadflow.config_change is append-only'
        USING ERRCODE = 'insufficient_privilege',
              DETAIL = 'It records every change of leadflow''s configuration; its rows are never changed or removed.',
              HINT = 'Read it, or the configuration of a past moment with leadflow.config_as_of(at).';
END;
$$;
CREATE TRIGGER config_change_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
    ON leadflow.config_change FOR EACH STATEMENT
    EXECUTE FUNCTION leadflow.config_change_append_only();
-- A new audit row makes every backend reload its routing configuration
-- (src/config_cache.c), with the version that goes into its decisions --
-- also for the audited tables routing does not cache (accounts, scoring
-- rules, qualification criteria, models).
CREATE TRIGGER config_changed AFTER INSERT ON leadflow.config_change
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();

-- A restore loading a dump, also inside the extension script: CREATE
-- EXTENSION runs every script with check_function_bodies off, so there
-- leadflow.restoring() is true for every superuser; a restore's session
-- had turned it off itself (src/roles.c).  The audit asks this one: a
-- restore brings the audit back and must not write it again, a plain
-- CREATE EXTENSION or ALTER EXTENSION UPDATE records its baseline.
CREATE FUNCTION leadflow.restoring_dump() RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_restoring_dump_sql'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.restoring_dump() IS
    'True while a restore loads a dump: leadflow.restoring(), where inside an extension script (which runs with check_function_bodies off) it is the session that must have turned it off.';

-- A configuration row as the audit records it: its primary key (the
-- columns key_columns names), and the row (only the key and the columns
-- named in "recorded", when given), as to_jsonb writes them -- in UTC and
-- with intervals in one style, whatever the session's settings, so that
-- the same row is always the same JSON (a key with a time in it is
-- compared as JSON).
CREATE FUNCTION leadflow.config_audit_row(r anyelement, key_columns text[], recorded text[],
                                          OUT key jsonb, OUT value jsonb)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
    SET TimeZone = 'UTC'
    SET IntervalStyle = 'postgres'
AS $$
DECLARE
    doc jsonb := pg_catalog.to_jsonb(r);
BEGIN
    key := (SELECT pg_catalog.jsonb_object_agg(e.k, e.v) FROM pg_catalog.jsonb_each(doc) e(k, v)
             WHERE e.k = ANY (key_columns));
    value := CASE WHEN coalesce(pg_catalog.cardinality(recorded), 0) = 0 THEN doc
                  ELSE (SELECT pg_catalog.jsonb_object_agg(e.k, e.v) FROM pg_catalog.jsonb_each(doc) e(k, v)
                         WHERE e.k = ANY (recorded) OR e.k = ANY (key_columns)) END;
END;
$$;

-- The audit trigger, one function for every configuration table:
--   FOR EACH STATEMENT, BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE:
--     takes the audit's lock before the statement locks any row (so two
--     configuration changes wait for each other before either holds a
--     row the other needs), and records a TRUNCATE;
--   FOR EACH ROW, AFTER INSERT OR UPDATE OR DELETE: records the row
--     (arguments: the primary key's columns as a text[] literal, then the
--     columns to record, default all).
-- An UPDATE that changes nothing recorded is not recorded.  A restore
-- (leadflow.restoring_dump()) records nothing: the dump brings the audit
-- back as it was.  SECURITY DEFINER: it writes leadflow.config_change, which
-- no role may write directly.
CREATE FUNCTION leadflow.config_audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    old_key jsonb;
    old_row jsonb;
    new_key jsonb;
    new_row jsonb;
BEGIN
    IF leadflow.restoring_dump() THEN
        RETURN NULL;
    END IF;
    LOCK TABLE leadflow.config_change IN SHARE UPDATE EXCLUSIVE MODE;
    IF TG_LEVEL = 'STATEMENT' AND TG_OP <> 'TRUNCATE' THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT a.key, a.value INTO old_key, old_row
          FROM leadflow.config_audit_row(OLD, TG_ARGV[0]::text[], TG_ARGV[1:]) a;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT a.key, a.value INTO new_key, new_row
          FROM leadflow.config_audit_row(NEW, TG_ARGV[0]::text[], TG_ARGV[1:]) a;
    END IF;
    IF TG_OP = 'UPDATE' AND old_row = new_row THEN
        RETURN NULL;
    END IF;
    INSERT INTO leadflow.config_change (at, role_name, acting_role, table_name, op, key, old, new, txid)
    VALUES (leadflow.now(), session_user, leadflow.acting_role(), TG_TABLE_NAME, TG_OP,
            coalesce(new_key, old_key), old_row, new_row, pg_catalog.pg_current_xact_id());
    RETURN NULL;
END;
$$;
REVOKE ALL ON FUNCTION leadflow.config_change_append_only(), leadflow.config_audit(),
    leadflow.config_audit_row(anyelement, text[], text[]) FROM PUBLIC;

-- The configuration tables.  Routing state is not configuration: the
-- counters (rep_load), the rotation (member_state) and account ownership
-- are routing's own writes, rebuilt for a replay from the ledger.
--
-- Adding a table to the audit is adding its name to this list: its
-- triggers are created and its rows recorded as the baseline.  (A table
-- whose rows are partly routing state gets its own triggers instead, as
-- account below.)
DO $$
DECLARE
    config_table text;
    key_columns text[];
BEGIN
    FOREACH config_table IN ARRAY ARRAY[
        'rep', 'queue', 'queue_member', 'rule', 'scoring_rule', 'qualification_criterion',
        'freemail_domain', 'country_calling_code', 'model', 'holiday_calendar', 'holiday'
    ] LOOP
        SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO key_columns
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = ('leadflow.' || config_table)::pg_catalog.regclass AND i.indisprimary;
        IF key_columns IS NULL THEN
            RAISE EXCEPTION 'leadflow.% has no primary key, which the configuration audit needs', config_table
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER config_audit_statement BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE'
            ' ON leadflow.%I FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_audit()', config_table);
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER config_audit AFTER INSERT OR UPDATE OR DELETE'
            ' ON leadflow.%I FOR EACH ROW EXECUTE FUNCTION leadflow.config_audit(%L)',
            config_table, key_columns);
        -- the baseline (a restore brings the audit as it was)
        IF NOT leadflow.restoring_dump() THEN
            EXECUTE pg_catalog.format(
                'INSERT INTO leadflow.config_change (at, role_name, acting_role, table_name, op, key, new, txid)'
                ' SELECT leadflow.now(), session_user, leadflow.acting_role(), %L, ''BASELINE'','
                '        a.key, a.value, pg_catalog.pg_current_xact_id()'
                '   FROM leadflow.%I t, leadflow.config_audit_row(t, %L, NULL) a'
                '  ORDER BY a.key', config_table, config_table, key_columns);
        END IF;
    END LOOP;
END;
$$;

-- Accounts: their status and suppression are configuration (a suppressed
-- competitor, a customer); their owner and owned_until are routing's
-- (sticky ownership, written on the hot path), and so are the prospect
-- accounts routing creates for every new domain.  So only an account
-- that is configured -- not a plain prospect -- is recorded, with its
-- domain, status and suppress_reason, and the triggers fire for nothing
-- else: routing's INSERTs of prospects and its UPDATEs of the owner
-- never run the trigger.  No statement trigger either (it would run for
-- routing's INSERTs): the row trigger takes the audit's lock itself.
CREATE TRIGGER config_audit_insert AFTER INSERT ON leadflow.account FOR EACH ROW
    WHEN (NEW.status <> 'prospect' OR NEW.suppress_reason IS NOT NULL)
    EXECUTE FUNCTION leadflow.config_audit('{id}', 'domain', 'status', 'suppress_reason');
CREATE TRIGGER config_audit_update AFTER UPDATE OF domain, status, suppress_reason
    ON leadflow.account FOR EACH ROW
    WHEN (OLD.status <> 'prospect' OR OLD.suppress_reason IS NOT NULL
          OR NEW.status <> 'prospect' OR NEW.suppress_reason IS NOT NULL)
    EXECUTE FUNCTION leadflow.config_audit('{id}', 'domain', 'status', 'suppress_reason');
CREATE TRIGGER config_audit_delete AFTER DELETE ON leadflow.account FOR EACH ROW
    WHEN (OLD.status <> 'prospect' OR OLD.suppress_reason IS NOT NULL)
    EXECUTE FUNCTION leadflow.config_audit('{id}', 'domain', 'status', 'suppress_reason');
CREATE TRIGGER config_audit_statement BEFORE TRUNCATE ON leadflow.account
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_audit();
DO $$
BEGIN
    IF NOT leadflow.restoring_dump() THEN
        INSERT INTO leadflow.config_change (at, role_name, acting_role, table_name, op, key, new, txid)
        SELECT leadflow.now(), session_user, leadflow.acting_role(), 'account', 'BASELINE',
               a.key, a.value, pg_catalog.pg_current_xact_id()
          FROM leadflow.account t,
               leadflow.config_audit_row(t, '{id}', '{domain,status,suppress_reason}') a
         WHERE t.status <> 'prospect' OR t.suppress_reason IS NOT NULL
         ORDER BY t.id;
    END IF;
END;
$$;

------------------------------------------------------------------------
-- Versions.
------------------------------------------------------------------------

-- The latest configuration change the caller's snapshot sees.
CREATE FUNCTION leadflow.current_config_version() RETURNS bigint
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$ SELECT max(c.id) FROM leadflow.config_change c $$;

-- Every decision names the configuration it was taken under: the version
-- of the routing configuration its backend had loaded (src/config_cache.c
-- reads it with the configuration, in one snapshot; src/ledger.c writes
-- it).  Decisions written by SQL (merge) take the latest version visible
-- to their statement.  Decisions of 1.0 and 1.1 keep NULL: added without
-- a default, then given one, so the ledger is not rewritten.
ALTER TABLE leadflow.decision ADD COLUMN config_version bigint;
ALTER TABLE leadflow.decision ALTER COLUMN config_version SET DEFAULT leadflow.current_config_version();

-- The version in force at a moment: the latest change made at or before
-- it (by "at", in id order: the configuration after that change is one
-- that really was in force); before the first change since the baseline,
-- the baseline.
CREATE FUNCTION leadflow.config_version_at(at timestamptz) RETURNS bigint
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'the moment must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a moment, e.g. ''2026-03-01 09:00+00''.';
    END IF;
    RETURN coalesce((SELECT max(c.id) FROM leadflow.config_change c WHERE c.at <= config_version_at.at),
                    (SELECT max(c.id) FROM leadflow.config_change c WHERE c.op = 'BASELINE'));
END;
$$;

-- The configuration at a version: every row of every audited table (or
-- of one) after the changes with id <= version, one row each: its table,
-- key, value (as the audit wrote it), and the change that made it so.
-- Each change sets the row at its key (INSERT, UPDATE, BASELINE) or
-- removes it (DELETE); an UPDATE of the key also removes the row at the
-- old key, and a TRUNCATE every row of its table before it.
CREATE FUNCTION leadflow.config_at_version(version bigint, of_table text DEFAULT NULL)
    RETURNS TABLE (table_name text, key jsonb, value jsonb, change_id bigint, changed_at timestamptz)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    only_table text := of_table;
BEGIN
    IF version IS NULL THEN
        RAISE EXCEPTION 'the configuration version must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a leadflow.config_change id, e.g. a decision''s config_version.';
    END IF;
    IF only_table IS NOT NULL AND NOT EXISTS (
           SELECT FROM pg_catalog.pg_trigger g
            WHERE g.tgrelid = pg_catalog.to_regclass('leadflow.' || pg_catalog.quote_ident(only_table))
              AND g.tgfoid = 'leadflow.config_audit()'::pg_catalog.regprocedure) THEN
        RAISE EXCEPTION '% is not one of leadflow''s configuration tables', only_table
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The configuration tables are '
                           || (SELECT pg_catalog.string_agg(DISTINCT c.relname::text, ', ')
                                 FROM pg_catalog.pg_trigger g JOIN pg_catalog.pg_class c ON c.oid = g.tgrelid
                                WHERE g.tgfoid = 'leadflow.config_audit()'::pg_catalog.regprocedure) || '.',
                  HINT = 'Name one of them, or pass a NULL of its row type, e.g. NULL::leadflow.rep.';
    END IF;
    RETURN QUERY
    WITH upto AS (
        SELECT c.id, c.at, c.table_name, c.op, c.key, c.old, c.new
          FROM leadflow.config_change c
         WHERE c.id <= version AND (only_table IS NULL OR c.table_name = only_table)
    ),
    effect AS (
        SELECT u.id, u.at, u.table_name, u.key AS k, u.new AS v
          FROM upto u WHERE u.op <> 'TRUNCATE'
        UNION ALL
        SELECT u.id, u.at, u.table_name, moved.k, NULL
          FROM upto u,
               LATERAL (SELECT pg_catalog.jsonb_object_agg(f, u.old -> f) AS k
                          FROM pg_catalog.jsonb_object_keys(u.key) f) moved
         WHERE u.op = 'UPDATE' AND moved.k <> u.key
    ),
    latest AS (
        SELECT DISTINCT ON (e.table_name, e.k) e.*
          FROM effect e
         ORDER BY e.table_name, e.k, e.id DESC
    ),
    emptied AS (
        SELECT u.table_name, max(u.id) AS id FROM upto u WHERE u.op = 'TRUNCATE' GROUP BY u.table_name
    )
    SELECT l.table_name, l.k, l.v, l.id, l.at
      FROM latest l
      LEFT JOIN emptied x ON x.table_name = l.table_name
     WHERE l.v IS NOT NULL AND l.id > coalesce(x.id, 0)
     ORDER BY l.table_name, l.k;
END;
$$;

-- The configuration in force at a moment.
CREATE FUNCTION leadflow.config_as_of(at timestamptz, of_table text DEFAULT NULL)
    RETURNS TABLE (table_name text, key jsonb, value jsonb, change_id bigint, changed_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$ SELECT * FROM leadflow.config_at_version(coalesce(leadflow.config_version_at(at), 0), of_table) $$;

-- The same for one table, as rows of the table's own type:
--   SELECT * FROM leadflow.config_at_version(42, NULL::leadflow.rep);
-- (columns the audit does not record -- an account's owner -- are NULL).
CREATE FUNCTION leadflow.config_at_version(version bigint, template anyelement)
    RETURNS SETOF anyelement
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT r.*
      FROM leadflow.config_at_version(
               version,
               (SELECT CASE WHEN c.relnamespace = 'leadflow'::pg_catalog.regnamespace THEN c.relname::text
                            ELSE pg_catalog.format_type(t.oid, NULL) END
                  FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
                 WHERE t.oid = pg_catalog.pg_typeof(template))) c,
           LATERAL pg_catalog.jsonb_populate_record(template, c.value) r;
END;
$$;

CREATE FUNCTION leadflow.config_as_of(at timestamptz, template anyelement)
    RETURNS SETOF anyelement
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$ SELECT * FROM leadflow.config_at_version(coalesce(leadflow.config_version_at(at), 0), template) $$;

REVOKE ALL ON FUNCTION leadflow.current_config_version(), leadflow.config_version_at(timestamptz),
    leadflow.config_at_version(bigint, text), leadflow.config_at_version(bigint, anyelement),
    leadflow.config_as_of(timestamptz, text), leadflow.config_as_of(timestamptz, anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.current_config_version(), leadflow.config_version_at(timestamptz),
    leadflow.config_at_version(bigint, text), leadflow.config_at_version(bigint, anyelement),
    leadflow.config_as_of(timestamptz, text), leadflow.config_as_of(timestamptz, anyelement)
    TO leadflow_manager, leadflow_admin;

COMMENT ON TABLE leadflow.config_change IS
    'Append-only audit of every change of leadflow''s configuration (reps, queues, members, rules, scoring rules, qualification criteria, free-mail domains, calling codes, models, account status and suppression), with the configuration found at the update to 1.2 as its baseline.';
COMMENT ON COLUMN leadflow.config_change.id IS
    'The change''s number: ids follow commit order, so a version (an id) names the configuration after every change up to it.';
COMMENT ON COLUMN leadflow.config_change.at IS
    'leadflow.now() of the changing transaction (its start, or leadflow.clock); the change takes effect at commit.';
COMMENT ON COLUMN leadflow.config_change.role_name IS 'The session user who made the change.';
COMMENT ON COLUMN leadflow.config_change.acting_role IS
    'The role whose rights made the change, as leadflow.acting_role() names it: after SET ROLE, and the caller''s inside SECURITY DEFINER code.';
COMMENT ON COLUMN leadflow.config_change.table_name IS 'The configuration table changed (in schema leadflow).';
COMMENT ON COLUMN leadflow.config_change.op IS
    'INSERT, UPDATE, DELETE, TRUNCATE (every row of the table), or BASELINE (a row there when the audit began).';
COMMENT ON COLUMN leadflow.config_change.key IS
    'The row''s primary key as a JSON object: after the change, or before it for a DELETE; NULL for a TRUNCATE.';
COMMENT ON COLUMN leadflow.config_change.old IS 'The row before the change (to_jsonb; for accounts only their configuration).';
COMMENT ON COLUMN leadflow.config_change.new IS 'The row after the change (to_jsonb; for accounts only their configuration).';
COMMENT ON COLUMN leadflow.config_change.txid IS 'The changing transaction.';
COMMENT ON COLUMN leadflow.decision.config_version IS
    'The id of the latest leadflow.config_change in the configuration the decision was taken under (NULL for decisions of 1.0 and 1.1); leadflow.config_at_version(config_version) rebuilds it.';
COMMENT ON FUNCTION leadflow.config_audit() IS
    'Trigger of the configuration tables: records each change in leadflow.config_change (arguments of the row triggers: the primary key''s columns, then the columns to record, default all).';
COMMENT ON FUNCTION leadflow.config_audit_row(anyelement, text[], text[]) IS
    'A configuration row as the audit records it: its primary key (the columns named) and the row (or the columns named) as JSON, written the same way whatever the session''s settings.';
COMMENT ON FUNCTION leadflow.config_change_append_only() IS
    'Trigger of leadflow.config_change: refuses UPDATE, DELETE and TRUNCATE.';
COMMENT ON FUNCTION leadflow.current_config_version() IS
    'The id of the latest configuration change the caller''s snapshot sees.';
COMMENT ON FUNCTION leadflow.config_version_at(timestamptz) IS
    'The configuration version in force at a moment: the latest change made at or before it, or the baseline for moments before the first change.';
COMMENT ON FUNCTION leadflow.config_at_version(bigint, text) IS
    'Every configuration row (of every table, or of the one named) after the changes up to a version: table, primary key, the row as jsonb, and the change that set it.';
COMMENT ON FUNCTION leadflow.config_at_version(bigint, anyelement) IS
    'The rows of one configuration table after the changes up to a version, as rows of its type: config_at_version(v, NULL::leadflow.rep).';
COMMENT ON FUNCTION leadflow.config_as_of(timestamptz, text) IS
    'Every configuration row (of every table, or of the one named) in force at a moment: config_at_version(config_version_at(at)).';
COMMENT ON FUNCTION leadflow.config_as_of(timestamptz, anyelement) IS
    'The rows of one configuration table in force at a moment, as rows of its type: config_as_of(at, NULL::leadflow.queue_member).';
------------------------------------------------------------------------
-- What if: a window of history replayed under the configuration the
-- caller's transaction sees (issue 19, part 2; src/backtest.c,
-- docs/whatif.md).  A draft is uncommitted changes: BEGIN; UPDATE the
-- configuration; SELECT * FROM leadflow.backtest(...); ROLLBACK.  These
-- functions write nothing (no rows, counters, turns, alerts, NOTIFY or
-- sequence values) and run on a hot standby too.  SECURITY INVOKER: the
-- caller reads the leads, the ledger and the counters with its own
-- rights; managers and admins may.
------------------------------------------------------------------------

CREATE FUNCTION leadflow.backtest_leads(from_at timestamptz, upto timestamptz)
    RETURNS TABLE (lead_id bigint, created_at timestamptz, routed_at timestamptz,
                   actual_outcome text, actual_rep_id integer, actual_queue text,
                   actual_reason text, actual_at timestamptz,
                   simulated_outcome text, simulated_rep_id integer, simulated_queue text,
                   simulated_reason text, simulated_at timestamptz,
                   same boolean, not_replayed text, config_differs boolean,
                   cap_refused integer[])
    AS 'MODULE_PATHNAME', 'leadflow_backtest_leads'
    LANGUAGE C STABLE
    SET search_path = pg_catalog, leadflow, pg_temp;

-- Per rep: the leads the ledger gave them and the replay gives them;
-- of the actual ones, those not replayed and those decided under another
-- configuration than the one replayed.  conversion_rate is the rep's won/closed record (leadflow.rep_load)
-- smoothed toward the whole floor's with a prior of 20 closed leads, as
-- the performance strategy smooths it.
CREATE FUNCTION leadflow.backtest(from_at timestamptz, upto timestamptz)
    RETURNS TABLE (rep_id integer, rep text, actual bigint, simulated bigint, delta bigint,
                   cap_refusals bigint, not_replayed bigint, config_differs bigint,
                   conversion_rate numeric,
                   expected_conversions_actual numeric, expected_conversions_simulated numeric)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    WITH l AS (
        SELECT * FROM leadflow.backtest_leads(from_at, upto)
    ),
    counted AS (
        SELECT l.actual_rep_id AS r, 1 AS a, 0 AS s, 0 AS c,
               (l.not_replayed IS NOT NULL)::integer AS n, l.config_differs::integer AS v
          FROM l WHERE l.actual_outcome OPERATOR(pg_catalog.=) 'assigned'
        UNION ALL
        SELECT l.simulated_rep_id, 0, 1, 0, 0, 0
          FROM l WHERE l.simulated_outcome OPERATOR(pg_catalog.=) 'assigned'
        UNION ALL
        SELECT x.r, 0, 0, 1, 0, 0 FROM l, pg_catalog.unnest(l.cap_refused) x(r)
    ),
    per_rep AS (
        SELECT c.r, pg_catalog.sum(c.a) AS a, pg_catalog.sum(c.s) AS s,
               pg_catalog.sum(c.c) AS c, pg_catalog.sum(c.n) AS n, pg_catalog.sum(c.v) AS v
          FROM counted c GROUP BY c.r
    ),
    floor AS (
        SELECT coalesce(pg_catalog.sum(ld.won_count)::float8
                        OPERATOR(pg_catalog./) nullif(pg_catalog.sum(ld.closed_count), 0)::float8,
                        0.5) AS rate
          FROM leadflow.rep_load ld
    ),
    reps AS (
        SELECT p.id, p.name FROM leadflow.rep p
        UNION
        SELECT pr.r, NULL FROM per_rep pr
         WHERE NOT EXISTS (SELECT FROM leadflow.rep p WHERE p.id OPERATOR(pg_catalog.=) pr.r)
    ),
    rated AS (
        SELECT rp.id, rp.name,
               ((coalesce(ld.won_count, 0)::float8 OPERATOR(pg_catalog.+) (20 OPERATOR(pg_catalog.*) f.rate))
                OPERATOR(pg_catalog./) (coalesce(ld.closed_count, 0)::float8 OPERATOR(pg_catalog.+) 20))::numeric AS rate
          FROM reps rp CROSS JOIN floor f
          LEFT JOIN leadflow.rep_load ld ON ld.rep_id OPERATOR(pg_catalog.=) rp.id
    )
    SELECT rt.id, rt.name, coalesce(pr.a, 0)::bigint, coalesce(pr.s, 0)::bigint,
           (coalesce(pr.s, 0) OPERATOR(pg_catalog.-) coalesce(pr.a, 0))::bigint,
           coalesce(pr.c, 0)::bigint, coalesce(pr.n, 0)::bigint, coalesce(pr.v, 0)::bigint,
           pg_catalog.round(rt.rate, 4),
           pg_catalog.round(coalesce(pr.a, 0) OPERATOR(pg_catalog.*) rt.rate, 2),
           pg_catalog.round(coalesce(pr.s, 0) OPERATOR(pg_catalog.*) rt.rate, 2)
      FROM rated rt LEFT JOIN per_rep pr ON pr.r OPERATOR(pg_catalog.=) rt.id
     ORDER BY rt.id
$$;

-- Per queue: leads assigned from it, leads that waited in its backlog
-- first, and leads still waiting at the end of the window.
CREATE FUNCTION leadflow.backtest_queues(from_at timestamptz, upto timestamptz)
    RETURNS TABLE (queue text, actual bigint, simulated bigint, delta bigint,
                   actual_waited bigint, simulated_waited bigint,
                   actual_waiting bigint, simulated_waiting bigint, not_replayed bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
    WITH l AS (
        SELECT * FROM leadflow.backtest_leads(from_at, upto)
    ),
    counted AS (
        SELECT l.actual_queue AS q,
               (l.actual_outcome OPERATOR(pg_catalog.=) 'assigned')::integer AS a, 0 AS s,
               (l.actual_at OPERATOR(pg_catalog.>) l.routed_at)::integer AS aw, 0 AS sw,
               (l.actual_outcome OPERATOR(pg_catalog.=) 'backlog')::integer AS ag, 0 AS sg,
               (l.not_replayed IS NOT NULL)::integer AS n
          FROM l WHERE l.actual_queue IS NOT NULL
        UNION ALL
        SELECT l.simulated_queue, 0, (l.simulated_outcome OPERATOR(pg_catalog.=) 'assigned')::integer,
               0, (l.simulated_at OPERATOR(pg_catalog.>) l.routed_at)::integer,
               0, (l.simulated_outcome OPERATOR(pg_catalog.=) 'backlog')::integer, 0
          FROM l WHERE l.simulated_queue IS NOT NULL
    )
    SELECT c.q, pg_catalog.sum(c.a)::bigint, pg_catalog.sum(c.s)::bigint,
           (pg_catalog.sum(c.s) OPERATOR(pg_catalog.-) pg_catalog.sum(c.a))::bigint,
           coalesce(pg_catalog.sum(c.aw), 0)::bigint, coalesce(pg_catalog.sum(c.sw), 0)::bigint,
           pg_catalog.sum(c.ag)::bigint, pg_catalog.sum(c.sg)::bigint, pg_catalog.sum(c.n)::bigint
      FROM counted c GROUP BY c.q ORDER BY c.q
$$;

REVOKE ALL ON FUNCTION leadflow.backtest_leads(timestamptz, timestamptz),
    leadflow.backtest(timestamptz, timestamptz),
    leadflow.backtest_queues(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.backtest_leads(timestamptz, timestamptz),
    leadflow.backtest(timestamptz, timestamptz),
    leadflow.backtest_queues(timestamptz, timestamptz) TO leadflow_manager, leadflow_admin;

COMMENT ON FUNCTION leadflow.backtest_leads(timestamptz, timestamptz) IS
    'What if, lead by lead: each lead created in [from_at, upto), oldest first, with what the ledger did (actual_*) and what routing under the configuration the calling transaction sees does when the window is replayed from the state at from_at (simulated_*); same, and not_replayed saying why a lead could not be replayed (import, duplicate, manual_move, sweep, merged, deleted, erased, not_routed). Writes nothing.';
COMMENT ON FUNCTION leadflow.backtest(timestamptz, timestamptz) IS
    'What if, per rep: the leads of [from_at, upto) the ledger gave each rep and the replay under the configuration the calling transaction sees gives them, cap refusals in the replay, leads not replayed or decided under another configuration, and expected conversions (smoothed conversion rate times leads). Writes nothing.';
COMMENT ON FUNCTION leadflow.backtest_queues(timestamptz, timestamptz) IS
    'What if, per queue: leads of [from_at, upto) assigned from each queue by the ledger and by the replay, leads that waited in the backlog first, leads still waiting at the end, leads not replayed. Writes nothing.';
-- END policy


-- BEGIN scoring
-- Predictive scoring (src/predict.c, src/train.c, src/logistic.c): a
-- logistic regression beside naive Bayes, calibrated probabilities,
-- held-out figures, real outcomes only, lead.predicted kept current.

-- Each version records its kind and how it fared: on its training leads
-- (auc, log_loss) and on the leads held out from it.  Rows of 1.1 are
-- naive Bayes.
ALTER TABLE leadflow.model
    ADD COLUMN kind text NOT NULL DEFAULT 'naive_bayes'
        CONSTRAINT model_kind_known CHECK (kind IN ('logistic', 'naive_bayes')),
    ADD COLUMN log_loss float8,
    ADD COLUMN holdout_positives integer,
    ADD COLUMN holdout_negatives integer,
    ADD COLUMN holdout_auc float8,
    ADD COLUMN holdout_log_loss float8,
    ADD COLUMN holdout_calibration_error float8;
ALTER TABLE leadflow.model ALTER COLUMN kind DROP DEFAULT;
COMMENT ON TABLE leadflow.model IS
    'Predictive models learnt by leadflow.train (logistic regression or calibrated naive Bayes), versioned by training time, with their figures on training and held-out leads; leadflow.predict uses the newest version of a name.';

-- A lead's routing document as jsonb.  No search_path: C that runs no
-- SQL and resolves no name.
CREATE FUNCTION leadflow.routing_document(lead leadflow.lead) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'leadflow_routing_document'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.routing_document(leadflow.lead) IS
    'The routing document of a lead row: attrs, with source, campaign, company, country and the email''s domain over keys of the same name -- what routing rules, fit rules and predict read.';

-- predict: no SET search_path (a GUC save and restore on every call);
-- the C code pins the path itself while it loads a model, the only SQL
-- it runs.  A NULL model name is an error, not a NULL.
ALTER FUNCTION leadflow.predict(jsonb, text) CALLED ON NULL INPUT RESET search_path;
COMMENT ON FUNCTION leadflow.predict(jsonb, text) IS
    'Probability (0 to 1) that a lead with this routing document converts, by the newest version of the model (calibrated: of leads predicted p, about p convert); NULL for a NULL document; error 42704 when there is no such model.';

COMMENT ON FUNCTION leadflow.explain_score(bigint, timestamptz) IS
    'Why a lead scores what it does: each matched fit rule and group cap (fit), each event''s decayed points per rule (engagement), the intercept and each feature''s weight in log-odds under the ''default'' model (prediction, compared with lead.predicted), and the totals.';

-- SECURITY DEFINER: it writes lead.predicted of every lead, which the
-- admins who train models may not update.
CREATE FUNCTION leadflow.refresh_predictions() RETURNS bigint
    AS 'MODULE_PATHNAME', 'leadflow_refresh_predictions'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.refresh_predictions() IS
    'Set every lead''s predicted to the newest default model''s prediction of its routing document, in one UPDATE; returns how many changed (0 without a default model).  train(..., ''default'') calls it.';
REVOKE ALL ON FUNCTION leadflow.refresh_predictions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.refresh_predictions() TO leadflow_admin, leadflow_manager;

-- train gains a kind, a training filter or hold-out share, and reports
-- held-out figures: a new signature, so the old function goes.
DROP FUNCTION leadflow.train(text[], text);
CREATE FUNCTION leadflow.train(features text[], model text DEFAULT 'default',
                               kind text DEFAULT 'logistic',
                               training_leads bigint[] DEFAULT NULL,
                               created_before timestamptz DEFAULT NULL,
                               holdout float8 DEFAULT NULL,
                               l2 float8 DEFAULT NULL)
    RETURNS TABLE (model text, kind text, trained_at timestamptz,
                   positives integer, negatives integer, features integer, parameters integer,
                   auc float8, log_loss float8,
                   holdout_positives integer, holdout_negatives integer,
                   holdout_auc float8, holdout_log_loss float8,
                   holdout_calibration_error float8, refreshed bigint)
    AS 'MODULE_PATHNAME', 'leadflow_train'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.train(text[], text, text, bigint[], timestamptz, float8, float8) IS
    'Learn a model (logistic: L2-regularised logistic regression, the default; naive_bayes: Laplace-smoothed, Platt-calibrated) from the leads'' real outcomes (qualified, converted: positive; rejected: negative; duplicates and merged leads left out) over the given routing-document keys.  Trains on the leads training_leads and created_before admit, holding out the others; without a filter holds out a share (holdout, default 0.2) by a hash of the lead id.  Stores a new version in leadflow.model, reports AUC and log loss on training and held-out leads and the held-out calibration error, and refreshes lead.predicted when the model is ''default''.';
REVOKE ALL ON FUNCTION leadflow.train(text[], text, text, bigint[], timestamptz, float8, float8)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.train(text[], text, text, bigint[], timestamptz, float8, float8)
    TO leadflow_admin;
-- END scoring


-- BEGIN performance
-- END performance


-- BEGIN replication
-- Streaming standbys and logical replication (docs/replication.md).

-- Writing functions are refused at once where they cannot write.  Each
-- carries leadflow.primary_only = its name: entering it sets the setting,
-- whose check hook (src/standby.c) fails with SQLSTATE 25006 on a hot
-- standby (hint: the primary) and in a read-only transaction, before the
-- body has read or computed anything.  The rule: every VOLATILE leadflow
-- function that is not a trigger writes, and carries it; a function that
-- only reads must be STABLE (or IMMUTABLE) to serve on standbys.  Today
-- these are route, route_pending, assign, reopen, sweep, log_touch,
-- acknowledge_alert, merge, rescore, train, schedule_sweep and
-- unschedule_sweep; taken from the catalog, so that a writer another
-- section adds or re-signs is covered too.  Triggers need none:
-- PostgreSQL refuses the INSERT or UPDATE that would fire them.  Done
-- here, near the end: a CREATE OR REPLACE in an earlier section resets a
-- function's settings.  sql/replication.sql checks the rule.
DO $$
DECLARE
    writer record;
BEGIN
    FOR writer IN
        SELECT p.oid::pg_catalog.regprocedure AS signature, p.proname
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'leadflow'::pg_catalog.regnamespace
           AND p.provolatile = 'v'
           AND p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
           -- a trigger's WHEN clause, evaluated for every inserted row:
           -- like a trigger, it needs none (the INSERT is refused)
           AND p.oid <> 'leadflow.lead_row_inserted(bigint, tid)'::pg_catalog.regprocedure
         ORDER BY p.oid
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET leadflow.primary_only = %L',
                                  writer.signature, 'leadflow.' || writer.proname);
    END LOOP;
END;
$$;

-- The per-backend caches (routing configuration, scoring rules, models)
-- are dropped by a relcache invalidation that config_changed sends.  On a
-- streaming standby it arrives with the replayed commit.  On a logical
-- subscriber with leadflow installed, rows are applied with
-- session_replication_role = replica, where ordinary triggers do not
-- fire, and the apply worker fires row triggers only (its initial copy
-- and a replicated TRUNCATE fire statement triggers).  So config_changed
-- fires ALWAYS, and a row-level twin fires where rows are replicated
-- (REPLICA: never on the primary, which the statement trigger serves):
-- the subscriber's caches follow the configuration it receives.  The
-- trigger only sends the invalidation, so firing it there is safe.
DO $$
DECLARE
    config_table text;
BEGIN
    FOREACH config_table IN ARRAY ARRAY['rep', 'queue', 'queue_member', 'rule', 'freemail_domain',
                                        'country_calling_code', 'scoring_rule', 'model',
                                        'holiday_calendar', 'holiday'] LOOP
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.%I ENABLE ALWAYS TRIGGER config_changed',
                                  config_table);
        EXECUTE pg_catalog.format('CREATE TRIGGER config_replicated AFTER INSERT OR UPDATE OR DELETE'
                                  ' ON leadflow.%I FOR EACH ROW EXECUTE FUNCTION leadflow.config_changed()',
                                  config_table);
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.%I ENABLE REPLICA TRIGGER config_replicated',
                                  config_table);
    END LOOP;
END;
$$;

-- The schema an analytics database needs to subscribe to leadflow's
-- tables without leadflow installed, as one SQL script: the enum types,
-- every table with its primary key (leadflow's C types as text --
-- candidate_list as jsonb -- which logical replication fills from their
-- text form), the helpers the reports call (leadflow.now() is the
-- subscriber's now(); workhours_zone reads the zone off the schedule's
-- text), the reporting views that need nothing else (business time and
-- cadences stay in leadflow: speed_to_lead and work_list are left out)
-- and leads_needed.  Generated from the catalog, so it follows the
-- installed version's columns.
CREATE FUNCTION leadflow.analytics_ddl() RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow, pg_temp
AS $$
DECLARE
    ns oid := 'leadflow'::pg_catalog.regnamespace;
    -- the functions of leadflow a copied view may call
    portable text[] := ARRAY['now', 'rate', 'minutes', 'workhours_zone', 'candidate_eligible_reps'];
    ddl text[] := ARRAY['CREATE SCHEMA IF NOT EXISTS leadflow;'];
BEGIN
    -- leadflow off the path for the rest of the call (the function's own
    -- SET restores it), so that format_type, pg_get_viewdef and
    -- pg_get_functiondef write leadflow's names schema-qualified
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    ddl := ddl || ARRAY(
        SELECT pg_catalog.format('CREATE TYPE leadflow.%I AS ENUM (%s);', t.typname,
                   (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '
                                                 ORDER BY e.enumsortorder)
                      FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid))
          FROM pg_catalog.pg_type t
         WHERE t.typnamespace = ns AND t.typtype = 'e'
         ORDER BY t.typname);
    ddl := ddl || ARRAY(
        SELECT pg_catalog.format(E'CREATE TABLE leadflow.%I (\n    %s%s\n);', c.relname,
                   (SELECT pg_catalog.string_agg(
                               pg_catalog.format('%I %s', a.attname,
                                   CASE WHEN t.typnamespace = ns AND t.typtype = 'b'
                                        THEN CASE WHEN t.typname = 'candidate_list' THEN 'jsonb' ELSE 'text' END
                                        WHEN et.typnamespace = ns AND et.typtype = 'b' THEN 'text[]'
                                        ELSE pg_catalog.format_type(a.atttypid, a.atttypmod) END),
                               E',\n    ' ORDER BY a.attnum)
                      FROM pg_catalog.pg_attribute a
                      JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                      LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem AND t.typlen = -1
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                   (SELECT E',\n    ' || pg_catalog.pg_get_constraintdef(k.oid)
                      FROM pg_catalog.pg_constraint k
                     WHERE k.conrelid = c.oid AND k.contype = 'p'))
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = ns AND c.relkind = 'r'
         ORDER BY c.relname);
    ddl := ddl || ARRAY[
        'CREATE FUNCTION leadflow.now() RETURNS timestamptz LANGUAGE sql STABLE'
            || ' AS $f$ SELECT pg_catalog.now() $f$;',
        'CREATE FUNCTION leadflow.workhours_zone(h text) RETURNS text LANGUAGE sql IMMUTABLE'
            || ' AS $f$ SELECT pg_catalog.substring(h, ''\S+$'') $f$;',
        'CREATE FUNCTION leadflow.candidate_eligible_reps(c jsonb) RETURNS integer[] LANGUAGE sql IMMUTABLE'
            || ' AS $f$ SELECT pg_catalog.array_agg((e ->> ''rep'')::integer) FROM pg_catalog.jsonb_array_elements(c) e'
            || ' WHERE (e ->> ''eligible'')::boolean $f$;'];
    ddl := ddl || ARRAY(
        SELECT pg_catalog.pg_get_functiondef(p.oid) || ';'
          FROM pg_catalog.pg_proc p
         WHERE p.oid IN ('leadflow.rate(bigint, bigint)'::pg_catalog.regprocedure,
                         'leadflow.minutes(timestamptz, timestamptz)'::pg_catalog.regprocedure,
                         'leadflow.leads_needed(integer, text)'::pg_catalog.regprocedure)
         ORDER BY p.oid);
    -- the views that call a leadflow function the copy lacks, and those
    -- that read such a view
    ddl := ddl || ARRAY(
        WITH RECURSIVE uses(view, used) AS (
            SELECT r.ev_class, d.refobjid
              FROM pg_catalog.pg_rewrite r
              JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                                         AND d.objid = r.oid
                                         AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
             WHERE d.refobjid OPERATOR(pg_catalog.<>) r.ev_class),
        left_out(view) AS (
            SELECT r.ev_class
              FROM pg_catalog.pg_rewrite r
              JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                                         AND d.objid = r.oid
                                         AND d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
              JOIN pg_catalog.pg_proc p ON p.oid = d.refobjid
             WHERE p.pronamespace = ns AND NOT p.proname = ANY (portable)
            UNION
            SELECT u.view FROM uses u JOIN left_out l ON u.used = l.view)
        SELECT pg_catalog.format(E'CREATE VIEW leadflow.%I AS\n%s', v.relname,
                                 pg_catalog.pg_get_viewdef(v.oid))
          FROM pg_catalog.pg_class v
         WHERE v.relnamespace = ns AND v.relkind = 'v'
           AND v.oid NOT IN (SELECT l.view FROM left_out l)
         ORDER BY v.oid);
    RETURN pg_catalog.array_to_string(ddl, E'\n') || E'\n';
END;
$$;
COMMENT ON FUNCTION leadflow.analytics_ddl() IS
    'The SQL that prepares a database without leadflow to subscribe to leadflow''s tables and run the reports (docs/replication.md).';
REVOKE ALL ON FUNCTION leadflow.analytics_ddl() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.analytics_ddl() TO leadflow_admin;
-- END replication


-- BEGIN foreign_keys
-- The foreign keys lead.account_id -> account, lead.queue -> queue and
-- lead.owner_id -> rep are checked by leadflow as each row is written
-- (src/lead_keys.c): PostgreSQL's own check of each written lead, a
-- queued trigger event and an SPI statement per constraint, was a quarter
-- of a routed lead's time, and nearly every one locked a row its
-- transaction had already locked.  The constraints stay in the catalog,
-- and so do the referenced tables' triggers (a DELETE of a rep still
-- fails, of an account still sets account_id NULL, a queue's new name
-- still cascades); only the referencing side's insert and update checks
-- are disabled below, and leadflow's, in the WHEN clauses of
-- lead_keys_inserted and lead_keys_updated, do what they did: the same
-- FOR KEY SHARE lock of the referenced row (once per key and
-- transaction), the same error.  Where one of PostgreSQL's checks is
-- enabled again (pg_upgrade, ALTER TABLE ... ENABLE TRIGGER ALL), it
-- checks and leadflow does not; health() says how to disable it again.

-- No SET search_path: it is evaluated for every written row, and a SET
-- clause costs a GUC save and restore each time; its one statement names
-- every object with its schema.  Callable by a role that may insert or
-- update leads (it checks), and learns or locks nothing such a role cannot
-- by writing a lead.
CREATE FUNCTION leadflow.lead_keys_checked(account_id bigint, queue text, owner_id integer)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_lead_keys_checked'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION leadflow.lead_keys_checked(bigint, text, integer) IS
    'The foreign-key check of an inserted lead, in the WHEN clause of trigger lead_keys_inserted: locks the referenced account, queue and rep FOR KEY SHARE (once per transaction) and raises PostgreSQL''s foreign_key_violation when one does not exist; false, so the trigger is never queued.  Checks only the constraints whose PostgreSQL check trigger is disabled.';
CREATE FUNCTION leadflow.lead_keys_checked(account_id bigint, queue text, owner_id integer,
                                           old_account_id bigint, old_queue text, old_owner_id integer)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_lead_keys_checked'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION leadflow.lead_keys_checked(bigint, text, integer, bigint, text, integer) IS
    'The foreign-key check of an updated lead, in the WHEN clause of trigger lead_keys_updated: as for an insert, for the keys the update changed.';
CREATE FUNCTION leadflow.lead_keys_forget() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_keys_forget'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow, pg_temp;
COMMENT ON FUNCTION leadflow.lead_keys_forget() IS
    'Trigger on rep, queue and account: this transaction deleted a referenced row or changed its key, so the keys it locked are checked again.';

-- Named after lead_inserted, so they come after it; their function is
-- never called (the WHEN clause is false).
CREATE TRIGGER lead_keys_inserted AFTER INSERT ON leadflow.lead
    FOR EACH ROW WHEN (leadflow.lead_keys_checked(NEW.account_id, NEW.queue, NEW.owner_id))
    EXECUTE FUNCTION leadflow.lead_inserted();
CREATE TRIGGER lead_keys_updated AFTER UPDATE ON leadflow.lead
    FOR EACH ROW WHEN (leadflow.lead_keys_checked(NEW.account_id, NEW.queue, NEW.owner_id,
                                                  OLD.account_id, OLD.queue, OLD.owner_id))
    EXECUTE FUNCTION leadflow.lead_inserted();
CREATE TRIGGER lead_keys_forget AFTER DELETE OR TRUNCATE ON leadflow.rep
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.lead_keys_forget();
CREATE TRIGGER lead_keys_forget_key AFTER UPDATE ON leadflow.rep
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION leadflow.lead_keys_forget();
CREATE TRIGGER lead_keys_forget AFTER DELETE OR TRUNCATE ON leadflow.queue
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.lead_keys_forget();
CREATE TRIGGER lead_keys_forget_key AFTER UPDATE ON leadflow.queue
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION leadflow.lead_keys_forget();
CREATE TRIGGER lead_keys_forget AFTER DELETE OR TRUNCATE ON leadflow.account
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.lead_keys_forget();
CREATE TRIGGER lead_keys_forget_key AFTER UPDATE ON leadflow.account
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION leadflow.lead_keys_forget();
REVOKE ALL ON FUNCTION leadflow.lead_keys_forget() FROM PUBLIC;

-- PostgreSQL's insert and update checks of the three constraints off.
-- Internal triggers: only a superuser may, as this script runs.  Their
-- names follow their OIDs, so they are found by what they check.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT k.trigger_name FROM leadflow.lead_key_triggers k LOOP
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.lead DISABLE TRIGGER %I', t.trigger_name);
    END LOOP;
END
$$;
-- END foreign_keys


-- BEGIN reference
------------------------------------------------------------------------
-- The meaning of every object, in the catalog: \d+, reporting tools and
-- docs/reference.md (generated from it by test/tools/reference.pl) show
-- these texts.  Last, because comments come once every object exists; a
-- comment given earlier that was right is kept, one that was incomplete
-- or wrong is given again here.  Conventions: times are timestamptz;
-- "business time" is working time in the owner's hours and holidays;
-- rates are fractions from 0 to 1; durations in views are minutes unless
-- the name says seconds; NULL means what each comment says.
------------------------------------------------------------------------

-- Roles (cluster-wide: the comment is the same for every database).
COMMENT ON ROLE leadflow_admin IS
    'leadflow: configures routing (reps, queues, members, rules, accounts, scoring rules, qualification criteria), trains models, runs and schedules the sweep; reads every lead, touch and decision; works no lead.';
COMMENT ON ROLE leadflow_manager IS
    'leadflow: reads everything, inserts and updates leads, touches and events, moves leads by hand (assign, with leadflow.override_caps past a cap), routes, reopens, merges, rescores, sweeps, touches any lead; configures nothing.  Grant it to a CRM back end''s login.';
COMMENT ON ROLE leadflow_rep IS
    'leadflow: a sales rep''s session (its role is leadflow.rep.login): row-level security narrows it to its own leads, their touches and events, its alerts and the decisions about it.';
COMMENT ON ROLE leadflow_monitor IS
    'leadflow: a monitoring system''s login (the Prometheus exporter): reads the leadflow.metrics_* views (counts, ages, check statuses) and nothing else.';

-- Types
COMMENT ON TYPE leadflow.stage IS
    'Where a lead is: new (not touched yet), working (touched, still open), qualified (answered every required qualification criterion), converted (won; final), nurture (parked for later, out of the pipeline), rejected (dead, suppressed, a duplicate or merged away).  Only new and working are open: they count against the owner''s max_open and are worked, swept and listed.';
COMMENT ON TYPE leadflow.channel IS
    'How a touch was made, and the channel of a cadence step: call, email, sms, meeting, social.';
COMMENT ON TYPE leadflow.outcome IS
    'What a touch found out (every touch has one): not_reached (no live contact) and connected (live, still working) advance the cadence; qualified; nurture; dead; dead_referral (dead, but the touch''s referral becomes a new lead); dead_other_contact (dead, pursue the account through other contacts); unsubscribed.  The four dead outcomes reject the lead.';
COMMENT ON TYPE leadflow.strategy IS
    'How a queue picks among its eligible members (ties to the lowest rep id): round_robin (least recently assigned in the queue), weighted (smooth weighted round robin on queue_member.weight), load_balanced (lowest open / max_open), performance (smooth weighted round robin on each rep''s won / closed rate, smoothed toward the queue''s rate with a prior of 20 closed leads).';
COMMENT ON TYPE leadflow.rule_action IS
    'What a matching rule does: route (to its queue) or suppress (reject the lead).';
COMMENT ON TYPE leadflow.account_status IS
    'An account''s standing: prospect, customer, suppressed (its new leads are rejected with the account''s suppress_reason).';
COMMENT ON TYPE leadflow.scoring_kind IS
    'fit (points for the lead''s own attributes, stored in lead.score) or engagement (points for its events, decaying, added at read time by current_score).';
COMMENT ON TYPE leadflow.decision_kind IS
    'Kinds of ledger entries: assign (routed to a rep), reassign_sla (taken from an owner who missed the SLA), handoff (held past the queue''s hold_for, routed to its then_queue), escalate (past max_reassignments), manual (a move by hand or an import), keep (the sweep left a lead with its owner: nobody else could take it), backlog (nobody could take it), suppress (rejected by a rule or a suppressed account), duplicate (a duplicate of an open lead, given to its owner and closed), merge (another lead merged into this one), delete (the lead was deleted; its earlier decisions stay), forget (the person''s data was erased).';
COMMENT ON TYPE leadflow.alert_kind IS
    'Kinds of alerts: sla_breach (to the old owner''s manager: a lead was taken away), reassigned (to the new owner), escalated, backlog (a lead found nobody), cap_reached (a rep''s last seat was taken), lead_skipped (the sweep or route_pending could not move a lead and went on without it; the detail has the error).';

-- Operators, casts and the types' support functions
COMMENT ON OPERATOR leadflow.= (leadflow.cadence, leadflow.cadence) IS
    'Same steps: same channels at the same offsets (values are canonical).  Found through search_path: without leadflow on it, write a OPERATOR(leadflow.=) b; GROUP BY, DISTINCT and hash joins need no path.';
COMMENT ON OPERATOR leadflow.<> (leadflow.cadence, leadflow.cadence) IS
    'Different steps.  Without leadflow on search_path, write a OPERATOR(leadflow.<>) b.';
COMMENT ON OPERATOR leadflow.= (leadflow.workhours, leadflow.workhours) IS
    'Same schedule (values are canonical, so equal text means equal schedules).  Without leadflow on search_path, write a OPERATOR(leadflow.=) b; GROUP BY, DISTINCT and hash joins need no path.';
COMMENT ON OPERATOR leadflow.<> (leadflow.workhours, leadflow.workhours) IS
    'Different schedules.  Without leadflow on search_path, write a OPERATOR(leadflow.<>) b.';
COMMENT ON FUNCTION leadflow.cadence_in(cstring) IS
    'Text input of leadflow.cadence: strict, error 22P02 with a detail naming the offending part.';
COMMENT ON FUNCTION leadflow.cadence_out(leadflow.cadence) IS
    'Text output of leadflow.cadence, canonical: lower case, largest units (60m is 1h, 7d is 1w).';
COMMENT ON FUNCTION leadflow.cadence_recv(internal) IS
    'Binary input of leadflow.cadence (COPY BINARY, binary parameters): the same rules as text input, error 22P03.';
COMMENT ON FUNCTION leadflow.cadence_send(leadflow.cadence) IS
    'Binary output of leadflow.cadence.';
COMMENT ON FUNCTION leadflow.cadence_eq(leadflow.cadence, leadflow.cadence) IS
    'The = of leadflow.cadence: true when both plans have the same steps.';
COMMENT ON FUNCTION leadflow.cadence_ne(leadflow.cadence, leadflow.cadence) IS
    'The <> of leadflow.cadence.';
COMMENT ON FUNCTION leadflow.cadence_hash(leadflow.cadence) IS
    'Hash of a cadence for hash joins, GROUP BY and DISTINCT (equal plans hash equal).';
COMMENT ON FUNCTION leadflow.cadence_hash_extended(leadflow.cadence, bigint) IS
    'Seeded 64-bit hash of a cadence (hash partitioning).';
COMMENT ON FUNCTION leadflow.workhours_in(cstring) IS
    'Text input of leadflow.workhours: strict, error 22P02 with a detail naming the offending part; the zone must be in pg_timezone_names.';
COMMENT ON FUNCTION leadflow.workhours_out(leadflow.workhours) IS
    'Text output of leadflow.workhours, canonical: Monday first, days with equal blocks grouped, adjacent blocks merged.';
COMMENT ON FUNCTION leadflow.workhours_recv(internal) IS
    'Binary input of leadflow.workhours: the same rules as text input, error 22P03.';
COMMENT ON FUNCTION leadflow.workhours_send(leadflow.workhours) IS
    'Binary output of leadflow.workhours.';
COMMENT ON FUNCTION leadflow.workhours_eq(leadflow.workhours, leadflow.workhours) IS
    'The = of leadflow.workhours: true for the same schedule in the same zone.';
COMMENT ON FUNCTION leadflow.workhours_ne(leadflow.workhours, leadflow.workhours) IS
    'The <> of leadflow.workhours.';
COMMENT ON FUNCTION leadflow.workhours_hash(leadflow.workhours) IS
    'Hash of a schedule for hash joins, GROUP BY and DISTINCT.';
COMMENT ON FUNCTION leadflow.candidate_list_in(cstring) IS
    'Text input of leadflow.candidate_list: the JSON array it prints, strictly (the nine keys, integers, known reasons); what a restore reads.';
COMMENT ON FUNCTION leadflow.candidate_list_out(leadflow.candidate_list) IS
    'Text output of leadflow.candidate_list: a JSON array, one object per member considered.  Drivers that do not know the type get this text: cast the column to jsonb to get JSON.';
COMMENT ON FUNCTION leadflow.candidate_list_recv(internal) IS
    'Binary input of leadflow.candidate_list.';
COMMENT ON FUNCTION leadflow.candidate_list_send(leadflow.candidate_list) IS
    'Binary output of leadflow.candidate_list.';
COMMENT ON FUNCTION leadflow.jsonb(leadflow.candidate_list) IS
    'The implicit cast of a candidate list to jsonb: jsonb functions and operators take decision.candidates as it is, and candidates::jsonb gives a driver JSON.';
COMMENT ON FUNCTION leadflow.candidate_list(jsonb) IS
    'The assignment cast of a jsonb array to a candidate list (the same strict rules as text input).';

-- Helpers
COMMENT ON FUNCTION leadflow.now() IS
    'leadflow''s "now": leadflow.clock when it is set (superuser only: tests, replays, backtests), else the transaction''s start (now()).  Every default time, SLA clock and report uses it.';
COMMENT ON FUNCTION leadflow.rate(bigint, bigint) IS
    'a / b as a fraction rounded to 4 places; NULL when b is 0 or NULL.  The reporting views'' rates.';
COMMENT ON FUNCTION leadflow.minutes(timestamptz, timestamptz) IS
    'Minutes from a to b (negative when b is earlier), rounded to 1 place; NULL when either is NULL.';
COMMENT ON FUNCTION leadflow.duration_text(interval) IS
    'An interval as health() prints it, whatever IntervalStyle: its largest unit and the next one when not zero (1 d 3 h, 1 h 30 min, 42 s), rounded down.';
COMMENT ON FUNCTION leadflow.cron_elsewhere(text, text) IS
    'Internal to schedule_sweep and unschedule_sweep in a database pg_cron does not run in: raises 55000 whose hint is the command to run in pg_cron''s database (42704 without pg_cron).';
COMMENT ON FUNCTION leadflow.cron_check_caller() IS
    'Internal to schedule_sweep and unschedule_sweep: 42501 with what to grant when the caller lacks USAGE on schema cron or cannot log in (pg_cron runs a job as the role that scheduled it).';
COMMENT ON FUNCTION leadflow.log_touch(bigint, leadflow.channel, leadflow.outcome, text, jsonb) IS
    'Log a touch (INSERT INTO leadflow.touch) by the acting rep, or by a manager, and advance the lead: cadence, stage, SLA clock; a dead_referral''s referral becomes a new lead.  Returns the touch row, a composite: SELECT * FROM leadflow.log_touch(...) gives its columns.';
COMMENT ON FUNCTION leadflow.forget(bigint, text) IS
    'Erase a person (a data-protection request): the lead named and every lead linked to it by duplicate_of lose name, email, phone, company and attrs, their touches notes and referrals, their events attrs; rows, stages, sources, owners, times and decisions stay, so the reports still count them, and each lead gets a forget decision.  Returns the ids of the leads forgotten.';
COMMENT ON FUNCTION leadflow.merge(bigint, bigint) IS
    'Merge lead drop into lead keep (the same person): touches, events, history, decisions and alerts move to keep, which fills its empty contact fields and missing attrs from drop; drop is closed (merged into lead N, duplicate_of = keep) and its duplicates point at keep.  Refused: merging a lead into itself or one of its own duplicates, keeping a lead closed without a win or merged away, dropping a converted or merged-away lead.';
COMMENT ON FUNCTION leadflow.sweep(timestamptz) IS
    'Reassign open leads whose SLA passed (escalating past the queue''s max_reassignments), hand on leads held past their queue''s hold_for, and route the backlog, as of as_of (default leadflow.now()), at most leadflow.sweep_batch_size leads per action.  A lead nobody else can take stays with its owner (sla_kept, handoff_kept); a waiting lead may go back to a previous owner.  One row per action with its number of leads; a run while another runs returns the single row skipped_concurrent_sweep.  A lead that cannot be moved is skipped with a lead_skipped alert.  One transaction.';
COMMENT ON FUNCTION leadflow.leads_needed(integer, text) IS
    'Leads to generate for a goal of conversions at the historical close rate (converted / closed, closed = converted, rejected or nurture; duplicates and merged leads left out), of one source or of all: scope, closed_leads, converted, close_rate, conversions_wanted (the goal), leads_to_generate (ceil(goal / close_rate)).  22023 for a goal that is not positive, P0002 when nothing converted yet.';

-- Trigger functions (nobody may execute them; triggers fire without an EXECUTE check)
COMMENT ON FUNCTION leadflow.lead_statement() IS
    'Trigger lead_statement (BEFORE INSERT OR UPDATE OR DELETE on lead, per statement): opens the statement''s routing, which lead_flush writes at its end.';
COMMENT ON FUNCTION leadflow.lead_inserted() IS
    'Trigger lead_inserted (AFTER INSERT on lead): never queued; its WHEN clause, lead_row_inserted, confirms the routing of each row really inserted.';
COMMENT ON FUNCTION leadflow.lead_row_inserted(bigint, tid) IS
    'Internal to the trigger lead_inserted: confirms the routing of a row this transaction really inserted, so that a row an INSERT ... ON CONFLICT did not insert routes nothing; false always, and a no-op when called by hand.';
COMMENT ON FUNCTION leadflow.lead_after_delete() IS
    'Trigger lead_deleted (AFTER DELETE on lead): an open lead gives its owner''s seat back; its alerts go, its decisions stay and a delete decision says who deleted it.';
COMMENT ON FUNCTION leadflow.lead_truncated() IS
    'Trigger lead_truncated (AFTER TRUNCATE on lead): leadflow starts over: the ledger and alerts are emptied, every rep''s counters and every queue''s rotation reset; accounts stay.';
COMMENT ON FUNCTION leadflow.lock_contacts(text[]) IS
    'Internal to merge: takes the locks duplicate detection takes for these emails and phones, so that an inquiry from either prospect waits for the merge and finds the lead that survived.';
COMMENT ON FUNCTION leadflow.lead_before_insert() IS
    'Trigger lead_route (BEFORE INSERT on lead): normalises the contact fields, finds duplicates, scores the lead and routes it (rule, account, owner, strategy, seat claim, cadence, SLA, ledger, alerts); an INSERT carrying an owner or a closed stage is an import, kept as given.  A restore keeps rows as given.';
COMMENT ON FUNCTION leadflow.lead_before_update() IS
    'Trigger lead_follow (BEFORE UPDATE on lead): a manual owner change is cap-checked and recorded; stage changes are validated, recorded in stage_history and move the counters; contact changes are normalised and may not take another owner''s open lead''s email or phone (managers excepted).';
COMMENT ON FUNCTION leadflow.flush_routing_state() IS
    'Trigger lead_flush (AFTER INSERT OR UPDATE on lead, per statement): writes the counters, rotation state, ledger rows and alerts the statement kept in memory.';
COMMENT ON FUNCTION leadflow.lead_score_fit() IS
    'Trigger lead_score_fit (BEFORE UPDATE OF attrs, source, campaign, company, country, email on lead): recomputes the stored fit score.';
COMMENT ON FUNCTION leadflow.touch_check_input() IS
    'Trigger touch_check_input (BEFORE INSERT on touch, first): a touch needs a lead id (23502).';
COMMENT ON FUNCTION leadflow.touch_authorize() IS
    'Trigger touch_authorize (BEFORE INSERT on touch): in a rep session, the role must be mapped to a rep, the touch must be that rep''s, on its own lead, at most 5 minutes after leadflow.now() and not before the lead became its own (42501, 22008).';
COMMENT ON FUNCTION leadflow.touch_before_insert() IS
    'Trigger touch_evaluate (BEFORE INSERT on touch): checks the lead (exists, open, has an owner, the toucher is the owner or a manager) and applies the outcome: cadence step, next touch, SLA, stage, reject reason, referral lead.';
COMMENT ON FUNCTION leadflow.rep_counters_create() IS
    'Trigger rep_counters_create (AFTER INSERT on rep, per statement): gives each new rep its rep_load row.';
COMMENT ON FUNCTION leadflow.queue_upsert_default() IS
    'Trigger queue_upsert_default (BEFORE INSERT on queue): an INSERT of the queue "default" (a restore brings one) updates the row CREATE EXTENSION made.';
COMMENT ON FUNCTION leadflow.queue_keep_default() IS
    'Trigger queue_keep_default (BEFORE UPDATE OR DELETE on queue): the queue "default" cannot be removed or renamed (23514).';
COMMENT ON FUNCTION leadflow.config_changed() IS
    'Trigger config_changed and config_replicated (on the configuration tables): makes every backend reload its cached routing configuration, scoring rules and models, also on a logical subscriber.';

-- Tables: configuration
COMMENT ON TABLE leadflow.rep IS
    'Sales reps: who they are, their working hours and holidays, pipeline caps, skills, manager and database login.  Deleting a rep who owns leads is refused (foreign key).';
COMMENT ON COLUMN leadflow.rep.id IS 'The rep''s id (lead.owner_id, decision.to_rep, ... name it).';
COMMENT ON COLUMN leadflow.rep.name IS 'The rep''s name, unique, not blank, at most 200 bytes; reports and alert details show it.';
COMMENT ON COLUMN leadflow.rep.login IS 'The database role whose sessions act as this rep (row-level security, touches); unique, at most 63 bytes.  NULL: the rep has no login of its own.';
COMMENT ON COLUMN leadflow.rep.email IS 'The rep''s email address, for the CRM''s use; leadflow does not send mail.  NULL: none given.';
COMMENT ON COLUMN leadflow.rep.hours IS 'Working hours in the rep''s time zone: SLA clocks, next touches, require_available queues and the local day of max_new_per_day follow them.';
COMMENT ON COLUMN leadflow.rep.holidays IS 'The rep''s own dates with no working time (vacation), on top of its holiday calendar''s (rep.calendar); empty by default.';
COMMENT ON COLUMN leadflow.rep.active IS 'False: the rep gets no new leads (keeps those it has; the sweep moves them when their SLA passes).';
COMMENT ON COLUMN leadflow.rep.away_until IS 'Out of office until then: no new leads before it.  NULL or past: available.';
COMMENT ON COLUMN leadflow.rep.max_open IS 'Pipeline cap: the most open leads (new, working) the rep may own; 0 takes none.  Routing and manual moves respect it (23514), a manager may override.';
COMMENT ON COLUMN leadflow.rep.max_new_per_day IS 'Inflow cap: the most leads the rep may be given in one local day (its hours'' zone); 0 takes none.';
COMMENT ON COLUMN leadflow.rep.skills IS 'Skills a rule can require (rule.require_skills must be a subset), e.g. {german}.';
COMMENT ON COLUMN leadflow.rep.manager_id IS 'The rep''s manager: gets its sla_breach alerts and, without an escalate_to queue, its escalated leads.  NULL: none (set NULL when the manager is deleted).';

COMMENT ON TABLE leadflow.rep_load IS
    'Routing state per rep, written by leadflow only: the counters pipeline caps are claimed against, and the rep''s conversion record for the performance strategy.  check_counters() and check_invariants() compare them with the leads.';
COMMENT ON COLUMN leadflow.rep_load.rep_id IS 'The rep.';
COMMENT ON COLUMN leadflow.rep_load.open_count IS 'Open leads (new, working) the rep owns, as claimed seats.';
COMMENT ON COLUMN leadflow.rep_load.new_day IS 'The rep''s local date that new_count counts; NULL before its first lead.';
COMMENT ON COLUMN leadflow.rep_load.new_count IS 'Leads given to the rep on new_day (against max_new_per_day).';
COMMENT ON COLUMN leadflow.rep_load.last_assigned_at IS 'When the rep last got a lead from any queue; NULL: never.';
COMMENT ON COLUMN leadflow.rep_load.won_count IS 'The rep''s leads closed as qualified or converted (imports included).';
COMMENT ON COLUMN leadflow.rep_load.closed_count IS 'The rep''s leads closed as qualified, converted, rejected or nurture (imports included); won_count / closed_count is the rate the performance strategy reads.';

COMMENT ON TABLE leadflow.queue IS
    'Routing queues: how a lead is given to one of the members, the cadence and SLAs it gets, escalation, account stickiness and the ownership window.  A queue named default always exists and takes every lead no rule routes.';
COMMENT ON COLUMN leadflow.queue.name IS 'The queue''s name (rules, members and leads name it; renames cascade); not blank, under 64 bytes.';
COMMENT ON COLUMN leadflow.queue.strategy IS 'How the queue picks among eligible members (leadflow.strategy).';
COMMENT ON COLUMN leadflow.queue.cadence IS 'The touch plan a lead gets when assigned from this queue (copied into lead.cadence).';
COMMENT ON COLUMN leadflow.queue.first_touch_sla IS 'Business time from assignment to the first touch; positive, no months, at most 366 days.  Past it the sweep reassigns the lead.';
COMMENT ON COLUMN leadflow.queue.touch_sla IS 'Business time allowed after each due touch (next_touch_at) before the sweep reassigns the lead; positive, no months, at most 366 days.';
COMMENT ON COLUMN leadflow.queue.max_reassignments IS 'SLA reassignments a lead may have; past it the sweep escalates it (to escalate_to, else to the owner''s manager).';
COMMENT ON COLUMN leadflow.queue.escalate_to IS 'The queue that routes leads escalated from this one.  NULL: they go to the old owner''s manager.';
COMMENT ON COLUMN leadflow.queue.sticky_account IS 'True: a lead of an account with a current, eligible owner goes to that owner; the first rep this queue gives an ownerless account becomes its owner (until now + hold_for, or for good).';
COMMENT ON COLUMN leadflow.queue.hold_for IS 'Calendar time an owner holds a lead (and an account) from this queue before the sweep hands it to then_queue; positive, at most 100 years.  NULL: no window, held for good.';
COMMENT ON COLUMN leadflow.queue.then_queue IS 'Where the sweep routes leads held past hold_for (the inbound-to-territory hand-off).  NULL: no hand-off.';
COMMENT ON COLUMN leadflow.queue.require_available IS 'True: only members inside their working hours now are eligible (hot inbound leads).';

COMMENT ON TABLE leadflow.queue_member IS
    'Which reps take leads from which queue, and their weights.';
COMMENT ON COLUMN leadflow.queue_member.queue IS 'The queue.';
COMMENT ON COLUMN leadflow.queue_member.rep_id IS 'The rep.';
COMMENT ON COLUMN leadflow.queue_member.weight IS 'The member''s share in a weighted queue (3 and 1 give 3/4 and 1/4); positive, default 1; other strategies ignore it.';

COMMENT ON TABLE leadflow.member_state IS
    'Rotation state per queue member, written by routing only: whose turn it is in round robin and the smooth weighted round robin''s running weights.';
COMMENT ON COLUMN leadflow.member_state.queue IS 'The queue.';
COMMENT ON COLUMN leadflow.member_state.rep_id IS 'The member.';
COMMENT ON COLUMN leadflow.member_state.last_assigned_at IS 'When this queue last gave the member a lead; NULL: never.';
COMMENT ON COLUMN leadflow.member_state.last_turn IS 'Round robin: the queue''s turn number of the member''s last lead (larger = more recent; 0 = never).';
COMMENT ON COLUMN leadflow.member_state.current_weight IS 'Smooth weighted round robin (weighted, performance): the member''s running weight.';

COMMENT ON TABLE leadflow.rule IS
    'Routing rules: the first active rule (by priority, then id) whose match and score bounds fit the lead decides its queue, or suppresses it.  No rule fits: the queue default.';
COMMENT ON COLUMN leadflow.rule.id IS 'The rule''s id (decision.rule_id names it).';
COMMENT ON COLUMN leadflow.rule.priority IS 'Lower is tried first; ties by id.  Default 100.';
COMMENT ON COLUMN leadflow.rule.name IS 'A name for people (reports, explain).';
COMMENT ON COLUMN leadflow.rule.match IS 'A JSON object tested against the lead''s routing document (see leadflow.matches); {} matches everything.  A malformed match is refused (22023).';
COMMENT ON COLUMN leadflow.rule.min_score IS 'The rule fits only leads with score >= min_score.  NULL: no lower bound.';
COMMENT ON COLUMN leadflow.rule.max_score IS 'The rule fits only leads with score <= max_score.  NULL: no upper bound.';
COMMENT ON COLUMN leadflow.rule.require_skills IS 'Skills a member needs (a subset of rep.skills) to take leads this rule routes; empty: none.';
COMMENT ON COLUMN leadflow.rule.action IS 'route (to queue) or suppress (reject the lead).';
COMMENT ON COLUMN leadflow.rule.queue IS 'The queue a route rule sends leads to; NULL only for suppress rules.';
COMMENT ON COLUMN leadflow.rule.active IS 'False: the rule is skipped.';

COMMENT ON TABLE leadflow.account IS
    'Accounts, found by email domain (made by routing for new company domains, never for free-mail ones) or by company name: name, attributes and parent, the owner sticky queues give its leads to, its status and suppression.';
COMMENT ON COLUMN leadflow.account.id IS 'The account''s id (lead.account_id).';
COMMENT ON COLUMN leadflow.account.domain IS 'The email domain, lower case and trimmed; unique.  NULL: an account known by its name only.';
COMMENT ON COLUMN leadflow.account.owner_id IS 'The rep who owns the account: sticky queues give it the account''s leads while it is eligible.  NULL: nobody (the next sticky assignment sets it).';
COMMENT ON COLUMN leadflow.account.owned_until IS 'Ownership ends then (now + the queue''s hold_for when a sticky queue set it).  NULL with an owner: open-ended.';
COMMENT ON COLUMN leadflow.account.status IS 'prospect, customer or suppressed (new leads rejected).';
COMMENT ON COLUMN leadflow.account.suppress_reason IS 'Why the account is suppressed (required then); becomes the reject_reason of its leads.';
COMMENT ON COLUMN leadflow.account.pursue_other_contacts IS 'Set by a dead_other_contact touch: this contact is dead, the account is worth trying through others.';

COMMENT ON TABLE leadflow.freemail_domain IS
    'Email domains of free-mail providers: leads from them never create or join an account (gmail.com is not a customer).';
COMMENT ON COLUMN leadflow.freemail_domain.domain IS 'The domain, lower case and trimmed.';
COMMENT ON COLUMN leadflow.freemail_domain.builtin IS 'True for rows leadflow ships (recreated by CREATE EXTENSION, not dumped); your rows are false.';

COMMENT ON TABLE leadflow.country_calling_code IS
    'Telephone calling codes and trunk prefixes by ISO 3166 country, for writing phone numbers with their country code.  Add your own rows.';
COMMENT ON COLUMN leadflow.country_calling_code.country IS 'ISO 3166 alpha-2 code, upper case (lead.country matches it in any case).';
COMMENT ON COLUMN leadflow.country_calling_code.calling_code IS 'The international calling code, 1 to 4 digits without +.';
COMMENT ON COLUMN leadflow.country_calling_code.trunk_prefix IS 'The national trunk prefix dropped before the calling code is put in front (0 in most of Europe); empty: none.';
COMMENT ON COLUMN leadflow.country_calling_code.builtin IS 'True for rows leadflow ships (not dumped); your rows are false.';

COMMENT ON TABLE leadflow.scoring_rule IS
    'Points for fit (the lead''s attributes, stored in lead.score) and engagement (its events, decaying with a half-life, added by current_score).  Rules of one kind with the same name form a group, capped by max_points.';
COMMENT ON COLUMN leadflow.scoring_rule.id IS 'The rule''s id.';
COMMENT ON COLUMN leadflow.scoring_rule.name IS 'The rule''s group: rules of the same kind and name share one cap.';
COMMENT ON COLUMN leadflow.scoring_rule.kind IS 'fit (needs match) or engagement (needs event_kind).';
COMMENT ON COLUMN leadflow.scoring_rule.match IS 'fit: a JSON match tested against the routing document, as routing does.  NULL for engagement rules.';
COMMENT ON COLUMN leadflow.scoring_rule.event_kind IS 'engagement: the event.kind that earns the points.  NULL for fit rules.';
COMMENT ON COLUMN leadflow.scoring_rule.points IS 'Points per match or event; may be negative.';
COMMENT ON COLUMN leadflow.scoring_rule.half_life IS 'engagement: an event''s points halve every half_life (points * 0.5^(age / half_life)).  NULL: no decay (always NULL for fit).';
COMMENT ON COLUMN leadflow.scoring_rule.max_points IS 'Cap of the rule''s group: the group total stays within [-cap, cap], the smallest max_points of its rules.  NULL: this rule sets no cap.';
COMMENT ON COLUMN leadflow.scoring_rule.active IS 'False: the rule counts for nothing.';

COMMENT ON TABLE leadflow.qualification_criterion IS
    'The qualification matrix: the answers (keys of lead.attrs) a lead needs before a qualified touch is accepted.';
COMMENT ON COLUMN leadflow.qualification_criterion.name IS 'The criterion''s name (budget, authority, need, timing, ...), shown in the error that lists what is missing.';
COMMENT ON COLUMN leadflow.qualification_criterion.attribute IS 'The key of lead.attrs that holds the answer.';
COMMENT ON COLUMN leadflow.qualification_criterion.allowed IS 'The accepted answers.  NULL: any non-empty answer.';
COMMENT ON COLUMN leadflow.qualification_criterion.required IS 'False: recorded but not needed to qualify.';

-- (the table's comment is the scoring section's)
COMMENT ON COLUMN leadflow.model.name IS 'The model''s name (default is the one inserts and explain_score use).';
COMMENT ON COLUMN leadflow.model.trained_at IS 'When this version was trained (leadflow.now()); training again at the same instant replaces it.';
COMMENT ON COLUMN leadflow.model.features IS 'The routing-document keys the model reads.';
COMMENT ON COLUMN leadflow.model.params IS 'What the model learned, as JSON (counts per feature slot, bins), so a model can be read, compared and restored.';
COMMENT ON COLUMN leadflow.model.positives IS 'Training leads that were won (qualified or converted).';
COMMENT ON COLUMN leadflow.model.negatives IS 'Training leads that were rejected.';
COMMENT ON COLUMN leadflow.model.auc IS 'Area under the ROC curve on the training leads (0.5 = chance, 1 = every won lead ranked above every lost one).';
COMMENT ON COLUMN leadflow.model.kind IS 'logistic (L2-regularised logistic regression) or naive_bayes (Laplace-smoothed, calibrated); versions of 1.1 are naive_bayes.';
COMMENT ON COLUMN leadflow.model.log_loss IS 'Mean log loss of the predicted probabilities on the training leads (lower is better).  NULL: versions of 1.1.';
COMMENT ON COLUMN leadflow.model.holdout_positives IS 'Held-out leads (not trained on) that were won.  NULL: nothing was held out (a version of 1.1).';
COMMENT ON COLUMN leadflow.model.holdout_negatives IS 'Held-out leads that were rejected.  NULL: nothing was held out.';
COMMENT ON COLUMN leadflow.model.holdout_auc IS 'AUC on the held-out leads: how well the model ranks leads it has not seen.  NULL: nothing held out, or only one outcome among them.';
COMMENT ON COLUMN leadflow.model.holdout_log_loss IS 'Mean log loss on the held-out leads.  NULL: nothing held out.';
COMMENT ON COLUMN leadflow.model.holdout_calibration_error IS 'On the held-out leads, how far predicted probabilities are from the share that converted (expected calibration error over equal-width probability bins; 0 = calibrated: of leads predicted p, p convert).  NULL: nothing held out.';

-- Tables: data
COMMENT ON TABLE leadflow.lead IS
    'Leads: the prospect''s contact data and attributes, score, stage, owner, cadence position and SLA clock.  An INSERT without an owner is routed in its own transaction; one with an owner or a closed stage is an import, kept as given.';
COMMENT ON COLUMN leadflow.lead.id IS 'leadflow''s id of the lead (bigint: node-postgres returns it as a string).';
COMMENT ON COLUMN leadflow.lead.external_id IS 'The CRM''s own key for the lead, unique when given (at most 1000 bytes): look leads up by it and upsert on it (ON CONFLICT (external_id)).  NULL: the CRM gave none.';
COMMENT ON COLUMN leadflow.lead.created_at IS 'When the lead arrived (default leadflow.now(); finite).  Speed to lead counts from here.';
COMMENT ON COLUMN leadflow.lead.source IS 'Where the lead came from (web_form, inbound_call, walk_in, purchased_list, referral, direct_mail, event, ...; free text), routing-document key source.  NULL: unknown, reported as (none).';
COMMENT ON COLUMN leadflow.lead.campaign IS 'The marketing campaign (free text), routing-document key campaign.  NULL: none, reported as (none).';
COMMENT ON COLUMN leadflow.lead.name IS 'The person''s name, trimmed, runs of spaces made one (attrs.original_name keeps what was sent when that changed it).';
COMMENT ON COLUMN leadflow.lead.email IS 'Email, trimmed and lower-cased; NULL when it is not local@domain.tld (attrs.original_email keeps what was sent).  Duplicates are found by it; its domain is the account''s key and routing-document key domain.';
COMMENT ON COLUMN leadflow.lead.phone IS 'Phone as + country code and digits (+4930123456), from lead.country or leadflow.default_country; NULL under 5 or over 15 digits (attrs.original_phone keeps what was sent).  Duplicates are found by it when there is no email.';
COMMENT ON COLUMN leadflow.lead.company IS 'The company''s name, trimmed, routing-document key company.';
COMMENT ON COLUMN leadflow.lead.country IS 'ISO 3166 alpha-2 country (any case), routing-document key country; gives the phone''s calling code.';
COMMENT ON COLUMN leadflow.lead.account_id IS 'The lead''s account: given, or found by routing or an import from the email domain (made for a new company domain), else from the company name.  NULL: none found.';
COMMENT ON COLUMN leadflow.lead.attrs IS 'Any other attributes, a JSON object (never NULL, default {}): rules and scoring match its keys, qualification answers live here, leadflow adds original_* keys when hygiene changed a contact field.';
COMMENT ON COLUMN leadflow.lead.score IS 'Fit points under the active fit rules, stored: set at insert, recomputed when attrs, source, campaign, company, country or email change, or by rescore().  current_score() adds engagement.';
COMMENT ON COLUMN leadflow.lead.predicted IS 'Probability (0 to 1) that the lead converts, by the newest model named default: set at insert, refreshed for every lead when that model is trained (refresh_predictions).  NULL: no default model yet.';
COMMENT ON COLUMN leadflow.lead.stage IS 'Where the lead is (leadflow.stage; new and working are open).  Changes are validated: nothing leaves converted, rejected goes back only by reopen().';
COMMENT ON COLUMN leadflow.lead.stage_changed_at IS 'When the lead entered its current stage (set by routing and by every stage change).  NULL: not routed yet, or imported without it, and never changed since.';
COMMENT ON COLUMN leadflow.lead.queue IS 'The queue that routed the lead (its SLAs and cadence apply).  NULL: not routed yet (route_on_insert off, or an import).';
COMMENT ON COLUMN leadflow.lead.owner_id IS 'The rep who owns the lead.  NULL: waiting in its queue''s backlog, not routed yet, or closed without an owner.';
COMMENT ON COLUMN leadflow.lead.assigned_at IS 'When the current owner got the lead; the cadence and the first-touch SLA run from here.  NULL without an owner.';
COMMENT ON COLUMN leadflow.lead.first_touch_at IS 'When the first touch happened (whoever made it).  NULL: never touched.';
COMMENT ON COLUMN leadflow.lead.last_touch_at IS 'When the latest touch happened.  NULL: never touched.';
COMMENT ON COLUMN leadflow.lead.touches IS 'How many touches were logged on the lead.';
COMMENT ON COLUMN leadflow.lead.cadence IS 'The touch plan, copied from the queue at assignment or import (a lead keeps the plan it started on).  NULL: never assigned.';
COMMENT ON COLUMN leadflow.lead.cadence_step IS 'The step (0-based) due next; it restarts at 0 with a new owner or when the lead comes back into the pipeline.';
COMMENT ON COLUMN leadflow.lead.next_touch_at IS 'When the next step falls due, in the owner''s working time.  NULL: closed or no owner.';
COMMENT ON COLUMN leadflow.lead.sla_due_at IS 'The follow-up deadline: first_touch_sla after assignment, then touch_sla after each due touch, in the owner''s business time.  The sweep reassigns open leads past it.  NULL: no clock runs (closed or no owner).';
COMMENT ON COLUMN leadflow.lead.reassignments IS 'How often the sweep took the lead from an owner who missed the SLA; past the queue''s max_reassignments it escalates.';
COMMENT ON COLUMN leadflow.lead.value IS 'Expected deal value, in the CRM''s currency; finite and not negative.  NULL: unknown.';
COMMENT ON COLUMN leadflow.lead.reject_reason IS 'Why the lead was rejected: the dead outcome and its note (dead: wrong number), account suppressed: ..., suppressed by rule "...", duplicate of lead N, merged into lead N  NULL unless rejected.  reject_reasons groups by the part before the colon.';
COMMENT ON COLUMN leadflow.lead.referred_by IS 'The lead whose dead_referral touch created this one.  NULL: not a referral.';
COMMENT ON COLUMN leadflow.lead.duplicate_of IS 'The open lead this one duplicated (it was closed at once), the earlier lead of a returning prospect, or the lead it was merged into.  NULL: a prospect seen for the first time.';

COMMENT ON TABLE leadflow.touch IS
    'Every call, email, message or meeting with its outcome.  Inserting one (or log_touch) advances the lead; rows are kept as history.';
COMMENT ON COLUMN leadflow.touch.id IS 'The touch''s id.';
COMMENT ON COLUMN leadflow.touch.lead_id IS 'The lead touched (must exist, be open and have an owner).';
COMMENT ON COLUMN leadflow.touch.rep_id IS 'Who made the touch: set by leadflow to the acting role''s rep, else the owner; only a manager may name someone other than the owner.';
COMMENT ON COLUMN leadflow.touch.at IS 'When the touch happened (default leadflow.now(); finite).  A rep session may record at most 5 minutes after now and not before the lead became its own.';
COMMENT ON COLUMN leadflow.touch.channel IS 'How the touch was made (leadflow.channel).';
COMMENT ON COLUMN leadflow.touch.outcome IS 'What it found out (leadflow.outcome); required, it decides what happens to the lead.';
COMMENT ON COLUMN leadflow.touch.note IS 'Free text; for a dead outcome it goes into reject_reason.';
COMMENT ON COLUMN leadflow.touch.referral IS 'For dead_referral: the person referred, a JSON object (name, email or phone, company, country, attrs) that becomes a new lead.  NULL otherwise.';

COMMENT ON TABLE leadflow.event IS
    'Engagement signals (page views, email opens, form fills, re-inquiries, ...) that engagement scoring rules give points for.';
COMMENT ON COLUMN leadflow.event.id IS 'The event''s id.';
COMMENT ON COLUMN leadflow.event.lead_id IS 'The lead it is about.';
COMMENT ON COLUMN leadflow.event.kind IS 'What happened (page_view, email_open, form_fill, ...; free text, not blank); re_inquiry is written by leadflow when a duplicate of the open lead arrives.  scoring_rule.event_kind matches it.';
COMMENT ON COLUMN leadflow.event.at IS 'When it happened (default leadflow.now(); finite); engagement points decay from here.';
COMMENT ON COLUMN leadflow.event.attrs IS 'Anything else about the event, a JSON object.';

COMMENT ON TABLE leadflow.decision IS
    'The decision ledger, append-only: one row per assignment, reassignment, hand-off, escalation, manual move, backlog, suppression, duplicate, merge, delete and erasure, in the same transaction as the change, with every candidate and why each was passed over.  No foreign keys: it outlives what it names.';
COMMENT ON COLUMN leadflow.decision.id IS 'The decision''s id; ids grow in the order decisions were made.';
COMMENT ON COLUMN leadflow.decision.lead_id IS 'The lead decided about.';
COMMENT ON COLUMN leadflow.decision.at IS 'When (leadflow.now(); the sweep''s as_of for its decisions).';
COMMENT ON COLUMN leadflow.decision.kind IS 'What was decided (leadflow.decision_kind).';
COMMENT ON COLUMN leadflow.decision.from_rep IS 'The owner before.  NULL: none.';
COMMENT ON COLUMN leadflow.decision.to_rep IS 'The owner after.  NULL: nobody (backlog, suppress, unassigned).';
COMMENT ON COLUMN leadflow.decision.rule_id IS 'The rule that matched.  NULL: no rule (the queue default), or not a routing decision.';
COMMENT ON COLUMN leadflow.decision.queue IS 'The queue decided in.  NULL: none (a manual move of a lead without one).';
COMMENT ON COLUMN leadflow.decision.strategy IS 'The strategy of that queue when one chose.  NULL: no strategy ran.';
COMMENT ON COLUMN leadflow.decision.reason IS 'Why: the strategy that picked (round_robin, ...), account_owner, previous_owner, no_eligible_member, import, kept by its owner: nobody else can take it, escalated to the owner''s manager, a manual move''s reason; for a suppression or a duplicate the lead''s reject_reason.';

COMMENT ON COLUMN leadflow.decision.candidates IS
    'Every member considered, one JSON object each: rep, eligible, reason (why it was passed over: inactive, away, outside_hours, missing_skills, previous_owner, current_owner, at_max_open, at_max_new_per_day, cap_taken_concurrently, not_picked; null for the chosen one), open, max_open, new_today, max_new_per_day, weight, chosen, and account_owner: true for the account''s owner.  Stored as leadflow.candidate_list; casts to jsonb (a driver gets JSON from candidates::jsonb).  NULL: no candidates were weighed (manual moves, suppressions).  Reps cannot read it.';
COMMENT ON COLUMN leadflow.decision.txid IS 'The transaction that made the decision (xid8).';

COMMENT ON TABLE leadflow.alert IS
    'Alerts for managers and reps; each is also sent at commit as NOTIFY leadflow_alert with the payload {"id", "kind", "lead_id", "rep_id"}.';
COMMENT ON COLUMN leadflow.alert.id IS 'The alert''s id (in the NOTIFY payload).';
COMMENT ON COLUMN leadflow.alert.at IS 'When it was raised (leadflow.now(), the sweep''s as_of).';
COMMENT ON COLUMN leadflow.alert.kind IS 'What happened (leadflow.alert_kind).';
COMMENT ON COLUMN leadflow.alert.lead_id IS 'The lead it is about.  NULL: none.';
COMMENT ON COLUMN leadflow.alert.rep_id IS 'Whom the alert is for: the old owner''s manager (sla_breach), the new owner (reassigned), the rep''s manager (cap_reached), ...; a rep session sees its own.  Never NULL while a rep exists: without a manager, the queue''s manager_id, the default queue''s, the head of sales.';
COMMENT ON COLUMN leadflow.alert.detail IS 'What a person needs to read it, a JSON object of strings (rep and queue names, reasons); not in the NOTIFY payload.';
COMMENT ON COLUMN leadflow.alert.acknowledged_at IS 'When it was first acknowledged (acknowledge_alert).  NULL: not yet; health() warns after an hour.';

COMMENT ON TABLE leadflow.stage_history IS
    'Every stage change of every lead, written by leadflow, with the role that made it.';
COMMENT ON COLUMN leadflow.stage_history.id IS 'The entry''s id, in order of changes.';
COMMENT ON COLUMN leadflow.stage_history.lead_id IS 'The lead.';
COMMENT ON COLUMN leadflow.stage_history.from_stage IS 'The stage before the change.';
COMMENT ON COLUMN leadflow.stage_history.to_stage IS 'The stage after.';
COMMENT ON COLUMN leadflow.stage_history.at IS 'When (leadflow.now()).';
COMMENT ON COLUMN leadflow.stage_history.by_role IS 'The acting role (the session''s, after SET ROLE).';

-- Tables: operations
COMMENT ON COLUMN leadflow.sweep_stats.singleton IS 'Always true: the table has one row.';
COMMENT ON COLUMN leadflow.sweep_stats.runs IS 'Committed sweeps in this database, by anyone.';
COMMENT ON COLUMN leadflow.sweep_stats.last_started_at IS 'Real time the last sweep started.';
COMMENT ON COLUMN leadflow.sweep_stats.last_finished_at IS 'Real time the last sweep finished.';
COMMENT ON COLUMN leadflow.sweep_stats.last_as_of IS 'The as_of the last sweep ran with.';
COMMENT ON COLUMN leadflow.sweep_stats.run_gap IS 'Time between the starts of the last two sweeps.  NULL: only one so far.';
COMMENT ON COLUMN leadflow.sweep_stats.cron_runs IS 'Committed sweeps run by pg_cron (its background worker or its connection).';
COMMENT ON COLUMN leadflow.sweep_stats.last_cron_at IS 'Real time the last sweep by pg_cron started.  NULL: none yet.';
COMMENT ON COLUMN leadflow.sweep_stats.last_cron_finished_at IS 'Real time the last sweep by pg_cron finished.  NULL: none yet.';
COMMENT ON COLUMN leadflow.sweep_stats.cron_gap IS 'Time between the starts of the last two sweeps by pg_cron: the schedule health() judges by.  NULL: fewer than two.';
COMMENT ON COLUMN leadflow.sweep_action_total.action IS 'A sweep action (sla_reassigned, sla_escalated, sla_kept, handed_off, handoff_kept, backlog_assigned; sla_backlogged before 1.2).';
COMMENT ON COLUMN leadflow.sweep_action_total.leads IS 'Leads that action moved in every committed sweep so far (a counter).';
COMMENT ON COLUMN leadflow.invariants_run.singleton IS 'Always true: the table has one row.';
COMMENT ON COLUMN leadflow.invariants_run.checked_at IS 'Real time record_invariants() finished.';
COMMENT ON COLUMN leadflow.invariants_run.seconds IS 'How long check_invariants() took, in seconds.';
COMMENT ON COLUMN leadflow.invariants_run.violations IS 'Violations found (0: all is well).';
COMMENT ON COLUMN leadflow.invariants_run.kinds IS 'Violations per kind, a JSON object ({} when none).';

-- Views
COMMENT ON COLUMN leadflow.work_list.rep_id IS 'The rep (the lead''s owner).';
COMMENT ON COLUMN leadflow.work_list.rep IS 'The rep''s name.';
COMMENT ON COLUMN leadflow.work_list.priority IS 'The order to work the rep''s leads in, from 1: due and overdue first (most overdue first), then by score (bigint).';
COMMENT ON COLUMN leadflow.work_list.lead_id IS 'The lead.';
COMMENT ON COLUMN leadflow.work_list.name IS 'The person''s name.';
COMMENT ON COLUMN leadflow.work_list.company IS 'The company.';
COMMENT ON COLUMN leadflow.work_list.email IS 'Email.';
COMMENT ON COLUMN leadflow.work_list.phone IS 'Phone.';
COMMENT ON COLUMN leadflow.work_list.stage IS 'new or working.';
COMMENT ON COLUMN leadflow.work_list.score IS 'Fit score (lead.score).';
COMMENT ON COLUMN leadflow.work_list.next_channel IS 'The channel of the step due next.  NULL: past the last step, or no cadence.';
COMMENT ON COLUMN leadflow.work_list.next_step IS 'The step due next, counted from 1.';
COMMENT ON COLUMN leadflow.work_list.cadence_steps IS 'Steps in the lead''s cadence.  NULL: no cadence.';
COMMENT ON COLUMN leadflow.work_list.next_touch_at IS 'When the next step is due.';
COMMENT ON COLUMN leadflow.work_list.due IS 'The next touch is due now (next_touch_at <= leadflow.now()).';
COMMENT ON COLUMN leadflow.work_list.minutes_overdue IS 'Whole wall-clock minutes since the touch fell due; 0 when not due.';
COMMENT ON COLUMN leadflow.work_list.sla_due_at IS 'The follow-up deadline.';
COMMENT ON COLUMN leadflow.work_list.sla_breached IS 'The deadline has passed: the next sweep reassigns the lead.';
COMMENT ON COLUMN leadflow.work_list.touches IS 'Touches so far.';
COMMENT ON COLUMN leadflow.work_list.last_touch_at IS 'When the latest touch happened.  NULL: never touched.';

COMMENT ON COLUMN leadflow.rep_pipeline.rep_id IS 'The rep.';
COMMENT ON COLUMN leadflow.rep_pipeline.rep IS 'The rep''s name.';
COMMENT ON COLUMN leadflow.rep_pipeline.active IS 'rep.active.';
COMMENT ON COLUMN leadflow.rep_pipeline.open_leads IS 'Open leads the rep owns.';
COMMENT ON COLUMN leadflow.rep_pipeline.max_open IS 'The rep''s pipeline cap.';
COMMENT ON COLUMN leadflow.rep_pipeline.open_vs_cap IS 'open_leads / max_open (a fraction; NULL when max_open is 0).';
COMMENT ON COLUMN leadflow.rep_pipeline.new_today IS 'Leads given to the rep today, its local day.';
COMMENT ON COLUMN leadflow.rep_pipeline.max_new_per_day IS 'The rep''s daily cap.';
COMMENT ON COLUMN leadflow.rep_pipeline.overdue IS 'Open leads whose next touch is past.';
COMMENT ON COLUMN leadflow.rep_pipeline.sla_breached IS 'Open leads whose SLA deadline is past.';
COMMENT ON COLUMN leadflow.rep_pipeline.touched_within_48h IS 'Open leads touched in the last 48 hours.';
COMMENT ON COLUMN leadflow.rep_pipeline.touched_within_48h_rate IS 'touched_within_48h / open_leads (a fraction; NULL without open leads).';
COMMENT ON COLUMN leadflow.rep_pipeline.won IS 'Closed leads the rep owns that were qualified or converted (duplicates and merged leads left out).';
COMMENT ON COLUMN leadflow.rep_pipeline.closed IS 'The rep''s leads in any stage but new and working (duplicates and merged leads left out).';
COMMENT ON COLUMN leadflow.rep_pipeline.conversion_rate IS 'converted / leads (a fraction; NULL without leads).';

COMMENT ON COLUMN leadflow.source_performance.source IS 'lead.source, (none) when NULL.';
COMMENT ON COLUMN leadflow.source_performance.campaign IS 'lead.campaign, (none) when NULL.';
COMMENT ON COLUMN leadflow.source_performance.leads IS 'Leads (duplicates and merged leads left out).';
COMMENT ON COLUMN leadflow.source_performance.contacted IS 'Leads touched at least once.';
COMMENT ON COLUMN leadflow.source_performance.qualified IS 'Leads now qualified or converted.';
COMMENT ON COLUMN leadflow.source_performance.converted IS 'Leads converted.';
COMMENT ON COLUMN leadflow.source_performance.rejected IS 'Leads rejected.';
COMMENT ON COLUMN leadflow.source_performance.contact_rate IS 'contacted / leads.';
COMMENT ON COLUMN leadflow.source_performance.qualification_rate IS 'qualified / leads.';
COMMENT ON COLUMN leadflow.source_performance.conversion_rate IS 'converted / leads.';
COMMENT ON COLUMN leadflow.source_performance.median_minutes_to_first_touch IS 'Median minutes from creation to the first touch, of the leads touched.  NULL: none touched.';

COMMENT ON COLUMN leadflow.funnel.campaign IS 'lead.campaign, (none) when NULL.';
COMMENT ON COLUMN leadflow.funnel.leads IS 'Leads (duplicates and merged leads left out).';
COMMENT ON COLUMN leadflow.funnel.assigned IS 'Leads that ever had an owner.';
COMMENT ON COLUMN leadflow.funnel.contacted IS 'Leads touched at least once.';
COMMENT ON COLUMN leadflow.funnel.ever_qualified IS 'Leads that were ever qualified (now qualified or converted, or qualified in stage_history).';
COMMENT ON COLUMN leadflow.funnel.converted IS 'Leads converted.';
COMMENT ON COLUMN leadflow.funnel.contact_rate IS 'contacted / leads.';
COMMENT ON COLUMN leadflow.funnel.ever_qualified_rate IS 'ever_qualified / leads.';
COMMENT ON COLUMN leadflow.funnel.conversion_rate IS 'converted / leads.';

COMMENT ON COLUMN leadflow.speed_to_lead.queue IS 'The lead''s queue, (none) when NULL.';
COMMENT ON COLUMN leadflow.speed_to_lead.rep IS 'The current owner''s name.';
COMMENT ON COLUMN leadflow.speed_to_lead.leads IS 'Leads assigned to that owner from that queue.';
COMMENT ON COLUMN leadflow.speed_to_lead.median_minutes_to_assignment IS 'Median minutes from creation to assignment.';
COMMENT ON COLUMN leadflow.speed_to_lead.p90_minutes_to_assignment IS '90th percentile of the minutes from creation to assignment.';
COMMENT ON COLUMN leadflow.speed_to_lead.median_minutes_to_first_touch IS 'Median minutes from creation to the first touch by anyone (speed to lead).  NULL: none touched.';
COMMENT ON COLUMN leadflow.speed_to_lead.p90_minutes_to_first_touch IS '90th percentile of the minutes from creation to the first touch.  NULL: none touched.';
COMMENT ON COLUMN leadflow.speed_to_lead.touched IS 'Leads touched at least once.';
COMMENT ON COLUMN leadflow.speed_to_lead.sla_met IS 'Leads the current owner first touched within the queue''s first_touch_sla of their business time.';
COMMENT ON COLUMN leadflow.speed_to_lead.sla_attainment IS 'sla_met / (leads first touched by the current owner + untouched leads already past the SLA); NULL when none is due yet.';

COMMENT ON COLUMN leadflow.reject_reasons.reason IS 'The part of reject_reason before the first colon, (none) when NULL.';
COMMENT ON COLUMN leadflow.reject_reasons.source IS 'lead.source, (none) when NULL.';
COMMENT ON COLUMN leadflow.reject_reasons.campaign IS 'lead.campaign, (none) when NULL.';
COMMENT ON COLUMN leadflow.reject_reasons.leads IS 'Rejected leads.';
COMMENT ON COLUMN leadflow.reject_reasons.share_of_rejected IS 'This row''s share of all rejected leads (a fraction).';

COMMENT ON COLUMN leadflow.overdue.lead_id IS 'The lead.';
COMMENT ON COLUMN leadflow.overdue.rep IS 'The owner''s name.';
COMMENT ON COLUMN leadflow.overdue.rep_id IS 'The owner.';
COMMENT ON COLUMN leadflow.overdue.queue IS 'The lead''s queue.';
COMMENT ON COLUMN leadflow.overdue.stage IS 'new or working.';
COMMENT ON COLUMN leadflow.overdue.next_touch_at IS 'When the next touch fell due.';
COMMENT ON COLUMN leadflow.overdue.minutes_overdue IS 'Minutes since the touch fell due (1 place; 0 when only the SLA is past).';
COMMENT ON COLUMN leadflow.overdue.sla_due_at IS 'The follow-up deadline.';
COMMENT ON COLUMN leadflow.overdue.sla_breached IS 'The deadline has passed: the next sweep reassigns the lead.';
COMMENT ON COLUMN leadflow.overdue.reassignments IS 'SLA reassignments so far.';

COMMENT ON COLUMN leadflow.backlog.lead_id IS 'The lead.';
COMMENT ON COLUMN leadflow.backlog.queue IS 'Its queue, (not routed) when it has none.';
COMMENT ON COLUMN leadflow.backlog.created_at IS 'When the lead arrived.';
COMMENT ON COLUMN leadflow.backlog.minutes_waiting IS 'Minutes since it arrived (1 place).';
COMMENT ON COLUMN leadflow.backlog.reassignments IS 'SLA reassignments so far.';
COMMENT ON COLUMN leadflow.backlog.last_decision IS 'The reason of the latest decision about it (no_eligible_member, ...).  NULL: never routed.';

COMMENT ON COLUMN leadflow.fairness.queue IS 'The queue.';
COMMENT ON COLUMN leadflow.fairness.rep IS 'The member''s name.';
COMMENT ON COLUMN leadflow.fairness.weight IS 'The member''s weight.';
COMMENT ON COLUMN leadflow.fairness.weight_share IS 'weight / the total weight of the queue''s members that were eligible at least once.  NULL: this member never was.';
COMMENT ON COLUMN leadflow.fairness.assignments IS 'Leads the queue gave the member (assign, reassign_sla, handoff, escalate decisions).';
COMMENT ON COLUMN leadflow.fairness.assignment_share IS 'assignments / the queue''s assignments.  NULL: none yet.';
COMMENT ON COLUMN leadflow.fairness.share_vs_weight IS 'assignment_share / weight_share, 2 places: 1.00 is exactly fair, below 1 got less than its weight.';

COMMENT ON COLUMN leadflow.capacity.queue IS 'The queue.';
COMMENT ON COLUMN leadflow.capacity.members IS 'Members.';
COMMENT ON COLUMN leadflow.capacity.available_members IS 'Members active and not away now.';
COMMENT ON COLUMN leadflow.capacity.seats IS 'Sum of the active members'' max_open.';
COMMENT ON COLUMN leadflow.capacity.open_leads IS 'Open leads the active members own (from any queue).';
COMMENT ON COLUMN leadflow.capacity.free_seats IS 'Sum over the active members of max_open less their open leads, each at least 0.';
COMMENT ON COLUMN leadflow.capacity.new_per_day_capacity IS 'Sum of the available members'' max_new_per_day.';
COMMENT ON COLUMN leadflow.capacity.inflow_per_day IS 'Leads routed to the queue per day over the last 7 days (assign and backlog decisions / 7).';
COMMENT ON COLUMN leadflow.capacity.capacity_vs_inflow IS 'new_per_day_capacity / inflow_per_day, 2 places: below 1 the backlog grows.  NULL: no inflow.';
COMMENT ON COLUMN leadflow.capacity.backlog IS 'Open leads of the queue without an owner.';

COMMENT ON COLUMN leadflow.duplicate_rates.source IS 'lead.source, (none) when NULL.';
COMMENT ON COLUMN leadflow.duplicate_rates.campaign IS 'lead.campaign, (none) when NULL.';
COMMENT ON COLUMN leadflow.duplicate_rates.leads IS 'All leads, duplicates included.';
COMMENT ON COLUMN leadflow.duplicate_rates.duplicates_of_open IS 'Leads that duplicated an open lead (closed at once).';
COMMENT ON COLUMN leadflow.duplicate_rates.returning_prospects IS 'Leads of prospects whose earlier lead was closed.';
COMMENT ON COLUMN leadflow.duplicate_rates.duplicate_rate IS '(duplicates_of_open + returning_prospects) / leads: the share of people already known (a fraction).';

COMMENT ON COLUMN leadflow.lead_key_triggers.constraint_name IS 'The foreign key of leadflow.lead (lead_account_id_fkey, lead_queue_fkey, lead_owner_id_fkey).';
COMMENT ON COLUMN leadflow.lead_key_triggers.column_name IS 'Its column of leadflow.lead: account_id, queue or owner_id.';
COMMENT ON COLUMN leadflow.lead_key_triggers.trigger_name IS 'PostgreSQL''s internal check trigger (RI_ConstraintTrigger_c_<oid>), as ALTER TABLE ... DISABLE TRIGGER names it.';
COMMENT ON COLUMN leadflow.lead_key_triggers.checks IS 'What the trigger checks: insert (RI_FKey_check_ins) or update (RI_FKey_check_upd).';
COMMENT ON COLUMN leadflow.lead_key_triggers.postgresql_checks IS 'The trigger is enabled (ORIGIN or ALWAYS): PostgreSQL checks, and leadflow leaves the check to it.';
COMMENT ON COLUMN leadflow.lead_key_triggers.leadflow_checks IS 'leadflow''s own trigger for the same writes (lead_keys_inserted, lead_keys_updated) is enabled: leadflow checks where PostgreSQL''s trigger is not.';

COMMENT ON COLUMN leadflow.health_checks.ord IS 'The check''s position in health()''s output.';
COMMENT ON COLUMN leadflow.health_checks."check" IS 'The check''s name (sweep, backlog, unstaffed_queues, reps_at_cap, unacknowledged_alerts, no_next_touch, invariants, preloaded, unknown_settings, foreign_keys).';
COMMENT ON COLUMN leadflow.health_checks.status IS 'ok, warn or fail.';
COMMENT ON COLUMN leadflow.health_checks.detail IS 'What was found: counts, ages, queue and rep names, never a lead''s data.';
COMMENT ON COLUMN leadflow.health_checks.hint IS 'What to do about it, often the exact SQL.  NULL: nothing to do.';

COMMENT ON COLUMN leadflow.metrics_backlog.queue IS 'The queue; empty for open leads never routed.';
COMMENT ON COLUMN leadflow.metrics_backlog.leads IS 'Open leads of the queue without an owner.';
COMMENT ON COLUMN leadflow.metrics_backlog.oldest_seconds IS 'Age in seconds of the oldest of them (0 when none).';
COMMENT ON COLUMN leadflow.metrics_sla.breached_leads IS 'Open leads with an owner past their SLA deadline.';
COMMENT ON COLUMN leadflow.metrics_sla.oldest_breach_seconds IS 'Seconds since the oldest deadline passed (0 when none).';
COMMENT ON COLUMN leadflow.metrics_decisions.kind IS 'A decision kind (every kind, with 0 when none).';
COMMENT ON COLUMN leadflow.metrics_decisions.decisions IS 'Ledger entries of that kind so far (a counter).';
COMMENT ON COLUMN leadflow.metrics_sweep.runs IS 'Committed sweeps so far (a counter).';
COMMENT ON COLUMN leadflow.metrics_sweep.cron_runs IS 'Committed sweeps by pg_cron so far (a counter).';
COMMENT ON COLUMN leadflow.metrics_sweep.last_duration_seconds IS 'How long the last sweep took, in seconds (0 before the first).';
COMMENT ON COLUMN leadflow.metrics_sweep.last_finished_seconds_ago IS 'Seconds since the last sweep finished.  NULL: none yet.';
COMMENT ON COLUMN leadflow.metrics_sweep.last_cron_finished_seconds_ago IS 'Seconds since the last sweep by pg_cron finished.  NULL: none yet.';
COMMENT ON COLUMN leadflow.metrics_sweep_actions.action IS 'A sweep action.';
COMMENT ON COLUMN leadflow.metrics_sweep_actions.leads IS 'Leads it moved so far (a counter).';
COMMENT ON COLUMN leadflow.metrics_reps.active IS 'Active reps.';
COMMENT ON COLUMN leadflow.metrics_reps.at_max_open IS 'Active reps at their max_open.';
COMMENT ON COLUMN leadflow.metrics_reps.at_max_new_per_day IS 'Active reps at their max_new_per_day today (their local day).';
COMMENT ON COLUMN leadflow.metrics_health."check" IS 'A health() check''s name.';
COMMENT ON COLUMN leadflow.metrics_health.status IS 'ok, warn or fail.';
COMMENT ON COLUMN leadflow.metrics_health.severity IS '0 ok, 1 warn, 2 fail.';
-- END reference
