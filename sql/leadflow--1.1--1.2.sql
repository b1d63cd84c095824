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
-- and in the README's "Roles and row-level security"; sql/attack.sql and
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
-- (listed with the same reasons in the README; sql/audit.sql fails when
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
