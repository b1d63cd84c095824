-- Rule matching (src/matching.c): leadflow.matches, match_is_valid,
-- check_match, lead_matches, and the rule tables' constraints.
-- Uses only the lead columns id, email, source, campaign, company, country
-- and attrs, so that it does not depend on the rest of the schema.

-- Scalars: strings exactly, numbers numerically, booleans, null.
SELECT leadflow.matches('{"plan": "pro"}', '{"plan": "pro"}') AS string_equal,
       leadflow.matches('{"plan": "pro"}', '{"plan": "Pro"}') AS case_differs,
       leadflow.matches('{"plan": "pro "}', '{"plan": "pro"}') AS space_differs,
       leadflow.matches('{"plan": "pro"}', '{"plan": "enterprise"}') AS string_differs;
SELECT leadflow.matches('{"seats": 1}', '{"seats": 1.0}') AS one_is_one_point_zero,
       leadflow.matches('{"seats": 1.50}', '{"seats": 1.5}') AS trailing_zero,
       leadflow.matches('{"seats": 1e3}', '{"seats": 1000}') AS exponent,
       leadflow.matches('{"seats": 2}', '{"seats": 1}') AS number_differs,
       leadflow.matches('{"seats": "1"}', '{"seats": 1}') AS string_is_not_number,
       leadflow.matches('{"seats": 1}', '{"seats": "1"}') AS number_is_not_string;
SELECT leadflow.matches('{"paid": true}', '{"paid": true}') AS true_true,
       leadflow.matches('{"paid": false}', '{"paid": false}') AS false_false,
       leadflow.matches('{"paid": false}', '{"paid": true}') AS false_true,
       leadflow.matches('{"paid": "true"}', '{"paid": true}') AS string_true,
       leadflow.matches('{"paid": 1}', '{"paid": true}') AS one_true;
SELECT leadflow.matches('{"fax": null}', '{"fax": null}') AS null_null,
       leadflow.matches('{}', '{"fax": null}') AS missing_is_not_null,
       leadflow.matches('{"fax": ""}', '{"fax": null}') AS empty_is_not_null,
       leadflow.matches('{"fax": false}', '{"fax": null}') AS false_is_not_null,
       leadflow.matches('{"fax": null}', '{"fax": "null"}') AS null_is_not_string;

-- Unicode strings compare byte for byte (no case or accent folding).
SELECT leadflow.matches('{"city": "Zürich"}', '{"city": "Zürich"}') AS same,
       leadflow.matches('{"city": "Zürich"}', '{"city": "Zurich"}') AS accent,
       leadflow.matches('{"city": "zürich"}', '{"city": "ZÜRICH"}') AS upper,
       leadflow.matches('{"name": "東京"}', '{"name": ["大阪", "東京"]}') AS cjk_any_of,
       leadflow.matches('{"e": "\u00e9"}', '{"e": "é"}') AS escape_same;

-- Empty match, several keys (AND), missing keys.
SELECT leadflow.matches('{}', '{}') AS empty_on_empty,
       leadflow.matches('{"a": 1}', '{}') AS empty_on_any,
       leadflow.matches('{"a": 1, "b": 2}', '{"a": 1, "b": 2}') AS both,
       leadflow.matches('{"a": 1, "b": 3}', '{"a": 1, "b": 2}') AS one_fails,
       leadflow.matches('{"a": 1}', '{"a": 1, "b": 2}') AS one_missing,
       leadflow.matches('{"a": 1}', '{"A": 1}') AS keys_are_case_sensitive;

-- Arrays in the rule: any of.
SELECT leadflow.matches('{"country": "CA"}', '{"country": ["US", "CA"]}') AS in_list,
       leadflow.matches('{"country": "MX"}', '{"country": ["US", "CA"]}') AS not_in_list,
       leadflow.matches('{"size": 50.0}', '{"size": [10, 50]}') AS number_in_list,
       leadflow.matches('{"x": null}', '{"x": ["a", null]}') AS null_in_list,
       leadflow.matches('{"x": true}', '{"x": [1, "true"]}') AS bool_not_in_list,
       leadflow.matches('{}', '{"x": ["a", null]}') AS missing_not_in_list;

-- Arrays in the document (tags): any element equals any wanted value.
SELECT leadflow.matches('{"tags": ["vip", "partner"]}', '{"tags": ["partner", "press"]}') AS overlap,
       leadflow.matches('{"tags": ["vip", "partner"]}', '{"tags": ["press", "analyst"]}') AS no_overlap,
       leadflow.matches('{"tags": ["vip", "partner"]}', '{"tags": "vip"}') AS scalar_in_tags,
       leadflow.matches('{"tags": ["vip", "partner"]}', '{"tags": "press"}') AS scalar_not_in_tags,
       leadflow.matches('{"tags": []}', '{"tags": "vip"}') AS empty_tags,
       leadflow.matches('{"tags": [["vip"]]}', '{"tags": "vip"}') AS nested_array_not_flattened,
       leadflow.matches('{"tags": [1, 2.0]}', '{"tags": [2]}') AS numeric_tags;

-- A scalar or a list does not match an object in the document, and
-- vice versa.
SELECT leadflow.matches('{"utm": {"medium": "cpc"}}', '{"utm": "cpc"}') AS scalar_vs_object,
       leadflow.matches('{"utm": {"medium": "cpc"}}', '{"utm": ["cpc"]}') AS list_vs_object,
       leadflow.matches('{"utm": "cpc"}', '{"utm": {"medium": "cpc"}}') AS object_vs_scalar,
       leadflow.matches('{"utm": [{"medium": "cpc"}]}', '{"utm": {"medium": "cpc"}}') AS object_vs_array;

-- Nested objects.
SELECT leadflow.matches('{"utm": {"medium": "cpc", "source": "google"}}',
                        '{"utm": {"medium": "cpc"}}') AS nested,
       leadflow.matches('{"utm": {"medium": "cpc", "source": "google"}}',
                        '{"utm": {"medium": "cpc", "source": ["bing", "google"]}}') AS nested_any_of,
       leadflow.matches('{"utm": {"medium": "email"}}',
                        '{"utm": {"medium": "cpc"}}') AS nested_differs,
       leadflow.matches('{"utm": {"medium": "cpc"}}',
                        '{"utm": {}}') AS nested_empty,
       leadflow.matches('{"a": {"b": {"c": [1, 2]}}}',
                        '{"a": {"b": {"c": 2}}}') AS three_levels,
       leadflow.matches('{"medium": "cpc", "utm": {}}',
                        '{"utm": {"medium": "cpc"}}') AS nested_is_not_top;

-- not: alone, combined, nested, on a missing key.
SELECT leadflow.matches('{"country": "DE"}', '{"not": {"country": ["US", "CA"]}}') AS not_alone,
       leadflow.matches('{"country": "US"}', '{"not": {"country": ["US", "CA"]}}') AS not_alone_fails,
       leadflow.matches('{}', '{"not": {"country": "US"}}') AS not_on_missing,
       leadflow.matches('{"country": null}', '{"not": {"country": "US"}}') AS not_on_null,
       leadflow.matches('{"a": 1}', '{"not": {}}') AS not_empty_matches_nothing;
SELECT leadflow.matches('{"country": "DE", "plan": "pro"}',
                        '{"plan": "pro", "not": {"country": ["US", "CA"]}}') AS combined,
       leadflow.matches('{"country": "DE", "plan": "free"}',
                        '{"plan": "pro", "not": {"country": ["US", "CA"]}}') AS combined_other_fails,
       leadflow.matches('{"country": "US", "plan": "pro"}',
                        '{"plan": "pro", "not": {"country": ["US", "CA"]}}') AS combined_not_fails,
       leadflow.matches('{"a": 1, "b": 2}', '{"not": {"a": 1, "b": 2}}') AS not_of_and,
       leadflow.matches('{"a": 1, "b": 3}', '{"not": {"a": 1, "b": 2}}') AS not_of_and_half;
SELECT leadflow.matches('{"a": 1}', '{"not": {"not": {"a": 1}}}') AS double_not,
       leadflow.matches('{"a": 2}', '{"not": {"not": {"a": 1}}}') AS double_not_fails,
       leadflow.matches('{"utm": {"medium": "cpc"}}',
                        '{"utm": {"not": {"medium": "email"}}}') AS not_inside_nested,
       leadflow.matches('{"utm": {"medium": "email"}}',
                        '{"utm": {"not": {"medium": "email"}}}') AS not_inside_nested_fails,
       leadflow.matches('{}', '{"utm": {"not": {"medium": "email"}}}') AS nested_missing_key,
       leadflow.matches('{"tags": ["vip", "spam"]}', '{"not": {"tags": "spam"}}') AS not_in_tags;

-- Deep nesting: 100 levels of not (even: the same as the inner match) and
-- 100 nested objects.
SELECT leadflow.matches('{"a": 1}', (repeat('{"not": ', 100) || '{"a": 1}' || repeat('}', 100))::jsonb) AS not_100,
       leadflow.matches('{"a": 1}', (repeat('{"not": ', 99) || '{"a": 1}' || repeat('}', 99))::jsonb) AS not_99,
       leadflow.matches((repeat('{"k": ', 100) || '"v"' || repeat('}', 100))::jsonb,
                        (repeat('{"k": ', 100) || '"v"' || repeat('}', 100))::jsonb) AS nested_100,
       leadflow.matches((repeat('{"k": ', 100) || '"v"' || repeat('}', 100))::jsonb,
                        (repeat('{"k": ', 100) || '"w"' || repeat('}', 100))::jsonb) AS nested_100_differs,
       leadflow.match_is_valid((repeat('{"not": ', 100) || '{"a": []}' || repeat('}', 100))::jsonb) AS deep_invalid;

-- A big document: 1000 keys (binary search in attrs), and its arrays.
CREATE TEMP TABLE big AS
SELECT jsonb_object_agg('k' || i, i) || '{"tags": ["t1", "t500", "t999"]}' AS doc
  FROM generate_series(1, 1000) AS i;
SELECT jsonb_typeof(doc), (SELECT count(*) FROM jsonb_object_keys(doc)) AS keys FROM big;
SELECT leadflow.matches(doc, '{"k1": 1, "k500": 500, "k1000": 1000}') AS first_middle_last,
       leadflow.matches(doc, '{"k1": 1, "k500": 501}') AS one_off,
       leadflow.matches(doc, '{"k1001": 1001}') AS missing,
       leadflow.matches(doc, '{"k999": [1, 999], "tags": ["t999"]}') AS any_of_and_tags,
       leadflow.matches(doc, '{"not": {"k2": 3}, "k3": 3.000}') AS not_and_numeric
  FROM big;
-- Every key matches its own value, and no key matches its neighbour's.
SELECT count(*) FILTER (WHERE leadflow.matches(doc, jsonb_build_object('k' || i, i))) AS own,
       count(*) FILTER (WHERE leadflow.matches(doc, jsonb_build_object('k' || i, i + 1))) AS neighbour
  FROM big, generate_series(1, 1000) AS i;

-- Long arrays and matches with many keys (jsonb stores an offset only every
-- 32 entries, so these read entries on both sides of such a boundary).
SELECT leadflow.matches(doc, (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 100) AS i)) AS match_100_keys,
       leadflow.matches(doc, (SELECT jsonb_object_agg('k' || i, CASE WHEN i = 77 THEN 0 ELSE i END)
                                FROM generate_series(1, 100) AS i)) AS key_77_differs,
       leadflow.matches(doc, jsonb_build_object('k70', (SELECT jsonb_agg(i) FROM generate_series(1, 70) AS i))) AS any_of_70_last,
       leadflow.matches(doc, jsonb_build_object('k71', (SELECT jsonb_agg(i) FROM generate_series(1, 70) AS i))) AS any_of_70_none,
       leadflow.matches((SELECT jsonb_build_object('tags', jsonb_agg('t' || i)) FROM generate_series(1, 100) AS i),
                        '{"tags": ["x", "t99"]}') AS tags_100,
       leadflow.matches((SELECT jsonb_build_object('tags', jsonb_agg('t' || i)) FROM generate_series(1, 100) AS i),
                        '{"tags": ["x", "t101"]}') AS tags_100_none
  FROM big;

-- The document must be an object.
SELECT leadflow.matches('[1]', '{}');
SELECT leadflow.matches('"x"', '{}');

-- Validity.
SELECT m, leadflow.match_is_valid(m::jsonb) AS valid
  FROM (VALUES ('{}'), ('{"a": 1}'), ('{"a": [1, "x", null, true]}'),
               ('{"not": {}}'), ('{"a": {"b": {"not": {"c": [1]}}}}'),
               ('[]'), ('"x"'), ('1'), ('null'), ('true'),
               ('{"not": 1}'), ('{"not": []}'), ('{"a": []}'), ('{"a": [[1]]}'),
               ('{"a": [{"b": 1}]}'), ('{"a": {"b": []}}')) AS t (m);
SELECT leadflow.match_is_valid(NULL) IS NULL AS strict,
       leadflow.check_match(NULL) IS NULL AS check_strict,
       leadflow.check_match('{"not": {"a": [1, 2]}}') AS check_ok;

-- check_match errors name the key.
\set VERBOSITY default
SELECT leadflow.check_match('[{"a": 1}]');
SELECT leadflow.check_match('"country"');
SELECT leadflow.check_match('42');
SELECT leadflow.check_match('null');
SELECT leadflow.check_match('{"not": "US"}');
SELECT leadflow.check_match('{"not": ["US"]}');
SELECT leadflow.check_match('{"country": []}');
SELECT leadflow.check_match('{"country": [["US"]]}');
SELECT leadflow.check_match('{"country": ["US", {"not": "CA"}]}');
SELECT leadflow.check_match('{"utm": {"not": {"medium": []}}}');
SELECT leadflow.check_match('{"a.b": {"x\"y": true}}');
SELECT leadflow.check_match('{"a.b": {"x\"y": [true, null, []]}}');
-- matches refuses an invalid match with the same error.
SELECT leadflow.matches('{"not": 1}', '{"not": 1}');
\set VERBOSITY terse
-- SQLSTATE 22023.
DO $$
BEGIN
    PERFORM leadflow.check_match('{"not": 1}');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'caught %', SQLSTATE;
END;
$$;
\set VERBOSITY default

-- The rule tables refuse invalid matches.
INSERT INTO leadflow.rule (name, match, queue) VALUES ('x', '{"not": 1}', 'default');
INSERT INTO leadflow.rule (name, match, queue) VALUES ('x', '["US"]', 'default');
INSERT INTO leadflow.rule (name, match, queue)
VALUES ('not north america', '{"not": {"country": ["US", "CA"]}}', 'default')
RETURNING name, match;
UPDATE leadflow.rule SET match = '{"country": []}' WHERE name = 'not north america';
INSERT INTO leadflow.scoring_rule (name, kind, match, points)
VALUES ('bad', 'fit', '{"tags": [{"vip": true}]}', 10);
INSERT INTO leadflow.scoring_rule (name, kind, match, points)
VALUES ('enterprise', 'fit', '{"employees": ["1000+", "5000+"]}', 10)
RETURNING name, match;
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life)
VALUES ('opens', 'engagement', 'email_open', 1, '7 days')
RETURNING name, match;
DELETE FROM leadflow.rule;
DELETE FROM leadflow.scoring_rule;

-- lead_matches: the routing document as routing sees it, built in C from
-- the lead's columns: a column that is set wins over the attrs key.
CREATE TEMP TABLE l AS
SELECT 'Ann@Example.COM'::text AS email, 'web_form'::text AS source,
       'spring'::text AS campaign, 'Acme'::text AS company, 'FR'::text AS country,
       '{"country": "DE", "source": "event", "domain": "other.org",
         "plan": "pro", "tags": ["vip"]}'::jsonb AS attrs;
SELECT leadflow.lead_matches(l, '{"country": "FR"}') AS column_country,
       leadflow.lead_matches(l, '{"country": "DE"}') AS attrs_country,
       leadflow.lead_matches(l, '{"source": "web_form", "campaign": "spring", "company": "Acme"}') AS columns,
       leadflow.lead_matches(l, '{"source": "event"}') AS attrs_source,
       leadflow.lead_matches(l, '{"domain": "example.com"}') AS domain_lower_case,
       leadflow.lead_matches(l, '{"domain": "other.org"}') AS attrs_domain,
       leadflow.lead_matches(l, '{"plan": "pro", "tags": "vip"}') AS attrs,
       leadflow.lead_matches(l, '{"not": {"country": ["DE", "US"]}}') AS not_column
  FROM l;
-- A NULL column leaves the attrs key visible; the domain is the trimmed,
-- lower-cased part after the last '@', and absent without one.
SELECT e AS email,
       leadflow.lead_matches(l, '{"country": "DE"}') AS attrs_country,
       leadflow.lead_matches(l, '{"source": "event"}') AS attrs_source,
       leadflow.lead_matches(l, '{"domain": "example.com"}') AS example_com,
       leadflow.lead_matches(l, '{"domain": "other.org"}') AS attrs_domain
  FROM (SELECT e, NULL::text AS source, NULL::text AS campaign, NULL::text AS company,
               NULL::text AS country, attrs, e AS email
          FROM (SELECT attrs FROM l) AS a,
               (VALUES (' Bob@EXAMPLE.com  '), ('"a@b"@Example.Com'), ('x@ example.COM'),
                       ('no-at-sign'), ('trailing@'), ('trailing@   '), (NULL)) AS v (e)) AS l;
-- The domain is folded as lower() folds it; NULL attrs is no attrs.
SELECT leadflow.lead_matches(l, jsonb_build_object('domain', lower('BÜCHER.de'))) AS folded_like_lower,
       leadflow.lead_matches(l, '{}') AS empty_match,
       leadflow.lead_matches(l, '{"not": {"plan": "pro"}}') AS no_attrs
  FROM (SELECT 'x@BÜCHER.de'::text AS email, NULL::text AS source, NULL::text AS campaign,
               NULL::text AS company, NULL::text AS country, NULL::jsonb AS attrs) AS l;
-- Rows without the lead's columns, or with other types, are refused.
SELECT leadflow.lead_matches(l, '{}') FROM (SELECT 'a@b.c'::text AS email) AS l;
SELECT leadflow.lead_matches(l, '{}')
  FROM (SELECT 1 AS email, ''::text AS source, ''::text AS campaign, ''::text AS company,
               ''::text AS country, '{}'::jsonb AS attrs) AS l;
SELECT leadflow.lead_matches(l, '{"not": 1}') FROM l;

-- And on leadflow.lead rows themselves (routing on insert is off here so
-- that the test depends on nothing but matching).
BEGIN;
SET LOCAL leadflow.route_on_insert = off;
INSERT INTO leadflow.lead (email, source, campaign, company, country, attrs)
VALUES ('ann@acme.example', 'web_form', 'spring', 'Acme', 'FR',
        '{"country": "DE", "employees": "1000+"}'),
       ('bob@gmail.com', 'inbound_call', NULL, NULL, NULL,
        '{"country": "DE", "employees": "10-50"}');
SELECT email,
       leadflow.lead_matches(l, '{"country": "FR"}') AS fr,
       leadflow.lead_matches(l, '{"country": "DE"}') AS de,
       leadflow.lead_matches(l, '{"domain": "acme.example"}') AS acme,
       leadflow.lead_matches(l, '{"source": ["web_form", "referral"], "not": {"domain": "gmail.com"}}') AS rule
  FROM leadflow.lead AS l ORDER BY email;
ROLLBACK;
DROP TABLE big, l;
