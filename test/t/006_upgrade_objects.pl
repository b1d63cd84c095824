# An extension updated with ALTER EXTENSION from each released version
# (1.0, 1.1) is the same as a fresh install of the current one: the same
# member objects, function definitions, table
# columns and constraints, indexes, triggers, views, policies, privileges,
# comments and dump registrations.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION leadflow');
my $current = $node->safe_psql('fresh',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'leadflow'});
my @released = ('1.0', '1.1');
for my $from (@released)
{
	(my $db = "updated_from_$from") =~ s/\./_/g;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, qq{CREATE EXTENSION leadflow VERSION '$from'});
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'leadflow'}),
		$from, "installed as $from");
	$node->safe_psql($db, 'ALTER EXTENSION leadflow UPDATE');
	is($node->safe_psql($db, q{SELECT extversion FROM pg_extension WHERE extname = 'leadflow'}),
		$current, "$from updated to $current");
}

# Each aspect as sorted text, free of OIDs.  Objects are named through
# pg_describe_object and regclass/regprocedure, never by OID.
my %aspects = (
	'extension version' => q{SELECT extversion FROM pg_extension WHERE extname = 'leadflow'},
	'member objects' => q{
		SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
		  FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
		 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
		   AND x.extname = 'leadflow'
		 ORDER BY 1},
	'function definitions' => q{
		SELECT p.oid::regprocedure || E'\n' || pg_get_functiondef(p.oid)
		       || E'\nacl ' || coalesce(p.proacl::text, '-')
		       || E'\ncomment ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
		  FROM pg_proc p
		 WHERE p.pronamespace = 'leadflow'::regnamespace AND p.prokind IN ('f', 'p', 'w')
		 ORDER BY 1},
	'aggregates' => q{
		SELECT p.oid::regprocedure::text FROM pg_proc p
		 WHERE p.pronamespace = 'leadflow'::regnamespace AND p.prokind = 'a' ORDER BY 1},
	'relations' => q{
		SELECT c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, '-')
		       || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
		       || ' options=' || coalesce(c.reloptions::text, '-')
		       || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
		  FROM pg_class c WHERE c.relnamespace = 'leadflow'::regnamespace ORDER BY 1},
	'columns' => q{
		SELECT a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
		       || ' notnull=' || a.attnotnull
		       || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '-')
		       || ' compression=' || a.attcompression::text
		       || ' acl=' || coalesce(a.attacl::text, '-')
		       || ' comment=' || coalesce(col_description(a.attrelid, a.attnum), '-')
		  FROM pg_attribute a
		  JOIN pg_class c ON c.oid = a.attrelid
		  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		 WHERE c.relnamespace = 'leadflow'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
		 ORDER BY a.attrelid::regclass::text, a.attnum},
	'constraints' => q{
		SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		  FROM pg_constraint WHERE connamespace = 'leadflow'::regnamespace ORDER BY 1},
	'indexes' => q{
		SELECT indexdef FROM pg_indexes WHERE schemaname = 'leadflow' ORDER BY 1},
	'triggers' => q{
		SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
		  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		 WHERE c.relnamespace = 'leadflow'::regnamespace AND NOT t.tgisinternal ORDER BY 1},
	'views' => q{
		SELECT c.oid::regclass || E'\n' || pg_get_viewdef(c.oid)
		  FROM pg_class c WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind IN ('v', 'm')
		 ORDER BY 1},
	'policies' => q{
		SELECT schemaname || '.' || tablename || ' ' || policyname || ' ' || permissive || ' '
		       || roles::text || ' ' || cmd || ' ' || coalesce(qual, '-') || ' ' || coalesce(with_check, '-')
		  FROM pg_policies WHERE schemaname = 'leadflow' ORDER BY 1},
	'types' => q{
		SELECT t.oid::regtype || ' ' || t.typtype::text || ' ' || coalesce(t.typacl::text, '-')
		       || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
		                            FROM pg_enum e WHERE e.enumtypid = t.oid), '')
		  FROM pg_type t WHERE t.typnamespace = 'leadflow'::regnamespace ORDER BY 1},
	'operators' => q{
		SELECT o.oid::regoperator || ' ' || o.oprcode::regproc
		  FROM pg_operator o WHERE o.oprnamespace = 'leadflow'::regnamespace ORDER BY 1},
	'schema' => q{
		SELECT nspname || ' ' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname = 'leadflow'},
	'dump registrations' => q{
		SELECT c.oid::regclass || ' ' || coalesce(cond, '')
		  FROM pg_extension x, unnest(x.extconfig, x.extcondition) AS u(oid, cond)
		  JOIN pg_class c ON c.oid = u.oid
		 WHERE x.extname = 'leadflow' ORDER BY 1},
	'rows shipped with the extension' => q{
		SELECT 'queue ' || q::text FROM leadflow.queue q
		UNION ALL SELECT 'freemail ' || f::text FROM leadflow.freemail_domain f
		UNION ALL SELECT 'calling code ' || c::text FROM leadflow.country_calling_code c
		ORDER BY 1},
);

for my $from (@released)
{
	(my $db = "updated_from_$from") =~ s/\./_/g;
	for my $aspect (sort keys %aspects)
	{
		my $fresh = $node->safe_psql('fresh', $aspects{$aspect});
		my $updated = $node->safe_psql($db, $aspects{$aspect});
		if ($fresh eq $updated)
		{
			pass("$aspect: updated from $from equals a fresh install");
		}
		else
		{
			fail("$aspect: updated from $from equals a fresh install");
			my %f = map { $_ => 1 } split /\n/, $fresh;
			my %u = map { $_ => 1 } split /\n/, $updated;
			diag("only in fresh: $_") for grep { !$u{$_} } sort keys %f;
			diag("only in updated: $_") for grep { !$f{$_} } sort keys %u;
		}
	}
}
isnt($node->safe_psql('fresh', $aspects{'member objects'}), '', 'the comparison sees the members');
like($node->safe_psql('updated_from_1_0', $aspects{'member objects'}),
	qr/function leadflow\.check_invariants\(\)/, 'the updated extension has 1.1 objects');

$node->stop;
done_testing();
