# pg_dump and pg_restore (custom and plain formats) round-trip a worked
# leadflow database exactly -- configuration, leads, touches, ledger,
# alerts, counters, rotation state, sequences -- and the restore routes,
# counts and alerts nothing again.  The restored database then works.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE crm');
$node->safe_psql('crm', q{
CREATE EXTENSION leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';
INSERT INTO leadflow.rep (id, name, max_open, manager_id) VALUES (9, 'Mia', 150, NULL);
INSERT INTO leadflow.rep (id, name, max_open, manager_id, hours, holidays)
    VALUES (1, 'Ana', 3, 9, 'mon-fri 09:00-17:00 America/New_York', '{2026-04-03}'),
           (2, 'Ben', 150, 9, 'mon-fri 09:00-17:00 Europe/Berlin', '{}');
INSERT INTO leadflow.queue (name, strategy, sticky_account, hold_for, first_touch_sla)
    VALUES ('inside', 'weighted', true, '14 days', '30 minutes');
UPDATE leadflow.queue SET cadence = 'call@0, email@2h, call@2d' WHERE name = 'default';
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES ('inside', 1, 2), ('inside', 2, 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'web', '{"source": "web_form"}', 'inside');
INSERT INTO leadflow.freemail_domain (domain) VALUES ('mail.example');
INSERT INTO leadflow.country_calling_code (country, calling_code, trunk_prefix) VALUES ('XK', '383', '0');
INSERT INTO leadflow.qualification_criterion (name, attribute, allowed) VALUES ('budget', 'budget', '{yes}');
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES ('de', 'fit', '{"country": "DE"}', 10);
INSERT INTO leadflow.account (domain, status, suppress_reason) VALUES ('rival.example', 'suppressed', 'competitor');
INSERT INTO leadflow.lead (email, source, country, phone, attrs)
    SELECT 'p' || g || '@c' || (g % 3) || '.example', 'web_form', 'DE', '030 55' || g, '{"budget": "yes"}'
      FROM generate_series(1, 8) g;
INSERT INTO leadflow.lead (email, source) VALUES ('p1@c1.example', 'web_form'), ('x@rival.example', 'event');
INSERT INTO leadflow.lead (email, owner_id, stage) VALUES ('old@c9.example', 2, 'converted');
SELECT leadflow.log_touch(1, 'call', 'connected');
SELECT leadflow.log_touch(2, 'call', 'qualified');
SELECT * FROM leadflow.sweep('2026-03-10 12:00:00+00');
});

# A signature of every table leadflow registers for dumping, and of the
# sequences' positions.
my @tables = split /\n/, $node->safe_psql('crm', q{
    SELECT c.relname FROM pg_extension x, unnest(x.extconfig) AS u(oid)
      JOIN pg_class c ON c.oid = u.oid
     WHERE x.extname = 'leadflow' AND c.relkind = 'r' ORDER BY 1});
sub signature
{
	my ($db) = @_;
	my %sig;
	for my $t (@tables)
	{
		$sig{$t} = $node->safe_psql($db,
			"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-')"
			  . " FROM leadflow.$t t");
	}
	$sig{sequences} = $node->safe_psql($db, q{
		SELECT string_agg(sequencename || '=' || coalesce(last_value::text, 'null'), ',' ORDER BY sequencename)
		  FROM pg_sequences WHERE schemaname = 'leadflow'});
	return \%sig;
}
my $before = signature('crm');
cmp_ok(scalar(@tables), '>=', 18, 'leadflow registers its tables for dumping');
like($before->{decision}, qr/^[1-9]/, 'the source database has a ledger');
like($before->{alert}, qr/^[1-9]/, 'and alerts');
like($before->{config_change}, qr/^[1-9]/, 'and a configuration audit');
my $audit_last = $node->safe_psql('crm', 'SELECT max(id) FROM leadflow.config_change');

my $dumpfile = $node->basedir . '/crm.dump';
my $sqlfile = $node->basedir . '/crm.sql';
command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('crm'), '-f', $dumpfile ], 'pg_dump, custom format');
command_ok([ 'pg_dump', '-Fp', '-d', $node->connstr('crm'), '-f', $sqlfile ], 'pg_dump, plain format');

$node->safe_psql('postgres', 'CREATE DATABASE crm_custom');
command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('crm_custom'), $dumpfile ],
	'pg_restore of the custom dump');
$node->safe_psql('postgres', 'CREATE DATABASE crm_plain');
command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('crm_plain'), '-f', $sqlfile ],
	'psql of the plain dump');

for my $db ('crm_custom', 'crm_plain')
{
	my $after = signature($db);
	for my $t (@tables, 'sequences')
	{
		is($after->{$t}, $before->{$t}, "$db: $t is exactly as dumped");
	}
	is($node->safe_psql($db, 'SELECT count(*) FROM leadflow.check_counters()'), '0',
		"$db: counters agree with the leads");
	# The restore ran the extension script: leadflow checks the lead's
	# foreign keys, PostgreSQL's check triggers are off.
	is($node->safe_psql($db, q{SELECT string_agg(DISTINCT postgresql_checks::text || '/' || leadflow_checks::text, ',')
		                          FROM leadflow.lead_key_triggers}), 'false/true',
		"$db: leadflow checks the lead's foreign keys");
	is($node->safe_psql($db, q{SELECT coalesce(string_agg(kind || ': ' || detail, E'\n'), '')
		                          FROM leadflow.check_invariants()}), '',
		"$db: the invariants hold");
	# The restored database works: a new lead is routed and counted.
	my $owner = $node->safe_psql($db, q{
		SET leadflow.clock = '2026-03-11 14:00:00+00';
		INSERT INTO leadflow.lead (email, source) VALUES ('new@c7.example', 'web_form') RETURNING owner_id});
	like($owner, qr/^\d+$/, "$db: a new lead is routed after the restore");
	# The restore wrote no audit row (the table is as dumped, above); the
	# audit and the versions go on from where the dump left them.
	is($node->safe_psql($db, 'SELECT config_version FROM leadflow.decision ORDER BY id DESC LIMIT 1'),
		$audit_last, "$db: its decision names the configuration as dumped");
	is($node->safe_psql($db, q{UPDATE leadflow.rep SET max_open = 151 WHERE id = 2;
		SELECT max(id) FROM leadflow.config_change}), $audit_last + 1, "$db: the audit goes on");
	is($node->safe_psql($db, 'SELECT count(*) FROM leadflow.check_counters()'), '0',
		"$db: and counted");
}

$node->stop;
done_testing();
