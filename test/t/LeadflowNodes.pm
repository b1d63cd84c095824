# LeadflowNodes.pm -- what the TAP tests share: nodes with pg_cron and
# leadflow preloaded, streaming standbys, kill -9, pg_rewind, a small
# sales floor to work on, and comparing leadflow's tables between two
# servers.
package LeadflowNodes;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw(sweep_job_name new_node new_standby follow make_sync make_async
  kill9_all rewind_as_standby fill_sales_floor leadflow_digest invariants_hold);

# schedule_sweep() schedules one job per database, named after it as
# leadflow.sweep_job_name() says (the name md5-hashed past 63 bytes, which
# no test database reaches).  The one place the tests compute the name.
sub sweep_job_name
{
	my ($dbname) = @_;
	return "leadflow-sweep-$dbname";
}

# A node that can stream (physical, or logical with $logical), with pg_cron
# (in database postgres, run by background workers: the nodes listen on a
# socket only) and leadflow preloaded.  Not started.
sub new_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(allows_streaming => $opt{logical} ? 'logical' : 1);
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron,leadflow'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 24
max_logical_replication_workers = 6
max_connections = 40
shared_buffers = 32MB
timezone = 'UTC'
wal_receiver_status_interval = 1s
# pg_rewind goes back to the last checkpoint before the timelines forked
wal_keep_size = 512MB
});
	return $node;
}

# A streaming standby of $primary made from a fresh base backup; started.
sub new_standby
{
	my ($primary, $name) = @_;
	$primary->backup("$name-base");
	my $standby = PostgreSQL::Test::Cluster->new($name);
	$standby->init_from_backup($primary, "$name-base", has_streaming => 1);
	follow($standby, $primary);
	$standby->start;
	return $standby;
}

# Point a standby at $primary under its own name (which
# synchronous_standby_names refers to).  The last setting in the file wins.
sub follow
{
	my ($standby, $primary) = @_;
	$standby->append_conf('postgresql.conf',
		"primary_conninfo = '" . $primary->connstr . " application_name=" . $standby->name . "'");
	$standby->set_standby_mode;
	return;
}

# Synchronous replication to $standby: a commit is acknowledged once the
# standby has flushed it.  Wait until the standby is streaming as sync.
sub make_sync
{
	my ($primary, $standby) = @_;
	my $name = $standby->name;
	$primary->safe_psql('postgres', "ALTER SYSTEM SET synchronous_standby_names = '$name'");
	$primary->reload;
	$primary->poll_query_until('postgres',
		"SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = '$name'")
	  or die "$name did not become a synchronous standby";
	return;
}

# A primary that has just been promoted has no standby yet: commits must
# not wait for one.
sub make_async
{
	my ($primary) = @_;
	$primary->safe_psql('postgres', "ALTER SYSTEM SET synchronous_standby_names = ''");
	$primary->reload;
	return;
}

# SIGKILL to the postmaster and every process it started, as a power cut
# would; wait until they are all gone.
sub kill9_all
{
	my ($node) = @_;
	my $pid = $node->{_pid};
	my @children = grep { /^\d+$/ } split /\s+/, `pgrep -P $pid`;
	kill 'KILL', @children, $pid;
	for (1 .. 300)
	{
		last unless grep { kill 0, $_ } ($pid, @children);
		usleep(100_000);
	}
	$node->{_pid} = undef;
	return;
}

# The old primary, killed, rejoins as a standby of $new_primary: pg_rewind
# (wal_log_hints is on) throws away what it had that the new timeline does
# not, then it streams from the new primary.  pg_rewind copies the
# source's configuration files, so the old node's own are kept aside and
# put back.
sub rewind_as_standby
{
	my ($old, $new_primary) = @_;
	my $data = $old->data_dir;
	my %keep;
	for my $file ('postgresql.conf', 'postgresql.auto.conf')
	{
		$keep{$file} = slurp_file("$data/$file");
	}
	# pg_rewind reads the source's timeline from its control file, which a
	# promotion updates only at the next checkpoint.
	$new_primary->safe_psql('postgres', 'CHECKPOINT');
	my $source = $new_primary->connstr('postgres');
	my ($stdout, $stderr);
	my $ok = IPC::Run::run(
		[ 'pg_rewind', '--progress', '--target-pgdata', $data, '--source-server', $source ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok && $stderr =~ /Done!/, $old->name . ' rewound with pg_rewind')
	  or die "pg_rewind failed: $stderr";
	for my $file (keys %keep)
	{
		open(my $fh, '>', "$data/$file") or die "$data/$file: $!";
		print $fh $keep{$file};
		close $fh;
	}
	follow($old, $new_primary);
	$old->start;
	return;
}

# A small sales floor in $dbname, where leadflow is installed: a manager
# and five reps in three time zones, two queues (round robin and sticky;
# weighted), two rules, fit and engagement scoring rules, a qualification
# criterion, 400 leads from four sources, page views, touches (qualified,
# dead, not reached), some leads converted, a sweep and a trained model:
# ledger rows, alerts and reports to compare between servers.
sub fill_sales_floor
{
	my ($node, $dbname) = @_;
	$node->safe_psql($dbname, q{
INSERT INTO leadflow.rep (id, name, max_open, max_new_per_day) VALUES (1, 'Mia', 1000, 1000);
INSERT INTO leadflow.rep (id, name, manager_id, max_open, max_new_per_day, hours) VALUES
    (2, 'Ana', 1, 1000, 1000, 'mon-fri 09:00-17:00 Europe/Berlin'),
    (3, 'Ben', 1, 1000, 1000, 'mon-fri 08:00-16:00 America/New_York'),
    (4, 'Cy', 1, 1000, 1000, 'mon-sat 09:00-18:00 UTC'),
    (5, 'Dee', 1, 1000, 1000, 'mon-fri 09:00-17:00 UTC'),
    (6, 'Eve', 1, 1000, 1000, 'mon-fri 09:00-17:00 UTC');
INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES
    ('inside', 'round_robin', true), ('partners', 'weighted', false);
INSERT INTO leadflow.queue_member (queue, rep_id, weight) VALUES
    ('inside', 2, 1), ('inside', 3, 1), ('inside', 4, 1), ('partners', 5, 3), ('partners', 6, 1);
INSERT INTO leadflow.rule (id, priority, name, match, queue) VALUES
    (1, 10, 'partners', '{"source": "partner"}', 'partners'),
    (2, 20, 'everyone else', '{}', 'inside');
INSERT INTO leadflow.scoring_rule (name, kind, match, points) VALUES
    ('web', 'fit', '{"source": "web"}', 10);
INSERT INTO leadflow.scoring_rule (name, kind, event_kind, points, half_life) VALUES
    ('views', 'engagement', 'page_view', 5, '1 day');
INSERT INTO leadflow.qualification_criterion (name, attribute) VALUES ('budget', 'budget');
SET leadflow.clock = '2026-03-09 10:00:00+00';
INSERT INTO leadflow.lead (email, source, campaign, attrs)
SELECT 'p' || g || '@co' || (g % 40) || '.test',
       (ARRAY['web', 'list', 'partner', 'event'])[1 + g % 4],
       'spring' || (g % 3),
       jsonb_build_object('size', g % 5, 'budget', CASE WHEN g % 2 = 0 THEN 'yes' END)
  FROM generate_series(1, 400) g;
INSERT INTO leadflow.event (lead_id, kind, at)
SELECT id, 'page_view', '2026-03-10 12:00+00' FROM leadflow.lead WHERE id % 3 = 0;
SET leadflow.clock = '2026-03-10 11:00:00+00';
SELECT count(*) FROM (
    SELECT leadflow.log_touch(id, 'call',
           (CASE WHEN id % 8 = 0 THEN 'qualified' WHEN id % 8 = 2 THEN 'dead' ELSE 'not_reached' END)::leadflow.outcome)
      FROM leadflow.lead WHERE id <= 160 ORDER BY id) t;
UPDATE leadflow.lead SET stage = 'converted' WHERE stage = 'qualified' AND id % 16 = 0;
SET leadflow.clock = '2026-03-11 12:00:00+00';
SELECT * FROM leadflow.sweep();
SELECT * FROM leadflow.train(ARRAY['source', 'size']);
});
	return;
}

# One digest per leadflow table (its rows as text, ordered), to compare
# two servers table by table.
sub leadflow_digest
{
	my ($node, $dbname) = @_;
	my $tables = $node->safe_psql($dbname,
		q{SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_class c
           WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'});
	my %digest;
	for my $table (split / /, $tables)
	{
		$digest{$table} = $node->safe_psql($dbname,
			"SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
			  . " FROM leadflow.$table t");
	}
	return \%digest;
}

# check_invariants() and check_counters() find nothing.
sub invariants_hold
{
	my ($node, $dbname, $what) = @_;
	is( $node->safe_psql($dbname,
			q{SELECT coalesce(string_agg(kind || ': ' || detail, E'\n'), '') FROM leadflow.check_invariants()}),
		'', "$what: leadflow.check_invariants() finds nothing");
	is($node->safe_psql($dbname, 'SELECT count(*) FROM leadflow.check_counters()'),
		'0', "$what: the counters equal the leads");
	return;
}

1;
