/* leadflow--1.0.sql: install script for leadflow 1.0 */

\echo Use "CREATE EXTENSION leadflow" to load this file. \quit

-- Every object lives in schema leadflow (the extension is not relocatable).
-- Functions pin search_path so that nothing a caller puts first on theirs
-- can change what they call.

------------------------------------------------------------------------
-- Enums
------------------------------------------------------------------------

-- Open stages (new, working) count against the owner's pipeline cap.
CREATE TYPE leadflow.stage AS ENUM
    ('new', 'working', 'qualified', 'converted', 'nurture', 'rejected');

-- Order matters: the C code maps channel codes to these labels by position.
CREATE TYPE leadflow.channel AS ENUM
    ('call', 'email', 'sms', 'meeting', 'social');

CREATE TYPE leadflow.outcome AS ENUM
    ('not_reached', 'connected', 'qualified', 'nurture', 'dead',
     'dead_referral', 'dead_other_contact', 'unsubscribed');

------------------------------------------------------------------------
-- Clock
------------------------------------------------------------------------

-- leadflow.clock when set (superuser only), else the transaction start.
CREATE FUNCTION leadflow.now() RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_now_sql'
    LANGUAGE C STABLE PARALLEL SAFE;

------------------------------------------------------------------------
-- BEGIN cadence type (src/cadence.c)
------------------------------------------------------------------------
-- An ordered touch plan: "call@0, email@1h, call@1d".  Offsets count from
-- the assignment; days are calendar days (same wall-clock time), hours and
-- minutes are elapsed time.  Text and binary input enforce the same rules.
CREATE TYPE leadflow.cadence;

CREATE FUNCTION leadflow.cadence_in(cstring) RETURNS leadflow.cadence
    AS 'MODULE_PATHNAME', 'cadence_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_out(leadflow.cadence) RETURNS cstring
    AS 'MODULE_PATHNAME', 'cadence_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_recv(internal) RETURNS leadflow.cadence
    AS 'MODULE_PATHNAME', 'cadence_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_send(leadflow.cadence) RETURNS bytea
    AS 'MODULE_PATHNAME', 'cadence_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE leadflow.cadence (
    INPUT = leadflow.cadence_in,
    OUTPUT = leadflow.cadence_out,
    RECEIVE = leadflow.cadence_recv,
    SEND = leadflow.cadence_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended,
    ALIGNMENT = double
);

COMMENT ON TYPE leadflow.cadence IS
    'Ordered touch plan, e.g. ''call@0, email@1h, call@1d'': channel@offset steps with strictly increasing offsets from the assignment (at most 100)';

-- Equality: the stored form is canonical, so equal plans are equal bytes.
CREATE FUNCTION leadflow.cadence_eq(leadflow.cadence, leadflow.cadence)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'cadence_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION leadflow.cadence_ne(leadflow.cadence, leadflow.cadence)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'cadence_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;

CREATE FUNCTION leadflow.cadence_hash(leadflow.cadence) RETURNS integer
    AS 'MODULE_PATHNAME', 'cadence_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION leadflow.cadence_hash_extended(leadflow.cadence, bigint)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'cadence_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR leadflow.= (
    LEFTARG = leadflow.cadence,
    RIGHTARG = leadflow.cadence,
    FUNCTION = leadflow.cadence_eq,
    COMMUTATOR = OPERATOR(leadflow.=),
    NEGATOR = OPERATOR(leadflow.<>),
    RESTRICT = eqsel,
    JOIN = eqjoinsel,
    HASHES
);

CREATE OPERATOR leadflow.<> (
    LEFTARG = leadflow.cadence,
    RIGHTARG = leadflow.cadence,
    FUNCTION = leadflow.cadence_ne,
    COMMUTATOR = OPERATOR(leadflow.<>),
    NEGATOR = OPERATOR(leadflow.=),
    RESTRICT = neqsel,
    JOIN = neqjoinsel
);

COMMENT ON OPERATOR leadflow.= (leadflow.cadence, leadflow.cadence) IS
    'same steps: same channels at the same offsets';
COMMENT ON OPERATOR leadflow.<> (leadflow.cadence, leadflow.cadence) IS
    'different steps';

-- Default hash class: GROUP BY, DISTINCT, UNION, hash joins and hash
-- partitioning.  There is no ordering, so no btree class.
CREATE OPERATOR CLASS leadflow.cadence_hash_ops
    DEFAULT FOR TYPE leadflow.cadence USING hash AS
        OPERATOR 1 leadflow.= (leadflow.cadence, leadflow.cadence),
        FUNCTION 1 leadflow.cadence_hash(leadflow.cadence),
        FUNCTION 2 leadflow.cadence_hash_extended(leadflow.cadence, bigint);

CREATE FUNCTION leadflow.cadence_named(name text) RETURNS leadflow.cadence
    AS 'MODULE_PATHNAME', 'cadence_named'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION leadflow.cadence_named(text) IS
    'Built-in plan by name: ''10x30'' (30 days, 10 touches) or ''30x90'' (90 days, 30 touches)';

CREATE FUNCTION leadflow.cadence_steps(c leadflow.cadence,
    OUT step integer, OUT channel leadflow.channel, OUT "offset" interval)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'cadence_steps'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;

COMMENT ON FUNCTION leadflow.cadence_steps(leadflow.cadence) IS
    'The steps of a cadence, numbered from 0, with each offset as an interval of days and clock time';

CREATE FUNCTION leadflow.cadence_length(c leadflow.cadence) RETURNS integer
    AS 'MODULE_PATHNAME', 'cadence_length'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION leadflow.cadence_length(leadflow.cadence) IS
    'Number of steps in a cadence';

-- END cadence type

------------------------------------------------------------------------
-- BEGIN workhours type and business time (src/workhours.c, src/business_time.c)
------------------------------------------------------------------------

-- A weekly schedule in a named time zone:
--   'mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York'
CREATE TYPE leadflow.workhours;

CREATE FUNCTION leadflow.workhours_in(cstring) RETURNS leadflow.workhours
    AS 'MODULE_PATHNAME', 'workhours_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.workhours_out(leadflow.workhours) RETURNS cstring
    AS 'MODULE_PATHNAME', 'workhours_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.workhours_recv(internal) RETURNS leadflow.workhours
    AS 'MODULE_PATHNAME', 'workhours_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION leadflow.workhours_send(leadflow.workhours) RETURNS bytea
    AS 'MODULE_PATHNAME', 'workhours_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Stored plain: values are small (under 1 kB) and read on hot paths.
CREATE TYPE leadflow.workhours (
    INPUT = leadflow.workhours_in,
    OUTPUT = leadflow.workhours_out,
    RECEIVE = leadflow.workhours_recv,
    SEND = leadflow.workhours_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = plain
);

COMMENT ON TYPE leadflow.workhours IS
'Weekly working hours in a named time zone, e.g. ''mon-fri 09:00-12:30,13:30-17:30; sat 10:00-13:00 America/New_York''. Days are mon..sun, as lists or ranges (ranges may wrap); blocks are HH:MM-HH:MM (24:00 may end one); the zone must be a tz database name (see pg_timezone_names). Stored and printed in canonical form: Monday first, days with equal blocks grouped, adjacent blocks merged.';

CREATE FUNCTION leadflow.workhours_eq(leadflow.workhours, leadflow.workhours) RETURNS boolean
    AS 'MODULE_PATHNAME', 'workhours_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION leadflow.workhours_ne(leadflow.workhours, leadflow.workhours) RETURNS boolean
    AS 'MODULE_PATHNAME', 'workhours_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
CREATE FUNCTION leadflow.workhours_hash(leadflow.workhours) RETURNS integer
    AS 'MODULE_PATHNAME', 'workhours_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR leadflow.= (
    LEFTARG = leadflow.workhours, RIGHTARG = leadflow.workhours,
    FUNCTION = leadflow.workhours_eq,
    COMMUTATOR = OPERATOR(leadflow.=), NEGATOR = OPERATOR(leadflow.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES
);
CREATE OPERATOR leadflow.<> (
    LEFTARG = leadflow.workhours, RIGHTARG = leadflow.workhours,
    FUNCTION = leadflow.workhours_ne,
    COMMUTATOR = OPERATOR(leadflow.<>), NEGATOR = OPERATOR(leadflow.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
COMMENT ON OPERATOR leadflow.= (leadflow.workhours, leadflow.workhours) IS
'Same schedule (values are canonical, so equal text means equal schedules)';
COMMENT ON OPERATOR leadflow.<> (leadflow.workhours, leadflow.workhours) IS
'Different schedules';

-- Hashing gives DISTINCT, GROUP BY, UNION and hash joins; schedules have no
-- meaningful order, so there is no btree class.
CREATE OPERATOR CLASS leadflow.workhours_hash_ops
    DEFAULT FOR TYPE leadflow.workhours USING hash AS
        OPERATOR 1 leadflow.= ,
        FUNCTION 1 leadflow.workhours_hash(leadflow.workhours);

CREATE FUNCTION leadflow.workhours_zone(h leadflow.workhours) RETURNS text
    AS 'MODULE_PATHNAME', 'workhours_zone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.workhours_zone(leadflow.workhours) IS
'The schedule''s time zone (canonical tz database spelling)';

CREATE FUNCTION leadflow.workhours_weekly(h leadflow.workhours) RETURNS interval
    AS 'MODULE_PATHNAME', 'workhours_weekly'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.workhours_weekly(leadflow.workhours) IS
'Working time of one week by the local clock, as hours (a week with a DST change can be an hour shorter or longer)';

-- Business time.  IMMUTABLE: the result depends only on the arguments and
-- the server's tz database (like timezone(text, timestamptz)).  Not STRICT
-- because a NULL holiday array means "no holidays"; a NULL timestamp,
-- interval, schedule or cadence gives NULL.

CREATE FUNCTION leadflow.add_business_time(ts timestamptz, d interval, h leadflow.workhours,
                                           holidays date[] DEFAULT '{}')
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_add_business_time'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.add_business_time(timestamptz, interval, leadflow.workhours, date[]) IS
'ts plus d of business time: start at next_open(ts); each day of d moves to the next working day at the same working time into the day (clamped to that day''s length); then the time part of d is counted in working time, giving the earliest instant at which it has elapsed (Mon 09:00 + 8 hours with 09:00-17:00 = Mon 17:00). Holidays are local dates without working time; NULL holidays or elements are ignored. Months or negative parts are an error (22023).';

CREATE FUNCTION leadflow.business_time_between(a timestamptz, b timestamptz, h leadflow.workhours,
                                               holidays date[] DEFAULT '{}')
    RETURNS interval
    AS 'MODULE_PATHNAME', 'leadflow_business_time_between'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.business_time_between(timestamptz, timestamptz, leadflow.workhours, date[]) IS
'Working time in [a, b) as hours, minutes and seconds (no day part), real elapsed time across DST changes; negative when b < a. For a time-only t, business_time_between(a, add_business_time(a, t, h), h) = t.';

CREATE FUNCTION leadflow.next_open(ts timestamptz, h leadflow.workhours,
                                   holidays date[] DEFAULT '{}')
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_next_open'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.next_open(timestamptz, leadflow.workhours, date[]) IS
'ts itself when it is inside working time [block start, block end) on a day that is not a holiday, else the start of the next block';

CREATE FUNCTION leadflow.next_touch(c leadflow.cadence, step int, anchor timestamptz,
                                    h leadflow.workhours, holidays date[] DEFAULT '{}',
                                    prev timestamptz DEFAULT NULL)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'leadflow_next_touch'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.next_touch(leadflow.cadence, int, timestamptz, leadflow.workhours, date[], timestamptz) IS
'When step "step" (0-based) of cadence c falls due: anchor plus the step''s offset (days in the schedule''s local calendar, same wall-clock time), moved into working time with next_open. For steps of a day or more, when that instant is in the same part of the working day (morning, midday, afternoon: thirds of the day''s working time) as prev, it moves to the next part (afternoon -> next working day''s morning), so consecutive attempts rotate through the day. NULL after the last step or when c, step, anchor or h is NULL; a negative step is an error (22023).';
-- END workhours type and business time

------------------------------------------------------------------------
-- BEGIN matching (src/matching.c)
------------------------------------------------------------------------

-- A rule's match is a JSON object tested against a routing document.
-- Before the schema, because the rule tables' CHECK constraints use it.

CREATE FUNCTION leadflow.match_is_valid(match jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_match_is_valid'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.match_is_valid(jsonb) IS
    'True when a rule match is well formed: a JSON object in which "not" holds an object and every array is a non-empty list of strings, numbers, booleans or nulls.';

CREATE FUNCTION leadflow.check_match(match jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_check_match'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.check_match(jsonb) IS
    'True for a well-formed rule match, else error 22023 "invalid rule match" whose detail names the offending key; for CHECK constraints.';

CREATE FUNCTION leadflow.matches(doc jsonb, match jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_matches'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.matches(jsonb, jsonb) IS
    'Does the document (a JSON object) satisfy the match?  Every key of the match must hold: '
    '"k": scalar - the value at k equals it (strings exactly, numbers numerically, null only JSON null); '
    '"k": [a, b] - the value at k equals any of them; '
    'when the value at k is an array, any of its elements will do; '
    '"k": {...} - the value at k is an object satisfying the sub-match; '
    '"not": {...} - the sub-match does not hold. '
    'A missing key never holds; {} matches everything.  Error 22023 for an invalid match.';

-- Takes any row with the lead's columns (the table leadflow.lead is
-- created after this section), so it also works on views of leads.
CREATE FUNCTION leadflow.lead_matches(l record, match jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'leadflow_lead_matches'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.lead_matches(record, jsonb) IS
    'Does the lead satisfy the match, as routing sees it?  The document is the lead''s attrs with source, campaign, company, country and the email domain (lower-cased) as keys; a column that is not NULL wins over an attrs key of the same name.  Same semantics as leadflow.matches.';
-- END matching

------------------------------------------------------------------------
-- BEGIN schema
------------------------------------------------------------------------

-- Kinds that the contract lists as fixed sets are enums: a misspelt value
-- fails with 22P02 naming the type, which is clearer than a CHECK failure.
CREATE TYPE leadflow.strategy AS ENUM
    ('round_robin', 'weighted', 'load_balanced', 'performance');
CREATE TYPE leadflow.rule_action AS ENUM ('route', 'suppress');
CREATE TYPE leadflow.account_status AS ENUM ('prospect', 'customer', 'suppressed');
CREATE TYPE leadflow.scoring_kind AS ENUM ('fit', 'engagement');
CREATE TYPE leadflow.decision_kind AS ENUM
    ('assign', 'reassign_sla', 'handoff', 'escalate', 'manual', 'backlog',
     'suppress', 'duplicate', 'merge');
CREATE TYPE leadflow.alert_kind AS ENUM
    ('sla_breach', 'reassigned', 'escalated', 'backlog', 'cap_reached');

-- An SLA or a window is measured in business time: positive, and in days
-- and clock time only (a "month" of working time has no meaning).
CREATE FUNCTION leadflow.is_business_interval(i interval) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog
    AS $$ SELECT i > interval '0' AND date_part('month', i) = 0 AND date_part('year', i) = 0 $$;
COMMENT ON FUNCTION leadflow.is_business_interval(interval) IS
    'True when an interval can be used as business time: positive, with no months or years.';

------------------------------------------------------------------------
-- Configuration tables
------------------------------------------------------------------------

CREATE TABLE leadflow.rep (
    id              serial PRIMARY KEY,
    name            text NOT NULL UNIQUE
                    CONSTRAINT rep_name_not_blank CHECK (btrim(name) <> ''),
    login           text UNIQUE,            -- database role, for row-level security
    email           text,
    hours           leadflow.workhours NOT NULL
                    DEFAULT 'mon-fri 09:00-17:00 UTC',
    holidays        date[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,
    away_until      timestamptz,            -- out of office until then
    max_open        integer NOT NULL DEFAULT 150
                    CONSTRAINT rep_max_open_not_negative CHECK (max_open >= 0),
    max_new_per_day integer NOT NULL DEFAULT 7
                    CONSTRAINT rep_max_new_per_day_not_negative CHECK (max_new_per_day >= 0),
    skills          text[] NOT NULL DEFAULT '{}',
    manager_id      integer REFERENCES leadflow.rep (id) ON DELETE SET NULL,
    CONSTRAINT rep_not_own_manager CHECK (manager_id <> id)
);
COMMENT ON TABLE leadflow.rep IS
    'Sales reps: working hours, caps, skills and manager.';

-- Routing state per rep: what the caps are checked against.  Kept apart
-- from leadflow.rep so that routing's frequent counter updates never
-- rewrite (or lock out edits of) the configuration row.  Rows are created
-- by routing when a rep is first needed.
CREATE TABLE leadflow.rep_load (
    rep_id           integer PRIMARY KEY REFERENCES leadflow.rep (id) ON DELETE CASCADE,
    open_count       integer NOT NULL DEFAULT 0
                     CONSTRAINT rep_load_open_count_not_negative CHECK (open_count >= 0),
    new_day          date,                  -- the rep's local day new_count counts
    new_count        integer NOT NULL DEFAULT 0
                     CONSTRAINT rep_load_new_count_not_negative CHECK (new_count >= 0),
    last_assigned_at timestamptz,
    won_count        bigint NOT NULL DEFAULT 0,  -- closed as qualified or converted
    closed_count     bigint NOT NULL DEFAULT 0   -- closed (won, rejected or nurture)
);
COMMENT ON TABLE leadflow.rep_load IS
    'Per-rep counters (open leads, new leads in the rep''s local day) that pipeline caps are claimed against.';

CREATE TABLE leadflow.queue (
    name              text PRIMARY KEY
                      CONSTRAINT queue_name_not_blank CHECK (btrim(name) <> '')
                      CONSTRAINT queue_name_length CHECK (octet_length(name) < 64),
    strategy          leadflow.strategy NOT NULL DEFAULT 'round_robin',
    cadence           leadflow.cadence NOT NULL DEFAULT leadflow.cadence_named('10x30'),
    first_touch_sla   interval NOT NULL DEFAULT '1 hour'
                      CONSTRAINT queue_first_touch_sla_business
                      CHECK (leadflow.is_business_interval(first_touch_sla)),
    touch_sla         interval NOT NULL DEFAULT '1 day'
                      CONSTRAINT queue_touch_sla_business
                      CHECK (leadflow.is_business_interval(touch_sla)),
    max_reassignments integer NOT NULL DEFAULT 3
                      CONSTRAINT queue_max_reassignments_not_negative
                      CHECK (max_reassignments >= 0),
    escalate_to       text REFERENCES leadflow.queue (name)
                      ON UPDATE CASCADE ON DELETE SET NULL,
    sticky_account    boolean NOT NULL DEFAULT true,
    hold_for          interval             -- calendar time, not business time
                      CONSTRAINT queue_hold_for_positive
                      CHECK (hold_for > interval '0'),
    then_queue        text REFERENCES leadflow.queue (name)
                      ON UPDATE CASCADE ON DELETE SET NULL,
    require_available boolean NOT NULL DEFAULT false,
    CONSTRAINT queue_then_queue_needs_hold_for
        CHECK (then_queue IS NULL OR hold_for IS NOT NULL),
    CONSTRAINT queue_then_queue_not_itself CHECK (then_queue <> name),
    CONSTRAINT queue_escalate_to_not_itself CHECK (escalate_to <> name)
);
COMMENT ON TABLE leadflow.queue IS
    'Routing queues: strategy, cadence, SLAs, escalation, account stickiness and ownership window.';

CREATE TABLE leadflow.queue_member (
    queue  text NOT NULL REFERENCES leadflow.queue (name)
           ON UPDATE CASCADE ON DELETE CASCADE,
    rep_id integer NOT NULL REFERENCES leadflow.rep (id) ON DELETE CASCADE,
    weight integer NOT NULL DEFAULT 1
           CONSTRAINT queue_member_weight_positive CHECK (weight > 0),
    PRIMARY KEY (queue, rep_id)
);
CREATE INDEX ON leadflow.queue_member (rep_id);
COMMENT ON TABLE leadflow.queue_member IS 'Which reps take leads from which queue, and their weights.';

-- Rotation state of each queue member (round robin turns, smooth weighted
-- round robin current weights), written by routing only.
CREATE TABLE leadflow.member_state (
    queue            text NOT NULL REFERENCES leadflow.queue (name)
                     ON UPDATE CASCADE ON DELETE CASCADE,
    rep_id           integer NOT NULL REFERENCES leadflow.rep (id) ON DELETE CASCADE,
    last_assigned_at timestamptz,
    last_turn        bigint NOT NULL DEFAULT 0,   -- round robin: larger = more recent
    current_weight   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (queue, rep_id)
);
COMMENT ON TABLE leadflow.member_state IS
    'Routing rotation state per queue member: last assignment and smooth weighted round robin weight.';

CREATE TABLE leadflow.rule (
    id             serial PRIMARY KEY,
    priority       integer NOT NULL DEFAULT 100,  -- lower is tried first; ties by id
    name           text NOT NULL,
    match          jsonb NOT NULL DEFAULT '{}'
                   CONSTRAINT rule_match_valid CHECK (leadflow.check_match(match)),
    min_score      integer,
    max_score      integer,
    require_skills text[] NOT NULL DEFAULT '{}',
    action         leadflow.rule_action NOT NULL DEFAULT 'route',
    queue          text REFERENCES leadflow.queue (name) ON UPDATE CASCADE,
    active         boolean NOT NULL DEFAULT true,
    CONSTRAINT rule_score_bounds_ordered CHECK (min_score <= max_score),
    CONSTRAINT rule_route_needs_queue CHECK (action <> 'route' OR queue IS NOT NULL)
);
COMMENT ON TABLE leadflow.rule IS
    'Routing rules: the first active rule (by priority, then id) whose match fits the lead decides its queue.';

CREATE TABLE leadflow.account (
    id                    bigserial PRIMARY KEY,
    domain                text NOT NULL UNIQUE
                          CONSTRAINT account_domain_normalized
                          CHECK (domain = lower(btrim(domain)) AND domain <> ''),
    owner_id              integer REFERENCES leadflow.rep (id) ON DELETE SET NULL,
    owned_until           timestamptz,     -- NULL with an owner: open-ended ownership
    status                leadflow.account_status NOT NULL DEFAULT 'prospect',
    suppress_reason       text,
    pursue_other_contacts boolean NOT NULL DEFAULT false,  -- set by a dead_other_contact touch
    CONSTRAINT account_suppressed_has_reason
        CHECK (status <> 'suppressed' OR suppress_reason IS NOT NULL)
);
CREATE INDEX ON leadflow.account (owner_id);
COMMENT ON TABLE leadflow.account IS
    'Accounts keyed by email domain: owner (for sticky routing), status and suppression.';

-- Free-mail domains never make an account: gmail.com is not a customer.
-- Rows shipped with the extension are marked builtin and are not dumped.
CREATE TABLE leadflow.freemail_domain (
    domain  text PRIMARY KEY
            CONSTRAINT freemail_domain_normalized
            CHECK (domain = lower(btrim(domain)) AND domain <> ''),
    builtin boolean NOT NULL DEFAULT false
);
INSERT INTO leadflow.freemail_domain (domain, builtin)
SELECT d, true FROM unnest(ARRAY[
    'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr',
    'ymail.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr', 'outlook.com',
    'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com', 'mac.com',
    'proton.me', 'protonmail.com', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de',
    'mail.com', 'yandex.com', 'yandex.ru', 'mail.ru', 'zoho.com', 'qq.com',
    '163.com', '126.com', 'rediffmail.com', 'fastmail.com', 'hey.com',
    'tutanota.com', 'orange.fr', 'free.fr', 'laposte.net', 'libero.it',
    't-online.de', 'comcast.net', 'verizon.net', 'att.net', 'sbcglobal.net'
]) AS d;
COMMENT ON TABLE leadflow.freemail_domain IS
    'Email domains of free-mail providers; leads from them never create or join an account.';

-- Telephone calling codes, to write phone numbers with their country code.
-- Rows shipped with the extension are marked builtin and are not dumped.
CREATE TABLE leadflow.country_calling_code (
    country      text PRIMARY KEY
                 CONSTRAINT country_calling_code_iso CHECK (country ~ '^[A-Z]{2}$'),
    calling_code text NOT NULL
                 CONSTRAINT country_calling_code_digits CHECK (calling_code ~ '^[0-9]{1,4}$'),
    trunk_prefix text NOT NULL DEFAULT ''
                 CONSTRAINT country_calling_code_trunk CHECK (trunk_prefix ~ '^[0-9]{0,2}$'),
    builtin      boolean NOT NULL DEFAULT false
);
INSERT INTO leadflow.country_calling_code (country, calling_code, trunk_prefix, builtin)
SELECT c[1], c[2], c[3], true FROM (VALUES
    (ARRAY['US', '1', '1']), (ARRAY['CA', '1', '1']), (ARRAY['GB', '44', '0']),
    (ARRAY['IE', '353', '0']), (ARRAY['DE', '49', '0']), (ARRAY['AT', '43', '0']),
    (ARRAY['CH', '41', '0']), (ARRAY['FR', '33', '0']), (ARRAY['BE', '32', '0']),
    (ARRAY['NL', '31', '0']), (ARRAY['LU', '352', '']), (ARRAY['ES', '34', '']),
    (ARRAY['PT', '351', '']), (ARRAY['IT', '39', '']), (ARRAY['DK', '45', '']),
    (ARRAY['NO', '47', '']), (ARRAY['SE', '46', '0']), (ARRAY['FI', '358', '0']),
    (ARRAY['PL', '48', '']), (ARRAY['CZ', '420', '']), (ARRAY['GR', '30', '']),
    (ARRAY['TR', '90', '0']), (ARRAY['IL', '972', '0']), (ARRAY['AE', '971', '0']),
    (ARRAY['SA', '966', '0']), (ARRAY['ZA', '27', '0']), (ARRAY['NG', '234', '0']),
    (ARRAY['KE', '254', '0']), (ARRAY['EG', '20', '0']), (ARRAY['IN', '91', '0']),
    (ARRAY['PK', '92', '0']), (ARRAY['BD', '880', '0']), (ARRAY['CN', '86', '0']),
    (ARRAY['JP', '81', '0']), (ARRAY['KR', '82', '0']), (ARRAY['SG', '65', '']),
    (ARRAY['MY', '60', '0']), (ARRAY['ID', '62', '0']), (ARRAY['PH', '63', '0']),
    (ARRAY['TH', '66', '0']), (ARRAY['VN', '84', '0']), (ARRAY['AU', '61', '0']),
    (ARRAY['NZ', '64', '0']), (ARRAY['BR', '55', '0']), (ARRAY['MX', '52', '']),
    (ARRAY['AR', '54', '0']), (ARRAY['CL', '56', '']), (ARRAY['CO', '57', '']),
    (ARRAY['PE', '51', '0']), (ARRAY['RU', '7', '8']), (ARRAY['UA', '380', '0'])
) AS t(c);
COMMENT ON TABLE leadflow.country_calling_code IS
    'Telephone calling codes and trunk prefixes by ISO 3166 country code, for normalising phone numbers.';

CREATE TABLE leadflow.scoring_rule (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    kind       leadflow.scoring_kind NOT NULL,
    match      jsonb CONSTRAINT scoring_rule_match_valid
               CHECK (match IS NULL OR leadflow.check_match(match)),
    event_kind text,
    points     integer NOT NULL,           -- may be negative
    half_life  interval CONSTRAINT scoring_rule_half_life_positive
               CHECK (half_life > interval '0'),
    max_points integer CONSTRAINT scoring_rule_max_points_not_negative
               CHECK (max_points >= 0),
    active     boolean NOT NULL DEFAULT true,
    CONSTRAINT scoring_rule_kind_fields CHECK (
        (kind = 'fit' AND match IS NOT NULL AND event_kind IS NULL AND half_life IS NULL)
        OR (kind = 'engagement' AND event_kind IS NOT NULL AND match IS NULL))
);
COMMENT ON TABLE leadflow.scoring_rule IS
    'Points for fit (lead attributes) and engagement (events, decaying with a half-life).';

CREATE TABLE leadflow.qualification_criterion (
    name      text PRIMARY KEY,
    attribute text NOT NULL
              CONSTRAINT qualification_criterion_attribute_not_blank CHECK (btrim(attribute) <> ''),
    allowed   text[],                      -- closed-end answers; NULL = any non-empty answer
    required  boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE leadflow.qualification_criterion IS
    'The qualification matrix: the answers (in lead attrs) a lead needs before it can be qualified.';

------------------------------------------------------------------------
-- Data tables
------------------------------------------------------------------------

CREATE TABLE leadflow.lead (
    id               bigserial PRIMARY KEY,
    external_id      text UNIQUE,           -- the CRM's key
    created_at       timestamptz NOT NULL DEFAULT leadflow.now(),
    source           text,
    campaign         text,
    name             text,
    email            text,
    phone            text,
    company          text,
    country          text,
    account_id       bigint REFERENCES leadflow.account (id) ON DELETE SET NULL,
    attrs            jsonb NOT NULL DEFAULT '{}'
                     CONSTRAINT lead_attrs_is_object CHECK (jsonb_typeof(attrs) = 'object'),
    score            integer NOT NULL DEFAULT 0,
    predicted        float8 CONSTRAINT lead_predicted_probability
                     CHECK (predicted >= 0 AND predicted <= 1),
    stage            leadflow.stage NOT NULL DEFAULT 'new',
    stage_changed_at timestamptz,
    queue            text REFERENCES leadflow.queue (name) ON UPDATE CASCADE,
    owner_id         integer REFERENCES leadflow.rep (id),
    assigned_at      timestamptz,
    first_touch_at   timestamptz,
    last_touch_at    timestamptz,
    touches          integer NOT NULL DEFAULT 0
                     CONSTRAINT lead_touches_not_negative CHECK (touches >= 0),
    cadence          leadflow.cadence,      -- copied at assignment
    cadence_step     integer NOT NULL DEFAULT 0
                     CONSTRAINT lead_cadence_step_not_negative CHECK (cadence_step >= 0),
    next_touch_at    timestamptz,
    sla_due_at       timestamptz,
    reassignments    integer NOT NULL DEFAULT 0
                     CONSTRAINT lead_reassignments_not_negative CHECK (reassignments >= 0),
    value            numeric CONSTRAINT lead_value_not_negative CHECK (value >= 0),
    reject_reason    text,
    referred_by      bigint REFERENCES leadflow.lead (id) ON DELETE SET NULL,
    duplicate_of     bigint REFERENCES leadflow.lead (id) ON DELETE SET NULL,
    CONSTRAINT lead_not_duplicate_of_itself CHECK (duplicate_of <> id)
);
-- A rep's open pipeline, and the sweep's and the work list's look-ups.
CREATE INDEX lead_owner_open_idx ON leadflow.lead (owner_id, next_touch_at)
    WHERE stage IN ('new', 'working');
CREATE INDEX lead_sla_due_open_idx ON leadflow.lead (sla_due_at)
    WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL;
CREATE INDEX lead_backlog_idx ON leadflow.lead (queue, created_at)
    WHERE stage IN ('new', 'working') AND owner_id IS NULL;
CREATE INDEX lead_held_open_idx ON leadflow.lead (queue, assigned_at)
    WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL;
CREATE INDEX lead_account_idx ON leadflow.lead (account_id);
CREATE INDEX lead_email_idx ON leadflow.lead (email);
CREATE INDEX lead_phone_idx ON leadflow.lead (phone);
CREATE INDEX lead_duplicate_of_idx ON leadflow.lead (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX lead_created_at_idx ON leadflow.lead (created_at);
COMMENT ON TABLE leadflow.lead IS
    'Leads: contact data, score, stage, owner, cadence position and SLA clock.';

CREATE TABLE leadflow.touch (
    id       bigserial PRIMARY KEY,
    lead_id  bigint NOT NULL REFERENCES leadflow.lead (id) ON DELETE CASCADE,
    rep_id   integer REFERENCES leadflow.rep (id),
    at       timestamptz NOT NULL DEFAULT leadflow.now(),
    channel  leadflow.channel NOT NULL,
    outcome  leadflow.outcome NOT NULL,     -- every touch evaluates the lead
    note     text,
    referral jsonb CONSTRAINT touch_referral_is_object
             CHECK (referral IS NULL OR jsonb_typeof(referral) = 'object')
);
CREATE INDEX ON leadflow.touch (lead_id, at);
CREATE INDEX ON leadflow.touch (rep_id, at);
COMMENT ON TABLE leadflow.touch IS 'Every call, email, message or meeting with its outcome.';

CREATE TABLE leadflow.event (
    id      bigserial PRIMARY KEY,
    lead_id bigint NOT NULL REFERENCES leadflow.lead (id) ON DELETE CASCADE,
    kind    text NOT NULL CONSTRAINT event_kind_not_blank CHECK (btrim(kind) <> ''),
    at      timestamptz NOT NULL DEFAULT leadflow.now(),
    attrs   jsonb NOT NULL DEFAULT '{}'
            CONSTRAINT event_attrs_is_object CHECK (jsonb_typeof(attrs) = 'object')
);
CREATE INDEX ON leadflow.event (lead_id, at);
COMMENT ON TABLE leadflow.event IS 'Engagement signals (page views, email opens, form fills, ...) for scoring.';

-- The decision ledger is append-only and outlives the leads it speaks of,
-- so it has no foreign keys.
CREATE TABLE leadflow.decision (
    id         bigserial PRIMARY KEY,
    lead_id    bigint NOT NULL,
    at         timestamptz NOT NULL DEFAULT leadflow.now(),
    kind       leadflow.decision_kind NOT NULL,
    from_rep   integer,
    to_rep     integer,
    rule_id    integer,
    queue      text,
    strategy   leadflow.strategy,
    reason     text,                        -- e.g. account_owner, or a manual move's reason
    candidates jsonb,                       -- every member considered and why it was passed over
    txid       xid8 NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
)
-- A decision with a queue's worth of candidates is a few kB: keep it in
-- the row uncompressed rather than pay pglz on every routed lead.
WITH (toast_tuple_target = 8160);

-- Larger ones (queues of hundreds) are compressed: with lz4 where the
-- server has it (PostgreSQL 14+ built --with-lz4), several times cheaper
-- than pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE leadflow.decision ALTER COLUMN candidates SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    NULL;   -- no lz4 in this server: pglz it is
END;
$$;
CREATE INDEX ON leadflow.decision (lead_id, id);
CREATE INDEX ON leadflow.decision (at);
COMMENT ON TABLE leadflow.decision IS
    'Append-only ledger of every routing decision, with the candidates and why each was passed over.';

CREATE TABLE leadflow.alert (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT leadflow.now(),
    kind            leadflow.alert_kind NOT NULL,
    lead_id         bigint,
    rep_id          integer,                -- whom the alert is for
    detail          jsonb NOT NULL DEFAULT '{}',
    acknowledged_at timestamptz
);
CREATE INDEX alert_unacknowledged_idx ON leadflow.alert (at) WHERE acknowledged_at IS NULL;
COMMENT ON TABLE leadflow.alert IS
    'Alerts for managers and reps; each is also sent with NOTIFY leadflow_alert.';

CREATE TABLE leadflow.stage_history (
    id         bigserial PRIMARY KEY,
    lead_id    bigint NOT NULL REFERENCES leadflow.lead (id) ON DELETE CASCADE,
    from_stage leadflow.stage,
    to_stage   leadflow.stage NOT NULL,
    at         timestamptz NOT NULL DEFAULT leadflow.now(),
    by_role    text NOT NULL DEFAULT current_user
);
CREATE INDEX ON leadflow.stage_history (lead_id, at);
COMMENT ON TABLE leadflow.stage_history IS 'Every stage change of every lead.';

------------------------------------------------------------------------
-- The default queue always exists and catches leads no rule matches.
------------------------------------------------------------------------

INSERT INTO leadflow.queue (name) VALUES ('default');

-- Inserting "default" again configures the existing queue instead of
-- failing.  This is what lets pg_restore load a dump: CREATE EXTENSION has
-- already made the row that the dump's data brings back.
CREATE FUNCTION leadflow.queue_upsert_default() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
BEGIN
    IF NEW.name = 'default' AND EXISTS (SELECT FROM leadflow.queue WHERE name = 'default') THEN
        UPDATE leadflow.queue q
           SET strategy = NEW.strategy, cadence = NEW.cadence,
               first_touch_sla = NEW.first_touch_sla, touch_sla = NEW.touch_sla,
               max_reassignments = NEW.max_reassignments, escalate_to = NEW.escalate_to,
               sticky_account = NEW.sticky_account, hold_for = NEW.hold_for,
               then_queue = NEW.then_queue, require_available = NEW.require_available
         WHERE q.name = 'default';
        RETURN NULL;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER queue_upsert_default BEFORE INSERT ON leadflow.queue
    FOR EACH ROW EXECUTE FUNCTION leadflow.queue_upsert_default();

CREATE FUNCTION leadflow.queue_keep_default() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
BEGIN
    IF OLD.name = 'default' AND (TG_OP = 'DELETE' OR NEW.name <> 'default') THEN
        RAISE EXCEPTION 'the queue "default" cannot be removed or renamed'
            USING ERRCODE = 'check_violation',
                  DETAIL = 'It catches every lead that no routing rule matches.',
                  HINT = 'Change its strategy, members or cadence instead.';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER queue_keep_default BEFORE UPDATE OR DELETE ON leadflow.queue
    FOR EACH ROW EXECUTE FUNCTION leadflow.queue_keep_default();

------------------------------------------------------------------------
-- pg_dump keeps what users put in the tables (configuration and data).
------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('leadflow.rep', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.rep_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.rep_load', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.member_state', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.queue', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.queue_member', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.rule', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.account', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.account_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.freemail_domain', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('leadflow.country_calling_code', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('leadflow.scoring_rule', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.scoring_rule_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.qualification_criterion', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.touch', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.touch_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.event', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.event_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.decision', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.decision_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.alert', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.alert_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.stage_history', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.stage_history_id_seq', '');

------------------------------------------------------------------------
-- Roles and privileges
------------------------------------------------------------------------

-- Roles are cluster-wide: another database may have created them already.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['leadflow_admin', 'leadflow_manager', 'leadflow_rep'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END;
$$;

GRANT USAGE ON SCHEMA leadflow TO leadflow_admin, leadflow_manager, leadflow_rep;

-- Admins configure; they read the data but do not work leads.
GRANT SELECT, INSERT, UPDATE, DELETE ON
    leadflow.rep, leadflow.queue, leadflow.queue_member, leadflow.rule,
    leadflow.account, leadflow.freemail_domain, leadflow.scoring_rule,
    leadflow.qualification_criterion, leadflow.country_calling_code
    TO leadflow_admin;
GRANT SELECT ON
    leadflow.rep_load, leadflow.member_state, leadflow.lead, leadflow.touch, leadflow.event,
    leadflow.decision, leadflow.alert, leadflow.stage_history
    TO leadflow_admin;
GRANT USAGE ON SEQUENCE leadflow.rep_id_seq, leadflow.rule_id_seq,
    leadflow.account_id_seq, leadflow.scoring_rule_id_seq TO leadflow_admin;

-- Managers read everything and work any lead.
GRANT SELECT ON ALL TABLES IN SCHEMA leadflow TO leadflow_manager;
GRANT INSERT, UPDATE ON leadflow.lead, leadflow.touch, leadflow.event TO leadflow_manager;
GRANT UPDATE (acknowledged_at) ON leadflow.alert TO leadflow_manager;
GRANT UPDATE (owner_id, status, owned_until, suppress_reason) ON leadflow.account TO leadflow_manager;
GRANT USAGE ON SEQUENCE leadflow.lead_id_seq, leadflow.touch_id_seq,
    leadflow.event_id_seq TO leadflow_manager;

-- Reps work their own leads (row-level security narrows these grants).
GRANT SELECT ON leadflow.rep, leadflow.queue, leadflow.qualification_criterion,
    leadflow.lead, leadflow.touch, leadflow.event TO leadflow_rep;
GRANT INSERT ON leadflow.touch, leadflow.event TO leadflow_rep;
GRANT UPDATE (name, email, phone, company, country, attrs, value) ON leadflow.lead TO leadflow_rep;
GRANT SELECT, UPDATE (acknowledged_at) ON leadflow.alert TO leadflow_rep;
GRANT USAGE ON SEQUENCE leadflow.touch_id_seq, leadflow.event_id_seq TO leadflow_rep;
-- END schema

------------------------------------------------------------------------
-- BEGIN routing (src/routing*.c, caps.c, strategy.c, ledger.c, lead_*.c)
------------------------------------------------------------------------

-- Any change to the routing configuration makes every backend reload its
-- cached copy (see src/config_cache.c).
CREATE FUNCTION leadflow.config_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_config_changed'
    LANGUAGE C;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.rep FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.queue FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.queue_member FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.rule FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.freemail_domain FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.country_calling_code FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();

-- Every rep has a counter row from the start (routing also creates one
-- if it is missing).  Skipped while a dump is restored: the dump has them.
CREATE FUNCTION leadflow.rep_counters_create() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
BEGIN
    IF current_setting('check_function_bodies')::boolean THEN
        INSERT INTO leadflow.rep_load (rep_id)
        SELECT id FROM new_reps
        ON CONFLICT (rep_id) DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER rep_counters_create AFTER INSERT ON leadflow.rep
    REFERENCING NEW TABLE AS new_reps
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.rep_counters_create();

-- The lead triggers run as the extension's owner (SECURITY DEFINER): the
-- ledger, the counters and the rotation state must be writable only
-- through routing, never directly by the roles that insert leads.
CREATE FUNCTION leadflow.lead_before_insert() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_before_insert'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
CREATE TRIGGER lead_route BEFORE INSERT ON leadflow.lead
    FOR EACH ROW EXECUTE FUNCTION leadflow.lead_before_insert();

CREATE FUNCTION leadflow.lead_before_update() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_before_update'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
CREATE TRIGGER lead_follow BEFORE UPDATE ON leadflow.lead
    FOR EACH ROW EXECUTE FUNCTION leadflow.lead_before_update();

-- Routing counts in memory while a statement runs and writes each rep's
-- counters once when it ends (see src/caps.c).
CREATE FUNCTION leadflow.flush_routing_state() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_flush_routing_state'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
CREATE TRIGGER lead_flush AFTER INSERT OR UPDATE ON leadflow.lead
    FOR EACH STATEMENT EXECUTE FUNCTION leadflow.flush_routing_state();

-- SECURITY DEFINER for the same reason as the triggers; EXECUTE is
-- granted to managers only.
CREATE FUNCTION leadflow.route(lead_id bigint) RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_route'
    LANGUAGE C STRICT SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
COMMENT ON FUNCTION leadflow.route(bigint) IS
    'Route a lead that has no owner; returns the owner, or NULL when it waits in the backlog.';

CREATE FUNCTION leadflow.route_pending(max integer DEFAULT 1000) RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_route_pending'
    LANGUAGE C STRICT SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
COMMENT ON FUNCTION leadflow.route_pending(integer) IS
    'Route up to max open leads without an owner (backlog and unrouted), oldest first; returns how many got an owner.';

CREATE FUNCTION leadflow.explain(lead_id bigint)
    RETURNS TABLE (rep_id integer, rep text, eligible boolean, reason text,
                   open_count integer, max_open integer, new_today integer,
                   max_new_per_day integer, last_assigned_at timestamptz,
                   weight integer, chosen boolean)
    AS 'MODULE_PATHNAME', 'leadflow_explain'
    LANGUAGE C STRICT STABLE
    SET search_path = pg_catalog, leadflow;
COMMENT ON FUNCTION leadflow.explain(bigint) IS
    'What routing would do with the lead now: one row per candidate, with why each is passed over.';

CREATE FUNCTION leadflow.assign(lead_id bigint, rep_id integer, reason text) RETURNS void
    AS 'MODULE_PATHNAME', 'leadflow_assign'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
COMMENT ON FUNCTION leadflow.assign(bigint, integer, text) IS
    'Move a lead to a rep by hand (cap-checked; a manager with leadflow.override_caps may exceed caps).';

-- Counters against the leads they count: no rows means they agree.
CREATE FUNCTION leadflow.check_counters()
    RETURNS TABLE (rep_id integer, rep text, counted_open integer, actual_open integer)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow
AS $$
    SELECT r.id, r.name, coalesce(l.open_count, 0), coalesce(a.n, 0)::integer
      FROM leadflow.rep r
      LEFT JOIN leadflow.rep_load l ON l.rep_id = r.id
      LEFT JOIN (SELECT owner_id, count(*) AS n FROM leadflow.lead
                  WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL
                  GROUP BY owner_id) a ON a.owner_id = r.id
     WHERE coalesce(l.open_count, 0) <> coalesce(a.n, 0)
     ORDER BY r.id
$$;
COMMENT ON FUNCTION leadflow.check_counters() IS
    'Reps whose open-lead counter disagrees with their open leads (none when all is well).';

REVOKE ALL ON FUNCTION leadflow.route(bigint), leadflow.route_pending(integer),
    leadflow.assign(bigint, integer, text), leadflow.explain(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.route(bigint), leadflow.route_pending(integer),
    leadflow.assign(bigint, integer, text), leadflow.explain(bigint) TO leadflow_manager;
GRANT EXECUTE ON FUNCTION leadflow.explain(bigint), leadflow.route_pending(integer)
    TO leadflow_admin;

-- END routing

------------------------------------------------------------------------
-- BEGIN touches, cadence and stages (src/stages.c and the SQL below)
------------------------------------------------------------------------

CREATE FUNCTION leadflow.acting_role() RETURNS name
    AS 'MODULE_PATHNAME', 'leadflow_acting_role'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.acting_role() IS
    'The role acting now (after SET ROLE), also inside SECURITY DEFINER functions.';

-- The channel of a cadence step, or NULL past the last step.
CREATE FUNCTION leadflow.cadence_channel(c leadflow.cadence, step integer)
    RETURNS leadflow.channel
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, leadflow
AS $$ SELECT s.channel FROM leadflow.cadence_steps(c) s WHERE s.step = cadence_channel.step $$;
COMMENT ON FUNCTION leadflow.cadence_channel(leadflow.cadence, integer) IS
    'The channel of step "step" (0-based) of a cadence; NULL past the last step.';

-- Which required qualification criteria a lead has not yet answered with
-- an allowed value (no rows: it can be qualified).
CREATE FUNCTION leadflow.qualification_missing(lead_id bigint)
    RETURNS TABLE (criterion text, attribute text, allowed text[], answer text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, leadflow
AS $$
    SELECT c.name, c.attribute, c.allowed, l.attrs ->> c.attribute
      FROM leadflow.lead l, leadflow.qualification_criterion c
     WHERE l.id = qualification_missing.lead_id AND c.required
       AND NOT (coalesce(btrim(l.attrs ->> c.attribute), '') <> ''
                AND (c.allowed IS NULL OR l.attrs ->> c.attribute = ANY (c.allowed)))
     ORDER BY c.name
$$;
COMMENT ON FUNCTION leadflow.qualification_missing(bigint) IS
    'The required qualification criteria the lead has not answered with an allowed value.';

-- A touch evaluates the lead and drives the next one.  SECURITY DEFINER:
-- the lead's stage, cadence position and SLA clock are written by
-- leadflow only; the acting role (leadflow.acting_role) is what is checked.
CREATE FUNCTION leadflow.touch_before_insert() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow
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
    -- A restore (pg_dump sessions run with check_function_bodies off)
    -- brings back touches whose effects the dump already holds.
    IF NOT current_setting('check_function_bodies')::boolean THEN
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
CREATE TRIGGER touch_evaluate BEFORE INSERT ON leadflow.touch
    FOR EACH ROW EXECUTE FUNCTION leadflow.touch_before_insert();

CREATE FUNCTION leadflow.log_touch(lead_id bigint, channel leadflow.channel,
                                   outcome leadflow.outcome, note text DEFAULT NULL,
                                   referral jsonb DEFAULT NULL)
    RETURNS leadflow.touch
    LANGUAGE sql
    SET search_path = pg_catalog, leadflow
AS $$
    INSERT INTO leadflow.touch (lead_id, channel, outcome, note, referral)
    VALUES (log_touch.lead_id, log_touch.channel, log_touch.outcome, log_touch.note,
            log_touch.referral)
    RETURNING *
$$;
COMMENT ON FUNCTION leadflow.log_touch(bigint, leadflow.channel, leadflow.outcome, text, jsonb) IS
    'Log a touch (by the acting rep, or a manager) and advance the lead: cadence, stage, SLA.';

CREATE FUNCTION leadflow.reopen(lead_id bigint, reason text) RETURNS void
    AS 'MODULE_PATHNAME', 'leadflow_reopen'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
COMMENT ON FUNCTION leadflow.reopen(bigint, text) IS
    'Reopen a rejected lead (stage new again): its owner gets it back cap-checked, or routing does.';
REVOKE ALL ON FUNCTION leadflow.reopen(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.reopen(bigint, text) TO leadflow_manager;
GRANT EXECUTE ON FUNCTION leadflow.log_touch(bigint, leadflow.channel, leadflow.outcome, text, jsonb)
    TO leadflow_rep, leadflow_manager;

-- Each rep's day: open leads, the touch due now or overdue first (most
-- overdue first), then the rest by score.
CREATE VIEW leadflow.work_list AS
SELECT l.owner_id AS rep_id,
       r.name AS rep,
       row_number() OVER (PARTITION BY l.owner_id
                          ORDER BY l.next_touch_at <= leadflow.now() DESC,
                                   CASE WHEN l.next_touch_at <= leadflow.now() THEN l.next_touch_at END,
                                   l.score DESC, l.next_touch_at, l.id) AS priority,
       l.id AS lead_id,
       l.name,
       l.company,
       l.email,
       l.phone,
       l.stage,
       l.score,
       leadflow.cadence_channel(l.cadence, l.cadence_step) AS next_channel,
       l.cadence_step + 1 AS next_step,
       leadflow.cadence_length(l.cadence) AS cadence_steps,
       l.next_touch_at,
       l.next_touch_at <= leadflow.now() AS due,
       greatest(0, floor(extract(epoch FROM leadflow.now() - l.next_touch_at) / 60))::integer
           AS minutes_overdue,
       l.sla_due_at,
       l.sla_due_at < leadflow.now() AS sla_breached,
       l.touches,
       l.last_touch_at
  FROM leadflow.lead l
  JOIN leadflow.rep r ON r.id = l.owner_id
 WHERE l.stage IN ('new', 'working');
COMMENT ON VIEW leadflow.work_list IS
    'Each rep''s open leads: touches due now or overdue first (priority 1 = do it now), then by score.';
GRANT SELECT ON leadflow.work_list TO leadflow_rep, leadflow_manager, leadflow_admin;

-- END touches, cadence and stages

------------------------------------------------------------------------
-- BEGIN sweep (src/sweep.c) and its pg_cron job
------------------------------------------------------------------------

CREATE FUNCTION leadflow.sweep(as_of timestamptz DEFAULT NULL)
    RETURNS TABLE (action text, leads integer)
    AS 'MODULE_PATHNAME', 'leadflow_sweep'
    LANGUAGE C SECURITY DEFINER
    SET search_path = pg_catalog, leadflow;
COMMENT ON FUNCTION leadflow.sweep(timestamptz) IS
    'Reassign leads whose follow-up SLA passed (escalating past max_reassignments), hand on leads past their queue''s ownership window, route the backlog.  as_of defaults to leadflow.now().  A run overlapping another does nothing.';
REVOKE ALL ON FUNCTION leadflow.sweep(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.sweep(timestamptz) TO leadflow_admin, leadflow_manager;

-- pg_cron is optional and lives in one database per cluster
-- (cron.database_name).  The job is always called leadflow-sweep.
CREATE FUNCTION leadflow.schedule_sweep(schedule text DEFAULT '* * * * *') RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
    job bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
            RAISE EXCEPTION 'pg_cron runs in database "%", not in "%"', cron_db, current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = 'pg_cron schedules jobs only from the database named by cron.database_name.',
                      HINT = format('Connect to database %I and run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                                    cron_db, 'leadflow-sweep', schedule, 'SELECT leadflow.sweep()',
                                    current_database());
        END IF;
        RAISE EXCEPTION 'pg_cron is not installed'
            USING ERRCODE = 'undefined_object',
                  HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, and CREATE EXTENSION pg_cron there -- or call leadflow.sweep() from another scheduler.';
    END IF;
    -- same name again: pg_cron updates the job instead of adding one
    EXECUTE 'SELECT cron.schedule($1, $2, $3)'
        INTO job USING 'leadflow-sweep', schedule, 'SELECT leadflow.sweep()';
    RETURN job;
END;
$$;
COMMENT ON FUNCTION leadflow.schedule_sweep(text) IS
    'Schedule leadflow.sweep() with pg_cron as job "leadflow-sweep" (idempotent); returns the job id.';

CREATE FUNCTION leadflow.unschedule_sweep() RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
    found boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        IF cron_db IS NOT NULL AND cron_db <> current_database() THEN
            RAISE EXCEPTION 'pg_cron runs in database "%", not in "%"', cron_db, current_database()
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = format('Connect to database %I and run: SELECT cron.unschedule(%L);',
                                    cron_db, 'leadflow-sweep');
        END IF;
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM cron.job WHERE jobname = $1 AND username = current_user)'
        INTO found USING 'leadflow-sweep';
    IF found THEN
        EXECUTE 'SELECT cron.unschedule($1)' USING 'leadflow-sweep';
    END IF;
    RETURN found;
END;
$$;
COMMENT ON FUNCTION leadflow.unschedule_sweep() IS
    'Remove the pg_cron job "leadflow-sweep"; false when there was none.';
REVOKE ALL ON FUNCTION leadflow.schedule_sweep(text), leadflow.unschedule_sweep() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.schedule_sweep(text), leadflow.unschedule_sweep() TO leadflow_admin;

-- A front end marks an alert seen.
CREATE FUNCTION leadflow.acknowledge_alert(alert_id bigint) RETURNS leadflow.alert
    LANGUAGE plpgsql
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    a leadflow.alert;
BEGIN
    UPDATE leadflow.alert SET acknowledged_at = coalesce(acknowledged_at, leadflow.now())
     WHERE id = alert_id RETURNING * INTO a;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert % does not exist', alert_id USING ERRCODE = 'no_data_found';
    END IF;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION leadflow.acknowledge_alert(bigint) IS
    'Mark an alert acknowledged (the first acknowledgement''s time is kept).';
REVOKE ALL ON FUNCTION leadflow.acknowledge_alert(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.acknowledge_alert(bigint) TO leadflow_manager, leadflow_rep;

-- END sweep

------------------------------------------------------------------------
-- BEGIN duplicates and hygiene (src/hygiene.c, src/duplicates.c)
------------------------------------------------------------------------

-- Merge two leads of one prospect: touches, events, history and decisions
-- move to the kept lead; the dropped one stays, closed, pointing at it.
-- SECURITY DEFINER: the ledger and history are written by leadflow only.
CREATE FUNCTION leadflow.merge(keep bigint, drop bigint) RETURNS leadflow.lead
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    k leadflow.lead;
    d leadflow.lead;
    moved_touches integer;
BEGIN
    IF keep IS NULL OR drop IS NULL THEN
        RAISE EXCEPTION 'merge needs two lead ids' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF keep = drop THEN
        RAISE EXCEPTION 'cannot merge lead % into itself', keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- lock both, lower id first, as every other writer of two leads would
    PERFORM FROM leadflow.lead WHERE id IN (keep, drop) ORDER BY id FOR UPDATE;
    SELECT * INTO k FROM leadflow.lead WHERE id = keep;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', keep USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO d FROM leadflow.lead WHERE id = drop;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', drop USING ERRCODE = 'no_data_found';
    END IF;
    IF d.stage = 'converted' THEN
        RAISE EXCEPTION 'lead % is converted and cannot be merged away', drop
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Keep the converted lead and merge the other one into it.';
    END IF;

    UPDATE leadflow.touch SET lead_id = keep WHERE lead_id = drop;
    GET DIAGNOSTICS moved_touches = ROW_COUNT;
    UPDATE leadflow.event SET lead_id = keep WHERE lead_id = drop;
    UPDATE leadflow.stage_history SET lead_id = keep WHERE lead_id = drop;
    UPDATE leadflow.decision SET lead_id = keep WHERE lead_id = drop;
    UPDATE leadflow.alert SET lead_id = keep WHERE lead_id = drop;

    UPDATE leadflow.lead
       SET name = coalesce(k.name, d.name), email = coalesce(k.email, d.email),
           phone = coalesce(k.phone, d.phone), company = coalesce(k.company, d.company),
           country = coalesce(k.country, d.country),
           account_id = coalesce(k.account_id, d.account_id),
           attrs = d.attrs || k.attrs,
           touches = k.touches + moved_touches,
           first_touch_at = least(k.first_touch_at, d.first_touch_at),
           last_touch_at = greatest(k.last_touch_at, d.last_touch_at),
           value = coalesce(k.value, d.value)
     WHERE id = keep;
    -- the dropped lead closes (freeing its owner's seat) and keeps a trace
    UPDATE leadflow.lead
       SET stage = 'rejected', reject_reason = 'merged into lead ' || keep,
           duplicate_of = keep, touches = 0
     WHERE id = drop;

    INSERT INTO leadflow.decision (lead_id, at, kind, from_rep, to_rep, queue, reason)
    VALUES (keep, leadflow.now(), 'merge', d.owner_id, k.owner_id, k.queue,
            format('merged lead %s (%s touches moved)', drop, moved_touches));
    SELECT * INTO k FROM leadflow.lead WHERE id = keep;
    RETURN k;
END;
$$;
COMMENT ON FUNCTION leadflow.merge(bigint, bigint) IS
    'Merge lead "drop" into lead "keep": touches, events, history and decisions move; the dropped lead is closed and points at the kept one.';
REVOKE ALL ON FUNCTION leadflow.merge(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.merge(bigint, bigint) TO leadflow_manager;

-- How many leads of each source and campaign were prospects we already had.
CREATE VIEW leadflow.duplicate_rates AS
SELECT coalesce(source, '(none)') AS source,
       coalesce(campaign, '(none)') AS campaign,
       count(*) AS leads,
       count(*) FILTER (WHERE reject_reason LIKE 'duplicate of lead %') AS duplicates_of_open,
       count(*) FILTER (WHERE duplicate_of IS NOT NULL
                          AND coalesce(reject_reason NOT LIKE 'duplicate of lead %'
                                       AND reject_reason NOT LIKE 'merged into lead %', true))
           AS returning_prospects,
       round(count(*) FILTER (WHERE duplicate_of IS NOT NULL
                                AND coalesce(reject_reason NOT LIKE 'merged into lead %', true))::numeric
             / count(*), 4) AS duplicate_rate
  FROM leadflow.lead
 GROUP BY 1, 2;
COMMENT ON VIEW leadflow.duplicate_rates IS
    'Per source and campaign: leads, duplicates of an open lead, returning prospects, and the share of leads that were people already known (a fraction).';
GRANT SELECT ON leadflow.duplicate_rates TO leadflow_manager, leadflow_admin;

-- END duplicates and hygiene

------------------------------------------------------------------------
-- BEGIN reporting views
------------------------------------------------------------------------
-- Conventions: rates are fractions between 0 and 1 (numeric, 4 places);
-- durations are minutes (numeric, 1 place); "now" is leadflow.now().
-- Medians and 90th percentiles where a mean would be dragged by a few
-- forgotten leads.

-- Fraction a / b, NULL when b is 0.
CREATE FUNCTION leadflow.rate(a bigint, b bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT CASE WHEN b > 0 THEN round(a::numeric / b, 4) END $$;

-- Minutes between two instants, NULL when either is.
CREATE FUNCTION leadflow.minutes(a timestamptz, b timestamptz) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog
AS $$ SELECT round((extract(epoch FROM b - a) / 60)::numeric, 1) $$;

CREATE VIEW leadflow.rep_pipeline AS
SELECT r.id AS rep_id,
       r.name AS rep,
       r.active,
       coalesce(o.open_leads, 0) AS open_leads,
       r.max_open,
       leadflow.rate(coalesce(o.open_leads, 0), r.max_open) AS open_vs_cap,
       CASE WHEN l.new_day = (leadflow.now() AT TIME ZONE leadflow.workhours_zone(r.hours))::date
            THEN l.new_count ELSE 0 END AS new_today,
       r.max_new_per_day,
       coalesce(o.overdue, 0) AS overdue,
       coalesce(o.sla_breached, 0) AS sla_breached,
       coalesce(o.touched_48h, 0) AS touched_within_48h,
       leadflow.rate(coalesce(o.touched_48h, 0), coalesce(o.open_leads, 0)) AS touched_within_48h_rate,
       coalesce(c.won, 0) AS won,
       coalesce(c.closed, 0) AS closed,
       leadflow.rate(coalesce(c.won, 0), coalesce(c.closed, 0)) AS conversion_rate
  FROM leadflow.rep r
  LEFT JOIN leadflow.rep_load l ON l.rep_id = r.id
  LEFT JOIN (SELECT owner_id,
                    count(*) AS open_leads,
                    count(*) FILTER (WHERE next_touch_at < leadflow.now()) AS overdue,
                    count(*) FILTER (WHERE sla_due_at < leadflow.now()) AS sla_breached,
                    count(*) FILTER (WHERE last_touch_at >= leadflow.now() - interval '48 hours') AS touched_48h
               FROM leadflow.lead WHERE stage IN ('new', 'working') AND owner_id IS NOT NULL
              GROUP BY owner_id) o ON o.owner_id = r.id
  LEFT JOIN (SELECT owner_id,
                    count(*) FILTER (WHERE stage IN ('qualified', 'converted')) AS won,
                    count(*) AS closed
               FROM leadflow.lead WHERE stage NOT IN ('new', 'working') AND owner_id IS NOT NULL
                AND coalesce(reject_reason NOT LIKE 'duplicate of lead %'
                             AND reject_reason NOT LIKE 'merged into lead %', true)
              GROUP BY owner_id) c ON c.owner_id = r.id;
COMMENT ON VIEW leadflow.rep_pipeline IS
    'Per rep: open leads against the cap, new today against the daily cap, overdue, SLA breached, touched within 48 hours, and conversion (won / closed).';

-- Leads that are someone we already had (duplicates, merged) are left
-- out of the performance figures: they would count one person twice.
CREATE VIEW leadflow.source_performance AS
SELECT coalesce(source, '(none)') AS source,
       coalesce(campaign, '(none)') AS campaign,
       count(*) AS leads,
       count(first_touch_at) AS contacted,
       count(*) FILTER (WHERE stage IN ('qualified', 'converted')) AS qualified,
       count(*) FILTER (WHERE stage = 'converted') AS converted,
       count(*) FILTER (WHERE stage = 'rejected') AS rejected,
       leadflow.rate(count(first_touch_at), count(*)) AS contact_rate,
       leadflow.rate(count(*) FILTER (WHERE stage IN ('qualified', 'converted')), count(*)) AS qualification_rate,
       leadflow.rate(count(*) FILTER (WHERE stage = 'converted'), count(*)) AS conversion_rate,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_touch_at - created_at) / 60)::numeric, 1)
           AS median_minutes_to_first_touch
  FROM leadflow.lead
 WHERE coalesce(reject_reason NOT LIKE 'duplicate of lead %'
                AND reject_reason NOT LIKE 'merged into lead %', true)
 GROUP BY 1, 2;
COMMENT ON VIEW leadflow.source_performance IS
    'Per source and campaign: leads, contacted, qualified, converted, rejected, their rates, and the median minutes from creation to first touch.';

CREATE VIEW leadflow.funnel AS
SELECT coalesce(l.campaign, '(none)') AS campaign,
       count(*) AS leads,
       count(*) FILTER (WHERE l.owner_id IS NOT NULL OR l.assigned_at IS NOT NULL) AS assigned,
       count(l.first_touch_at) AS contacted,
       count(*) FILTER (WHERE l.stage IN ('qualified', 'converted')
                           OR EXISTS (SELECT FROM leadflow.stage_history h
                                       WHERE h.lead_id = l.id AND h.to_stage = 'qualified')) AS qualified,
       count(*) FILTER (WHERE l.stage = 'converted') AS converted,
       leadflow.rate(count(l.first_touch_at), count(*)) AS contacted_rate,
       leadflow.rate(count(*) FILTER (WHERE l.stage IN ('qualified', 'converted')
                                         OR EXISTS (SELECT FROM leadflow.stage_history h
                                                     WHERE h.lead_id = l.id AND h.to_stage = 'qualified')),
                     count(*)) AS qualified_rate,
       leadflow.rate(count(*) FILTER (WHERE l.stage = 'converted'), count(*)) AS converted_rate
  FROM leadflow.lead l
 WHERE coalesce(l.reject_reason NOT LIKE 'duplicate of lead %'
                AND l.reject_reason NOT LIKE 'merged into lead %', true)
 GROUP BY 1;
COMMENT ON VIEW leadflow.funnel IS
    'Per campaign: how far leads got -- assigned, contacted, qualified (ever), converted -- as counts and fractions of all leads.';

CREATE VIEW leadflow.speed_to_lead AS
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
          JOIN leadflow.rep r ON r.id = l.owner_id
          JOIN leadflow.queue q ON q.name = coalesce(l.queue, 'default')
         WHERE l.assigned_at IS NOT NULL) x
 GROUP BY queue, rep;
COMMENT ON VIEW leadflow.speed_to_lead IS
    'Per queue and rep: median and 90th percentile minutes from creation to assignment and to first touch (speed to lead), and the current owner''s first-touch SLA attainment (met / due so far).';

CREATE VIEW leadflow.reject_reasons AS
SELECT split_part(coalesce(reject_reason, '(none)'), ':', 1) AS reason,
       coalesce(source, '(none)') AS source,
       coalesce(campaign, '(none)') AS campaign,
       count(*) AS leads,
       leadflow.rate(count(*), sum(count(*)) OVER ()::bigint) AS share_of_rejected
  FROM leadflow.lead
 WHERE stage = 'rejected'
 GROUP BY 1, 2, 3;
COMMENT ON VIEW leadflow.reject_reasons IS
    'Rejected leads by reason (the part before ":"), source and campaign, with each row''s share of all rejected leads.';

CREATE VIEW leadflow.overdue AS
SELECT l.id AS lead_id,
       r.name AS rep,
       l.owner_id AS rep_id,
       l.queue,
       l.stage,
       l.next_touch_at,
       greatest(0, leadflow.minutes(l.next_touch_at, leadflow.now())) AS minutes_overdue,
       l.sla_due_at,
       l.sla_due_at < leadflow.now() AS sla_breached,
       l.reassignments
  FROM leadflow.lead l
  JOIN leadflow.rep r ON r.id = l.owner_id
 WHERE l.stage IN ('new', 'working')
   AND (l.next_touch_at < leadflow.now() OR l.sla_due_at < leadflow.now());
COMMENT ON VIEW leadflow.overdue IS
    'Open leads whose next touch or SLA is past, with how late (minutes) and whether the SLA is breached.';

CREATE VIEW leadflow.backlog AS
SELECT l.id AS lead_id,
       coalesce(l.queue, '(not routed)') AS queue,
       l.created_at,
       leadflow.minutes(l.created_at, leadflow.now()) AS minutes_waiting,
       l.reassignments,
       (SELECT d.reason FROM leadflow.decision d
         WHERE d.lead_id = l.id ORDER BY d.id DESC LIMIT 1) AS last_decision
  FROM leadflow.lead l
 WHERE l.stage IN ('new', 'working') AND l.owner_id IS NULL;
COMMENT ON VIEW leadflow.backlog IS
    'Open leads waiting without an owner: their queue, how long they have waited (minutes), and the last decision about them.';

CREATE VIEW leadflow.fairness AS
WITH given AS (
    SELECT d.queue, d.to_rep, count(*) AS assignments
      FROM leadflow.decision d
     WHERE d.kind IN ('assign', 'reassign_sla', 'handoff', 'escalate') AND d.to_rep IS NOT NULL
     GROUP BY 1, 2)
SELECT m.queue,
       r.name AS rep,
       m.weight,
       leadflow.rate(m.weight, sum(m.weight) OVER (PARTITION BY m.queue)::bigint) AS weight_share,
       coalesce(g.assignments, 0) AS assignments,
       leadflow.rate(coalesce(g.assignments, 0),
                     sum(coalesce(g.assignments, 0)) OVER (PARTITION BY m.queue)::bigint) AS assignment_share,
       round(leadflow.rate(coalesce(g.assignments, 0),
                           sum(coalesce(g.assignments, 0)) OVER (PARTITION BY m.queue)::bigint)
             / nullif(leadflow.rate(m.weight, sum(m.weight) OVER (PARTITION BY m.queue)::bigint), 0), 2)
           AS share_vs_weight
  FROM leadflow.queue_member m
  JOIN leadflow.rep r ON r.id = m.rep_id
  LEFT JOIN given g ON g.queue = m.queue AND g.to_rep = m.rep_id;
COMMENT ON VIEW leadflow.fairness IS
    'Per queue and member: share of the queue''s assignments against share of its weight (share_vs_weight 1.00 = exactly fair).';

CREATE VIEW leadflow.capacity AS
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
       greatest(coalesce(m.seats, 0) - coalesce(m.open_leads, 0), 0) AS free_seats,
       coalesce(m.new_per_day, 0) AS new_per_day_capacity,
       round(coalesce(i.routed_7d, 0) / 7.0, 1) AS inflow_per_day,
       round(coalesce(m.new_per_day, 0) / nullif(coalesce(i.routed_7d, 0) / 7.0, 0), 2) AS capacity_vs_inflow,
       (SELECT count(*) FROM leadflow.lead b
         WHERE b.queue = q.name AND b.owner_id IS NULL AND b.stage IN ('new', 'working')) AS backlog
  FROM leadflow.queue q
  LEFT JOIN members m ON m.queue = q.name
  LEFT JOIN inflow i ON i.queue = q.name;
COMMENT ON VIEW leadflow.capacity IS
    'Per queue: members (available now), seats and free seats, daily intake capacity against the last 7 days'' inflow per day, and the backlog.';

-- How many leads a goal of conversions needs at the historical close rate.
CREATE FUNCTION leadflow.leads_needed(goal integer, source text DEFAULT NULL)
    RETURNS TABLE (scope text, closed_leads bigint, converted bigint, close_rate numeric,
                   conversions_wanted integer, leads_to_generate bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, leadflow
AS $$
DECLARE
    n_closed bigint;
    n_won bigint;
BEGIN
    IF goal IS NULL OR goal <= 0 THEN
        RAISE EXCEPTION 'goal must be a positive number of conversions, not %', coalesce(goal::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT count(*), count(*) FILTER (WHERE l.stage = 'converted')
      INTO n_closed, n_won
      FROM leadflow.lead l
     WHERE l.stage IN ('converted', 'rejected', 'nurture')
       AND (leads_needed.source IS NULL OR l.source = leads_needed.source)
       AND coalesce(l.reject_reason NOT LIKE 'duplicate of lead %'
                    AND l.reject_reason NOT LIKE 'merged into lead %', true);
    IF n_won = 0 THEN
        RAISE EXCEPTION 'no converted leads%: no close rate to plan with',
                        coalesce(' from source ' || quote_literal(leads_needed.source), '')
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('%s closed leads, none converted.', n_closed);
    END IF;
    RETURN QUERY SELECT coalesce(leads_needed.source, '(all)'), n_closed, n_won,
                        round(n_won::numeric / n_closed, 4), goal,
                        ceil(goal * n_closed::numeric / n_won)::bigint;
END;
$$;
COMMENT ON FUNCTION leadflow.leads_needed(integer, text) IS
    'Leads to generate for a goal of conversions, at the historical close rate (converted / closed) of a source or of all sources.';

GRANT SELECT ON leadflow.rep_pipeline, leadflow.source_performance, leadflow.funnel,
    leadflow.speed_to_lead, leadflow.reject_reasons, leadflow.overdue, leadflow.backlog,
    leadflow.fairness, leadflow.capacity
    TO leadflow_manager, leadflow_admin;

-- END reporting views

-- BEGIN scoring (src/scoring.c, src/predict.c)
------------------------------------------------------------------------

-- Scoring rules are cached per backend like the routing configuration
-- (src/scoring.c); a change makes every backend reload them.
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.scoring_rule FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();

-- Predictive models, one row per version: predict uses the newest of a
-- name.  params holds the counts (see src/predict.c), so a model can be
-- read, compared and restored.
CREATE TABLE leadflow.model (
    name       text NOT NULL CONSTRAINT model_name_not_blank CHECK (btrim(name) <> ''),
    trained_at timestamptz NOT NULL,
    features   text[] NOT NULL,
    params     jsonb NOT NULL,
    positives  integer NOT NULL,
    negatives  integer NOT NULL,
    auc        float8,
    PRIMARY KEY (name, trained_at)
);
COMMENT ON TABLE leadflow.model IS
    'Naive Bayes models learned by leadflow.train from closed leads, versioned by training time; leadflow.predict uses the newest version of a name.';
SELECT pg_catalog.pg_extension_config_dump('leadflow.model', '');
-- Parsed models are cached per backend; a new version reaches them this way.
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON leadflow.model FOR EACH STATEMENT EXECUTE FUNCTION leadflow.config_changed();
GRANT SELECT, INSERT, UPDATE, DELETE ON leadflow.model TO leadflow_admin;
GRANT SELECT ON leadflow.model TO leadflow_manager, leadflow_rep;

CREATE FUNCTION leadflow.fit_score(doc jsonb) RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_fit_score'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.fit_score(jsonb) IS
    'Fit points of a routing document (a JSON object) under the active fit rules: matched points summed per group (rules with the same name), each group''s total bounded to [-max_points, max_points] by the smallest max_points among its rules.';

CREATE FUNCTION leadflow.rescore(lead_id bigint) RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_rescore'
    LANGUAGE C STRICT;
COMMENT ON FUNCTION leadflow.rescore(bigint) IS
    'Recompute a lead''s fit score from its routing document, store it in lead.score and return it (after the fit rules changed).';
REVOKE ALL ON FUNCTION leadflow.rescore(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.rescore(bigint) TO leadflow_manager;

-- The fit score follows the lead's document.  Kept apart from the
-- routing triggers; like them it keeps rows as given during a restore.
CREATE FUNCTION leadflow.lead_score_fit() RETURNS trigger
    AS 'MODULE_PATHNAME', 'leadflow_lead_score_fit'
    LANGUAGE C
    SET search_path = pg_catalog, leadflow;
CREATE TRIGGER lead_score_fit
    BEFORE UPDATE OF attrs, source, campaign, company, country, email ON leadflow.lead
    FOR EACH ROW EXECUTE FUNCTION leadflow.lead_score_fit();

CREATE FUNCTION leadflow.current_score(lead_id bigint, as_of timestamptz DEFAULT NULL)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'leadflow_current_score'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION leadflow.current_score(bigint, timestamptz) IS
    'lead.score (fit) plus the engagement points of the lead''s events up to as_of (default leadflow.now()), each decayed by its rule''s half-life (points * 0.5^(age / half_life)), groups of rules with the same name capped by max_points.  Decay alone never takes the score below the fit score.';

CREATE FUNCTION leadflow.train(features text[], model text DEFAULT 'default')
    RETURNS TABLE (model text, trained_at timestamptz, positives integer, negatives integer,
                   features integer, parameters integer, auc float8)
    AS 'MODULE_PATHNAME', 'leadflow_train'
    LANGUAGE C;
COMMENT ON FUNCTION leadflow.train(text[], text) IS
    'Learn a naive Bayes model from the closed leads (qualified, converted: positive; rejected: negative) over the given routing-document keys; numeric keys are cut into quantile bins, missing values are a category, Laplace smoothing.  Stores a new version in leadflow.model (trained_at = leadflow.now()) and reports its counts, size (parameters: log-likelihood ratios plus the prior) and training AUC.';
REVOKE ALL ON FUNCTION leadflow.train(text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.train(text[], text) TO leadflow_admin;

CREATE FUNCTION leadflow.predict(doc jsonb, model text DEFAULT 'default') RETURNS float8
    AS 'MODULE_PATHNAME', 'leadflow_predict'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION leadflow.predict(jsonb, text) IS
    'Probability (0 to 1) that a lead with this routing document converts, by the newest version of the model; error 42704 when there is no such model.';

CREATE FUNCTION leadflow.explain_score(lead_id bigint, as_of timestamptz DEFAULT NULL)
    RETURNS TABLE (component text, name text, detail text, points float8)
    AS 'MODULE_PATHNAME', 'leadflow_explain_score'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION leadflow.explain_score(bigint, timestamptz) IS
    'Why a lead scores what it does: each matched fit rule and group cap (fit), each event''s decayed points per rule (engagement), each feature''s log-likelihood ratio under the ''default'' model (prediction), and the totals.';

REVOKE ALL ON FUNCTION leadflow.current_score(bigint, timestamptz),
    leadflow.predict(jsonb, text), leadflow.explain_score(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadflow.current_score(bigint, timestamptz),
    leadflow.predict(jsonb, text), leadflow.explain_score(bigint, timestamptz)
    TO leadflow_manager, leadflow_rep, leadflow_admin;

-- END scoring
