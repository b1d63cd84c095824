# pg_cron runs the sweep for real, for two leadflow databases of one
# cluster, neither of which is pg_cron's own.
#
# pg_cron lives in "postgres" (cron.database_name); leadflow in "sales"
# and "support".  schedule_sweep() in each cannot reach pg_cron and says
# what to run instead: one job per database (leadflow-sweep-<database>),
# so both are swept; running a hint again changes nothing, and removing
# one database's job leaves the other's.  health() sees pg_cron's runs.
# Then leadflow_admin schedules, as docs/operations.md says: in pg_cron's database
# directly, and for another database through the hint, each after the one
# grant a superuser makes there, which the errors name.
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

# A lead assigned long ago whose first touch never came, in database $db.
sub overdue_lead
{
	my ($db, $email) = @_;
	$node->safe_psql($db, qq{
SET leadflow.clock = '2026-01-05 10:00:00+00';
INSERT INTO leadflow.lead (email) VALUES ('$email');
});
}

for my $db ('sales', 'support')
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, q{
CREATE EXTENSION leadflow;
INSERT INTO leadflow.rep (id, name) VALUES (1, 'Ana'), (2, 'Ben');
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 1), ('q', 2);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES (1, 'all', '{}', 'q');
});
	overdue_lead($db, 'ann@acme.test');
	is($node->safe_psql($db, 'SELECT owner_id FROM leadflow.lead'), '1', "$db: the lead starts with Ana");
}

# The hint of schedule_sweep() (or unschedule_sweep()) in $db, as $user.
sub hint_of
{
	my ($db, $call, $user) = @_;
	my ($ret, $out, $err) = $node->psql($db, "SELECT leadflow.$call",
		extra_params => [ '-U', $user // $node->safe_psql('postgres', 'SELECT current_user') ]);
	isnt($ret, 0, "$db: $call fails outside pg_cron's database");
	like($err, qr/pg_cron runs in database "postgres", not in "$db"/, "$db: it names both databases");
	my ($hint) = $err =~ /HINT:\s+Connect to database postgres and run: (.*;)/;
	return ($hint, $err);
}

my ($sales_hint) = hint_of('sales', 'schedule_sweep()');
is($sales_hint,
	q{SELECT cron.schedule_in_database('leadflow-sweep-sales', '* * * * *', 'SELECT leadflow.sweep()', 'sales');},
	'the hint gives the exact command, with a job name of its own');
my ($support_hint) = hint_of('support', 'schedule_sweep()');
is($support_hint,
	q{SELECT cron.schedule_in_database('leadflow-sweep-support', '* * * * *', 'SELECT leadflow.sweep()', 'support');},
	'another database gets another job');

# Before: nothing sweeps, and health() says so with the same command.
is( $node->safe_psql('sales', q{SELECT status || ' ' || hint FROM leadflow.health() WHERE "check" = 'sweep'}),
	"fail Connect to database postgres and run: $sales_hint",
	'health(): no sweep recorded, and how to schedule it');

# Run both hints where pg_cron lives (one of them twice: the same job).
$node->safe_psql('postgres', $_) for ($sales_hint, $support_hint, $sales_hint);
is( $node->safe_psql('postgres', 'SELECT jobname || \' \' || database FROM cron.job ORDER BY 1'),
	"leadflow-sweep-sales sales\nleadflow-sweep-support support",
	'one job per database, whatever the order and repetition');

for my $db ('sales', 'support')
{
	ok($node->poll_query_until($db, 'SELECT owner_id = 2 FROM leadflow.lead', 't'),
		"$db: pg_cron ran the sweep: the overdue lead went to Ben");
	is( $node->safe_psql(
			$db, q{SELECT kind || ' ' || from_rep || '->' || to_rep FROM leadflow.decision
                   WHERE kind = 'reassign_sla'}),
		'reassign_sla 1->2',
		"$db: with its ledger row");
	is($node->safe_psql($db, 'SELECT count(*) FROM leadflow.check_counters()'), '0', "$db: counters agree");
}
ok( $node->poll_query_until(
		'postgres', q{SELECT count(DISTINCT j.jobname) = 2 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                      WHERE d.status = 'succeeded'}, 't'),
	'pg_cron recorded successful runs of both jobs');

# health() counts pg_cron's runs (not the by-hand ones), and once two have
# run it knows the interval and says all is well.
like($node->safe_psql('sales', q{SELECT status || ' ' || detail FROM leadflow.health() WHERE "check" = 'sweep'}),
	qr/^(warn one sweep by pg_cron so far|ok the last sweep by pg_cron started)/,
	'health(): the sweep ran by pg_cron');
$node->safe_psql('sales', 'SELECT leadflow.sweep()');   # by hand: not a pg_cron run
ok( $node->poll_query_until(
		'sales', q{SELECT status FROM leadflow.health() WHERE "check" = 'sweep'}, 'ok'),
	'health(): after the second run by pg_cron the sweep is ok');
like($node->safe_psql('sales', q{SELECT detail FROM leadflow.health() WHERE "check" = 'sweep'}),
	qr/^the last sweep by pg_cron started \d+ s ago and took [0-9.]+ s; the one before started (5\d s|1 min( \d s)?) earlier$/,
	'health(): runs about a minute apart (a worker may start a few seconds late)');
ok($node->safe_psql('sales', 'SELECT cron_runs >= 2 AND runs > cron_runs FROM leadflow.sweep_stats') eq 't',
	'the record tells pg_cron runs from the one by hand');

# Removing support's job leaves sales' job; again, it removes nothing.
my ($support_unhint) = hint_of('support', 'unschedule_sweep()');
is($support_unhint,
	q{SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname IN ('leadflow-sweep-support', 'leadflow-sweep') AND database = 'support';},
	'the unschedule hint names this database only');
is($node->safe_psql('postgres', $support_unhint), 't', 'it removes support\'s job');
is($node->safe_psql('postgres', $support_unhint), '', 'run again, it finds nothing (no error)');
is($node->safe_psql('postgres', 'SELECT jobname FROM cron.job ORDER BY 1'), 'leadflow-sweep-sales',
	'sales\' job is still there');
$node->safe_psql('postgres', q{SELECT cron.unschedule('leadflow-sweep-sales')});

# leadflow_admin schedules.  In pg_cron's own database, schedule_sweep()
# works directly once a superuser granted USAGE on schema cron.
$node->safe_psql('postgres', 'CREATE EXTENSION leadflow');
$node->safe_psql('postgres', 'CREATE ROLE ops LOGIN IN ROLE leadflow_admin');
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT leadflow.schedule_sweep()', extra_params => [ '-U', 'ops' ]);
like($err, qr/ERROR:  permission denied for schema cron/, 'without the grant: refused');
my ($grant) = $err =~ /HINT:\s+A superuser runs, once, in this database: (GRANT .*;)/;
is($grant, 'GRANT USAGE ON SCHEMA cron TO leadflow_admin;', 'the hint is the grant');
$node->safe_psql('postgres', $grant);
my $job = $node->safe_psql('postgres', q{SELECT leadflow.schedule_sweep('*/5 * * * *')}, extra_params => [ '-U', 'ops' ]);
like($job, qr/^\d+$/, 'then leadflow_admin schedules: schedule_sweep returns the job id');
is($node->safe_psql('postgres', q{SELECT leadflow.schedule_sweep('*/10 * * * *')}, extra_params => [ '-U', 'ops' ]),
	$job, 'scheduling again updates the same job');
is( $node->safe_psql(
		'postgres', q{SELECT jobname || ' ' || username || ' ' || schedule || ' ' || command FROM cron.job}),
	'leadflow-sweep-postgres ops */10 * * * * SELECT leadflow.sweep()',
	'owned by the admin\'s login, with the new schedule');
($ret, $out, $err) = $node->psql('postgres', 'SET ROLE leadflow_admin; SELECT leadflow.schedule_sweep()',
	extra_params => [ '-U', 'ops' ]);
like($err, qr/pg_cron would run the sweep as role "leadflow_admin", which cannot log in/,
	'a job for a role that cannot log in is refused');
is($node->safe_psql('postgres', 'SELECT leadflow.unschedule_sweep()', extra_params => [ '-U', 'ops' ]),
	't', 'unschedule_sweep removes it');
is($node->safe_psql('postgres', 'SELECT leadflow.unschedule_sweep()', extra_params => [ '-U', 'ops' ]),
	'f', 'and then finds nothing');
# the job of 1.0 and 1.1 ("leadflow-sweep") is replaced, not doubled
$node->safe_psql('postgres', q{SELECT cron.schedule('leadflow-sweep', '* * * * *', 'SELECT leadflow.sweep()')},
	extra_params => [ '-U', 'ops' ]);
$node->safe_psql('postgres', 'SELECT leadflow.schedule_sweep()', extra_params => [ '-U', 'ops' ]);
is($node->safe_psql('postgres', 'SELECT jobname FROM cron.job'), 'leadflow-sweep-postgres',
	'the 1.1 job name is gone');
$node->safe_psql('postgres', 'SELECT leadflow.unschedule_sweep()', extra_params => [ '-U', 'ops' ]);

# For another database, leadflow_admin's error names pg_cron's database
# (a setting only superusers may read) and both grants.
my ($ops_hint, $ops_err) = hint_of('support', 'schedule_sweep()', 'ops');
is($ops_hint, $support_hint, 'leadflow_admin gets the same command');
my ($exec_grant) = $ops_err =~ /(GRANT EXECUTE ON FUNCTION cron\.schedule_in_database\S* [^;]*;)/;
ok(defined $exec_grant, 'and the grant it needs');
($ret, $out, $err) = $node->psql('postgres', $ops_hint, extra_params => [ '-U', 'ops' ]);
like($err, qr/permission denied for function schedule_in_database/, 'without it pg_cron refuses');
$node->safe_psql('postgres', $exec_grant);
$node->safe_psql('postgres', $ops_hint, extra_params => [ '-U', 'ops' ]);
is($node->safe_psql('postgres', 'SELECT jobname || \' \' || username || \' \' || database FROM cron.job'),
	'leadflow-sweep-support ops support', 'with it, the job is the admin\'s');
overdue_lead('support', 'bo@acme.test');
ok( $node->poll_query_until(
		'support', q{SELECT owner_id = 2 FROM leadflow.lead WHERE email = 'bo@acme.test'}, 't'),
	'and pg_cron, running it as the admin\'s login, swept support');
is($node->safe_psql('support', 'SELECT count(*) FROM leadflow.check_counters()'), '0', 'counters agree');

$node->stop;
done_testing();
