# Debian's prometheus-postgres-exporter, for real, with leadflow's queries
# file (ops/prometheus/leadflow-queries.yaml): it scrapes a throwaway
# cluster as a login granted leadflow_monitor, and /metrics carries
# leadflow's gauges and counters with the values the database holds.
#
# The exporter listens on 127.0.0.1 at a free port picked here, and
# connects to the cluster's Unix socket; Debian's own service (port 9187,
# its own DATA_SOURCE_NAME) is never what this scrapes, so it may run or
# not.  The cluster does not preload leadflow, and a misspelt leadflow.*
# setting is stored before the library loads: health()'s "preloaded" and
# "unknown_settings" checks fail here, and the exporter reports them.
use strict;
use warnings;

use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $exporter = $ENV{LEADFLOW_PG_EXPORTER} // '/usr/bin/prometheus-postgres-exporter';
plan skip_all => "$exporter is not installed: 'make test' installs Debian's prometheus-postgres-exporter "
  . '(or: apt-get install prometheus-postgres-exporter)'
  unless -x $exporter;
my $queries = 'ops/prometheus/leadflow-queries.yaml';
ok(-f $queries, 'the queries file is in the repository');

my $node = PostgreSQL::Test::Cluster->new('exporter');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = ''\n");
$node->start;
my $db = "crm_$$";    # a name only this test's cluster has
$node->safe_psql('postgres', "CREATE DATABASE $db");
# Before leadflow's library is loaded in a session, PostgreSQL takes any
# leadflow.* name: this misspelling is stored without a word.
$node->safe_psql($db, 'ALTER DATABASE ' . $db . ' SET leadflow.rout_on_insert = off');
$node->safe_psql($db, q{
CREATE EXTENSION leadflow;
SET leadflow.clock = '2026-03-09 10:00:00+00';
INSERT INTO leadflow.rep (id, name, max_open) VALUES (1, 'Ana', 1), (2, 'Ben', 5);
INSERT INTO leadflow.queue (name, sticky_account) VALUES ('q', false), ('nobody', false);
INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ('q', 1);
INSERT INTO leadflow.rule (priority, name, match, queue) VALUES
    (1, 'nobody', '{"source": "list"}', 'nobody'), (2, 'all', '{}', 'q');
INSERT INTO leadflow.lead (email) VALUES ('a@acme.test');                  -- Ana, now full
INSERT INTO leadflow.lead (email, source)
    SELECT 'p' || g || '@acme.test', 'list' FROM generate_series(1, 3) g;  -- 3 in the backlog
SELECT leadflow.sweep('2026-03-09 10:00:00+00');
SELECT leadflow.sweep('2026-03-09 10:00:00+00');
CREATE ROLE prom LOGIN IN ROLE leadflow_monitor;
});
like($node->safe_psql($db, q{SELECT string_agg("check" || '=' || status, ' ') FROM leadflow.health()
                             WHERE "check" IN ('preloaded', 'unknown_settings')}),
	qr/^preloaded=warn unknown_settings=fail$/, 'health(): not preloaded, and the misspelt setting found');
like($node->safe_psql($db, q{SELECT detail FROM leadflow.health() WHERE "check" = 'unknown_settings'}),
	qr/leadflow\.rout_on_insert \(ALTER DATABASE $db\)/, 'naming it and where it is stored');

# A free port on loopback for the exporter.
my $probe = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1)
  or die "no free port: $!";
my $port = $probe->sockport;
$probe->close;

my $dsn = sprintf('host=%s port=%d user=prom dbname=%s sslmode=disable', $node->host, $node->port, $db);
my ($out, $err) = ('', '');
local $ENV{DATA_SOURCE_NAME} = $dsn;
my $proc = IPC::Run::start(
	[ $exporter, "--web.listen-address=127.0.0.1:$port", "--extend.query-path=$queries" ],
	'>', \$out, '2>', \$err);

my $http = HTTP::Tiny->new(timeout => 10);
sub scrape
{
	my $res = $http->get("http://127.0.0.1:$port/metrics");
	return $res->{success} ? $res->{content} : '';
}
# Up to a minute for the exporter to listen (a loaded machine is slow).
my $metrics = '';
for (1 .. 300)
{
	$metrics = scrape();
	last if $metrics =~ /^leadflow_/m;
	sleep 0.2;
}
$proc->pump_nb;
ok($metrics =~ /^leadflow_/m, 'the exporter serves leadflow metrics') or diag("exporter stderr:\n$err");

# The value of metric NAME whose labels include LABELS (a hash).
sub value_of
{
	my ($text, $name, %labels) = @_;
	for my $line (split /\n/, $text)
	{
		next unless $line =~ /^\Q$name\E\{([^}]*)\} (\S+)$/;
		my ($have, $v) = ($1, $2);
		next if grep { $have !~ /(^|,)\Q$_\E="\Q$labels{$_}\E"/ } keys %labels;
		return $v;
	}
	return undef;
}

is(value_of($metrics, 'pg_up', ()) // ($metrics =~ /^pg_up (\S+)$/m ? $1 : undef), '1', 'connected to the cluster');
is(value_of($metrics, 'pg_exporter_user_queries_load_error', ()), '0', 'the queries file loaded without error');
unlike($err, qr/level=error.*leadflow/i, 'no leadflow query failed');

my %db = (datname => $db);
is(value_of($metrics, 'leadflow_backlog_leads', %db, queue => 'nobody'), '3', 'backlog per queue');
is(value_of($metrics, 'leadflow_backlog_leads', %db, queue => 'q'), '0', 'an empty backlog is 0');
like(value_of($metrics, 'leadflow_backlog_oldest_seconds', %db, queue => 'nobody'), qr/^\d/, 'with its age');
is(value_of($metrics, 'leadflow_decisions_total', %db, kind => 'assign'), '1', 'leads routed (counter)');
is(value_of($metrics, 'leadflow_decisions_total', %db, kind => 'backlog'), '3', 'backlogged decisions');
is(value_of($metrics, 'leadflow_decisions_total', %db, kind => 'reassign_sla'), '0', 'reassignments');
is(value_of($metrics, 'leadflow_decisions_total', %db, kind => 'escalate'), '0', 'escalations');
is(value_of($metrics, 'leadflow_sweep_runs_total', %db), '2', 'sweep runs');
is(value_of($metrics, 'leadflow_sweep_cron_runs_total', %db), '0', 'none by pg_cron');
like(value_of($metrics, 'leadflow_sweep_last_duration_seconds', %db), qr/^[0-9.e+-]+$/, 'sweep duration');
like(value_of($metrics, 'leadflow_sweep_last_finished_age_seconds', %db), qr/^[0-9.e+-]+$/, 'sweep lag');
is(value_of($metrics, 'leadflow_sweep_action_leads_total', %db, action => 'sla_reassigned'), '0',
	'leads the sweep moved, per action');
# (Ana's lead was given on the clock's 2026-03-09; its SLA has passed in
# real time, which the exporter's sessions use, unless this machine's
# clock is older.)
is(value_of($metrics, 'leadflow_sla_breached_leads', %db),
	$node->safe_psql($db, q{SELECT count(*) FROM leadflow.lead WHERE owner_id IS NOT NULL AND sla_due_at < now()}),
	'SLA breaches waiting for the sweep');
is(value_of($metrics, 'leadflow_reps_active', %db), '2', 'active reps');
is(value_of($metrics, 'leadflow_reps_at_max_open', %db), '1', 'reps at a cap');
is(value_of($metrics, 'leadflow_health_severity', %db, check => 'preloaded', status => 'warn'), '1',
	'health: not preloaded is a warning');
is(value_of($metrics, 'leadflow_health_severity', %db, check => 'unknown_settings', status => 'fail'), '2',
	'health: the misspelt setting is a failure');
is(value_of($metrics, 'leadflow_health_severity', %db, check => 'unstaffed_queues', status => 'fail'), '2',
	'health: the queue with nobody');
my $checks = 0;
$checks += value_of($metrics, 'leadflow_health_checks_count', %db, status => $_) // 0 for qw(ok warn fail);
is($checks, 10, 'health checks by status add up to every check');
like($metrics, qr/^# TYPE leadflow_decisions_total counter$/m, 'counters are typed as counters');
like($metrics, qr/^# TYPE leadflow_backlog_leads gauge$/m, 'gauges as gauges');

# The figures are live: another lead in the backlog shows at once.
$node->safe_psql($db, q{INSERT INTO leadflow.lead (email, source) VALUES ('p4@acme.test', 'list')});
is(value_of(scrape(), 'leadflow_backlog_leads', %db, queue => 'nobody'), '4', 'a new backlog lead is counted');

$proc->kill_kill;
$node->stop;
done_testing();
