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
        'freemail_domain', 'country_calling_code', 'model'
    ] LOOP
        SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum) INTO key_columns
          FROM pg_catalog.pg_index i
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = ('leadflow.' || config_table)::pg_catalog.regclass AND i.indisprimary;
        IF key_columns IS NULL THEN
            RAISE EXCEPTION 'leadflow.% has no primary key, which the configuration audit needs', config_table;
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
