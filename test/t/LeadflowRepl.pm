# LeadflowRepl.pm -- what the replication TAP tests (007-009) share:
# nodes with pg_cron and leadflow preloaded, streaming standbys, kill -9,
# pg_rewind, and comparing leadflow's tables between two servers.
package LeadflowRepl;

use strict;
use warnings;

use Exporter 'import';
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw(sweep_job_name new_node new_standby follow make_sync make_async
  kill9_all rewind_as_standby leadflow_digest invariants_hold);

# ISSUE-17 (operations) makes schedule_sweep() schedule one job per
# database with the database in its name.  This is the one place where
# the tests compute the job's name: change it here when that lands.
sub sweep_job_name
{
	my ($dbname) = @_;
	return 'leadflow-sweep';
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
