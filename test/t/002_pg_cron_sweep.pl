# pg_cron runs the sweep for real, in a database other than its own.
#
# pg_cron lives in "postgres" (cron.database_name); leadflow in "sales".
# leadflow.schedule_sweep() in "sales" cannot reach pg_cron and says what
# to run instead; run there, pg_cron's job reassigns an overdue lead with
# nobody calling sweep().  In pg_cron's own database schedule_sweep() and
# unschedule_sweep() work directly and are idempotent.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
# Test clusters listen on a Unix socket only: jobs run in background
# workers rather than through a libpq connection to localhost.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron,leadflow'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
});
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
$node->safe_psql('postgres', 'CREATE DATABASE sales');
$node->safe_psql('sales', q{
CREATE EXTENSION leadflow;
INSERT INTO leadflow.rep (id, name) VALUES (1, 'Ana'), (2, 'Ben');
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 1), ('q', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
-- a lead assigned long ago whose first touch never came
SET leadflow.clock = '2026-01-05 10:00:00+00';
INSERT INTO leadflow.lead (email) VALUES ('ann@acme.test');
});
is($node->safe_psql('sales', 'SELECT owner_id FROM leadflow.lead'), '1',
	'the lead starts with Ana');

# From the wrong database: an error whose hint is the command to run.
my ($ret, $out, $err) = $node->psql('sales', 'SELECT leadflow.schedule_sweep()');
isnt($ret, 0, 'schedule_sweep fails outside pg_cron\'s database');
like($err, qr/pg_cron runs in database "postgres", not in "sales"/, 'it names both databases');
my ($hint) = $err =~ /HINT:\s+Connect to database postgres and run: (.*;)/;
is($hint,
	q{SELECT cron.schedule_in_database('leadflow-sweep', '* * * * *', 'SELECT leadflow.sweep()', 'sales');},
	'the hint gives the exact command');

# Run the hint's command where pg_cron lives, and wait for the job.
$node->safe_psql('postgres', $hint);
ok( $node->poll_query_until(
		'sales', 'SELECT owner_id = 2 FROM leadflow.lead', 't'),
	'pg_cron ran the sweep: the overdue lead went to Ben');
is( $node->safe_psql(
		'sales', q{SELECT kind || ' ' || from_rep || '->' || to_rep FROM leadflow.decision
                   WHERE kind = 'reassign_sla'}),
	'reassign_sla 1->2',
	'with its ledger row');
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) > 0 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                      WHERE j.jobname = 'leadflow-sweep' AND d.status = 'succeeded'}, 't'),
	'pg_cron recorded a successful run');
is($node->safe_psql('sales', 'SELECT count(*) FROM leadflow.check_counters()'), '0',
	'counters agree');
$node->safe_psql('postgres', q{SELECT cron.unschedule('leadflow-sweep')});

# In pg_cron's own database the functions schedule directly.
$node->safe_psql('postgres', 'CREATE EXTENSION leadflow');
my $job = $node->safe_psql('postgres', q{SELECT leadflow.schedule_sweep('*/5 * * * *')});
like($job, qr/^\d+$/, 'schedule_sweep returns the job id');
is($node->safe_psql('postgres', q{SELECT leadflow.schedule_sweep('*/10 * * * *')}), $job,
	'scheduling again updates the same job');
is( $node->safe_psql(
		'postgres', q{SELECT schedule || ' ' || command FROM cron.job WHERE jobname = 'leadflow-sweep'}),
	'*/10 * * * * SELECT leadflow.sweep()',
	'with the new schedule');
is($node->safe_psql('postgres', 'SELECT leadflow.unschedule_sweep()'), 't', 'unschedule_sweep removes it');
is($node->safe_psql('postgres', 'SELECT leadflow.unschedule_sweep()'), 'f', 'and then finds nothing');

$node->stop;
done_testing();
