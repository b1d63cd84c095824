-- explain() and route() agree: over many random states (a deterministic
-- seed) -- reps going inactive, away, out of hours, to their caps and
-- back, accounts changing owner, leads closing, waiting leads with
-- previous owners -- what explain(lead) says routing would do is what
-- route(lead) then does: the same owner (or none), and for a lead routed
-- the first time the same candidates with the same reasons as the
-- decision route() writes.
\set VERBOSITY default
SET timezone = 'UTC';
SET search_path = public, leadflow;
SET leadflow.clock = '2026-03-09 08:00:00+00';
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';

INSERT INTO leadflow.rep (id, name, hours, max_open, max_new_per_day, skills) VALUES
    (1, 'Ana', 'mon-fri 08:00-16:00 UTC', 4, 3, '{german}'),
    (2, 'Ben', 'mon-fri 09:00-17:00 Europe/Berlin', 5, 3, '{}'),
    (3, 'Cy',  'mon-fri 10:00-18:00 UTC', 3, 2, '{german,spanish}'),
    (4, 'Dee', 'mon-sun 00:00-24:00 UTC', 6, 4, '{}'),
    (5, 'Eve', 'mon-fri 07:00-15:00 America/New_York', 4, 3, '{spanish}'),
    (6, 'Fay', 'mon-fri 09:00-17:00 UTC', 2, 2, '{}');
SELECT setval('leadflow.rep_id_seq', 6);
INSERT INTO leadflow.queue (name, strategy, sticky_account, require_available) VALUES
    ('rr', 'round_robin', true, true),
    ('w', 'weighted', false, false),
    ('lb', 'load_balanced', true, false),
    ('perf', 'performance', false, true),
    ('solo', 'round_robin', false, false);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('rr', 1, 1), ('rr', 2, 1), ('rr', 3, 1),
    ('w', 2, 3), ('w', 4, 1), ('w', 6, 2),
    ('lb', 3, 1), ('lb', 4, 1), ('lb', 5, 1),
    ('perf', 1, 1), ('perf', 5, 1), ('perf', 6, 1),
    ('solo', 6, 1),
    ('default', 4, 1);
INSERT INTO leadflow.rule (priority, name, match, require_skills, queue) VALUES
    (1, 'german', '{"country": "DE"}', '{german}', 'rr'),
    (2, 'spanish', '{"country": "ES"}', '{spanish}', 'lb'),
    (3, 'rr', '{"campaign": "rr"}', '{}', 'rr'),
    (4, 'w', '{"campaign": "w"}', '{}', 'w'),
    (5, 'lb', '{"campaign": "lb"}', '{}', 'lb'),
    (6, 'perf', '{"campaign": "perf"}', '{}', 'perf'),
    (7, 'solo', '{"campaign": "solo"}', '{}', 'solo');
INSERT INTO leadflow.account (id, domain, name) VALUES
    (1, 'a1.test', 'One'), (2, 'a2.test', 'Two'), (3, 'a3.test', 'Three'), (4, 'a4.test', 'Four');
SELECT setval('leadflow.account_id_seq', 4);
-- Some history for the performance strategy.
INSERT INTO leadflow.lead (email, owner_id, stage)
SELECT 'hist' || g || '@gmail.com', 1 + g % 6, CASE WHEN g % 3 = 0 THEN 'converted' ELSE 'rejected' END::leadflow.stage
  FROM generate_series(1, 30) g;

CREATE TEMP TABLE agreement (
    step int, lead_id bigint, first_routing boolean,
    explained integer, routed integer,
    explained_candidates text, recorded_candidates text);
CREATE TEMP TABLE reasons_seen (reason text, account_owner boolean, eligible boolean, chosen boolean);

-- explain(lead) as the text of (rep, eligible, reason, chosen, account_owner)
-- in order, and the same of a decision's candidates.
CREATE FUNCTION pg_temp.explained(one bigint) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s/%s/%s/%s/%s', rep_id, eligible::text, coalesce(reason, '-'), chosen::text,
                             account_owner::text),
                      ' ' ORDER BY n)
      FROM leadflow.explain(one) WITH ORDINALITY AS e(rep_id, rep, eligible, reason, open_count, max_open,
                                                      new_today, max_new_per_day, last_assigned_at,
                                                      weight, chosen, account_owner, n)
$$;
CREATE FUNCTION pg_temp.recorded(one bigint) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(format('%s/%s/%s/%s/%s', c ->> 'rep', c ->> 'eligible', coalesce(c ->> 'reason', '-'),
                             c ->> 'chosen', coalesce(c ->> 'account_owner', 'false')),
                      ' ' ORDER BY n)
      FROM (SELECT candidates FROM leadflow.decision WHERE lead_id = one ORDER BY id DESC LIMIT 1) d,
           jsonb_array_elements(d.candidates) WITH ORDINALITY AS x(c, n)
$$;

DO $$
DECLARE
    clock timestamptz := '2026-03-09 08:00:00+00';
    picked bigint;
    who integer;
    first boolean;
    explained integer;
    routed integer;
    explained_text text;
BEGIN
    PERFORM setseed(0.2016);
    FOR step IN 1..600 LOOP
        -- time goes on, mostly within working days (the reps' hours start
        -- and end at different times, so some are out of hours)
        clock := clock + (floor(random() * 50)::int || ' minutes')::interval;
        IF extract(hour FROM clock) >= 19 THEN
            clock := date_trunc('day', clock) + interval '1 day 7 hours';
        END IF;
        IF extract(isodow FROM clock) >= 6 THEN
            clock := clock + ((8 - extract(isodow FROM clock))::int || ' days')::interval;
        END IF;
        PERFORM set_config('leadflow.clock', clock::text, false);
        who := 1 + floor(random() * 6)::int;
        -- one change of the state at random
        CASE floor(random() * 9)::int
        WHEN 0 THEN UPDATE leadflow.rep SET active = random() < 0.8 WHERE id = who;
        WHEN 1 THEN UPDATE leadflow.rep
                       SET away_until = CASE WHEN random() < 0.3 THEN clock + interval '5 hours' END
                     WHERE id = who;
        WHEN 2 THEN UPDATE leadflow.rep SET max_open = floor(random() * 8)::int WHERE id = who;
        WHEN 3 THEN UPDATE leadflow.rep SET max_new_per_day = floor(random() * 6)::int WHERE id = who;
        WHEN 4 THEN
            UPDATE leadflow.rep SET active = true, away_until = NULL,
                                    max_open = 2 + floor(random() * 6)::int,
                                    max_new_per_day = 1 + floor(random() * 5)::int
             WHERE id = who;
        WHEN 5 THEN UPDATE leadflow.account
                       SET owner_id = CASE WHEN random() < 0.7 THEN who END,
                           owned_until = CASE WHEN random() < 0.3 THEN clock - interval '1 hour' END
                     WHERE id = 1 + floor(random() * 4)::int;
        WHEN 6 THEN UPDATE leadflow.lead SET stage = 'rejected', reject_reason = 'random close'
                     WHERE id IN (SELECT id FROM leadflow.lead WHERE stage IN ('new', 'working')
                                     AND owner_id IS NOT NULL ORDER BY random() LIMIT 4);
        WHEN 7 THEN
            -- a waiting lead gets a previous owner: moved to a rep by hand
            -- (past the caps, as a manager may), then taken away again
            picked := (SELECT id FROM leadflow.lead WHERE stage IN ('new', 'working') AND owner_id IS NULL
                       AND queue IS NOT NULL ORDER BY random() LIMIT 1);
            IF picked IS NOT NULL THEN
                PERFORM set_config('leadflow.override_caps', 'on', true);
                PERFORM leadflow.assign(picked, who, 'covering');
                PERFORM set_config('leadflow.override_caps', 'off', true);
                UPDATE leadflow.lead SET owner_id = NULL WHERE id = picked;
            END IF;
        ELSE
            UPDATE leadflow.rep SET skills = CASE WHEN skills = '{}' THEN '{german}'::text[] ELSE '{}'::text[] END WHERE id = who;
        END CASE;

        -- A lead to route: a new one (inserted unrouted), or one waiting.
        IF random() < 0.45 THEN
            PERFORM set_config('leadflow.route_on_insert', 'off', true);
            INSERT INTO leadflow.lead (email, campaign, country)
            VALUES ('s' || step || '@' || (ARRAY['a1.test', 'a2.test', 'a3.test', 'a4.test', 'new' || step || '.test',
                                                 'gmail.com'])[1 + floor(random() * 6)::int],
                    (ARRAY['rr', 'w', 'lb', 'perf', 'solo', 'other'])[1 + floor(random() * 6)::int],
                    (ARRAY['DE', 'ES', 'US', 'US', 'US'])[1 + floor(random() * 5)::int])
            RETURNING id INTO picked;
            PERFORM set_config('leadflow.route_on_insert', 'on', true);
        ELSE
            picked := (SELECT id FROM leadflow.lead WHERE stage IN ('new', 'working') AND owner_id IS NULL
                      ORDER BY random() LIMIT 1);
            CONTINUE WHEN picked IS NULL;
        END IF;

        first := (SELECT queue IS NULL FROM leadflow.lead WHERE id = picked);
        explained_text := pg_temp.explained(picked);
        explained := (SELECT e.rep_id FROM leadflow.explain(picked) e WHERE e.chosen);
        INSERT INTO reasons_seen SELECT e.reason, e.account_owner, e.eligible, e.chosen FROM leadflow.explain(picked) e;
        routed := leadflow.route(picked);
        INSERT INTO agreement VALUES (step, picked, first, explained, routed, explained_text,
                                      CASE WHEN first THEN pg_temp.recorded(picked) END);
    END LOOP;
END;
$$;

-- How often they disagreed (never), over how many routings.
SELECT count(*) AS comparisons,
       count(*) FILTER (WHERE first_routing) AS first_routings,
       count(*) FILTER (WHERE explained IS DISTINCT FROM routed) AS owner_disagrees,
       count(*) FILTER (WHERE first_routing AND explained_candidates IS DISTINCT FROM recorded_candidates)
           AS candidates_disagree,
       count(*) FILTER (WHERE routed IS NULL) AS left_waiting
  FROM agreement;
SELECT * FROM agreement
 WHERE explained IS DISTINCT FROM routed
    OR (first_routing AND explained_candidates IS DISTINCT FROM recorded_candidates)
 LIMIT 5;
-- Every reason came up, for the account's owner too.
SELECT coalesce(reason, CASE WHEN chosen THEN '(chosen)' ELSE '(eligible)' END) AS reason,
       count(*) > 0 AS seen, bool_or(account_owner) AS for_an_account_owner
  FROM reasons_seen GROUP BY 1 ORDER BY 1;
-- Waiting leads given back to a previous owner, and the account's owner
-- chosen, as route() recorded them.
SELECT reason, count(*) > 0 AS seen FROM leadflow.decision
 WHERE reason IN ('previous_owner', 'account_owner') GROUP BY 1 ORDER BY 1;
SELECT * FROM leadflow.check_invariants();
SELECT * FROM leadflow.check_counters();

RESET leadflow.clock;
TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
    leadflow.account, leadflow.rep RESTART IDENTITY CASCADE;
DELETE FROM leadflow.queue WHERE name <> 'default';
