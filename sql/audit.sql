-- Catalog audit: what the catalog says about leadflow's functions, tables
-- and views against what docs/security.md (roles, row-level security and
-- privileges) promises.  Every query below lists violations, so each answers
-- "(0 rows)" while the two agree; a function or table added later shows up
-- here until docs/security.md (and, for a function without a pinned
-- search_path, the list below) says what it is.
\set VERBOSITY default
\set SHOW_CONTEXT never
-- Signatures are printed without the schema.
SET search_path = pg_catalog, leadflow;

-- docs/security.md, as the test runs from the top of the tree.
\set doc `cat docs/security.md`

-- The rows of the docs/security.md table between "<!-- audit:NAME -->" and the next
-- "<!-- /audit -->": one array of trimmed cells per row, without the
-- header and its rule (the table's first two lines).
CREATE FUNCTION pg_temp.doc_table(doc text, name text) RETURNS SETOF text[]
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT (SELECT array_agg(btrim(c) ORDER BY n)
              FROM unnest(string_to_array(btrim(btrim(t.line), '|'), '|')) WITH ORDINALITY AS x(c, n))
      FROM (SELECT line, row_number() OVER (ORDER BY n) AS k
              FROM regexp_split_to_table(
                       substring(doc FROM '<!-- audit:' || name || ' -->(.*?)<!-- /audit -->'),
                       E'\n') WITH ORDINALITY AS s(line, n)
             WHERE btrim(line) LIKE '|%') t
     WHERE t.k > 2
$$;
-- The function signatures (`name(type, ...)`) in a cell of those tables.
CREATE FUNCTION pg_temp.doc_functions(cell text) RETURNS SETOF text
    LANGUAGE sql IMMUTABLE
AS $$ SELECT m[1] FROM regexp_matches(cell, '`([^`]+)`', 'g') AS m $$;

-- Every function of the extension, as docs/security.md names it.
CREATE TEMP VIEW extension_function AS
SELECT p.oid,
       p.proname || '(' || replace(oidvectortypes(p.proargtypes),
                                   'timestamp with time zone', 'timestamptz') || ')' AS fn,
       l.lanname,
       p.prosecdef,
       p.prorettype = 'trigger'::regtype AS is_trigger,
       (SELECT substr(c, length('search_path=') + 1)
          FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%') AS search_path,
       -- what the types need: input and output, operators, operator
       -- classes, casts
       p.oid IN (SELECT unnest(ARRAY[typinput, typoutput, typreceive, typsend]) FROM pg_type
                 UNION SELECT oprcode FROM pg_operator
                 UNION SELECT amproc FROM pg_amproc
                 UNION SELECT castfunc FROM pg_cast) AS type_support
  FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                  AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  JOIN pg_extension x ON x.oid = d.refobjid AND x.extname = 'leadflow';

------------------------------------------------------------------------
-- search_path.  Functions that set it set exactly this: pg_temp named,
-- and last, so nothing a role creates in its temporary schema can stand
-- in for a table or type leadflow uses.
------------------------------------------------------------------------
SELECT fn, search_path AS wrong_search_path
  FROM extension_function
 WHERE search_path IS DISTINCT FROM 'pg_catalog, leadflow, pg_temp' AND search_path IS NOT NULL
 ORDER BY fn;
-- Every SECURITY DEFINER function sets it.
SELECT fn AS security_definer_without_search_path
  FROM extension_function WHERE prosecdef AND search_path IS NULL ORDER BY fn;

-- The functions that run without a pinned search_path, each with why that
-- is safe.  They are C functions that run no SQL and look nothing up
-- through search_path, so the caller's path cannot change what they do,
-- and a SET clause would cost a configuration save and restore on every
-- call (type input runs for every value read).  A function that runs SQL
-- may be here only when its C code pins the path itself around every
-- statement it runs ("pins its own path in C when it runs SQL").  Adding a
-- function here is a review decision: say why in the same line.
CREATE TEMP TABLE unpinned (fn text PRIMARY KEY, reason text NOT NULL);
INSERT INTO unpinned VALUES
    ('cadence_in(cstring)', 'type I/O: parses, runs no SQL'),
    ('cadence_out(cadence)', 'type I/O: prints, runs no SQL'),
    ('cadence_recv(internal)', 'type I/O: parses, runs no SQL'),
    ('cadence_send(cadence)', 'type I/O: prints, runs no SQL'),
    ('cadence_eq(cadence, cadence)', 'operator: compares bytes, runs no SQL'),
    ('cadence_ne(cadence, cadence)', 'operator: compares bytes, runs no SQL'),
    ('cadence_hash(cadence)', 'hash support: runs no SQL'),
    ('cadence_hash_extended(cadence, bigint)', 'hash support: runs no SQL'),
    ('cadence_named(text)', 'cadence accessor: built-in plans, runs no SQL'),
    ('cadence_steps(cadence)', 'cadence accessor: runs no SQL'),
    ('cadence_length(cadence)', 'cadence accessor: runs no SQL'),
    ('workhours_in(cstring)', 'type I/O: parses, time zone by name from the tz database, runs no SQL'),
    ('workhours_out(workhours)', 'type I/O: prints, runs no SQL'),
    ('workhours_recv(internal)', 'type I/O: parses, runs no SQL'),
    ('workhours_send(workhours)', 'type I/O: prints, runs no SQL'),
    ('workhours_eq(workhours, workhours)', 'operator: compares bytes, runs no SQL'),
    ('workhours_ne(workhours, workhours)', 'operator: compares bytes, runs no SQL'),
    ('workhours_hash(workhours)', 'hash support: runs no SQL'),
    ('workhours_zone(workhours)', 'workhours accessor: runs no SQL'),
    ('workhours_weekly(workhours)', 'workhours accessor: runs no SQL'),
    ('candidate_list_in(cstring)', 'type I/O: parses, runs no SQL'),
    ('candidate_list_out(candidate_list)', 'type I/O: prints, runs no SQL'),
    ('candidate_list_recv(internal)', 'type I/O: parses, runs no SQL'),
    ('candidate_list_send(candidate_list)', 'type I/O: prints, runs no SQL'),
    ('jsonb(candidate_list)', 'cast: converts, runs no SQL'),
    ('candidate_list(jsonb)', 'cast: converts, runs no SQL'),
    ('candidate_count(candidate_list)', 'candidate_list accessor: runs no SQL'),
    ('candidate_eligible_reps(candidate_list)', 'candidate_list accessor: runs no SQL'),
    ('company_key(text)', 'normalises a company name, runs no SQL'),
    ('add_business_time(timestamptz, interval, workhours, date[])', 'business time: computes, runs no SQL'),
    ('business_time_between(timestamptz, timestamptz, workhours, date[])', 'business time: computes, runs no SQL'),
    ('next_open(timestamptz, workhours, date[])', 'business time: computes, runs no SQL'),
    ('next_touch(cadence, integer, timestamptz, workhours, date[], timestamptz)', 'business time: computes, runs no SQL'),
    ('match_is_valid(jsonb)', 'matcher: walks jsonb, runs no SQL'),
    ('check_match(jsonb)', 'matcher: walks jsonb, runs no SQL'),
    ('matches(jsonb, jsonb)', 'matcher: walks jsonb, runs no SQL'),
    ('lead_matches(record, jsonb)', 'matcher: reads the row''s columns by name, runs no SQL'),
    ('now()', 'clock: reads leadflow.clock, runs no SQL'),
    ('acting_role()', 'names the session''s role, runs no SQL'),
    ('restoring()', 'reads a setting and the extension''s owner by OID, runs no SQL'),
    ('restoring_dump()', 'reads a setting, its saved values and the extension''s owner by OID, runs no SQL'),
    ('config_changed()', 'trigger: invalidates the cached configuration, runs no SQL'),
    ('routing_document(lead)', 'builds the document of the row it is given, runs no SQL'),
    ('lead_row_inserted(bigint, tid)', 'a trigger''s WHEN clause on every inserted row: compares a ctid, runs no SQL'),
    ('lead_keys_checked(bigint, text, integer)', 'a trigger''s WHEN clause on every written row: its one statement names its schema and operator'),
    ('lead_keys_checked(bigint, text, integer, bigint, text, integer)', 'a trigger''s WHEN clause on every updated row: its one statement names its schema and operator'),
    ('predict(jsonb, text)', 'pins its own path in C when it runs SQL (loading a model), a SET clause would cost every call');
-- Listed and unpinned, and nothing else; SQL and PL/pgSQL functions always
-- pin (only C can run no SQL at all).
SELECT coalesce(f.fn, u.fn) AS function,
       CASE WHEN f.fn IS NULL THEN 'listed, but no such function runs unpinned'
            WHEN u.fn IS NULL THEN 'runs without a pinned search_path and is not listed'
            ELSE f.lanname || ' function without a pinned search_path' END AS problem
  FROM (SELECT * FROM extension_function WHERE search_path IS NULL) f
  FULL JOIN unpinned u ON u.fn = f.fn
 WHERE f.fn IS NULL OR u.fn IS NULL OR f.lanname <> 'c'
 ORDER BY 1;

------------------------------------------------------------------------
-- SECURITY DEFINER: exactly the list of docs/security.md.
------------------------------------------------------------------------
SELECT coalesce(f.fn, r.fn) AS function,
       CASE WHEN f.fn IS NULL THEN 'in docs/security.md, but not SECURITY DEFINER'
            ELSE 'SECURITY DEFINER, but not in docs/security.md' END AS problem
  FROM (SELECT fn FROM extension_function WHERE prosecdef) f
  FULL JOIN (SELECT pg_temp.doc_functions(row[1]) AS fn
               FROM pg_temp.doc_table(:'doc', 'security-definer') AS row) r ON r.fn = f.fn
 WHERE f.fn IS NULL OR r.fn IS NULL
 ORDER BY 1;
-- Each with its reason (the table's second column is not empty).
SELECT row[1] AS security_definer_without_reason
  FROM pg_temp.doc_table(:'doc', 'security-definer') AS row
 WHERE coalesce(row[2], '') = '';

------------------------------------------------------------------------
-- EXECUTE: who may call each function, against docs/security.md.
------------------------------------------------------------------------
CREATE TEMP VIEW executable AS
SELECT f.fn, f.is_trigger, f.type_support,
       CASE WHEN has_function_privilege('public', f.oid, 'EXECUTE') THEN 'everyone'
            ELSE coalesce(nullif(concat_ws(', ',
                     CASE WHEN has_function_privilege('leadflow_rep', f.oid, 'EXECUTE') THEN 'leadflow_rep' END,
                     CASE WHEN has_function_privilege('leadflow_manager', f.oid, 'EXECUTE') THEN 'leadflow_manager' END,
                     CASE WHEN has_function_privilege('leadflow_admin', f.oid, 'EXECUTE') THEN 'leadflow_admin' END,
                     CASE WHEN has_function_privilege('leadflow_monitor', f.oid, 'EXECUTE') THEN 'leadflow_monitor' END),
                     ''), 'nobody') END AS who
  FROM extension_function f;
CREATE TEMP VIEW doc_executable AS
SELECT pg_temp.doc_functions(row[2]) AS fn,
       CASE WHEN row[1] LIKE 'nobody%' THEN 'nobody' ELSE row[1] END AS who
  FROM pg_temp.doc_table(:'doc', 'execute') AS row;
-- The types' support functions are everyone's (and not in the table);
-- every other function is in it, with the roles that may execute it.
SELECT coalesce(e.fn, r.fn) AS function, e.who AS catalog, r.who AS docs
  FROM (SELECT * FROM executable WHERE NOT type_support) e
  FULL JOIN doc_executable r ON r.fn = e.fn
 WHERE e.who IS DISTINCT FROM r.who
UNION ALL
SELECT fn, who, 'everyone (type support)'
  FROM executable WHERE type_support AND who <> 'everyone'
 ORDER BY 1;
-- Nobody may execute a trigger function: CREATE TRIGGER needs only
-- EXECUTE, and a SECURITY DEFINER one on a table of a role's own would run
-- as the extension's owner.
SELECT fn AS trigger_function_someone_may_execute
  FROM executable WHERE is_trigger AND who <> 'nobody' ORDER BY 1;

------------------------------------------------------------------------
-- Tables and views: each role's privileges, against docs/security.md.
------------------------------------------------------------------------
CREATE TEMP VIEW relation_privileges AS
WITH role(name, ord) AS (
    VALUES ('leadflow_rep', 1), ('leadflow_manager', 2), ('leadflow_admin', 3), ('leadflow_monitor', 4),
           ('public', 0)),
privilege(name, ord) AS (
    VALUES ('SELECT', 1), ('INSERT', 2), ('UPDATE', 3), ('DELETE', 4), ('TRUNCATE', 5),
           ('REFERENCES', 6), ('TRIGGER', 7))
SELECT c.relname, c.relrowsecurity, role.name AS role, role.ord,
       -- "SELECT, UPDATE (a, b)": the privileges on the whole relation, then
       -- those on some of its columns
       concat_ws(', ',
           (SELECT string_agg(p.name, ', ' ORDER BY p.ord) FROM privilege p
             WHERE has_table_privilege(role.name, c.oid, p.name)),
           (SELECT string_agg(p.name || ' (' || cols || ')', ', ' ORDER BY p.ord)
              FROM privilege p,
                   LATERAL (SELECT string_agg(a.attname, ', ' ORDER BY a.attnum) AS cols
                              FROM pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                               AND has_column_privilege(role.name, c.oid, a.attnum, p.name)) x
             WHERE p.name IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
               AND NOT has_table_privilege(role.name, c.oid, p.name) AND cols IS NOT NULL))
           AS privileges
  FROM pg_class c, role
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f');
CREATE TEMP VIEW doc_relation_privileges AS
SELECT pg_temp.doc_functions(row[1]) AS relname, row[2] = 'yes' AS relrowsecurity,
       role.name AS role, row[role.col] AS privileges
  FROM pg_temp.doc_table(:'doc', 'relations') AS row,
       (VALUES ('leadflow_rep', 3), ('leadflow_manager', 4), ('leadflow_admin', 5),
               ('leadflow_monitor', 6)) role(name, col);
SELECT coalesce(c.relname, r.relname) AS relation, coalesce(c.role, r.role) AS role,
       c.privileges AS catalog, r.privileges AS docs
  FROM (SELECT * FROM relation_privileges WHERE role <> 'public') c
  FULL JOIN doc_relation_privileges r ON r.relname = c.relname AND r.role = c.role
 WHERE c.privileges IS DISTINCT FROM r.privileges
 ORDER BY 1, 2;
SELECT DISTINCT coalesce(c.relname, r.relname) AS relation,
       c.relrowsecurity AS catalog_rls, r.relrowsecurity AS docs_rls
  FROM (SELECT * FROM relation_privileges WHERE role <> 'public') c
  FULL JOIN doc_relation_privileges r ON r.relname = c.relname AND r.role = c.role
 WHERE c.relrowsecurity IS DISTINCT FROM r.relrowsecurity
 ORDER BY 1;
-- PUBLIC has nothing on any of them.
SELECT relname, privileges AS public_privileges
  FROM relation_privileges WHERE role = 'public' AND privileges <> '' ORDER BY 1;
-- A view a rep may read runs as its reader, so that row-level security
-- narrows it (a view runs as its owner otherwise: the superuser, who
-- bypasses row-level security).
SELECT c.relname AS rep_readable_view_without_security_invoker
  FROM pg_class c
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'v'
   AND has_table_privilege('leadflow_rep', c.oid, 'SELECT')
   AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);

-- Sequences: USAGE exactly where the role may INSERT into the sequence's
-- table, and no SELECT or UPDATE (setval) for anyone.
SELECT s.relname AS sequence, role, t.relname AS of_table,
       has_sequence_privilege(role, s.oid, 'USAGE') AS usage,
       has_table_privilege(role, t.oid, 'INSERT') AS insert_on_table,
       has_sequence_privilege(role, s.oid, 'SELECT, UPDATE') AS select_or_update
  FROM pg_class s
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
  JOIN pg_class t ON t.oid = d.refobjid,
       unnest(ARRAY['public', 'leadflow_rep', 'leadflow_manager', 'leadflow_admin', 'leadflow_monitor']) role
 WHERE s.relnamespace = 'leadflow'::regnamespace AND s.relkind = 'S'
   AND (has_sequence_privilege(role, s.oid, 'USAGE') <> has_table_privilege(role, t.oid, 'INSERT')
        OR has_sequence_privilege(role, s.oid, 'SELECT, UPDATE'))
 ORDER BY 1, 2;
-- Every sequence belongs to a table (so the rule above covers them all).
SELECT s.relname AS sequence_of_no_table
  FROM pg_class s
 WHERE s.relnamespace = 'leadflow'::regnamespace AND s.relkind = 'S'
   AND NOT EXISTS (SELECT FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a');

-- Schema leadflow: USAGE for leadflow's roles (and nobody else), CREATE
-- for nobody but its owner.
SELECT role, has_schema_privilege(role, 'leadflow', 'USAGE') AS usage,
       has_schema_privilege(role, 'leadflow', 'CREATE') AS "create"
  FROM unnest(ARRAY['public', 'leadflow_rep', 'leadflow_manager', 'leadflow_admin', 'leadflow_monitor']) role
 WHERE has_schema_privilege(role, 'leadflow', 'USAGE') <> (role <> 'public')
    OR has_schema_privilege(role, 'leadflow', 'CREATE');

-- The tables of docs/security.md were read (a page without them would pass all
-- of the above only if the catalog were empty too).
SELECT name, (SELECT count(*) > 0 FROM pg_temp.doc_table(:'doc', name)) AS read
  FROM unnest(ARRAY['security-definer', 'execute', 'relations']) name
 ORDER BY 1;

RESET search_path;
