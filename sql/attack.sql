-- Attack: shadowing built-in names.  A rep, a manager, an admin and a CRM
-- back end (table grants, no leadflow role), each in a fresh session,
-- create objects named like the built-in types, tables, functions and
-- operators that leadflow's SQL uses -- in pg_temp (every role may) and in
-- public (granted CREATE here) -- and put public before pg_catalog on
-- their search_path.  Every object, when it runs, counts itself on a
-- sequence (not undone by a rollback), writes who it ran as, and tries to
-- make its creator a superuser.  Then each role drives every leadflow
-- entry point it may use (and a few it may not).  Nothing may change: no
-- shadow runs, no role gains anything.
--
-- An entry point is one line of public.lf_attack_entry below: (who, entry,
-- statement).  The attackers' own statements name pg_catalog's operators
-- (OPERATOR(pg_catalog.=)), so that only leadflow's code could reach a
-- shadow.
\set VERBOSITY terse
SET timezone = 'UTC';
SET search_path = public, leadflow;
SELECT current_user AS superuser \gset
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep, leadflow.scoring_rule, leadflow.model,
    leadflow.stage_history RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
DELETE FROM leadflow.qualification_criterion;

------------------------------------------------------------------------
-- The floor, as of Monday 14:00: Ana, Ben and Cy work "sales" (sticky,
-- handed on to "inside" after a day) and "inside"; Mia manages them.
------------------------------------------------------------------------
SET leadflow.clock = '2026-03-09 14:00:00+00';
CREATE ROLE lf_atk_rep LOGIN;
CREATE ROLE lf_atk_manager LOGIN;
CREATE ROLE lf_atk_admin LOGIN;
CREATE ROLE lf_atk_crm LOGIN;
GRANT leadflow_rep TO lf_atk_rep;
GRANT leadflow_manager TO lf_atk_manager;
GRANT leadflow_admin TO lf_atk_admin;
GRANT USAGE ON SCHEMA leadflow TO lf_atk_crm;
GRANT SELECT, INSERT, UPDATE ON leadflow.lead, leadflow.touch TO lf_atk_crm;
-- a CRM back end that deletes its records (the DBA granted it DELETE)
GRANT DELETE ON leadflow.lead TO lf_atk_crm;
GRANT SELECT ON leadflow.rep TO lf_atk_crm;
GRANT USAGE ON SEQUENCE leadflow.lead_id_seq, leadflow.touch_id_seq TO lf_atk_crm;
GRANT CREATE ON SCHEMA public TO lf_atk_rep, lf_atk_manager, lf_atk_admin, lf_atk_crm;
-- Their sessions run on Tuesday afternoon (leadflow.clock is superuser's
-- to set).
ALTER ROLE lf_atk_rep SET leadflow.clock = '2026-03-10 15:00:00+00';
ALTER ROLE lf_atk_manager SET leadflow.clock = '2026-03-10 15:00:00+00';
ALTER ROLE lf_atk_admin SET leadflow.clock = '2026-03-10 15:00:00+00';
ALTER ROLE lf_atk_crm SET leadflow.clock = '2026-03-10 15:00:00+00';

INSERT INTO leadflow.rep (id, name, login, hours, max_open, max_new_per_day, manager_id) VALUES
    (3, 'Mia', 'lf_atk_manager', 'mon-sun 00:00-24:00 UTC', 50, 50, NULL),
    (1, 'Ana', 'lf_atk_rep', 'mon-sun 00:00-24:00 UTC', 50, 50, 3),
    (2, 'Ben', NULL, 'mon-sun 00:00-24:00 UTC', 50, 50, 3),
    (4, 'Cy', NULL, 'mon-sun 00:00-24:00 UTC', 50, 50, 3);
INSERT INTO leadflow.queue (name, strategy, sticky_account, max_reassignments)
    VALUES ('inside', 'load_balanced', false, 1);
INSERT INTO leadflow.queue (name, sticky_account, hold_for, then_queue)
    VALUES ('sales', true, '1 day', 'inside');
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('sales', 1, 1), ('sales', 2, 1), ('inside', 2, 1), ('inside', 4, 1);
INSERT INTO leadflow.rule (priority, name, match, queue, action) VALUES
    (1, 'spam', '{"source": "spam"}', NULL, 'suppress'),
    (2, 'web', '{"source": "web"}', 'sales', 'route'),
    (3, 'rest', '{}', 'inside', 'route');
INSERT INTO leadflow.account (domain, status, suppress_reason)
    VALUES ('rival.test', 'suppressed', 'competitor');
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES
    ('web', 'fit', '{"source": "web"}', 10), ('budget', 'fit', '{"budget": "yes"}', 20);
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life) VALUES
    ('views', 'engagement', 'page_view', 5, '1 day');
INSERT INTO leadflow.qualification_criterion (name, attribute, allowed) VALUES
    ('budget', 'budget', '{yes}');
-- History for the model: closed leads, imported with their owners.
INSERT INTO leadflow.lead (email, source, attrs, owner_id, stage)
SELECT 'h' || g || '@history.test', CASE WHEN g % 3 = 0 THEN 'web' ELSE 'fair' END,
       jsonb_build_object('budget', CASE WHEN g % 2 = 0 THEN 'yes' ELSE 'no' END),
       2, CASE WHEN g % 4 = 0 THEN 'converted' ELSE 'rejected' END::leadflow.stage
  FROM generate_series(1, 12) g;
SELECT model, positives, negatives FROM leadflow.train(ARRAY['source', 'budget']);
-- Open leads, routed.
INSERT INTO leadflow.lead (email, name, company, source, phone, country) VALUES
    ('ann@acme.test', 'Ann', 'Acme', 'web', '030 1111', 'DE'),     -- 13 Ana
    ('bob@beta.test', 'Bob', 'Beta', 'web', '030 2222', 'DE'),     -- 14 Ben
    ('cat@acme.test', 'Cat', 'Acme', 'web', NULL, 'DE'),           -- 15 Ana (sticky Acme)
    ('dan@delta.test', 'Dan', 'Delta', 'fair', NULL, NULL),        -- 16 inside
    ('eve@echo.test', 'Eve', 'Echo', 'fair', NULL, NULL),          -- 17 inside
    ('fay@foxtrot.test', 'Fay', 'Foxtrot', 'web', NULL, NULL),     -- 18 sales
    ('gus@golf.test', 'Gus', 'Golf', 'fair', NULL, NULL);          -- 19 inside
SET leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, name, source) VALUES
    ('hal@hotel.test', 'Hal', 'fair'),                              -- 20 not routed
    ('ivy@india.test', 'Ivy', 'fair');                              -- 21 not routed
RESET leadflow.route_on_insert;
-- Gus is not reached and rejected; Eve is touched (so the sweep leaves her).
SELECT leadflow.log_touch(19, 'call', 'dead', 'wrong number') IS NOT NULL AS rejected_19;
SELECT leadflow.log_touch(17, 'call', 'connected') IS NOT NULL AS touched_17;
INSERT INTO leadflow.event (lead_id, kind) VALUES (13, 'page_view'), (16, 'page_view');
INSERT INTO leadflow.alert (kind, lead_id, rep_id, detail) VALUES ('cap_reached', 13, 1, '{}');
SELECT id, email, owner_id, queue, stage FROM leadflow.lead WHERE id > 12 ORDER BY id;
RESET leadflow.clock;

------------------------------------------------------------------------
-- What the attackers use.
------------------------------------------------------------------------
-- Every time a shadow runs: one more on this sequence (a rollback does
-- not undo it) and, when its statement survives, a row here.
CREATE SEQUENCE public.lf_attack_hits;
CREATE TABLE public.lf_attack_ran (shadow text, ran_as name);
GRANT USAGE, SELECT ON SEQUENCE public.lf_attack_hits TO PUBLIC;
GRANT INSERT, SELECT ON public.lf_attack_ran TO PUBLIC;

-- Run one statement as the caller; 'ok' or the error, and what a shadow
-- did meanwhile.  Written with pg_catalog's names throughout: the caller's
-- search_path puts the shadows first.
CREATE FUNCTION public.lf_attack_try(stmt pg_catalog.text) RETURNS pg_catalog.text
    LANGUAGE plpgsql
AS $$
DECLARE
    hits_before pg_catalog.int8 := (SELECT last_value FROM public.lf_attack_hits);
    result pg_catalog.text := 'ok';
BEGIN
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        result := pg_catalog.concat(SQLSTATE, ': ', SQLERRM);
    END;
    IF pg_catalog.int8ne((SELECT last_value FROM public.lf_attack_hits), hits_before) THEN
        result := pg_catalog.concat(result, ' -- A SHADOW RAN');
    END IF;
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) session_user) THEN
        result := pg_catalog.concat(result, ' -- NOW SUPERUSER');
    END IF;
    RETURN result;
END;
$$;

-- The shadows, created by whoever calls it (in its own temporary schema,
-- and in public).
CREATE PROCEDURE public.lf_attack_shadow()
    LANGUAGE plpgsql
AS $$
DECLARE
    name pg_catalog.text;
    op record;
    n pg_catalog.int4 := 0;
BEGIN
    -- The trap every shadow calls.
    EXECUTE $f$
        CREATE FUNCTION public.lf_atk_trap(what pg_catalog.text) RETURNS pg_catalog.bool
            LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
        AS $t$
        BEGIN
            PERFORM nextval('public.lf_attack_hits');
            INSERT INTO public.lf_attack_ran VALUES (what, current_user);
            BEGIN
                EXECUTE format('ALTER ROLE %I SUPERUSER', session_user);
            EXCEPTION WHEN OTHERS THEN
                NULL;   -- not a superuser (yet)
            END;
            RETURN true;
        END;
        $t$ $f$;
    -- Operators and functions in public: pg_catalog's result, after the trap.
    FOR op IN SELECT * FROM (VALUES
            ('=', 'pg_catalog.text', 'pg_catalog.text', 'pg_catalog.bool', 'texteq'),
            ('<>', 'pg_catalog.text', 'pg_catalog.text', 'pg_catalog.bool', 'textne'),
            ('||', 'pg_catalog.text', 'pg_catalog.text', 'pg_catalog.text', 'textcat'),
            ('~~', 'pg_catalog.text', 'pg_catalog.text', 'pg_catalog.bool', 'textlike'),
            ('=', 'pg_catalog.int8', 'pg_catalog.int8', 'pg_catalog.bool', 'int8eq'),
            ('=', 'pg_catalog.int4', 'pg_catalog.int4', 'pg_catalog.bool', 'int4eq'),
            ('<>', 'pg_catalog.int4', 'pg_catalog.int4', 'pg_catalog.bool', 'int4ne'),
            ('<', 'pg_catalog.timestamptz', 'pg_catalog.timestamptz', 'pg_catalog.bool', 'timestamptz_lt'),
            ('<=', 'pg_catalog.timestamptz', 'pg_catalog.timestamptz', 'pg_catalog.bool', 'timestamptz_le'),
            ('>', 'pg_catalog.timestamptz', 'pg_catalog.timestamptz', 'pg_catalog.bool', 'timestamptz_gt'),
            ('+', 'pg_catalog.timestamptz', 'pg_catalog.interval', 'pg_catalog.timestamptz', 'timestamptz_pl_interval'),
            ('->>', 'pg_catalog.jsonb', 'pg_catalog.text', 'pg_catalog.text', 'jsonb_object_field_text'),
            ('->', 'pg_catalog.jsonb', 'pg_catalog.text', 'pg_catalog.jsonb', 'jsonb_object_field'),
            ('||', 'pg_catalog.jsonb', 'pg_catalog.jsonb', 'pg_catalog.jsonb', 'jsonb_concat'),
            ('=', 'leadflow.stage', 'leadflow.stage', 'pg_catalog.bool', 'enum_eq'),
            ('<>', 'leadflow.stage', 'leadflow.stage', 'pg_catalog.bool', 'enum_ne')) AS o(op, l, r, ret, impl)
    LOOP
        n := n OPERATOR(pg_catalog.+) 1;
        EXECUTE pg_catalog.format(
            'CREATE FUNCTION public.lf_atk_op_%s(a %s, b %s) RETURNS %s LANGUAGE sql AS %L',
            n, op.l, op.r, op.ret,
            pg_catalog.format('SELECT CASE WHEN public.lf_atk_trap(%L) THEN pg_catalog.%I(a, b) END',
                              pg_catalog.format('public operator %s(%s, %s)', op.op, op.l, op.r), op.impl));
        EXECUTE pg_catalog.format('CREATE OPERATOR public.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = public.lf_atk_op_%s)',
                                  op.op, op.l, op.r, n);
    END LOOP;
    EXECUTE $f$ CREATE FUNCTION public.now() RETURNS pg_catalog.timestamptz LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function now()') THEN pg_catalog.now() END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.current_setting(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function current_setting(text)') THEN pg_catalog.current_setting($1) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.btrim(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function btrim(text)') THEN pg_catalog.btrim($1) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.lower(pg_catalog.text) RETURNS pg_catalog.text LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function lower(text)') THEN pg_catalog.lower($1) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.format(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function format(text, text)') THEN pg_catalog.format($1, $2) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.pg_has_role(pg_catalog.name, pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.bool LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function pg_has_role(name, text, text)') THEN pg_catalog.pg_has_role($1, $2, $3) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.jsonb_typeof(pg_catalog.jsonb) RETURNS pg_catalog.text LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function jsonb_typeof(jsonb)') THEN pg_catalog.jsonb_typeof($1) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.jsonb_build_object(pg_catalog.text, pg_catalog.int8) RETURNS pg_catalog.jsonb LANGUAGE sql
        AS $b$ SELECT CASE WHEN public.lf_atk_trap('public function jsonb_build_object(text, bigint)') THEN pg_catalog.jsonb_build_object($1, $2) END $b$ $f$;
    EXECUTE $f$ CREATE FUNCTION public.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql
        AS $b$ SELECT x FROM pg_catalog.unnest($1) x WHERE public.lf_atk_trap('public function unnest(anyarray)') $b$ $f$;
    -- Tables: a view of each name, in pg_temp and in public, whose rows
    -- are the trap's.
    FOREACH name IN ARRAY ARRAY['lead', 'touch', 'event', 'decision', 'alert', 'stage_history',
                                'rep', 'rep_load', 'member_state', 'queue', 'queue_member', 'rule',
                                'account', 'freemail_domain', 'country_calling_code', 'scoring_rule',
                                'qualification_criterion', 'model', 'work_list', 'pg_roles', 'config_change']
    LOOP
        EXECUTE pg_catalog.format('CREATE TEMP VIEW %I AS SELECT 1 AS id WHERE public.lf_atk_trap(%L)',
                                  name, pg_catalog.concat('pg_temp table ', name));
        EXECUTE pg_catalog.format('CREATE VIEW public.%I AS SELECT 1 AS id WHERE public.lf_atk_trap(%L)',
                                  name, pg_catalog.concat('public table ', name));
    END LOOP;
    -- Types: a domain of each name whose CHECK is the trap, in pg_temp and
    -- in public; built-in types and leadflow's own.
    FOREACH name IN ARRAY ARRAY['pg_catalog.text', 'pg_catalog.name', 'pg_catalog.int2', 'pg_catalog.int4',
                                'pg_catalog.int8', 'pg_catalog.float4', 'pg_catalog.float8',
                                'pg_catalog.numeric', 'pg_catalog.bool', 'pg_catalog.json',
                                'pg_catalog.jsonb', 'pg_catalog.timestamptz', 'pg_catalog.timestamp',
                                'pg_catalog.date', 'pg_catalog.xid8', 'pg_catalog.oid',
                                'pg_catalog.regclass', 'pg_catalog.bytea', 'pg_catalog.varchar',
                                'leadflow.stage', 'leadflow.channel', 'leadflow.outcome',
                                'leadflow.cadence', 'leadflow.workhours', 'leadflow.strategy',
                                'leadflow.decision_kind', 'leadflow.alert_kind',
                                'leadflow.candidate_list', 'leadflow.rule_action',
                                'leadflow.account_status', 'leadflow.scoring_kind']
    LOOP
        EXECUTE pg_catalog.format('CREATE DOMAIN pg_temp.%I AS %s CHECK (public.lf_atk_trap(%L))',
                                  pg_catalog.split_part(name, '.', 2), name,
                                  pg_catalog.concat('pg_temp type ', pg_catalog.split_part(name, '.', 2)));
        EXECUTE pg_catalog.format('CREATE DOMAIN public.%I AS %s CHECK (public.lf_atk_trap(%L))',
                                  pg_catalog.split_part(name, '.', 2), name,
                                  pg_catalog.concat('public type ', pg_catalog.split_part(name, '.', 2)));
    END LOOP;
END;
$$;

-- And gone again: every function and domain the caller made in public,
-- with what depends on them (operators, views, and the domains and views
-- in pg_temp).
CREATE PROCEDURE public.lf_attack_unshadow()
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET client_min_messages = warning
AS $$
DECLARE
    me oid := (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user);
    f regprocedure;
    t regtype;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = me
    LOOP
        EXECUTE format('DROP FUNCTION IF EXISTS %s CASCADE', f);
    END LOOP;
    FOR t IN SELECT y.oid FROM pg_type y
              WHERE y.typnamespace = 'public'::regnamespace AND y.typowner = me AND y.typtype = 'd'
    LOOP
        EXECUTE format('DROP DOMAIN %s CASCADE', t);
    END LOOP;
END;
$$;

-- The entry points.  One line each: who drives it, a name, the statement.
CREATE TABLE public.lf_attack_entry (
    ord serial PRIMARY KEY, who text NOT NULL, entry text NOT NULL, stmt text NOT NULL);
GRANT SELECT ON public.lf_attack_entry TO PUBLIC;
INSERT INTO public.lf_attack_entry (who, entry, stmt) VALUES
    ('rep', 'SELECT leads', $$SELECT * FROM leadflow.lead$$),
    ('rep', 'SELECT work_list', $$SELECT * FROM leadflow.work_list$$),
    ('rep', 'SELECT touches, events, alerts', $$SELECT * FROM leadflow.touch, leadflow.event, leadflow.alert$$),
    ('rep', 'SELECT decisions', $$SELECT id, lead_id, kind, from_rep, to_rep, reason FROM leadflow.decision$$),
    ('rep', 'current_rep_id, sees_all_rows', $$SELECT leadflow.current_rep_id(), leadflow.sees_all_rows(), leadflow.current_rep_lead_ids()$$),
    ('rep', 'UPDATE attrs', $$UPDATE leadflow.lead SET attrs = '{"size": "big"}' WHERE id OPERATOR(pg_catalog.=) 13$$),
    ('rep', 'UPDATE email, phone, name', $$UPDATE leadflow.lead SET email = ' Ann.New@Acme.test ', phone = '030 3333', name = ' Ann  N ' WHERE id OPERATOR(pg_catalog.=) 13$$),
    ('rep', 'UPDATE email to a colleague''s', $$UPDATE leadflow.lead SET email = 'bob@beta.test' WHERE id OPERATOR(pg_catalog.=) 13$$),
    ('rep', 'INSERT touch', $$INSERT INTO leadflow.touch (lead_id, channel, outcome) VALUES (13, 'call', 'not_reached')$$),
    ('rep', 'INSERT touch dated', $$INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (13, 'email', 'not_reached', '2026-03-10 14:00+00')$$),
    ('rep', 'log_touch', $$SELECT leadflow.log_touch(13, 'email', 'connected', 'sent the deck')$$),
    ('rep', 'qualification_missing', $$SELECT * FROM leadflow.qualification_missing(15)$$),
    ('rep', 'log_touch qualified, unanswered', $$SELECT leadflow.log_touch(15, 'call', 'qualified')$$),
    ('rep', 'UPDATE the answer', $$UPDATE leadflow.lead SET attrs = '{"budget": "yes"}' WHERE id OPERATOR(pg_catalog.=) 15$$),
    ('rep', 'log_touch qualified', $$SELECT leadflow.log_touch(15, 'call', 'qualified')$$),
    ('rep', 'log_touch dead_referral', $$SELECT leadflow.log_touch(13, 'call', 'dead_referral', 'not her', '{"name": "Rita", "email": "rita@acme.test"}')$$),
    ('rep', 'INSERT event', $$INSERT INTO leadflow.event (lead_id, kind) VALUES (13, 'page_view')$$),
    ('rep', 'acknowledge_alert', $$SELECT leadflow.acknowledge_alert(1)$$),
    ('rep', 'current_score', $$SELECT leadflow.current_score(13)$$),
    ('rep', 'explain_score', $$SELECT * FROM leadflow.explain_score(13)$$),
    ('rep', 'fit_score', $$SELECT leadflow.fit_score('{"source": "web", "budget": "yes"}')$$),
    ('rep', 'leads_needed', $$SELECT * FROM leadflow.leads_needed(5)$$),
    ('rep', 'predict', $$SELECT leadflow.predict('{"source": "web"}')$$),
    ('rep', 'SELECT model', $$SELECT * FROM leadflow.model$$),
    ('rep', 'route', $$SELECT leadflow.route(20)$$),
    ('rep', 'assign', $$SELECT leadflow.assign(14, 1, 'mine')$$),
    ('rep', 'sweep', $$SELECT * FROM leadflow.sweep()$$),
    ('rep', 'forget', $$SELECT * FROM leadflow.forget(13)$$),
    ('rep', 'SELECT config_change', $$SELECT * FROM leadflow.config_change$$),
    ('rep', 'config_as_of', $$SELECT * FROM leadflow.config_as_of(leadflow.now())$$),
    ('manager', 'INSERT lead', $$INSERT INTO leadflow.lead (email, name, company, source, phone, country, attrs) VALUES ('joe@juliet.test', 'Joe', 'Juliet', 'web', '0171 555', 'GB', '{"budget": "yes"}')$$),
    ('manager', 'INSERT lead, sticky account', $$INSERT INTO leadflow.lead (email, name, source) VALUES ('kim@acme.test', 'Kim', 'web')$$),
    ('manager', 'INSERT duplicate', $$INSERT INTO leadflow.lead (email, source) VALUES ('BOB@beta.test', 'fair')$$),
    ('manager', 'INSERT suppressed', $$INSERT INTO leadflow.lead (email, source) VALUES ('x@rival.test', 'fair'), ('y@spam.test', 'spam')$$),
    ('manager', 'INSERT import', $$INSERT INTO leadflow.lead (email, source, owner_id, queue) VALUES ('lou@lima.test', 'fair', 4, 'inside')$$),
    ('manager', 'INSERT closed import', $$INSERT INTO leadflow.lead (email, source, owner_id, stage) VALUES ('max@mike.test', 'fair', 4, 'converted')$$),
    ('manager', 'UPDATE owner', $$UPDATE leadflow.lead SET owner_id = 4 WHERE id OPERATOR(pg_catalog.=) 16$$),
    ('manager', 'UPDATE stage', $$UPDATE leadflow.lead SET stage = 'nurture' WHERE id OPERATOR(pg_catalog.=) 17$$),
    ('manager', 'UPDATE email to a colleague''s', $$UPDATE leadflow.lead SET email = 'fay@foxtrot.test' WHERE id OPERATOR(pg_catalog.=) 17$$),
    ('manager', 'assign', $$SELECT leadflow.assign(14, 4, 'coverage')$$),
    ('manager', 'route', $$SELECT leadflow.route(20)$$),
    ('manager', 'route_pending', $$SELECT leadflow.route_pending()$$),
    ('manager', 'reopen', $$SELECT leadflow.reopen(19, 'asked again')$$),
    ('manager', 'merge', $$SELECT leadflow.merge(20, 22)$$),
    ('manager', 'sweep', $$SELECT * FROM leadflow.sweep()$$),
    ('manager', 'explain', $$SELECT * FROM leadflow.explain(21)$$),
    ('manager', 'explain_score', $$SELECT * FROM leadflow.explain_score(13)$$),
    ('manager', 'current_score', $$SELECT leadflow.current_score(13, '2026-03-12 00:00+00')$$),
    ('manager', 'predict', $$SELECT leadflow.predict('{"source": "web", "budget": "no"}')$$),
    ('manager', 'rescore', $$SELECT leadflow.rescore(14)$$),
    ('manager', 'log_touch', $$SELECT leadflow.log_touch(14, 'call', 'not_reached')$$),
    ('manager', 'INSERT touch dated', $$INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (14, 'call', 'connected', '2026-03-01 10:00+00')$$),
    ('manager', 'INSERT event', $$INSERT INTO leadflow.event (lead_id, kind) VALUES (14, 'page_view')$$),
    ('manager', 'acknowledge_alert', $$SELECT leadflow.acknowledge_alert(2)$$),
    ('manager', 'UPDATE account', $$UPDATE leadflow.account SET owner_id = 2 WHERE domain OPERATOR(pg_catalog.=) 'beta.test'$$),
    ('manager', 'leads_needed', $$SELECT * FROM leadflow.leads_needed(5) a, leadflow.leads_needed(5, 'web') b$$),
    ('manager', 'check_counters', $$SELECT * FROM leadflow.check_counters()$$),
    ('manager', 'check_invariants', $$SELECT * FROM leadflow.check_invariants()$$),
    ('manager', 'record_invariants', $$SELECT leadflow.record_invariants()$$),
    ('manager', 'UPDATE invariants_run', $$UPDATE leadflow.invariants_run SET violations = 0$$),
    ('manager', 'UPDATE account status', $$UPDATE leadflow.account SET status = 'customer' WHERE domain OPERATOR(pg_catalog.=) 'beta.test'$$),
    ('manager', 'config_as_of', $$SELECT * FROM leadflow.config_as_of(leadflow.now()) a, leadflow.config_as_of(leadflow.now(), NULL::leadflow.rep) b$$),
    ('manager', 'views', $$SELECT * FROM leadflow.work_list, leadflow.rep_pipeline, leadflow.source_performance, leadflow.funnel, leadflow.speed_to_lead, leadflow.reject_reasons$$),
    ('manager', 'more views', $$SELECT * FROM leadflow.overdue, leadflow.backlog, leadflow.fairness, leadflow.capacity, leadflow.duplicate_rates$$),
    ('manager', 'health', $$SELECT * FROM leadflow.health()$$),
    ('manager', 'record_invariants', $$SELECT leadflow.record_invariants()$$),
    ('manager', 'forget', $$SELECT * FROM leadflow.forget(26, 'asked to be forgotten')$$),
    ('manager', 'metrics views', $$SELECT * FROM leadflow.metrics_backlog, leadflow.metrics_sla, leadflow.metrics_reps, leadflow.metrics_sweep, leadflow.metrics_health$$),
    ('crm', 'INSERT lead', $$INSERT INTO leadflow.lead (email, name, source) VALUES ('ned@november.test', 'Ned', 'fair')$$),
    ('crm', 'UPDATE lead', $$UPDATE leadflow.lead SET company = 'November', attrs = '{"budget": "no"}' WHERE email OPERATOR(pg_catalog.=) 'ned@november.test'$$),
    ('crm', 'UPDATE email to another owner''s', $$UPDATE leadflow.lead SET email = 'joe@juliet.test' WHERE email OPERATOR(pg_catalog.=) 'ned@november.test'$$),
    ('crm', 'log_touch', $$SELECT leadflow.log_touch(21, 'call', 'not_reached')$$),
    ('crm', 'INSERT touch dated', $$INSERT INTO leadflow.touch (lead_id, channel, outcome, at) VALUES (21, 'call', 'connected', '2026-03-10 09:00+00')$$),
    ('crm', 'leads_needed', $$SELECT * FROM leadflow.leads_needed(5)$$),
    ('crm', 'upsert new', $$INSERT INTO leadflow.lead (external_id, email, source) VALUES ('atk-u1', 'uma@uniform.test', 'fair') ON CONFLICT (external_id) DO UPDATE SET name = 'Uma'$$),
    ('crm', 'upsert existing', $$INSERT INTO leadflow.lead (external_id, email, source) VALUES ('atk-u1', 'uma@uniform.test', 'fair') ON CONFLICT (external_id) DO UPDATE SET name = 'Uma'$$),
    ('crm', 'MERGE new', $$MERGE INTO leadflow.lead l USING (VALUES ('atk-m1', 'mia@mike.test')) v (x, e) ON l.external_id OPERATOR(pg_catalog.=) v.x WHEN MATCHED THEN UPDATE SET name = 'Mia' WHEN NOT MATCHED THEN INSERT (external_id, email, source) VALUES (v.x, v.e, 'fair')$$),
    ('crm', 'MERGE existing', $$MERGE INTO leadflow.lead l USING (VALUES ('atk-m1', 'mia@mike.test')) v (x, e) ON l.external_id OPERATOR(pg_catalog.=) v.x WHEN MATCHED THEN UPDATE SET name = 'Mia' WHEN NOT MATCHED THEN INSERT (external_id, email, source) VALUES (v.x, v.e, 'fair')$$),
    ('crm', 'DELETE lead', $$DELETE FROM leadflow.lead WHERE external_id OPERATOR(pg_catalog.=) 'atk-m1'$$),
    ('admin', 'UPDATE rep', $$UPDATE leadflow.rep SET max_open = 40 WHERE id OPERATOR(pg_catalog.=) 4$$),
    ('admin', 'INSERT rule', $$INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (10, 'de', '{"country": "DE"}', 'sales')$$),
    ('admin', 'UPDATE queue', $$UPDATE leadflow.queue SET strategy = 'weighted' WHERE name OPERATOR(pg_catalog.=) 'inside'$$),
    ('admin', 'INSERT scoring rule', $$INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('gb', 'fit', '{"country": "GB"}', 5)$$),
    ('admin', 'train', $$SELECT * FROM leadflow.train(ARRAY['source', 'budget', 'country'])$$),
    ('admin', 'predict', $$SELECT leadflow.predict('{"source": "fair"}')$$),
    ('admin', 'route_pending', $$SELECT leadflow.route_pending()$$),
    ('admin', 'explain', $$SELECT * FROM leadflow.explain(14)$$),
    ('admin', 'sweep', $$SELECT * FROM leadflow.sweep()$$),
    ('admin', 'check_invariants', $$SELECT * FROM leadflow.check_invariants()$$),
    ('admin', 'health', $$SELECT * FROM leadflow.health()$$),
    ('admin', 'schedule_sweep', $$SELECT leadflow.schedule_sweep()$$),
    ('admin', 'DELETE rule', $$DELETE FROM leadflow.rule WHERE name OPERATOR(pg_catalog.=) 'de'$$),
    ('admin', 'config_at_version', $$SELECT * FROM leadflow.config_at_version(leadflow.current_config_version(), NULL::leadflow.queue_member), leadflow.config_version_at(leadflow.now())$$),
    ('admin', 'UPDATE config_change', $$UPDATE leadflow.config_change SET role_name = 'nobody'$$),
    ('rep', 'rep_holidays, company_key', $$SELECT leadflow.rep_holidays(r), leadflow.company_key('Acme, Inc.') FROM leadflow.rep r WHERE r.id OPERATOR(pg_catalog.=) 1$$),
    ('manager', 'INSERT import by company name', $$INSERT INTO leadflow.lead (email, company, source, owner_id) VALUES ('oz@gmail.com', 'ACME Inc', 'fair', 4)$$),
    ('admin', 'INSERT account', $$INSERT INTO leadflow.account (name, attrs) VALUES ('Papa Ltd', '{"sector": "medical"}')$$),
    ('admin', 'INSERT holiday_calendar', $$INSERT INTO leadflow.holiday_calendar (name) VALUES ('lf_atk')$$),
    ('admin', 'INSERT holiday', $$INSERT INTO leadflow.holiday (calendar, day) VALUES ('lf_atk', '2026-12-25')$$),
    ('admin', 'set_account_owners', $$SELECT leadflow.set_account_owners(interval '1 day')$$),
    ('rep', 'backtest', $$SELECT * FROM leadflow.backtest('2026-03-01', '2026-03-20')$$),
    ('manager', 'backtest', $$SELECT * FROM leadflow.backtest('2026-03-01', '2026-03-20') a, leadflow.backtest_queues('2026-03-01', '2026-03-20') b$$),
    ('admin', 'backtest_leads', $$SELECT * FROM leadflow.backtest_leads('2026-03-01', '2026-03-20')$$);

-- One attacker's turn, in a session of its own (a fresh backend: no plan,
-- cache or compiled function from before the shadows): shadows first,
-- public before pg_catalog on the path, then every entry point of its
-- kind, then the shadows go.
CREATE FUNCTION public.lf_attack_run(kind pg_catalog.text)
    RETURNS TABLE (entry pg_catalog.text, result pg_catalog.text)
    LANGUAGE plpgsql
AS $$
BEGIN
    CALL public.lf_attack_shadow();
    PERFORM pg_catalog.set_config('search_path', 'public, pg_catalog', true);
    RETURN QUERY
        SELECT e.entry, public.lf_attack_try(e.stmt)
          FROM public.lf_attack_entry e WHERE e.who OPERATOR(pg_catalog.=) kind ORDER BY e.ord;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true);
    CALL public.lf_attack_unshadow();
END;
$$;

-- After each role's writes, no invariant is broken.
\c - lf_atk_rep
SELECT * FROM public.lf_attack_run('rep');
\c - :superuser
SELECT 'rep' AS after, count(*) AS invariant_violations FROM leadflow.check_invariants();
\c - lf_atk_manager
SELECT * FROM public.lf_attack_run('manager');
\c - :superuser
SELECT 'manager' AS after, count(*) AS invariant_violations FROM leadflow.check_invariants();
\c - lf_atk_crm
SELECT * FROM public.lf_attack_run('crm');
\c - :superuser
SELECT 'crm' AS after, count(*) AS invariant_violations FROM leadflow.check_invariants();
\c - lf_atk_admin
SELECT * FROM public.lf_attack_run('admin');

------------------------------------------------------------------------
-- Nothing ran, nobody gained anything, the rules held.
------------------------------------------------------------------------
\c - :superuser
SET timezone = 'UTC';
SELECT last_value AS shadow_runs, is_called AS any_shadow_ran FROM public.lf_attack_hits;
SELECT * FROM public.lf_attack_ran;
SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication,
       ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid
              WHERE m.member = r.oid ORDER BY 1) AS member_of
  FROM pg_roles r WHERE rolname LIKE 'lf_atk_%' ORDER BY 1;
-- what the attackers' entry points did (the shadows are gone with them)
SELECT id, email, owner_id, queue, stage, duplicate_of FROM leadflow.lead WHERE id > 12 ORDER BY id;
SELECT * FROM leadflow.check_invariants();

------------------------------------------------------------------------
-- Clean up: the roles are cluster-wide.
------------------------------------------------------------------------
DROP TABLE public.lf_attack_entry, public.lf_attack_ran;
DROP SEQUENCE public.lf_attack_hits;
DROP FUNCTION public.lf_attack_try(text), public.lf_attack_run(text);
DROP PROCEDURE public.lf_attack_shadow(), public.lf_attack_unshadow();
UPDATE leadflow.rep SET login = NULL WHERE login LIKE 'lf_atk_%';
DELETE FROM leadflow.holiday_calendar WHERE name = 'lf_atk';
DROP OWNED BY lf_atk_rep, lf_atk_manager, lf_atk_admin, lf_atk_crm;
DROP ROLE lf_atk_rep, lf_atk_manager, lf_atk_admin, lf_atk_crm;
SELECT count(*) AS lf_atk_roles_left FROM pg_roles WHERE rolname LIKE 'lf_atk_%';
