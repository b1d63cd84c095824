-- A reference router in PL/pgSQL, and the bulk INSERT benchmark that
-- compares leadflow with it.
--
-- The question this answers: what does leadflow's C routing buy over what
-- a careful DBA would write by hand?  So the reference is meant to be a
-- fair, competent implementation of the same policy, not a strawman: one
-- BEFORE INSERT trigger in PL/pgSQL on a copy of the lead table (ref.lead),
-- static SQL only (PL/pgSQL prepares and caches every plan), an index for
-- every look-up, and the same configuration tables as leadflow
-- (leadflow.rep, queue, queue_member, rule, freemail_domain), read only.
--
-- What it does, per lead, as DESIGN.md "Routing" describes:
--   * trims and lower-cases the email; a lead that repeats the email of an
--     open lead goes to that lead's owner ('duplicate' decision);
--   * account by email domain (free-mail domains excepted), created on
--     first sight; a suppressed account rejects the lead;
--   * the first active rule by (priority, id) whose match holds (the
--     semantics of DESIGN.md "Matching": key equals value, an array in the
--     rule is "any of", a document array matches when any element does,
--     nested objects, "not"), min_score / max_score; no rule: 'default';
--     a suppress rule rejects the lead;
--   * sticky queues: the account row is locked (so one account gets one
--     owner), and a current owner (within owned_until) who is eligible
--     gets the lead; otherwise the assignee becomes the owner (until now +
--     hold_for);
--   * otherwise round robin: the eligible members (active, not away,
--     inside working hours when the queue requires it, the rule's skills,
--     under max_open and under max_new_per_day in the rep's local day),
--     least recently assigned first; the first candidate's counter row is
--     locked with SELECT ... FOR UPDATE (SKIP LOCKED on a first pass, so
--     concurrent sessions spread over the queue instead of queueing
--     behind one row; waiting on a second pass, so a busy row never
--     backlogs a lead), the caps are checked again on the locked row, and
--     the counters are updated: caps hold under concurrency;
--   * owner, queue, assigned_at, the queue's cadence, next_touch_at and
--     sla_due_at (with leadflow's C business-time functions: a DBA
--     writing those in PL/pgSQL too would be far slower, so the reference
--     is the faster for borrowing them);
--   * a ledger row in ref.decision with every member considered (rep,
--     eligible, reason passed over, load, caps, weight) as jsonb, like
--     leadflow.decision; no eligible member: 'backlog' decision.
--
-- What it does not do, relative to leadflow:
--   * every queue is round robin (leadflow also has weighted,
--     load_balanced and performance); the turn is kept per rep, not per
--     queue and rep (the benchmark's reps are in one queue, plus default);
--   * no queue lock: under concurrency two sessions can pick the same
--     least-recently-assigned rep (caps still hold), where leadflow keeps
--     round robin exact by taking turns per queue;
--   * no scoring (fit rules, predicted), no phone or name hygiene, no
--     phone duplicates, no re_inquiry event, no alerts (backlog), no
--     counters for imports, stage changes, manual moves or the sweep;
--     it routes on INSERT only;
--   * counters are written once per lead.  In one bulk INSERT that leaves
--     a chain of row versions per rep that every later look-up in the same
--     transaction walks (leadflow keeps per-statement deltas in memory and
--     writes them once): that cost is real for a hand-written router and
--     is part of what is measured.
--
-- As a benchmark (run.sh plpgsql_router): the 50,000-lead bulk INSERT of
-- routing_bulk.sql into a bare table, into leadflow.lead and into
-- ref.lead, same rows, one session; prints leadflow's rate / the
-- reference's rate, and checks that both routed the same leads to the
-- same queues.  With -v router_only=1 it only creates the router (for
-- pgbench.sh, after routing_setup.psql).
\pset footer off
\if :{?router_only}
\else
\ir routing_setup.psql
\endif

CREATE SCHEMA ref;

-- Accounts, counters and ledger of the reference: copies of leadflow's
-- tables (columns, defaults, constraints, indexes), with the foreign keys
-- leadflow has.
CREATE TABLE ref.account (LIKE leadflow.account INCLUDING ALL);
ALTER TABLE ref.account ADD FOREIGN KEY (owner_id) REFERENCES leadflow.rep (id) ON DELETE SET NULL;

CREATE TABLE ref.rep_load (
    rep_id     integer PRIMARY KEY REFERENCES leadflow.rep (id) ON DELETE CASCADE,
    open_count integer NOT NULL DEFAULT 0 CHECK (open_count >= 0),
    new_day    date,                    -- the rep's local day new_count counts
    new_count  integer NOT NULL DEFAULT 0 CHECK (new_count >= 0),
    last_turn  bigint NOT NULL DEFAULT 0  -- round robin: larger = more recent
);
INSERT INTO ref.rep_load (rep_id) SELECT id FROM leadflow.rep;
CREATE SEQUENCE ref.turn;

CREATE TABLE ref.decision (LIKE leadflow.decision INCLUDING ALL)
    WITH (toast_tuple_target = 8160);

-- The lead table: a copy of leadflow.lead with its own id sequence and the
-- same foreign keys.
CREATE TABLE ref.lead (LIKE leadflow.lead INCLUDING ALL);
CREATE SEQUENCE ref.lead_id_seq OWNED BY ref.lead.id;
ALTER TABLE ref.lead ALTER id SET DEFAULT nextval('ref.lead_id_seq'),
    ADD FOREIGN KEY (account_id) REFERENCES ref.account (id) ON DELETE SET NULL,
    ADD FOREIGN KEY (queue) REFERENCES leadflow.queue (name) ON UPDATE CASCADE,
    ADD FOREIGN KEY (owner_id) REFERENCES leadflow.rep (id),
    ADD FOREIGN KEY (referred_by) REFERENCES ref.lead (id) ON DELETE SET NULL,
    ADD FOREIGN KEY (duplicate_of) REFERENCES ref.lead (id) ON DELETE SET NULL;

-- DESIGN.md "Matching", for one rule: does the document satisfy m?
CREATE FUNCTION ref.matches(doc jsonb, m jsonb) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog
AS $$
DECLARE
    k    text;
    want jsonb;
    have jsonb;
BEGIN
    FOR k, want IN SELECT e.key, e.value FROM jsonb_each(m) e LOOP
        IF k = 'not' THEN
            IF ref.matches(doc, want) THEN
                RETURN false;
            END IF;
            CONTINUE;
        END IF;
        have := doc -> k;
        IF have IS NULL THEN                     -- a missing key never holds
            RETURN false;
        END IF;
        CASE jsonb_typeof(want)
        WHEN 'object' THEN
            IF jsonb_typeof(have) <> 'object' OR NOT ref.matches(have, want) THEN
                RETURN false;
            END IF;
        WHEN 'array' THEN                        -- any of the rule's scalars
            IF jsonb_typeof(have) = 'array' THEN
                IF NOT EXISTS (SELECT FROM jsonb_array_elements(have) x
                                WHERE want @> jsonb_build_array(x)) THEN
                    RETURN false;
                END IF;
            ELSIF NOT want @> jsonb_build_array(have) THEN
                RETURN false;
            END IF;
        ELSE                                     -- jsonb = compares numbers numerically
            IF NOT (have = want OR (jsonb_typeof(have) = 'array'
                                    AND have @> jsonb_build_array(want))) THEN
                RETURN false;
            END IF;
        END CASE;
    END LOOP;
    RETURN true;
END
$$;

CREATE FUNCTION ref.lead_route() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
DECLARE
    now_       timestamptz := leadflow.now();
    v_email    text := lower(btrim(NEW.email));
    v_domain   text;
    doc        jsonb;
    rl         record;
    v_rule     integer;
    v_qname    text := 'default';
    v_skills   text[] := '{}';
    q          record;
    acct       record;
    dup        record;
    v_acct_owner integer;
    v_acct_until timestamptz;
    c          record;
    v_owner    integer;
    v_reason   text;
    v_hours    leadflow.workhours;
    v_holidays date[];
    cands      jsonb;
    elig       integer[];
    cand       integer;
    pass       integer;
BEGIN
    -- An import (an owner or a closed stage given) is kept as given.
    IF NEW.owner_id IS NOT NULL OR NEW.stage NOT IN ('new', 'working') THEN
        RETURN NEW;
    END IF;
    NEW.email := v_email;
    v_domain := nullif(split_part(v_email, '@', 2), '');

    -- A second inquiry from an open lead's email goes to that lead's owner.
    IF v_email IS NOT NULL THEN
        SELECT l.id, l.owner_id, l.queue INTO dup
          FROM ref.lead l
         WHERE l.email = v_email AND l.stage IN ('new', 'working') AND l.owner_id IS NOT NULL
         ORDER BY l.id LIMIT 1;
        IF FOUND THEN
            UPDATE ref.rep_load SET open_count = open_count + 1 WHERE rep_id = dup.owner_id;
            NEW.duplicate_of := dup.id;
            NEW.owner_id := dup.owner_id;
            NEW.queue := dup.queue;
            NEW.assigned_at := now_;
            INSERT INTO ref.decision (lead_id, at, kind, to_rep, queue, reason)
            VALUES (NEW.id, now_, 'duplicate', dup.owner_id, dup.queue, 'duplicate_of_open_lead');
            RETURN NEW;
        END IF;
    END IF;

    -- The account, by email domain (not for free-mail).
    IF v_domain IS NOT NULL
       AND NOT EXISTS (SELECT FROM leadflow.freemail_domain f WHERE f.domain = v_domain) THEN
        SELECT a.id, a.status, a.suppress_reason INTO acct FROM ref.account a WHERE a.domain = v_domain;
        IF NOT FOUND THEN
            INSERT INTO ref.account (domain) VALUES (v_domain) ON CONFLICT (domain) DO NOTHING;
            SELECT a.id, a.status, a.suppress_reason INTO acct FROM ref.account a WHERE a.domain = v_domain;
        END IF;
        NEW.account_id := acct.id;
        IF acct.status = 'suppressed' THEN
            NEW.stage := 'rejected';
            NEW.reject_reason := 'account suppressed: ' || coalesce(acct.suppress_reason, 'no reason given');
            INSERT INTO ref.decision (lead_id, at, kind, reason)
            VALUES (NEW.id, now_, 'suppress', 'account_suppressed');
            RETURN NEW;
        END IF;
    END IF;

    -- The first matching rule.  The routing document: attrs, with the
    -- lead's columns winning over attrs keys of the same name.
    doc := NEW.attrs || jsonb_strip_nulls(jsonb_build_object(
               'source', NEW.source, 'campaign', NEW.campaign, 'company', NEW.company,
               'country', NEW.country, 'domain', v_domain));
    FOR rl IN SELECT r.id, r.match, r.min_score, r.max_score, r.require_skills, r.action, r.queue
                FROM leadflow.rule r WHERE r.active ORDER BY r.priority, r.id LOOP
        CONTINUE WHEN NEW.score < rl.min_score OR NEW.score > rl.max_score;
        IF ref.matches(doc, rl.match) THEN
            v_rule := rl.id;
            IF rl.action = 'suppress' THEN
                NEW.stage := 'rejected';
                NEW.reject_reason := 'suppressed by rule "' || (SELECT name FROM leadflow.rule WHERE id = rl.id) || '"';
                INSERT INTO ref.decision (lead_id, at, kind, rule_id, reason)
                VALUES (NEW.id, now_, 'suppress', rl.id, 'rule_suppress');
                RETURN NEW;
            END IF;
            v_qname := rl.queue;
            v_skills := rl.require_skills;
            EXIT;
        END IF;
    END LOOP;
    SELECT qq.name, qq.sticky_account, qq.hold_for, qq.require_available, qq.cadence,
           qq.first_touch_sla
      INTO q FROM leadflow.queue qq WHERE qq.name = v_qname;
    NEW.queue := v_qname;

    -- Sticky account: its current owner, if eligible, gets the lead.  The
    -- account row stays locked to the end of the transaction, so
    -- concurrent leads of one new account get one owner.
    IF q.sticky_account AND NEW.account_id IS NOT NULL THEN
        SELECT a.owner_id, a.owned_until INTO v_acct_owner, v_acct_until
          FROM ref.account a WHERE a.id = NEW.account_id FOR UPDATE;
        IF v_acct_owner IS NOT NULL AND (v_acct_until IS NULL OR v_acct_until > now_) THEN
            SELECT l.open_count, l.new_count, l.new_day, p.max_open, p.max_new_per_day,
                   p.hours, p.holidays, p.active, p.away_until, p.skills,
                   (now_ AT TIME ZONE leadflow.workhours_zone(p.hours))::date AS today
              INTO c
              FROM ref.rep_load l JOIN leadflow.rep p ON p.id = l.rep_id
             WHERE l.rep_id = v_acct_owner
               FOR UPDATE OF l;
            IF FOUND AND c.active AND NOT coalesce(c.away_until > now_, false)
               AND c.skills @> v_skills
               AND NOT (q.require_available AND leadflow.next_open(now_, c.hours, c.holidays) <> now_)
               AND c.open_count < c.max_open
               AND (c.new_day IS DISTINCT FROM c.today OR c.new_count < c.max_new_per_day) THEN
                v_owner := v_acct_owner;
                v_reason := 'account_owner';
                cands := jsonb_build_array(jsonb_build_object(
                    'rep', v_owner, 'open', c.open_count, 'chosen', true, 'reason', NULL,
                    'weight', 1, 'eligible', true, 'max_open', c.max_open,
                    'new_today', CASE WHEN c.new_day = c.today THEN c.new_count ELSE 0 END,
                    'max_new_per_day', c.max_new_per_day));
            END IF;
        END IF;
    END IF;

    -- Round robin over the eligible members, least recently assigned
    -- first; every member goes into the ledger with the reason it was
    -- passed over.
    IF v_owner IS NULL THEN
        SELECT jsonb_agg(jsonb_build_object(
                   'rep', m.rep_id, 'open', l.open_count, 'chosen', false, 'reason', w.why,
                   'weight', m.weight, 'eligible', w.why IS NULL, 'max_open', p.max_open,
                   'new_today', n.new_today, 'max_new_per_day', p.max_new_per_day) ORDER BY m.rep_id),
               array_agg(m.rep_id ORDER BY l.last_turn, m.rep_id) FILTER (WHERE w.why IS NULL)
          INTO cands, elig
          FROM leadflow.queue_member m
          JOIN leadflow.rep p ON p.id = m.rep_id
          JOIN ref.rep_load l ON l.rep_id = m.rep_id
         CROSS JOIN LATERAL (
               SELECT CASE WHEN l.new_day = (now_ AT TIME ZONE leadflow.workhours_zone(p.hours))::date
                           THEN l.new_count ELSE 0 END AS new_today) n
         CROSS JOIN LATERAL (
               SELECT CASE WHEN NOT p.active THEN 'inactive'
                           WHEN p.away_until > now_ THEN 'away'
                           WHEN q.require_available AND leadflow.next_open(now_, p.hours, p.holidays) <> now_
                                THEN 'outside_hours'
                           WHEN NOT p.skills @> v_skills THEN 'missing_skills'
                           WHEN l.open_count >= p.max_open THEN 'at_max_open'
                           WHEN n.new_today >= p.max_new_per_day THEN 'at_max_new_per_day'
                      END AS why) w
         WHERE m.queue = v_qname;

        -- Claim a seat: lock the counter row, check the caps on the row as
        -- it is now (another session may have taken the last seat).
        <<claim>>
        FOR pass IN 1 .. 2 LOOP
            FOREACH cand IN ARRAY coalesce(elig, '{}') LOOP
                IF pass = 1 THEN
                    SELECT l.open_count, l.new_count, l.new_day, p.max_open, p.max_new_per_day,
                           p.hours, p.holidays,
                           (now_ AT TIME ZONE leadflow.workhours_zone(p.hours))::date AS today
                      INTO c
                      FROM ref.rep_load l JOIN leadflow.rep p ON p.id = l.rep_id
                     WHERE l.rep_id = cand
                       FOR UPDATE OF l SKIP LOCKED;
                ELSE
                    SELECT l.open_count, l.new_count, l.new_day, p.max_open, p.max_new_per_day,
                           p.hours, p.holidays,
                           (now_ AT TIME ZONE leadflow.workhours_zone(p.hours))::date AS today
                      INTO c
                      FROM ref.rep_load l JOIN leadflow.rep p ON p.id = l.rep_id
                     WHERE l.rep_id = cand
                       FOR UPDATE OF l;
                END IF;
                CONTINUE WHEN NOT FOUND OR c.open_count >= c.max_open
                    OR (c.new_day = c.today AND c.new_count >= c.max_new_per_day);
                v_owner := cand;
                v_reason := 'round_robin';
                cands := (SELECT jsonb_agg(CASE WHEN (x ->> 'rep')::int = cand
                                                THEN x || '{"chosen": true}'
                                                WHEN x ->> 'reason' IS NULL
                                                THEN x || '{"reason": "not_picked"}'
                                                ELSE x END)
                            FROM jsonb_array_elements(cands) x);
                EXIT claim;
            END LOOP;
        END LOOP;
    END IF;

    IF v_owner IS NULL THEN                      -- nobody can take it: backlog
        INSERT INTO ref.decision (lead_id, at, kind, rule_id, queue, strategy, reason, candidates)
        VALUES (NEW.id, now_, 'backlog', v_rule, v_qname, 'round_robin', 'no_eligible_member', cands);
        RETURN NEW;
    END IF;

    -- Count the lead and take the turn (the row is locked by this
    -- transaction).
    UPDATE ref.rep_load
       SET open_count = open_count + 1,
           new_count = CASE WHEN new_day = c.today THEN new_count + 1 ELSE 1 END,
           new_day = c.today,
           last_turn = CASE WHEN v_reason = 'round_robin' THEN nextval('ref.turn') ELSE last_turn END
     WHERE rep_id = v_owner;
    IF q.sticky_account AND NEW.account_id IS NOT NULL
       AND (v_acct_owner IS NULL OR v_acct_until <= now_) THEN
        UPDATE ref.account SET owner_id = v_owner, owned_until = now_ + q.hold_for
         WHERE id = NEW.account_id;
    END IF;

    NEW.owner_id := v_owner;
    NEW.assigned_at := now_;
    NEW.cadence := q.cadence;
    NEW.cadence_step := 0;
    NEW.next_touch_at := leadflow.next_touch(q.cadence, 0, now_, c.hours, c.holidays);
    NEW.sla_due_at := leadflow.add_business_time(now_, q.first_touch_sla, c.hours, c.holidays);
    INSERT INTO ref.decision (lead_id, at, kind, to_rep, rule_id, queue, strategy, reason, candidates)
    VALUES (NEW.id, now_, 'assign', v_owner, v_rule, v_qname, 'round_robin', v_reason, cands);
    RETURN NEW;
END
$$;

CREATE TRIGGER lead_route BEFORE INSERT ON ref.lead
    FOR EACH ROW EXECUTE FUNCTION ref.lead_route();
ANALYZE ref.rep_load;

\if :{?router_only}
\quit
\endif

-- The benchmark: the same N rows (50,000; quick: 10,000), and the same
-- 500 warm-up rows, into each table, one session.
SELECT CASE WHEN :'scale' = 'quick' THEN 10000 ELSE 50000 END AS n \gset
INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
INSERT INTO ref.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(500);
CHECKPOINT;

INSERT INTO results SELECT 'bare', :n, timed(format($$INSERT INTO bare_lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s, 'b')$$, :n));
CHECKPOINT;
INSERT INTO results SELECT 'leadflow', :n, timed(format($$INSERT INTO leadflow.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s, 'b')$$, :n));
CHECKPOINT;
INSERT INTO results SELECT 'PL/pgSQL reference', :n, timed(format($$INSERT INTO ref.lead (email, source, campaign, country, attrs) SELECT * FROM bench_rows(%s, 'b')$$, :n));
CHECKPOINT;

\echo 'Bulk INSERT ... SELECT, one session: leadflow against the PL/pgSQL reference router:'
SELECT r.kind, r.leads,
       round(r.seconds::numeric, 2) AS seconds,
       round((r.leads / r.seconds)::numeric) AS leads_per_s,
       round((b.seconds / r.seconds)::numeric, 3) AS rate_vs_bare,
       round((p.seconds / r.seconds)::numeric, 2) AS rate_vs_reference
  FROM results r, results b, results p
 WHERE b.kind = 'bare' AND p.kind = 'PL/pgSQL reference'
 ORDER BY r.seconds;

\echo 'Same decisions?  Leads per queue, sticky assignments and accounts (should agree):'
SELECT (SELECT array_agg(n ORDER BY queue) FROM (SELECT queue, count(*) AS n FROM leadflow.lead GROUP BY 1) x)
     = (SELECT array_agg(n ORDER BY queue) FROM (SELECT queue, count(*) AS n FROM ref.lead GROUP BY 1) x)
           AS same_queues,
       (SELECT count(*) FROM leadflow.decision WHERE reason = 'account_owner') AS leadflow_account_owner,
       (SELECT count(*) FROM ref.decision WHERE reason = 'account_owner') AS reference_account_owner,
       (SELECT count(*) FROM leadflow.account) AS leadflow_accounts,
       (SELECT count(*) FROM ref.account) AS reference_accounts,
       (SELECT count(*) FROM ref.lead WHERE owner_id IS NULL) AS reference_unassigned,
       (SELECT sum(open_count) FROM ref.rep_load) = (SELECT count(*) FROM ref.lead) AS reference_counters_ok;
