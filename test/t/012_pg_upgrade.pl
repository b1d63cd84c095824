# pg_upgrade of a leadflow database, and the lead's foreign keys.
#
# The binary-upgrade dump recreates each constraint of the extension's
# tables with ALTER TABLE ... ADD CONSTRAINT, so the upgraded cluster has
# PostgreSQL's check triggers of lead.account_id, lead.queue and
# lead.owner_id enabled again (an internal trigger's enabled state is not
# dumped).  leadflow must then leave those checks to PostgreSQL, keys are
# still checked, health() warns and gives the statements that go back,
# and after them leadflow checks again.  A plain dump and restore, which
# runs the extension script, keeps leadflow checking (004_dump_restore.pl).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $old = PostgreSQL::Test::Cluster->new('old');
$old->init;
$old->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
$old->start;
$old->safe_psql('postgres', 'CREATE DATABASE crm');
$old->safe_psql('crm', q{
CREATE EXTENSION leadflow;
SET leadflow.clock = '2026-03-09 14:00:00+00';
INSERT INTO leadflow.rep (id, name) VALUES (1, 'Ana'), (2, 'Ben');
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('default', 1), ('default', 2);
INSERT INTO leadflow.lead (email) SELECT 'p' || g || '@c' || g || '.example' FROM generate_series(1, 4) g;
});
my $checks = q{SELECT string_agg(DISTINCT postgresql_checks::text, ',') FROM leadflow.lead_key_triggers};
is($old->safe_psql('crm', $checks), 'false', 'before: PostgreSQL\'s check triggers are off');
$old->stop;

my $new = PostgreSQL::Test::Cluster->new('new');
$new->init;
$new->append_conf('postgresql.conf', "shared_preload_libraries = 'leadflow'\n");
my $bindir = $new->config_data('--bindir');
my $cwd = PostgreSQL::Test::Utils::tempdir;
chdir $cwd;
command_ok(
	[
		'pg_upgrade', '--no-sync',
		'-d', $old->data_dir, '-D', $new->data_dir,
		'-b', $bindir, '-B', $bindir,
		'-p', $old->port, '-P', $new->port,
		'-s', $new->host
	],
	'pg_upgrade');
$new->start;

is($new->safe_psql('crm', $checks), 'true', 'after pg_upgrade: PostgreSQL\'s check triggers are on');
is($new->safe_psql('crm', q{SELECT status FROM leadflow.health() WHERE "check" = 'foreign_keys'}),
	'warn', 'health() warns');

# Keys are checked, by PostgreSQL: its error, at the end of the statement.
my ($ret, $out, $err) = $new->psql('crm',
	q{INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('x@y.example', 1, 'nope')});
like($err, qr/violates foreign key constraint "lead_queue_fkey".*\n.*Key \(queue\)=\(nope\) is not present in table "queue"/,
	'an unknown queue is refused');
like($new->safe_psql('crm', q{INSERT INTO leadflow.lead (email) VALUES ('n@c9.example') RETURNING owner_id}),
	qr/^\d+$/, 'a new lead is routed');
is($new->safe_psql('crm', q{SELECT count(*) FROM leadflow.check_invariants()}), '0', 'the invariants hold');

# The hint, as a superuser, goes back to leadflow's checks.
my $hint = $new->safe_psql('crm',
	q{SELECT hint FROM leadflow.health() WHERE "check" = 'foreign_keys'});
$hint =~ s/^As a superuser \(they are internal triggers\): //;
$new->safe_psql('crm', $hint);
is($new->safe_psql('crm', $checks), 'false', 'the hint turns PostgreSQL\'s check triggers off');
is($new->safe_psql('crm', q{SELECT status FROM leadflow.health() WHERE "check" = 'foreign_keys'}),
	'ok', 'health() is content');
($ret, $out, $err) = $new->psql('crm',
	q{INSERT INTO leadflow.lead (email, owner_id, queue) VALUES ('x@y.example', 1, 'nope')});
like($err, qr/violates foreign key constraint "lead_queue_fkey".*\n.*Key \(queue\)=\(nope\) is not present in table "queue"/,
	'an unknown queue is refused by leadflow, with the same error');
is($new->safe_psql('crm', q{SELECT count(*) FROM leadflow.check_invariants()}), '0', 'the invariants hold');

$new->stop;
done_testing();
